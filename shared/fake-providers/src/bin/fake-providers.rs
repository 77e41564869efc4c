//! Runs the fake provider server until interrupted (demo config, benchmark, manual testing).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// Fake AI-provider balance endpoints on loopback.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:18080")]
    listen: SocketAddr,
    /// Extra latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server =
        fake_providers::FakeServer::bind(args.listen, Duration::from_millis(args.latency_ms))
            .await?;
    println!("fake providers listening on {}", server.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
