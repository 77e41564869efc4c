//! `settings.timezone`: the zone every calendar date is computed in (renewal dates, reminder
//! days, "today"). The functions run in UTC, and a server's clock zone is rarely the user's.

use chrono::{DateTime, NaiveDate, Utc};

/// An IANA time zone, or the process's local zone (the `TZ` variable, else the system's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeZone {
    /// The process's local zone (the default when `settings.timezone` is unset).
    #[default]
    Local,
    /// A named IANA zone such as `Asia/Shanghai`.
    Named(chrono_tz::Tz),
}

impl TimeZone {
    /// Parses an IANA name (case-insensitive); `local` means the process's zone.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("local") {
            return Some(TimeZone::Local);
        }
        name.parse::<chrono_tz::Tz>()
            .or_else(|_| chrono_tz::Tz::from_str_insensitive(name))
            .ok()
            .map(TimeZone::Named)
    }

    /// The zone's name as configured (`local` for the process zone).
    pub fn name(&self) -> String {
        match self {
            TimeZone::Local => "local".into(),
            TimeZone::Named(tz) => tz.name().into(),
        }
    }

    /// The calendar date at `now` in this zone.
    pub fn date_at(&self, now: DateTime<Utc>) -> NaiveDate {
        match self {
            TimeZone::Local => now.with_timezone(&chrono::Local).date_naive(),
            TimeZone::Named(tz) => now.with_timezone(tz).date_naive(),
        }
    }

    /// The wall-clock date and time at `now` in this zone.
    pub fn local_at(&self, now: DateTime<Utc>) -> chrono::NaiveDateTime {
        match self {
            TimeZone::Local => now.with_timezone(&chrono::Local).naive_local(),
            TimeZone::Named(tz) => now.with_timezone(tz).naive_local(),
        }
    }

    /// The instant a wall-clock time in this zone names (the earlier one when a clock change
    /// makes it ambiguous, the next valid one when it skips it).
    pub fn to_utc(&self, local: chrono::NaiveDateTime) -> DateTime<Utc> {
        use chrono::TimeZone as _;
        let pick = |r: chrono::LocalResult<DateTime<Utc>>| r.earliest();
        let at = |l: chrono::NaiveDateTime| match self {
            TimeZone::Local => pick(chrono::Local.from_local_datetime(&l).map(|d| d.to_utc())),
            TimeZone::Named(tz) => pick(tz.from_local_datetime(&l).map(|d| d.to_utc())),
        };
        // A skipped hour (spring forward) has no instant: take the first minute after it.
        (0..=180)
            .find_map(|m| at(local + chrono::Duration::minutes(m)))
            .unwrap_or_else(|| local.and_utc())
    }

    /// `now` formatted (strftime) in this zone.
    pub fn format(&self, now: DateTime<Utc>, fmt: &str) -> String {
        self.local_at(now).format(fmt).to_string()
    }

    /// Today's date in this zone.
    pub fn today(&self) -> NaiveDate {
        self.date_at(Utc::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_is_the_zones_not_utcs() {
        // 01:35 on the 27th in Shanghai is still the 26th in UTC.
        let now = DateTime::parse_from_rfc3339("2026-11-26T17:35:00Z")
            .expect("date")
            .to_utc();
        let shanghai = TimeZone::parse("Asia/Shanghai").expect("known zone");
        assert_eq!(shanghai.date_at(now).to_string(), "2026-11-27");
        let utc = TimeZone::parse("UTC").expect("known zone");
        assert_eq!(utc.date_at(now).to_string(), "2026-11-26");
        let la = TimeZone::parse("america/los_angeles").expect("case-insensitive");
        assert_eq!(la.name(), "America/Los_Angeles");
        assert_eq!(TimeZone::parse("Nowhere/Else"), None);
    }
}
