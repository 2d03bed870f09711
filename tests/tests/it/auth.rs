//! Authentication: the token endpoint (password and refresh grants, JSON and form
//! bodies), refresh rotation and reuse detection, revocation, login throttling, and
//! every way a bearer token is refused on `GET /v1/me`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::join_all;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use sea_orm::{Database, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use unionhall_api::auth::jwt::key_id;
use unionhall_persistence::entities::refresh_tokens;
use unionhall_tests::{
    ADMIN_PASSWORD, ADMIN_USERNAME, JWT_SECRET, Reply, TestApp, USER_PASSWORD, id,
};

/// A secret the app used before a rotation (≥ 32 bytes, like every secret).
const OLD_SECRET: &str = "the-previous-secret-that-is-also-long-enough-0123";

// ---------------------------------------------------------------- helpers

/// Seconds since the epoch.
fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims exactly as the service issues them, for `sub`, valid right now.
fn claims(sub: &str, roles: Value) -> Value {
    let now = now();
    json!({
        "sub": sub,
        "roles": roles,
        "iss": "unionhall",
        "aud": "unionhall-api",
        "exp": now + 900,
        "nbf": now,
        "iat": now,
        "jti": uuid::Uuid::now_v7(),
    })
}

/// Signs `claims` with `secret` using `alg` and the given `kid` header.
fn sign(secret: &str, alg: Algorithm, kid: Option<String>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid;
    let key = EncodingKey::from_secret(secret.as_bytes()).expect("HMAC key");
    jsonwebtoken::encode(&header, claims, &key).expect("sign a token")
}

/// Signs `claims` the way the service does: HS256 with the test secret and its key id.
fn forge(claims: &Value) -> String {
    sign(
        JWT_SECRET,
        Algorithm::HS256,
        Some(key_id(JWT_SECRET)),
        claims,
    )
}

/// The decoded JSON of one part (0 = header, 1 = claims) of a compact JWT.
fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a three-part JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// GET /v1/me with a raw `Authorization` header value (or none).
async fn me_with_authorization(app: &TestApp, authorization: Option<&str>) -> Reply {
    let mut rb = app.request(Method::GET, "/v1/me", None);
    if let Some(value) = authorization {
        rb = rb.header("Authorization", value);
    }
    Reply::from(rb.send().await.unwrap()).await
}

/// Asserts `reply` is the 401 a refused bearer token gets.
fn assert_unauthenticated(reply: &Reply) {
    reply.assert_problem(401, "unauthenticated");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer"),
        "WWW-Authenticate of {}",
        reply.text
    );
}

/// Asserts `reply` is the token endpoint's 400 with the OAuth `error` code.
fn assert_oauth_error(reply: &Reply, code: &str) {
    reply.assert_problem(400, "invalid-grant");
    assert_eq!(reply.json["error"], code, "OAuth error of {}", reply.text);
}

