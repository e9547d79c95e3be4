//! Test support shared by the crates' integration tests and the stack test: an Ollama
//! double speaking the real wire format, per-test Postgres databases and Redis prefixes.

pub mod ollama_double;
