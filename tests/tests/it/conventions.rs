//! Cross-cutting HTTP conventions: problem+json refusals for bad bodies, routes and
//! methods; request ids; health, readiness, metrics and problem pages; idempotent
//! creation; ETag preconditions; graceful shutdown; and a database outage.

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use unionhall_tests::{ADMIN_PASSWORD, ADMIN_USERNAME, Reply, TestApp, USER_PASSWORD, id};

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// How many organisations `token` can see (one page is enough for these tests).
async fn org_count(app: &TestApp, token: &str) -> usize {
    let reply = app.get("/v1/orgs?limit=200", token).await;
    assert_eq!(reply.status, StatusCode::OK, "list orgs: {}", reply.text);
    reply.json["items"].as_array().expect("items").len()
}

/// A valid new organisation directly under the root.
fn org_body(app: &TestApp, code: &str) -> Value {
    json!({
        "name": format!("{code} 工会"),
        "code": code,
        "kind": "city_federation",
        "parent_id": app.root_org_id,
        "region_code": "360800",
    })
}

/// POST /v1/orgs with a raw body, a content type and an optional Idempotency-Key.
async fn post_orgs_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    key: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Reply {
    let mut rb = app
        .request(Method::POST, "/v1/orgs", Some(token))
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        rb = rb.header("Idempotency-Key", key);
    }
    Reply::from(rb.send().await.unwrap()).await
}

/// POST /v1/orgs with a JSON text body and an Idempotency-Key.
async fn post_keyed(app: &TestApp, token: &str, key: &str, body: &str) -> Reply {
    post_orgs_raw(app, token, "application/json", Some(key), body.to_owned()).await
}

/// A request without a token.
async fn anonymous(app: &TestApp, method: Method, path: &str) -> Reply {
    Reply::from(app.request(method, path, None).send().await.unwrap()).await
}

/// A request without a token, sending `X-Request-Id: request_id`.
async fn with_request_id(app: &TestApp, path: &str, request_id: &str) -> Reply {
    Reply::from(
        app.request(Method::GET, path, None)
            .header("X-Request-Id", request_id)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The request id of a response, checked to be one the service generated (a UUID).
fn generated_request_id(reply: &Reply) -> String {
    let rid = reply
        .header("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id on {} {}", reply.status, reply.text));
    assert!(
        uuid::Uuid::parse_str(rid).is_ok(),
        "generated request id `{rid}` is a UUID"
    );
    rid.to_owned()
}

// ---------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_json_is_400_malformed_request() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let reply = post_orgs_raw(
        &app,
        &admin,
        "application/json",
        None,
        r#"{"name": "broken", "code": "#,
    )
    .await;
    reply.assert_problem(400, "malformed-request");
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");
}

#[tokio::test]
async fn wrong_field_type_is_422_with_pointer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = org_body(&app, "typed");
    body["parent_id"] = json!(5);
    let reply = app.post("/v1/orgs", &admin, &body).await;
    reply.assert_problem(422, "validation");
    assert_eq!(
        reply.pointers(),
        vec!["/parent_id".to_owned()],
        "{}",
        reply.text
    );
    assert_eq!(reply.json["errors"][0]["code"], "type", "{}", reply.text);
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");
}

#[tokio::test]
async fn a_repeated_query_parameter_is_422_at_that_parameter() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let reply = app.get("/v1/orgs?limit=5&limit=6", &token).await;
    reply.assert_problem(422, "validation");
    assert_eq!(reply.pointers(), vec!["/limit".to_owned()]);
    assert_eq!(reply.json["errors"][0]["code"], "duplicate");
}

#[tokio::test]
async fn unknown_field_is_422_unknown_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = org_body(&app, "extra");
    body["colour"] = json!("red");
    let reply = app.post("/v1/orgs", &admin, &body).await;
    reply.assert_problem(422, "validation");
    let errors = reply.json["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{}", reply.text);
    assert_eq!(errors[0]["code"], "unknown_field", "{}", reply.text);
    assert!(
        errors[0]["detail"].as_str().unwrap().contains("colour"),
        "the detail names the field: {}",
        reply.text
    );
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");
}

