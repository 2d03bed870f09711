//! Labour-dispute mediation: cases registered with the worker's data sealed and
//! masked, every bad input's 422 (nothing written), mediators assigned by role (only
//! real mediators over the room), outcomes and their amounts, the transitions' 409s,
//! the fifteen-day rule on cases dated back (also in a room on another time zone) and
//! its list filter, isolation between cities and between mediators, the audited
//! reveal, If-Match, the stats' arithmetic, two outcomes racing, and the demo's pilot
//! figures.
//!
//! Time: "today" is the room's local date. Shanghai is UTC+8 and Pago Pago UTC−11 all
//! year, so the tests compute both from the same clock the service reads.

use chrono::{Duration, FixedOffset, NaiveDate, Utc};
use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use unionhall_tests::riders::id_number;
use unionhall_tests::{Reply, TestApp, TwoCities, USER_PASSWORD, id};

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

fn today_at(offset_hours: i32) -> NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(offset_hours * 3600).unwrap())
        .date_naive()
}

/// Today in Asia/Shanghai.
fn today() -> NaiveDate {
    today_at(8)
}

fn days_ago(n: i64) -> String {
    (today() - Duration::days(n)).to_string()
}

fn phone(n: u32) -> String {
    format!("1370796{n:04}")
}

/// A valid new case in `org`, received `ago` days before today.
fn case_body(org: &str, n: u32, ago: i64) -> Value {
    json!({
        "org_id": org,
        "worker": {"name": "王建华", "id_number": id_number(n), "phone": phone(n)},
        "employer": {"name": "吉安市某某物流有限公司"},
        "category": "wages",
        "claimed_fen": 1_250_000,
        "channel": "walk_in",
        "received_on": days_ago(ago),
    })
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    let reply = app.post("/v1/mediation/cases", token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json
}

fn path(case: &Value) -> String {
    format!("/v1/mediation/cases/{}", id(case))
}

async fn assign(app: &TestApp, token: &str, case: &Value, user: &str, role: &str) -> Reply {
    app.post(
        &format!("{}/assignment", path(case)),
        token,
        &json!({"user_id": user, "role": role}),
    )
    .await
}

async fn outcome(app: &TestApp, token: &str, case: &Value, body: Value) -> Reply {
    app.post(&format!("{}/outcome", path(case)), token, &body)
        .await
}

fn assert_refused(reply: &Reply, pointer: &str, code: &str) {
    reply.assert_problem(422, "validation");
    let found = reply.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["pointer"] == pointer && e["code"] == code);
    assert!(found, "expected {pointer} {code} in {}", reply.text);
}

fn ids(reply: &Reply) -> Vec<String> {
    let mut ids: Vec<String> = reply.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", reply.text))
        .iter()
        .map(|c| id(c).to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(cases: &[&Value]) -> Vec<String> {
    let mut ids: Vec<String> = cases.iter().map(|c| id(c).to_owned()).collect();
    ids.sort();
    ids
}

/// Two cities; a mediation room under Ji'an; mediators bound at the room, at the
/// Ji'an city federation (above the room) and in Jiujiang; a judge in the room.
struct World {
    app: TestApp,
    c: TwoCities,
    room: Value,
    /// User ids and tokens.
    room_mediator: (String, String),
    city_mediator: (String, String),
    jj_mediator: (String, String),
    judge: (String, String),
}

async fn staff(
    app: &TestApp,
    admin: &str,
    username: &str,
    org: &str,
    role: &str,
) -> (String, String) {
    let user = app.create_user(admin, username, org, role).await;
    let token = app.login(username, USER_PASSWORD).await.0;
    (id(&user).to_owned(), token)
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let room = app
        .create_org(&c.admin, id(&c.ja), "grassroots_union", "ja-room", "360800")
        .await;
    let room_mediator = staff(&app, &c.admin, "room-lawyer", id(&room), "mediator").await;
    let city_mediator = staff(&app, &c.admin, "ja-coordinator", id(&c.ja), "mediator").await;
    let jj_mediator = staff(&app, &c.admin, "jj-mediator", id(&c.jj), "mediator").await;
    let judge = staff(&app, &c.admin, "room-judge", id(&room), "judge").await;
    World {
        app,
        c,
        room,
        room_mediator,
        city_mediator,
        jj_mediator,
        judge,
    }
}

// ---------------------------------------------------------------------------------
// Registering and reading
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_case_is_registered_sealed_and_shown_masked() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let mut body = case_body(id(&w.room), 1, 3);
    body["reference"] = json!("（2026）吉劳调字第001号");
    let reply = app.post("/v1/mediation/cases", &c.ja_token, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let case = reply.json.clone();
    assert_eq!(reply.header("location"), Some(path(&case).as_str()));
    let idn = id_number(1);
    assert_eq!(case["org_id"], id(&w.room));
    assert_eq!(case["reference"], "（2026）吉劳调字第001号");
    assert_eq!(case["worker"]["name"], "王建华");
    assert_eq!(
        case["worker"]["id_number"],
        format!("{}**********{}", &idn[..4], &idn[14..])
    );
    assert_eq!(case["worker"]["phone"], "137****0001");
    assert_eq!(case["worker"]["member_id"], Value::Null);
    assert_eq!(case["employer"]["name"], "吉安市某某物流有限公司");
    assert_eq!(case["status"], "received");
    assert_eq!(case["outcome"], Value::Null);
    assert_eq!(case["claimed_fen"], 1_250_000);
    assert_eq!(case["days_since_received"], 3);
    assert_eq!(case["may_proceed_to_arbitration"], false);
    assert_eq!(
        case["arbitration_opens_on"],
        (today() + Duration::days(12)).to_string()
    );
    assert_eq!(case["time_zone"], "Asia/Shanghai");
    assert_eq!(case["mediators"], json!([]));
    assert!(!reply.text.contains(&idn) && !reply.text.contains(&phone(1)));

    let got = app.get(&path(&case), &c.ja_token).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("etag"), Some("\"v1\""));
    assert_eq!(got.json, case);
    // The federation admin sees it too; the list holds it.
    assert_eq!(app.get(&path(&case), &c.admin).await.json, case);
    let list = app.get("/v1/mediation/cases", &c.ja_token).await;
    assert_eq!(ids(&list), vec![id(&case).to_owned()]);

    // The same docket number in the same room is a 409; in another room it is fine.
    let mut again = case_body(id(&w.room), 2, 0);
    again["reference"] = json!("（2026）吉劳调字第001号");
    app.post("/v1/mediation/cases", &c.ja_token, &again)
        .await
        .assert_problem(409, "conflict");
    again["org_id"] = json!(id(&c.ja_county));
    create(app, &c.ja_token, &again).await;

    // A phone is optional; received today is fine.
    let mut no_phone = case_body(id(&w.room), 3, 0);
    no_phone["worker"].as_object_mut().unwrap().remove("phone");
    let created = create(app, &c.ja_token, &no_phone).await;
    assert_eq!(created["worker"]["phone"], Value::Null);
    assert_eq!(created["days_since_received"], 0);

    // Retried with its Idempotency-Key, a registration happens once.
    let send = || {
        app.request(
            reqwest::Method::POST,
            "/v1/mediation/cases",
            Some(&c.ja_token),
        )
        .header("Idempotency-Key", "case-4")
        .json(&case_body(id(&w.room), 4, 1))
        .send()
    };
    let first = Reply::from(send().await.unwrap()).await;
    let second = Reply::from(send().await.unwrap()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.json["id"], second.json["id"]);
    let all = app.get("/v1/mediation/cases", &c.ja_token).await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 4);

    // The database holds neither the ID number nor the phone in clear.
    let db = Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT worker_id_number_enc, worker_id_number_hash, worker_phone_enc, \
             worker_phone_hash FROM mediation_cases"
                .to_owned(),
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        for col in [
            "worker_id_number_enc",
            "worker_id_number_hash",
            "worker_phone_enc",
            "worker_phone_hash",
        ] {
            let value: Option<String> = row.try_get("", col).unwrap();
            let value = value.unwrap_or_default();
            for n in 1..=4 {
                assert!(!value.contains(&id_number(n)[..14]), "{col} in clear");
                assert!(!value.contains(&phone(n)), "{col} in clear");
            }
        }
    }
    db.close().await.unwrap();
}

