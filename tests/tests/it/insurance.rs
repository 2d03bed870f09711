//! Mutual-aid insurance: plan validation and the `draft → open → closed` lifecycle with
//! frozen terms, individual and group enrollments with their report, claims checked
//! and priced with explanation lines, review, decisions, caps (also under 50
//! concurrent approvals), payment, history, isolation, mass assignment, idempotent
//! filing and the stats.

use chrono::{Duration, NaiveDate, Utc};
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use unionhall_tests::{Reply, TestApp, TwoCities, USER_PASSWORD, id};

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// Today in Asia/Shanghai, as the service sees it.
fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// `today + offset` days, as the API writes dates.
fn day(offset: i64) -> String {
    (today() + Duration::days(offset)).to_string()
}

/// A valid resident ID number from Ji'an born on `birth` (YYYYMMDD).
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

const NAMES: [&str; 8] = [
    "张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十",
];

/// Creates a member of `org`; panics unless 201.
async fn member(
    app: &TestApp,
    token: &str,
    org: &str,
    seq: u32,
    occupation: &str,
    form: &str,
) -> Value {
    let birth = format!("19{:02}0101", 70 + seq / 1000);
    let reply = app
        .post(
            "/v1/members",
            token,
            &json!({
                "org_id": org,
                "name": NAMES[(seq as usize) % NAMES.len()],
                "id_number": id_number(&birth, seq),
                "phone": format!("139{:08}", seq),
                "occupation": occupation,
                "employment_form": form,
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json
}

async fn rider(app: &TestApp, token: &str, org: &str, seq: u32) -> Value {
    member(app, token, org, seq, "delivery_rider", "gig").await
}

/// Gives a member an account and logs in as them.
async fn member_token(app: &TestApp, admin: &str, m: &Value) -> String {
    let password = "member-password-1";
    let r = app
        .post(
            &format!("/v1/members/{}/account", id(m)),
            admin,
            &json!({"password": password}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    app.login(m["card_no"].as_str().unwrap(), password).await.0
}

/// The two cities, with an insurance reviewer in each.
struct World {
    app: TestApp,
    c: TwoCities,
    ja_reviewer: String,
    jj_reviewer: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    app.create_user(&c.admin, "ja-reviewer", id(&c.ja), "insurance_reviewer")
        .await;
    app.create_user(&c.admin, "jj-reviewer", id(&c.jj), "insurance_reviewer")
        .await;
    let ja_reviewer = app.login("ja-reviewer", USER_PASSWORD).await.0;
    let jj_reviewer = app.login("jj-reviewer", USER_PASSWORD).await.0;
    World {
        app,
        c,
        ja_reviewer,
        jj_reviewer,
    }
}

/// ¥80 a share; ¥50 a day beyond 3 days, capped at ¥4,500 a share; a term from 100
/// days ago to 200 days ahead.
fn hospital_plan(org: &str, waiting_days: i32) -> Value {
    json!({
        "name": "住院津贴互助保障",
        "org_id": org,
        "share_premium_fen": 8000,
        "max_shares": 5,
        "term_start": day(-100),
        "term_end": day(200),
        "waiting_days": waiting_days,
        "benefits": {
            "kind": "hospital_allowance",
            "daily_allowance_fen": 5000,
            "deductible_days": 3,
            "term_cap_fen": 450000
        }
    })
}

/// Creates a plan and opens it; returns the open plan.
async fn open_plan(app: &TestApp, token: &str, body: &Value) -> Value {
    let created = app.post("/v1/insurance/plans", token, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["status"], "draft");
    let path = format!("/v1/insurance/plans/{}", id(&created.json));
    let etag = app
        .get(&path, token)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let opened = app
        .patch(&path, token, Some(&etag), &json!({"status": "open"}))
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    assert_eq!(opened.json["status"], "open");
    opened.json
}

/// Enrols one member as `token`; panics unless 201. Returns the enrollment id.
async fn enrol(app: &TestApp, token: &str, plan: &Value, m: &Value, shares: u32) -> String {
    let r = app
        .post(
            "/v1/insurance/enrollments",
            token,
            &json!({"plan_id": id(plan), "shares": shares, "paid_by": "union", "member_id": id(m)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json["enrollment_id"].as_str().unwrap().to_owned()
}

/// Moves an enrollment's cover start back to `date`, as if the member had enrolled at
/// the start of the term: the API starts cover on the day of enrolment, and claims need
/// past incident dates.
async fn backdate_cover(app: &TestApp, enrollment_id: &str, date: &str) {
    let db = Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap();
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "UPDATE insurance_enrollments SET cover_start = $1 WHERE id = $2",
        _ => "UPDATE insurance_enrollments SET cover_start = ? WHERE id = ?",
    };
    let date: NaiveDate = date.parse().unwrap();
    let uuid: uuid::Uuid = enrollment_id.parse().unwrap();
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [date.into(), uuid.into()],
        ))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    db.close().await.ok();
}

fn hospital_claim(enrollment: &str, incident: &str, days: u32) -> Value {
    json!({
        "enrollment_id": enrollment,
        "kind": "hospital_stay",
        "incident_date": incident,
        "hospital_days": days,
        "documents": ["https://files.example.cn/claims/discharge-summary.pdf"],
    })
}

async fn file(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app.post("/v1/insurance/claims", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.json
}

async fn decide(app: &TestApp, token: &str, claim: &Value, body: Value) -> Reply {
    app.post(
        &format!("/v1/insurance/claims/{}/decision", id(claim)),
        token,
        &body,
    )
    .await
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

fn items(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json["items"].as_array().unwrap().clone()
}

fn ids(reply: &Reply) -> Vec<String> {
    items(reply).iter().map(|v| id(v).to_owned()).collect()
}

fn actions(claim: &Value) -> Vec<String> {
    claim["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn plans_are_validated_opened_closed_and_their_terms_freeze() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let ja = id(&c.ja);

    // Every problem at once, each at its pointer; nothing written.
    let mut bad = hospital_plan(ja, 30);
    bad["share_premium_fen"] = json!(-1);
    bad["max_shares"] = json!(0);
    bad["term_end"] = json!(day(-200));
    bad["eligibility"] = json!({"occupations": []});
    bad["benefits"]["daily_allowance_fen"] = json!(-5);
    let r = app.post("/v1/insurance/plans", &c.ja_token, &bad).await;
    r.assert_problem(422, "validation");
    let mut codes = error_codes(&r);
    codes.sort();
    assert_eq!(
        codes,
        vec![
            ("/benefits/daily_allowance_fen".into(), "negative".into()),
            ("/eligibility/occupations".into(), "empty".into()),
            ("/max_shares".into(), "out_of_range".into()),
            ("/share_premium_fen".into(), "negative".into()),
            ("/term_end".into(), "not_after_start".into()),
        ],
        "{}",
        r.text
    );
    let mut tiers = hospital_plan(ja, 30);
    tiers["benefits"] = json!({"kind": "critical_illness", "tiers": [
        {"from_day": 91, "amount_per_share_fen": 1000000},
        {"from_day": 30, "amount_per_share_fen": 50000}]});
    let r = app.post("/v1/insurance/plans", &c.ja_token, &tiers).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/benefits/tiers/1/from_day".to_owned()]);
    let mut mismatch = hospital_plan(ja, 30);
    mismatch["kind"] = json!("accident");
    let r = app
        .post("/v1/insurance/plans", &c.ja_token, &mismatch)
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/kind".to_owned()]);
    // A client can't set the status.
    let mut sneaky = hospital_plan(ja, 30);
    sneaky["status"] = json!("open");
    let r = app.post("/v1/insurance/plans", &c.ja_token, &sneaky).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/status".to_owned()]);
    // Only administrators, only in reach.
    app.post(
        "/v1/insurance/plans",
        &w.ja_reviewer,
        &hospital_plan(ja, 30),
    )
    .await
    .assert_problem(403, "forbidden");
    let r = app
        .post("/v1/insurance/plans", &c.jj_token, &hospital_plan(ja, 30))
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/org_id".to_owned()]);
    assert!(ids(&app.get("/v1/insurance/plans", &c.admin).await).is_empty());

    // A draft: its terms change with If-Match; a stale tag is 412.
    let created = app
        .post("/v1/insurance/plans", &c.ja_token, &hospital_plan(ja, 30))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let plan = created.json.clone();
    let path = format!("/v1/insurance/plans/{}", id(&plan));
    assert_eq!(
        created.header("location"),
        Some(path.as_str()),
        "{}",
        created.text
    );
    assert_eq!(plan["kind"], "hospital_allowance");
    assert_eq!(plan["coverage_per_share_fen"], 450000);
    let got = app.get(&path, &c.ja_token).await;
    let etag = got.header("etag").unwrap().to_owned();
    let edited = app
        .patch(
            &path,
            &c.ja_token,
            Some(&etag),
            &json!({"waiting_days": 0, "name": "住院津贴（修订）"}),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(edited.json["waiting_days"], 0);
    app.patch(&path, &c.ja_token, Some(&etag), &json!({"max_shares": 3}))
        .await
        .assert_problem(412, "precondition-failed");
    let r = app
        .patch(&path, &c.ja_token, None, &json!({"max_shares": 0}))
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/max_shares".to_owned()]);
    // Another city can't see or touch it; members don't see drafts.
    app.get(&path, &c.jj_token)
        .await
        .assert_problem(404, "not-found");
    app.patch(&path, &c.jj_token, None, &json!({"name": "x"}))
        .await
        .assert_problem(404, "not-found");
    let m = rider(app, &c.ja_token, ja, 1).await;
    let member = member_token(app, &c.ja_token, &m).await;
    app.get(&path, &member)
        .await
        .assert_problem(404, "not-found");

    // draft → closed is not a transition; draft → open is.
    app.patch(&path, &c.ja_token, None, &json!({"status": "closed"}))
        .await
        .assert_problem(409, "conflict");
    let opened = app
        .patch(&path, &c.ja_token, None, &json!({"status": "open"}))
        .await;
    assert_eq!(opened.json["status"], "open", "{}", opened.text);
    // Open: the terms are frozen, the name isn't.
    let r = app
        .patch(&path, &c.ja_token, None, &json!({"waiting_days": 10}))
        .await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.json["conflict"], "terms_frozen");
    let r = app
        .patch(
            &path,
            &c.ja_token,
            None,
            &json!({"benefits": {"kind": "hospital_allowance", "daily_allowance_fen": 9000,
                "deductible_days": 0, "term_cap_fen": 900000}}),
        )
        .await;
    r.assert_problem(409, "conflict");
    enrol(app, &c.ja_token, &opened.json, &m, 1).await;
    let r = app
        .patch(&path, &c.ja_token, None, &json!({"share_premium_fen": 1}))
        .await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.json["conflict"], "terms_frozen");
    let renamed = app
        .patch(&path, &c.ja_token, None, &json!({"name": "住院津贴"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.json["share_premium_fen"], 8000);
    app.patch(&path, &c.ja_token, None, &json!({"status": "draft"}))
        .await
        .assert_problem(409, "conflict");
    // Members of the subtree see it once open; other cities' staff don't.
    assert_eq!(
        ids(&app.get("/v1/insurance/plans", &member).await),
        vec![id(&plan)]
    );
    assert!(ids(&app.get("/v1/insurance/plans", &c.jj_token).await).is_empty());
    // A county admin sees its city's open plan (offered to its members).
    app.create_user(&c.admin, "qy-admin", id(&c.ja_county), "union_admin")
        .await;
    let county = app.login("qy-admin", USER_PASSWORD).await.0;
    assert_eq!(
        ids(&app.get("/v1/insurance/plans?status=open", &county).await),
        vec![id(&plan)]
    );
    app.patch(&path, &county, None, &json!({"name": "县里改名"}))
        .await
        .assert_problem(404, "not-found");

    let closed = app
        .patch(&path, &c.ja_token, None, &json!({"status": "closed"}))
        .await;
    assert_eq!(closed.json["status"], "closed", "{}", closed.text);
    app.patch(&path, &c.ja_token, None, &json!({"status": "open"}))
        .await
        .assert_problem(409, "conflict");
    // Filters.
    assert_eq!(
        ids(&app
            .get(
                "/v1/insurance/plans?status=closed&kind=hospital_allowance",
                &c.ja_token
            )
            .await),
        vec![id(&plan)]
    );
    assert!(
        ids(&app
            .get("/v1/insurance/plans?kind=accident", &c.ja_token)
            .await)
        .is_empty()
    );
    assert!(
        ids(&app
            .get(
                &format!("/v1/insurance/plans?org_id={}", id(&c.jj)),
                &c.admin
            )
            .await)
        .is_empty()
    );
    app.get("/v1/insurance/plans?status=open&limit=500", &c.ja_token)
        .await
        .assert_problem(422, "validation");
}

// ---------------------------------------------------------------------------------
// Enrollments
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn members_enrol_themselves_and_admins_enrol_groups_with_a_report() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let (ja, jj) = (id(&c.ja), id(&c.jj));
    let r1 = rider(app, &c.ja_token, ja, 1).await;
    let r2 = rider(app, &c.ja_token, ja, 2).await;
    let r3 = rider(app, &c.ja_token, id(&c.ja_county), 3).await;
    let courier = member(app, &c.ja_token, ja, 4, "courier", "gig").await;
    let gone = rider(app, &c.ja_token, ja, 5).await;
    let w1 = app
        .post(
            &format!("/v1/members/{}/withdrawal", id(&gone)),
            &c.ja_token,
            &json!({"reason": "本人申请退会"}),
        )
        .await;
    assert_eq!(w1.json["status"], "withdrawn", "{}", w1.text);
    let elsewhere = rider(app, &c.jj_token, jj, 6).await;

    let mut body = hospital_plan(ja, 30);
    body["eligibility"] = json!({"occupations": ["delivery_rider"]});
    let draft = app.post("/v1/insurance/plans", &c.ja_token, &body).await;
    let draft = draft.json;
    // A draft takes no enrollments.
    let r = app
        .post(
            "/v1/insurance/enrollments",
            &c.ja_token,
            &json!({"plan_id": id(&draft), "shares": 1, "paid_by": "union", "member_id": id(&r1)}),
        )
        .await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.json["conflict"], "plan_status");
    let plan = open_plan(app, &c.ja_token, &body).await;

    // A member enrols themself, paying themself.
    let token3 = member_token(app, &c.ja_token, &r3).await;
    let own = json!({"plan_id": id(&plan), "shares": 2, "paid_by": "member"});
    let mut as_union = own.clone();
    as_union["paid_by"] = json!("union");
    let r = app
        .post("/v1/insurance/enrollments", &token3, &as_union)
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/paid_by".to_owned()]);
    let mut group = own.clone();
    group["member_ids"] = json!([id(&r1)]);
    app.post("/v1/insurance/enrollments", &token3, &group)
        .await
        .assert_problem(403, "forbidden");
    let mut other = own.clone();
    other["member_id"] = json!(id(&r1));
    app.post("/v1/insurance/enrollments", &token3, &other)
        .await
        .assert_problem(404, "not-found");
    let mut too_many = own.clone();
    too_many["shares"] = json!(6);
    let r = app
        .post("/v1/insurance/enrollments", &token3, &too_many)
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/shares".to_owned()]);
    let mine = app.post("/v1/insurance/enrollments", &token3, &own).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.text);
    assert_eq!(mine.json["enrolled"], 1);
    assert_eq!(mine.json["total_premium_fen"], 16000);
    assert_eq!(mine.json["total_coverage_fen"], 900000);
    let enrollment_id = mine.json["enrollment_id"].as_str().unwrap();
    let location = format!("/v1/insurance/enrollments/{enrollment_id}");
    assert_eq!(mine.header("location"), Some(location.as_str()));
    let e = app.get(&location, &token3).await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.text);
    assert_eq!(e.json["cover_start"], day(0));
    assert_eq!(e.json["first_enrollment"], true);
    assert_eq!(e.json["paid_by"], "member");
    assert_eq!(e.json["committed_fen"], 0);
    let again = app.post("/v1/insurance/enrollments", &token3, &own).await;
    again.assert_problem(409, "conflict");
    assert_eq!(again.json["existing_id"], enrollment_id);

    // An administrator enrols one member; a duplicate is a 409.
    let one = json!({"plan_id": id(&plan), "shares": 1, "paid_by": "union", "member_id": id(&r2)});
    let first = app
        .post("/v1/insurance/enrollments", &c.ja_token, &one)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    app.post("/v1/insurance/enrollments", &c.ja_token, &one)
        .await
        .assert_problem(409, "conflict");
    let r = app
        .post(
            "/v1/insurance/enrollments",
            &c.ja_token,
            &json!({"plan_id": id(&plan), "shares": 1, "paid_by": "union", "member_id": id(&courier)}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(
        error_codes(&r),
        vec![("/member_id".into(), "not_eligible".into())]
    );
    app.post(
        "/v1/insurance/enrollments",
        &c.ja_token,
        &json!({"plan_id": id(&plan), "shares": 1, "paid_by": "union", "member_id": id(&elsewhere)}),
    )
    .await
    .assert_problem(404, "not-found");
    // Exactly one way of naming members.
    let r = app
        .post(
            "/v1/insurance/enrollments",
            &c.ja_token,
            &json!({"plan_id": id(&plan), "shares": 1, "paid_by": "union",
                "member_id": id(&r1), "member_ids": [id(&r1)]}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(
        r.pointers(),
        vec!["/member_id".to_owned(), "/member_ids".to_owned()]
    );
    let r = app
        .post(
            "/v1/insurance/enrollments",
            &c.ja_token,
            &json!({"plan_id": id(&plan), "shares": 1, "paid_by": "union"}),
        )
        .await;
    r.assert_problem(422, "validation");

    // A group by list: everyone skipped is named, with why.
    let nobody = uuid::Uuid::now_v7().to_string();
    let report = app
        .post(
            "/v1/insurance/enrollments",
            &c.ja_token,
            &json!({"plan_id": id(&plan), "shares": 2, "paid_by": "union", "member_ids": [
                id(&r1), id(&r2), id(&courier), id(&gone), id(&elsewhere), nobody, id(&r1)
            ]}),
        )
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
    assert_eq!(report.json["enrolled"], 1, "{}", report.text);
    assert_eq!(report.json["enrollment_id"], Value::Null);
    assert_eq!(report.json["total_premium_fen"], 16000);
    assert_eq!(report.json["total_coverage_fen"], 900000);
    let skipped: Vec<(String, String)> = report.json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["member_id"].as_str().unwrap().to_owned(),
                s["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            (id(&r2).to_owned(), "already_enrolled".to_owned()),
            (id(&courier).to_owned(), "not_eligible".to_owned()),
            (id(&gone).to_owned(), "not_active".to_owned()),
            (id(&elsewhere).to_owned(), "not_in_reach".to_owned()),
            (nobody.clone(), "not_in_reach".to_owned()),
        ]
    );
    let listed = app
        .get(
            &format!("/v1/insurance/enrollments?plan_id={}", id(&plan)),
            &c.ja_token,
        )
        .await;
    let mut members: Vec<String> = items(&listed)
        .iter()
        .map(|e| e["member_id"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    let mut expected = vec![id(&r1).to_owned(), id(&r2).to_owned(), id(&r3).to_owned()];
    expected.sort();
    assert_eq!(members, expected);
    // Members see their own; other cities nothing; reviewers their reach.
    assert_eq!(
        ids(&app.get("/v1/insurance/enrollments", &token3).await),
        vec![enrollment_id]
    );
    assert!(ids(&app.get("/v1/insurance/enrollments", &c.jj_token).await).is_empty());
    assert_eq!(
        ids(&app.get("/v1/insurance/enrollments", &w.ja_reviewer).await).len(),
        3
    );
    app.get(&location, &c.jj_token)
        .await
        .assert_problem(404, "not-found");

    // A group by selector, paid by the union: the active riders of the subtree; a
    // second plan of the same kind is not a first enrollment.
    let second = open_plan(app, &c.ja_token, &hospital_plan(ja, 30)).await;
    let selector = json!({"plan_id": id(&second), "shares": 1, "paid_by": "union",
        "selector": {"org_id": ja, "occupation": "delivery_rider"}});
    let report = app
        .post("/v1/insurance/enrollments", &c.ja_token, &selector)
        .await;
    assert_eq!(report.status, StatusCode::CREATED, "{}", report.text);
    assert_eq!(report.json["enrolled"], 3, "{}", report.text);
    assert_eq!(report.json["skipped"], json!([]));
    assert_eq!(report.json["total_premium_fen"], 24000);
    assert_eq!(report.json["total_coverage_fen"], 1350000);
    let listed = app
        .get(
            &format!(
                "/v1/insurance/enrollments?plan_id={}&member_id={}",
                id(&second),
                id(&r1)
            ),
            &c.ja_token,
        )
        .await;
    let enrolled = items(&listed);
    assert_eq!(enrolled.len(), 1);
    assert_eq!(enrolled[0]["first_enrollment"], false);
    assert_eq!(enrolled[0]["paid_by"], "union");
    let again = app
        .post("/v1/insurance/enrollments", &c.ja_token, &selector)
        .await;
    assert_eq!(again.json["enrolled"], 0, "{}", again.text);
    assert_eq!(again.json["skipped"].as_array().unwrap().len(), 3);
    assert!(
        again.json["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["reason"] == "already_enrolled")
    );
    let r = app
        .post(
            "/v1/insurance/enrollments",
            &c.jj_token,
            &json!({"plan_id": id(&second), "shares": 1, "paid_by": "union",
                "selector": {"org_id": jj}}),
        )
        .await;
    r.assert_problem(404, "not-found");
}

/// A group of more than one batch racing a single enrollment of one of its members:
/// whichever wins, the group is all or nothing.
#[tokio::test]
async fn a_group_enrollment_is_all_or_nothing() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let ja = id(&c.ja);
    let mut riders = Vec::new();
    for chunk in (0..620u32).collect::<Vec<_>>().chunks(10) {
        riders.extend(join_all(chunk.iter().map(|i| rider(app, &c.ja_token, ja, 100 + i))).await);
    }
    let plan = open_plan(app, &c.ja_token, &hospital_plan(ja, 30)).await;
    let all: Vec<&str> = riders.iter().map(id).collect();
    let last = riders.last().unwrap();
    let group_body =
        json!({"plan_id": id(&plan), "shares": 1, "paid_by": "union", "member_ids": all});
    let single_body =
        json!({"plan_id": id(&plan), "shares": 1, "paid_by": "union", "member_id": id(last)});
    let group = app.post("/v1/insurance/enrollments", &c.ja_token, &group_body);
    let single = app.post("/v1/insurance/enrollments", &c.ja_token, &single_body);
    let (group, single) = tokio::join!(group, single);
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/insurance/enrollments?plan_id={}&limit=200", id(&plan));
        if let Some(cur) = &cursor {
            path.push_str(&format!("&cursor={cur}"));
        }
        let page = app.get(&path, &c.ja_token).await;
        count += items(&page).len();
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let single_won = single.status == StatusCode::CREATED;
    match group.status.as_u16() {
        201 => {
            let enrolled = group.json["enrolled"].as_u64().unwrap() as usize;
            assert_eq!(enrolled + usize::from(single_won), 620, "{}", group.text);
            assert_eq!(count, 620);
        }
        409 => {
            // The group lost the race: none of its rows stayed.
            assert!(single_won, "{}", single.text);
            assert_eq!(count, 1);
        }
        other => panic!("group enrollment answered {other}: {}", group.text),
    }
    assert!(
        single_won || single.status == StatusCode::CONFLICT,
        "{}",
        single.text
    );
}

// ---------------------------------------------------------------------------------
// Claims
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn claims_are_checked_priced_with_explanations_and_filed_once() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let ja = id(&c.ja);
    let m = rider(app, &c.ja_token, ja, 1).await;
    let token = member_token(app, &c.ja_token, &m).await;

    // A 30-day waiting period on a first enrollment: today is day 0.
    let waiting = open_plan(app, &c.ja_token, &hospital_plan(ja, 30)).await;
    let fresh = enrol(app, &c.ja_token, &waiting, &m, 1).await;
    let r = app
        .post(
            "/v1/insurance/claims",
            &token,
            &hospital_claim(&fresh, &day(0), 5),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(
        error_codes(&r),
        vec![("/incident_date".into(), "waiting_period".into())]
    );

    let plan = open_plan(app, &c.ja_token, &hospital_plan(ja, 0)).await;
    let e = enrol(app, &c.ja_token, &plan, &m, 2).await;
    backdate_cover(app, &e, &day(-100)).await;
    // Every reason at once: outside the term, the wrong kind, a missing fact.
    let r = app
        .post(
            "/v1/insurance/claims",
            &token,
            &json!({"enrollment_id": e, "kind": "critical_illness", "incident_date": day(-150)}),
        )
        .await;
    r.assert_problem(422, "validation");
    let mut codes = error_codes(&r);
    codes.sort();
    assert_eq!(
        codes,
        vec![
            ("/diagnosis".into(), "required".into()),
            ("/incident_date".into(), "outside_term".into()),
            ("/kind".into(), "kind_not_covered".into()),
        ],
        "{}",
        r.text
    );
    let r = app
        .post(
            "/v1/insurance/claims",
            &token,
            &json!({"enrollment_id": e, "kind": "hospital_stay", "incident_date": day(-10)}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(
        error_codes(&r),
        vec![("/hospital_days".into(), "required".into())]
    );
    let r = app
        .post(
            "/v1/insurance/claims",
            &token,
            &hospital_claim(&e, &day(1), 5),
        )
        .await;
    assert_eq!(
        error_codes(&r),
        vec![("/incident_date".into(), "in_future".into())]
    );
    // Mass assignment: a member can't set the status or an amount.
    for (field, value) in [
        ("status", json!("approved")),
        ("computed_fen", json!(999999)),
        ("approved_fen", json!(999999)),
    ] {
        let mut body = hospital_claim(&e, &day(-10), 5);
        body[field] = value;
        let r = app.post("/v1/insurance/claims", &token, &body).await;
        r.assert_problem(422, "validation");
        assert_eq!(r.pointers(), vec![format!("/{field}")]);
    }
    assert!(ids(&app.get("/v1/insurance/claims", &token).await).is_empty());

    // A 5-day stay on 2 shares: 3 deductible days, then 2 days × ¥50 × 2 shares.
    let body = hospital_claim(&e, &day(-10), 5);
    let filed = app
        .request(Method::POST, "/v1/insurance/claims", Some(&token))
        .header("Idempotency-Key", "claim-2026-0001")
        .json(&body)
        .send()
        .await
        .unwrap();
    let filed = Reply::from(filed).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    let claim = filed.json.clone();
    assert_eq!(claim["status"], "submitted");
    assert_eq!(claim["computed_fen"], 20000);
    assert_eq!(claim["payout"]["amount_fen"], 20000);
    assert_eq!(claim["payout"]["remaining_cap_before_fen"], 900000);
    let lines = claim["payout"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{}", filed.text);
    assert_eq!(lines[0]["rule"], "deductible_days");
    assert_eq!(lines[0]["quantity"], 3);
    assert_eq!(lines[0]["amount_fen"], 0);
    assert_eq!(lines[1]["rule"], "daily_allowance");
    assert_eq!(lines[1]["quantity"], 2);
    assert_eq!(lines[1]["amount_fen"], 20000);
    assert_eq!(
        lines[1]["note"],
        "5 days in hospital minus 3 deductible days = 2 days × ¥50.00 × 2 shares"
    );
    assert_eq!(actions(&claim), vec!["filed"]);
    assert_eq!(claim["history"][0]["to_status"], "submitted");
    assert_eq!(claim["history"][0]["amount_fen"], 20000);
    let location = format!("/v1/insurance/claims/{}", id(&claim));
    assert_eq!(filed.header("location"), Some(location.as_str()));

    // The same key replays the same claim; one row.
    let replay = Reply::from(
        app.request(Method::POST, "/v1/insurance/claims", Some(&token))
            .header("Idempotency-Key", "claim-2026-0001")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replay.status, StatusCode::CREATED, "{}", replay.text);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(id(&replay.json), id(&claim));
    assert_eq!(ids(&app.get("/v1/insurance/claims", &token).await).len(), 1);
    // Without a key, the same facts are a duplicate of an open claim: 409 naming it.
    let dup = app.post("/v1/insurance/claims", &token, &body).await;
    dup.assert_problem(409, "conflict");
    assert_eq!(dup.json["conflict"], "open_claim");
    assert_eq!(dup.json["existing_id"], id(&claim));
    // The member and staff in reach read it with its explanation.
    let got = app.get(&location, &token).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.json["payout"], claim["payout"]);
    assert_eq!(
        got.json["documents"],
        json!(["https://files.example.cn/claims/discharge-summary.pdf"])
    );
    assert!(got.header("etag").is_some());
    assert_eq!(
        app.get(&location, &w.ja_reviewer).await.status,
        StatusCode::OK
    );

    // Staff file too; a critical illness claim keeps its diagnosis sealed at rest.
    let illness = json!({
        "name": "重大疾病互助保障", "org_id": ja, "share_premium_fen": 10000, "max_shares": 1,
        "term_start": day(-100), "term_end": day(200), "waiting_days": 30,
        "benefits": {"kind": "critical_illness", "tiers": [
            {"from_day": 30, "amount_per_share_fen": 50000},
            {"from_day": 91, "amount_per_share_fen": 1000000}]}
    });
    let illness = open_plan(app, &c.ja_token, &illness).await;
    let ie = enrol(app, &c.ja_token, &illness, &m, 1).await;
    backdate_cover(app, &ie, &day(-95)).await;
    let ci = file(
        app,
        &w.ja_reviewer,
        &json!({"enrollment_id": ie, "kind": "critical_illness", "incident_date": day(-2),
            "diagnosis": "急性心肌梗死"}),
    )
    .await;
    // Day 93 of cover: the tier from day 91, ¥10,000.
    assert_eq!(ci["computed_fen"], 1000000, "{ci}");
    assert_eq!(ci["payout"]["lines"][0]["rule"], "illness_tier");
    assert_eq!(ci["payout"]["lines"][0]["quantity"], 93);
    assert_eq!(ci["diagnosis"], "急性心肌梗死");
    let db = Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT diagnosis_enc FROM insurance_claims WHERE diagnosis_enc IS NOT NULL",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let sealed: String = rows[0].try_get("", "diagnosis_enc").unwrap();
    assert!(!sealed.contains("心肌"), "the diagnosis is sealed at rest");
    db.close().await.ok();
}

#[tokio::test]
async fn reviewers_decide_within_the_cap_and_claims_move_only_along_their_states() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let ja = id(&c.ja);
    let plan = open_plan(app, &c.ja_token, &hospital_plan(ja, 0)).await;
    let m1 = rider(app, &c.ja_token, ja, 1).await;
    let m2 = rider(app, &c.ja_token, ja, 2).await;
    let token2 = member_token(app, &c.ja_token, &m2).await;
    let e1 = enrol(app, &c.ja_token, &plan, &m1, 1).await;
    let e2 = enrol(app, &c.ja_token, &plan, &m2, 1).await;
    backdate_cover(app, &e1, &day(-90)).await;
    backdate_cover(app, &e2, &day(-90)).await;

    // The cap holds across claims: ¥4,500 for one share.
    let big = file(app, &c.ja_token, &hospital_claim(&e1, &day(-60), 80)).await;
    assert_eq!(big["computed_fen"], 385000);
    let next = file(app, &c.ja_token, &hospital_claim(&e1, &day(-40), 20)).await;
    assert_eq!(
        next["computed_fen"], 85000,
        "priced at filing on what was committed then"
    );
    // Only reviewers decide.
    decide(app, &c.ja_token, &big, json!({"decision": "approve"}))
        .await
        .assert_problem(403, "forbidden");
    decide(app, &w.jj_reviewer, &big, json!({"decision": "approve"}))
        .await
        .assert_problem(404, "not-found");
    let approved = decide(app, &w.ja_reviewer, &big, json!({"decision": "approve"})).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.json["status"], "approved");
    assert_eq!(approved.json["approved_fen"], 385000);
    // Recomputed at decision: only ¥650 remains.
    let capped = decide(app, &w.ja_reviewer, &next, json!({"decision": "approve"})).await;
    assert_eq!(capped.status, StatusCode::OK, "{}", capped.text);
    assert_eq!(capped.json["approved_fen"], 65000);
    assert_eq!(capped.json["computed_fen"], 65000);
    let rules: Vec<&str> = capped.json["payout"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        vec![
            "deductible_days",
            "daily_allowance",
            "already_paid",
            "term_cap"
        ]
    );
    assert_eq!(capped.json["payout"]["lines"][3]["amount_fen"], -20000);
    let e1_now = app
        .get(&format!("/v1/insurance/enrollments/{e1}"), &c.ja_token)
        .await;
    assert_eq!(e1_now.json["committed_fen"], 450000);
    // Nothing remains: an approval is a 409; the claim can still be rejected.
    let third = file(app, &c.ja_token, &hospital_claim(&e1, &day(-20), 10)).await;
    assert_eq!(third["computed_fen"], 0);
    let r = decide(app, &w.ja_reviewer, &third, json!({"decision": "approve"})).await;
    r.assert_problem(409, "conflict");
    assert_eq!(r.json["conflict"], "cover_exhausted");
    // Rejecting needs a reason.
    let r = decide(app, &w.ja_reviewer, &third, json!({"decision": "reject"})).await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/reason".to_owned()]);
    let r = decide(
        app,
        &w.ja_reviewer,
        &third,
        json!({"decision": "reject", "reason": "本期保额已用完", "approved_fen": 1}),
    )
    .await;
    assert_eq!(r.pointers(), vec!["/approved_fen".to_owned()]);
    let rejected = decide(
        app,
        &w.ja_reviewer,
        &third,
        json!({"decision": "reject", "reason": "本期保额已用完"}),
    )
    .await;
    assert_eq!(rejected.json["status"], "rejected", "{}", rejected.text);
    // A rejected claim doesn't block filing the same incident again.
    let refiled = app
        .post(
            "/v1/insurance/claims",
            &c.ja_token,
            &hospital_claim(&e1, &day(-20), 10),
        )
        .await;
    assert_eq!(refiled.status, StatusCode::CREATED, "{}", refiled.text);

    // Lowering needs a reason; raising is refused.
    let small = file(app, &token2, &hospital_claim(&e2, &day(-30), 5)).await;
    assert_eq!(small["computed_fen"], 10000);
    let r = decide(
        app,
        &w.ja_reviewer,
        &small,
        json!({"decision": "approve", "approved_fen": 20000, "reason": "多给点"}),
    )
    .await;
    r.assert_problem(422, "validation");
    assert_eq!(
        error_codes(&r),
        vec![("/approved_fen".into(), "above_computed".into())]
    );
    let r = decide(
        app,
        &w.ja_reviewer,
        &small,
        json!({"decision": "approve", "approved_fen": 8000}),
    )
    .await;
    assert_eq!(error_codes(&r), vec![("/reason".into(), "required".into())]);
    let review = app
        .post(
            &format!("/v1/insurance/claims/{}/review", id(&small)),
            &w.ja_reviewer,
            &json!({}),
        )
        .await;
    assert_eq!(review.json["status"], "under_review", "{}", review.text);
    app.post(
        &format!("/v1/insurance/claims/{}/review", id(&small)),
        &w.ja_reviewer,
        &json!({}),
    )
    .await
    .assert_problem(409, "conflict");
    let lowered = decide(
        app,
        &w.ja_reviewer,
        &small,
        json!({"decision": "approve", "approved_fen": 8000, "reason": "住院天数中1天为门诊观察"}),
    )
    .await;
    assert_eq!(lowered.status, StatusCode::OK, "{}", lowered.text);
    assert_eq!(lowered.json["approved_fen"], 8000);
    assert_eq!(lowered.json["computed_fen"], 10000);
    let e2_now = app
        .get(&format!("/v1/insurance/enrollments/{e2}"), &token2)
        .await;
    assert_eq!(e2_now.json["committed_fen"], 8000);
    // Illegal moves name the state the claim is in.
    let r = decide(app, &w.ja_reviewer, &small, json!({"decision": "approve"})).await;
    r.assert_problem(409, "conflict");
    assert!(
        r.json["detail"].as_str().unwrap().contains("approved"),
        "{}",
        r.text
    );
    let r = app
        .post(
            &format!("/v1/insurance/claims/{}/payment", id(&refiled.json)),
            &w.ja_reviewer,
            &json!({"reference": "ICBC-1"}),
        )
        .await;
    r.assert_problem(409, "conflict");
    assert!(
        r.json["detail"].as_str().unwrap().contains("submitted"),
        "{}",
        r.text
    );
    // Payment.
    let pay = format!("/v1/insurance/claims/{}/payment", id(&small));
    app.post(&pay, &c.ja_token, &json!({"reference": "ICBC-20261130-1"}))
        .await
        .assert_problem(403, "forbidden");
    let paid = app
        .post(
            &pay,
            &w.ja_reviewer,
            &json!({"reference": "ICBC-20261130-1"}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
    assert_eq!(paid.json["status"], "paid");
    assert_eq!(paid.json["payment_reference"], "ICBC-20261130-1");
    assert_eq!(
        actions(&paid.json),
        vec!["filed", "start_review", "approve", "pay"]
    );
    let history = paid.json["history"].as_array().unwrap();
    assert_eq!(history[2]["reason"], "住院天数中1天为门诊观察");
    assert_eq!(history[2]["amount_fen"], 8000);
    assert_eq!(history[3]["amount_fen"], 8000);
    assert_eq!(history[3]["from_status"], "approved");
    assert!(history[2]["actor_user_id"].is_string());
    app.post(&pay, &w.ja_reviewer, &json!({"reference": "again"}))
        .await
        .assert_problem(409, "conflict");
    app.post(
        &format!("/v1/insurance/claims/{}/review", id(&small)),
        &w.ja_reviewer,
        &json!({}),
    )
    .await
    .assert_problem(409, "conflict");

    // Returned, corrected by the member with If-Match, resubmitted.
    let short = file(app, &token2, &hospital_claim(&e2, &day(-15), 2)).await;
    let path = format!("/v1/insurance/claims/{}", id(&short));
    let etag = app
        .get(&path, &token2)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    app.patch(&path, &token2, Some(&etag), &json!({"hospital_days": 6}))
        .await
        .assert_problem(409, "conflict");
    let r = decide(app, &w.ja_reviewer, &short, json!({"decision": "return"})).await;
    assert_eq!(r.pointers(), vec!["/reason".to_owned()]);
    let returned = decide(
        app,
        &w.ja_reviewer,
        &short,
        json!({"decision": "return", "reason": "请补充出院小结，核对住院天数"}),
    )
    .await;
    assert_eq!(returned.json["status"], "returned", "{}", returned.text);
    app.patch(&path, &token2, Some(&etag), &json!({"hospital_days": 6}))
        .await
        .assert_problem(412, "precondition-failed");
    let etag = returned.header("etag").unwrap().to_owned();
    let r = app
        .patch(&path, &token2, Some(&etag), &json!({"status": "approved"}))
        .await;
    r.assert_problem(422, "validation");
    let r = app
        .patch(
            &path,
            &token2,
            Some(&etag),
            &json!({"incident_date": day(-200)}),
        )
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(
        error_codes(&r),
        vec![("/incident_date".into(), "outside_term".into())]
    );
    let resubmitted = app
        .patch(
            &path,
            &token2,
            Some(&etag),
            &json!({"hospital_days": 6, "documents": ["discharge-2.pdf"]}),
        )
        .await;
    assert_eq!(resubmitted.status, StatusCode::OK, "{}", resubmitted.text);
    assert_eq!(resubmitted.json["status"], "submitted");
    assert_eq!(resubmitted.json["hospital_days"], 6);
    // 3 days × ¥50, after the ¥80 already committed on the enrollment.
    assert_eq!(resubmitted.json["computed_fen"], 15000);
    assert_eq!(resubmitted.json["documents"], json!(["discharge-2.pdf"]));
    assert_eq!(
        actions(&resubmitted.json),
        vec!["filed", "return", "resubmit"]
    );
    assert_ne!(resubmitted.header("etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn members_and_other_cities_see_only_their_own_claims() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let (ja, jj) = (id(&c.ja), id(&c.jj));
    let ja_plan = open_plan(app, &c.ja_token, &hospital_plan(ja, 0)).await;
    let jj_plan = open_plan(app, &c.jj_token, &hospital_plan(jj, 0)).await;
    let a = rider(app, &c.ja_token, ja, 1).await;
    let b = rider(app, &c.ja_token, ja, 2).await;
    let j = rider(app, &c.jj_token, jj, 3).await;
    let (ta, tb) = (
        member_token(app, &c.ja_token, &a).await,
        member_token(app, &c.ja_token, &b).await,
    );
    let ea = enrol(app, &c.ja_token, &ja_plan, &a, 1).await;
    let eb = enrol(app, &c.ja_token, &ja_plan, &b, 1).await;
    let ej = enrol(app, &c.jj_token, &jj_plan, &j, 1).await;
    // A member sees only the plans offered to them.
    assert_eq!(
        ids(&app.get("/v1/insurance/plans", &ta).await),
        vec![id(&ja_plan)]
    );
    app.get(&format!("/v1/insurance/plans/{}", id(&jj_plan)), &ta)
        .await
        .assert_problem(404, "not-found");

    let ca = file(app, &ta, &hospital_claim(&ea, &day(0), 5)).await;
    let cb = file(app, &tb, &hospital_claim(&eb, &day(0), 5)).await;
    let cj = file(app, &c.jj_token, &hospital_claim(&ej, &day(0), 5)).await;

    // A member: their own claim only, and no filing on someone else's enrollment.
    app.get(&format!("/v1/insurance/claims/{}", id(&cb)), &ta)
        .await
        .assert_problem(404, "not-found");
    app.post(
        "/v1/insurance/claims",
        &ta,
        &hospital_claim(&eb, &day(-1), 4),
    )
    .await
    .assert_problem(404, "not-found");
    app.get(&format!("/v1/insurance/enrollments/{eb}"), &ta)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(
        ids(&app.get("/v1/insurance/claims", &ta).await),
        vec![id(&ca)]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/v1/insurance/claims?member_id={}", id(&b)), &ta)
            .await),
        Vec::<String>::new()
    );
    // Members don't review, decide, pay or read stats.
    for (path, body) in [
        ("review", json!({})),
        ("decision", json!({"decision": "approve"})),
        ("payment", json!({"reference": "x"})),
    ] {
        app.post(
            &format!("/v1/insurance/claims/{}/{path}", id(&ca)),
            &ta,
            &body,
        )
        .await
        .assert_problem(403, "forbidden");
    }
    app.get("/v1/insurance/stats", &ta)
        .await
        .assert_problem(403, "forbidden");

    // Another city's staff: 404 and absent from lists.
    for token in [&c.jj_token, &w.jj_reviewer] {
        app.get(&format!("/v1/insurance/claims/{}", id(&ca)), token)
            .await
            .assert_problem(404, "not-found");
        assert_eq!(
            ids(&app.get("/v1/insurance/claims", token).await),
            vec![id(&cj)]
        );
        app.post(
            "/v1/insurance/claims",
            token,
            &hospital_claim(&ea, &day(-1), 4),
        )
        .await
        .assert_problem(404, "not-found");
    }
    app.post(
        &format!("/v1/insurance/claims/{}/review", id(&ca)),
        &w.jj_reviewer,
        &json!({}),
    )
    .await
    .assert_problem(404, "not-found");
    // Staff in reach see their subtree, filtered.
    let mut seen = ids(&app.get("/v1/insurance/claims", &w.ja_reviewer).await);
    seen.sort();
    let mut expected = vec![id(&ca).to_owned(), id(&cb).to_owned()];
    expected.sort();
    assert_eq!(seen, expected);
    assert_eq!(
        ids(&app
            .get(
                &format!("/v1/insurance/claims?member_id={}", id(&b)),
                &c.ja_token
            )
            .await),
        vec![id(&cb)]
    );
    assert_eq!(
        ids(&app.get("/v1/insurance/claims?status=paid", &c.admin).await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&app
            .get(
                &format!("/v1/insurance/claims?plan_id={}", id(&jj_plan)),
                &c.admin
            )
            .await),
        vec![id(&cj)]
    );
}

/// 50 claims on one enrollment whose cover fits 9 of them, approved all at once.
#[tokio::test]
async fn fifty_concurrent_approvals_never_exceed_the_cover() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let ja = id(&c.ja);
    let plan = open_plan(app, &c.ja_token, &hospital_plan(ja, 0)).await;
    let m = rider(app, &c.ja_token, ja, 1).await;
    let e = enrol(app, &c.ja_token, &plan, &m, 1).await;
    backdate_cover(app, &e, &day(-90)).await;
    // 13 days: 10 paid days × ¥50 = ¥500 each; the ¥4,500 pot takes 9.
    let mut claims = Vec::new();
    for i in 1..=50 {
        claims.push(file(app, &c.ja_token, &hospital_claim(&e, &day(-i), 13)).await);
    }
    assert!(claims.iter().all(|c| c["computed_fen"] == 50000));
    let replies = join_all(
        claims
            .iter()
            .map(|claim| decide(app, &w.ja_reviewer, claim, json!({"decision": "approve"}))),
    )
    .await;
    let mut approved_total = 0;
    let (mut ok, mut conflicts) = (0, 0);
    for r in &replies {
        match r.status.as_u16() {
            200 => {
                ok += 1;
                approved_total += r.json["approved_fen"].as_i64().unwrap();
            }
            409 => {
                conflicts += 1;
                assert_eq!(r.json["conflict"], "cover_exhausted", "{}", r.text);
            }
            other => panic!("an approval answered {other}: {}", r.text),
        }
    }
    assert!(approved_total <= 450000);
    assert_eq!((ok, conflicts), (9, 41));
    assert_eq!(approved_total, 450000);
    let enrollment = app
        .get(&format!("/v1/insurance/enrollments/{e}"), &c.ja_token)
        .await;
    assert_eq!(enrollment.json["committed_fen"], 450000);
    let approved = app
        .get(
            "/v1/insurance/claims?status=approved&limit=200",
            &w.ja_reviewer,
        )
        .await;
    assert_eq!(items(&approved).len(), 9);
}

#[tokio::test]
async fn stats_add_up_enrollments_and_claims_by_status() {
    let w = world().await;
    let (app, c) = (&w.app, &w.c);
    let (ja, jj) = (id(&c.ja), id(&c.jj));
    let plan = open_plan(app, &c.ja_token, &hospital_plan(ja, 0)).await;
    let county_rider = rider(app, &c.ja_token, id(&c.ja_county), 1).await;
    let city_rider = rider(app, &c.ja_token, ja, 2).await;
    let e1 = enrol(app, &c.ja_token, &plan, &county_rider, 2).await;
    enrol(app, &c.ja_token, &plan, &city_rider, 1).await;
    let jj_plan = open_plan(app, &c.jj_token, &hospital_plan(jj, 0)).await;
    let j = rider(app, &c.jj_token, jj, 3).await;
    enrol(app, &c.jj_token, &jj_plan, &j, 1).await;
    backdate_cover(app, &e1, &day(-90)).await;
    let paid = file(app, &c.ja_token, &hospital_claim(&e1, &day(-30), 5)).await;
    let open = file(app, &c.ja_token, &hospital_claim(&e1, &day(-20), 4)).await;
    decide(app, &w.ja_reviewer, &paid, json!({"decision": "approve"})).await;
    let r = app
        .post(
            &format!("/v1/insurance/claims/{}/payment", id(&paid)),
            &w.ja_reviewer,
            &json!({"reference": "BANK-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(open["computed_fen"], 10000);

    let s = app.get("/v1/insurance/stats", &w.ja_reviewer).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.json["enrolled_members"], 2);
    assert_eq!(s.json["enrollments"], 2);
    assert_eq!(s.json["premiums_fen"], 24000);
    assert_eq!(s.json["coverage_fen"], 1350000);
    assert_eq!(
        s.json["claims"]["paid"],
        json!({"count": 1, "amount_fen": 20000})
    );
    assert_eq!(
        s.json["claims"]["submitted"],
        json!({"count": 1, "amount_fen": 10000})
    );
    assert_eq!(
        s.json["claims"]["rejected"],
        json!({"count": 0, "amount_fen": 0})
    );
    assert_eq!(s.json["paid_fen"], 20000);
    // A subtree, a plan.
    let county = app
        .get(
            &format!("/v1/insurance/stats?org_id={}", id(&c.ja_county)),
            &c.ja_token,
        )
        .await;
    assert_eq!(county.json["enrolled_members"], 1, "{}", county.text);
    assert_eq!(county.json["premiums_fen"], 16000);
    assert_eq!(county.json["org_id"], id(&c.ja_county));
    let all = app
        .get(
            &format!("/v1/insurance/stats?plan_id={}", id(&jj_plan)),
            &c.admin,
        )
        .await;
    assert_eq!(all.json["enrolled_members"], 1, "{}", all.text);
    assert_eq!(all.json["claims"]["paid"]["count"], 0);
    let everything = app.get("/v1/insurance/stats", &c.admin).await;
    assert_eq!(everything.json["enrolled_members"], 3);
    // Outside reach.
    let r = app
        .get(&format!("/v1/insurance/stats?org_id={ja}"), &c.jj_token)
        .await;
    r.assert_problem(422, "validation");
    assert_eq!(r.pointers(), vec!["/org_id".to_owned()]);
    let r = app
        .get(
            &format!("/v1/insurance/stats?plan_id={}", id(&plan)),
            &w.jj_reviewer,
        )
        .await;
    assert_eq!(r.pointers(), vec!["/plan_id".to_owned()]);
}
