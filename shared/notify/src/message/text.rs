//! The words of a message: labels of kinds and states in the configured language, amounts,
//! and an alert's fact lines.

use super::*;

pub(super) fn t(lang: Language, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Zh => zh,
        Language::En => en,
    }
}

/// The localized name of an alert kind.
pub fn kind_label(kind: AlertKind, state: AlertState, lang: Language) -> &'static str {
    match kind {
        AlertKind::Low => t(lang, "余额不足", "Low balance"),
        AlertKind::Critical => t(lang, "余额严重不足", "Critical balance"),
        AlertKind::Failing => t(lang, "余额查询失败", "Balance check failing"),
        AlertKind::Recovered => t(lang, "已恢复", "Recovered"),
        AlertKind::Reminder => match state {
            AlertState::Critical => t(lang, "余额严重不足（提醒）", "Critical balance (reminder)"),
            AlertState::Failing => t(
                lang,
                "余额查询失败（提醒）",
                "Balance check failing (reminder)",
            ),
            _ => t(lang, "余额不足（提醒）", "Low balance (reminder)"),
        },
        AlertKind::Renewal => t(lang, "订阅即将续费", "Subscription renews soon"),
        AlertKind::Forecast => t(lang, "余额即将耗尽", "Balance runs out soon"),
        AlertKind::Email => t(lang, "账单邮件提醒", "Billing mail"),
    }
}

/// The localized name of a state.
pub fn state_label(state: AlertState, lang: Language) -> &'static str {
    match state {
        AlertState::Ok => t(lang, "正常", "OK"),
        AlertState::Low => t(lang, "余额不足", "LOW"),
        AlertState::Critical => t(lang, "严重不足", "CRITICAL"),
        AlertState::Failing => t(lang, "查询失败", "FAILING"),
    }
}

/// An amount with two decimals (half-even) and its currency.
pub fn amount(value: Decimal, currency: &str) -> String {
    balance_alert_core::model::text::amount(value, currency)
}

pub(super) fn date_of(ts: i64, tz: &balance_alert_core::config::TimeZone) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| tz.format(d, "%Y-%m-%d %H:%M"))
        .unwrap_or_default()
}

/// The lines describing one alert (project, owner, provider, figure, threshold, state, days).
pub fn alert_lines(
    alert: &AlertRecord,
    lang: Language,
    tz: &balance_alert_core::config::TimeZone,
) -> Vec<Line> {
    let l = |zh, en, text: String| Line {
        label: Some(t(lang, zh, en).to_owned()),
        text,
    };
    let mut lines = Vec::new();
    let subject = match alert.kind {
        AlertKind::Renewal => t(lang, "订阅", "Subscription"),
        AlertKind::Email => t(lang, "服务", "Service"),
        _ => t(lang, "项目", "Project"),
    };
    lines.push(Line {
        label: Some(subject.to_owned()),
        text: alert.project_name.clone(),
    });
    if let Some(owner) = &alert.details.owner_project {
        lines.push(l("所属项目", "Owner", owner.clone()));
    }
    if !alert.provider.is_empty() {
        lines.push(l("平台", "Provider", alert.provider.clone()));
    }
    lines.push(l(
        "类型",
        "Kind",
        kind_label(alert.kind, alert.state, lang).to_owned(),
    ));
    match alert.kind {
        AlertKind::Renewal => {
            // A renewal's amount is stored as its threshold (there is no balance).
            let v = alert.balance.unwrap_or(alert.threshold);
            lines.push(l("续费金额", "Amount", amount(v, &alert.currency)));
            if let Some(d) = &alert.details.due_date {
                lines.push(l("续费日期", "Renews on", d.clone()));
            }
            if let Some(days) = alert.details.days_left {
                lines.push(l("剩余天数", "Days left", days.to_string()));
            }
        }
        AlertKind::Email => {
            if let Some(v) = alert.balance {
                lines.push(l("金额", "Amount", amount(v, &alert.currency)));
            }
            if let Some(s) = &alert.details.source {
                lines.push(l("邮件", "Mail", s.clone()));
            }
        }
        _ => {
            // The figure and its threshold to the same places, so their order shows.
            let (value, threshold) = match alert.balance {
                Some(v) => {
                    let (v, t) = balance_alert_core::model::text::amounts_against(
                        v,
                        alert.threshold,
                        &alert.currency,
                    );
                    (Some(v), t)
                }
                None => (None, amount(alert.threshold, &alert.currency)),
            };
            if let Some(v) = value {
                let (zh, en) = figure_label(alert.details.figure);
                lines.push(l(zh, en, v));
            }
            if let Some(note) = &alert.details.note {
                lines.push(l("说明", "Note", note.clone()));
            }
            if alert.kind != AlertKind::Failing && alert.state != AlertState::Failing {
                lines.push(l("阈值", "Threshold", threshold));
                if let Some(r) = alert.details.recovers_at.filter(|_| {
                    alert.balance.is_some_and(|b| b >= alert.threshold)
                        && alert.kind != AlertKind::Recovered
                }) {
                    lines.push(l("恢复线", "Recovers at", amount(r, &alert.currency)));
                }
            }
            lines.push(l(
                "状态",
                "State",
                state_label(alert.state, lang).to_owned(),
            ));
            if alert.kind == AlertKind::Forecast {
                if let (Some(days), Some(date)) = (alert.details.days_left, &alert.details.due_date)
                {
                    let n = balance_alert_core::model::text::days(days, lang);
                    let text = match lang {
                        Language::Zh => format!("预计{n}后耗尽（{date}）"),
                        Language::En => format!("runs out in {n}, on {date}"),
                    };
                    lines.push(l("预计", "Forecast", text));
                }
            }
        }
    }
    if matches!(alert.kind, AlertKind::Failing | AlertKind::Email)
        || alert.state == AlertState::Failing
    {
        let details = match (alert.details.failures, &alert.details.reason) {
            (Some(n), Some(reason)) => balance_alert_core::model::text::failures(n, reason, lang),
            _ => balance_alert_core::model::text::alert_text(alert, lang),
        };
        lines.push(l("详情", "Details", details));
    }
    lines.push(l("时间", "Time", date_of(alert.created_at, tz)));
    lines
}

/// The label of a reading by its kind: a budget or a quota window is not a balance.
pub(super) fn figure_label(
    kind: Option<balance_alert_core::model::BalanceKind>,
) -> (&'static str, &'static str) {
    use balance_alert_core::model::BalanceKind;
    match kind {
        Some(BalanceKind::RemainingCredit) => ("剩余额度", "Credits left"),
        Some(BalanceKind::BudgetSpend) => ("预算剩余", "Budget left"),
        Some(BalanceKind::QuotaWindow) => ("窗口剩余", "Quota left"),
        Some(BalanceKind::PrepaidBalance) | None => ("当前余额", "Balance"),
    }
}