/// The admin's user id, from /v1/me.
async fn admin_id(app: &TestApp) -> String {
    let token = app.admin_token().await;
    let me = app.get("/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    me.json["id"].as_str().unwrap().to_owned()
}

/// A password-grant request with a JSON body.
async fn password_login(app: &TestApp, username: &str, password: &str) -> Reply {
    app.token_request(
        &json!({"grant_type": "password", "username": username, "password": password}),
    )
    .await
}

/// A refresh-grant request with a JSON body.
async fn refresh(app: &TestApp, refresh_token: &str) -> Reply {
    app.token_request(&json!({"grant_type": "refresh_token", "refresh_token": refresh_token}))
        .await
}

/// POST /v1/auth/revoke with a JSON body.
async fn revoke(app: &TestApp, body: &Value) -> Reply {
    Reply::from(
        app.request(Method::POST, "/v1/auth/revoke", None)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// How many refresh tokens are stored. The token table can't be seen over HTTP, so
/// this is the one place these tests look at the database: to prove that a refused
/// request issued nothing, and that a race issued exactly one successor.
async fn stored_refresh_tokens(app: &TestApp) -> u64 {
    let db = Database::connect(app.config.database_url.clone().unwrap())
        .await
        .expect("connect to the test database");
    let n = refresh_tokens::Entity::find().count(&db).await.unwrap();
    db.close().await.ok();
    n
}

/// Asserts a successful token response and returns (access, refresh).
fn assert_tokens(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.json["token_type"], "Bearer");
    assert_eq!(reply.json["expires_in"], 900);
    let access = reply.json["access_token"].as_str().expect("access_token");
    let refresh = reply.json["refresh_token"].as_str().expect("refresh_token");
    assert!(!refresh.is_empty());
    (access.to_owned(), refresh.to_owned())
}

// ---------------------------------------------------------------- password grant

#[tokio::test]
async fn password_grant_with_json_body_issues_bearer_tokens_that_work() {
    let app = TestApp::spawn().await;
    let before = stored_refresh_tokens(&app).await;
    let reply = password_login(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (access, refresh) = assert_tokens(&reply);
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    assert_ne!(access, refresh);
    assert_eq!(stored_refresh_tokens(&app).await, before + 1);

    // The access token is what the docs say: HS256, named key, the service's claims.
    let header = jwt_part(&access, 0);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], key_id(JWT_SECRET));
    let claims = jwt_part(&access, 1);
    assert_eq!(claims["iss"], "unionhall");
    assert_eq!(claims["aud"], "unionhall-api");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );

    let me = app.get("/v1/me", &access).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["username"], ADMIN_USERNAME);
    assert_eq!(me.json["id"], claims["sub"]);
    assert_eq!(me.json["roles"][0]["role"], "federation_admin");
}

