//! `balance-alert check`: one run for cron, with a meaningful exit code.

use std::process::ExitCode;
use std::sync::Arc;

use balance_alert_core::config::ProjectConfig;
use balance_alert_core::engine::{CacheMode, Engine, EngineOptions, NoopObserver};
use balance_alert_core::monitor::{prune_expired, run_checks, run_subscriptions, WriteMode};
use balance_alert_core::store::Store;
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

    let now = chrono::Utc::now();
    let run = match run_checks(
        &engine,
        &store,
        &config.settings,
        &projects,
        CacheMode::Use,
        mode,
        now.timestamp(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let subscriptions = if args.project.is_none() {
        match run_subscriptions(
            &store as &dyn Store,
            config,
            config.settings.timezone.date_at(now),
            mode,
            now.timestamp(),
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        Vec::new()
    };

    if mode == WriteMode::Persist {
        // Retention: cheap (indexed by time), so every run prunes; cron needs no extra job.
        match prune_expired(&store, &config.settings, now.timestamp()).await {
            Ok(removed) if removed > 0 => tracing::info!(removed, "pruned old history"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning old history failed"),
        }
    }

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
