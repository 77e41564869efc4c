//! API key, JWT, the DNS-rebinding guard, CORS and rate limiting.

use super::*;

#[tokio::test]
async fn api_key_is_required_when_configured() {
    let auth = AuthConfig {
        api_key: Some(Secret::new("web-secret-key-123").into()),
        jwt_secret: None,
    };
    let h = harness_with(
        auth,
        ApiOptions {
            rate_limit_per_minute: 0,
            ..Default::default()
        },
    )
    .await;
    let (status, headers, body) = h.get("/api/credits").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("X-API-Key"));
    let wrong = Request::get("/api/credits")
        .header("x-api-key", "nope")
        .body(Body::empty())
        .expect("req");
    let (status, _, body) = h.call(wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "invalid API key or token");
    let bearer = Request::get("/api/credits")
        .header(header::AUTHORIZATION, "Bearer web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(bearer).await.0, StatusCode::OK);
    let header_key = Request::get("/api/credits")
        .header("x-api-key", "web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(header_key).await.0, StatusCode::OK);
    // Health and the docs page stay public; the OpenAPI document, like all of /api, does not.
    assert_eq!(h.get("/health").await.0, StatusCode::OK);
    assert_eq!(h.get("/docs").await.0, StatusCode::OK);
    assert_eq!(h.get("/api/openapi.json").await.0, StatusCode::UNAUTHORIZED);
    // JWT is off: no token endpoint.
    let token = Request::post("/api/auth/token")
        .header("x-api-key", "web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(token).await.0, StatusCode::NOT_FOUND);
    // /health is public: with a key configured it does not echo the config error's text.
    std::fs::write(h.config_path(), "{ \"projects\": [ oops").expect("break");
    assert!(!h.live.reload());
    let (status, _, health) = h.get("/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        health["reason"],
        "config reload failed, running on the last good config; see the server log"
    );
}

#[tokio::test]
async fn jwt_tokens_are_issued_for_the_key_and_refreshed() {
    let auth = AuthConfig {
        api_key: Some(Secret::new("web-secret-key-123").into()),
        jwt_secret: Some(Secret::new("jwt-signing-secret")),
    };
    let h = harness_with(
        auth,
        ApiOptions {
            rate_limit_per_minute: 0,
            ..Default::default()
        },
    )
    .await;
    let token = Request::post("/api/auth/token")
        .header("x-api-key", "web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    let (status, _, pair) = h.call(token).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert_eq!(pair["expires_in"], 3600);
    let access = pair["access_token"].as_str().expect("token");
    let with_jwt = Request::get("/api/credits")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(with_jwt).await.0, StatusCode::OK);
    // A refresh token is not an access token.
    let refresh = pair["refresh_token"].as_str().expect("token");
    let misuse = Request::get("/api/credits")
        .header(header::AUTHORIZATION, format!("Bearer {refresh}"))
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(misuse).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, again) = h
        .post("/api/auth/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(again["access_token"].is_string());
    // Only the key mints tokens: an access token cannot chain itself a new pair.
    let chained = Request::post("/api/auth/token")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::empty())
        .expect("req");
    let (status, _, body) = h.call(chained).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        h.post("/api/auth/refresh", json!({"refresh_token": "garbage"}))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn without_a_key_only_our_own_host_names_and_origins_are_served() {
    let h = harness().await;
    let with = |method: Method, host: &str, origin: Option<&str>, body: Option<Value>| {
        let mut b = Request::builder()
            .method(method)
            .uri("/api/config/threshold")
            .header(header::HOST, host);
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, |v| Body::from(v.to_string())))
            .expect("req")
    };
    let read = |host: &str| {
        Request::get("/api/credits")
            .header(header::HOST, host)
            .body(Body::empty())
            .expect("req")
    };
    // A rebound name is refused; loopback names and addresses are served.
    let (status, _, body) = h.call(read("attacker.example:8080")).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
    for host in [
        "localhost:8080",
        "127.0.0.1:8080",
        "[::1]:8080",
        "app.localhost",
    ] {
        assert_eq!(h.call(read(host)).await.0, StatusCode::OK, "{host}");
    }
    // A change from another origin's page is refused and nothing is written.
    let before = h.file();
    let edit = json!({"project_name": "Main", "new_threshold": 99});
    let (status, _, _) = h
        .call(with(
            Method::POST,
            "localhost:8080",
            Some("http://attacker.example"),
            Some(edit.clone()),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(h.file(), before);
    let (status, _, body) = h
        .call(with(
            Method::POST,
            "localhost:8080",
            Some("http://localhost:8080"),
            Some(edit),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn with_a_key_any_host_name_may_be_used() {
    let auth = AuthConfig {
        api_key: Some(Secret::new("web-secret-key-123").into()),
        jwt_secret: None,
    };
    let h = harness_with(auth, ApiOptions::default()).await;
    let req = Request::get("/api/credits")
        .header(header::HOST, "balance.example.com")
        .header("x-api-key", "web-secret-key-123")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(req).await.0, StatusCode::OK);
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    let options = ApiOptions {
        rate_limit_per_minute: 0,
        cors_origins: vec!["http://dash.example".into()],
        ..Default::default()
    };
    let h = harness_with(AuthConfig::default(), options).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/credits")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .body(Body::empty())
            .expect("req")
    };
    let (_, headers, _) = h.call(preflight("http://dash.example")).await;
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://dash.example"
    );
    let (_, headers, _) = h.call(preflight("http://evil.example")).await;
    assert!(!headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[tokio::test]
async fn clients_over_the_rate_limit_get_429() {
    let h = harness_with(
        AuthConfig::default(),
        ApiOptions {
            rate_limit_per_minute: 3,
            ..Default::default()
        },
    )
    .await;
    let from = |ip: [u8; 4]| {
        let mut req = Request::get("/api/subscriptions")
            .body(Body::empty())
            .expect("req");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 5555))));
        req
    };
    for _ in 0..3 {
        assert_eq!(h.call(from([10, 0, 0, 1])).await.0, StatusCode::OK);
    }
    let (status, headers, body) = h.call(from([10, 0, 0, 1])).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key(header::RETRY_AFTER));
    assert_eq!(body["status"], "error");
    assert_eq!(
        h.call(from([10, 0, 0, 2])).await.0,
        StatusCode::OK,
        "limits are per client"
    );
    // Behind a proxy (no socket peer) the proxy-appended last X-Forwarded-For entry counts:
    // a client cannot dodge its quota by inventing earlier entries.
    for spoof in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"] {
        let req = Request::get("/api/subscriptions")
            .header("x-forwarded-for", format!("{spoof}, 10.9.9.9"))
            .body(Body::empty())
            .expect("req");
        let status = h.call(req).await.0;
        if spoof == "4.4.4.4" {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        } else {
            assert_eq!(status, StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn the_metrics_port_answers_only_to_its_own_host_names() {
    let h = harness().await;
    let metrics = metrics_app(h.state.metrics_source(), vec!["10.1.2.3".into()]);
    let get = |host: &str| {
        Request::get("/metrics")
            .header(header::HOST, host)
            .body(Body::empty())
            .expect("req")
    };
    for (host, expected) in [
        ("attacker.example:9100", StatusCode::MISDIRECTED_REQUEST),
        ("localhost:9100", StatusCode::OK),
        ("127.0.0.1:9100", StatusCode::OK),
        ("10.1.2.3:9100", StatusCode::OK),
    ] {
        let response = metrics.clone().oneshot(get(host)).await.expect("response");
        assert_eq!(response.status(), expected, "{host}");
    }
}

#[tokio::test]
async fn failed_authentications_have_their_own_quota_and_never_spend_the_clients() {
    let h = harness_with(
        AuthConfig {
            api_key: Some(Secret::new("web-secret-key-123").into()),
            jwt_secret: None,
        },
        ApiOptions {
            rate_limit_per_minute: 3,
            auth_failures_per_minute: 2,
            ..Default::default()
        },
    )
    .await;
    // Behind one proxy: everyone shares the address.
    let from_proxy = |key: Option<&str>, scheme: &str| {
        let mut b = Request::get("/api/subscriptions");
        if let Some(k) = key {
            b = b.header(header::AUTHORIZATION, format!("{scheme} {k}"));
        }
        let mut req = b.body(Body::empty()).expect("req");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))));
        req
    };
    // An anonymous client guesses: its failures are 401, then 429 (their own quota)...
    let mut guesses = Vec::new();
    for guess in ["a", "b", "c", "d", "e"] {
        guesses.push(h.call(from_proxy(Some(guess), "Bearer")).await.0);
    }
    assert_eq!(guesses[..2], [StatusCode::UNAUTHORIZED; 2]);
    assert_eq!(guesses[2..], [StatusCode::TOO_MANY_REQUESTS; 3]);
    assert_eq!(
        h.call(from_proxy(None, "Bearer")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...while the clients holding the key keep their whole quota, whatever the scheme's case.
    for scheme in ["Bearer", "BEARER", "bearer"] {
        let (status, _, body) = h.call(from_proxy(Some("web-secret-key-123"), scheme)).await;
        assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
    }
    assert_eq!(
        h.call(from_proxy(Some("web-secret-key-123"), "Bearer"))
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS,
        "the authenticated quota still holds"
    );
}

#[test]
fn cors_for_every_origin_needs_an_api_key() {
    let any = ApiOptions {
        cors_origins: vec!["*".into()],
        ..Default::default()
    };
    let Err(err) = any.check_with(&AuthConfig::default()) else {
        panic!("CORS_ORIGINS=* without a key must be refused");
    };
    assert!(
        err.starts_with("CORS_ORIGINS=*") && err.contains("WEB_API_KEY"),
        "{err}"
    );
    let keyed = AuthConfig {
        api_key: Some(Secret::new("k").into()),
        jwt_secret: None,
    };
    assert!(any.check_with(&keyed).is_ok());
    let listed = ApiOptions {
        cors_origins: vec!["http://dash.example".into()],
        ..Default::default()
    };
    assert!(listed.check_with(&AuthConfig::default()).is_ok());
}

#[tokio::test]
async fn echoed_secrets_and_url_passwords_never_reach_api_responses() {
    let (addr, _echo) = crate::util::echo_provider().await;
    let doc = json!({
        "settings": {"retry_base_delay_ms": 5, "max_retries": 0, "failure_alert_threshold": 1},
        "projects": [crate::util::echoing_project(&addr)],
    });
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.json");
    std::fs::write(&path, doc.to_string()).expect("write");
    let state = open_state_for(&path, crate::util::env_map(&crate::util::ECHOED_SECRETS)).await;
    let options = RunOptions {
        cache: CacheMode::Bypass,
        write: WriteMode::Persist,
        housekeeping: Housekeeping::Never,
    };
    let refresher = state.refresher.clone().expect("checks");
    refresher.run(&Selection::All, options).await.expect("run");
    let router = app(state);
    let get = |uri: &'static str| call_router(&router, request(Method::GET, uri, None));
    let (_, _, credits) = get("/api/credits").await;
    let error = credits["projects"][0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("HTTP 500") && error.contains("***"),
        "{credits}"
    );
    crate::util::assert_no_echoed_secret("/api/credits", &credits.to_string());
    let (_, _, history) = get("/api/history/alerts").await;
    assert!(history.to_string().contains("HTTP 500"), "{history}");
    crate::util::assert_no_echoed_secret("/api/history/alerts", &history.to_string());
    let (_, _, projects) = get("/api/config/projects").await;
    assert_eq!(
        projects["projects"][0]["base_url"],
        format!("http://***@{addr}"),
        "{projects}"
    );
    crate::util::assert_no_echoed_secret("/api/config/projects", &projects.to_string());
}
