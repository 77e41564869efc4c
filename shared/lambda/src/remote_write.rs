//! Prometheus remote-write from the checker (`PROMETHEUS_REMOTE_WRITE_URL`): the `/metrics`
//! series of the table as one WriteRequest — protobuf (encoded here: four small messages) in a
//! snappy block, basic or bearer auth, retried on 5xx/429 and network errors — with the same
//! names and labels as the exposition, plus `job`/`instance`.

use std::time::Duration;

use balance_alert_core::exposition::Family;

/// Where and how to push.
#[derive(Clone)]
pub struct RemoteWrite {
    pub url: String,
    /// `user:password` for basic auth.
    pub basic: Option<(String, String)>,
    pub bearer: Option<String>,
    pub http: reqwest::Client,
}

impl RemoteWrite {
    /// From `PROMETHEUS_REMOTE_WRITE_URL`, `PROMETHEUS_REMOTE_WRITE_USERNAME`/`_PASSWORD` or
    /// `PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN`; None when no URL is set.
    pub fn from_env() -> Option<RemoteWrite> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let url = var("PROMETHEUS_REMOTE_WRITE_URL")?;
        let basic = var("PROMETHEUS_REMOTE_WRITE_USERNAME").map(|u| {
            (
                u,
                var("PROMETHEUS_REMOTE_WRITE_PASSWORD").unwrap_or_default(),
            )
        });
        Some(RemoteWrite {
            url,
            basic,
            bearer: var("PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        })
    }

    /// Pushes `families` stamped `timestamp_ms`; up to three attempts.
    pub async fn push(
        &self,
        families: &[Family],
        job: &str,
        timestamp_ms: i64,
    ) -> Result<usize, String> {
        let (body, series) = encode(families, job, timestamp_ms);
        let compressed = snap::raw::Encoder::new()
            .compress_vec(&body)
            .map_err(|e| format!("snappy: {e}"))?;
        let mut last = String::new();
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            let mut req = self
                .http
                .post(&self.url)
                .header("Content-Type", "application/x-protobuf")
                .header("Content-Encoding", "snappy")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .body(compressed.clone());
            if let Some((u, p)) = &self.basic {
                req = req.basic_auth(u, Some(p));
            }
            if let Some(t) = &self.bearer {
                req = req.bearer_auth(t);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return Ok(series),
                Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                    last = format!("HTTP {}", r.status().as_u16());
                }
                Ok(r) => {
                    return Err(format!(
                        "remote write refused: HTTP {}",
                        r.status().as_u16()
                    ))
                }
                Err(e) => last = e.without_url().to_string(),
            }
        }
        Err(format!("remote write failed after 3 attempts: {last}"))
    }
}

/// Protobuf varint.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited field.
fn bytes_field(field: u32, data: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | 2), out);
    varint(data.len() as u64, out);
    out.extend_from_slice(data);
}

/// `WriteRequest { repeated TimeSeries timeseries = 1 }`, `TimeSeries { repeated Label labels
/// = 1; repeated Sample samples = 2 }`, `Label { string name = 1; string value = 2 }`,
/// `Sample { double value = 1; int64 timestamp = 2 }`. Labels sorted by name, `__name__`
/// first, as the protocol requires. Returns the body and the number of series.
pub fn encode(families: &[Family], job: &str, timestamp_ms: i64) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut count = 0;
    for f in families {
        for (labels, value) in &f.samples {
            let mut all: Vec<(&str, &str)> = vec![("__name__", f.name), ("job", job)];
            all.extend(labels.iter().map(|(k, v)| (*k, v.as_str())));
            all.sort_by(|a, b| a.0.cmp(b.0));
            let mut series = Vec::new();
            for (k, v) in all {
                let mut label = Vec::new();
                bytes_field(1, k.as_bytes(), &mut label);
                bytes_field(2, v.as_bytes(), &mut label);
                bytes_field(1, &label, &mut series);
            }
            let mut sample = Vec::new();
            sample.push(1 << 3 | 1);
            sample.extend_from_slice(&value.to_le_bytes());
            varint(2 << 3, &mut sample);
            varint(timestamp_ms as u64, &mut sample);
            bytes_field(2, &sample, &mut series);
            bytes_field(1, &series, &mut out);
            count += 1;
        }
    }
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields_follow_the_protobuf_wire_format() {
        let mut v = Vec::new();
        varint(300, &mut v);
        assert_eq!(v, [0xac, 0x02]);
        let mut f = Vec::new();
        bytes_field(1, b"ab", &mut f);
        assert_eq!(f, [0x0a, 2, b'a', b'b']);
    }
}