#[tokio::test]
async fn bad_input_is_a_422_with_pointers_and_writes_nothing() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let room = id(&w.room);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut body = case_body(room, 1, 1);
        f(&mut body);
        body
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&|b| b["status"] = json!("closed")),
            "/status",
            "unknown_field",
        ),
        (
            with(&|b| b["worker"]["nickname"] = json!("小王")),
            "/worker/nickname",
            "unknown_field",
        ),
        (
            with(&|b| b["category"] = json!("salary")),
            "/category",
            "enum",
        ),
        (with(&|b| b["channel"] = json!("email")), "/channel", "enum"),
        (
            with(&|b| b["claimed_fen"] = json!(-1)),
            "/claimed_fen",
            "negative",
        ),
        (
            with(&|b| b["claimed_fen"] = json!(12.5)),
            "/claimed_fen",
            "type",
        ),
        (
            with(&|b| b["claimed_fen"] = json!(1_000_000_000_001_i64)),
            "/claimed_fen",
            "out_of_range",
        ),
        (
            with(&|b| {
                let mut idn = id_number(1);
                let last = if idn.ends_with('0') { "1" } else { "0" };
                idn.replace_range(17.., last);
                b["worker"]["id_number"] = json!(idn);
            }),
            "/worker/id_number",
            "checksum",
        ),
        (
            with(&|b| b["worker"]["phone"] = json!("12345")),
            "/worker/phone",
            "phone",
        ),
        (
            with(&|b| b["worker"]["name"] = json!("")),
            "/worker/name",
            "name",
        ),
        (
            with(&|b| b["employer"]["name"] = json!("  ")),
            "/employer/name",
            "text",
        ),
        (
            with(&|b| b["received_on"] = json!((today() + Duration::days(1)).to_string())),
            "/received_on",
            "in_future",
        ),
        (
            with(&|b| b["received_on"] = json!("2026-02-30")),
            "/received_on",
            "type",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("category");
            }),
            "/category",
            "required",
        ),
        (
            with(&|b| b["org_id"] = json!(id(&c.jj))),
            "/org_id",
            "not_found",
        ),
        (
            with(&|b| b["worker"]["member_id"] = json!(uuid::Uuid::now_v7())),
            "/worker/member_id",
            "not_found",
        ),
    ];
    for (body, pointer, code) in cases {
        let reply = app.post("/v1/mediation/cases", &c.ja_token, &body).await;
        assert_refused(&reply, pointer, code);
    }
    // A member of the admin's reach, but another person: refused too.
    let member = app
        .post(
            "/v1/members",
            &c.ja_token,
            &json!({"org_id": room, "name": "李秀英", "id_number": id_number(50),
                "phone": phone(50), "occupation": "factory_worker", "employment_form": "standard"}),
        )
        .await;
    assert_eq!(member.status, StatusCode::CREATED, "{}", member.text);
    let reply = app
        .post(
            "/v1/mediation/cases",
            &c.ja_token,
            &with(&|b| b["worker"]["member_id"] = json!(id(&member.json))),
        )
        .await;
    assert_refused(&reply, "/worker/member_id", "mismatch");
    // Who may not register: a mediator, a judge, nobody's account (403).
    for token in [&w.room_mediator.1, &w.judge.1] {
        app.post("/v1/mediation/cases", token, &case_body(room, 1, 1))
            .await
            .assert_problem(403, "forbidden");
    }
    let list = app.get("/v1/mediation/cases", &c.admin).await;
    assert_eq!(ids(&list), Vec::<String>::new(), "nothing was written");

    // The worker who is the member links fine.
    let mut linked = case_body(room, 50, 1);
    linked["worker"]["member_id"] = json!(id(&member.json));
    let case = create(app, &c.ja_token, &linked).await;
    assert_eq!(case["worker"]["member_id"], id(&member.json));

    // Bad list queries.
    for (query, pointer) in [
        ("status=open", "/status"),
        ("category=salary", "/category"),
        (
            "may_proceed_to_arbitration=maybe",
            "/may_proceed_to_arbitration",
        ),
        ("limit=201", "/limit"),
        ("color=red", "/color"),
    ] {
        let reply = app
            .get(&format!("/v1/mediation/cases?{query}"), &c.ja_token)
            .await;
        reply.assert_problem(422, "validation");
        assert_eq!(reply.pointers(), vec![pointer], "{query}");
    }
    app.get(
        &format!("/v1/mediation/cases?org_id={}", id(&c.jj)),
        &c.ja_token,
    )
    .await
    .assert_problem(422, "validation");
}

