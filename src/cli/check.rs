//! `balance-alert check`: one run for cron, with a meaningful exit code.

use std::process::ExitCode;
use std::sync::Arc;

use balance_alert_core::config::ProjectConfig;
use balance_alert_core::engine::{CacheMode, Engine, EngineOptions, NoopObserver};
use balance_alert_core::monitor::WriteMode;
use balance_alert_core::run::{run_due, Housekeeping, RunOptions, Selection};

use super::source::{open_config, open_store};
use super::{output, CheckArgs, EXIT_USAGE};

pub async fn run(args: CheckArgs) -> ExitCode {
    let (source, _) = match open_config(&args.config, &args.table).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let loaded = source.get();
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
    let store = match open_store(&args.table, &config.settings, args.dry_run).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
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
    let report = match run_due(&engine, &*store, config, &selection, options, now).await {
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
