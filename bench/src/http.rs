//! One HTTP/1.1 keep-alive connection to the API, reconnecting after errors. Deliberately bare
//! (hyper's connection API, no pool): each simulated client owns exactly one connection, so the
//! measured latency is the server's plus one loopback round trip.
//!
//! With `TRADEFORGE_API_KEY` set, every request carries it as a bearer token (the api's
//! default `AUTH_MODE=required`); without it, the api must run with `AUTH_MODE=disabled`.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};
use hyper::{Method, Request, StatusCode, client::conn::http1, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type Body = BoxBody<Bytes, std::convert::Infallible>;

/// `http://127.0.0.1:8000` or `127.0.0.1:8000` → the socket address.
pub fn parse_api(api: &str) -> anyhow::Result<SocketAddr> {
    let hostport = api.trim_start_matches("http://").trim_end_matches('/');
    hostport.parse().with_context(|| format!("--api expects http://IP:PORT, got {api:?}"))
}

pub struct Conn {
    addr: SocketAddr,
    host: String,
    auth: Option<header::HeaderValue>,
    sender: Option<http1::SendRequest<Body>>,
}

impl Conn {
    pub fn new(addr: SocketAddr) -> Self {
        let auth = std::env::var("TRADEFORGE_API_KEY").ok().map(|key| {
            let mut value = header::HeaderValue::from_str(&format!("Bearer {key}"))
                .expect("TRADEFORGE_API_KEY is a valid header value");
            value.set_sensitive(true);
            value
        });
        Self { addr, host: addr.to_string(), auth, sender: None }
    }

    async fn sender(&mut self) -> anyhow::Result<&mut http1::SendRequest<Body>> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("connecting to {}", self.addr))?;
            stream.set_nodelay(true)?;
            let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().expect("just connected");
        sender.ready().await?;
        Ok(sender)
    }

    /// Sends one request and reads the whole response body.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        json: Option<Bytes>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let result = self.try_send(method, path, json).await;
        if result.is_err() {
            self.sender = None; // reconnect next time
        }
        result
    }

    async fn try_send(
        &mut self,
        method: Method,
        path: &str,
        json: Option<Bytes>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut request =
            Request::builder().method(method).uri(path).header(header::HOST, &self.host);
        if let Some(auth) = &self.auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        let body: Body = match json {
            Some(bytes) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Full::new(bytes).boxed()
            }
            None => Empty::new().boxed(),
        };
        let request = request.body(body)?;
        let response = self.sender().await?.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    pub async fn post_json(
        &mut self,
        path: &str,
        body: Bytes,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<(StatusCode, Bytes)> {
        self.send(Method::GET, path, None).await
    }
}
