//! Delivery platforms and rider rosters: registration and client credentials, what a
//! platform token may do, snapshot and delta syncs with their per-row reports (bad rows
//! named, good rows applied), unchanged resyncs, deactivation, NDJSON, auto-enrolment
//! and linking, serialised concurrent syncs and idempotent replays.

use futures_util::StreamExt;
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;
use unionhall_tests::riders::{id_number, rider};
use unionhall_tests::{Reply, TestApp, TwoCities, id};

fn with_bad_checksum(id: &str) -> String {
    let (body, check) = id.split_at(17);
    let wrong = if check == "0" { '1' } else { '0' };
    format!("{body}{wrong}")
}

fn riders(range: std::ops::Range<u32>) -> Vec<Value> {
    range.map(|n| rider(n, false)).collect()
}

struct Registered {
    code: String,
    client_id: String,
    client_secret: String,
    token: String,
}

async fn register(app: &TestApp, admin: &str, org_id: &str, code: &str, auto: bool) -> Registered {
    let reply = app
        .post(
            "/v1/platforms",
            admin,
            &json!({"code": code, "name": format!("{code} 外卖"), "org_id": org_id, "auto_enrol": auto}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let client_id = reply.json["client_id"].as_str().unwrap().to_owned();
    let client_secret = reply.json["client_secret"].as_str().unwrap().to_owned();
    let token = app
        .token_request(&json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }))
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text);
    assert!(token.json.get("refresh_token").is_none(), "{}", token.text);
    Registered {
        code: code.to_owned(),
        client_id,
        client_secret,
        token: token.json["access_token"].as_str().unwrap().to_owned(),
    }
}

async fn put_roster(app: &TestApp, token: &str, code: &str, body: &Value) -> Reply {
    Reply::from(
        app.request(
            Method::PUT,
            &format!("/v1/platforms/{code}/roster"),
            Some(token),
        )
        .json(body)
        .send()
        .await
        .unwrap(),
    )
    .await
}

