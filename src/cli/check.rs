//! `balance-alert check`: one run for cron, with a meaningful exit code.

use std::process::ExitCode;
use std::sync::Arc;

use balance_alert_core::config::ProjectConfig;
use balance_alert_core::engine::{CacheMode, Engine, EngineOptions, NoopObserver};
use balance_alert_core::monitor::WriteMode;
use balance_alert_core::run::{run_due, Housekeeping, RunOptions, Selection};
use balance_alert_store_sqlite::SqliteStore;

use super::{load_config, output, CheckArgs, EXIT_USAGE};

pub async fn run(args: CheckArgs) -> ExitCode {
    let loaded = match load_config(&args.config) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let config = &loaded.config;
    let projects: Vec<&ProjectConfig> = match &args.project {
        Some(reference) => match config.find_project(reference) {
            Ok(p) => vec![p],
            Err(e) => {
                eprintln!("error: --project: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        None => config.projects.iter().filter(|p| p.enabled).collect(),
    };

    let mode = if args.dry_run {
        WriteMode::DryRun
    } else {
        WriteMode::Persist
    };
    let db = &config.settings.database_path;
    // A dry run writes nothing: it reads the existing database read-only (state for the
    // report), or starts from empty state when there is none usable.
    let store = if args.dry_run {
        SqliteStore::open_read_only(db).or_else(|e| {
            if db.exists() {
                tracing::warn!(error = %e, "dry run: database not usable read-only; starting from empty state");
            }
            SqliteStore::in_memory()
        })
    } else {
        SqliteStore::open(db)
    };
    let store = match store {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: database {}: {e}", db.display());
            eprintln!("hint: set settings.database_path or DATABASE_PATH to a writable file");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let engine = match Engine::new(
        EngineOptions::from(&config.settings),
        Arc::new(NoopObserver),
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot build the HTTP client: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };

    let selection = match &args.project {
        Some(_) => Selection::Only(projects.iter().map(|p| p.id()).collect()),
        None => Selection::All,
    };
    let options = RunOptions {
        cache: CacheMode::Use,
        write: mode,
        // Subscriptions listed and history pruned on every run: cron needs no other job.
        housekeeping: if args.project.is_some() {
            Housekeeping::Never
        } else {
            Housekeeping::Always
        },
    };
    let now = chrono::Utc::now().timestamp();
    let report = match run_due(&engine, &store, config, &selection, options, now).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if report.pruned > 0 {
        tracing::info!(removed = report.pruned, "pruned old history");
    }
    let (run, subscriptions) = (report.checks, report.subscriptions);

    if args.json {
        match serde_json::to_string_pretty(&run.report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: cannot encode the report: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        use std::io::IsTerminal;
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print!("{}", output::table(&run.report, color));
        print!("{}", output::subscriptions(&subscriptions));
        let reminders = subscriptions.iter().filter_map(|s| s.reminder.as_ref());
        for a in run.alerts.iter().chain(reminders) {
            println!("alert recorded ({}): {}", a.kind.as_str(), a.message);
        }
    }
    if run.report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
