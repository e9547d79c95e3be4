//! Test support shared by the crates' integration tests and the stack test: an Ollama
//! double speaking the real wire format, per-test Postgres databases and Redis prefixes.

pub mod chaos_proxy;
pub mod data;
pub mod db;
pub mod ollama_double;
pub mod procs;
pub mod redis_ns;

pub use chaos_proxy::ChaosProxy;
pub use db::TestDb;
pub use redis_ns::RedisNamespace;
