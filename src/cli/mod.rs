//! Command-line interface: argument types and dispatch.

mod alerts;
mod check;
mod conn;
mod dashboard;
mod output;
mod serve;
mod source;
mod table;

pub use source::{ConfigArg, TableArg};

use std::path::PathBuf;
use std::process::ExitCode;

use balance_alert_core::config::{self, ConfigError, Loaded};
use clap::{Args, Parser, Subcommand};

/// Watches AI-API balances and subscriptions and alerts before the money runs out.
#[derive(Parser, Debug)]
#[command(name = "balance-alert", version, about)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check every enabled project once and report. Exit 0 = all OK, 1 = something needs
    /// attention (LOW/CRITICAL/FAILING or a failed check), 2 = usage or config error.
    Check(CheckArgs),
    /// Run the API server with the scheduler on the embedded store (config hot reload,
    /// /metrics on a separate port).
    Serve(ServeArgs),
    /// Work with the configuration file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Alerts: send a test message, list deliveries, acknowledge, snooze.
    Alerts(AlertsArgs),
    /// Work with the DynamoDB table.
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
}

#[derive(Args, Debug)]
pub struct AlertsArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub table: TableArg,
    #[command(subcommand)]
    pub command: AlertsCommand,
}

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// Send a test message to one channel now.
    Test {
        /// The channel's name (`channels[].name`; the Python tool's webhook is `webhook`).
        #[arg(long)]
        channel: String,
    },
    /// The newest alerts, each with its delivery per channel.
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only this project (`provider:name`, id or unique name).
        #[arg(long, short)]
        project: Option<String>,
    },
    /// Acknowledge an alert: no reminders for its project until the balance recovers.
    Ack {
        /// The alert id (see `alerts list`).
        id: String,
    },
    /// Stop reminders for a project for some hours and/or until it is topped up.
    Snooze {
        /// `provider:name`, id or unique name.
        project: String,
        /// For this many hours.
        #[arg(long)]
        hours: Option<f64>,
        /// Until the balance is back above the threshold.
        #[arg(long)]
        until_topped_up: bool,
        /// Remove the project's snooze.
        #[arg(long, conflicts_with_all = ["hours", "until_topped_up"])]
        clear: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TableCommand {
    /// Create the table (keys, indexes, stream and TTL as the SAM template declares them);
    /// an existing table with that layout is fine.
    Create(TableOnly),
}

/// A command that only needs the table.
#[derive(Args, Debug)]
pub struct TableOnly {
    /// The DynamoDB table.
    #[arg(long, env = "BALANCE_ALERT_TABLE")]
    pub table: String,
}

/// `config push`: a file to upload to a table.
#[derive(Args, Debug)]
pub struct PushArgs {
    /// The DynamoDB table.
    #[arg(long, env = "BALANCE_ALERT_TABLE")]
    pub table: String,
    /// The config.json to validate and upload (placeholders kept, resolved when loaded).
    #[arg(long, short, env = "CONFIG_FILE", default_value = "config.json")]
    pub config: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Load and validate the configuration; list every problem with its fix.
    Validate(ConfigArg),
    /// Print every setting: name, environment variable, default, values, meaning (Markdown).
    Settings,
    /// Validate config.json and upload it as the table's config document (serverless mode).
    Push(PushArgs),
    /// Print the table's config document as stored (placeholders unexpanded).
    Pull(TableOnly),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub table: TableArg,
    /// Address of the API and dashboard.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Listen beyond loopback without WEB_API_KEY: anyone who can reach the port can read
    /// balances and change the config. Refused unless given.
    #[arg(long, env = "ALLOW_OPEN_WITHOUT_KEY")]
    pub allow_open_without_key: bool,
    /// Address of the Prometheus /metrics endpoint.
    #[arg(long, env = "METRICS_LISTEN", default_value = "127.0.0.1:9100")]
    pub metrics_listen: std::net::SocketAddr,
    /// Seconds a client may take to send a request's headers (from the connection's start, or
    /// from a kept-alive connection's next request's first byte) before it is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECONDS", default_value_t = 10)]
    pub header_read_timeout_seconds: u64,
    /// Seconds a kept-alive connection may wait, sending nothing, for its next request.
    #[arg(long, env = "KEEP_ALIVE_TIMEOUT_SECONDS", default_value_t = 60)]
    pub keep_alive_timeout_seconds: u64,
    /// Open connections per listener; beyond it a new connection closes the oldest idle one.
    /// 0 = from the descriptor limit: (soft RLIMIT_NOFILE − 256 kept for the store and
    /// reloads) / 2.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub table: TableArg,
    /// Check only this project: `provider:name`, its id, or a name only one provider uses.
    #[arg(long, short)]
    pub project: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Check and report, but write nothing (no state change, no alert records).
    #[arg(long)]
    pub dry_run: bool,
}

/// Logs go to stderr so `--json` output stays clean on stdout. `LOG_FORMAT=json` writes one
/// JSON object per line (for log aggregation); `RUST_LOG` overrides the level.
pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // async-imap logs each command, LOGIN with its password, at trace: never let it through,
    // whatever RUST_LOG says.
    let filter = match "async_imap=info".parse() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        // JSON escapes control characters itself.
        builder.json().init();
    } else {
        // Colour only on a terminal (and not with NO_COLOR); values never carry raw control
        // characters, so a project name cannot split a line or forge one.
        let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        builder
            .with_ansi(colour)
            .fmt_fields(escaped_fields())
            .init();
    }
}

