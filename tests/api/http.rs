//! Cross-cutting HTTP behaviour: ETags, gzip, one error shape.

use super::*;

#[tokio::test]
async fn get_responses_carry_an_etag_and_answer_304() {
    let h = harness().await;
    h.check_all().await;
    let (status, headers, _) = h.get("/api/credits").await;
    assert_eq!(status, StatusCode::OK);
    let etag = headers[header::ETAG].to_str().expect("ascii").to_owned();
    let conditional = Request::get("/api/credits")
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .expect("req");
    let (status, headers, body) = h.call(conditional).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(headers[header::ETAG], etag.as_str());
    assert_eq!(body, Value::Null);
    let stale = Request::get("/api/credits")
        .header(header::IF_NONE_MATCH, "\"other\"")
        .body(Body::empty())
        .expect("req");
    assert_eq!(h.call(stale).await.0, StatusCode::OK);
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let h = harness().await;
    let req = Request::get("/api/openapi.json")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .expect("req");
    let response = h.app.clone().oneshot(req).await.expect("response");
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn errors_share_one_shape() {
    let h = harness().await;
    let (status, _, body) = h.get("/api/nope").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::NOT_FOUND, Some("error"))
    );
    let wrong_type = Request::post("/api/config/threshold")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("x"))
        .expect("req");
    let (status, _, body) = h.call(wrong_type).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"]
        .as_str()
        .unwrap_or_default()
        .contains("Content-Type: application/json"));
    let huge = json!({"project_name": "x".repeat(100_000), "new_threshold": 1});
    assert_eq!(
        h.post("/api/config/threshold", huge).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let (status, _, body) = h.call(request(Method::GET, "/api/refresh", None)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["status"], "error");
    let (status, _, body) = h.get("/api/history/trend/%FF").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["status"], "error");
}
