//! `balance-alert check`: one run for cron, with a meaningful exit code.

use std::process::ExitCode;

use balance_alert_core::check::{
    CacheMode, Housekeeping, RunError, RunOptions, Selection, WriteMode,
};
use balance_alert_core::config::{Config, ProjectConfig};
use balance_alert_notify::{Notifier, PassReport};
use balance_alert_services::Services;

use super::source::{open_config, open_store};
use super::{output, CheckArgs, EXIT_USAGE};

pub async fn run(args: CheckArgs) -> ExitCode {
    let (source, _) = match open_config(&args.config, &args.table).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    let loaded = source.get();
    let config = &loaded.config;
    if let Some(why) = balance_alert_core::config::nothing_to_watch(
        &loaded,
        &balance_alert_core::config::process_env(),
    ) {
        eprintln!("error: {why}");
        return ExitCode::from(EXIT_USAGE);
    }
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
            return e.exit_code();
        }
    };
    let services = Services::build(source.clone(), store);

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
    let report = match services.checker.run(&selection, options).await {
        Ok(r) => r,
        Err(e @ RunError::Client(_)) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let now = chrono::Utc::now().timestamp();
    if report.pruned > 0 {
        tracing::info!(removed = report.pruned, "pruned old history");
    }
    let notifier = &services.notifier;
    // Mailboxes are scanned on every full run (cron needs no other job).
    let mail = if args.dry_run || args.project.is_some() || !config.email.iter().any(|a| a.enabled)
    {
        None
    } else {
        match notifier.scan_mail(config, now).await {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "mailbox alerts could not be stored");
                None
            }
        }
    };
    let delivery = if args.dry_run {
        None
    } else {
        deliver(config, notifier, now).await
    };
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
            println!(
                "alert recorded ({}): {}",
                a.kind.as_str(),
                super::escape_control(&a.message)
            );
        }
        if let Some(n) = mail {
            println!("mailboxes: {n} new billing alert(s)");
        }
        if let Some(d) = delivery {
            if d.sent + d.failed + d.waiting + d.retrying > 0 {
                println!(
                    "delivery: {} message(s) sent ({} alert(s) in summaries), {} failed, {} waiting for the next run",
                    d.sent, d.summarized, d.failed, d.waiting + d.retrying
                );
            }
        }
    }
    if run.report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Delivers what is pending (this run's alerts and anything left from earlier runs), waiting
/// at most `delivery_timeout_seconds`; the rest stays queued for the next run.
async fn deliver(config: &Config, notifier: &Notifier, now: i64) -> Option<PassReport> {
    let deadline = now + config.settings.delivery_timeout_seconds as i64;
    match notifier.deliverer.drain(config, deadline).await {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "delivery failed; alerts stay queued for the next run");
            None
        }
    }
}
