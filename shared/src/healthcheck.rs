//! `api healthcheck` / `worker healthcheck`: the container HEALTHCHECK, run by the binary
//! itself so the runtime image needs no curl. A minimal HTTP/1.0 GET over a raw socket.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// GETs `path` from `addr` (a `0.0.0.0` listen address is probed on loopback) and succeeds on
/// a 2xx status within `timeout`.
pub async fn probe(addr: &str, path: &str, timeout: Duration) -> Result<(), String> {
    let addr = addr.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]");
    let request = async {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
        let req = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await.map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&head[..n]);
        let status = line.split_whitespace().nth(1).unwrap_or("");
        if status.starts_with('2') { Ok(()) } else { Err(format!("status {status:?}")) }
    };
    match tokio::time::timeout(timeout, request).await {
        Ok(result) => result.map_err(|e| format!("http://{addr}{path}: {e}")),
        Err(_) => Err(format!("http://{addr}{path}: no answer within {timeout:?}")),
    }
}
