//! An endpoint that hangs: a loopback listener that accepts connections and never answers (a
//! stopped but not refusing DynamoDB), which can later be switched to forward every new
//! connection to a real endpoint (the outage ends).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};

/// A silent endpoint, switchable to a forwarding proxy; stops with the test's runtime.
pub struct Silent {
    addr: SocketAddr,
    target: Arc<Mutex<Option<String>>>,
}

impl Silent {
    /// Starts listening on a free loopback port, silent.
    pub async fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let target: Arc<Mutex<Option<String>>> = Arc::default();
        let forward = target.clone();
        tokio::spawn(async move {
            // Held open, never read or answered.
            let mut silent = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                let to = forward.lock().expect("target lock").clone();
                match to {
                    None => silent.push(conn),
                    Some(to) => {
                        tokio::spawn(pipe(conn, to));
                    }
                }
            }
        });
        Silent { addr, target }
    }

    /// The endpoint URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, new connections are forwarded to `endpoint` (`http://HOST:PORT`);
    /// connections accepted before stay silent.
    pub fn forward_to(&self, endpoint: &str) {
        let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
        *self.target.lock().expect("target lock") = Some(host.to_owned());
    }
}

/// Copies both ways between `conn` and a new connection to `to` until either side closes.
async fn pipe(mut conn: TcpStream, to: String) {
    if let Ok(mut upstream) = TcpStream::connect(&to).await {
        let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
    }
}