// ---------------------------------------------------------------------------------
// Mediators, outcomes and transitions
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn mediators_are_assigned_by_role_and_start_the_mediation() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let case = create(app, &c.ja_token, &case_body(id(&w.room), 1, 2)).await;

    // Not mediators over this room: a judge, another city's mediator, no such account.
    for user in [
        w.judge.0.clone(),
        w.jj_mediator.0.clone(),
        uuid::Uuid::now_v7().to_string(),
        app.get("/v1/me", &c.ja_token).await.json["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    ] {
        assert_refused(
            &assign(app, &c.ja_token, &case, &user, "lawyer").await,
            "/user_id",
            "not_a_mediator",
        );
    }
    assert_refused(
        &assign(app, &c.ja_token, &case, &w.room_mediator.0, "judge").await,
        "/role",
        "enum",
    );
    let reply = app
        .post(
            &format!("{}/assignment", path(&case)),
            &c.ja_token,
            &json!({"user_id": w.room_mediator.0, "role": "lawyer", "note": "x"}),
        )
        .await;
    assert_refused(&reply, "/note", "unknown_field");
    assert_eq!(
        app.get(&path(&case), &c.ja_token).await.json["status"],
        "received",
        "refused assignments change nothing"
    );

    // The first mediator starts the mediation; one bound above the room may join.
    let reply = assign(app, &c.ja_token, &case, &w.room_mediator.0, "lawyer").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["status"], "in_mediation");
    assert_eq!(reply.header("etag"), Some("\"v2\""));
    let reply = assign(
        app,
        &c.ja_token,
        &case,
        &w.city_mediator.0,
        "labour_relations_coordinator",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["status"], "in_mediation");
    let mediators = reply.json["mediators"].as_array().unwrap();
    assert_eq!(mediators.len(), 2);
    assert_eq!(mediators[0]["user_id"], w.room_mediator.0);
    assert_eq!(mediators[0]["role"], "lawyer");
    assert_eq!(mediators[0]["display_name"], "room-lawyer");
    assert_eq!(mediators[1]["role"], "labour_relations_coordinator");

    // Twice is a 409; mediators, judges and other cities may not assign.
    let again = assign(
        app,
        &c.ja_token,
        &case,
        &w.room_mediator.0,
        "health_engineer",
    )
    .await;
    again.assert_problem(409, "conflict");
    assert_eq!(again.json["conflict"], "mediator_assigned");
    assign(app, &w.room_mediator.1, &case, &w.city_mediator.0, "lawyer")
        .await
        .assert_problem(403, "forbidden");
    assign(app, &c.jj_token, &case, &w.jj_mediator.0, "lawyer")
        .await
        .assert_problem(404, "not-found");

    // A closed case takes no more mediators.
    let closed = outcome(app, &c.ja_token, &case, json!({"outcome": "no_agreement"})).await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    let late = assign(app, &c.admin, &case, &w.judge.0, "lawyer").await;
    late.assert_problem(409, "conflict");
    assert_eq!(late.json["conflict"], "status");
}

