//! A TCP proxy on 127.0.0.1:0 in front of Postgres or Redis that a test can break (close
//! every connection and refuse new ones) and restore, to act out an outage.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

#[derive(Clone)]
pub struct ChaosProxy {
    addr: std::net::SocketAddr,
    broken: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
}

impl ChaosProxy {
    /// Starts forwarding connections to `target` (`host:port`).
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            broken: Arc::default(),
            generation: watch::channel(0).0,
        };
        tokio::spawn(proxy.clone().accept_loop(listener, target.to_owned()));
        proxy
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Rewrites a `scheme://user@host:port/...` URL to go through the proxy.
    pub fn url_through(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("URL with scheme");
        let (userinfo, rest) = match rest.rsplit_once('@') {
            Some((user, rest)) => (format!("{user}@"), rest),
            None => (String::new(), rest),
        };
        let path = rest.find('/').map_or("", |i| &rest[i..]);
        format!("{scheme}://{userinfo}127.0.0.1:{}{path}", self.port())
    }

    /// Drops every open connection and refuses new ones until [`restore`](Self::restore).
    pub fn r#break(&self) {
        self.broken.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn restore(&self) {
        self.broken.store(false, Ordering::SeqCst);
    }

    async fn accept_loop(self, listener: TcpListener, target: String) {
        while let Ok((mut client, _)) = listener.accept().await {
            if self.broken.load(Ordering::SeqCst) {
                drop(client);
                continue;
            }
            let target = target.clone();
            let mut killed = self.generation.subscribe();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&target).await else { return };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = killed.changed() => {}
                }
            });
        }
    }
}
