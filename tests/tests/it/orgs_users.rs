//! Organisations and staff accounts: creation, validation, mass assignment, conflicts,
//! subtree isolation, optimistic concurrency, pagination and filters.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use std::collections::HashSet;
use unionhall_persistence::entities::orgs;
use unionhall_tests::{Reply, TestApp, USER_PASSWORD, id};

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// A valid body for POST /v1/orgs.
fn org_body(parent_id: &str, kind: &str, code: &str, region: &str) -> Value {
    json!({
        "name": "测试工会",
        "code": code,
        "kind": kind,
        "parent_id": parent_id,
        "region_code": region,
    })
}

/// A valid body for POST /v1/users with one role at `org_id`.
fn user_body(username: &str, org_id: &str, role: &str) -> Value {
    json!({
        "username": username,
        "password": USER_PASSWORD,
        "display_name": "测试用户",
        "org_id": org_id,
        "roles": [{"role": role, "org_id": org_id}],
    })
}

/// The ids of a list page's items.
fn item_ids(reply: &Reply) -> Vec<String> {
    reply.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list page: {}", reply.text))
        .iter()
        .map(|v| id(v).to_owned())
        .collect()
}

/// The `code` of each item in a list page.
fn item_codes(reply: &Reply) -> Vec<String> {
    reply.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list page: {}", reply.text))
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The codes of a validation problem's errors.
fn error_codes(reply: &Reply) -> Vec<String> {
    reply.json["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter_map(|e| e["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every item of a collection as `token` sees it (one page of 200, asserted last).
async fn everything(app: &TestApp, token: &str, collection: &str) -> Vec<Value> {
    let reply = app.get(&format!("{collection}?limit=200"), token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["next_cursor"], Value::Null, "all in one page");
    reply.json["items"].as_array().unwrap().clone()
}

/// Every organisation and every account, as the federation admin sees them: what a
/// refused request must leave exactly as it was.
async fn snapshot(app: &TestApp) -> (Vec<Value>, Vec<Value>) {
    let admin = app.admin_token().await;
    (
        everything(app, &admin, "/v1/orgs").await,
        everything(app, &admin, "/v1/users").await,
    )
}

/// POSTs `body` to `path`, asserts the problem, and asserts nothing was written.
async fn refused_post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &Value,
    status: u16,
    slug: &str,
) -> Reply {
    let before = snapshot(app).await;
    let reply = app.post(path, token, body).await;
    reply.assert_problem(status, slug);
    assert_eq!(
        snapshot(app).await,
        before,
        "a refused POST {path} wrote nothing"
    );
    reply
}

/// A resource and its ETag, as the federation admin sees it.
async fn read(app: &TestApp, path: &str) -> (Value, String) {
    let admin = app.admin_token().await;
    let reply = app.get(path, &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.text);
    let etag = reply.header("etag").expect("an ETag").to_owned();
    (reply.json, etag)
}

/// PATCHes `path`, asserts the problem, and asserts the resource didn't change.
async fn refused_patch(
    app: &TestApp,
    token: &str,
    path: &str,
    if_match: Option<&str>,
    body: &Value,
    status: u16,
    slug: &str,
) -> Reply {
    let before = read(app, path).await;
    let reply = app.patch(path, token, if_match, body).await;
    reply.assert_problem(status, slug);
    assert_eq!(
        read(app, path).await,
        before,
        "a refused PATCH {path} wrote nothing"
    );
    reply
}

/// A refused org creation by the federation admin that points at exactly `pointer`.
async fn assert_org_field_refused(app: &TestApp, body: &Value, pointer: &str) -> Reply {
    let admin = app.admin_token().await;
    let reply = refused_post(app, &admin, "/v1/orgs", body, 422, "validation").await;
    // One field may fail more than one rule (an empty name is both too short and blank).
    let mut pointers = reply.pointers();
    pointers.dedup();
    assert_eq!(pointers, vec![pointer.to_owned()], "{}", reply.text);
    reply
}

/// The caller's own account id.
async fn my_id(app: &TestApp, token: &str) -> String {
    let me = app.get("/v1/me", token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    id(&me.json).to_owned()
}

/// The id of the account named `username`, as the federation admin sees it.
async fn user_id_of(app: &TestApp, username: &str) -> String {
    let admin = app.admin_token().await;
    everything(app, &admin, "/v1/users")
        .await
        .iter()
        .find(|u| u["username"] == username)
        .map(|u| id(u).to_owned())
        .unwrap_or_else(|| panic!("an account named {username}"))
}

// ---------------------------------------------------------------------------------
// Creating organisations
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn creating_an_org_answers_201_with_a_location_that_gets_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let reply = app
        .post(
            "/v1/orgs",
            &admin,
            &json!({"name": "吉安市总工会", "code": "ja", "kind": "city_federation",
                    "parent_id": app.root_org_id, "region_code": "360800"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let created = reply.json.clone();
    let location = reply.header("location").expect("a Location header");
    assert_eq!(location, format!("/v1/orgs/{}", id(&created)));

    assert_eq!(created["name"], "吉安市总工会");
    assert_eq!(created["code"], "ja");
    assert_eq!(created["kind"], "city_federation");
    assert_eq!(created["parent_id"], app.root_org_id.as_str());
    assert_eq!(created["depth"], 1);
    assert_eq!(created["region_code"], "360800");
    assert_eq!(created["region_name"], "吉安市");
    assert!(created["created_at"].is_string());
    assert!(created["updated_at"].is_string());

    let got = app.get(location, &admin).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json, created, "GET Location is the created resource");
    let etag = got.header("etag").expect("GET carries an ETag");
    assert_eq!(etag, "\"v1\"");

    let county = app
        .create_org(
            &admin,
            id(&created),
            "county_federation",
            "ja-qingyuan",
            "360803",
        )
        .await;
    assert_eq!(county["depth"], 2);
    assert_eq!(county["region_name"], "青原区");
    assert_eq!(county["parent_id"], id(&created));
}

#[tokio::test]
async fn the_root_org_is_at_depth_zero_without_a_parent() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let root = app
        .get(&format!("/v1/orgs/{}", app.root_org_id), &admin)
        .await;
    assert_eq!(root.status, StatusCode::OK, "{}", root.text);
    assert_eq!(root.json["depth"], 0);
    assert_eq!(root.json["parent_id"], Value::Null);
    assert_eq!(root.json["kind"], "provincial_federation");
    assert_eq!(root.json["region_name"], "江西省");
}

#[tokio::test]
async fn a_new_org_takes_its_parents_time_zone_unless_it_names_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let root_tz = app
        .get(&format!("/v1/orgs/{}", app.root_org_id), &admin)
        .await
        .json["time_zone"]
        .clone();
    assert_eq!(root_tz, "Asia/Shanghai");

    let plain = app
        .create_org(&admin, &app.root_org_id, "city_federation", "ja", "360800")
        .await;
    assert_eq!(plain["time_zone"], root_tz, "defaults to the root's");

    let mut body = org_body(&app.root_org_id, "city_federation", "jj", "360400");
    body["time_zone"] = json!("Asia/Urumqi");
    let west = app.post("/v1/orgs", &admin, &body).await;
    assert_eq!(west.status, StatusCode::CREATED, "{}", west.text);
    assert_eq!(west.json["time_zone"], "Asia/Urumqi");

    let child = app
        .create_org(
            &admin,
            id(&west.json),
            "county_federation",
            "jj-xunyang",
            "360403",
        )
        .await;
    assert_eq!(
        child["time_zone"], "Asia/Urumqi",
        "inherits the parent's, not the default"
    );
}

// ---------------------------------------------------------------------------------
// Validation of new organisations
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_region_code_is_refused_at_region_code() {
    let app = TestApp::spawn().await;
    for region in ["369999", "999999", "36080", "36080a"] {
        let body = org_body(&app.root_org_id, "city_federation", "ja", region);
        let reply = assert_org_field_refused(&app, &body, "/region_code").await;
        if region.len() == 6 && region.bytes().all(|b| b.is_ascii_digit()) {
            assert_eq!(error_codes(&reply), vec!["region_code"]);
        }
    }
}

#[tokio::test]
async fn a_bad_time_zone_is_refused_at_time_zone() {
    let app = TestApp::spawn().await;
    for tz in ["Mars/Olympus", "", "UTC+8"] {
        let mut body = org_body(&app.root_org_id, "city_federation", "ja", "360800");
        body["time_zone"] = json!(tz);
        assert_org_field_refused(&app, &body, "/time_zone").await;
    }
}

#[tokio::test]
async fn an_org_code_with_uppercase_or_spaces_is_refused_at_code() {
    let app = TestApp::spawn().await;
    for code in ["JA", "Ja-city", "ja city", " ja", "ja/city", "吉安", "j"] {
        let body = org_body(&app.root_org_id, "city_federation", code, "360800");
        assert_org_field_refused(&app, &body, "/code").await;
    }
}

#[tokio::test]
async fn an_empty_org_name_is_refused_at_name() {
    let app = TestApp::spawn().await;
    for name in ["", "   ", "吉安\n总工会"] {
        let mut body = org_body(&app.root_org_id, "city_federation", "ja", "360800");
        body["name"] = json!(name);
        assert_org_field_refused(&app, &body, "/name").await;
    }
}

#[tokio::test]
async fn a_county_directly_under_the_province_is_refused_at_kind() {
    let app = TestApp::spawn().await;
    let body = org_body(&app.root_org_id, "county_federation", "qingyuan", "360803");
    let reply = assert_org_field_refused(&app, &body, "/kind").await;
    assert_eq!(error_codes(&reply), vec!["kind_not_allowed"]);

    // And a second provincial federation can't be made anywhere.
    let body = org_body(&app.root_org_id, "provincial_federation", "jx2", "360000");
    let reply = assert_org_field_refused(&app, &body, "/kind").await;
    assert_eq!(error_codes(&reply), vec!["kind_not_allowed"]);
}

#[tokio::test]
async fn a_parent_that_does_not_exist_is_refused_at_parent_id() {
    let app = TestApp::spawn().await;
    let ghost = uuid::Uuid::now_v7().to_string();
    let body = org_body(&ghost, "city_federation", "ja", "360800");
    let reply = assert_org_field_refused(&app, &body, "/parent_id").await;
    assert_eq!(error_codes(&reply), vec!["not_found"]);
}

#[tokio::test]
async fn a_parent_id_that_is_not_a_uuid_is_refused_at_parent_id() {
    let app = TestApp::spawn().await;
    let body = org_body("not-a-uuid", "city_federation", "ja", "360800");
    assert_org_field_refused(&app, &body, "/parent_id").await;
}

#[tokio::test]
async fn a_wrong_json_type_for_kind_is_refused_at_kind() {
    let app = TestApp::spawn().await;
    let mut body = org_body(&app.root_org_id, "city_federation", "ja", "360800");
    body["kind"] = json!(5);
    let reply = assert_org_field_refused(&app, &body, "/kind").await;
    assert_eq!(error_codes(&reply), vec!["type"]);

    body["kind"] = json!("province");
    let reply = assert_org_field_refused(&app, &body, "/kind").await;
    assert_eq!(error_codes(&reply), vec!["enum"]);
}

#[tokio::test]
async fn a_missing_org_name_is_refused_at_name() {
    let app = TestApp::spawn().await;
    let mut body = org_body(&app.root_org_id, "city_federation", "ja", "360800");
    body.as_object_mut().unwrap().remove("name");
    let reply = assert_org_field_refused(&app, &body, "/name").await;
    assert_eq!(error_codes(&reply), vec!["required"]);
}

// ---------------------------------------------------------------------------------
// Mass assignment
// ---------------------------------------------------------------------------------

/// A server-owned org field and a plausible value for it, given the root's id.
type OwnedField = (&'static str, fn(&str) -> Value);

const SERVER_OWNED_ORG_FIELDS: [OwnedField; 5] = [
    ("id", |_| json!("0190c2a4-0000-7000-8000-000000000001")),
    ("path", |root| json!(format!("/{}/", root.replace('-', "")))),
    ("depth", |_| json!(0)),
    ("created_at", |_| json!("2000-01-01T00:00:00Z")),
    ("version", |_| json!(99)),
];

#[tokio::test]
async fn creating_an_org_refuses_server_owned_fields() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (field, value) in SERVER_OWNED_ORG_FIELDS {
        let mut body = org_body(&app.root_org_id, "city_federation", "ja", "360800");
        body[field] = value(&app.root_org_id);
        let reply = refused_post(&app, &admin, "/v1/orgs", &body, 422, "validation").await;
        assert_eq!(error_codes(&reply), vec!["unknown_field"], "{field}");
        assert_eq!(reply.pointers(), vec![format!("/{field}")]);
        assert!(
            reply.json["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains(field),
            "the error names `{field}`: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn patching_an_org_refuses_server_owned_fields() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let ja = app
        .create_org(&admin, &app.root_org_id, "city_federation", "ja", "360800")
        .await;
    let path = format!("/v1/orgs/{}", id(&ja));
    let extra: [(&str, Value); 4] = [
        ("code", json!("hijacked")),
        ("kind", json!("county_federation")),
        ("parent_id", json!(app.root_org_id)),
        ("updated_at", json!("2000-01-01T00:00:00Z")),
    ];
    let fields = SERVER_OWNED_ORG_FIELDS
        .iter()
        .map(|(f, v)| (*f, v(&app.root_org_id)))
        .chain(extra);
    for (field, value) in fields {
        let body = json!({"name": "改名", field: value});
        let reply = refused_patch(&app, &admin, &path, None, &body, 422, "validation").await;
        assert_eq!(error_codes(&reply), vec!["unknown_field"], "{field}");
        assert_eq!(reply.pointers(), vec![format!("/{field}")]);
    }
}

#[tokio::test]
async fn creating_a_user_refuses_disabled_and_role_fields() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let extras: [(&str, Value); 5] = [
        ("disabled", json!(true)),
        ("role", json!("federation_admin")),
        ("id", json!("0190c2a4-0000-7000-8000-000000000001")),
        ("version", json!(7)),
        (
            "password_hash",
            json!("$argon2id$v=19$m=1,t=1,p=1$AAAA$AAAA"),
        ),
    ];
    for (field, value) in extras {
        let mut body = user_body("worker-a", &app.root_org_id, "palace_staff");
        body[field] = value;
        let reply = refused_post(&app, &admin, "/v1/users", &body, 422, "validation").await;
        assert_eq!(error_codes(&reply), vec!["unknown_field"], "{field}");
        assert_eq!(reply.pointers(), vec![format!("/{field}")]);
    }
    // A role binding with an extra field is refused too.
    let mut body = user_body("worker-a", &app.root_org_id, "palace_staff");
    body["roles"][0]["scope"] = json!("everything");
    let reply = refused_post(&app, &admin, "/v1/users", &body, 422, "validation").await;
    assert_eq!(error_codes(&reply), vec!["unknown_field"]);

    // No such account came into being.
    let login = app
        .token_request(
            &json!({"grant_type": "password", "username": "worker-a", "password": USER_PASSWORD}),
        )
        .await;
    login.assert_problem(400, "invalid-grant");
}

#[tokio::test]
async fn patching_a_user_refuses_server_owned_fields() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, "worker-a", &app.root_org_id, "palace_staff")
        .await;
    let path = format!("/v1/users/{}", id(&user));
    let fields: [(&str, Value); 6] = [
        ("id", json!("0190c2a4-0000-7000-8000-000000000001")),
        ("username", json!("admin2")),
        ("org_id", json!(app.root_org_id)),
        ("version", json!(99)),
        ("created_at", json!("2000-01-01T00:00:00Z")),
        ("password_hash", json!("x")),
    ];
    for (field, value) in fields {
        let body = json!({"display_name": "改名", field: value});
        let reply = refused_patch(&app, &admin, &path, None, &body, 422, "validation").await;
        assert_eq!(error_codes(&reply), vec!["unknown_field"], "{field}");
        assert_eq!(reply.pointers(), vec![format!("/{field}")]);
    }
}

// ---------------------------------------------------------------------------------
// Conflicts
// ---------------------------------------------------------------------------------

async fn duplicate_code_names_the_existing_org(app: &TestApp) {
    let admin = app.admin_token().await;
    let ja = app
        .create_org(&admin, &app.root_org_id, "city_federation", "ja", "360800")
        .await;
    let body = org_body(&app.root_org_id, "city_federation", "ja", "360400");
    let reply = refused_post(app, &admin, "/v1/orgs", &body, 409, "conflict").await;
    assert!(
        reply.json["conflict"].as_str().unwrap().contains("code"),
        "{}",
        reply.text
    );
    assert_eq!(reply.json["existing_id"], id(&ja));
    // Also when the duplicate would sit elsewhere in the tree.
    let body = org_body(id(&ja), "grassroots_union", "ja", "360800");
    let reply = refused_post(app, &admin, "/v1/orgs", &body, 409, "conflict").await;
    assert_eq!(reply.json["existing_id"], id(&ja));
}

async fn duplicate_of_the_roots_code_names_it(app: &TestApp) {
    let admin = app.admin_token().await;
    let body = org_body(&app.root_org_id, "city_federation", "jxftu", "360800");
    let reply = refused_post(app, &admin, "/v1/orgs", &body, 409, "conflict").await;
    assert_eq!(reply.json["existing_id"], app.root_org_id.as_str());
}

async fn code_taken_outside_reach_hides_the_existing_id(app: &TestApp) {
    let t = app.two_cities().await;
    for code in ["jj-xunyang", "jj", "jxftu"] {
        let body = org_body(id(&t.ja), "county_federation", code, "360803");
        let reply = refused_post(app, &t.ja_token, "/v1/orgs", &body, 409, "conflict").await;
        assert!(
            reply.json["conflict"].as_str().unwrap().contains("code"),
            "{}",
            reply.text
        );
        assert!(
            reply.json.get("existing_id").is_none(),
            "{code} is not the ja admin's to see: {}",
            reply.text
        );
    }
    // Within its own subtree the city admin is told which org has the code.
    let body = org_body(id(&t.ja), "county_federation", "ja-qingyuan", "360803");
    let reply = refused_post(app, &t.ja_token, "/v1/orgs", &body, 409, "conflict").await;
    assert_eq!(reply.json["existing_id"], id(&t.ja_county));
}

async fn concurrent_same_code_creates_make_exactly_one(app: &TestApp) {
    let admin = app.admin_token().await;
    let before = snapshot(app).await.0.len();
    let replies = join_all((0..10).map(|i| {
        let mut body = org_body(&app.root_org_id, "city_federation", "ja", "360800");
        body["name"] = json!(format!("吉安市总工会 {i}"));
        let admin = &admin;
        async move { app.post("/v1/orgs", admin, &body).await }
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    let created: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert_eq!(created.len(), 1, "exactly one 201: {statuses:?}");
    let winner = id(&created[0].json).to_owned();
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        r.assert_problem(409, "conflict");
        assert_eq!(r.json["existing_id"], winner.as_str(), "{}", r.text);
    }
    assert_eq!(snapshot(app).await.0.len(), before + 1, "one org written");
    let reply = app.get("/v1/orgs?q=ja", &admin).await;
    assert_eq!(item_ids(&reply), vec![winner]);
}

#[tokio::test]
async fn a_duplicate_org_code_is_a_409_naming_the_existing_org() {
    let app = TestApp::spawn().await;
    duplicate_code_names_the_existing_org(&app).await;
}

#[tokio::test]
async fn a_duplicate_of_the_roots_code_names_it_to_the_federation_admin() {
    let app = TestApp::spawn().await;
    duplicate_of_the_roots_code_names_it(&app).await;
}

#[tokio::test]
async fn a_code_taken_outside_the_callers_reach_conflicts_without_an_existing_id() {
    let app = TestApp::spawn().await;
    code_taken_outside_reach_hides_the_existing_id(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_with_the_same_code_make_exactly_one() {
    let app = TestApp::spawn().await;
    concurrent_same_code_creates_make_exactly_one(&app).await;
}

/// Regression (PostgreSQL): the lookup of the existing org after a failed INSERT once ran
/// in the transaction PostgreSQL had aborted, answering 500; the insert now runs in a
/// savepoint. All four conflict scenarios, back to back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_code_conflicts_answer_409_on_postgresql_too() {
    duplicate_code_names_the_existing_org(&TestApp::spawn().await).await;
    duplicate_of_the_roots_code_names_it(&TestApp::spawn().await).await;
    code_taken_outside_reach_hides_the_existing_id(&TestApp::spawn().await).await;
    concurrent_same_code_creates_make_exactly_one(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_duplicate_username_is_a_409() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "worker-a", &app.root_org_id, "palace_staff")
        .await;
    let body = user_body("worker-a", &app.root_org_id, "judge");
    let reply = refused_post(&app, &admin, "/v1/users", &body, 409, "conflict").await;
    assert!(
        reply.json["conflict"]
            .as_str()
            .unwrap()
            .contains("username"),
        "{}",
        reply.text
    );
    // The bootstrap admin's name is taken too.
    let body = user_body("admin", &app.root_org_id, "judge");
    refused_post(&app, &admin, "/v1/users", &body, 409, "conflict").await;
}

// ---------------------------------------------------------------------------------
// Subtree isolation
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_city_admin_lists_only_its_own_subtree() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let reply = app.get("/v1/orgs", &t.ja_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        item_ids(&reply),
        vec![id(&t.ja).to_owned(), id(&t.ja_county).to_owned()]
    );
    // Filters can't widen the view.
    let reply = app
        .get(
            &format!("/v1/orgs?parent_id={}", app.root_org_id),
            &t.ja_token,
        )
        .await;
    assert_eq!(item_ids(&reply), vec![id(&t.ja).to_owned()]);
    let reply = app
        .get(&format!("/v1/orgs?parent_id={}", id(&t.jj)), &t.ja_token)
        .await;
    assert_eq!(item_ids(&reply), Vec::<String>::new());
    let reply = app.get("/v1/orgs?q=jj", &t.ja_token).await;
    assert_eq!(item_ids(&reply), Vec::<String>::new());
}

#[tokio::test]
async fn a_city_admin_cannot_get_or_patch_another_citys_orgs() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    for org in [&t.jj, &t.jj_county] {
        let path = format!("/v1/orgs/{}", id(org));
        app.get(&path, &t.ja_token)
            .await
            .assert_problem(404, "not-found");
        refused_patch(
            &app,
            &t.ja_token,
            &path,
            None,
            &json!({"name": "被改了"}),
            404,
            "not-found",
        )
        .await;
        refused_patch(
            &app,
            &t.ja_token,
            &path,
            Some("\"v1\""),
            &json!({"time_zone": "Asia/Urumqi"}),
            404,
            "not-found",
        )
        .await;
    }
    // Nor the root above it.
    let root = format!("/v1/orgs/{}", app.root_org_id);
    app.get(&root, &t.ja_token)
        .await
        .assert_problem(404, "not-found");
    refused_patch(
        &app,
        &t.ja_token,
        &root,
        None,
        &json!({"name": "被改了"}),
        404,
        "not-found",
    )
    .await;
    // The same requests on its own city work.
    let own = app
        .patch(
            &format!("/v1/orgs/{}", id(&t.ja)),
            &t.ja_token,
            None,
            &json!({"name": "吉安市总工会"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
}

#[tokio::test]
async fn a_city_admin_cannot_create_under_another_city() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let body = org_body(id(&t.jj), "grassroots_union", "jj-factory", "360400");
    let reply = refused_post(&app, &t.ja_token, "/v1/orgs", &body, 422, "validation").await;
    assert_eq!(reply.pointers(), vec!["/parent_id"]);
    // The same answer as for a parent that doesn't exist at all: nothing leaks.
    assert_eq!(error_codes(&reply), vec!["not_found"]);
    let body = org_body(&app.root_org_id, "city_federation", "nc", "360100");
    let reply = refused_post(&app, &t.ja_token, "/v1/orgs", &body, 422, "validation").await;
    assert_eq!(reply.pointers(), vec!["/parent_id"]);
}

#[tokio::test]
async fn a_city_admin_lists_only_its_subtrees_users() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let county_user = app
        .create_user(&t.ja_token, "qy-staff", id(&t.ja_county), "palace_staff")
        .await;
    app.create_user(&t.jj_token, "xy-staff", id(&t.jj_county), "palace_staff")
        .await;
    let reply = app.get("/v1/users", &t.ja_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let names: Vec<&str> = reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["ja-admin", "qy-staff"]);
    assert_eq!(reply.json["items"][1]["id"], id(&county_user));
    // Filtering by another city's org shows nothing.
    let reply = app
        .get(&format!("/v1/users?org_id={}", id(&t.jj)), &t.ja_token)
        .await;
    assert_eq!(item_ids(&reply), Vec::<String>::new());
}

#[tokio::test]
async fn a_city_admin_cannot_get_or_patch_another_citys_admin() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let jj_admin = user_id_of(&app, "jj-admin").await;
    let root_admin = my_id(&app, &t.admin).await;
    for user in [&jj_admin, &root_admin] {
        let path = format!("/v1/users/{user}");
        app.get(&path, &t.ja_token)
            .await
            .assert_problem(404, "not-found");
        for body in [
            json!({"disabled": true}),
            json!({"password": "a-new-password-123"}),
            json!({"display_name": "被改了"}),
        ] {
            refused_patch(&app, &t.ja_token, &path, None, &body, 404, "not-found").await;
        }
    }
    // The jj admin can still log in with its old password.
    app.login("jj-admin", USER_PASSWORD).await;
}

#[tokio::test]
async fn the_federation_admin_sees_every_org_and_user() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let orgs = app.get("/v1/orgs", &t.admin).await;
    assert_eq!(orgs.status, StatusCode::OK, "{}", orgs.text);
    assert_eq!(
        item_ids(&orgs),
        vec![
            app.root_org_id.clone(),
            id(&t.ja).to_owned(),
            id(&t.jj).to_owned(),
            id(&t.ja_county).to_owned(),
            id(&t.jj_county).to_owned(),
        ]
    );
    for org in [&t.ja, &t.jj, &t.ja_county, &t.jj_county] {
        let got = app.get(&format!("/v1/orgs/{}", id(org)), &t.admin).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    }
    let users = app.get("/v1/users", &t.admin).await;
    let names: Vec<&str> = users.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin", "ja-admin", "jj-admin"]);
}

#[tokio::test]
async fn a_staff_member_without_an_admin_role_cannot_manage() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let ja = app
        .create_org(&admin, &app.root_org_id, "city_federation", "ja", "360800")
        .await;
    app.create_user(&admin, "ja-staff", id(&ja), "palace_staff")
        .await;
    let staff = app.login("ja-staff", USER_PASSWORD).await.0;
    let body = org_body(id(&ja), "grassroots_union", "ja-factory", "360800");
    refused_post(&app, &staff, "/v1/orgs", &body, 403, "forbidden").await;
    let body = user_body("ja-other", id(&ja), "palace_staff");
    refused_post(&app, &staff, "/v1/users", &body, 403, "forbidden").await;
    app.get("/v1/users", &staff)
        .await
        .assert_problem(403, "forbidden");
    refused_patch(
        &app,
        &staff,
        &format!("/v1/orgs/{}", id(&ja)),
        None,
        &json!({"name": "被改了"}),
        403,
        "forbidden",
    )
    .await;
    // Reading the org tree in its reach is allowed.
    let reply = app.get("/v1/orgs", &staff).await;
    assert_eq!(item_ids(&reply), vec![id(&ja).to_owned()]);
}

// ---------------------------------------------------------------------------------
// Staff accounts
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn creating_a_user_with_roles() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let body = json!({
        "username": "qy.mediator-1",
        "password": "十个汉字的密码很安全吧",
        "display_name": "  青原区调解员  ",
        "org_id": id(&t.ja_county),
        "roles": [
            {"role": "mediator", "org_id": id(&t.ja_county)},
            {"role": "palace_staff", "org_id": id(&t.ja)},
        ],
    });
    let reply = app.post("/v1/users", &t.ja_token, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let user = reply.json.clone();
    let location = reply.header("location").expect("a Location header");
    assert_eq!(location, format!("/v1/users/{}", id(&user)));
    assert_eq!(user["username"], "qy.mediator-1");
    assert_eq!(user["display_name"], "青原区调解员", "trimmed");
    assert_eq!(user["org_id"], id(&t.ja_county));
    assert_eq!(user["disabled"], false);
    let roles: HashSet<(String, String)> = user["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["role"].as_str().unwrap().to_owned(),
                r["org_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        HashSet::from([
            ("mediator".to_owned(), id(&t.ja_county).to_owned()),
            ("palace_staff".to_owned(), id(&t.ja).to_owned()),
        ])
    );
    assert!(
        !reply.text.contains("password") && !reply.text.contains("argon"),
        "no password material: {}",
        reply.text
    );

    let got = app.get(location, &t.ja_token).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json, user);
    assert_eq!(got.header("etag"), Some("\"v1\""));

    let (token, _) = app.login("qy.mediator-1", "十个汉字的密码很安全吧").await;
    let me = app.get("/v1/me", &token).await;
    assert_eq!(me.json["id"], id(&user));
}

