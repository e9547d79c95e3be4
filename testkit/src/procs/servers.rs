//! Private Postgres and Redis servers for the run: scenarios stop, restart and wipe them, which
//! must never touch the servers other tests (or a developer) use.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};

/// A free loopback port (bound, then released: the server binds it a moment later).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_for_port(port: u16, what: &str, limit: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if tokio::time::Instant::now() > deadline {
            bail!("{what} did not open port {port} within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("could not run {what}"))?;
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// A Postgres cluster of our own (initdb into a temporary directory, trust auth, user `root`).
pub struct Postgres {
    data: PathBuf,
    port: u16,
    bin: PathBuf,
    /// Postgres refuses to run as root: then every command runs as the `postgres` user.
    as_postgres: bool,
}

impl Postgres {
    pub async fn start(scratch: &Path) -> anyhow::Result<Self> {
        let bin = pg_bin_dir()?;
        let as_postgres = is_root();
        let data = scratch.join("pgdata");
        std::fs::create_dir_all(&data)?;
        if as_postgres {
            run(Command::new("chown").args(["-R", "postgres:"]).arg(scratch), "chown")?;
        }
        let port = free_port()?;
        let pg = Self { data, port, bin, as_postgres };
        let mut initdb = pg.command("initdb");
        initdb.args(["-A", "trust", "-U", "root", "--no-sync", "-E", "UTF8", "-D"]).arg(&pg.data);
        run(&mut initdb, "initdb")?;
        pg.up().await?;
        Ok(pg)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        cmd.stdin(Stdio::null());
        cmd
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://root@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the server (it must be down) and waits until it accepts connections.
    pub async fn up(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' -c max_connections=300 -c fsync=off",
            self.port,
            self.data.display()
        );
        let mut start = self.command("pg_ctl");
        start.args(["-w", "-t", "60", "-D"]).arg(&self.data).args(["-o", &options, "-l"]);
        start.arg(self.data.join("server.log")).arg("start").stdout(Stdio::null());
        run(&mut start, "pg_ctl start")?;
        wait_for_port(self.port, "Postgres", Duration::from_secs(30)).await
    }

    /// A fast shutdown: what `docker compose restart postgres` does (clients get "terminating
    /// connection due to administrator command", then connection refused).
    pub fn down(&self) -> anyhow::Result<()> {
        let mut stop = self.command("pg_ctl");
        stop.args(["-w", "-m", "fast", "-D"]).arg(&self.data).arg("stop").stdout(Stdio::null());
        run(&mut stop, "pg_ctl stop")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut stop = self.command("pg_ctl");
        stop.args(["-m", "immediate", "-D"]).arg(&self.data).arg("stop");
        let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `initdb` and `pg_ctl` are not on PATH in Debian's packages.
fn pg_bin_dir() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    candidates.sort();
    candidates.reverse(); // newest version first
    if let Ok(path) = std::env::var("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .context("initdb and pg_ctl not found (install postgresql)")
}

/// A redis-server of our own, persisting to a dump file only when told to.
pub struct Redis {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Redis {
    pub async fn start(scratch: &Path) -> anyhow::Result<Self> {
        let dir = scratch.join("redis");
        std::fs::create_dir_all(&dir)?;
        let mut redis = Self { dir, port: free_port()?, child: None };
        redis.up().await?;
        Ok(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (loading `dump.rdb` when a restart left one).
    pub async fn up(&mut self) -> anyhow::Result<()> {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("could not start redis-server (install redis-server)")?;
        self.child = Some(child);
        wait_for_port(self.port, "Redis", Duration::from_secs(10)).await
    }

    /// Stops the server; with `keep_data` it first saves, so [`Redis::up`] comes back with every
    /// key (a restart), without it the data is gone (a crash of a cache without persistence).
    pub async fn down(&mut self, keep_data: bool) -> anyhow::Result<()> {
        let how = if keep_data { "SAVE" } else { "NOSAVE" };
        let mut conn = redis::Client::open(self.url())?.get_multiplexed_async_connection().await?;
        // The server closes the connection instead of answering.
        let _: redis::RedisResult<()> =
            redis::cmd("SHUTDOWN").arg(how).query_async(&mut conn).await;
        if let Some(mut child) = self.child.take() {
            tokio::task::spawn_blocking(move || child.wait()).await??;
        }
        if !keep_data {
            let _ = std::fs::remove_file(self.dir.join("dump.rdb"));
        }
        Ok(())
    }

    pub async fn used_memory(&self) -> anyhow::Result<u64> {
        used_memory(&self.url()).await
    }
}

/// `used_memory` from `INFO memory` of the Redis at `url`.
pub async fn used_memory(url: &str) -> anyhow::Result<u64> {
    let mut conn = redis::Client::open(url)?.get_multiplexed_async_connection().await?;
    let info: String = redis::cmd("INFO").arg("memory").query_async(&mut conn).await?;
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .context("INFO memory has no used_memory")
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
