//! Test support shared by the crates' integration tests and the stack test: an Ollama
//! double speaking the real wire format, per-test Postgres databases and Redis prefixes.

pub mod chaos_proxy;
pub mod data;
pub mod db;
pub mod market_double;
pub mod ollama_double;
pub mod procs;
pub mod redis_ns;

pub use chaos_proxy::ChaosProxy;
pub use db::TestDb;
pub use redis_ns::RedisNamespace;

/// An HTTP client that sends `Authorization: Bearer <token>` with every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    reqwest::Client::builder().default_headers(bearer(token)).build().expect("client builds")
}

/// `Authorization: Bearer <token>`, for a client built otherwise.
pub fn bearer(token: &str) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .expect("a key is a valid header value");
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    headers
}
