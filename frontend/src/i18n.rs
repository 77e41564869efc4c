//! The dashboard's texts in English and Chinese. Every key is declared once with both texts,
//! so a missing translation does not compile; the tests check what the compiler cannot
//! (placeholders match, nothing empty, Chinese really is Chinese).

use serde::{Deserialize, Serialize};

/// A display language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The code kept in local storage and set as `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Parses a stored code or a browser language tag (`zh-CN`, `en-US`); None for others.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
}

macro_rules! texts {
    ($($key:ident => $en:literal, $zh:literal;)*) => {
        /// A text of the interface.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        pub enum K { $($key,)* }

        impl K {
            /// Every key, in declaration order.
            pub const ALL: &'static [K] = &[$(K::$key,)*];
        }

        /// The text of `key` in `lang`.
        pub fn t(lang: Lang, key: K) -> &'static str {
            match (lang, key) {
                $((Lang::En, K::$key) => $en, (Lang::Zh, K::$key) => $zh,)*
            }
        }
    };
}

/// Replaces each `{}` in `template` with the next argument, in order.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    let mut args = args.iter();
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        out.push_str(args.next().copied().unwrap_or(""));
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

texts! {
    app_title => "Balance Alert", "余额告警";
    skip_link => "Skip to content", "跳到正文";
    nav_overview => "Overview", "总览";
    nav_subscriptions => "Subscriptions", "订阅";
    nav_alerts => "Alerts", "告警";
    nav_settings => "Settings", "设置";
    loading => "Loading…", "加载中…";
    retry => "Retry", "重试";
    not_found => "Page not found.", "页面不存在。";
    err_network => "Cannot reach the API at {}. Check the API base URL in Settings.", "无法连接 API（{}）。请在设置中检查 API 地址。";
    err_unauthorized => "The API refused the key (401). Enter a valid API key below.", "API 拒绝了当前密钥（401）。请在下方填写正确的 API 密钥。";
    err_http => "The API answered {}: {}", "API 返回 {}：{}";
    col_name => "Project", "项目";
    col_owner => "Owner project", "所属项目";
    col_provider => "Provider", "服务商";
    col_kind => "Figure", "类型";
    col_value => "Value", "余额";
    col_threshold => "Threshold", "阈值";
    col_state => "State", "状态";
    col_trend => "Last 7 days", "近 7 天";
    col_forecast => "Forecast", "预测";
    col_actions => "Actions", "操作";
    state_ok => "OK", "正常";
    state_low => "Low", "偏低";
    state_critical => "Critical", "严重";
    state_failing => "Failing", "失败";
    state_unknown => "Not checked", "未检查";
    state_snoozed => "Snoozed", "已暂停提醒";
    sum_total => "Projects", "项目";
    search_label => "Search", "搜索";
    search_placeholder => "Name, owner or provider", "名称、所属项目或服务商";
    filter_state => "State", "状态";
    filter_owner => "Owner project", "所属项目";
    filter_provider => "Provider", "服务商";
    filter_all => "All", "全部";
    check_now => "Check now", "立即检查";
    checking => "Checking…", "检查中…";
    check_done => "Check finished: {}", "检查完成：{}";
    cooldown => "Checked moments ago: try again in {} s.", "刚刚检查过，请 {} 秒后再试。";
    last_update => "Last update: {}", "最后更新：{}";
    never => "never", "从未";
    page_prev => "Previous", "上一页";
    page_next => "Next", "下一页";
    page_of => "Page {} of {}", "第 {} / {} 页";
    showing => "{} of {} projects", "显示 {} / {} 个项目";
    no_projects => "No project matches.", "没有匹配的项目。";
    sort_by => "Sort by {}", "按{}排序";
    kind_prepaid_balance => "Prepaid balance", "预付余额";
    kind_remaining_credit => "Remaining credit", "剩余额度";
    kind_budget_spend => "Budget left", "预算余量";
    kind_quota_window => "Quota window", "配额窗口";
    fc_empty => "empty", "已用完";
    fc_within_day => "runs out within a day", "一天内用完";
    fc_days => "runs out in {}", "{}后用完";
    fc_stable => "not falling", "未下降";
    fc_below => "below threshold", "已低于阈值";
    detail_back => "← Overview", "← 返回总览";
    range_label => "Period", "时间范围";
    range_days => "{} d", "{} 天";
    stat_current => "Current", "当前";
    stat_min => "Min", "最低";
    stat_max => "Max", "最高";
    stat_avg => "Average", "平均";
    stat_change => "Change", "变化";
    stat_burn => "Spending per day", "日均消耗";
    stat_threshold_date => "Reaches threshold", "到达阈值";
    stat_zero_date => "Runs out", "用完";
    chart_title => "Balance trend of {}", "{} 的余额趋势";
    chart_empty => "No readings in this period yet.", "此时间段内暂无数据。";
    legend_balance => "balance", "余额";
    legend_threshold => "threshold", "阈值";
    legend_critical => "critical threshold", "严重阈值";
    legend_forecast => "forecast to zero", "预测至用完";
    legend_alert => "alert", "告警";
    threshold_edit => "New threshold", "新阈值";
    save => "Save", "保存";
    cancel => "Cancel", "取消";
    saved => "Saved.", "已保存。";
    recent_alerts => "Recent alerts", "最近告警";
    no_alerts => "No alerts in this period.", "此时间段内没有告警。";
    ack => "Acknowledge", "确认";
    acked => "Acknowledged", "已确认";
    snooze_24h => "Snooze 24 h", "暂停提醒 24 小时";
    snooze_topup => "Snooze until topped up", "充值前暂停提醒";
    snooze_clear => "Resume reminders", "恢复提醒";
    snoozed_until => "Reminders paused until {}.", "提醒已暂停至 {}。";
    snoozed_topup => "Reminders paused until the balance is topped up.", "余额充值前不再提醒。";
    col_time => "Time", "时间";
    col_type => "Type", "类型";
    col_message => "Message", "内容";
    col_delivery => "Delivery", "投递";
    delivery_sent => "sent", "已发送";
    delivery_pending => "pending", "待发送";
    delivery_failed => "failed", "失败";
    delivery_none => "no channel", "无渠道";
    attempts => "{} attempt(s)", "尝试 {} 次";
    at_low => "Low balance", "余额偏低";
    at_critical => "Critical balance", "余额严重不足";
    at_failing => "Check failing", "检查失败";
    at_recovered => "Recovered", "已恢复";
    at_reminder => "Reminder", "提醒";
    at_renewal => "Renewal", "续费";
    at_forecast => "Forecast", "预测";
    at_email => "Mail", "邮件";
    filter_days => "Days", "天数";
    filter_project => "Project", "项目";
    filter_kind => "Type", "类型";
    alerts_count => "{} alert(s)", "{} 条告警";
    sub_name => "Name", "名称";
    sub_owner => "Owner project", "所属项目";
    sub_cycle => "Cycle", "周期";
    sub_renewal_day => "Renewal day", "续费日";
    sub_alert_days => "Remind days before", "提前提醒天数";
    sub_amount => "Amount", "金额";
    sub_currency => "Currency", "货币";
    sub_next => "Next renewal", "下次续费";
    sub_days_left => "Days left", "剩余天数";
    sub_status => "Status", "状态";
    sub_enabled => "Enabled", "启用";
    sub_interval => "Interval (days)", "间隔天数";
    sub_start => "Start date", "开始日期";
    sub_last_renewed => "Last renewed", "上次续费";
    cycle_weekly => "Weekly", "每周";
    cycle_monthly => "Monthly", "每月";
    cycle_yearly => "Yearly", "每年";
    cycle_every_n_days => "Every N days", "每 N 天";
    sub_add => "Add subscription", "添加订阅";
    sub_edit => "Edit", "编辑";
    sub_edit_title => "Edit {}", "编辑 {}";
    sub_delete => "Delete", "删除";
    sub_mark_renewed => "Mark renewed", "标记已续费";
    sub_confirm_delete => "Delete subscription {}?", "确定删除订阅 {}？";
    sub_none => "No subscriptions yet.", "还没有订阅。";
    sub_added => "Subscription {} added.", "已添加订阅 {}。";
    sub_updated => "Subscription {} saved.", "已保存订阅 {}。";
    sub_deleted => "Subscription {} deleted.", "已删除订阅 {}。";
    sub_renewed => "Subscription {} marked renewed.", "订阅 {} 已标记为续费。";
    sub_status_due => "Reminder due", "需要续费";
    sub_status_renewed => "Renewed", "已续费";
    sub_status_ok => "Upcoming", "未到期";
    sub_status_disabled => "Disabled", "已停用";
    hint_renewal_day => "weekly 1–7 (Mon–Sun), monthly 1–31, yearly MMDD (e.g. 1231)", "每周 1–7（周一至周日），每月 1–31，每年 MMDD（如 1231）";
    val_required => "{}: required.", "{}：必填。";
    val_number => "{}: must be a number ≥ 0.", "{}：必须是不小于 0 的数字。";
    val_range => "{}: must be a whole number from {} to {}.", "{}：必须是 {} 到 {} 之间的整数。";
    val_currency => "{}: three letters, e.g. USD.", "{}：三个字母，如 USD。";
    val_date => "{}: a date like 2026-12-31.", "{}：日期格式如 2026-12-31。";
    val_yearly => "{}: for yearly, MMDD with a real date, e.g. 1231.", "{}：每年周期需填写有效的 MMDD，如 1231。";
    set_api_key => "API key", "API 密钥";
    set_api_key_hint => "Kept in this browser's local storage and sent as a Bearer token.", "保存在本浏览器的本地存储中，以 Bearer 令牌发送。";
    set_language => "Language", "语言";
    set_api_base => "API base URL", "API 地址";
    set_api_base_hint => "Empty: {}", "留空：{}";
    set_same_origin => "same origin as this page", "与本页同源";
    set_saved => "Settings saved.", "设置已保存。";
    set_test_ok => "Connected: {} project(s).", "连接成功：{} 个项目。";
    days_today => "today", "今天";
    days_tomorrow => "tomorrow", "明天";
    days_yesterday => "yesterday", "昨天";
    days_in => "in {} days", "{} 天后";
    days_ago => "{} days ago", "{} 天前";
    cached => "cached", "缓存";
    stale => "not checked: {}", "未检查：{}";
    estimate => "estimate", "估算";
    estimate_hint => "Computed from a recorded balance, not read from the provider", "由记录的余额推算，并非服务商读数";
    no_limit => "no limit", "无限额";
}

