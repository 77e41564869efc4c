//! A minimal SMTP sink on 127.0.0.1 for one connection: speaks EHLO/AUTH/MAIL/RCPT/DATA/QUIT
//! and hands back the transcript, so the email channel is tested without Python or a relay.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How the sink answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Script {
    /// Advertise AUTH and answer it with 535.
    pub reject_login: bool,
    /// Answer MAIL FROM with 451 (try later).
    pub busy: bool,
    /// With `reject_login`: echo the AUTH command's argument in the 535 reply, as some
    /// servers do.
    pub echo_login: bool,
}

/// What the sink received.
#[derive(Debug, Default)]
pub struct Transcript {
    /// Every command line (without CRLF).
    pub commands: Vec<String>,
    /// The DATA of the mail, dot-unstuffed.
    pub data: String,
}

/// Starts a sink; returns its port and the transcript once the client hung up.
pub async fn start(script: Script) -> (u16, oneshot::Receiver<Transcript>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let port = listener.local_addr().expect("bound").port();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("the channel connects");
        let transcript = serve(socket, script).await;
        let _ = tx.send(transcript);
    });
    (port, rx)
}

async fn serve(socket: tokio::net::TcpStream, script: Script) -> Transcript {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    let mut t = Transcript::default();
    write.write_all(b"220 sink ESMTP\r\n").await.ok();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end().to_owned();
        let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
        t.commands.push(line);
        let answer = match verb.as_str() {
            "EHLO" if script.reject_login => "250-sink\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            "EHLO" => "250-sink\r\n250 8BITMIME\r\n",
            "AUTH" if script.echo_login => {
                let echoed = t.commands.last().map_or("", |c| c.as_str()).to_owned();
                let answer = format!("535 5.7.8 Authentication credentials invalid: {echoed}\r\n");
                write.write_all(answer.as_bytes()).await.ok();
                continue;
            }
            "AUTH" => "535 5.7.8 Authentication credentials invalid\r\n",
            "MAIL" if script.busy => "451 4.3.0 Try again later\r\n",
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await.ok();
                t.data = read_data(&mut lines).await;
                "250 2.0.0 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await.ok();
                break;
            }
            _ => "250 OK\r\n",
        };
        write.write_all(answer.as_bytes()).await.ok();
    }
    t
}

/// Reads DATA up to the lone dot, undoing dot-stuffing.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut R) -> String {
    let mut data = String::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
            return data;
        }
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}
