//! Where the tests find DynamoDB: the moto_server named by `BALANCE_ALERT_TEST_DYNAMODB_ENDPOINT`
//! (./scripts/test.sh starts one), or else one this test binary starts for itself on a free
//! loopback port and stops when it exits. Each test gets its own table on the shared server.
//!
//! moto_server runs through scripts/moto_server_serial.py (moto_server serving one request at a
//! time): threaded moto loses concurrent writes in TransactWriteItems, see that script.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use balance_alert_store_dynamodb::{create_table, http_client, Budget, DynamoStore};

/// The variable ./scripts/test.sh sets to its moto_server's URL.
pub const ENDPOINT_VAR: &str = "BALANCE_ALERT_TEST_DYNAMODB_ENDPOINT";

/// How long a cold moto_server may take to answer (Python imports on a busy 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The moto_server this binary started, if any. Never dropped: its stdin pipe closes when the
/// process exits, however it exits, and the wrapper shell then kills moto_server.
static SERVER: OnceLock<Mutex<Child>> = OnceLock::new();

/// The DynamoDB endpoint URL for this test binary (starting moto_server on first use).
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_string(),
        _ => start_moto(),
    })
}

/// A client for the test endpoint with dummy credentials (the process environment is left
/// alone).
pub fn client() -> Client {
    Client::from_conf(config_for(endpoint()).build())
}

/// A client for `endpoint` whose calls keep to `budget`, as [`DynamoStore::connect`]'s do.
pub fn client_within(endpoint: &str, budget: Budget) -> Client {
    let config = config_for(endpoint)
        .timeout_config(budget.timeout_config())
        .retry_config(budget.retry_config())
        .build();
    Client::from_conf(config)
}

fn config_for(endpoint: &str) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "moto-test"))
        .endpoint_url(endpoint)
        .http_client(http_client())
}

/// A table name no other test (or test binary) uses on the shared server.
pub fn unique_table(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .subsec_nanos();
    format!(
        "ba-{name}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh table and a store on it.
pub async fn fresh_store(name: &str, retention_days: u32) -> (Client, DynamoStore) {
    let client = client();
    let table = unique_table(name);
    create_table(&client, &table)
        .await
        .expect("the test table can be created");
    let store = DynamoStore::new(client.clone(), table, retention_days);
    (client, store)
}

/// A store on an existing table (e.g. one the binary created).
#[allow(dead_code)]
pub async fn store_on(table: &str) -> (Client, DynamoStore) {
    let client = client();
    let store = DynamoStore::new(client.clone(), table.to_string(), 36_500);
    (client, store)
}

/// The workspace root: the nearest directory above this crate holding the moto wrapper
/// script (this module is also compiled into the root crate's integration tests).
fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|d| d.join("scripts/moto_server_serial.py").is_file())
        .unwrap_or(here)
        .to_path_buf()
}

/// moto_server: the pinned one in the workspace's .venv first, then PATH.
fn find_moto() -> Option<PathBuf> {
    let venv = workspace_root().join(".venv/bin/moto_server");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file())
}

/// The Python that has moto: the one beside moto_server, else `python3` (a shim directory
/// such as pyenv's has no interpreter next to it).
fn python_for(moto: &Path) -> PathBuf {
    let beside = moto.with_file_name("python3");
    if beside.is_file() {
        beside
    } else {
        PathBuf::from("python3")
    }
}

fn start_moto() -> String {
    let moto = find_moto().unwrap_or_else(|| {
        panic!(
            "moto_server not found (neither {} nor on PATH) and {ENDPOINT_VAR} is not set: \
             run ./scripts/test.sh, which installs moto[server] into .venv",
            workspace_root().join(".venv/bin/moto_server").display()
        )
    });
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let log = std::env::temp_dir().join(format!("ba-moto-{}-{port}.log", std::process::id()));
    let serial = workspace_root().join("scripts/moto_server_serial.py");
    // The shell waits for EOF on its stdin (this process exiting) and then stops moto_server.
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" "$1" -H 127.0.0.1 -p "$2" >"$3" 2>&1 </dev/null & m=$!; read -r _ || true; kill "$m""#)
        .arg(python_for(&moto))
        .arg(&serial)
        .arg(port.to_string())
        .arg(&log)
        .stdin(Stdio::piped())
        .spawn()
        .expect("sh can be spawned to run moto_server");
    SERVER
        .set(Mutex::new(child))
        .expect("moto_server is started once per test binary");
    let started = Instant::now();
    while !answers(port) {
        assert!(
            started.elapsed() < START_TIMEOUT,
            "{} did not answer on 127.0.0.1:{port} within {START_TIMEOUT:?}; see {}",
            moto.display(),
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

/// Whether `GET /moto-api/` answers 200.
fn answers(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut head = [0u8; 12];
    conn.write_all(request.as_bytes()).is_ok()
        && conn.read_exact(&mut head).is_ok()
        && head.ends_with(b" 200")
}