#[tokio::test]
async fn a_union_admin_cannot_grant_federation_admin() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    for org in [&t.ja, &t.ja_county] {
        let body = user_body("ja-boss", id(org), "federation_admin");
        refused_post(&app, &t.ja_token, "/v1/users", &body, 403, "forbidden").await;
    }
    // Nor give it to an existing account.
    let staff = app
        .create_user(&t.ja_token, "ja-staff", id(&t.ja), "palace_staff")
        .await;
    refused_patch(
        &app,
        &t.ja_token,
        &format!("/v1/users/{}", id(&staff)),
        None,
        &json!({"roles": [{"role": "federation_admin", "org_id": id(&t.ja)}]}),
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_union_admin_cannot_bind_a_role_outside_its_reach() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let body = json!({
        "username": "ja-staff",
        "password": USER_PASSWORD,
        "display_name": "ja staff",
        "org_id": id(&t.ja),
        "roles": [{"role": "palace_staff", "org_id": id(&t.jj)}],
    });
    let reply = refused_post(&app, &t.ja_token, "/v1/users", &body, 422, "validation").await;
    assert_eq!(reply.pointers(), vec!["/roles/0/org_id"]);

    // The pointer names the offending binding, not the first.
    let body = json!({
        "username": "ja-staff",
        "password": USER_PASSWORD,
        "display_name": "ja staff",
        "org_id": id(&t.ja),
        "roles": [
            {"role": "palace_staff", "org_id": id(&t.ja)},
            {"role": "judge", "org_id": app.root_org_id},
        ],
    });
    let reply = refused_post(&app, &t.ja_token, "/v1/users", &body, 422, "validation").await;
    assert_eq!(reply.pointers(), vec!["/roles/1/org_id"]);

    // An account can't be placed in another city's org either.
    let body = user_body("ja-staff", id(&t.jj), "palace_staff");
    let reply = refused_post(&app, &t.ja_token, "/v1/users", &body, 422, "validation").await;
    assert_eq!(reply.pointers(), vec!["/org_id"]);
}