#[tokio::test]
async fn password_grant_with_form_body_issues_bearer_tokens_that_work() {
    let app = TestApp::spawn().await;
    let reply = Reply::from(
        app.request(Method::POST, "/v1/auth/token", None)
            .form(&[
                ("grant_type", "password"),
                ("username", ADMIN_USERNAME),
                ("password", ADMIN_PASSWORD),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (access, refresh) = assert_tokens(&reply);
    let me = app.get("/v1/me", &access).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["username"], ADMIN_USERNAME);

    // The refresh grant takes a form body too.
    let again = Reply::from(
        app.request(Method::POST, "/v1/auth/token", None)
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_tokens(&again);
}

#[tokio::test]
async fn wrong_password_is_invalid_grant_and_issues_nothing() {
    let app = TestApp::spawn().await;
    let before = stored_refresh_tokens(&app).await;
    let reply = password_login(&app, ADMIN_USERNAME, "not-the-admin-password").await;
    assert_oauth_error(&reply, "invalid_grant");
    assert!(reply.json.get("access_token").is_none());
    assert_eq!(stored_refresh_tokens(&app).await, before);
}

#[tokio::test]
async fn unknown_user_is_invalid_grant_indistinguishable_from_a_wrong_password() {
    let app = TestApp::spawn().await;
    let before = stored_refresh_tokens(&app).await;
    let unknown = password_login(&app, "nobody-here", ADMIN_PASSWORD).await;
    assert_oauth_error(&unknown, "invalid_grant");
    let wrong = password_login(&app, ADMIN_USERNAME, "not-the-admin-password").await;
    assert_eq!(
        unknown.json["detail"], wrong.json["detail"],
        "the answer must not reveal which usernames exist"
    );
    assert_eq!(stored_refresh_tokens(&app).await, before);
}

#[tokio::test]
async fn password_grant_without_username_is_invalid_request() {
    let app = TestApp::spawn().await;
    let before = stored_refresh_tokens(&app).await;
    let reply = app
        .token_request(&json!({"grant_type": "password", "password": ADMIN_PASSWORD}))
        .await;
    assert_oauth_error(&reply, "invalid_request");
    let reply = app
        .token_request(&json!({"grant_type": "password", "username": ADMIN_USERNAME}))
        .await;
    assert_oauth_error(&reply, "invalid_request");
    assert_eq!(stored_refresh_tokens(&app).await, before);
}

#[tokio::test]
async fn refresh_grant_without_refresh_token_is_invalid_request() {
    let app = TestApp::spawn().await;
    let reply = app
        .token_request(&json!({"grant_type": "refresh_token"}))
        .await;
    assert_oauth_error(&reply, "invalid_request");
}

#[tokio::test]
async fn unknown_grant_type_is_a_validation_problem() {
    let app = TestApp::spawn().await;
    let before = stored_refresh_tokens(&app).await;
    let reply = app
        .token_request(&json!({"grant_type": "authorization_code", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}))
        .await;
    reply.assert_problem(422, "validation");
    assert_eq!(reply.pointers(), vec!["/grant_type"]);
    assert_eq!(stored_refresh_tokens(&app).await, before);
}

#[tokio::test]
async fn unknown_field_in_token_request_is_a_validation_problem() {
    let app = TestApp::spawn().await;
    let before = stored_refresh_tokens(&app).await;
    let reply = app
        .token_request(&json!({
            "grant_type": "password",
            "username": ADMIN_USERNAME,
            "password": ADMIN_PASSWORD,
            "remember_me": true,
        }))
        .await;
    reply.assert_problem(422, "validation");
    assert_eq!(reply.pointers(), vec!["/remember_me"]);

    // The same in a form body.
    let form = Reply::from(
        app.request(Method::POST, "/v1/auth/token", None)
            .form(&[
                ("grant_type", "password"),
                ("username", ADMIN_USERNAME),
                ("password", ADMIN_PASSWORD),
                ("remember_me", "1"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    form.assert_problem(422, "validation");
    assert_eq!(form.pointers(), vec!["/remember_me"]);
    assert_eq!(stored_refresh_tokens(&app).await, before);
}

#[tokio::test]
async fn token_request_as_text_plain_is_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let before = stored_refresh_tokens(&app).await;
    let reply = Reply::from(
        app.request(Method::POST, "/v1/auth/token", None)
            .header("Content-Type", "text/plain")
            .body(
                json!({"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
                    .to_string(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_problem(415, "unsupported-media-type");
    assert_eq!(stored_refresh_tokens(&app).await, before);
}

#[tokio::test]
async fn token_request_with_broken_json_is_malformed() {
    let app = TestApp::spawn().await;
    let reply = Reply::from(
        app.request(Method::POST, "/v1/auth/token", None)
            .header("Content-Type", "application/json")
            .body(r#"{"grant_type": "password","#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_problem(400, "malformed-request");
}

// ---------------------------------------------------------------- bearer tokens on /v1/me

#[tokio::test]
async fn forged_token_shaped_like_the_service_s_own_is_accepted() {
    // The control for every refusal below: the forging helper makes tokens the service
    // accepts, so each refusal is down to the one thing the test changes.
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let token = forge(&claims(&sub, json!([])));
    let me = app.get("/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["id"], sub.as_str());
}

#[tokio::test]
async fn me_without_authorization_header_is_unauthenticated() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(&me_with_authorization(&app, None).await);
}

#[tokio::test]
async fn me_with_basic_credentials_is_unauthenticated() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(&me_with_authorization(&app, Some("Basic xyz")).await);
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{ADMIN_USERNAME}:{ADMIN_PASSWORD}"))
    );
    assert_unauthenticated(&me_with_authorization(&app, Some(&basic)).await);
}

#[tokio::test]
async fn me_with_empty_bearer_is_unauthenticated() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(&me_with_authorization(&app, Some("Bearer")).await);
    assert_unauthenticated(&me_with_authorization(&app, Some("Bearer    ")).await);
}

#[tokio::test]
async fn me_with_garbage_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(&app.get("/v1/me", "not-a-jwt").await);
    assert_unauthenticated(&app.get("/v1/me", "a.b.c").await);
}

#[tokio::test]
async fn me_with_expired_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let mut c = claims(&sub, json!([]));
    let t = now();
    c["iat"] = json!(t - 1200);
    c["nbf"] = json!(t - 1200);
    c["exp"] = json!(t - 120);
    assert_unauthenticated(&app.get("/v1/me", &forge(&c)).await);
}

#[tokio::test]
async fn me_with_not_yet_valid_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let mut c = claims(&sub, json!([]));
    let t = now();
    c["nbf"] = json!(t + 120);
    c["exp"] = json!(t + 1200);
    assert_unauthenticated(&app.get("/v1/me", &forge(&c)).await);
}

#[tokio::test]
async fn me_with_token_for_another_audience_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let mut c = claims(&sub, json!([]));
    c["aud"] = json!("some-other-api");
    assert_unauthenticated(&app.get("/v1/me", &forge(&c)).await);
}

#[tokio::test]
async fn me_with_token_from_another_issuer_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let mut c = claims(&sub, json!([]));
    c["iss"] = json!("someone-else");
    assert_unauthenticated(&app.get("/v1/me", &forge(&c)).await);
}

#[tokio::test]
async fn me_with_tampered_signature_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/v1/me", &token).await.status, StatusCode::OK);
    let signature_start = token.rfind('.').unwrap() + 1;
    // Flip a character in the middle of the signature (the last one carries spare bits).
    let at = signature_start + 5;
    let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);
    assert_ne!(tampered, token);
    assert_unauthenticated(&app.get("/v1/me", &tampered).await);
}

#[tokio::test]
async fn me_with_tampered_claims_is_unauthenticated() {
    // A real signature over different claims: escalating `sub` to another account.
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "clerk-wu", &app.root_org_id, "judge")
        .await;
    let (clerk, _) = app.login("clerk-wu", USER_PASSWORD).await;
    let mut c = jwt_part(&clerk, 1);
    c["sub"] = jwt_part(&admin, 1)["sub"].clone();
    let parts: Vec<&str> = clerk.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(c.to_string()),
        parts[2]
    );
    assert_unauthenticated(&app.get("/v1/me", &tampered).await);
}

#[tokio::test]
async fn me_with_alg_none_token_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let header = json!({"alg": "none", "typ": "JWT", "kid": key_id(JWT_SECRET)});
    let token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims(&sub, json!([])).to_string())
    );
    assert_unauthenticated(&app.get("/v1/me", &token).await);
}

