//! A loopback proxy in front of the tests' moto_server: it names every DynamoDB request that
//! passes (the `X-Amz-Target` operation) and answers 500 `InternalServerError`, as DynamoDB
//! does in an outage, to the requests a test marks as failing. The store code on one side and
//! the emulator on the other stay the real ones; only the wire between them misbehaves.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Which requests fail: given the operation (`UpdateItem`) and the JSON body.
type FailWhen = Box<dyn Fn(&str, &str) -> bool + Send + Sync>;

struct Inner {
    upstream: String,
    http: reqwest::Client,
    seen: Mutex<Vec<String>>,
    fail: Mutex<Option<FailWhen>>,
}

/// The proxy; it serves until the test binary exits.
pub struct Proxy {
    pub url: String,
    inner: Arc<Inner>,
}

impl Proxy {
    /// A proxy to `upstream` (moto_server's URL) on a free loopback port.
    pub async fn start(upstream: &str) -> Proxy {
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            seen: Mutex::default(),
            fail: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the proxy");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the proxy's address")
        );
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Proxy { url, inner }
    }

    /// The operations requested since the start or the last [`Proxy::clear`].
    pub fn operations(&self) -> Vec<String> {
        self.inner.seen.lock().expect("lock").clone()
    }

    pub fn clear(&self) {
        self.inner.seen.lock().expect("lock").clear();
    }

    /// From now on, requests for which `when(operation, body)` holds answer 500.
    pub fn fail_when(&self, when: impl Fn(&str, &str) -> bool + Send + Sync + 'static) {
        *self.inner.fail.lock().expect("lock") = Some(Box::new(when));
    }

    /// Every request passes again.
    pub fn heal(&self) {
        *self.inner.fail.lock().expect("lock") = None;
    }

    /// A DynamoDB client whose requests go through the proxy.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "proxy-test"))
            .endpoint_url(&self.url)
            .http_client(balance_alert_store_dynamodb::http_client())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

async fn forward(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("a request body");
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default()
        .to_owned();
    inner.seen.lock().expect("lock").push(operation.clone());
    let fails = inner
        .fail
        .lock()
        .expect("lock")
        .as_ref()
        .is_some_and(|when| when(&operation, &String::from_utf8_lossy(&body)));
    if fails {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected by the test proxy"}"#,
        )
            .into_response();
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = inner
        .http
        .request(parts.method.clone(), format!("{}{path}", inner.upstream));
    for (name, value) in &parts.headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream
        .body(body)
        .send()
        .await
        .expect("moto_server answers");
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.expect("moto_server's body");
    response.body(Body::from(bytes)).expect("a response")
}
