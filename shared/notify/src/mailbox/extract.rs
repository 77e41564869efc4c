//! What a mail says, without any I/O: the decoded subject, sender and text body (HTML
//! stripped), which keywords it matches, the service it is about and the amount it names.
//! Pure functions, so the rules are unit-tested here and the IMAP test only checks the wiring.

use std::str::FromStr;
use std::sync::LazyLock;

use mail_parser::{Message, MessageParser};
use regex::Regex;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// Largest amount taken from a mail; beyond it the number is not a balance (an order number).
const MAX_AMOUNT: i64 = 1_000_000_000_000_000;
/// Longest one-line text kept for a subject or a service name, in characters.
const MAX_LINE_CHARS: usize = 200;

/// The parts of one mail the scan looks at, decoded (RFC 2047 headers, quoted-printable and
/// base64 bodies, any charset mail-parser knows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMail {
    /// The subject as one clean line.
    pub subject: String,
    /// `Name <addr>`, `addr` or `Name`, as one clean line.
    pub from: String,
    /// The sender's display name, if any.
    pub from_name: Option<String>,
    /// The sender's address, if any.
    pub from_addr: Option<String>,
    /// The `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// The `Date` header as written (for the fallback id).
    pub date_raw: String,
    /// The `Date` header as Unix seconds, when it parses.
    pub date: Option<i64>,
    /// Every inline text part, HTML parts stripped to text, joined by newlines.
    pub body: String,
}

impl ParsedMail {
    /// Parses a raw RFC 5322 message. None only for input that has no headers at all.
    pub fn parse(raw: &[u8]) -> Option<ParsedMail> {
        let msg = MessageParser::default().parse(raw)?;
        let sender = msg.from().and_then(|a| a.first());
        let from_name = sender.and_then(|a| a.name()).map(one_line);
        let from_addr = sender.and_then(|a| a.address()).map(one_line);
        let from = match (&from_name, &from_addr) {
            (Some(n), Some(a)) => format!("{n} <{a}>"),
            (Some(x), None) | (None, Some(x)) => x.clone(),
            (None, None) => String::new(),
        };
        Some(ParsedMail {
            subject: one_line(msg.subject().unwrap_or_default()),
            from,
            from_name: from_name.filter(|n| !n.is_empty()),
            from_addr: from_addr.filter(|a| !a.is_empty()),
            message_id: msg.message_id().map(str::to_owned),
            date_raw: msg.header_raw("Date").unwrap_or_default().trim().to_owned(),
            date: msg.date().map(|d| d.to_timestamp()),
            body: body_text(&msg),
        })
    }

    /// The alert id of this mail: the same mail (by `Message-ID`) always gets the same id, so a
    /// store's insert-if-absent alerts once per mail ever.
    pub fn alert_id(&self) -> String {
        let key = match &self.message_id {
            Some(id) if !id.trim().is_empty() => format!("mid:{}", id.trim()),
            _ => format!("fds:{}|{}|{}", self.from, self.date_raw, self.subject),
        };
        let digest = Sha256::digest(key.as_bytes());
        format!("mail-{}", &hex::encode(digest)[..32])
    }
}

/// The text of every inline body part, HTML stripped; a part listed both as text and as HTML
/// (mail-parser lists an HTML-only body under both) is read once.
fn body_text(msg: &Message<'_>) -> String {
    let mut ids: Vec<u32> = msg
        .text_body
        .iter()
        .chain(&msg.html_body)
        .copied()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| msg.parts.get(id as usize))
        .filter_map(|part| {
            let text = part.text_contents()?;
            Some(if part.is_text_html() {
                strip_html(text)
            } else {
                text.to_owned()
            })
        })
        .collect::<Vec<_>>()
        .join("\n")
}

static SCRIPT_OR_STYLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<(script|style|head)\b.*?</(script|style|head)\s*>")
        .expect("the script/style pattern is valid")
});
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<[^>]*>").expect("the tag pattern is valid"));
static ENTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")
        .expect("the entity pattern is valid")
});