#[tokio::test]
async fn me_with_token_signed_by_another_hmac_algorithm_is_unauthenticated() {
    // The right secret and key id, but HS512: only HS256 is accepted.
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let token = sign(
        JWT_SECRET,
        Algorithm::HS512,
        Some(key_id(JWT_SECRET)),
        &claims(&sub, json!([])),
    );
    assert_unauthenticated(&app.get("/v1/me", &token).await);
}

#[tokio::test]
async fn me_with_unknown_key_id_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let c = claims(&sub, json!([]));
    // Signed with the right secret but naming a key the service doesn't have…
    let token = sign(
        JWT_SECRET,
        Algorithm::HS256,
        Some("0123456789abcdef".into()),
        &c,
    );
    assert_unauthenticated(&app.get("/v1/me", &token).await);
    // …and signed with a secret the service doesn't know, under that secret's key id.
    let token = sign(OLD_SECRET, Algorithm::HS256, Some(key_id(OLD_SECRET)), &c);
    assert_unauthenticated(&app.get("/v1/me", &token).await);
}

#[tokio::test]
async fn me_with_token_without_key_id_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let token = sign(JWT_SECRET, Algorithm::HS256, None, &claims(&sub, json!([])));
    assert_unauthenticated(&app.get("/v1/me", &token).await);
}