/// A JSON org body of about 4 KB (the name alone is 4000 characters).
fn oversized_body(app: &TestApp) -> Vec<u8> {
    let mut body = org_body(app, "big");
    body["name"] = json!("x".repeat(4000));
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(bytes.len() > 4000);
    bytes
}

#[tokio::test]
async fn body_over_limit_with_content_length_is_413() {
    let app = TestApp::spawn_with(|c| c.body_limit_bytes = 2048).await;
    let admin = app.admin_token().await;
    let reply = post_orgs_raw(&app, &admin, "application/json", None, oversized_body(&app)).await;
    reply.assert_problem(413, "payload-too-large");
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");
}

#[tokio::test]
async fn body_over_limit_streamed_chunked_is_413() {
    let app = TestApp::spawn_with(|c| c.body_limit_bytes = 2048).await;
    let admin = app.admin_token().await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = oversized_body(&app)
        .chunks(512)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let reply = post_orgs_raw(&app, &admin, "application/json", None, body).await;
    reply.assert_problem(413, "payload-too-large");
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");
}

#[tokio::test]
async fn text_plain_body_is_415() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = serde_json::to_string(&org_body(&app, "plain")).unwrap();
    let reply = post_orgs_raw(&app, &admin, "text/plain", None, body).await;
    reply.assert_problem(415, "unsupported-media-type");
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");
}

// ---------------------------------------------------------------------------------
// Routes and methods
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_route_is_404_problem() {
    let app = TestApp::spawn().await;
    anonymous(&app, Method::GET, "/v1/nothing")
        .await
        .assert_problem(404, "not-found");
    let admin = app.admin_token().await;
    app.get("/v1/nothing", &admin)
        .await
        .assert_problem(404, "not-found");
}

