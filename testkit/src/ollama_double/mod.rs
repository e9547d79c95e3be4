//! Ollama double.
