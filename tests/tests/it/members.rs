//! Members: enrolment rules and bad inputs, personal data sealed at rest and masked in
//! every answer, audited reveal, subtree isolation, one active membership per person
//! (also under concurrency), lifecycle and history, If-Match, paging and lookups.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use std::collections::HashSet;
use unionhall_domain::person::card_number_is_valid;
use unionhall_tests::{Reply, TestApp, TwoCities, USER_PASSWORD, id};

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// A valid resident ID number from Ji'an (360802) born on `birth` (YYYYMMDD); an odd
/// `seq` makes a man, an even one a woman.
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

/// The same number with a wrong check character.
fn with_bad_checksum(id: &str) -> String {
    let (body, check) = id.split_at(17);
    let wrong = if check == "0" { '1' } else { '0' };
    format!("{body}{wrong}")
}

fn phone(n: u32) -> String {
    format!("139{:08}", n)
}

fn member_body(org_id: &str, name: &str, id_no: &str, phone: &str) -> Value {
    json!({
        "org_id": org_id,
        "name": name,
        "id_number": id_no,
        "phone": phone,
        "occupation": "delivery_rider",
        "employment_form": "gig",
        "employer": "吉安某外卖站点",
    })
}

async fn create_member(app: &TestApp, token: &str, body: &Value) -> Value {
    let reply = app.post("/v1/members", token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json
}

fn ids(reply: &Reply) -> Vec<String> {
    reply.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list page: {}", reply.text))
        .iter()
        .map(|v| id(v).to_owned())
        .collect()
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

/// Asserts that no clear value appears in a response.
fn assert_no_clear(reply: &Reply, clear: &[&str]) {
    for value in clear {
        assert!(
            !reply.text.contains(value),
            "clear personal data leaked in {}",
            reply.text
        );
    }
}

async fn member_count(app: &TestApp) -> usize {
    let admin = app.admin_token().await;
    let reply = app.get("/v1/members?limit=200", &admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap().len()
}

async fn post_with_request_id(
    app: &TestApp,
    path: &str,
    token: &str,
    request_id: &str,
    body: &Value,
) -> Reply {
    Reply::from(
        app.request(Method::POST, path, Some(token))
            .header("X-Request-Id", request_id)
            .json(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

// ---------------------------------------------------------------------------------
// Creation, derivation, masking
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_member_is_created_with_derived_identity_a_card_and_masked_data() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let idn = id_number("19900315", 123); // odd: male
    let ph = phone(1);
    let reply = app
        .post(
            "/v1/members",
            &c.ja_token,
            &member_body(id(&c.ja_county), "买买提·吐尔逊", &idn, &ph),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let m = &reply.json;
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/members/{}", id(m)).as_str())
    );
    assert_eq!(m["name"], "买买提·吐尔逊");
    assert_eq!(m["gender"], "male");
    assert_eq!(m["birth_date"], "1990-03-15");
    assert_eq!(m["status"], "active");
    assert_eq!(m["org_id"], id(&c.ja_county));
    assert_eq!(m["occupation"], "delivery_rider");
    assert_eq!(m["employment_form"], "gig");
    assert_eq!(
        m["id_number"],
        format!("{}**********{}", &idn[..4], &idn[14..])
    );
    assert_eq!(m["phone"], format!("{}****{}", &ph[..3], &ph[7..]));
    let card = m["card_no"].as_str().unwrap();
    assert_eq!(card.len(), 15);
    assert!(card.starts_with("36"));
    assert!(card_number_is_valid(card), "{card}");
    assert_no_clear(&reply, &[&idn, &ph]);

    let got = app
        .get(&format!("/v1/members/{}", id(m)), &c.ja_token)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("etag"), Some("\"v1\""));
    assert_eq!(&got.json, m);
    assert_no_clear(&got, &[&idn, &ph]);

    let list = app.get("/v1/members", &c.ja_token).await;
    assert_eq!(ids(&list), vec![id(m).to_owned()]);
    assert_no_clear(&list, &[&idn, &ph]);

    let history = app
        .get(&format!("/v1/members/{}/history", id(m)), &c.ja_token)
        .await;
    assert_no_clear(&history, &[&idn, &ph]);

    // Sent gender and birth date that agree are accepted; a woman's number derives female.
    let woman = id_number("19851201", 42);
    let mut body = member_body(id(&c.ja), "王芳", &woman, &phone(2));
    body["gender"] = json!("female");
    body["birth_date"] = json!("1985-12-01");
    body["joined_on"] = json!("2020-05-01");
    let w = create_member(&app, &c.ja_token, &body).await;
    assert_eq!(w["gender"], "female");
    assert_eq!(w["joined_on"], "2020-05-01");
    assert_ne!(w["card_no"], m["card_no"]);
}

#[tokio::test]
async fn bad_personal_data_is_422_at_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let org = id(&c.ja);
    let good_id = id_number("19900315", 123);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            member_body(org, "张三", &with_bad_checksum(&good_id), &phone(1)),
            "/id_number",
            "checksum",
        ),
        (
            member_body(org, "张三", &good_id[..17], &phone(1)),
            "/id_number",
            "length",
        ),
        (
            member_body(org, "张三", &good_id, "12345678901"),
            "/phone",
            "phone",
        ),
        (
            member_body(org, "张三", &good_id, "1381234567"),
            "/phone",
            "phone",
        ),
        (
            member_body(org, "张\u{0007}三", &good_id, &phone(1)),
            "/name",
            "name",
        ),
        (
            member_body(org, "张三\n", &good_id, &phone(1)),
            "/name",
            "name",
        ),
        (member_body(org, "", &good_id, &phone(1)), "/name", "name"),
        (
            member_body(org, &"张".repeat(51), &good_id, &phone(1)),
            "/name",
            "name",
        ),
    ];
    for (body, pointer, code) in cases {
        let reply = app.post("/v1/members", &c.ja_token, &body).await;
        reply.assert_problem(422, "validation");
        assert!(
            error_codes(&reply).contains(&(pointer.to_owned(), code.to_owned())),
            "{pointer} {code}: {}",
            reply.text
        );
        assert!(!reply.text.contains(&good_id[..17]), "no echo of the ID");
    }

    // Gender and birth date must agree with the ID number.
    let mut body = member_body(org, "张三", &good_id, &phone(1));
    body["gender"] = json!("female");
    let reply = app.post("/v1/members", &c.ja_token, &body).await;
    reply.assert_problem(422, "validation");
    assert_eq!(
        error_codes(&reply),
        vec![("/gender".to_owned(), "id_number_mismatch".to_owned())]
    );
    let mut body = member_body(org, "张三", &good_id, &phone(1));
    body["birth_date"] = json!("1990-03-16");
    let reply = app.post("/v1/members", &c.ja_token, &body).await;
    assert_eq!(
        error_codes(&reply),
        vec![("/birth_date".to_owned(), "id_number_mismatch".to_owned())]
    );

    // Server-owned fields can't be sent.
    for (field, value) in [
        ("status", json!("lapsed")),
        ("card_no", json!("360000000000000")),
        ("id", json!("0190e5a4-0000-7000-8000-000000000000")),
    ] {
        let mut body = member_body(org, "张三", &good_id, &phone(1));
        body[field] = value;
        let reply = app.post("/v1/members", &c.ja_token, &body).await;
        reply.assert_problem(422, "validation");
        assert_eq!(
            error_codes(&reply),
            vec![(format!("/{field}"), "unknown_field".to_owned())]
        );
    }
    // Unknown enumerations, a joining date in the future, an org out of reach.
    let mut body = member_body(org, "张三", &good_id, &phone(1));
    body["occupation"] = json!("astronaut");
    app.post("/v1/members", &c.ja_token, &body)
        .await
        .assert_problem(422, "validation");
    let mut body = member_body(org, "张三", &good_id, &phone(1));
    body["joined_on"] = json!("2999-01-01");
    let reply = app.post("/v1/members", &c.ja_token, &body).await;
    assert_eq!(reply.pointers(), vec!["/joined_on"]);
    let reply = app
        .post(
            "/v1/members",
            &c.ja_token,
            &member_body(id(&c.jj), "张三", &good_id, &phone(1)),
        )
        .await;
    reply.assert_problem(422, "validation");
    assert_eq!(
        error_codes(&reply),
        vec![("/org_id".to_owned(), "not_found".to_owned())]
    );
    assert_eq!(member_count(&app).await, 0, "nothing was written");

    // The minority middle dot (and its look-alikes, normalised) is a valid name.
    let m = create_member(
        &app,
        &c.ja_token,
        &member_body(org, "阿依古丽 • 买买提", &good_id, "+86 139-0000-0001"),
    )
    .await;
    assert_eq!(m["name"], "阿依古丽·买买提");
}

#[tokio::test]
async fn only_admins_whose_reach_covers_the_member_may_touch_it() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let m = create_member(
        &app,
        &c.ja_token,
        &member_body(
            id(&c.ja_county),
            "李四",
            &id_number("19800101", 11),
            &phone(3),
        ),
    )
    .await;
    let path = format!("/v1/members/{}", id(&m));

    // Another city's admin: every door is a 404, and nothing changes.
    app.get(&path, &c.jj_token)
        .await
        .assert_problem(404, "not-found");
    app.patch(&path, &c.jj_token, None, &json!({"name": "改名"}))
        .await
        .assert_problem(404, "not-found");
    for (action, body) in [
        (
            "transfer",
            json!({"to_org_id": id(&c.jj), "reason": "调动"}),
        ),
        ("withdrawal", json!({"reason": "退会"})),
        ("lapse", json!({"reason": "失联"})),
        ("reinstatement", json!({"reason": "恢复"})),
        ("reveal", json!({"fields": ["id_number"], "reason": "核对"})),
    ] {
        app.post(&format!("{path}/{action}"), &c.jj_token, &body)
            .await
            .assert_problem(404, "not-found");
    }
    app.get(&format!("{path}/history"), &c.jj_token)
        .await
        .assert_problem(404, "not-found");
    let list = app.get("/v1/members", &c.jj_token).await;
    assert_eq!(ids(&list), Vec::<String>::new());
    let list = app
        .get(&format!("/v1/members?org_id={}", id(&c.ja)), &c.jj_token)
        .await;
    list.assert_problem(422, "validation");

    let admin = app.admin_token().await;
    let audit = app.get("/v1/audit-events", &admin).await;
    assert_eq!(ids(&audit), Vec::<String>::new(), "no reveal happened");
    let got = app.get(&path, &c.ja_token).await;
    assert_eq!(got.json, m, "unchanged");

    // A non-admin role can't read members at all.
    app.create_user(&admin, "ja-palace", id(&c.ja), "palace_staff")
        .await;
    let staff = app.login("ja-palace", USER_PASSWORD).await.0;
    app.get("/v1/members", &staff)
        .await
        .assert_problem(403, "forbidden");
    app.get(&path, &staff)
        .await
        .assert_problem(403, "forbidden");
    app.get("/v1/members", "not-a-token")
        .await
        .assert_problem(401, "unauthenticated");
}