/// HTML to plain text: scripts, styles and tags removed, common entities decoded, runs of
/// whitespace collapsed (each line trimmed, blank lines dropped).
pub fn strip_html(html: &str) -> String {
    let no_code = SCRIPT_OR_STYLE.replace_all(html, " ");
    let no_tags = TAG.replace_all(&no_code, " ");
    let text = ENTITY.replace_all(&no_tags, |c: &regex::Captures<'_>| decode_entity(&c[1]));
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_entity(name: &str) -> String {
    let named = match name {
        "nbsp" | "ensp" | "emsp" => Some(' '),
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "yen" => Some('¥'),
        "dollar" => Some('$'),
        _ => None,
    };
    let numeric = || {
        let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => name.strip_prefix('#')?.parse().ok(),
        };
        code.and_then(char::from_u32)
    };
    match named.or_else(numeric) {
        Some(c) => c.to_string(),
        None => format!("&{name};"),
    }
}

/// The configured keywords found in `subject` or `body`, case-insensitively, in configured order.
pub fn matched_keywords<'k>(keywords: &'k [String], subject: &str, body: &str) -> Vec<&'k str> {
    let haystack = format!("{subject}\n{body}").to_lowercase();
    keywords
        .iter()
        .filter(|k| haystack.contains(&k.to_lowercase()))
        .map(String::as_str)
        .collect()
}

static BRACKETED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"【\s*([^】]+?)\s*】|\[\s*([^\]]+?)\s*\]").expect("the bracket pattern is valid")
});

/// The service a mail is about: the first `【…】` or `[…]` in the subject, else the sender's
/// display name, else the sender's domain, else `unknown`.
pub fn service_name(subject: &str, from_name: Option<&str>, from_addr: Option<&str>) -> String {
    let bracketed = BRACKETED
        .captures(subject)
        .and_then(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| m.as_str());
    let domain = from_addr.and_then(|a| a.rsplit_once('@')).map(|(_, d)| d);
    [bracketed, from_name, domain]
        .into_iter()
        .flatten()
        .map(one_line)
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A number as mails write it: `1,234.50`, `12.5`, `3`.
const NUM: &str = r"([0-9][0-9,]*(?:\.[0-9]+)?)";

/// Amount patterns, most specific first, with the currency each implies.
static AMOUNTS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (format!(r"余额\s*[：:]?\s*(?:¥|￥)?\s*{NUM}\s*元"), "CNY"),
        (format!(r"(?:¥|￥)\s*{NUM}"), "CNY"),
        (format!(r"(?i)\b(?:CNY|RMB)\s*{NUM}"), "CNY"),
        (format!(r"(?i)\bUSD\s*\$?\s*{NUM}"), "USD"),
        (format!(r"(?i)(?:US)?\$\s*{NUM}"), "USD"),
        (format!(r"{NUM}\s*元"), "CNY"),
        (format!(r"(?i){NUM}\s*(?:CNY|RMB)\b"), "CNY"),
        (format!(r"(?i){NUM}\s*USD\b"), "USD"),
        (format!(r"(?:金额|余额)\s*[：:]\s*{NUM}"), "CNY"),
    ]
    .into_iter()
    .map(|(p, c)| (Regex::new(&p).expect("amount patterns are valid"), c))
    .collect()
});

/// The first amount named in `text` by the most specific pattern that finds one, with its
/// currency (`CNY` for 元/¥/CNY/RMB, `USD` for $/USD).
pub fn amount(text: &str) -> Option<(Decimal, &'static str)> {
    AMOUNTS.iter().find_map(|(re, currency)| {
        re.captures_iter(text)
            .find_map(|c| parse_amount(&c[1]))
            .map(|a| (a, *currency))
    })
}

fn parse_amount(s: &str) -> Option<Decimal> {
    let n = Decimal::from_str(&s.replace(',', "")).ok()?;
    (n <= Decimal::from(MAX_AMOUNT)).then_some(n)
}

