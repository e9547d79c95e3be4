//! A fresh Postgres database per test, copied from a migrated template (fast: no migrations
//! per test) and dropped when the test ends, so tests run in parallel without sharing state.

use std::{sync::OnceLock, time::Duration};

use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

/// The server to create test databases on: `DATABASE_URL` (any database on it), else the
/// local default of this project's machines.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".into())
}

pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let admin = admin_url();
        let template = template_name();
        let mut conn =
            PgConnection::connect(&admin).await.expect("Postgres is reachable at DATABASE_URL");
        ensure_template(&mut conn, &admin, &template).await;
        let name = format!("tf_test_{}", Uuid::new_v4().simple());
        // Copying a template fails while another copy of it is in progress: retry.
        let mut delay = Duration::from_millis(20);
        loop {
            match conn.execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str()).await
            {
                Ok(_) => break,
                Err(e) if e.to_string().contains("being accessed by other users") => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_millis(500));
                }
                Err(e) => panic!("creating test database {name}: {e}"),
            }
        }
        TestDb { url: with_database(&admin, &name), name }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (admin_url(), self.name.clone());
        // Drop runs outside any async context we can borrow; use a short-lived runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// The template is named after a hash of the migrations, so a changed migration gets a new one.
fn template_name() -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let mut hasher = Sha256::new();
        let migrations =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/migrations");
        let mut files: Vec<_> = std::fs::read_dir(&migrations)
            .expect("migrations dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            hasher.update(std::fs::read(file).expect("readable migration"));
        }
        format!("tf_template_{}", &hex::encode(hasher.finalize())[..16])
    })
    .clone()
}

async fn ensure_template(conn: &mut PgConnection, admin: &str, template: &str) {
    if template_exists(conn, template).await {
        return;
    }
    // Several test processes may get here at once: one builds it under an advisory lock.
    conn.execute("SELECT pg_advisory_lock(727272)").await.expect("advisory lock");
    if !template_exists(conn, template).await {
        let building = format!("{template}_building");
        conn.execute(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)").as_str())
            .await
            .expect("drop stale template");
        conn.execute(format!("CREATE DATABASE {building}").as_str())
            .await
            .expect("create template");
        {
            let mut tpl = PgConnection::connect(&with_database(admin, &building))
                .await
                .expect("connect template");
            sqlx::migrate!("../shared/migrations").run(&mut tpl).await.expect("migrate template");
            tpl.close().await.expect("close template connection");
        }
        conn.execute(format!("ALTER DATABASE {building} RENAME TO {template}").as_str())
            .await
            .expect("rename template");
        conn.execute(format!("ALTER DATABASE {template} WITH is_template true").as_str())
            .await
            .expect("mark template");
    }
    conn.execute("SELECT pg_advisory_unlock(727272)").await.expect("advisory unlock");
}

/// Replaces the database name in a Postgres URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn template_exists(conn: &mut PgConnection, template: &str) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)",
    )
    .bind(template)
    .fetch_one(conn)
    .await
    .expect("query pg_database")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://root@127.0.0.1:5432/postgres", "x"),
            "postgres://root@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
    }
}