#[tokio::test]
async fn a_password_shorter_than_ten_is_refused_at_password() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut body = user_body("worker-a", &app.root_org_id, "palace_staff");
    body["password"] = json!("123456789");
    let reply = refused_post(&app, &admin, "/v1/users", &body, 422, "validation").await;
    assert_eq!(reply.pointers(), vec!["/password"]);
    assert_eq!(error_codes(&reply), vec!["password_length"]);
    assert!(
        !reply.text.contains("123456789"),
        "the password is not echoed: {}",
        reply.text
    );
}

#[tokio::test]
async fn an_uppercase_username_is_refused_at_username() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for name in ["Admin", "ab", "_admin", "张三", "has space"] {
        let body = user_body(name, &app.root_org_id, "palace_staff");
        let reply = refused_post(&app, &admin, "/v1/users", &body, 422, "validation").await;
        assert_eq!(reply.pointers(), vec!["/username"], "{name}");
    }
}

#[tokio::test]
async fn patching_a_user_with_the_current_etag_answers_a_new_etag() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, "worker-a", &app.root_org_id, "palace_staff")
        .await;
    let path = format!("/v1/users/{}", id(&user));
    let got = app.get(&path, &admin).await;
    let etag = got.header("etag").unwrap().to_owned();
    let reply = app
        .patch(&path, &admin, Some(&etag), &json!({"display_name": "张三"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["display_name"], "张三");
    let new_etag = reply.header("etag").expect("a new ETag").to_owned();
    assert_ne!(new_etag, etag);
    let again = app.get(&path, &admin).await;
    assert_eq!(again.header("etag"), Some(new_etag.as_str()));
    assert_eq!(again.json["display_name"], "张三");
    assert_eq!(again.json, reply.json);
}

#[tokio::test]
async fn patching_a_user_with_a_stale_etag_is_412_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let user = app
        .create_user(&admin, "worker-a", &app.root_org_id, "palace_staff")
        .await;
    let path = format!("/v1/users/{}", id(&user));
    let stale = app
        .get(&path, &admin)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let first = app
        .patch(
            &path,
            &admin,
            Some(&stale),
            &json!({"display_name": "张三"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    for body in [
        json!({"display_name": "李四"}),
        json!({"disabled": true}),
        json!({"password": "another-password-1"}),
        json!({"roles": []}),
    ] {
        refused_patch(
            &app,
            &admin,
            &path,
            Some(&stale),
            &body,
            412,
            "precondition-failed",
        )
        .await;
    }
    // An ETag this service never issued can't match either.
    refused_patch(
        &app,
        &admin,
        &path,
        Some("\"bogus\""),
        &json!({"display_name": "李四"}),
        412,
        "precondition-failed",
    )
    .await;
    // The password didn't change.
    app.login("worker-a", USER_PASSWORD).await;
}

#[tokio::test]
async fn patching_an_org_with_a_stale_etag_is_412_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let ja = app
        .create_org(&admin, &app.root_org_id, "city_federation", "ja", "360800")
        .await;
    let path = format!("/v1/orgs/{}", id(&ja));
    let reply = app
        .patch(
            &path,
            &admin,
            Some("\"v1\""),
            &json!({"name": "吉安市总工会"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("etag"), Some("\"v2\""));
    refused_patch(
        &app,
        &admin,
        &path,
        Some("\"v1\""),
        &json!({"name": "旧名"}),
        412,
        "precondition-failed",
    )
    .await;
}

#[tokio::test]
async fn an_admin_cannot_disable_itself_or_change_its_own_roles() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let me = my_id(&app, &admin).await;
    let path = format!("/v1/users/{me}");
    let reply = refused_patch(
        &app,
        &admin,
        &path,
        None,
        &json!({"disabled": true}),
        422,
        "validation",
    )
    .await;
    assert_eq!(reply.pointers(), vec!["/disabled"]);
    let reply = refused_patch(
        &app,
        &admin,
        &path,
        None,
        &json!({"roles": []}),
        422,
        "validation",
    )
    .await;
    assert_eq!(reply.pointers(), vec!["/roles"]);
    // Still works.
    app.admin_token().await;
    // A city admin can't disable itself either.
    let t = app.two_cities().await;
    let ja_admin = my_id(&app, &t.ja_token).await;
    let reply = refused_patch(
        &app,
        &t.ja_token,
        &format!("/v1/users/{ja_admin}"),
        None,
        &json!({"disabled": true}),
        422,
        "validation",
    )
    .await;
    assert_eq!(reply.pointers(), vec!["/disabled"]);
}

#[tokio::test]
async fn disabling_a_user_makes_its_login_fail() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let staff = app
        .create_user(&t.ja_token, "ja-staff", id(&t.ja), "palace_staff")
        .await;
    let (access, refresh) = app.login("ja-staff", USER_PASSWORD).await;
    let reply = app
        .patch(
            &format!("/v1/users/{}", id(&staff)),
            &t.ja_token,
            None,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["disabled"], true);

    let login = app
        .token_request(
            &json!({"grant_type": "password", "username": "ja-staff", "password": USER_PASSWORD}),
        )
        .await;
    login.assert_problem(400, "invalid-grant");
    assert_eq!(login.json["error"], "invalid_grant");
    let refreshed = app
        .token_request(&json!({"grant_type": "refresh_token", "refresh_token": refresh}))
        .await;
    refreshed.assert_problem(400, "invalid-grant");
    app.get("/v1/me", &access)
        .await
        .assert_problem(401, "unauthenticated");

    // The disabled filter finds it.
    let reply = app.get("/v1/users?disabled=true", &t.ja_token).await;
    assert_eq!(item_ids(&reply), vec![id(&staff).to_owned()]);
}

/// A federation admin whose account belongs to the ja county (a seconded provincial
/// officer, say): visible to the ja admin, who manages accounts by their home org.
async fn federation_admin_homed_in_ja(app: &TestApp, t: &unionhall_tests::TwoCities) -> String {
    let body = json!({
        "username": "jx-officer",
        "password": USER_PASSWORD,
        "display_name": "省总工会派驻干部",
        "org_id": id(&t.ja_county),
        "roles": [
            {"role": "federation_admin", "org_id": app.root_org_id},
            {"role": "judge", "org_id": id(&t.ja_county)},
        ],
    });
    let reply = app.post("/v1/users", &t.admin, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    id(&reply.json).to_owned()
}

#[tokio::test]
async fn a_union_admin_cannot_strip_a_role_it_could_not_grant() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let officer = federation_admin_homed_in_ja(&app, &t).await;
    let path = format!("/v1/users/{officer}");
    // Keeping only the judge role would remove federation_admin at the root.
    let body = json!({"roles": [{"role": "judge", "org_id": id(&t.ja_county)}]});
    let reply = app.patch(&path, &t.ja_token, None, &body).await;
    assert!(
        matches!(reply.status.as_u16(), 403 | 422),
        "refused: {}",
        reply.text
    );
    refused_patch(
        &app,
        &t.ja_token,
        &path,
        None,
        &body,
        reply.status.as_u16(),
        if reply.status.as_u16() == 403 {
            "forbidden"
        } else {
            "validation"
        },
    )
    .await;
}

/// Bug (security): `users::update` (crates/api/src/routes/users.rs:293-325) lets any
/// admin whose reach covers an account's *home* org change its password or disable it,
/// checking grant power only for role changes. A city union_admin can therefore reset
/// the password of a federation_admin whose account belongs to an org in the city, log
/// in as it, and administer the whole province.
#[tokio::test]
async fn a_union_admin_cannot_take_over_a_federation_admin_homed_in_its_subtree() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let officer = federation_admin_homed_in_ja(&app, &t).await;
    let path = format!("/v1/users/{officer}");
    for body in [
        json!({"password": "taken-over-by-ja-admin"}),
        json!({"disabled": true}),
    ] {
        refused_patch(&app, &t.ja_token, &path, None, &body, 403, "forbidden").await;
    }
    // The officer's own password still works, and the ja admin's doesn't.
    app.login("jx-officer", USER_PASSWORD).await;
    app.token_request(&json!({"grant_type": "password", "username": "jx-officer",
                               "password": "taken-over-by-ja-admin"}))
        .await
        .assert_problem(400, "invalid-grant");
}

/// Bug (minor): when a PATCH would remove a binding outside the caller's reach,
/// `users::update` (crates/api/src/routes/users.rs:312-313) reports it with a pointer
/// indexed into the list of *removed* bindings (`/roles/0/org_id`), which names nothing
/// in the request — here the request's `roles` is empty. The caller can see the binding
/// (it is in the GET); it lacks the power to remove it: a 403, like granting it.
#[tokio::test]
async fn removing_a_role_outside_reach_is_forbidden_not_a_dangling_pointer() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let officer = federation_admin_homed_in_ja(&app, &t).await;
    refused_patch(
        &app,
        &t.ja_token,
        &format!("/v1/users/{officer}"),
        None,
        &json!({"roles": []}),
        403,
        "forbidden",
    )
    .await;
}