/// The text of a project state (`ok`, `low`, …, `snoozed`).
pub fn state_text(lang: Lang, state: &str) -> &'static str {
    t(
        lang,
        match state {
            "ok" => K::state_ok,
            "low" => K::state_low,
            "critical" => K::state_critical,
            "failing" => K::state_failing,
            "snoozed" => K::state_snoozed,
            _ => K::state_unknown,
        },
    )
}

/// The text of an alert type (`low`, `renewal`, …); the type itself when unknown.
pub fn alert_type_text(lang: Lang, kind: &str) -> String {
    let key = match kind {
        "low" => K::at_low,
        "critical" => K::at_critical,
        "failing" => K::at_failing,
        "recovered" => K::at_recovered,
        "reminder" => K::at_reminder,
        "renewal" => K::at_renewal,
        "forecast" => K::at_forecast,
        "email" => K::at_email,
        other => return other.to_owned(),
    };
    t(lang, key).to_owned()
}

/// The text of a figure kind (`prepaid_balance`, …); empty when unknown.
pub fn figure_text(lang: Lang, kind: Option<&str>) -> &'static str {
    match kind {
        Some("prepaid_balance") => t(lang, K::kind_prepaid_balance),
        Some("remaining_credit") => t(lang, K::kind_remaining_credit),
        Some("budget_spend") => t(lang, K::kind_budget_spend),
        Some("quota_window") => t(lang, K::kind_quota_window),
        _ => "",
    }
}