#[tokio::test]
async fn me_with_token_for_a_nonexistent_account_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let token = forge(&claims(&uuid::Uuid::now_v7().to_string(), json!([])));
    assert_unauthenticated(&app.get("/v1/me", &token).await);
}

#[tokio::test]
async fn disabling_an_account_stops_its_live_token_password_and_refresh_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, "clerk-zhao", &app.root_org_id, "judge")
        .await;
    let (access, refresh_token) = app.login("clerk-zhao", USER_PASSWORD).await;
    assert_eq!(app.get("/v1/me", &access).await.status, StatusCode::OK);

    let path = format!("/v1/users/{}", id(&user));
    let disabled = app
        .patch(&path, &admin, None, &json!({"disabled": true}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert_eq!(disabled.json["disabled"], true);

    // The access token has not expired, but the account behind it is disabled.
    assert_unauthenticated(&app.get("/v1/me", &access).await);
    let before = stored_refresh_tokens(&app).await;
    assert_oauth_error(
        &password_login(&app, "clerk-zhao", USER_PASSWORD).await,
        "invalid_grant",
    );
    assert_oauth_error(&refresh(&app, &refresh_token).await, "invalid_grant");
    assert_eq!(stored_refresh_tokens(&app).await, before);

    // Enabling the account again lets the password in, but the old login stays ended.
    let enabled = app
        .patch(&path, &admin, None, &json!({"disabled": false}))
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.text);
    app.login("clerk-zhao", USER_PASSWORD).await;
    assert_oauth_error(&refresh(&app, &refresh_token).await, "invalid_grant");
}

#[tokio::test]
async fn token_signed_with_a_configured_previous_secret_still_works() {
    let app = TestApp::spawn_with(|c| c.jwt_previous_secrets = OLD_SECRET.into()).await;
    let sub = admin_id(&app).await;
    let old = sign(
        OLD_SECRET,
        Algorithm::HS256,
        Some(key_id(OLD_SECRET)),
        &claims(&sub, json!([])),
    );
    let me = app.get("/v1/me", &old).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["id"], sub.as_str());

    // New tokens are signed with the current secret only.
    let fresh = app.admin_token().await;
    assert_eq!(jwt_part(&fresh, 0)["kid"], key_id(JWT_SECRET));

    // The old key id verifies with the old secret only: no swapping keys around.
    let mismatched = sign(
        JWT_SECRET,
        Algorithm::HS256,
        Some(key_id(OLD_SECRET)),
        &claims(&sub, json!([])),
    );
    assert_unauthenticated(&app.get("/v1/me", &mismatched).await);
}

#[tokio::test]
async fn token_signed_with_a_previous_secret_fails_once_it_is_no_longer_configured() {
    let app = TestApp::spawn().await;
    let sub = admin_id(&app).await;
    let old = sign(
        OLD_SECRET,
        Algorithm::HS256,
        Some(key_id(OLD_SECRET)),
        &claims(&sub, json!([])),
    );
    assert_unauthenticated(&app.get("/v1/me", &old).await);
}

// ---------------------------------------------------------------- refresh tokens

#[tokio::test]
async fn refresh_grant_rotates_the_refresh_token() {
    let app = TestApp::spawn().await;
    let (_, first) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let reply = refresh(&app, &first).await;
    let (access, second) = assert_tokens(&reply);
    assert_ne!(second, first, "a new refresh token every time");
    let me = app.get("/v1/me", &access).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["username"], ADMIN_USERNAME);
    // The successor can itself be exchanged.
    let (_, third) = assert_tokens(&refresh(&app, &second).await);
    assert_ne!(third, second);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_its_whole_login() {
    let app = TestApp::spawn().await;
    let (_, first) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (_, other_login) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (_, second) = assert_tokens(&refresh(&app, &first).await);

    let before = stored_refresh_tokens(&app).await;
    assert_oauth_error(&refresh(&app, &first).await, "invalid_grant");
    // Reuse detection: the successor of the spent token is revoked too…
    assert_oauth_error(&refresh(&app, &second).await, "invalid_grant");
    assert_eq!(stored_refresh_tokens(&app).await, before, "nothing issued");
    // …but another login of the same account is untouched.
    assert_tokens(&refresh(&app, &other_login).await);
}