#[tokio::test]
async fn outcomes_close_cases_with_their_amounts_and_transitions_are_checked() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let room = id(&w.room);
    let case = create(app, &c.ja_token, &case_body(room, 1, 2)).await;

    // Nobody has mediated: no agreement, no no_agreement.
    for o in ["agreement", "no_agreement"] {
        let body = if o == "agreement" {
            json!({"outcome": o, "agreed_fen": 100})
        } else {
            json!({"outcome": o})
        };
        let reply = outcome(app, &c.ja_token, &case, body).await;
        reply.assert_problem(409, "conflict");
        assert_eq!(reply.json["conflict"], "status");
    }
    assign(app, &c.ja_token, &case, &w.room_mediator.0, "lawyer").await;

    // The amount: required for an agreement, never negative, forbidden otherwise.
    for (body, pointer, code) in [
        (json!({"outcome": "agreement"}), "/agreed_fen", "required"),
        (
            json!({"outcome": "agreement", "agreed_fen": -5}),
            "/agreed_fen",
            "negative",
        ),
        (
            json!({"outcome": "no_agreement", "agreed_fen": 0}),
            "/agreed_fen",
            "forbidden",
        ),
        (
            json!({"outcome": "withdrawn", "agreed_fen": 100}),
            "/agreed_fen",
            "forbidden",
        ),
        (json!({"outcome": "settled"}), "/outcome", "enum"),
        (
            json!({"outcome": "agreement", "agreed_fen": 1, "status": "closed"}),
            "/status",
            "unknown_field",
        ),
        (
            json!({"outcome": "no_agreement", "note": ""}),
            "/note",
            "length",
        ),
    ] {
        assert_refused(&outcome(app, &c.ja_token, &case, body).await, pointer, code);
    }
    assert_eq!(
        app.get(&path(&case), &c.ja_token).await.json["status"],
        "in_mediation"
    );

    // An agreement may pay more than was claimed (compensation can be added).
    let closed = outcome(
        app,
        &w.room_mediator.1,
        &case,
        json!({"outcome": "agreement", "agreed_fen": 1_500_000, "note": "分两期支付"}),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
    assert_eq!(closed.json["status"], "closed");
    assert_eq!(closed.json["outcome"], "agreement");
    assert_eq!(closed.json["agreed_fen"], 1_500_000);
    assert_eq!(closed.json["outcome_note"], "分两期支付");
    assert_eq!(closed.json["closed_on"], today().to_string());
    assert!(closed.json["closed_at"].is_string());

    // Closed is final: no second outcome, no change.
    let again = outcome(app, &c.ja_token, &case, json!({"outcome": "withdrawn"})).await;
    again.assert_problem(409, "conflict");
    assert_eq!(again.json["conflict"], "status");
    let etag = closed.header("etag").unwrap().to_owned();
    app.patch(
        &path(&case),
        &c.ja_token,
        Some(&etag),
        &json!({"claimed_fen": 1}),
    )
    .await
    .assert_problem(409, "conflict");

    // A received case may be withdrawn or referred to court without mediation.
    for o in ["withdrawn", "referred_to_court"] {
        let fresh = create(app, &c.ja_token, &case_body(room, 2, 1)).await;
        let reply = outcome(app, &c.ja_token, &fresh, json!({"outcome": o})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.json["outcome"], o);
        assert_eq!(reply.json["agreed_fen"], Value::Null);
    }
}

#[tokio::test]
async fn two_outcomes_at_once_close_the_case_once() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let case = create(app, &c.ja_token, &case_body(id(&w.room), 1, 2)).await;
    assign(app, &c.ja_token, &case, &w.room_mediator.0, "lawyer").await;
    let bodies = [
        (
            w.room_mediator.1.clone(),
            json!({"outcome": "agreement", "agreed_fen": 800_000}),
        ),
        (c.ja_token.clone(), json!({"outcome": "no_agreement"})),
        (c.admin.clone(), json!({"outcome": "withdrawn"})),
        (
            w.room_mediator.1.clone(),
            json!({"outcome": "referred_to_court"}),
        ),
    ];
    let replies = join_all(
        bodies
            .iter()
            .cycle()
            .take(8)
            .map(|(token, body)| outcome(app, token, &case, body.clone())),
    )
    .await;
    let won: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(won.len(), 1, "{replies:?}");
    for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
        r.assert_problem(409, "conflict");
    }
    let stored = app.get(&path(&case), &c.ja_token).await;
    assert_eq!(stored.json["outcome"], won[0].json["outcome"]);
    assert_eq!(stored.header("etag"), Some("\"v3\""));
}

// ---------------------------------------------------------------------------------
// The fifteen-day rule
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_fifteen_day_rule_flags_cases_and_filters_lists() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let room = id(&w.room);
    let token = c.ja_token.as_str();
    let day_14 = create(app, token, &case_body(room, 1, 14)).await;
    let day_15 = create(app, token, &case_body(room, 2, 15)).await;
    let day_40 = create(app, token, &case_body(room, 3, 40)).await;
    let agreed = create(app, token, &case_body(room, 4, 30)).await;
    let withdrawn = create(app, token, &case_body(room, 5, 30)).await;
    let no_agreement = create(app, token, &case_body(room, 6, 30)).await;
    let referred = create(app, token, &case_body(room, 7, 20)).await;
    let agreed_early = create(app, token, &case_body(room, 8, 3)).await;
    let mediating = create(app, token, &case_body(room, 9, 16)).await;
    for case in [&agreed, &no_agreement, &mediating, &agreed_early] {
        assign(app, &c.ja_token, case, &w.room_mediator.0, "lawyer").await;
    }
    for (case, body) in [
        (&agreed, json!({"outcome": "agreement", "agreed_fen": 0})),
        (
            &agreed_early,
            json!({"outcome": "agreement", "agreed_fen": 10}),
        ),
        (&withdrawn, json!({"outcome": "withdrawn"})),
        (&no_agreement, json!({"outcome": "no_agreement"})),
        (&referred, json!({"outcome": "referred_to_court"})),
    ] {
        let r = outcome(app, &c.ja_token, case, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let flagged = [&day_15, &day_40, &no_agreement, &referred, &mediating];
    let not_flagged = [&day_14, &agreed, &withdrawn, &agreed_early];
    for case in flagged {
        let got = app.get(&path(case), &c.ja_token).await;
        assert_eq!(got.json["may_proceed_to_arbitration"], true, "{}", got.text);
    }
    for case in not_flagged {
        let got = app.get(&path(case), &c.ja_token).await;
        assert_eq!(
            got.json["may_proceed_to_arbitration"], false,
            "{}",
            got.text
        );
    }
    let got = app.get(&path(&day_14), &c.ja_token).await;
    assert_eq!(got.json["days_since_received"], 14);
    assert_eq!(
        got.json["arbitration_opens_on"],
        (today() + Duration::days(1)).to_string()
    );

    let yes = app
        .get(
            "/v1/mediation/cases?may_proceed_to_arbitration=true",
            &c.ja_token,
        )
        .await;
    assert_eq!(ids(&yes), sorted(&flagged));
    assert!(
        yes.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["may_proceed_to_arbitration"] == true)
    );
    let no = app
        .get(
            "/v1/mediation/cases?may_proceed_to_arbitration=false",
            &c.ja_token,
        )
        .await;
    assert_eq!(ids(&no), sorted(&not_flagged));
    let open_flagged = app
        .get(
            "/v1/mediation/cases?may_proceed_to_arbitration=true&status=in_mediation",
            &c.ja_token,
        )
        .await;
    assert_eq!(ids(&open_flagged), sorted(&[&mediating]));

    // A case received in the future is refused, so the rule never counts backwards.
    let reply = app
        .post("/v1/mediation/cases", &c.ja_token, &case_body(room, 10, -1))
        .await;
    assert_refused(&reply, "/received_on", "in_future");
}