/// The text of a subscription cycle; the cycle itself when unknown.
pub fn cycle_text(lang: Lang, cycle: &str) -> String {
    let key = match cycle {
        "weekly" => K::cycle_weekly,
        "monthly" => K::cycle_monthly,
        "yearly" => K::cycle_yearly,
        "every_n_days" => K::cycle_every_n_days,
        other => return other.to_owned(),
    };
    t(lang, key).to_owned()
}

/// The text of a delivery status.
pub fn delivery_text(lang: Lang, status: &str) -> &'static str {
    match status {
        "sent" => t(lang, K::delivery_sent),
        "failed" => t(lang, K::delivery_failed),
        _ => t(lang, K::delivery_pending),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_text_in_both_languages() {
        for &key in K::ALL {
            for lang in [Lang::En, Lang::Zh] {
                assert!(!t(lang, key).trim().is_empty(), "{key:?} empty in {lang:?}");
            }
        }
    }

    #[test]
    fn placeholders_match_between_languages() {
        for &key in K::ALL {
            let (en, zh) = (t(Lang::En, key), t(Lang::Zh, key));
            assert_eq!(
                en.matches("{}").count(),
                zh.matches("{}").count(),
                "{key:?}: {en:?} vs {zh:?}"
            );
        }
    }

    #[test]
    fn chinese_texts_are_chinese_and_english_texts_are_not() {
        // Proper names and symbols are the same in both languages.
        let same = [K::app_title, K::range_days];
        for &key in K::ALL {
            let (en, zh) = (t(Lang::En, key), t(Lang::Zh, key));
            assert!(
                en.is_ascii()
                    || en.contains('…')
                    || en.contains('–')
                    || en.contains('≥')
                    || en.contains('←')
                    || en.contains('’'),
                "{key:?} en: {en:?}"
            );
            if !same.contains(&key) && key != K::app_title {
                assert_ne!(en, zh, "{key:?} untranslated");
                assert!(
                    zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "{key:?} zh: {zh:?}"
                );
            }
        }
    }

    #[test]
    fn fill_replaces_placeholders_in_order_and_tolerates_missing_arguments() {
        assert_eq!(fill(t(Lang::En, K::page_of), &["2", "5"]), "Page 2 of 5");
        assert_eq!(fill(t(Lang::Zh, K::page_of), &["2", "5"]), "第 2 / 5 页");
        assert_eq!(fill("{} and {}", &["a"]), "a and ");
    }

    #[test]
    fn languages_parse_from_codes_and_browser_tags() {
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("en-US"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::parse(Lang::En.code()), Some(Lang::En));
        assert_eq!(state_text(Lang::En, "critical"), "Critical");
        assert_eq!(state_text(Lang::Zh, "snoozed"), "已暂停提醒");
        assert_eq!(alert_type_text(Lang::En, "unheard-of"), "unheard-of");
    }
}