/// Routes are grouped by area under one prefix each: a path inside an area that none of
/// its routes takes is the same 404, a wrong method on one of them the same 405, and an
/// area's prefix takes no path that merely starts with it (`/v1/me` vs `/v1/members`).
#[tokio::test]
async fn routes_inside_an_area_answer_like_any_other() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = uuid::Uuid::now_v7();
    for path in [
        format!("/v1/competitions/{id}/nothing"),
        format!("/v1/attempts/{id}/submission/more"),
        "/v1/me/nothing".to_owned(),
        "/v1/orgs/".to_owned(),
        "/v1/meetings".to_owned(),
    ] {
        app.get(&path, &admin)
            .await
            .assert_problem(404, "not-found");
    }
    let reply = Reply::from(
        app.request(
            Method::DELETE,
            &format!("/v1/attempts/{id}/submission"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    reply.assert_problem(405, "method-not-allowed");
    assert_eq!(reply.header("allow"), Some("POST"));
    for path in ["/v1/members?limit=1", "/v1/me"] {
        let ok = app.get(path, &admin).await;
        assert_eq!(ok.status, StatusCode::OK, "{path}: {}", ok.text);
    }
}

#[tokio::test]
async fn unsupported_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let reply = Reply::from(
        app.request(Method::DELETE, "/v1/orgs", Some(&admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_problem(405, "method-not-allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, POST"));
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was deleted");
}

#[tokio::test]
async fn trace_is_405_problem() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let reply = Reply::from(
        app.request(Method::TRACE, "/v1/me", Some(&admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_problem(405, "method-not-allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    assert!(
        !reply.text.contains(&admin),
        "TRACE does not echo the request (and its token) back"
    );
}

#[tokio::test]
async fn malformed_path_id_is_404_problem() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.get("/v1/orgs/not-a-uuid", &admin)
        .await
        .assert_problem(404, "not-found");
    let reply = app
        .patch("/v1/orgs/not-a-uuid", &admin, None, &json!({"name": "x"}))
        .await;
    reply.assert_problem(404, "not-found");
    assert_eq!(org_count(&app, &admin).await, 1);
}

// ---------------------------------------------------------------------------------
// Request ids
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn request_id_is_generated_on_every_response() {
    let app = TestApp::spawn().await;
    let ok = anonymous(&app, Method::GET, "/healthz").await;
    assert_eq!(ok.status, StatusCode::OK);
    let first = generated_request_id(&ok);

    // On errors too, and the problem quotes it (assert_problem checks equality).
    let not_found = anonymous(&app, Method::GET, "/v1/nothing").await;
    not_found.assert_problem(404, "not-found");
    let second = generated_request_id(&not_found);
    assert_eq!(not_found.json["request_id"], second);

    let unauthenticated = anonymous(&app, Method::GET, "/v1/orgs").await;
    unauthenticated.assert_problem(401, "unauthenticated");
    let third = generated_request_id(&unauthenticated);

    let not_allowed = anonymous(&app, Method::DELETE, "/v1/orgs").await;
    not_allowed.assert_problem(405, "method-not-allowed");
    let fourth = generated_request_id(&not_allowed);

    let mut all = vec![first, second, third, fourth];
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4, "each response has its own id");
}

#[tokio::test]
async fn valid_incoming_request_id_is_echoed() {
    let app = TestApp::spawn().await;
    let ok = with_request_id(&app, "/healthz", "abc-123").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.header("x-request-id"), Some("abc-123"));

    let problem = with_request_id(&app, "/v1/nothing", "abc-123").await;
    problem.assert_problem(404, "not-found");
    assert_eq!(problem.header("x-request-id"), Some("abc-123"));
    assert_eq!(problem.json["request_id"], "abc-123");

    let longest = format!("{}._", "A1-".repeat(42));
    assert_eq!(longest.len(), 128);
    let ok = with_request_id(&app, "/healthz", &longest).await;
    assert_eq!(ok.header("x-request-id"), Some(longest.as_str()));
}

#[tokio::test]
async fn invalid_incoming_request_id_is_replaced() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(300);
    let just_too_long = "b".repeat(129);
    for bad in [
        too_long.as_str(),
        just_too_long.as_str(),
        "abc 123",
        "abc/123",
        "<script>",
    ] {
        let ok = with_request_id(&app, "/healthz", bad).await;
        assert_eq!(ok.status, StatusCode::OK);
        let rid = generated_request_id(&ok);
        assert_ne!(rid, bad);

        let problem = with_request_id(&app, "/v1/nothing", bad).await;
        problem.assert_problem(404, "not-found");
        let rid = generated_request_id(&problem);
        assert_ne!(rid, bad);
    }
}

// ---------------------------------------------------------------------------------
// Operations endpoints
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn healthz_is_ok_without_token() {
    let app = TestApp::spawn().await;
    let reply = anonymous(&app, Method::GET, "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json, json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_is_ok_when_database_answers() {
    let app = TestApp::spawn().await;
    let reply = anonymous(&app, Method::GET, "/readyz").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.json["status"].is_string(), "{}", reply.text);
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    assert_eq!(org_count(&app, &admin).await, 1);
    let root = app
        .get(&format!("/v1/orgs/{}", app.root_org_id), &admin)
        .await;
    assert_eq!(root.status, StatusCode::OK);

    let reply = anonymous(&app, Method::GET, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    let content_type = reply.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "content type {content_type}"
    );
    assert!(reply.text.contains("unionhall_http_requests_total"));
    assert!(
        reply.text.contains(
            r#"unionhall_http_requests_total{method="GET",route="/v1/orgs",status="200"}"#
        ),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains(r#"route="/v1/orgs/{id}""#),
        "path ids are folded into the pattern: {}",
        reply.text
    );
    assert!(
        !reply.text.contains(&app.root_org_id),
        "no raw ids in labels: {}",
        reply.text
    );
}

#[tokio::test]
async fn problem_pages_describe_known_slugs_and_404_unknown() {
    let app = TestApp::spawn().await;
    let reply = anonymous(&app, Method::GET, "/problems/validation").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["type"], "/problems/validation");
    assert_eq!(reply.json["status"], 422);
    assert!(
        !reply.json["description"].as_str().unwrap_or("").is_empty(),
        "{}",
        reply.text
    );

    anonymous(&app, Method::GET, "/problems/nope")
        .await
        .assert_problem(404, "not-found");
}

// ---------------------------------------------------------------------------------
// Idempotency-Key
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn idempotency_same_key_same_body_replays() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = serde_json::to_string(&org_body(&app, "idem")).unwrap();

    let first = post_keyed(&app, &admin, "key-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = post_keyed(&app, &admin, "key-1", &body).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));

    assert_eq!(first.text, second.text, "identical bodies");
    let location = first.header("location").expect("Location");
    assert_eq!(location, format!("/v1/orgs/{}", id(&first.json)));
    assert_eq!(second.header("location"), Some(location));
    assert_eq!(org_count(&app, &admin).await, 2, "one org was created");
}

#[tokio::test]
async fn idempotency_body_comparison_ignores_formatting_and_key_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let root = &app.root_org_id;
    let compact = format!(
        r#"{{"name":"fmt 工会","code":"fmt","kind":"city_federation","parent_id":"{root}","region_code":"360800"}}"#
    );
    let reordered = format!(
        "{{\n  \"region_code\" : \"360800\",\n\t\"parent_id\": \"{root}\",\n  \"kind\":   \"city_federation\",\n  \"code\": \"fmt\",\n  \"name\": \"fmt 工会\"\n}}\n"
    );
    let first = post_keyed(&app, &admin, "fmt-key", &compact).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = post_keyed(&app, &admin, "fmt-key", &reordered).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.text, second.text);
    assert_eq!(org_count(&app, &admin).await, 2);
}