// ---------------------------------------------------------------------------------
// One active membership per person
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_person_has_one_active_membership_and_the_409_names_it_only_in_reach() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let idn = id_number("19750606", 7);
    let first = create_member(
        &app,
        &c.ja_token,
        &member_body(id(&c.ja), "赵六", &idn, &phone(4)),
    )
    .await;

    // The federation admin sees the existing membership.
    let reply = app
        .post(
            "/v1/members",
            &c.admin,
            &member_body(id(&c.jj), "赵六", &idn.to_lowercase(), &phone(5)),
        )
        .await;
    reply.assert_problem(409, "conflict");
    assert_eq!(reply.json["existing_id"], id(&first));
    assert_eq!(reply.json["conflict"], "active_membership");

    // Another city's admin learns only that there is one.
    let reply = app
        .post(
            "/v1/members",
            &c.jj_token,
            &member_body(id(&c.jj), "赵六", &idn, &phone(5)),
        )
        .await;
    reply.assert_problem(409, "conflict");
    assert!(reply.json.get("existing_id").is_none(), "{}", reply.text);
    assert_eq!(member_count(&app).await, 1);
}

#[tokio::test]
async fn ten_concurrent_creates_of_one_person_make_exactly_one_member() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let idn = id_number("19951111", 99);
    let orgs = [id(&c.ja), id(&c.jj), id(&c.ja_county), id(&c.jj_county)];
    let replies = join_all((0..10).map(|i| {
        let body = member_body(orgs[i % orgs.len()], "并发", &idn, &phone(100 + i as u32));
        let app = &app;
        let token = c.admin.clone();
        async move { app.post("/v1/members", &token, &body).await }
    }))
    .await;
    let created: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert_eq!(
        created.len(),
        1,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        r.assert_problem(409, "conflict");
        assert_eq!(r.json["existing_id"], id(&created[0].json));
    }
    assert_eq!(member_count(&app).await, 1);
}