// ---------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------

/// GETs `path` as the federation admin and asserts a 422 pointing at `pointer`.
async fn assert_query_refused(app: &TestApp, path: &str, pointer: &str) {
    let admin = app.admin_token().await;
    let reply = app.get(path, &admin).await;
    reply.assert_problem(422, "validation");
    assert_eq!(reply.pointers(), vec![pointer.to_owned()], "{path}");
}

#[tokio::test]
async fn a_limit_over_the_maximum_is_refused_not_clamped() {
    let app = TestApp::spawn().await;
    for collection in ["/v1/orgs", "/v1/users"] {
        assert_query_refused(&app, &format!("{collection}?limit=201"), "/limit").await;
        let admin = app.admin_token().await;
        let ok = app.get(&format!("{collection}?limit=200"), &admin).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    }
}

#[tokio::test]
async fn a_zero_limit_is_refused() {
    let app = TestApp::spawn().await;
    for collection in ["/v1/orgs", "/v1/users"] {
        assert_query_refused(&app, &format!("{collection}?limit=0"), "/limit").await;
    }
}

#[tokio::test]
async fn a_non_numeric_limit_is_refused_at_limit() {
    let app = TestApp::spawn().await;
    for collection in ["/v1/orgs", "/v1/users"] {
        for bad in ["abc", "-1", "1.5", ""] {
            assert_query_refused(&app, &format!("{collection}?limit={bad}"), "/limit").await;
        }
    }
}