#[tokio::test]
async fn unknown_refresh_token_is_invalid_grant() {
    let app = TestApp::spawn().await;
    let before = stored_refresh_tokens(&app).await;
    assert_oauth_error(
        &refresh(&app, "uhr_this-token-was-never-issued").await,
        "invalid_grant",
    );
    assert_eq!(stored_refresh_tokens(&app).await, before);
}

#[tokio::test]
async fn expired_refresh_token_is_invalid_grant() {
    let app = TestApp::spawn_with(|c| c.refresh_token_ttl_secs = 1).await;
    let (_, token) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_oauth_error(&refresh(&app, &token).await, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_with_one_token_let_exactly_one_through() {
    let app = TestApp::spawn().await;
    let (_, token) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let before = stored_refresh_tokens(&app).await;
    let replies = join_all((0..10).map(|_| refresh(&app, &token))).await;
    let ok: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(
        ok.len(),
        1,
        "exactly one refresh wins: {:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != StatusCode::OK) {
        assert_oauth_error(reply, "invalid_grant");
    }
    assert_eq!(
        stored_refresh_tokens(&app).await,
        before + 1,
        "exactly one successor issued"
    );
}

// ---------------------------------------------------------------- revocation

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_login() {
    let app = TestApp::spawn().await;
    let (_, token) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (_, other_login) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let reply = revoke(&app, &json!({"token": token})).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(reply.text.is_empty());
    assert_oauth_error(&refresh(&app, &token).await, "invalid_grant");
    // Revoking is idempotent, and other logins carry on.
    let again = revoke(&app, &json!({"token": token})).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert_tokens(&refresh(&app, &other_login).await);
}

#[tokio::test]
async fn revoking_a_spent_refresh_token_ends_its_successors() {
    let app = TestApp::spawn().await;
    let (_, first) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let (_, second) = assert_tokens(&refresh(&app, &first).await);
    let reply = Reply::from(
        app.request(Method::POST, "/v1/auth/revoke", None)
            .form(&[
                ("token", first.as_str()),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert_oauth_error(&refresh(&app, &second).await, "invalid_grant");
}

#[tokio::test]
async fn revoking_an_unknown_token_is_no_content() {
    let app = TestApp::spawn().await;
    let reply = revoke(&app, &json!({"token": "uhr_this-token-was-never-issued"})).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(reply.text.is_empty());
}

#[tokio::test]
async fn revoke_without_a_token_is_a_validation_problem() {
    let app = TestApp::spawn().await;
    let reply = revoke(&app, &json!({})).await;
    reply.assert_problem(422, "validation");
    assert_eq!(reply.pointers(), vec!["/token"]);
}

// ---------------------------------------------------------------- throttling

/// Asserts a 429 with a sensible numeric Retry-After.
fn assert_throttled(reply: &Reply, window: u64) {
    reply.assert_problem(429, "too-many-requests");
    let retry: u64 = reply
        .header("retry-after")
        .expect("Retry-After header")
        .parse()
        .expect("Retry-After is a number of seconds");
    assert!(
        (1..=window).contains(&retry),
        "Retry-After {retry} within 1..={window}"
    );
}

/// A window long enough that a test never straddles two.
const WINDOW: u64 = 86_400;

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_but_not_others() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures_per_account = 3;
        c.login_window_secs = WINDOW;
    })
    .await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "victim", &app.root_org_id, "judge")
        .await;
    app.create_user(&admin, "bystander", &app.root_org_id, "judge")
        .await;

    for _ in 0..3 {
        assert_oauth_error(
            &password_login(&app, "victim", "wrong-password-123").await,
            "invalid_grant",
        );
    }
    let before = stored_refresh_tokens(&app).await;
    // The fourth attempt is refused before the password is even looked at.
    assert_throttled(&password_login(&app, "victim", USER_PASSWORD).await, WINDOW);
    assert_throttled(
        &password_login(&app, "victim", "wrong-password-123").await,
        WINDOW,
    );
    assert_eq!(stored_refresh_tokens(&app).await, before, "nothing issued");

    // Another account from the same address is still under the per-address limit.
    app.login("bystander", USER_PASSWORD).await;
}

#[tokio::test]
async fn successful_login_resets_the_account_failure_count() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures_per_account = 3;
        c.login_window_secs = WINDOW;
    })
    .await;
    for _ in 0..2 {
        password_login(&app, ADMIN_USERNAME, "wrong-password-123").await;
    }
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    for _ in 0..2 {
        password_login(&app, ADMIN_USERNAME, "wrong-password-123").await;
    }
    app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn repeated_failures_from_one_address_lock_out_every_username() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures_per_ip = 4;
        c.login_window_secs = WINDOW;
    })
    .await;
    for n in 0..4 {
        assert_oauth_error(
            &password_login(&app, &format!("guess-{n}"), "wrong-password-123").await,
            "invalid_grant",
        );
    }
    assert_throttled(
        &password_login(&app, "fresh-name", "wrong-password-123").await,
        WINDOW,
    );
    // Right credentials from that address wait too.
    assert_throttled(
        &password_login(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await,
        WINDOW,
    );
}

