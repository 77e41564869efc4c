//! Terminal rendering of reports: aligned plain-text tables.

use balance_alert_core::model::CheckReport;
use balance_alert_core::monitor::SubscriptionCheck;

/// Renders rows as columns separated by two spaces; numbers are right-aligned.
fn render(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .zip(right)
            .map(|((c, w), r)| {
                let pad = w - c.chars().count();
                if *r {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        format!("{}\n", parts.join("  ").trim_end())
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

/// The check report as a table, failures listed underneath, then the summary line.
pub fn table(report: &CheckReport) -> String {
    let rows: Vec<Vec<String>> = report
        .projects
        .iter()
        .map(|p| {
            vec![
                p.project.clone(),
                p.provider.clone(),
                p.credits.map_or_else(|| "—".into(), |c| format!("{c:.2}")),
                p.currency.clone(),
                format!("{:.2}", p.threshold),
                p.state.as_str().to_uppercase(),
            ]
        })
        .collect();
    let mut out = render(
        &[
            "PROJECT",
            "PROVIDER",
            "BALANCE",
            "CURRENCY",
            "THRESHOLD",
            "STATE",
        ],
        &rows,
        &[false, false, true, false, true, false],
    );
    for p in report.projects.iter().filter(|p| !p.success) {
        out.push_str(&format!(
            "  {}: {}\n",
            p.project,
            p.error.as_deref().unwrap_or("failed")
        ));
    }
    let s = report.summary;
    out.push_str(&format!(
        "{} project(s): {} ok, {} failed, {} below threshold\n",
        s.total, s.success, s.failed, s.need_alarm
    ));
    out
}

/// Subscription renewals as a table (empty string when there are none).
pub fn subscriptions(checks: &[SubscriptionCheck]) -> String {
    if checks.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = checks
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.status.next_renewal_date.to_string(),
                c.status.days_until_renewal.to_string(),
                if c.status.already_renewed {
                    "renewed".into()
                } else if c.status.need_alert {
                    "REMIND".into()
                } else {
                    "ok".into()
                },
            ]
        })
        .collect();
    format!(
        "\n{}",
        render(
            &["SUBSCRIPTION", "NEXT RENEWAL", "DAYS", "STATUS"],
            &rows,
            &[false, false, true, false]
        )
    )
}