#[tokio::test]
async fn idempotency_same_key_different_body_is_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let one = serde_json::to_string(&org_body(&app, "one")).unwrap();
    let two = serde_json::to_string(&org_body(&app, "two")).unwrap();

    let first = post_keyed(&app, &admin, "reused", &one).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = post_keyed(&app, &admin, "reused", &two).await;
    second.assert_problem(422, "validation");
    assert_eq!(second.pointers(), vec!["/Idempotency-Key".to_owned()]);
    assert_eq!(second.json["errors"][0]["code"], "idempotency_key_reused");
    assert_eq!(second.header("idempotent-replayed"), None);

    let orgs = app.get("/v1/orgs?limit=200", &admin).await;
    let codes: Vec<&str> = orgs.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert!(!codes.contains(&"two"), "the second body was not written");

    // And the key still replays its original response.
    let again = post_keyed(&app, &admin, "reused", &one).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.text, first.text);
}

#[tokio::test]
async fn idempotency_keys_are_per_caller() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "admin-two", &app.root_org_id, "federation_admin")
        .await;
    let other = app.login("admin-two", USER_PASSWORD).await.0;

    let mine = serde_json::to_string(&org_body(&app, "mine")).unwrap();
    let theirs = serde_json::to_string(&org_body(&app, "theirs")).unwrap();
    let first = post_keyed(&app, &admin, "k1", &mine).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let second = post_keyed(&app, &other, "k1", &theirs).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_ne!(id(&first.json), id(&second.json));
    assert_eq!(second.json["code"], "theirs");
    assert_eq!(org_count(&app, &admin).await, 3, "root and two new orgs");
}

