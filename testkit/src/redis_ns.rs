//! A Redis key prefix per test (`QUEUE_PREFIX`), deleted when the test ends.

use uuid::Uuid;

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub struct RedisNamespace {
    pub prefix: String,
    pub url: String,
}

impl RedisNamespace {
    pub fn new() -> Self {
        Self { prefix: format!("tftest-{}", Uuid::new_v4().simple()), url: redis_url() }
    }

    /// Every key of this namespace (for assertions on what Redis holds).
    pub async fn keys(&self) -> Vec<String> {
        let client = redis::Client::open(self.url.as_str()).expect("valid REDIS_URL");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("Redis is reachable at REDIS_URL");
        redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query_async(&mut conn)
            .await
            .expect("KEYS")
    }
}

impl Default for RedisNamespace {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RedisNamespace {
    fn drop(&mut self) {
        let (url, pattern) = (self.url.clone(), format!("{}*", self.prefix));
        let _ = std::thread::spawn(move || -> redis::RedisResult<()> {
            let client = redis::Client::open(url.as_str())?;
            let mut conn = client.get_connection()?;
            let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut conn)?;
            if !keys.is_empty() {
                redis::cmd("DEL").arg(keys).query::<()>(&mut conn)?;
            }
            Ok(())
        })
        .join();
    }
}