#[tokio::test]
async fn a_garbage_cursor_is_refused_at_cursor() {
    let app = TestApp::spawn().await;
    // A UUID encoded without the service's prefix is not a cursor it issued.
    let forged = "MDE5MGMyYTQtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAx";
    for collection in ["/v1/orgs", "/v1/users"] {
        for bad in ["garbage", "!!!", forged] {
            assert_query_refused(&app, &format!("{collection}?cursor={bad}"), "/cursor").await;
        }
    }
}

#[tokio::test]
async fn an_unknown_query_parameter_is_refused() {
    let app = TestApp::spawn().await;
    for collection in ["/v1/orgs", "/v1/users"] {
        assert_query_refused(&app, &format!("{collection}?colour=red"), "/colour").await;
    }
    // Including a misspelt filter, which would otherwise silently list everything.
    assert_query_refused(&app, "/v1/orgs?parentid=x", "/parentid").await;
}

#[tokio::test]
async fn a_bad_kind_or_parent_id_filter_is_refused() {
    let app = TestApp::spawn().await;
    assert_query_refused(&app, "/v1/orgs?kind=province", "/kind").await;
    assert_query_refused(&app, "/v1/orgs?parent_id=not-a-uuid", "/parent_id").await;
    assert_query_refused(&app, "/v1/orgs?region_code=36", "/region_code").await;
}