#[tokio::test]
async fn an_expired_idempotency_key_is_claimed_afresh() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
    use unionhall_persistence::entities::idempotency_keys;

    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let first = post_keyed(&app, &admin, "daily", &org_body(&app, "monday").to_string()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);

    // A day and an hour later (records are kept 24 hours).
    let db = Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap();
    let aged = idempotency_keys::Entity::update_many()
        .col_expr(
            idempotency_keys::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(25)),
        )
        .filter(idempotency_keys::Column::Key.eq("daily"))
        .exec(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(aged.rows_affected, 1);

    // The same key with another body is new work, not a misuse of a live key...
    let body = org_body(&app, "tuesday").to_string();
    let second = post_keyed(&app, &admin, "daily", &body).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_eq!(second.json["code"], "tuesday");
    // ...and the key now holds it.
    let again = post_keyed(&app, &admin, "daily", &body).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(id(&again.json), id(&second.json));
    let misuse = post_keyed(&app, &admin, "daily", &org_body(&app, "monday").to_string()).await;
    misuse.assert_problem(422, "validation");
    assert_eq!(misuse.json["errors"][0]["code"], "idempotency_key_reused");
    assert_eq!(org_count(&app, &admin).await, 3, "root, monday and tuesday");
}

#[tokio::test]
async fn idempotency_failed_request_does_not_store_key() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;

    // Refused before the work starts (body validation).
    let mut invalid = org_body(&app, "Not A Code!");
    invalid["code"] = json!("Not A Code!");
    let reply = post_keyed(&app, &admin, "retry-me", &invalid.to_string()).await;
    reply.assert_problem(422, "validation");
    assert_eq!(reply.pointers(), vec!["/code".to_owned()]);

    // Refused inside the work, after the key was claimed in the transaction.
    let mut orphan = org_body(&app, "orphan");
    orphan["parent_id"] = json!(uuid::Uuid::now_v7().to_string());
    let reply = post_keyed(&app, &admin, "retry-me", &orphan.to_string()).await;
    reply.assert_problem(422, "validation");
    assert_eq!(reply.pointers(), vec!["/parent_id".to_owned()]);
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");

    let valid = org_body(&app, "retried");
    let reply = post_keyed(&app, &admin, "retry-me", &valid.to_string()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.header("idempotent-replayed"), None);
    assert_eq!(reply.json["code"], "retried");
    assert_eq!(org_count(&app, &admin).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_concurrent_duplicates_create_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = serde_json::to_string(&org_body(&app, "racer")).unwrap();

    let replies = futures_util::future::join_all(
        (0..10).map(|_| post_keyed(&app, &admin, "race-key", &body)),
    )
    .await;
    let mut ids = Vec::new();
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        ids.push(id(&reply.json).to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1, "all answers name the same org: {ids:?}");
    let fresh = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_none())
        .count();
    assert_eq!(fresh, 1, "exactly one request did the work");
    assert_eq!(org_count(&app, &admin).await, 2, "exactly one org created");
}