#[tokio::test]
async fn idempotent_create_replays_and_the_key_store_holds_no_clear_data() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let body = member_body(id(&c.ja), "钱七", &id_number("19880808", 21), &phone(6));
    let send = || async {
        Reply::from(
            app.request(Method::POST, "/v1/members", Some(&c.ja_token))
                .header("Idempotency-Key", "member-once")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let first = send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = send().await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json, first.json);
    assert_eq!(member_count(&app).await, 1);
}

// ---------------------------------------------------------------------------------
// Reveal and audit
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn reveal_gives_clear_values_and_writes_an_audit_row_with_the_request_id() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let idn = id_number("19700101", 31);
    let ph = phone(7);
    let m = create_member(
        &app,
        &c.ja_token,
        &member_body(id(&c.ja_county), "孙八", &idn, &ph),
    )
    .await;
    let path = format!("/v1/members/{}/reveal", id(&m));

    let reply = post_with_request_id(
        &app,
        &path,
        &c.ja_token,
        "reveal-req-0001",
        &json!({"fields": ["id_number", "phone"], "reason": "核对保险理赔身份"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["id_number"], idn);
    assert_eq!(reply.json["phone"], ph);
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    let reply = app
        .post(
            &path,
            &c.admin,
            &json!({"fields": ["phone"], "reason": "回访"}),
        )
        .await;
    assert_eq!(reply.json["phone"], ph);
    assert!(reply.json.get("id_number").is_none());

    // Bad requests reveal nothing and are not audited.
    for body in [
        json!({"fields": [], "reason": "x"}),
        json!({"fields": ["name"], "reason": "x"}),
        json!({"fields": ["phone"]}),
        json!({"fields": ["phone"], "reason": ""}),
        json!({"fields": ["phone"], "reason": "x", "extra": 1}),
    ] {
        app.post(&path, &c.ja_token, &body)
            .await
            .assert_problem(422, "validation");
    }

    let audit = app
        .get(&format!("/v1/audit-events?subject_id={}", id(&m)), &c.admin)
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let items = audit.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", audit.text);
    let ja_admin_id = app.get("/v1/me", &c.ja_token).await.json["id"].clone();
    assert_eq!(items[0]["actor_user_id"], ja_admin_id);
    assert_eq!(items[0]["action"], "reveal");
    assert_eq!(items[0]["subject_type"], "member");
    assert_eq!(items[0]["subject_id"], id(&m));
    assert_eq!(items[0]["fields"], json!(["id_number", "phone"]));
    assert_eq!(items[0]["reason"], "核对保险理赔身份");
    assert_eq!(items[0]["request_id"], "reveal-req-0001");
    assert!(items[0]["at"].is_string());
    assert_eq!(items[1]["fields"], json!(["phone"]));
    assert_no_clear(&audit, &[&idn, &ph]);

    // Paged, and for federation admins only.
    let page = app.get("/v1/audit-events?limit=1", &c.admin).await;
    assert_eq!(page.json["items"].as_array().unwrap().len(), 1);
    let cursor = page.json["next_cursor"].as_str().unwrap();
    let next = app
        .get(
            &format!("/v1/audit-events?limit=1&cursor={cursor}"),
            &c.admin,
        )
        .await;
    assert_eq!(next.json["items"][0]["fields"], json!(["phone"]));
    app.get("/v1/audit-events", &c.ja_token)
        .await
        .assert_problem(403, "forbidden");
}

// ---------------------------------------------------------------------------------
// Lifecycle and history
// ---------------------------------------------------------------------------------

async fn act(app: &TestApp, token: &str, member: &str, action: &str, body: &Value) -> Reply {
    app.post(&format!("/v1/members/{member}/{action}"), token, body)
        .await
}

#[tokio::test]
async fn lifecycle_transfer_withdraw_reinstate_lapse_with_history() {
    let app = TestApp::spawn().await;
    let TwoCities {
        admin,
        ja,
        jj,
        ja_county,
        ja_token,
        ..
    } = app.two_cities().await;
    let idn = id_number("19920202", 51);
    let m = create_member(
        &app,
        &ja_token,
        &member_body(id(&ja_county), "周九", &idn, &phone(8)),
    )
    .await;
    let mid = id(&m).to_owned();
    let card = m["card_no"].clone();

    // Within the city: allowed, card stable, still active.
    let r = act(
        &app,
        &ja_token,
        &mid,
        "transfer",
        &json!({"to_org_id": id(&ja), "reason": "工作调动"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["org_id"], id(&ja));
    assert_eq!(r.json["status"], "active");
    assert_eq!(r.json["card_no"], card);
    // To the same org, to another city (out of reach), or nowhere: 422.
    let r = act(
        &app,
        &ja_token,
        &mid,
        "transfer",
        &json!({"to_org_id": id(&ja), "reason": "x"}),
    )
    .await;
    assert_eq!(
        error_codes(&r),
        vec![("/to_org_id".into(), "same_org".into())]
    );
    let r = act(
        &app,
        &ja_token,
        &mid,
        "transfer",
        &json!({"to_org_id": id(&jj), "reason": "x"}),
    )
    .await;
    r.assert_problem(422, "validation");
    assert_eq!(
        error_codes(&r),
        vec![("/to_org_id".into(), "not_found".into())]
    );
    let r = act(
        &app,
        &ja_token,
        &mid,
        "transfer",
        &json!({"to_org_id": uuid::Uuid::now_v7(), "reason": "x"}),
    )
    .await;
    assert_eq!(r.pointers(), vec!["/to_org_id"]);
    let r = act(
        &app,
        &ja_token,
        &mid,
        "transfer",
        &json!({"to_org_id": id(&jj)}),
    )
    .await;
    assert_eq!(r.pointers(), vec!["/reason"]);
    // The federation admin reaches both cities.
    let r = act(
        &app,
        &admin,
        &mid,
        "transfer",
        &json!({"to_org_id": id(&jj), "reason": "跨市调动"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["org_id"], id(&jj));
    assert_eq!(r.json["card_no"], card);
    // Now out of the Ji'an admin's reach.
    app.get(&format!("/v1/members/{mid}"), &ja_token)
        .await
        .assert_problem(404, "not-found");

    let r = act(
        &app,
        &admin,
        &mid,
        "withdrawal",
        &json!({"reason": "本人申请退会"}),
    )
    .await;
    assert_eq!(r.json["status"], "withdrawn", "{}", r.text);
    act(
        &app,
        &admin,
        &mid,
        "withdrawal",
        &json!({"reason": "again"}),
    )
    .await
    .assert_problem(409, "conflict");
    act(&app, &admin, &mid, "lapse", &json!({"reason": "x"}))
        .await
        .assert_problem(409, "conflict");
    act(
        &app,
        &admin,
        &mid,
        "transfer",
        &json!({"to_org_id": id(&ja), "reason": "x"}),
    )
    .await
    .assert_problem(409, "conflict");
    let r = act(
        &app,
        &admin,
        &mid,
        "reinstatement",
        &json!({"reason": "重新入会"}),
    )
    .await;
    assert_eq!(r.json["status"], "active", "{}", r.text);
    act(
        &app,
        &admin,
        &mid,
        "reinstatement",
        &json!({"reason": "again"}),
    )
    .await
    .assert_problem(409, "conflict");
    let r = act(&app, &admin, &mid, "lapse", &json!({"reason": "长期失联"})).await;
    assert_eq!(r.json["status"], "lapsed", "{}", r.text);

    // While lapsed, the person may join elsewhere; then reinstating the old one is a 409.
    let again = create_member(
        &app,
        &ja_token,
        &member_body(id(&ja), "周九", &idn, &phone(9)),
    )
    .await;
    let r = act(
        &app,
        &admin,
        &mid,
        "reinstatement",
        &json!({"reason": "恢复"}),
    )
    .await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.json["existing_id"], id(&again));
    let still = app.get(&format!("/v1/members/{mid}"), &admin).await;
    assert_eq!(still.json["status"], "lapsed");

    let history = app.get(&format!("/v1/members/{mid}/history"), &admin).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    let events = history.json["items"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "joined",
            "transferred",
            "transferred",
            "withdrawn",
            "reinstated",
            "lapsed"
        ]
    );
    let ja_admin_id = app.get("/v1/me", &ja_token).await.json["id"].clone();
    let fed_admin_id = app.get("/v1/me", &admin).await.json["id"].clone();
    assert_eq!(events[0]["actor_user_id"], ja_admin_id);
    assert_eq!(events[0]["to_org_id"], id(&ja_county));
    assert_eq!(events[0]["to_status"], "active");
    assert_eq!(events[1]["from_org_id"], id(&ja_county));
    assert_eq!(events[1]["to_org_id"], id(&ja));
    assert_eq!(events[1]["reason"], "工作调动");
    assert_eq!(events[2]["to_org_id"], id(&jj));
    assert_eq!(events[2]["actor_user_id"], fed_admin_id);
    assert_eq!(events[3]["from_status"], "active");
    assert_eq!(events[3]["to_status"], "withdrawn");
    assert_eq!(events[3]["reason"], "本人申请退会");
    assert_eq!(events[5]["to_status"], "lapsed");
    for e in events {
        assert!(e["at"].is_string());
        assert!(e["request_id"].is_string());
    }
    let page = app
        .get(&format!("/v1/members/{mid}/history?limit=4"), &admin)
        .await;
    assert_eq!(page.json["items"].as_array().unwrap().len(), 4);
    assert!(page.json["next_cursor"].is_string());
}

// ---------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn patch_needs_a_fresh_etag_and_keeps_data_sealed() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let old_phone = phone(10);
    let new_phone = phone(11);
    let m = create_member(
        &app,
        &c.ja_token,
        &member_body(id(&c.ja), "吴十", &id_number("19660606", 61), &old_phone),
    )
    .await;
    let path = format!("/v1/members/{}", id(&m));

    let r = app
        .patch(
            &path,
            &c.ja_token,
            Some("\"v1\""),
            &json!({"name": "吴 十一", "phone": new_phone, "employer": null, "occupation": "courier", "employment_form": "standard"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("etag"), Some("\"v2\""));
    assert_eq!(r.json["name"], "吴 十一");
    assert_eq!(
        r.json["phone"],
        format!("{}****{}", &new_phone[..3], &new_phone[7..])
    );
    assert_eq!(r.json["employer"], Value::Null);
    assert_eq!(r.json["occupation"], "courier");
    assert_eq!(r.json["employment_form"], "standard");
    assert_eq!(r.json["card_no"], m["card_no"]);
    assert_no_clear(&r, &[&new_phone]);

    // A stale ETag is a 412, and nothing changes.
    let r = app
        .patch(&path, &c.ja_token, Some("\"v1\""), &json!({"name": "错误"}))
        .await;
    r.assert_problem(412, "precondition-failed");
    assert_eq!(app.get(&path, &c.ja_token).await.json["name"], "吴 十一");
    // Server-owned and identity fields can't be patched; bad values are 422s.
    for (body, pointer) in [
        (json!({"status": "active"}), "/status"),
        (json!({"card_no": "360000000000000"}), "/card_no"),
        (
            json!({"id_number": id_number("19660606", 61)}),
            "/id_number",
        ),
        (json!({"org_id": id(&c.jj)}), "/org_id"),
        (json!({"phone": "12345"}), "/phone"),
        (json!({"name": "a\u{0000}b"}), "/name"),
    ] {
        let r = app.patch(&path, &c.ja_token, Some("\"v2\""), &body).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.pointers(), vec![pointer], "{}", r.text);
    }
    // The lookup follows the new phone.
    let by_new = app
        .get(&format!("/v1/members?phone={new_phone}"), &c.ja_token)
        .await;
    assert_eq!(ids(&by_new), vec![id(&m).to_owned()]);
    let by_old = app
        .get(&format!("/v1/members?phone={old_phone}"), &c.ja_token)
        .await;
    assert_eq!(ids(&by_old), Vec::<String>::new());
    let reveal = app
        .post(
            &format!("{path}/reveal"),
            &c.ja_token,
            &json!({"fields": ["phone"], "reason": "核对"}),
        )
        .await;
    assert_eq!(reveal.json["phone"], new_phone);
    let kinds: Vec<String> = app.get(&format!("{path}/history"), &c.ja_token).await.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["joined", "updated"]);
}

// ---------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn lists_page_filter_and_look_up_by_keyed_hash() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let specs = [
        (id(&c.ja), "刘一", "delivery_rider", "gig"),
        (id(&c.ja_county), "刘二", "courier", "gig"),
        (id(&c.ja_county), "陈三", "factory_worker", "standard"),
        (id(&c.jj), "刘四", "live_streamer", "gig"),
        (id(&c.jj_county), "黄五", "truck_driver", "standard"),
    ];
    let mut made = Vec::new();
    for (i, (org, name, occupation, form)) in specs.iter().enumerate() {
        let mut body = member_body(
            org,
            name,
            &id_number("19900101", 200 + i as u32),
            &phone(200 + i as u32),
        );
        body["occupation"] = json!(occupation);
        body["employment_form"] = json!(form);
        made.push(create_member(&app, &c.admin, &body).await);
    }
    let all: Vec<String> = made.iter().map(|m| id(m).to_owned()).collect();

    // Paging: two at a time, in creation order, no repeats or gaps.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/members?limit=2&cursor={c}"),
            None => "/v1/members?limit=2".to_owned(),
        };
        let page = app.get(&path, &c.admin).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        seen.extend(ids(&page));
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, all);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5);

    let q = |query: &str, token: &str| {
        let path = format!("/v1/members?{query}");
        let app = &app;
        let token = token.to_owned();
        async move {
            let r = app.get(&path, &token).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
            ids(&r)
        }
    };
    assert_eq!(
        q(&format!("org_id={}", id(&c.ja)), &c.admin).await,
        all[0..3]
    );
    assert_eq!(
        q(&format!("org_id={}", id(&c.ja_county)), &c.admin).await,
        all[1..3]
    );
    assert_eq!(
        q(&format!("org_id={}", id(&c.jj)), &c.admin).await,
        all[3..5]
    );
    assert_eq!(q("", &c.ja_token).await, all[0..3], "reach limits the list");
    assert_eq!(
        q("employment_form=standard", &c.admin).await,
        vec![all[2].clone(), all[4].clone()]
    );
    assert_eq!(
        q("occupation=courier", &c.admin).await,
        vec![all[1].clone()]
    );
    assert_eq!(q("status=active", &c.admin).await, all);
    assert_eq!(q("status=withdrawn", &c.admin).await, Vec::<String>::new());
    assert_eq!(
        q(&format!("q={}", urlencode("刘")), &c.admin).await,
        vec![all[0].clone(), all[1].clone(), all[3].clone()]
    );
    let card = made[2]["card_no"].as_str().unwrap();
    assert_eq!(
        q(&format!("q={}", &card[..10]), &c.admin).await,
        vec![all[2].clone()]
    );

    // Exact lookups through the keyed hash, in any accepted spelling.
    let idn = id_number("19900101", 202);
    assert_eq!(
        q(&format!("id_number={idn}"), &c.admin).await,
        vec![all[2].clone()]
    );
    assert_eq!(
        q(&format!("id_number={}", idn.to_lowercase()), &c.admin).await,
        vec![all[2].clone()]
    );
    assert_eq!(
        q(&format!("id_number={idn}"), &c.jj_token).await,
        Vec::<String>::new()
    );
    let ph = phone(204);
    assert_eq!(
        q(
            &format!("phone={}", urlencode(&format!("+86 {ph}"))),
            &c.admin
        )
        .await,
        vec![all[4].clone()]
    );

    // Bad filters are 422s at the parameter.
    for (query, pointer, code) in [
        (
            format!("id_number={}", with_bad_checksum(&idn)),
            "/id_number",
            "checksum",
        ),
        ("phone=123".to_owned(), "/phone", "phone"),
        ("status=retired".to_owned(), "/status", "enum"),
        ("limit=201".to_owned(), "/limit", "range"),
        ("colour=red".to_owned(), "/colour", "unknown_parameter"),
    ] {
        let r = app.get(&format!("/v1/members?{query}"), &c.admin).await;
        r.assert_problem(422, "validation");
        assert_eq!(
            error_codes(&r),
            vec![(pointer.to_owned(), code.to_owned())],
            "{query}"
        );
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// At rest
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_database_holds_no_clear_id_number_or_phone() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let mut clear = Vec::new();
    for i in 0..3u32 {
        let idn = id_number("19870707", 300 + i);
        let ph = phone(300 + i);
        let m = Reply::from(
            app.request(Method::POST, "/v1/members", Some(&c.ja_token))
                .header("Idempotency-Key", format!("scan-{i}"))
                .json(&member_body(id(&c.ja), "郑一", &idn, &ph))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(m.status, StatusCode::CREATED, "{}", m.text);
        let path = format!("/v1/members/{}", id(&m.json));
        let r = app
            .post(
                &format!("{path}/reveal"),
                &c.ja_token,
                &json!({"fields": ["id_number", "phone"], "reason": "核对"}),
            )
            .await;
        assert_eq!(r.json["id_number"], idn);
        act(
            &app,
            &c.ja_token,
            id(&m.json),
            "withdrawal",
            &json!({"reason": "退会"}),
        )
        .await;
        clear.push(idn.clone());
        clear.push(idn[6..14].to_owned() + &idn[14..]); // the tail after the region
        clear.push(ph.clone());
    }

    let db = Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap();
    let backend = db.get_database_backend();
    let tables: [(&str, &[&str]); 4] = [
        (
            "members",
            &[
                "name",
                "gender",
                "id_number_enc",
                "id_number_hash",
                "phone_enc",
                "phone_hash",
                "employer",
                "occupation",
                "employment_form",
                "card_no",
                "status",
            ],
        ),
        (
            "audit_events",
            &["action", "subject_type", "fields", "reason", "request_id"],
        ),
        (
            "member_events",
            &["kind", "from_status", "to_status", "reason", "request_id"],
        ),
        (
            "idempotency_keys",
            &["key", "request_hash", "response_body", "location"],
        ),
    ];
    let mut scanned = 0;
    for (table, columns) in tables {
        let sql = format!("SELECT {} FROM {table}", columns.join(", "));
        let rows = db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{table} has rows");
        for row in rows {
            for col in columns {
                let value: Option<String> = row.try_get("", col).unwrap();
                let Some(value) = value else { continue };
                scanned += 1;
                for secret in &clear {
                    assert!(
                        !value.contains(secret.as_str()),
                        "{table}.{col} holds clear personal data"
                    );
                }
            }
        }
    }
    assert!(scanned > 40);
    db.close().await.unwrap();

    // On SQLite, the database file itself (and its write-ahead log) too.
    if !app.on_postgres() {
        let dir = app.config.data_dir.clone();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.starts_with("test.db") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for secret in &clear {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{name} holds clear personal data"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_generated_pii_key_is_private_and_survives_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    use unionhall_api::config::Config;
    use unionhall_api::pii::Field;
    use unionhall_api::server;
    let dir = tempfile::tempdir().unwrap();
    let config = || Config {
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        jwt_secret: None,
        pii_key: None,
        admin_password: Some("first-admin-password".into()),
        ..Config::default()
    };
    let first = server::prepare(config()).await.unwrap();
    let key_file = dir.path().join("pii-key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "only the owner may read the key");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().len(), 64);
    let sealed = first.pii.encrypt(Field::Phone, "13900000001").unwrap();
    first.db.close().await.unwrap();
    let second = server::prepare(config()).await.unwrap();
    assert_eq!(
        second.pii.decrypt(Field::Phone, &sealed).unwrap(),
        "13900000001"
    );
}