/// Creates `n` counties under `city`, returning their ids in creation order.
async fn make_counties(
    app: &TestApp,
    token: &str,
    city: &str,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let county = app
            .create_org(
                token,
                city,
                "county_federation",
                &format!("{prefix}-{i}"),
                "360803",
            )
            .await;
        ids.push(id(&county).to_owned());
    }
    ids
}

#[tokio::test]
async fn paging_walks_every_child_once_in_creation_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = app
        .create_org(&admin, &app.root_org_id, "city_federation", "ja", "360800")
        .await;
    let expected = make_counties(&app, &admin, id(&city), "county", 7).await;

    let mut seen: Vec<String> = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/v1/orgs?parent_id={}&limit=3", id(&city)),
            Some(c) => format!("/v1/orgs?parent_id={}&limit=3&cursor={c}", id(&city)),
        };
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let ids = item_ids(&page);
        sizes.push(ids.len());
        seen.extend(ids);
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                assert_eq!(page.json["next_cursor"], Value::Null);
                break;
            }
        }
        assert!(sizes.len() < 10, "paging terminates");
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(seen, expected, "every child once, in creation order");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);

    // An exact multiple of the page size ends with a null cursor, not an empty page.
    let page = app
        .get(&format!("/v1/orgs?parent_id={}&limit=7", id(&city)), &admin)
        .await;
    assert_eq!(item_ids(&page), expected);
    assert_eq!(page.json["next_cursor"], Value::Null);
}

