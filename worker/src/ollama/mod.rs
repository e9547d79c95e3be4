//! Ollama client.