#[tokio::test]
async fn x_forwarded_for_does_not_escape_the_address_limit_unless_trusted() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures_per_ip = 2;
        c.login_window_secs = WINDOW;
    })
    .await;
    for n in 0..3 {
        let reply = Reply::from(
            app.request(Method::POST, "/v1/auth/token", None)
                .header("X-Forwarded-For", format!("203.0.113.{n}"))
                .json(&json!({"grant_type": "password", "username": format!("guess-{n}"), "password": "wrong-password-123"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        if n < 2 {
            assert_oauth_error(&reply, "invalid_grant");
        } else {
            assert_throttled(&reply, WINDOW);
        }
    }
}

// ---------------------------------------------------------------- roles

#[tokio::test]
async fn judge_cannot_create_organisations() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "judge-li", &app.root_org_id, "judge")
        .await;
    let (judge, _) = app.login("judge-li", USER_PASSWORD).await;
    let body = json!({"name": "上饶市总工会", "code": "sr", "kind": "city_federation", "parent_id": app.root_org_id, "region_code": "361100"});
    let reply = app.post("/v1/orgs", &judge, &body).await;
    reply.assert_problem(403, "forbidden");

    // Roles are read from storage, not from the token: claiming more changes nothing.
    let sub = jwt_part(&judge, 1)["sub"].as_str().unwrap().to_owned();
    let boasting = forge(&claims(
        &sub,
        json!([{"role": "federation_admin", "org_id": app.root_org_id}]),
    ));
    let reply = app.post("/v1/orgs", &boasting, &body).await;
    reply.assert_problem(403, "forbidden");

    let orgs = app.get("/v1/orgs", &admin).await;
    assert_eq!(orgs.status, StatusCode::OK, "{}", orgs.text);
    assert!(
        !orgs.text.contains("\"sr\""),
        "no organisation was created: {}",
        orgs.text
    );
}

// ------------------------------------------- races and address parsing (once bugs)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_are_throttled_at_the_limit() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures_per_account = 3;
        c.login_window_secs = WINDOW;
    })
    .await;
    let replies =
        join_all((0..12).map(|_| password_login(&app, ADMIN_USERNAME, "wrong-password-123"))).await;
    let verified = replies
        .iter()
        .filter(|r| r.status == StatusCode::BAD_REQUEST)
        .count();
    assert!(
        verified <= 3,
        "{verified} guesses were checked against the password; the limit is 3"
    );
    for reply in replies
        .iter()
        .filter(|r| r.status != StatusCode::BAD_REQUEST)
    {
        assert_throttled(reply, WINDOW);
    }
}