#[tokio::test]
async fn idempotency_key_over_255_chars_is_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = serde_json::to_string(&org_body(&app, "longkey")).unwrap();
    let reply = post_keyed(&app, &admin, &"k".repeat(256), &body).await;
    reply.assert_problem(422, "validation");
    assert_eq!(reply.pointers(), vec!["/Idempotency-Key".to_owned()]);
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");

    // 255 is still fine.
    let reply = post_keyed(&app, &admin, &"k".repeat(255), &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

// ---------------------------------------------------------------------------------
// ETag / If-Match
// ---------------------------------------------------------------------------------

/// Creates an org and returns (path, its current ETag).
async fn org_with_etag(app: &TestApp, token: &str, code: &str) -> (String, String) {
    let org = app
        .create_org(token, &app.root_org_id, "city_federation", code, "360800")
        .await;
    let path = format!("/v1/orgs/{}", id(&org));
    let reply = app.get(&path, token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let etag = reply.header("etag").expect("GET has an ETag").to_owned();
    (path, etag)
}

#[tokio::test]
async fn if_match_current_etag_updates_and_returns_new_etag() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (path, etag) = org_with_etag(&app, &admin, "tagged").await;
    let reply = app
        .patch(&path, &admin, Some(&etag), &json!({"name": "renamed"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["name"], "renamed");
    let new_tag = reply.header("etag").expect("PATCH returns an ETag");
    assert_ne!(new_tag, etag);
    let now = app.get(&path, &admin).await;
    assert_eq!(now.header("etag"), Some(new_tag));
    assert_eq!(now.json["name"], "renamed");
}

#[tokio::test]
async fn if_match_stale_etag_is_412_and_unchanged() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (path, stale) = org_with_etag(&app, &admin, "stale").await;
    let reply = app
        .patch(&path, &admin, Some(&stale), &json!({"name": "first"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let current = reply.header("etag").unwrap().to_owned();

    let reply = app
        .patch(&path, &admin, Some(&stale), &json!({"name": "second"}))
        .await;
    reply.assert_problem(412, "precondition-failed");
    let now = app.get(&path, &admin).await;
    assert_eq!(now.json["name"], "first", "unchanged");
    assert_eq!(now.header("etag"), Some(current.as_str()));
}

#[tokio::test]
async fn if_match_star_updates() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (path, etag) = org_with_etag(&app, &admin, "starred").await;
    let reply = app
        .patch(&path, &admin, Some("*"), &json!({"name": "any version"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["name"], "any version");
    assert_ne!(reply.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn if_match_garbage_is_412_and_unchanged() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (path, etag) = org_with_etag(&app, &admin, "garbage").await;
    for garbage in ["nonsense", "\"v\"", "\"vx\"", "v1", "\"abc\""] {
        let reply = app
            .patch(&path, &admin, Some(garbage), &json!({"name": "changed"}))
            .await;
        reply.assert_problem(412, "precondition-failed");
    }
    let now = app.get(&path, &admin).await;
    assert_eq!(now.json["name"], "garbage 工会", "unchanged");
    assert_eq!(now.header("etag"), Some(etag.as_str()));
}

// ---------------------------------------------------------------------------------
// Graceful shutdown
// ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_request() {
    let app = TestApp::spawn().await;
    let body = json!({
        "grant_type": "password",
        "username": ADMIN_USERNAME,
        "password": ADMIN_PASSWORD,
    })
    .to_string()
    .into_bytes();
    let (head, tail) = body.split_at(body.len() / 2);
    let (head, tail) = (head.to_vec(), tail.to_vec());
    // Tells the test when the body has started to flow: the request is on the wire.
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started_tx = Arc::new(Mutex::new(Some(started_tx)));
    let stream =
        futures_util::stream::iter([(head, false), (tail, true)]).then(move |(part, slow)| {
            let started_tx = Arc::clone(&started_tx);
            async move {
                if slow {
                    tokio::time::sleep(Duration::from_millis(1000)).await;
                } else if let Some(tx) = started_tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                Ok::<_, std::io::Error>(part)
            }
        });
    let request = app
        .request(Method::POST, "/v1/auth/token", None)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream));
    let in_flight = tokio::spawn(async move {
        let res = request
            .send()
            .await
            .expect("the in-flight request is answered");
        Reply::from(res).await
    });

    tokio::time::timeout(Duration::from_secs(10), started_rx)
        .await
        .expect("the request starts")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let handle = app.handle.clone();
    let stopping = tokio::spawn(async move { handle.stop(true).await });

    // While the request is still streaming its body, new connections are refused.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(!in_flight.is_finished(), "the request is still in flight");
        let attempt = tokio::time::timeout(
            Duration::from_secs(1),
            tokio::net::TcpStream::connect(&addr),
        )
        .await;
        if matches!(attempt, Ok(Err(_))) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "new connections still accepted while stopping: {attempt:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let reply = tokio::time::timeout(Duration::from_secs(20), in_flight)
        .await
        .expect("the in-flight request finishes")
        .unwrap();
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{:?} {}",
        reply.headers,
        reply.text
    );
    assert!(reply.json["access_token"].is_string(), "{}", reply.text);

    tokio::time::timeout(Duration::from_secs(20), stopping)
        .await
        .expect("the server stops")
        .unwrap();

    let fresh = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = fresh
        .get(app.url("/healthz"))
        .send()
        .await
        .expect_err("a stopped server accepts no new connections");
    assert!(err.is_connect(), "connection refused, got {err:?}");
}

// ---------------------------------------------------------------------------------
// Database outage (PostgreSQL only)
// ---------------------------------------------------------------------------------

/// A TCP proxy to the database that the test can cut and restore.
struct Proxy {
    port: u16,
    state: Arc<Mutex<ProxyState>>,
    accept: tokio::task::JoinHandle<()>,
}

struct ProxyState {
    up: bool,
    connections: Vec<tokio::task::AbortHandle>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(ProxyState {
            up: true,
            connections: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let mut st = shared.lock().unwrap();
                if !st.up {
                    // Cut: the connection is closed at once.
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                st.connections.retain(|h| !h.is_finished());
                st.connections.push(task.abort_handle());
            }
        });
        Proxy {
            port,
            state,
            accept,
        }
    }

    /// Closes every open connection and refuses new ones.
    fn cut(&self) {
        let mut st = self.state.lock().unwrap();
        st.up = false;
        for conn in st.connections.drain(..) {
            conn.abort();
        }
    }

    /// Forwards new connections again.
    fn restore(&self) {
        self.state.lock().unwrap().up = true;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// The parts of a `postgres://user:pass@host:port/db?params` URL this test needs.
struct PgUrl {
    scheme: String,
    userinfo: Option<String>,
    host_port: String,
    query: Option<String>,
}

impl PgUrl {
    fn parse(url: &str) -> PgUrl {
        let (scheme, rest) = url.split_once("://").expect("postgres URL has a scheme");
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_owned()), h),
            None => (None, authority),
        };
        let host_port = if host_port.is_empty() {
            "127.0.0.1:5432".to_owned()
        } else if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:5432")
        };
        PgUrl {
            scheme: scheme.to_owned(),
            userinfo,
            host_port,
            query: path.split_once('?').map(|(_, q)| q.to_owned()),
        }
    }

    fn with(&self, host_port: &str, database: &str) -> String {
        let user = self
            .userinfo
            .as_deref()
            .map_or_else(String::new, |u| format!("{u}@"));
        let query = self
            .query
            .as_deref()
            .map_or_else(String::new, |q| format!("?{q}"));
        format!("{}://{user}{host_port}/{database}{query}", self.scheme)
    }
}

