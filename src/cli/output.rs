//! Terminal rendering of reports: aligned plain-text tables.

use balance_alert_core::check::SubscriptionCheck;
use balance_alert_core::model::{text, CheckReport};

/// A cell as one printable line: control characters (a newline in a project name) would
/// break the table's rows.
fn cell(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

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

/// ANSI colour for a state: green OK, yellow LOW, red CRITICAL/FAILING.
fn paint(state: &str) -> String {
    let code = match state {
        "OK" => "32",
        "LOW" => "33",
        _ => "31",
    };
    format!("\x1b[{code}m{state}\x1b[0m")
}

/// The check report as a table, failures listed underneath, then the summary line. With
/// `color` (stdout is a terminal and `NO_COLOR` is unset) the state column is coloured.
pub fn table(report: &CheckReport, color: bool) -> String {
    let rows: Vec<Vec<String>> = report
        .projects
        .iter()
        .map(|p| {
            vec![
                cell(&p.project),
                cell(&p.provider),
                p.kind.map_or("—", |k| k.as_str()).to_owned(),
                p.credits.map_or_else(
                    || "—".into(),
                    |c| {
                        let (c, _) = text::amounts_against(c, p.threshold, "");
                        format!("{c}{}", if p.estimate { "~" } else { "" })
                    },
                ),
                cell(&p.currency),
                if p.unlimited {
                    "no limit".into()
                } else {
                    match p.credits {
                        Some(c) => text::amounts_against(c, p.threshold, "").1,
                        None => text::number(p.threshold),
                    }
                },
                p.state.as_str().to_uppercase(),
            ]
        })
        .collect();
    let plain = render(
        &[
            "PROJECT",
            "PROVIDER",
            "KIND",
            "BALANCE",
            "CURRENCY",
            "THRESHOLD",
            "STATE",
        ],
        &rows,
        &[false, false, false, true, false, true, false],
    );
    // STATE is the last column, so it ends each data line: colour it there, after alignment.
    let mut out = String::with_capacity(plain.len() + rows.len() * 9);
    for (i, line) in plain.lines().enumerate() {
        match rows.get(i.wrapping_sub(1)).filter(|_| color && i > 0) {
            Some(row) => match line.strip_suffix(row[6].as_str()) {
                Some(rest) => {
                    out.push_str(rest);
                    out.push_str(&paint(&row[6]));
                }
                None => out.push_str(line),
            },
            None => out.push_str(line),
        }
        out.push('\n');
    }
    for p in report.projects.iter().filter(|p| !p.success) {
        out.push_str(&format!(
            "  {}: {}\n",
            cell(&p.project),
            p.error.as_deref().unwrap_or("failed")
        ));
    }
    // How each computed figure was arrived at (budgets, estimates, windows, key limits).
    for p in report.projects.iter().filter(|p| p.success) {
        if let Some(note) = &p.note {
            out.push_str(&format!("  {}: {}\n", cell(&p.project), cell(note)));
        }
    }
    let s = report.summary;
    // One vocabulary: each project counts once, by state; the exit code follows from these.
    out.push_str(&format!(
        "{} project(s): {} ok, {} low, {} critical, {} failing, {} skipped\n",
        s.total, s.ok, s.low, s.critical, s.failing, s.skipped
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
                cell(&c.name),
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

#[cfg(test)]
mod tests {
    use super::*;
    use balance_alert_core::model::{AlertState, Decimal, ProjectReport};

    fn report() -> CheckReport {
        let row = |project: &str, credits: Option<f64>, state| ProjectReport {
            project: project.into(),
            owner_project: None,
            provider: "openrouter".into(),
            success: credits.is_some(),
            credits: credits.map(|c| Decimal::try_from(c).expect("finite")),
            currency: "USD".into(),
            threshold: Decimal::from(10),
            need_alarm: credits.is_some_and(|c| c < 10.0),
            state,
            error: credits
                .is_none()
                .then(|| "timed out after 10.0s".to_owned()),
            stale: false,
            stale_reason: None,
            kind: Some(balance_alert_core::model::BalanceKind::RemainingCredit),
            note: None,
            estimate: false,
            resets_at: None,
            unlimited: false,
        };
        CheckReport::new(vec![
            row("main", Some(120.5), AlertState::Ok),
            row("x", None, AlertState::Failing),
        ])
    }

    #[test]
    fn table_aligns_columns_and_lists_failures() {
        let text = table(&report(), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "PROJECT  PROVIDER    KIND              BALANCE  CURRENCY  THRESHOLD  STATE"
        );
        assert_eq!(
            lines[1],
            "main     openrouter  remaining_credit   120.50  USD           10.00  OK"
        );
        assert_eq!(
            lines[2],
            "x        openrouter  remaining_credit        —  USD           10.00  FAILING"
        );
        assert_eq!(lines[3], "  x: timed out after 10.0s");
        assert_eq!(
            lines[4],
            "2 project(s): 1 ok, 0 low, 0 critical, 1 failing, 0 skipped"
        );
    }

    #[test]
    fn control_characters_in_names_cannot_break_rows() {
        let mut r = report();
        r.projects[0].project = "evil\nname".into();
        let text = table(&r, true);
        assert_eq!(text.lines().count(), 5);
        assert!(text
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("evil name")));
    }

    #[test]
    fn colour_wraps_only_the_state() {
        let text = table(&report(), true);
        assert!(text
            .lines()
            .nth(1)
            .is_some_and(|l| l.ends_with("  \x1b[32mOK\x1b[0m")));
        assert!(text
            .lines()
            .nth(2)
            .is_some_and(|l| l.ends_with("\x1b[31mFAILING\x1b[0m")));
        assert!(text.lines().next().is_some_and(|l| !l.contains('\x1b')));
    }
}
