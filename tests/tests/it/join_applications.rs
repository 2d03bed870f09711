//! Join applications and member accounts: anonymous self-service with a chosen
//! password, approval (member, card and account in one go) and rejection, the
//! applicant's status secret, bad inputs, already-members, throttling, subtree
//! isolation, concurrent approvals of one person, and what a member account may see.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use unionhall_domain::person::card_number_is_valid;
use unionhall_tests::{Reply, TestApp, id};

const APPLICANT_PASSWORD: &str = "my-own-secret-pw";

/// A valid resident ID number from Ji'an (360802) born on `birth` (YYYYMMDD).
fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("360802{birth}{:03}", seq % 1000);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn phone(n: u32) -> String {
    format!("137{:08}", n)
}

fn application(org_id: &str, id_no: &str, phone: &str) -> Value {
    json!({
        "org_id": org_id,
        "name": "李小龙",
        "id_number": id_no,
        "phone": phone,
        "occupation": "delivery_rider",
        "employment_form": "gig",
        "password": APPLICANT_PASSWORD,
    })
}

/// POST without a token.
async fn anonymous_post(app: &TestApp, path: &str, body: &Value) -> Reply {
    Reply::from(
        app.request(Method::POST, path, None)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn apply(app: &TestApp, body: &Value) -> Value {
    let reply = anonymous_post(app, "/v1/join-applications", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json
}

async fn get_with_secret(app: &TestApp, app_id: &str, secret: &str) -> Reply {
    Reply::from(
        app.request(
            Method::GET,
            &format!("/v1/join-applications/{app_id}"),
            None,
        )
        .header("X-Application-Secret", secret)
        .send()
        .await
        .unwrap(),
    )
    .await
}

async fn decide(app: &TestApp, token: &str, app_id: &str, what: &str, body: &Value) -> Reply {
    app.post(
        &format!("/v1/join-applications/{app_id}/{what}"),
        token,
        body,
    )
    .await
}

fn ids(reply: &Reply) -> Vec<String> {
    reply.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list page: {}", reply.text))
        .iter()
        .map(|v| id(v).to_owned())
        .collect()
}

async fn application_count(app: &TestApp) -> usize {
    let admin = app.admin_token().await;
    let reply = app.get("/v1/join-applications?limit=200", &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap().len()
}

async fn member_count(app: &TestApp) -> usize {
    let admin = app.admin_token().await;
    let reply = app.get("/v1/members?limit=200", &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap().len()
}

fn error_codes(reply: &Reply) -> Vec<(String, String)> {
    reply.json["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    (
                        e["pointer"].as_str().unwrap_or("").to_owned(),
                        e["code"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn anonymous_apply_approve_then_the_member_logs_in_and_sees_its_own_record() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let idn = id_number("19920202", 11);
    let ph = phone(1);
    let submitted = apply(&app, &application(id(&c.ja_county), &idn, &ph)).await;
    let app_id = id(&submitted).to_owned();
    assert_eq!(submitted["status"], "pending");
    assert_eq!(submitted["has_password"], true);
    assert_eq!(submitted["birth_date"], "1992-02-02");
    assert_eq!(
        submitted["id_number"],
        format!("{}**********{}", &idn[..4], &idn[14..])
    );
    assert!(submitted["submitted_by_user_id"].is_null());
    let secret = submitted["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 40);
    assert!(!submitted.to_string().contains(&idn));
    assert!(!submitted.to_string().contains(&ph));
    assert!(!submitted.to_string().contains(APPLICANT_PASSWORD));

    // The applicant follows the status with the secret; nothing else opens it.
    let seen = get_with_secret(&app, &app_id, &secret).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    assert_eq!(seen.json["status"], "pending");
    assert!(seen.json.get("secret").is_none(), "shown once only");
    get_with_secret(&app, &app_id, "uha_wrong")
        .await
        .assert_problem(404, "not-found");
    let anonymous = Reply::from(
        app.request(
            Method::GET,
            &format!("/v1/join-applications/{app_id}"),
            None,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    anonymous.assert_problem(401, "unauthenticated");

    // The city's admin sees it pending in the subtree and approves it.
    let pending = app
        .get("/v1/join-applications?status=pending", &c.ja_token)
        .await;
    assert_eq!(ids(&pending), vec![app_id.clone()]);
    let by_org = app
        .get(
            &format!("/v1/join-applications?org_id={}", id(&c.ja)),
            &c.ja_token,
        )
        .await;
    assert_eq!(ids(&by_org), vec![app_id.clone()]);
    let approved = decide(&app, &c.ja_token, &app_id, "approval", &json!({})).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["status"], "approved");
    assert!(approved.json["decided_at"].is_string());
    let member_id = approved.json["member_id"].as_str().unwrap().to_owned();
    let card = approved.json["card_no"].as_str().unwrap().to_owned();
    assert!(card_number_is_valid(&card), "{card}");

    let member = app
        .get(&format!("/v1/members/{member_id}"), &c.ja_token)
        .await;
    assert_eq!(member.status, StatusCode::OK);
    assert_eq!(member.json["org_id"], id(&c.ja_county));
    assert_eq!(member.json["card_no"], card.as_str());
    assert_eq!(member.json["status"], "active");

    // Deciding again is a conflict.
    decide(&app, &c.ja_token, &app_id, "approval", &json!({}))
        .await
        .assert_problem(409, "conflict");
    decide(
        &app,
        &c.ja_token,
        &app_id,
        "rejection",
        &json!({"reason": "晚了"}),
    )
    .await
    .assert_problem(409, "conflict");
    assert_eq!(member_count(&app).await, 1);

    // The applicant sees the outcome and the card number.
    let seen = get_with_secret(&app, &app_id, &secret).await;
    assert_eq!(seen.json["status"], "approved");
    assert_eq!(seen.json["card_no"], card.as_str());

    // …and logs in with the card number and the password they chose.
    let (token, _) = app.login(&card, APPLICANT_PASSWORD).await;
    let me = app.get("/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json["username"], card.as_str());
    assert_eq!(me.json["roles"], json!([]));
    assert_eq!(me.json["member"]["id"], member_id.as_str());
    assert_eq!(me.json["member"]["card_no"], card.as_str());
    assert_eq!(
        me.json["member"]["phone"],
        format!("{}****{}", &ph[..3], &ph[7..])
    );
    assert!(!me.text.contains(&idn));
    let own = app.get("/v1/me/member", &token).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.json["id"], member_id.as_str());
    let own = app.get(&format!("/v1/members/{member_id}"), &token).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let mine = app
        .get(&format!("/v1/join-applications/{app_id}"), &token)
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);

    // Neither the application nor the account keeps the ID number, phone or password
    // in clear.
    let db = Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap();
    let backend = db.get_database_backend();
    let tables: [(&str, &[&str]); 2] = [
        (
            "join_applications",
            &[
                "name",
                "id_number_enc",
                "id_number_hash",
                "phone_enc",
                "phone_hash",
                "password_hash",
                "secret_hash",
            ],
        ),
        ("users", &["username", "password_hash", "display_name"]),
    ];
    for (table, columns) in tables {
        let sql = format!("SELECT {} FROM {table}", columns.join(", "));
        let rows = db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
        assert!(!rows.is_empty());
        for row in rows {
            for col in columns {
                let value: Option<String> = row.try_get("", col).unwrap();
                let Some(value) = value else { continue };
                for clear in [&idn[6..], &ph, APPLICANT_PASSWORD, &secret] {
                    assert!(!value.contains(clear), "{table}.{col} holds a clear value");
                }
            }
        }
    }
    db.close().await.unwrap();

    // A staff account has no member record.
    let staff_me = app.get("/v1/me", &c.ja_token).await;
    assert!(staff_me.json.get("member").is_none());
    app.get("/v1/me/member", &c.ja_token)
        .await
        .assert_problem(404, "not-found");
}

#[tokio::test]
async fn rejection_needs_a_reason_and_is_final() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let idn = id_number("19880808", 21);
    let submitted = apply(&app, &application(id(&c.ja), &idn, &phone(2))).await;
    let app_id = id(&submitted).to_owned();
    let secret = submitted["secret"].as_str().unwrap().to_owned();

    for (body, pointer) in [
        (json!({}), "/reason"),
        (json!({"reason": ""}), "/reason"),
        (json!({"reason": "   "}), "/reason"),
        (json!({"reason": "x".repeat(501)}), "/reason"),
        (json!({"reason": "ok", "status": "approved"}), "/status"),
    ] {
        let r = decide(&app, &c.ja_token, &app_id, "rejection", &body).await;
        r.assert_problem(422, "validation");
        let pointers = r.pointers();
        assert!(
            !pointers.is_empty() && pointers.iter().all(|p| p == pointer),
            "{}",
            r.text
        );
    }
    let rejected = decide(
        &app,
        &c.ja_token,
        &app_id,
        "rejection",
        &json!({"reason": "材料不全"}),
    )
    .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.text);
    assert_eq!(rejected.json["status"], "rejected");
    assert_eq!(rejected.json["reason"], "材料不全");
    assert!(rejected.json["member_id"].is_null());

    decide(&app, &c.ja_token, &app_id, "approval", &json!({}))
        .await
        .assert_problem(409, "conflict");
    decide(
        &app,
        &c.ja_token,
        &app_id,
        "rejection",
        &json!({"reason": "再拒"}),
    )
    .await
    .assert_problem(409, "conflict");
    assert_eq!(member_count(&app).await, 0);

    let seen = get_with_secret(&app, &app_id, &secret).await;
    assert_eq!(seen.json["status"], "rejected");
    assert_eq!(seen.json["reason"], "材料不全");

    // No longer pending: the person may apply again.
    apply(&app, &application(id(&c.ja), &idn, &phone(2))).await;
}

#[tokio::test]
async fn bad_applications_are_422_at_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let org = id(&c.ja);
    let idn = id_number("19900101", 31);
    let bad_checksum = {
        let (body, check) = idn.split_at(17);
        format!("{body}{}", if check == "0" { '1' } else { '0' })
    };
    let with = |field: &str, value: Value| {
        let mut body = application(org, &idn, &phone(3));
        body[field] = value;
        body
    };
    let without_password = {
        let mut body = application(org, &idn, &phone(3));
        body.as_object_mut().unwrap().remove("password");
        body
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with("id_number", json!(bad_checksum)),
            "/id_number",
            "checksum",
        ),
        (with("phone", json!("12345678901")), "/phone", "phone"),
        (
            with("status", json!("approved")),
            "/status",
            "unknown_field",
        ),
        (with("member_id", json!(org)), "/member_id", "unknown_field"),
        (
            with("password", json!("short")),
            "/password",
            "password_length",
        ),
        (without_password, "/password", "required"),
        (
            with("gender", json!("female")),
            "/gender",
            "id_number_mismatch",
        ),
        (with("name", json!("")), "/name", "name"),
        (
            with("occupation", json!("astronaut")),
            "/occupation",
            "enum",
        ),
        (
            with("org_id", json!(uuid::Uuid::now_v7().to_string())),
            "/org_id",
            "not_found",
        ),
    ];
    for (body, pointer, code) in cases {
        let r = anonymous_post(&app, "/v1/join-applications", &body).await;
        r.assert_problem(422, "validation");
        let codes = error_codes(&r);
        assert!(
            codes.iter().any(|(p, c)| p == pointer && c == code),
            "{pointer} {code}: {}",
            r.text
        );
        assert!(
            !r.text.contains(&idn[6..]),
            "no clear ID number in {}",
            r.text
        );
    }
    // Malformed JSON and other media types.
    let r = Reply::from(
        app.request(Method::POST, "/v1/join-applications", None)
            .header("Content-Type", "application/json")
            .body("{\"org_id\":")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.assert_problem(400, "malformed-request");
    assert_eq!(application_count(&app).await, 0);

    // Staff may apply on someone's behalf (without a password: no account then), but
    // only to unions in their reach.
    let r = app
        .post(
            "/v1/join-applications",
            &c.jj_token,
            &with("password", Value::Null),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/org_id".to_owned()]);
    assert_eq!(application_count(&app).await, 0);
    let r = app
        .post(
            "/v1/join-applications",
            &c.ja_token,
            &with("password", Value::Null),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json["has_password"], false);
    assert!(r.json["submitted_by_user_id"].is_string());
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/join-applications/{}", id(&r.json)).as_str())
    );
    // Retrying with the same Idempotency-Key replays the first answer.
    let again = Reply::from(
        app.request(Method::POST, "/v1/join-applications", Some(&c.ja_token))
            .header("Idempotency-Key", "apply-once")
            .json(&with("id_number", json!(id_number("19900101", 33))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    let replay = Reply::from(
        app.request(Method::POST, "/v1/join-applications", Some(&c.ja_token))
            .header("Idempotency-Key", "apply-once")
            .json(&with("id_number", json!(id_number("19900101", 33))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json, again.json);
    assert_eq!(application_count(&app).await, 2);
    let approved = decide(&app, &c.ja_token, id(&r.json), "approval", &json!({})).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let card = approved.json["card_no"].as_str().unwrap();
    let login = app
        .token_request(
            &json!({"grant_type": "password", "username": card, "password": APPLICANT_PASSWORD}),
        )
        .await;
    assert_eq!(login.status.as_u16(), 400, "no account without a password");
}

#[tokio::test]
async fn an_active_member_cannot_apply_and_the_409_names_it_only_to_staff_in_reach() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let idn = id_number("19790909", 41);
    let mut body = application(id(&c.ja), &idn, &phone(4));
    body.as_object_mut().unwrap().remove("password");
    let member = app.post("/v1/members", &c.ja_token, &body).await;
    assert_eq!(member.status, StatusCode::CREATED, "{}", member.text);

    let r = anonymous_post(
        &app,
        "/v1/join-applications",
        &application(id(&c.jj), &idn, &phone(5)),
    )
    .await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.json["conflict"], "active_membership");
    assert!(r.json.get("existing_id").is_none(), "{}", r.text);

    let r = app
        .post(
            "/v1/join-applications",
            &c.admin,
            &application(id(&c.jj), &idn, &phone(5)),
        )
        .await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.json["existing_id"], id(&member.json));

    let r = app
        .post(
            "/v1/join-applications",
            &c.jj_token,
            &application(id(&c.jj), &idn, &phone(5)),
        )
        .await;
    r.assert_problem(409, "conflict");
    assert!(r.json.get("existing_id").is_none(), "{}", r.text);
    assert_eq!(application_count(&app).await, 0);

    // One pending application per person and union.
    let other = id_number("19790910", 43);
    apply(&app, &application(id(&c.ja), &other, &phone(6))).await;
    let r = anonymous_post(
        &app,
        "/v1/join-applications",
        &application(id(&c.ja), &other, &phone(7)),
    )
    .await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.json["conflict"], "pending_application");
    assert_eq!(application_count(&app).await, 1);
}

#[tokio::test]
async fn anonymous_applications_are_throttled_per_address() {
    let app = TestApp::spawn_with(|c| c.join_max_per_ip = 2).await;
    let c = app.two_cities().await;
    for i in 0..2 {
        apply(
            &app,
            &application(id(&c.ja), &id_number("19910101", 50 + i), &phone(50 + i)),
        )
        .await;
    }
    let r = anonymous_post(
        &app,
        "/v1/join-applications",
        &application(id(&c.ja), &id_number("19910101", 60), &phone(60)),
    )
    .await;
    r.assert_problem(429, "too-many-requests");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(application_count(&app).await, 2);
    // Staff on someone's behalf are not throttled by the anonymous limit.
    let r = app
        .post(
            "/v1/join-applications",
            &c.ja_token,
            &application(id(&c.ja), &id_number("19910101", 61), &phone(61)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn another_citys_admin_can_neither_see_nor_decide_an_application() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let submitted = apply(
        &app,
        &application(id(&c.ja_county), &id_number("19930303", 71), &phone(71)),
    )
    .await;
    let app_id = id(&submitted);

    let list = app.get("/v1/join-applications", &c.jj_token).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(ids(&list).is_empty());
    let r = app
        .get(
            &format!("/v1/join-applications?org_id={}", id(&c.ja)),
            &c.jj_token,
        )
        .await;
    r.assert_problem(422, "validation");
    app.get(&format!("/v1/join-applications/{app_id}"), &c.jj_token)
        .await
        .assert_problem(404, "not-found");
    decide(&app, &c.jj_token, app_id, "approval", &json!({}))
        .await
        .assert_problem(404, "not-found");
    decide(
        &app,
        &c.jj_token,
        app_id,
        "rejection",
        &json!({"reason": "不归我管"}),
    )
    .await
    .assert_problem(404, "not-found");
    assert_eq!(member_count(&app).await, 0);

    // The city above sees it; the federation admin too.
    let list = app.get("/v1/join-applications", &c.ja_token).await;
    assert_eq!(ids(&list), vec![app_id.to_owned()]);
    let got = app
        .get(&format!("/v1/join-applications/{app_id}"), &c.admin)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.json.get("secret").is_none());

    // Paging.
    let page = app.get("/v1/join-applications?limit=201", &c.admin).await;
    page.assert_problem(422, "validation");
}

#[tokio::test]
async fn concurrent_approvals_of_one_persons_applications_make_one_member() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    for round in 0..2u32 {
        let idn = id_number("19960606", 80 + round);
        let orgs = [id(&c.ja), id(&c.jj), id(&c.ja_county), id(&c.jj_county)];
        let mut app_ids = Vec::new();
        for (i, org) in orgs.iter().enumerate() {
            let a = apply(
                &app,
                &application(org, &idn, &phone(80 + round * 10 + i as u32)),
            )
            .await;
            app_ids.push(id(&a).to_owned());
        }
        let replies = join_all(app_ids.iter().map(|app_id| {
            let app = &app;
            let token = c.admin.clone();
            async move { decide(app, &token, app_id, "approval", &json!({})).await }
        }))
        .await;
        let ok: Vec<&Reply> = replies
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .collect();
        assert_eq!(
            ok.len(),
            1,
            "{:?}",
            replies.iter().map(|r| &r.text).collect::<Vec<_>>()
        );
        for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
            r.assert_problem(409, "conflict");
            assert_eq!(r.json["existing_id"], ok[0].json["member_id"]);
        }
        // The losers are still pending; one member, one account.
        let pending = app
            .get("/v1/join-applications?status=pending&limit=200", &c.admin)
            .await;
        assert_eq!(ids(&pending).len(), 3);
        for app_id in &app_ids {
            let r = decide(
                &app,
                &c.admin,
                app_id,
                "rejection",
                &json!({"reason": "已入会"}),
            )
            .await;
            assert!(r.status == StatusCode::OK || r.status == StatusCode::CONFLICT);
        }
    }
    assert_eq!(member_count(&app).await, 2);
}

#[tokio::test]
async fn a_member_account_is_set_by_staff_and_sees_only_its_own_record() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let mut members = Vec::new();
    for i in 0..2u32 {
        let mut body = application(id(&c.ja), &id_number("19850505", 90 + i), &phone(90 + i));
        body.as_object_mut().unwrap().remove("password");
        let m = app.post("/v1/members", &c.ja_token, &body).await;
        assert_eq!(m.status, StatusCode::CREATED, "{}", m.text);
        members.push(m.json);
    }
    let (mine, other) = (&members[0], &members[1]);
    let card = mine["card_no"].as_str().unwrap();
    let account_path = format!("/v1/members/{}/account", id(mine));

    // Only admins in reach, and only a real password.
    app.post(
        &account_path,
        &c.jj_token,
        &json!({"password": "a-good-password"}),
    )
    .await
    .assert_problem(404, "not-found");
    let r = app
        .post(&account_path, &c.ja_token, &json!({"password": "short"}))
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/password".to_owned()]);
    let r = app
        .post(
            &account_path,
            &c.ja_token,
            &json!({"password": "first-password", "roles": []}),
        )
        .await;
    r.assert_problem(422, "validation");
    let created = app
        .post(
            &account_path,
            &c.ja_token,
            &json!({"password": "first-password"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["username"], card);
    let (old_token, _) = app.login(card, "first-password").await;
    let reset = app
        .post(
            &account_path,
            &c.ja_token,
            &json!({"password": "second-password"}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(reset.json["user_id"], created.json["user_id"]);
    let refused = app
        .token_request(
            &json!({"grant_type": "password", "username": card, "password": "first-password"}),
        )
        .await;
    assert_eq!(refused.status.as_u16(), 400);
    let (token, _) = app.login(card, "second-password").await;
    drop(old_token);

    // Its own record, and nothing else.
    let own = app.get(&format!("/v1/members/{}", id(mine)), &token).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.json["card_no"], card);
    app.get(&format!("/v1/members/{}", id(other)), &token)
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/members/{}", uuid::Uuid::now_v7()), &token)
        .await
        .assert_problem(404, "not-found");
    for path in [
        "/v1/members".to_owned(),
        "/v1/users".to_owned(),
        "/v1/join-applications".to_owned(),
        format!("/v1/members/{}/history", id(mine)),
    ] {
        app.get(&path, &token)
            .await
            .assert_problem(403, "forbidden");
    }
    let mut body = application(id(&c.ja), &id_number("19850505", 99), &phone(99));
    body.as_object_mut().unwrap().remove("password");
    app.post("/v1/members", &token, &body)
        .await
        .assert_problem(403, "forbidden");
    app.post(
        &format!("/v1/members/{}/reveal", id(mine)),
        &token,
        &json!({"fields": ["id_number"], "reason": "看看"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        &format!("/v1/members/{}/account", id(mine)),
        &token,
        &json!({"password": "third-password"}),
    )
    .await
    .assert_problem(403, "forbidden");

    // Member accounts are not staff accounts: the staff list doesn't show them.
    let staff = app.get(&format!("/v1/users?q={card}"), &c.ja_token).await;
    assert_eq!(staff.status, StatusCode::OK);
    assert!(ids(&staff).is_empty(), "{}", staff.text);
    app.get(
        &format!("/v1/users/{}", created.json["user_id"].as_str().unwrap()),
        &c.admin,
    )
    .await
    .assert_problem(404, "not-found");
}
