//! `balance-alert alerts …`: send a test message, list alerts with each channel's delivery,
//! acknowledge an alert, snooze a project.

use std::process::ExitCode;

use balance_alert_core::config::Loaded;
use balance_alert_core::model::alert::Snooze;
use balance_alert_core::snooze::{acknowledge, set_snooze};
use balance_alert_core::store::{AlertQuery, Store};
use balance_alert_services::Services;

use super::source::{open_config, open_store};
use super::{AlertsArgs, AlertsCommand, EXIT_USAGE};

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

pub async fn run(args: AlertsArgs) -> ExitCode {
    let (source, _) = match open_config(&args.config, &args.table).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let loaded: std::sync::Arc<Loaded> = source.get();
    let config = &loaded.config;
    let store = match open_store(&args.table, &config.settings, false).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let now = chrono::Utc::now().timestamp();
    match args.command {
        AlertsCommand::Test { channel } => {
            let notifier = Services::build(source.clone(), store).notifier;
            match notifier.deliverer.send_test(config, &channel, now).await {
                Ok(()) => {
                    println!("test message sent to {channel}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: channel {channel}: {e}");
                    ExitCode::from(1)
                }
            }
        }
        AlertsCommand::List { limit, project } => list(&*store, config, limit, project).await,
        AlertsCommand::Ack { id } => match acknowledge(&*store, &id, now).await {
            Ok((alert, _)) => {
                println!(
                    "acknowledged {id}: no reminders for {} until its balance recovers",
                    alert.project_name
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        AlertsCommand::Snooze {
            project,
            hours,
            until_topped_up,
            clear,
        } => {
            let p = match config.find_project(&project) {
                Ok(p) => p,
                Err(e) => return fail(format!("--project: {e}")),
            };
            let snooze = (!clear).then(|| Snooze {
                until: hours.map(|h| now + (h * 3600.0) as i64),
                until_topped_up,
                alert_id: None,
                at: now,
            });
            match set_snooze(&*store, &p.id(), snooze.clone(), now).await {
                Ok(_) => {
                    match snooze {
                        None => println!("{}: snooze cleared", p.name),
                        Some(s) => println!("{}: reminders snoozed {}", p.name, describe(&s)),
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

fn describe(s: &Snooze) -> String {
    let until = s
        .until
        .and_then(|u| chrono::DateTime::from_timestamp(u, 0))
        .map(|d| format!("until {}", d.format("%Y-%m-%d %H:%M UTC")));
    match (until, s.until_topped_up) {
        (Some(u), true) => format!("{u} or until topped up"),
        (Some(u), false) => u,
        (None, _) => "until topped up".into(),
    }
}

async fn list(
    store: &dyn Store,
    config: &balance_alert_core::config::Config,
    limit: usize,
    project: Option<String>,
) -> ExitCode {
    let project_id = match project.as_deref().map(|r| config.find_project(r)) {
        None => None,
        Some(Ok(p)) => Some(p.id()),
        Some(Err(e)) => return fail(format!("--project: {e}")),
    };
    let alerts = match store
        .alerts(AlertQuery {
            project_id,
            since: None,
            limit,
        })
        .await
    {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let snoozes: Vec<_> = match store.list_states().await {
        Ok(s) => s
            .into_iter()
            .filter_map(|s| s.snooze.map(|z| (s.project_id, z)))
            .collect(),
        Err(e) => return fail(e),
    };
    let tz = config.settings.timezone;
    let when = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| tz.format(d, "%Y-%m-%d %H:%M:%S"))
            .unwrap_or_default()
    };
    for a in &alerts {
        let at = when(a.created_at);
        let acked = snoozes
            .iter()
            .any(|(_, z)| z.alert_id.as_deref() == Some(a.id.as_str()));
        println!(
            "{at}  {:<9} {:<8} {}{}  [{}]",
            a.kind.as_str(),
            a.status.as_str(),
            super::escape_control(&balance_alert_core::model::text::alert_text(
                a,
                config.settings.language
            )),
            if acked { "  (acknowledged)" } else { "" },
            a.id
        );
        for d in &a.deliveries {
            let detail = match (&d.error, d.next_attempt_at) {
                (Some(e), Some(t)) => {
                    format!(": {} (next try at {})", super::escape_control(e), when(t))
                }
                (Some(e), None) => format!(": {}", super::escape_control(e)),
                (None, Some(t)) if d.held => format!(" (quiet hours until {})", when(t)),
                _ => String::new(),
            };
            println!(
                "    → {:<12} {:<8} attempts {}{}{}",
                super::escape_control(&d.channel),
                d.status.as_str(),
                d.attempts,
                if d.summarized { " (in a summary)" } else { "" },
                detail
            );
        }
    }
    for (id, z) in &snoozes {
        if let Some(p) = config.projects.iter().find(|p| &p.id() == id) {
            println!("snoozed: {} {}", p.name, describe(z));
        }
    }
    ExitCode::SUCCESS
}
