//! A throwaway Dovecot per test (RECIPES.md "IMAP: a throwaway Dovecot per test"): a temp dir
//! with a self-signed end-entity certificate, a passwd file with one user and a config that
//! listens on loopback only (implicit TLS and a STARTTLS port); stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_imap::Session;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The one mailbox user.
pub const USER: &str = "alice";
/// Its password.
pub const PASSWORD: &str = "S3cret-Mailbox-Pw";

/// A running Dovecot; killed (and its temp dir removed) on drop.
pub struct Dovecot {
    dir: tempfile::TempDir,
    child: Child,
    /// Implicit-TLS port.
    pub imaps_port: u16,
    /// Plain port that offers STARTTLS.
    pub imap_port: u16,
}

impl Dovecot {
    /// Starts one. Panics with the fix when dovecot or openssl is missing, and with the log
    /// when it does not come up.
    pub fn start() -> Dovecot {
        require("dovecot", "--version", "apt-get install -y dovecot-imapd");
        require("openssl", "version", "apt-get install -y openssl");
        let dir = tempfile::Builder::new()
            .prefix("dovecot-test-")
            .tempdir()
            .expect("a temp dir can be made");
        let (imaps_port, imap_port) = (free_port(), free_port());
        let path = dir.path();
        make_cert(path);
        std::fs::write(
            path.join("users"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .expect("the passwd file can be written");
        std::fs::create_dir_all(path.join("home").join(USER)).expect("home dir can be made");
        let identity = Identity::current();
        identity.prepare(path);
        let conf = config(path, imaps_port, imap_port, &identity);
        std::fs::write(path.join("dovecot.conf"), conf).expect("config can be written");
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(path.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(path.join("stderr.log")).expect("stderr log"))
            .spawn()
            .expect("dovecot starts");
        let dovecot = Dovecot {
            dir,
            child,
            imaps_port,
            imap_port,
        };
        dovecot.wait_until_listening();
        dovecot
    }

    /// The PEM file of the server certificate (what an account's `ca_file` names).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// A logged-in session over TLS, for seeding and inspecting the mailbox.
    pub async fn session(&self) -> Session<TlsStream<tokio::net::TcpStream>> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(self.ca_file()).expect("cert file opens") {
            roots
                .add(cert.expect("cert parses"))
                .expect("cert is a trust anchor");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imaps_port))
            .await
            .expect("dovecot accepts");
        let name = ServerName::try_from("127.0.0.1").expect("an IP is a server name");
        let tls = TlsConnector::from(Arc::new(config))
            .connect(name.to_owned(), tcp)
            .await
            .expect("TLS handshake with the test certificate");
        let mut client = async_imap::Client::new(tls);
        client
            .read_response()
            .await
            .expect("greeting reads")
            .expect("greeting arrives");
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .expect("the test user logs in")
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in [self.imaps_port, self.imap_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "dovecot did not listen on {port} within 10 s:\n{}",
                    self.logs()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn logs(&self) -> String {
        ["stderr.log", "dovecot.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its children (about 1 s). A child still starting up (a
        // login process for the readiness probe) makes the master wait 5 s more for it: give
        // up after 1.5 s and SIGKILL; the orphaned children notice and exit by themselves.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn require(program: &str, arg: &str, fix: &str) {
    let found = Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(found, "{program} is needed for the mailbox tests: {fix}");
}

/// A port free right now on loopback (the OS picks it; dovecot binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port is free")
        .port()
}

/// A self-signed end-entity certificate for 127.0.0.1 (rustls refuses a CA used as a server
/// certificate, which is what a plain `openssl req -x509` makes).
fn make_cert(dir: &Path) {
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl made the test certificate");
}

/// Who dovecot's processes run as: as root (CI) the system users dovecot refuses otherwise;
/// unprivileged, everything is the current user.
struct Identity {
    root: bool,
    user: String,
    group: String,
}

impl Identity {
    fn current() -> Identity {
        let id = |flag: &str| {
            let out = Command::new("id").arg(flag).output().expect("id runs");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        Identity {
            root: id("-u") == "0",
            user: id("-un"),
            group: id("-gn"),
        }
    }

    /// As root, the mail user must be able to enter the temp dir and own the homes.
    fn prepare(&self, dir: &Path) {
        if !self.root {
            return;
        }
        let ok = Command::new("chmod")
            .arg("755")
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(dir.join("home"))
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "the temp dir is prepared for dovecot's mail user");
    }

    fn settings(&self) -> String {
        if self.root {
            "mail_uid = nobody\nmail_gid = nogroup\ndefault_internal_user = dovecot\n\
             default_login_user = dovenull\nfirst_valid_uid = 1\n"
                .to_owned()
        } else {
            let (u, g) = (&self.user, &self.group);
            format!(
                "mail_uid = {u}\nmail_gid = {g}\ndefault_internal_user = {u}\n\
                 default_internal_group = {g}\ndefault_login_user = {u}\n"
            )
        }
    }
}

/// The dovecot.conf (2.3 syntax): loopback only, state and logs inside `dir`.
fn config(dir: &Path, imaps_port: u16, imap_port: u16, identity: &Identity) -> String {
    let d = dir.display();
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(
        "protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
instance_name = {name}
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests need no brute-force protection (the default delays a failed login by 2 s) and no stats.
auth_failure_delay = 0
stats_writer_socket_path =
passdb {{
  driver = passwd-file
  args = {d}/users
}}
userdb {{
  driver = passwd-file
  args = {d}/users
  default_fields = home={d}/home/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
{}",
        identity.settings()
    )
}
