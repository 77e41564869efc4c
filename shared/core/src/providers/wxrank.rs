//! wxrank (极致了): `GET /weixin/score?key=<api_key>` → `{"code":0,"msg":"剩余9810积分"}`: the
//! figure is the first run of digits in `msg` (else `data`, `data.score`/`data.credits`, then
//! top-level `score`/`credits`), as the Python tool reads it. Points (积分), not money.

use balance_alert_model::{Balance, BalanceKind, Decimal};
use serde_json::Value;

use super::{amount, balance, snippet, Http, Provider, ProviderError, ReadRequest};
use crate::project::ProjectConfig;

pub struct WxRank;

#[async_trait::async_trait]
impl Provider for WxRank {
    fn name(&self) -> &'static str {
        "wxrank"
    }

    fn default_base_url(&self) -> &'static str {
        "https://data.wxrank.com"
    }

    fn kind(&self, _: &ProjectConfig) -> BalanceKind {
        BalanceKind::RemainingCredit
    }

    async fn read(&self, http: &Http, req: &ReadRequest<'_>) -> Result<Balance, ProviderError> {
        // The key travels in the query (the API knows no header); the engine scrubs it from
        // any error text, URL-encoded forms included.
        let reply = http
            .send(
                http.get(&req.url("/weixin/score"))
                    .query(&[("key", req.api_key)]),
            )
            .await?;
        let body = reply.json()?;
        parse(&body, req.currency)
    }
}

fn parse(body: &Value, currency: Option<&str>) -> Result<Balance, ProviderError> {
    let msg = body.get("msg").and_then(Value::as_str).unwrap_or("");
    if body.get("code").and_then(Value::as_f64) != Some(0.0) {
        return Err(ProviderError::Api {
            message: snippet(
                format!(
                    "code {}: {}",
                    body.get("code").map_or("missing".into(), Value::to_string),
                    msg
                )
                .as_bytes(),
            ),
        });
    }
    let from_msg = msg
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| !run.is_empty())
        .and_then(|run| run.parse::<Decimal>().ok());
    let points = from_msg
        .or_else(|| body.get("data").and_then(amount))
        .or_else(|| body.pointer("/data/score").and_then(amount))
        .or_else(|| body.pointer("/data/credits").and_then(amount))
        .or_else(|| body.get("score").and_then(amount))
        .or_else(|| body.get("credits").and_then(amount))
        .ok_or_else(|| ProviderError::Unparseable {
            reason: "no number in msg, data, score or credits".into(),
            snippet: snippet(body.to_string().as_bytes()),
        })?;
    balance(
        points,
        currency.unwrap_or("points"),
        BalanceKind::RemainingCredit,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn the_python_tools_cases() {
        let read = |b: Value| parse(&b, None).map(|b| b.amount);
        assert_eq!(
            read(json!({"code": 0, "msg": "剩余263419余额"})),
            Ok(dec!(263419))
        );
        assert_eq!(
            read(json!({"code": 0, "msg": "查询成功", "data": 5000})),
            Ok(dec!(5000))
        );
        assert_eq!(
            read(json!({"code": 0, "msg": "查询成功", "data": {"score": 1234}})),
            Ok(dec!(1234))
        );
        assert!(read(json!({"code": -1, "msg": "密钥无效"})).is_err());
        assert!(read(json!({"code": 0, "msg": "无数据"})).is_err());
        assert_eq!(
            parse(&json!({"code": 0, "msg": "剩余9810积分"}), None)
                .expect("ok")
                .currency,
            "points"
        );
    }
}