/// A database of this test's own, dropped at the end (even on failure).
struct OwnDatabase {
    admin_url: String,
    name: String,
}

impl OwnDatabase {
    async fn create(admin_url: &str) -> OwnDatabase {
        use sea_orm::ConnectionTrait;
        let name = format!("uh_test_outage_{}", uuid::Uuid::now_v7().simple());
        let db = sea_orm::Database::connect(admin_url).await.unwrap();
        db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        db.close().await.ok();
        OwnDatabase {
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sea_orm::ConnectionTrait;
                if let Ok(db) = sea_orm::Database::connect(&admin_url).await {
                    let _ = db
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

/// GET `path` (optionally with a token), timing it.
async fn timed_get(app: &TestApp, path: &str, token: Option<&str>) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = Reply::from(
        app.request(Method::GET, path, token)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap(),
    )
    .await;
    (reply, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_is_503_and_recovers() {
    let Some(admin_url) = unionhall_tests::postgres_url() else {
        println!(
            "database_outage_is_503_and_recovers runs on the PostgreSQL pass \
             (set UNIONHALL_TEST_POSTGRES_URL); SQLite has no connection to cut"
        );
        return;
    };
    let pg = PgUrl::parse(&admin_url);
    let database = OwnDatabase::create(&admin_url).await;
    let proxy = Proxy::start(pg.host_port.clone()).await;
    let through_proxy = pg.with(&format!("127.0.0.1:{}", proxy.port), &database.name);
    let app = TestApp::spawn_with(|c| {
        c.database_url = Some(through_proxy);
        c.db_acquire_timeout_secs = 1;
    })
    .await;
    let admin = app.admin_token().await;
    assert_eq!(org_count(&app, &admin).await, 1);
    let (ready, _) = timed_get(&app, "/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..2 {
        let (reply, took) = timed_get(&app, "/readyz", None).await;
        reply.assert_problem(503, "unavailable");
        assert!(took < Duration::from_secs(5), "/readyz took {took:?}");

        let (reply, took) = timed_get(&app, "/v1/orgs", Some(&admin)).await;
        reply.assert_problem(503, "unavailable");
        assert!(took < Duration::from_secs(5), "/v1/orgs took {took:?}");
    }
    let reply = app
        .token_request(&json!({
            "grant_type": "password",
            "username": ADMIN_USERNAME,
            "password": ADMIN_PASSWORD,
        }))
        .await;
    reply.assert_problem(503, "unavailable");
    let reply = app.post("/v1/orgs", &admin, &org_body(&app, "down")).await;
    reply.assert_problem(503, "unavailable");
    // The process itself is still alive.
    let (live, _) = timed_get(&app, "/healthz", None).await;
    assert_eq!(live.status, StatusCode::OK);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (reply, _) = timed_get(&app, "/readyz", None).await;
        if reply.status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz still {} after restoring: {}",
            reply.status,
            reply.text
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        org_count(&app, &admin).await,
        1,
        "serves again, and nothing was written during the outage"
    );
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;

    app.handle.stop(false).await;
    drop(app);
    drop(proxy);
    drop(database);
}

// ---------------------------------------------------------------------------------
// Request timeout
// ---------------------------------------------------------------------------------

/// POST /v1/orgs whose body does not finish within the 2 s request timeout.
async fn timed_out_create(app: &TestApp, token: &str) -> Reply {
    let stream = futures_util::stream::iter([false, true]).then(|slow| async move {
        if slow {
            tokio::time::sleep(Duration::from_millis(4000)).await;
        }
        Ok::<_, std::io::Error>(b" ".to_vec())
    });
    Reply::from(
        app.request(Method::POST, "/v1/orgs", Some(token))
            .header("content-type", "application/json")
            .header("X-Request-Id", "slow-1")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_timeout_is_503_problem_with_request_id() {
    let app = TestApp::spawn_with(|c| c.request_timeout_secs = 2).await;
    let admin = app.admin_token().await;
    let started = Instant::now();
    let reply = timed_out_create(&app, &admin).await;
    reply.assert_problem(503, "unavailable");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(3900),
        "answered at the timeout, not when the body ended: {took:?}"
    );
    assert_eq!(reply.header("x-request-id"), Some("slow-1"));
    assert_eq!(reply.json["instance"], "/v1/orgs");
    assert_eq!(org_count(&app, &admin).await, 1, "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_requests_are_counted_under_their_route() {
    let app = TestApp::spawn_with(|c| c.request_timeout_secs = 2).await;
    let admin = app.admin_token().await;
    timed_out_create(&app, &admin)
        .await
        .assert_problem(503, "unavailable");
    let metrics = anonymous(&app, Method::GET, "/metrics").await;
    assert!(
        metrics.text.contains(
            r#"unionhall_http_requests_total{method="POST",route="/v1/orgs",status="503"} 1"#
        ),
        "{}",
        metrics.text
    );
}

// ---------------------------------------------------------------------------------
// HTTP semantics the service does not follow yet
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn head_is_answered_like_get() {
    let app = TestApp::spawn().await;
    let reply = anonymous(&app, Method::HEAD, "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.headers);
    assert!(reply.text.is_empty());
}

#[tokio::test]
async fn if_match_list_containing_current_etag_updates() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (path, etag) = org_with_etag(&app, &admin, "listed").await;
    let reply = app
        .patch(
            &path,
            &admin,
            Some(&format!("\"v999\", {etag}")),
            &json!({"name": "listed again"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[tokio::test]
async fn if_match_weak_etag_is_412() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (path, etag) = org_with_etag(&app, &admin, "weakly").await;
    let reply = app
        .patch(
            &path,
            &admin,
            Some(&format!("W/{etag}")),
            &json!({"name": "weak"}),
        )
        .await;
    reply.assert_problem(412, "precondition-failed");
}