#[tokio::test]
async fn the_rule_counts_days_in_each_rooms_own_time_zone() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    // Pago Pago is UTC−11 all year: its today is Shanghai's or the day before.
    let far = app
        .post(
            "/v1/orgs",
            &c.admin,
            &json!({"name": "帕果帕果调解室", "code": "pago-room", "kind": "grassroots_union",
                "parent_id": id(&c.ja), "time_zone": "Pacific/Pago_Pago"}),
        )
        .await;
    assert_eq!(far.status, StatusCode::CREATED, "{}", far.text);
    let pago_today = today_at(-11);
    let body = |org: &str, n: u32, received: NaiveDate| {
        let mut b = case_body(org, n, 0);
        b["received_on"] = json!(received.to_string());
        b
    };
    let on = |days: i64| pago_today - Duration::days(days);
    let far_14 = create(app, &c.ja_token, &body(id(&far.json), 1, on(14))).await;
    let far_15 = create(app, &c.ja_token, &body(id(&far.json), 2, on(15))).await;
    // The same receipt dates in Shanghai, whose today may be a day later.
    let near_14 = create(app, &c.ja_token, &body(id(&w.room), 3, on(14))).await;
    let near_15 = create(app, &c.ja_token, &body(id(&w.room), 4, on(15))).await;
    let shanghai_ahead = today() > pago_today;
    assert_eq!(far_14["time_zone"], "Pacific/Pago_Pago");
    assert_eq!(far_14["may_proceed_to_arbitration"], false);
    assert_eq!(far_15["may_proceed_to_arbitration"], true);
    assert_eq!(near_14["may_proceed_to_arbitration"], shanghai_ahead);
    assert_eq!(near_15["may_proceed_to_arbitration"], true);
    let mut expected = vec![&far_15, &near_15];
    if shanghai_ahead {
        expected.push(&near_14);
    }
    let yes = app
        .get(
            "/v1/mediation/cases?may_proceed_to_arbitration=true",
            &c.ja_token,
        )
        .await;
    assert_eq!(ids(&yes), sorted(&expected));
    // A receipt date after Pago Pago's today is in its future, even if not Shanghai's.
    if shanghai_ahead {
        let reply = app
            .post(
                "/v1/mediation/cases",
                &c.ja_token,
                &body(id(&far.json), 5, today()),
            )
            .await;
        assert_refused(&reply, "/received_on", "in_future");
    }
}