async fn put_ndjson(app: &TestApp, token: &str, code: &str, body: String) -> Reply {
    Reply::from(
        app.request(
            Method::PUT,
            &format!("/v1/platforms/{code}/roster"),
            Some(token),
        )
        .header("Content-Type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap(),
    )
    .await
}

fn counts(report: &Value) -> [u64; 7] {
    [
        "received",
        "created",
        "updated",
        "unchanged",
        "deactivated",
        "rejected",
        "enrolled",
    ]
    .map(|k| {
        report[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {report}"))
    })
}

async fn all_riders(app: &TestApp, token: &str, code: &str, status: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/platforms/{code}/riders?status={status}&limit=200");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = app.get(&path, token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        out.extend(reply.json["items"].as_array().unwrap().iter().cloned());
        match reply.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

async fn fixture() -> (TestApp, TwoCities, Registered) {
    let app = TestApp::spawn().await;
    let cities = app.two_cities().await;
    let platform = register(&app, &cities.ja_token, id(&cities.ja), "mt-ja", false).await;
    (app, cities, platform)
}

// ---------------------------------------------------------------------------------

#[tokio::test]
async fn registration_client_credentials_and_what_a_platform_token_may_do() {
    let (app, c, p) = fixture().await;

    // The platform reads back without its secret; outside the union's reach it is 404.
    let got = app.get("/v1/platforms/mt-ja", &c.ja_token).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json["client_id"], p.client_id.as_str());
    assert!(got.json.get("client_secret").is_none());
    assert!(!got.text.contains(&p.client_secret));
    app.get("/v1/platforms/mt-ja", &c.jj_token)
        .await
        .assert_problem(404, "not-found");
    let listed = app.get("/v1/platforms", &c.ja_token).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);
    let listed = app.get("/v1/platforms", &c.jj_token).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 0);

    // A union admin can't register a platform for a union outside their reach; a code is unique.
    let outside = app
        .post(
            "/v1/platforms",
            &c.ja_token,
            &json!({"code": "x-jj", "name": "x", "org_id": id(&c.jj), "auto_enrol": false}),
        )
        .await;
    assert_eq!(
        outside.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        outside.text
    );
    assert_eq!(outside.pointers(), vec!["/org_id"]);
    app.post(
        "/v1/platforms",
        &c.admin,
        &json!({"code": "mt-ja", "name": "again", "org_id": id(&c.ja), "auto_enrol": false}),
    )
    .await
    .assert_problem(409, "conflict");

    // Wrong secret, unknown client: one refusal.
    for (client, secret) in [
        (p.client_id.as_str(), "uhs_wrong"),
        ("uhc_nobody", p.client_secret.as_str()),
    ] {
        let reply = app
            .token_request(&json!({"grant_type": "client_credentials", "client_id": client, "client_secret": secret}))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
        assert_eq!(reply.json["error"], "invalid_client", "{}", reply.text);
    }
    // The platform's account has no usable password.
    let reply = app
        .token_request(&json!({"grant_type": "password", "username": "platform:mt-ja", "password": p.client_secret}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);

    // A platform token: its own roster only.
    for path in [
        "/v1/members",
        "/v1/platforms",
        "/v1/platforms/mt-ja",
        "/v1/orgs",
        "/v1/me",
    ] {
        app.get(path, &p.token)
            .await
            .assert_problem(403, "forbidden");
    }
    app.get("/v1/platforms/mt-ja/riders", &p.token)
        .await
        .assert_problem(403, "forbidden");
    let other = register(&app, &c.jj_token, id(&c.jj), "mt-jj", false).await;
    put_roster(&app, &p.token, &other.code, &json!([rider(1, false)]))
        .await
        .assert_problem(404, "not-found");
    put_roster(&app, &other.token, &p.code, &json!([rider(1, false)]))
        .await
        .assert_problem(404, "not-found");
    let ok = put_roster(&app, &p.token, &p.code, &json!([rider(1, false)])).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // An admin in reach may sync too; one outside can't see the platform.
    put_roster(&app, &c.jj_token, &p.code, &json!([]))
        .await
        .assert_problem(404, "not-found");

    // An idempotent registration replays without the secret.
    let body =
        json!({"code": "eleme-ja", "name": "饿了么", "org_id": id(&c.ja), "auto_enrol": true});
    let send = || {
        app.request(Method::POST, "/v1/platforms", Some(&c.ja_token))
            .header("Idempotency-Key", "reg-eleme")
            .json(&body)
            .send()
    };
    let first = Reply::from(send().await.unwrap()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert!(first.json["client_secret"].is_string());
    let again = Reply::from(send().await.unwrap()).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json["id"], first.json["id"]);
    assert!(again.json["client_secret"].is_null());
}

#[tokio::test]
async fn a_snapshot_with_five_percent_bad_rows_names_each_and_applies_the_rest() {
    let (app, c, p) = fixture().await;
    let mut rows = riders(0..100);
    rows[3]["id_number"] = json!(with_bad_checksum(&id_number(3)));
    rows[17]["phone"] = json!("12345");
    rows[42].as_object_mut().unwrap().remove("name");
    rows[60]["external_id"] = json!("R-00061"); // the same as row 61
    let report = put_roster(&app, &p.token, &p.code, &Value::Array(rows)).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let r = &report.json;
    assert_eq!(counts(r), [100, 95, 0, 0, 0, 5, 0], "{r}");
    let named: Vec<(u64, String, String)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["pointer"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        named,
        vec![
            (3, "/3/id_number".into(), "checksum".into()),
            (17, "/17/phone".into(), "phone".into()),
            (42, "/42/name".into(), "required".into()),
            (60, "/60/external_id".into(), "duplicate".into()),
            (61, "/61/external_id".into(), "duplicate".into()),
        ],
        "{r}"
    );
    assert_eq!(r["errors"][0]["external_id"], "R-00003");
    // Good rows are there, bad ones aren't; personal data is masked.
    let active = all_riders(&app, &c.ja_token, &p.code, "active").await;
    assert_eq!(active.len(), 95);
    let ids: HashSet<&str> = active
        .iter()
        .map(|r| r["external_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains("R-00000") && !ids.contains("R-00003") && !ids.contains("R-00061"));
    assert!(active[0]["id_number"].as_str().unwrap().contains('*'));
    assert!(active[0]["phone"].as_str().unwrap().contains('*'));
    assert!(active[0]["member_id"].is_null());
    // The stored report is the same.
    let location = report.header("location").unwrap().to_owned();
    assert_eq!(
        location,
        format!(
            "/v1/platforms/{}/roster/syncs/{}",
            p.code,
            r["sync_id"].as_str().unwrap()
        )
    );
    let stored = app.get(&location, &p.token).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text);
    assert_eq!(&stored.json, r);
    let stored = app.get(&location, &c.ja_token).await;
    assert_eq!(&stored.json, r);
    app.get(&location, &c.jj_token)
        .await
        .assert_problem(404, "not-found");
    // Not a JSON array at all: the whole request is refused.
    put_roster(&app, &p.token, &p.code, &json!({"riders": []}))
        .await
        .assert_problem(400, "malformed-request");
}

#[tokio::test]
async fn the_same_snapshot_twice_is_unchanged_and_absent_riders_become_inactive() {
    let (app, c, p) = fixture().await;
    let snapshot = Value::Array(riders(0..40));
    let first = put_roster(&app, &p.token, &p.code, &snapshot).await;
    assert_eq!(
        counts(&first.json),
        [40, 40, 0, 0, 0, 0, 0],
        "{}",
        first.text
    );
    let before = all_riders(&app, &c.ja_token, &p.code, "active").await;
    let again = put_roster(&app, &p.token, &p.code, &snapshot).await;
    assert_eq!(
        counts(&again.json),
        [40, 0, 0, 40, 0, 0, 0],
        "{}",
        again.text
    );
    assert_ne!(again.json["sync_id"], first.json["sync_id"]);
    // Nothing was written: every rider's updated_at is as it was.
    let after = all_riders(&app, &c.ja_token, &p.code, "active").await;
    assert_eq!(before, after);

    // 10 leave, 2 change, 5 join.
    let mut next = riders(10..45);
    next[0]["phone"] = json!("13700000000");
    next[1]["consent_to_join"] = json!(true);
    let third = put_roster(&app, &p.token, &p.code, &Value::Array(next)).await;
    assert_eq!(
        counts(&third.json),
        [35, 5, 2, 28, 10, 0, 0],
        "{}",
        third.text
    );
    let inactive = all_riders(&app, &c.ja_token, &p.code, "inactive").await;
    assert_eq!(inactive.len(), 10);
    assert_eq!(inactive[0]["status"], "inactive");
    assert_eq!(
        all_riders(&app, &c.ja_token, &p.code, "active").await.len(),
        35
    );
    // A rider coming back is an update that makes them active again.
    let back = put_roster(&app, &p.token, &p.code, &Value::Array(riders(0..45))).await;
    // (riders 10 and 11 also change back.)
    assert_eq!(
        counts(&back.json),
        [45, 0, 12, 33, 0, 0, 0],
        "{}",
        back.text
    );
    // An empty snapshot deactivates everyone.
    let empty = put_roster(&app, &p.token, &p.code, &json!([])).await;
    assert_eq!(
        counts(&empty.json),
        [0, 0, 0, 0, 45, 0, 0],
        "{}",
        empty.text
    );
}

#[tokio::test]
async fn ndjson_with_a_broken_line() {
    let (app, c, p) = fixture().await;
    let mut lines: Vec<String> = riders(0..6).iter().map(Value::to_string).collect();
    lines[2] = r#"{"external_id": "R-00002", "name": "#.into();
    lines.insert(4, String::new()); // blank lines are skipped, but count as lines
    let body = lines.join("\n") + "\n";
    let reply = put_ndjson(&app, &p.token, &p.code, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(counts(&reply.json), [6, 5, 0, 0, 0, 1, 0], "{}", reply.text);
    assert_eq!(reply.json["errors"][0]["index"], 2);
    assert_eq!(reply.json["errors"][0]["pointer"], "/2");
    assert_eq!(reply.json["errors"][0]["code"], "malformed");
    assert_eq!(
        all_riders(&app, &c.ja_token, &p.code, "active").await.len(),
        5
    );
    // Other media types are refused.
    let reply = Reply::from(
        app.request(
            Method::PUT,
            &format!("/v1/platforms/{}/roster", p.code),
            Some(&p.token),
        )
        .header("Content-Type", "text/csv")
        .body("a,b")
        .send()
        .await
        .unwrap(),
    )
    .await;
    reply.assert_problem(415, "unsupported-media-type");
}

#[tokio::test]
async fn delta_changes() {
    let (app, c, p) = fixture().await;
    put_roster(&app, &p.token, &p.code, &Value::Array(riders(0..10))).await;
    let mut changed = rider(3, false);
    changed["name"] = json!("骑手李");
    let mut bad = rider(20, false);
    bad["region_code"] = json!("369999");
    let reply = app
        .post(
            &format!("/v1/platforms/{}/roster/changes", p.code),
            &p.token,
            &json!({
                "upsert": [changed, rider(11, false), rider(4, false), bad],
                "deactivate": ["R-00000", "R-00001", "R-99999"],
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let r = &reply.json;
    assert_eq!(r["kind"], "delta");
    assert_eq!(counts(r), [7, 1, 1, 1, 2, 2, 0], "{r}");
    let pointers: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        vec!["/deactivate/2", "/upsert/3/region_code"],
        "{r}"
    );
    assert_eq!(
        all_riders(&app, &c.ja_token, &p.code, "active").await.len(),
        9
    );
    assert_eq!(
        all_riders(&app, &c.ja_token, &p.code, "inactive")
            .await
            .len(),
        2
    );
    // A delta doesn't deactivate riders it doesn't name.
    let quiet = app
        .post(
            &format!("/v1/platforms/{}/roster/changes", p.code),
            &p.token,
            &json!({"upsert": [rider(5, false)]}),
        )
        .await;
    assert_eq!(counts(&quiet.json), [1, 0, 0, 1, 0, 0, 0], "{}", quiet.text);
}

#[tokio::test]
async fn auto_enrolment_creates_members_and_links_existing_ones() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let p = register(&app, &c.ja_token, id(&c.ja_county), "mt-auto", true).await;
    // Rider 7 is already an active member in another city.
    let existing = app
        .post(
            "/v1/members",
            &c.jj_token,
            &json!({
                "org_id": id(&c.jj), "name": "骑手张", "id_number": id_number(7),
                "phone": "13900000007", "occupation": "delivery_rider", "employment_form": "gig",
            }),
        )
        .await;
    assert_eq!(existing.status, StatusCode::CREATED, "{}", existing.text);
    let snapshot = json!([
        rider(1, true),
        rider(2, false),
        rider(7, true),
        rider(8, true)
    ]);
    let reply = put_roster(&app, &p.token, &p.code, &snapshot).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(counts(&reply.json), [4, 4, 0, 0, 0, 0, 2], "{}", reply.text);
    assert_eq!(reply.json["linked"], 1);

    let riders = all_riders(&app, &c.ja_token, &p.code, "active").await;
    let member_of =
        |ext: &str| riders.iter().find(|r| r["external_id"] == ext).unwrap()["member_id"].clone();
    assert!(member_of("R-00002").is_null());
    assert_eq!(member_of("R-00007"), existing.json["id"]);
    let enrolled = member_of("R-00001");
    let member = app
        .get(
            &format!("/v1/members/{}", enrolled.as_str().unwrap()),
            &c.ja_token,
        )
        .await;
    assert_eq!(member.status, StatusCode::OK, "{}", member.text);
    assert_eq!(member.json["org_id"], id(&c.ja_county));
    assert_eq!(member.json["status"], "active");
    assert_eq!(member.json["occupation"], "delivery_rider");
    // Resyncing changes nothing and enrols no one twice; consenting later enrols.
    let again = put_roster(&app, &p.token, &p.code, &snapshot).await;
    assert_eq!(counts(&again.json), [4, 0, 0, 4, 0, 0, 0], "{}", again.text);
    let consent = put_roster(
        &app,
        &p.token,
        &p.code,
        &json!([
            rider(1, true),
            rider(2, true),
            rider(7, true),
            rider(8, true)
        ]),
    )
    .await;
    assert_eq!(
        counts(&consent.json),
        [4, 0, 1, 3, 0, 0, 1],
        "{}",
        consent.text
    );
    let listed = app
        .get(
            &format!("/v1/members?org_id={}", id(&c.ja_county)),
            &c.ja_token,
        )
        .await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn concurrent_syncs_of_one_platform_are_serialised() {
    let (app, c, p) = fixture().await;
    let a = Value::Array(riders(0..60));
    let b = Value::Array(riders(30..90));
    let replies = join_all([
        put_roster(&app, &p.token, &p.code, &a),
        put_roster(&app, &p.token, &p.code, &b),
    ])
    .await;
    for r in &replies {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let mut seen: Vec<[u64; 7]> = replies.iter().map(|r| counts(&r.json)).collect();
    seen.sort();
    // Whichever ran first created 60; the second saw all of the first's writes.
    assert_eq!(
        seen,
        vec![[60, 30, 0, 30, 30, 0, 0], [60, 60, 0, 0, 0, 0, 0]],
        "{seen:?}"
    );
    assert_eq!(
        all_riders(&app, &c.ja_token, &p.code, "active").await.len(),
        60
    );
    assert_eq!(
        all_riders(&app, &c.ja_token, &p.code, "inactive")
            .await
            .len(),
        30
    );
}

#[tokio::test]
async fn an_idempotency_key_replays_the_stored_report() {
    let (app, _c, p) = fixture().await;
    let send = |body: Value| {
        app.request(
            Method::PUT,
            &format!("/v1/platforms/{}/roster", p.code),
            Some(&p.token),
        )
        .header("Idempotency-Key", "sync-2026-11-29")
        .json(&body)
        .send()
    };
    let first = Reply::from(send(Value::Array(riders(0..5))).await.unwrap()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let again = Reply::from(send(Value::Array(riders(0..5))).await.unwrap()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json);
    assert_eq!(counts(&again.json), [5, 5, 0, 0, 0, 0, 0]);
    let other = Reply::from(send(Value::Array(riders(0..6))).await.unwrap()).await;
    other.assert_problem(422, "validation");
}

/// Roster syncs are bulk writes: they get `bulk_request_timeout_secs`, not the
/// ordinary request timeout, so a sync that takes longer than an ordinary request may
/// still finish. The body here arrives in two parts 2.5 s apart, past the 1 s timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_roster_sync_gets_the_bulk_timeout_not_the_ordinary_one() {
    let app = TestApp::spawn_with(|c| c.request_timeout_secs = 1).await;
    let cities = app.two_cities().await;
    let platform = register(&app, &cities.ja_token, id(&cities.ja), "mt-slow", true).await;
    let lines = [rider(0, true), rider(1, true)].map(|r| format!("{r}\n"));
    let parts =
        futures_util::stream::iter(lines.into_iter().enumerate()).then(|(i, line)| async move {
            if i > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
            }
            Ok::<_, std::io::Error>(line.into_bytes())
        });
    let reply = Reply::from(
        app.request(
            Method::PUT,
            &format!("/v1/platforms/{}/roster", platform.code),
            Some(&platform.token),
        )
        .header("content-type", "application/x-ndjson")
        .body(reqwest::Body::wrap_stream(parts))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["created"], 2, "{}", reply.text);
    assert_eq!(reply.json["enrolled"], 2, "{}", reply.text);
}

/// A snapshot big enough to be sealed on several threads keeps every rider's own
/// personal data with their own row: each masked phone ends in its rider's serial.
#[tokio::test]
async fn a_large_snapshot_keeps_each_riders_own_personal_data() {
    let (app, c, p) = fixture().await;
    let n = 5_000;
    let body: String = riders(0..n).iter().map(|r| format!("{r}\n")).collect();
    let sync = put_ndjson(&app, &p.token, &p.code, body).await;
    assert_eq!(
        counts(&sync.json),
        [u64::from(n), u64::from(n), 0, 0, 0, 0, 0],
        "{}",
        sync.text
    );
    let listed = all_riders(&app, &c.ja_token, &p.code, "active").await;
    assert_eq!(listed.len(), n as usize);
    for r in &listed {
        let serial: u32 = r["external_id"].as_str().unwrap()[2..].parse().unwrap();
        let phone = r["phone"].as_str().unwrap();
        assert!(
            phone.ends_with(&format!("{:04}", serial % 10_000)),
            "{} has {phone}",
            r["external_id"]
        );
        let id_number = r["id_number"].as_str().unwrap();
        let expected = unionhall_tests::riders::id_number(serial);
        assert_eq!(
            id_number.chars().last(),
            expected.chars().last(),
            "{} has {id_number}",
            r["external_id"]
        );
    }
}