/// Formats every logged field (the message included) with control characters escaped.
fn escaped_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + 'static {
    use tracing_subscriber::field::MakeExt;
    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
        let text = escape_control(&format!("{value:?}"));
        if field.name() == "message" {
            write!(w, "{text}")
        } else {
            write!(w, "{field}={text}")
        }
    })
    .delimited(" ")
}

/// `\n`, `\r`, `\t`, `\x1b` (ESC) and `\u{…}` instead of raw control characters.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{1b}' => out.push_str("\\x1b"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Exit code for usage and configuration errors.
pub const EXIT_USAGE: u8 = 2;

/// Loads the config file, printing warnings; on error prints the problems and returns
/// `Err(exit)`.
pub fn load_config(arg: &ConfigArg) -> Result<Loaded, ExitCode> {
    match config::load(&arg.path(), &config::process_env()) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            Ok(loaded)
        }
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, ConfigError::Io { .. }) {
                eprintln!("hint: pass --config PATH, set CONFIG_FILE, or set USE_ENV_CONFIG=true");
            }
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Alerts(args) => alerts::run(args).await,
        Command::Table {
            command: TableCommand::Create(args),
        } => table::create(args).await,
        Command::Config {
            command: ConfigCommand::Push(args),
        } => table::push(args).await,
        Command::Config {
            command: ConfigCommand::Pull(args),
        } => table::pull(args).await,
        Command::Config {
            command: ConfigCommand::Settings,
        } => {
            print!("{}", config::settings::markdown());
            ExitCode::SUCCESS
        }
        Command::Config {
            command: ConfigCommand::Validate(arg),
        } => match load_config(&arg) {
            Ok(loaded) => {
                let c = &loaded.config;
                if let Some(why) = config::nothing_to_watch(&loaded, &config::process_env()) {
                    eprintln!("error: {why}");
                    return ExitCode::from(EXIT_USAGE);
                }
                // email_settings is read by the mailbox scan: its problems count here too.
                if let Err(problems) = balance_alert_notify::mailbox::MailSettings::from_config(
                    c.email_settings.as_ref(),
                ) {
                    eprintln!("error: {}", ConfigError::Invalid(problems));
                    return ExitCode::from(EXIT_USAGE);
                }
                let source = loaded.path.as_ref().map_or_else(
                    || "environment (USE_ENV_CONFIG)".to_owned(),
                    |p| p.display().to_string(),
                );
                println!(
                    "config OK: {source}: {} project(s) ({} enabled), {} subscription(s), {} mailbox(es), webhook {}, {} channel(s), {} route(s)",
                    c.projects.len(),
                    c.projects.iter().filter(|p| p.enabled).count(),
                    c.subscriptions.len(),
                    c.email.len(),
                    c.webhook.as_ref().map_or("not set", |w| w.kind.as_str()),
                    c.delivery_channels().len(),
                    c.routes.len(),
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
    }
}