/// One display line: control characters dropped, whitespace runs collapsed, trimmed, at most
/// [`MAX_LINE_CHARS`] characters (an ellipsis marks a cut).
pub fn one_line(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let joined = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MAX_LINE_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(MAX_LINE_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::mailbox::settings::MailSettings;

    fn keywords() -> Vec<String> {
        MailSettings::default().keywords
    }

    #[test]
    fn chinese_and_english_keywords_match_case_insensitively() {
        let k = keywords();
        assert_eq!(
            matched_keywords(&k, "【阿里云】您的账户已欠费", ""),
            vec!["欠费"]
        );
        assert_eq!(
            matched_keywords(&k, "Reminder", "Your payment FAILED yesterday"),
            vec!["payment failed"]
        );
        assert!(matched_keywords(&k, "Weekly newsletter", "New features!").is_empty());
    }

    #[test]
    fn amounts_are_read_with_their_currency() {
        let cases = [
            ("您的余额：12.50元，请充值", dec!(12.50), "CNY"),
            ("余额: 1,234.5 元", dec!(1234.5), "CNY"),
            ("当前余额 ¥8", dec!(8), "CNY"),
            ("balance CNY 99.9", dec!(99.9), "CNY"),
            ("Your balance is $3.20.", dec!(3.20), "USD"),
            ("Remaining: USD 15", dec!(15), "USD"),
            ("欠费 30 元", dec!(30), "CNY"),
        ];
        for (text, value, currency) in cases {
            assert_eq!(amount(text), Some((value, currency)), "{text}");
        }
        assert_eq!(amount("Invoice #12345 is ready"), None);
    }

    #[test]
    fn the_balance_wins_over_an_earlier_bare_amount() {
        assert_eq!(
            amount("本月消费 50 元，余额：12.50元"),
            Some((dec!(12.50), "CNY"))
        );
    }

    #[test]
    fn html_is_stripped_to_text_with_entities_decoded() {
        let html = "<html><head><style>p{color:red}</style></head><body>\
                    <p>余额&#65306;<b>12.50</b>元</p><script>var x = '欠费';</script>\
                    <div>A&amp;B&nbsp;&lt;ok&gt; &yen;3</div></body></html>";
        assert_eq!(strip_html(html), "余额： 12.50 元 A&B <ok> ¥3");
    }

    #[test]
    fn the_service_comes_from_brackets_then_the_sender() {
        assert_eq!(service_name("【阿里云】欠费通知", None, None), "阿里云");
        assert_eq!(
            service_name("[OpenAI] Payment failed", Some("x"), None),
            "OpenAI"
        );
        assert_eq!(
            service_name(
                "Low balance",
                Some("DeepSeek Billing"),
                Some("b@deepseek.com")
            ),
            "DeepSeek Billing"
        );
        assert_eq!(
            service_name("Low balance", None, Some("billing@moonshot.cn")),
            "moonshot.cn"
        );
        assert_eq!(service_name("Low balance", None, None), "unknown");
    }

    #[test]
    fn one_line_drops_control_characters_and_long_tails() {
        assert_eq!(one_line("  a\r\n\tb\u{7}c  "), "a b c");
        let long = "x".repeat(500);
        assert_eq!(one_line(&long).chars().count(), MAX_LINE_CHARS);
    }

    #[test]
    fn a_mail_id_depends_on_the_message_id_only_when_there_is_one() {
        let raw = b"Message-ID: <a@b>\r\nSubject: one\r\n\r\nx";
        let other = b"Message-ID: <a@b>\r\nSubject: two\r\n\r\ny";
        let a = ParsedMail::parse(raw).expect("parses");
        let b = ParsedMail::parse(other).expect("parses");
        assert_eq!(a.alert_id(), b.alert_id());
        assert!(a.alert_id().starts_with("mail-"));

        let c = ParsedMail::parse(b"Subject: one\r\n\r\nx").expect("parses");
        let d = ParsedMail::parse(b"Subject: two\r\n\r\nx").expect("parses");
        assert_ne!(c.alert_id(), d.alert_id());
    }

    #[test]
    fn encoded_subjects_and_bodies_are_decoded() {
        let raw = "From: =?utf-8?b?6Zi/6YeM5LqR?= <no-reply@aliyun.com>\r\n\
                   Subject: =?utf-8?b?44CQ6Zi/6YeM5LqR44CR5qyg6LS56YCa55+l?=\r\n\
                   MIME-Version: 1.0\r\n\
                   Content-Type: text/html; charset=utf-8\r\n\
                   Content-Transfer-Encoding: quoted-printable\r\n\r\n\
                   <p>=E4=BD=99=E9=A2=9D=EF=BC=9A12.50=E5=85=83</p>\r\n";
        let mail = ParsedMail::parse(raw.as_bytes()).expect("parses");
        assert_eq!(mail.subject, "【阿里云】欠费通知");
        assert_eq!(mail.from, "阿里云 <no-reply@aliyun.com>");
        assert_eq!(mail.body, "余额：12.50元");
    }
}