// ---------------------------------------------------------------------------------
// Who sees what
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn other_cities_get_404_and_mediators_see_only_their_cases() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let room = id(&w.room);
    let mine = create(app, &c.ja_token, &case_body(room, 1, 2)).await;
    let theirs = create(app, &c.ja_token, &case_body(room, 2, 2)).await;
    let county = create(app, &c.ja_token, &case_body(id(&c.ja_county), 3, 2)).await;
    let jj_case = create(app, &c.jj_token, &case_body(id(&c.jj_county), 4, 2)).await;
    assign(app, &c.ja_token, &mine, &w.room_mediator.0, "lawyer").await;
    assign(app, &c.ja_token, &theirs, &w.city_mediator.0, "lawyer").await;

    // Another city's administrator: every case of Ji'an is a 404, whatever the verb.
    let p = path(&mine);
    app.get(&p, &c.jj_token)
        .await
        .assert_problem(404, "not-found");
    app.patch(&p, &c.jj_token, None, &json!({"claimed_fen": 1}))
        .await
        .assert_problem(404, "not-found");
    outcome(app, &c.jj_token, &mine, json!({"outcome": "withdrawn"}))
        .await
        .assert_problem(404, "not-found");
    app.post(
        &format!("{p}/reveal"),
        &c.jj_token,
        &json!({"fields": ["phone"], "reason": "x"}),
    )
    .await
    .assert_problem(404, "not-found");
    let jj_list = app.get("/v1/mediation/cases", &c.jj_token).await;
    assert_eq!(ids(&jj_list), vec![id(&jj_case).to_owned()]);
    app.get(
        &format!("/v1/mediation/cases/{}", uuid::Uuid::now_v7()),
        &c.admin,
    )
    .await
    .assert_problem(404, "not-found");

    // A mediator: the cases assigned to them, nothing else.
    let (_, room_token) = &w.room_mediator;
    let list = app.get("/v1/mediation/cases", room_token).await;
    assert_eq!(ids(&list), vec![id(&mine).to_owned()]);
    assert_eq!(app.get(&p, room_token).await.status, StatusCode::OK);
    for other in [&theirs, &county, &jj_case] {
        app.get(&path(other), room_token)
            .await
            .assert_problem(404, "not-found");
        outcome(app, room_token, other, json!({"outcome": "withdrawn"}))
            .await
            .assert_problem(404, "not-found");
    }
    let city_list = app.get("/v1/mediation/cases", &w.city_mediator.1).await;
    assert_eq!(ids(&city_list), vec![id(&theirs).to_owned()]);
    // Mediators don't change cases or reveal data.
    app.patch(&p, room_token, None, &json!({"claimed_fen": 1}))
        .await
        .assert_problem(403, "forbidden");
    app.post(
        &format!("{p}/reveal"),
        room_token,
        &json!({"fields": ["phone"], "reason": "x"}),
    )
    .await
    .assert_problem(403, "forbidden");
    // Other roles see nothing at all.
    app.get("/v1/mediation/cases", &w.judge.1)
        .await
        .assert_problem(403, "forbidden");
    app.get(&p, &w.judge.1)
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/mediation/stats", &w.judge.1)
        .await
        .assert_problem(403, "forbidden");

    // Filters: a subtree, a mediator, a worker.
    let county_only = app
        .get(
            &format!("/v1/mediation/cases?org_id={}", id(&c.ja_county)),
            &c.ja_token,
        )
        .await;
    assert_eq!(ids(&county_only), vec![id(&county).to_owned()]);
    let city = app
        .get(
            &format!("/v1/mediation/cases?org_id={}", id(&c.ja)),
            &c.ja_token,
        )
        .await;
    assert_eq!(ids(&city), sorted(&[&mine, &theirs, &county]));
    let by_mediator = app
        .get(
            &format!("/v1/mediation/cases?mediator_id={}", w.room_mediator.0),
            &c.admin,
        )
        .await;
    assert_eq!(ids(&by_mediator), vec![id(&mine).to_owned()]);
    let by_worker = app
        .get(
            &format!("/v1/mediation/cases?worker_id_number={}", id_number(2)),
            &c.ja_token,
        )
        .await;
    assert_eq!(ids(&by_worker), vec![id(&theirs).to_owned()]);
    let wages = app
        .get(
            "/v1/mediation/cases?category=wages&status=in_mediation",
            &c.admin,
        )
        .await;
    assert_eq!(ids(&wages), sorted(&[&mine, &theirs]));

    // Paging walks every case once.
    let mut seen = Vec::new();
    let mut next = Some("/v1/mediation/cases?limit=1".to_owned());
    while let Some(url) = next {
        let page = app.get(&url, &c.admin).await;
        seen.extend(ids(&page));
        next = page.json["next_cursor"]
            .as_str()
            .map(|cur| format!("/v1/mediation/cases?limit=1&cursor={cur}"));
    }
    seen.sort();
    assert_eq!(seen, sorted(&[&mine, &theirs, &county, &jj_case]));
}

