//! The Ollama double as a process, for stack tests that start `api` and `worker` binaries:
//! `ollama-double --addr 127.0.0.1:0 --print-addr` prints the bound address on stdout's first
//! line, then serves until killed. Counters are at `GET /_double/stats`.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use testkit::ollama_double::{DEFAULT_MODEL, DoubleControl, serve};

/// An Ollama stand-in speaking Ollama's HTTP API, with generated schema-valid replies.
#[derive(Debug, Parser)]
#[command(name = "ollama-double", version)]
struct Args {
    /// Address to listen on; port 0 picks a free one (see --print-addr).
    #[arg(long, default_value = "127.0.0.1:11434")]
    addr: SocketAddr,
    /// Installed models, comma-separated (`llama3` means `llama3:latest`).
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_MODEL)]
    models: Vec<String>,
    /// Time every chat reply takes, in milliseconds (the model's "generation time").
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Print the bound address (`127.0.0.1:PORT`) as the first line of stdout.
    #[arg(long)]
    print_addr: bool,
    /// Keep every request body in memory (off: long benchmarks would grow without bound).
    #[arg(long)]
    record: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("could not listen on {}", args.addr))?;
    let addr = listener.local_addr().context("could not read the bound address")?;
    let models: Vec<&str> =
        args.models.iter().map(String::as_str).filter(|m| !m.is_empty()).collect();
    let control = DoubleControl::new(&models);
    control.set_recording(args.record);
    control.set_chat_delay(Duration::from_millis(args.delay_ms));
    if args.print_addr {
        // Flushed at once: the parent process reads this line to learn the port.
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{addr}")
            .and_then(|()| stdout.flush())
            .context("could not print the address")?;
    }
    eprintln!("ollama-double listening on http://{addr} with models {models:?}");
    serve(listener, control).await.context("the Ollama double stopped")
}