#[tokio::test]
async fn paging_neither_repeats_nor_skips_when_orgs_are_added_between_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let city = app
        .create_org(&admin, &app.root_org_id, "city_federation", "ja", "360800")
        .await;
    let existing = make_counties(&app, &admin, id(&city), "old", 7).await;

    let mut seen: Vec<String> = Vec::new();
    let mut added: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => format!("/v1/orgs?parent_id={}&limit=3", id(&city)),
            Some(c) => format!("/v1/orgs?parent_id={}&limit=3&cursor={c}", id(&city)),
        };
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        seen.extend(item_ids(&page));
        pages += 1;
        // Between pages, more orgs arrive: under this city, and elsewhere.
        if pages <= 2 {
            added.extend(make_counties(&app, &admin, id(&city), &format!("new{pages}"), 2).await);
            app.create_org(
                &admin,
                &app.root_org_id,
                "city_federation",
                &format!("other{pages}"),
                "360400",
            )
            .await;
        }
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 20, "paging terminates");
    }
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "no repeats: {seen:?}");
    let old_seen: Vec<&String> = seen.iter().filter(|i| existing.contains(i)).collect();
    assert_eq!(
        old_seen,
        existing.iter().collect::<Vec<_>>(),
        "every pre-existing row once, in order"
    );
    // Ids are time-ordered, so rows added behind the cursor show up on later pages.
    let expected: Vec<String> = existing.iter().chain(&added).cloned().collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn paging_users_walks_every_account_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut expected = vec![my_id(&app, &admin).await];
    for i in 0..5 {
        let u = app
            .create_user(
                &admin,
                &format!("worker-{i}"),
                &app.root_org_id,
                "palace_staff",
            )
            .await;
        expected.push(id(&u).to_owned());
    }
    let mut seen = Vec::new();
    let mut path = "/v1/users?limit=2".to_owned();
    for _ in 0..10 {
        let page = app.get(&path, &admin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        seen.extend(item_ids(&page));
        match page.json["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/users?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

/// A small tree for the filter tests: the city ja with a county and a grassroots union,
/// and the city jj.
async fn filter_fixture(app: &TestApp, admin: &str) -> (Value, Value, Value, Value) {
    let make = |body: Value| async move {
        let reply = app.post("/v1/orgs", admin, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json
    };
    let ja = make(
        json!({"name": "吉安市总工会", "code": "ja", "kind": "city_federation",
                         "parent_id": app.root_org_id, "region_code": "360800"}),
    )
    .await;
    let qingyuan = make(json!({"name": "青原区总工会", "code": "ja-qingyuan",
                               "kind": "county_federation", "parent_id": id(&ja),
                               "region_code": "360803"}))
    .await;
    let factory = make(json!({"name": "吉安卷烟厂工会", "code": "ja-tobacco_1",
                              "kind": "grassroots_union", "parent_id": id(&ja),
                              "region_code": "360800"}))
    .await;
    let jj = make(
        json!({"name": "九江市总工会", "code": "jj", "kind": "city_federation",
                         "parent_id": app.root_org_id, "region_code": "360400"}),
    )
    .await;
    (ja, qingyuan, factory, jj)
}

#[tokio::test]
async fn listing_orgs_filters_by_kind() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (ja, qingyuan, factory, jj) = filter_fixture(&app, &admin).await;
    let reply = app.get("/v1/orgs?kind=city_federation", &admin).await;
    assert_eq!(item_ids(&reply), vec![id(&ja), id(&jj)]);
    let reply = app.get("/v1/orgs?kind=county_federation", &admin).await;
    assert_eq!(item_ids(&reply), vec![id(&qingyuan)]);
    let reply = app.get("/v1/orgs?kind=grassroots_union", &admin).await;
    assert_eq!(item_ids(&reply), vec![id(&factory)]);
    let reply = app.get("/v1/orgs?kind=gig_federation", &admin).await;
    assert_eq!(item_ids(&reply), Vec::<String>::new());
}

#[tokio::test]
async fn listing_orgs_filters_by_name_or_code_with_q() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (ja, qingyuan, factory, jj) = filter_fixture(&app, &admin).await;
    // A Chinese substring of the name.
    let reply = app.get("/v1/orgs?q=青原", &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(item_ids(&reply), vec![id(&qingyuan)]);
    let reply = app.get("/v1/orgs?q=吉安", &admin).await;
    assert_eq!(item_ids(&reply), vec![id(&ja), id(&factory)]);
    let reply = app.get("/v1/orgs?q=九江市", &admin).await;
    assert_eq!(item_ids(&reply), vec![id(&jj)]);
    // A substring of the code.
    let reply = app.get("/v1/orgs?q=qingyuan", &admin).await;
    assert_eq!(item_ids(&reply), vec![id(&qingyuan)]);
    let reply = app.get("/v1/orgs?q=ja-", &admin).await;
    assert_eq!(item_codes(&reply), vec!["ja-qingyuan", "ja-tobacco_1"]);
    // LIKE wildcards match literally.
    let reply = app.get("/v1/orgs?q=%25", &admin).await;
    assert_eq!(item_ids(&reply), Vec::<String>::new());
    let reply = app.get("/v1/orgs?q=o_1", &admin).await;
    assert_eq!(item_ids(&reply), vec![id(&factory)]);
    let reply = app.get("/v1/orgs?q=j_", &admin).await;
    assert_eq!(item_ids(&reply), Vec::<String>::new());
    // Nothing matches.
    let reply = app.get("/v1/orgs?q=南昌", &admin).await;
    assert_eq!(item_ids(&reply), Vec::<String>::new());
}

#[tokio::test]
async fn listing_orgs_filters_by_parent_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (ja, qingyuan, factory, jj) = filter_fixture(&app, &admin).await;
    let reply = app
        .get(&format!("/v1/orgs?parent_id={}", id(&ja)), &admin)
        .await;
    assert_eq!(item_ids(&reply), vec![id(&qingyuan), id(&factory)]);
    let reply = app
        .get(&format!("/v1/orgs?parent_id={}", app.root_org_id), &admin)
        .await;
    assert_eq!(item_ids(&reply), vec![id(&ja), id(&jj)]);
    let reply = app
        .get(&format!("/v1/orgs?parent_id={}", id(&jj)), &admin)
        .await;
    assert_eq!(item_ids(&reply), Vec::<String>::new());
    // Filters combine.
    let reply = app
        .get(
            &format!("/v1/orgs?parent_id={}&kind=grassroots_union", id(&ja)),
            &admin,
        )
        .await;
    assert_eq!(item_ids(&reply), vec![id(&factory)]);
    let reply = app
        .get(&format!("/v1/orgs?parent_id={}&q=青原", id(&ja)), &admin)
        .await;
    assert_eq!(item_ids(&reply), vec![id(&qingyuan)]);
}

// ---------------------------------------------------------------------------------
// Kept organisation pages (`page_cache`): never older than a committed change, never
// another reach's
// ---------------------------------------------------------------------------------

/// The names on the root's page of children, in order.
async fn city_names(app: &TestApp, token: &str) -> Vec<String> {
    let reply = app
        .get(&format!("/v1/orgs?parent_id={}", app.root_org_id), token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Renames an organisation through `app`, as the federation admin.
async fn rename(app: &TestApp, token: &str, org_id: &str, name: &str) {
    let current = app.get(&format!("/v1/orgs/{org_id}"), token).await;
    let reply = app
        .patch(
            &format!("/v1/orgs/{org_id}"),
            token,
            current.header("etag"),
            &json!({ "name": name }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[tokio::test]
async fn an_org_page_shows_each_change_at_once_when_asked_again() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let before = city_names(&app, &t.admin).await;
    assert_eq!(before, ["ja 工会", "jj 工会"]);
    assert_eq!(city_names(&app, &t.admin).await, before, "asked again");

    rename(&app, &t.admin, id(&t.ja), "吉安市总工会").await;
    assert_eq!(
        city_names(&app, &t.admin).await,
        ["吉安市总工会", "jj 工会"]
    );

    app.create_org(
        &t.admin,
        &app.root_org_id,
        "city_federation",
        "nc",
        "360100",
    )
    .await;
    assert_eq!(
        city_names(&app, &t.admin).await,
        ["吉安市总工会", "jj 工会", "nc 工会"]
    );
}

#[tokio::test]
async fn an_org_page_shows_changes_made_by_another_instance_or_by_hand() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    assert_eq!(city_names(&app, &t.admin).await, ["ja 工会", "jj 工会"]);

    // A second instance on the same database: the first hears nothing of its writes.
    let other = TestApp::spawn_on(app.config.database_url.as_deref().unwrap()).await;
    rename(&other, &t.admin, id(&t.jj), "九江市总工会").await;
    assert_eq!(
        city_names(&app, &t.admin).await,
        ["ja 工会", "九江市总工会"]
    );

    // An operator's UPDATE, outside any instance.
    let db = Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap();
    orgs::Entity::update_many()
        .col_expr(orgs::Column::Name, Expr::value("吉安市总工会"))
        .filter(orgs::Column::Id.eq(id(&t.ja).parse::<uuid::Uuid>().unwrap()))
        .exec(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(
        city_names(&app, &t.admin).await,
        ["吉安市总工会", "九江市总工会"]
    );
}

#[tokio::test]
async fn a_page_kept_for_one_reach_is_never_served_to_another() {
    let app = TestApp::spawn().await;
    let t = app.two_cities().await;
    let everything = app.get("/v1/orgs", &t.admin).await;
    assert!(item_ids(&everything).contains(&id(&t.jj).to_owned()));
    // The same question, at the same tree version, from a city admin.
    let reply = app.get("/v1/orgs", &t.ja_token).await;
    assert_eq!(
        item_ids(&reply),
        vec![id(&t.ja).to_owned(), id(&t.ja_county).to_owned()]
    );
}