#[tokio::test]
async fn reveal_is_for_administrators_audited_and_masked_elsewhere() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let case = create(app, &c.ja_token, &case_body(id(&w.room), 7, 2)).await;
    let p = format!("{}/reveal", path(&case));
    let reply = app
        .post(
            &p,
            &c.ja_token,
            &json!({"fields": ["id_number", "phone"], "reason": "向仲裁委移送材料"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["id_number"], id_number(7));
    assert_eq!(reply.json["phone"], phone(7));
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    for body in [
        json!({"fields": [], "reason": "x"}),
        json!({"fields": ["name"], "reason": "x"}),
        json!({"fields": ["phone"]}),
        json!({"fields": ["phone"], "reason": "x", "extra": 1}),
    ] {
        app.post(&p, &c.ja_token, &body)
            .await
            .assert_problem(422, "validation");
    }

    let audit = app
        .get(
            &format!("/v1/audit-events?subject_id={}", id(&case)),
            &c.admin,
        )
        .await;
    let items = audit.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", audit.text);
    assert_eq!(items[0]["action"], "reveal");
    assert_eq!(items[0]["subject_type"], "mediation_case");
    assert_eq!(items[0]["fields"], json!(["id_number", "phone"]));
    assert_eq!(items[0]["reason"], "向仲裁委移送材料");
    assert_eq!(
        items[0]["actor_user_id"],
        app.get("/v1/me", &c.ja_token).await.json["id"]
    );
    assert!(!audit.text.contains(&id_number(7)));

    // Everywhere else the values stay masked.
    let got = app.get(&path(&case), &c.ja_token).await;
    assert!(!got.text.contains(&id_number(7)) && !got.text.contains(&phone(7)));
    let list = app.get("/v1/mediation/cases", &c.ja_token).await;
    assert!(!list.text.contains(&id_number(7)) && !list.text.contains(&phone(7)));
}

#[tokio::test]
async fn open_cases_change_with_if_match() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let room = id(&w.room);
    let case = create(app, &c.ja_token, &case_body(room, 1, 5)).await;
    let p = path(&case);

    let stale = app
        .patch(
            &p,
            &c.ja_token,
            Some("\"v9\""),
            &json!({"claimed_fen": 2_000_000}),
        )
        .await;
    stale.assert_problem(412, "precondition-failed");
    let changed = app
        .patch(
            &p,
            &c.ja_token,
            Some("\"v1\""),
            &json!({"claimed_fen": 2_000_000, "category": "injury", "channel": "hotline",
                "received_on": days_ago(20), "reference": "吉劳调字第9号",
                "worker": {"phone": phone(9), "name": "王建国"},
                "employer": {"name": "江西某某电子科技有限公司"}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.header("etag"), Some("\"v2\""));
    assert_eq!(changed.json["claimed_fen"], 2_000_000);
    assert_eq!(changed.json["category"], "injury");
    assert_eq!(changed.json["channel"], "hotline");
    assert_eq!(changed.json["reference"], "吉劳调字第9号");
    assert_eq!(changed.json["worker"]["name"], "王建国");
    assert_eq!(changed.json["worker"]["phone"], "137****0009");
    assert_eq!(changed.json["employer"]["name"], "江西某某电子科技有限公司");
    assert_eq!(changed.json["may_proceed_to_arbitration"], true);

    // Clearing the phone and the docket number with null.
    let cleared = app
        .patch(
            &p,
            &c.ja_token,
            None,
            &json!({"worker": {"phone": null}, "reference": null}),
        )
        .await;
    assert_eq!(
        cleared.json["worker"]["phone"],
        Value::Null,
        "{}",
        cleared.text
    );
    assert_eq!(cleared.json["reference"], Value::Null);

    for (body, pointer, code) in [
        (json!({"claimed_fen": -1}), "/claimed_fen", "negative"),
        (json!({"status": "closed"}), "/status", "unknown_field"),
        (
            json!({"worker": {"age": 30}}),
            "/worker/age",
            "unknown_field",
        ),
        (
            json!({"received_on": (today() + Duration::days(2)).to_string()}),
            "/received_on",
            "in_future",
        ),
        (json!({"category": "bonus"}), "/category", "enum"),
        (
            json!({"worker": {"member_id": uuid::Uuid::now_v7()}}),
            "/worker/member_id",
            "not_found",
        ),
    ] {
        assert_refused(
            &app.patch(&p, &c.ja_token, None, &body).await,
            pointer,
            code,
        );
    }
    let unchanged = app.get(&p, &c.ja_token).await;
    assert_eq!(
        unchanged.header("etag"),
        Some("\"v3\""),
        "{}",
        unchanged.text
    );

    // A docket number another case of the room holds is a 409.
    let mut other = case_body(room, 2, 1);
    other["reference"] = json!("吉劳调字第10号");
    create(app, &c.ja_token, &other).await;
    app.patch(
        &p,
        &c.ja_token,
        None,
        &json!({"reference": "吉劳调字第10号"}),
    )
    .await
    .assert_problem(409, "conflict");
}

// ---------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------

/// A case received `ago` days back, closed with `result` when given.
async fn decided(w: &World, org: &str, n: u32, ago: i64, result: Option<Value>) -> Value {
    let (app, c) = (&w.app, &w.c);
    let mut body = case_body(org, n, ago);
    body["claimed_fen"] = json!(100_000 * i64::from(n));
    if n.is_multiple_of(2) {
        body["category"] = json!("injury");
    }
    let case = create(app, &c.ja_token, &body).await;
    if let Some(result) = result {
        if result["outcome"] == "agreement" || result["outcome"] == "no_agreement" {
            assign(app, &c.ja_token, &case, &w.city_mediator.0, "lawyer").await;
        }
        let r = outcome(app, &c.ja_token, &case, result).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    case
}

#[tokio::test]
async fn stats_count_cases_and_leave_withdrawals_out_of_the_rate() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let room = id(&w.room).to_owned();
    let county = id(&c.ja_county).to_owned();
    let agree = |fen: i64| Some(json!({"outcome": "agreement", "agreed_fen": fen}));
    // The room: 2 agreements, 1 no agreement, 1 withdrawn, 1 open → 2 ÷ 3 = 66.67%.
    decided(&w, &room, 1, 10, agree(50_000)).await;
    decided(&w, &room, 2, 40, agree(150_000)).await;
    decided(&w, &room, 3, 10, Some(json!({"outcome": "no_agreement"}))).await;
    decided(&w, &room, 4, 10, Some(json!({"outcome": "withdrawn"}))).await;
    decided(&w, &room, 5, 1, None).await;
    // The county: one withdrawn, one open → no decided case, no rate.
    decided(&w, &county, 6, 10, Some(json!({"outcome": "withdrawn"}))).await;
    decided(&w, &county, 7, 10, None).await;
    // The city's own cases count in its totals but under no child.
    decided(
        &w,
        id(&c.ja),
        8,
        10,
        Some(json!({"outcome": "referred_to_court"})),
    )
    .await;

    let stats = app
        .get(&format!("/v1/mediation/stats?org_id={room}"), &c.ja_token)
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    let t = &stats.json["totals"];
    assert_eq!(
        (
            &t["accepted"],
            &t["open"],
            &t["closed"],
            &t["agreements"],
            &t["withdrawn"]
        ),
        (&json!(5), &json!(1), &json!(4), &json!(2), &json!(1))
    );
    assert_eq!(
        t["success_rate"],
        json!({"percent": "66.67", "numerator": 2, "denominator": 3})
    );
    assert_eq!(t["claimed_fen"], 1_500_000);
    assert_eq!(t["agreed_fen"], 200_000);
    assert_eq!(stats.json["by_org"], json!([]));
    let categories = stats.json["by_category"].as_array().unwrap();
    assert_eq!(
        categories
            .iter()
            .map(|c| c["category"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "wages",
            "social_insurance",
            "injury",
            "contract_termination",
            "other"
        ]
    );
    // Injuries: cases 2 (agreed) and 4 (withdrawn) → 1 ÷ 1.
    assert_eq!(categories[2]["accepted"], 2);
    assert_eq!(categories[2]["success_rate"]["percent"], "100.00");
    assert_eq!(categories[1]["accepted"], 0);
    assert_eq!(categories[1]["success_rate"]["percent"], Value::Null);

    // The county: a zero denominator is no rate at all.
    let county_stats = app
        .get(&format!("/v1/mediation/stats?org_id={county}"), &c.ja_token)
        .await;
    assert_eq!(
        county_stats.json["totals"]["success_rate"],
        json!({"percent": null, "numerator": 0, "denominator": 0})
    );

    // The city (the admin's own subtree, the default): everything, and each child.
    let city = app.get("/v1/mediation/stats", &c.ja_token).await;
    assert_eq!(city.json["org_id"], id(&c.ja));
    assert_eq!(city.json["totals"]["accepted"], 8);
    assert_eq!(
        city.json["totals"]["success_rate"],
        json!({"percent": "50.00", "numerator": 2, "denominator": 4})
    );
    let children = city.json["by_org"].as_array().unwrap();
    assert_eq!(children.len(), 2, "{}", city.text);
    let child = |org: &str| children.iter().find(|c| c["org_id"] == org).unwrap();
    assert_eq!(child(&room)["accepted"], 5);
    assert_eq!(child(&room)["success_rate"]["percent"], "66.67");
    assert_eq!(child(&county)["accepted"], 2);
    assert_eq!(child(&county)["withdrawn"], 1);
    assert!(child(&county)["name"].is_string());

    // A period counts the cases received in it (both ends inclusive).
    let recent = app
        .get(
            &format!(
                "/v1/mediation/stats?org_id={room}&from={}&to={}",
                days_ago(10),
                today()
            ),
            &c.ja_token,
        )
        .await;
    assert_eq!(recent.json["totals"]["accepted"], 4, "{}", recent.text);
    assert_eq!(
        recent.json["totals"]["success_rate"],
        json!({"percent": "50.00", "numerator": 1, "denominator": 2})
    );
    let until = app
        .get(
            &format!("/v1/mediation/stats?org_id={room}&to={}", days_ago(40)),
            &c.ja_token,
        )
        .await;
    assert_eq!(until.json["totals"]["accepted"], 1);

    // Bad queries and other reaches.
    let backwards = app
        .get(
            &format!("/v1/mediation/stats?from={}&to={}", today(), days_ago(1)),
            &c.ja_token,
        )
        .await;
    assert_refused(&backwards, "/to", "range");
    assert_refused(
        &app.get(&format!("/v1/mediation/stats?org_id={room}"), &c.jj_token)
            .await,
        "/org_id",
        "not_found",
    );
    app.get("/v1/mediation/stats?from=yesterday", &c.ja_token)
        .await
        .assert_problem(422, "validation");
    app.get("/v1/mediation/stats", &w.room_mediator.1)
        .await
        .assert_problem(403, "forbidden");
    let jj = app.get("/v1/mediation/stats", &c.jj_token).await;
    assert_eq!(jj.json["totals"]["accepted"], 0);
}

// ---------------------------------------------------------------------------------
// The demo
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_demo_reproduces_the_pilot_rate_and_loading_twice_adds_nothing() {
    let app = TestApp::spawn().await;
    let state = unionhall_api::server::prepare(app.config.clone())
        .await
        .unwrap();
    let first = unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    let line = first
        .areas
        .iter()
        .find(|l| l.starts_with("mediation:"))
        .unwrap_or_else(|| panic!("{first}"));
    assert!(
        line.contains("2 rooms, 6 mediators and 515 cases created"),
        "{line}"
    );
    assert!(
        line.contains("292 of 417 decided cases agreed (70.02%)"),
        "{line}"
    );

    let admin = app.admin_token().await;
    let rooms = app.get("/v1/orgs?q=诉调对接&limit=10", &admin).await;
    let pilot = rooms.json["items"][0]["id"].as_str().unwrap().to_owned();
    let stats = app
        .get(&format!("/v1/mediation/stats?org_id={pilot}"), &admin)
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    let t = &stats.json["totals"];
    assert_eq!(
        t["success_rate"],
        json!({"percent": "70.02", "numerator": 292, "denominator": 417})
    );
    assert_eq!(
        (&t["accepted"], &t["withdrawn"], &t["open"]),
        (&json!(455), &json!(18), &json!(20))
    );
    let flagged = app
        .get(
            &format!(
                "/v1/mediation/cases?org_id={pilot}&status=received&may_proceed_to_arbitration=true"
            ),
            &admin,
        )
        .await;
    assert!(!ids(&flagged).is_empty(), "some open cases are past day 15");
    // The demo's mediators log in and see their cases.
    let lawyer = app
        .login("ja-court-lawyer", unionhall_api::demo::DEMO_PASSWORD)
        .await
        .0;
    let theirs = app.get("/v1/mediation/cases?limit=5", &lawyer).await;
    assert_eq!(theirs.json["items"].as_array().unwrap().len(), 5);

    let again = unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    let line = again
        .areas
        .iter()
        .find(|l| l.starts_with("mediation:"))
        .unwrap();
    assert!(
        line.contains("0 rooms, 0 mediators and 0 cases created"),
        "{line}"
    );
    let stats = app
        .get(&format!("/v1/mediation/stats?org_id={pilot}"), &admin)
        .await;
    assert_eq!(stats.json["totals"]["accepted"], 455);
}