#[tokio::test]
async fn forwarded_ipv6_addresses_are_throttled_separately() {
    let app = TestApp::spawn_with(|c| {
        c.login_max_failures_per_ip = 2;
        c.login_window_secs = WINDOW;
        c.trust_forwarded_for = true;
    })
    .await;
    let attempt = |n: usize, address: &'static str| {
        let rb = app
            .request(Method::POST, "/v1/auth/token", None)
            .header("X-Forwarded-For", address)
            .json(&json!({"grant_type": "password", "username": format!("guess-{n}"), "password": "wrong-password-123"}));
        async move { Reply::from(rb.send().await.unwrap()).await }
    };
    assert_oauth_error(&attempt(0, "2001:db8::1").await, "invalid_grant");
    assert_oauth_error(&attempt(1, "2001:db8::1").await, "invalid_grant");
    assert_throttled(&attempt(2, "2001:db8::1").await, WINDOW);
    // A different client, with failures of its own to spare.
    assert_oauth_error(&attempt(3, "2001:db8::2").await, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_reuse_in_a_race_also_revokes_the_winner_s_successor() {
    let app = TestApp::spawn().await;
    let mut survivors = 0;
    for _ in 0..30 {
        let (_, token) = app.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
        let replies = join_all((0..10).map(|_| refresh(&app, &token))).await;
        let winner = replies
            .iter()
            .find(|r| r.status == StatusCode::OK)
            .expect("one refresh wins");
        let successor = winner.json["refresh_token"].as_str().unwrap();
        // Nine presentations of a spent token: reuse was detected, the login is over.
        if refresh(&app, successor).await.status == StatusCode::OK {
            survivors += 1;
        }
    }
    assert_eq!(
        survivors, 0,
        "successors that outlived their family's revocation, of 30 races"
    );
}

/// Concurrent requests share caller lookups (`auth::callers`): many callers asked for
/// at once must each get their own identity and roles, and a disabled account in the
/// same burst must still be refused while the others pass.
#[tokio::test]
async fn concurrent_callers_each_get_their_own_identity() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut callers = vec![(ADMIN_USERNAME.to_owned(), admin.clone(), true)];
    for (i, role) in [
        "judge",
        "mediator",
        "palace_staff",
        "insurance_reviewer",
        "union_admin",
    ]
    .into_iter()
    .enumerate()
    {
        let username = format!("clerk-{i}");
        app.create_user(&admin, &username, &app.root_org_id, role)
            .await;
        let (token, _) = app.login(&username, USER_PASSWORD).await;
        callers.push((username, token, true));
    }
    let gone = app
        .create_user(&admin, "clerk-gone", &app.root_org_id, "judge")
        .await;
    let (gone_token, _) = app.login("clerk-gone", USER_PASSWORD).await;
    let path = format!("/v1/users/{}", id(&gone));
    let disabled = app
        .patch(&path, &admin, None, &json!({"disabled": true}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    callers.push(("clerk-gone".to_owned(), gone_token, false));

    // Twenty rounds over every caller, all in flight together.
    let asks = (0..20).flat_map(|_| callers.iter());
    let app = &app;
    let replies = join_all(asks.map(|(username, token, enabled)| async move {
        (username, *enabled, app.get("/v1/me", token).await)
    }))
    .await;
    assert_eq!(replies.len(), 20 * callers.len());
    for (username, enabled, reply) in replies {
        if enabled {
            assert_eq!(reply.status, StatusCode::OK, "{username}: {}", reply.text);
            assert_eq!(reply.json["username"], username.as_str());
        } else {
            assert_unauthenticated(&reply);
        }
    }
}
