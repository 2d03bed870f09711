//! Competitions: creation with pointed validation, visibility and isolation, the
//! lifecycle (every refused step names why, setup freezes once the run starts),
//! registrations (self and by a union, eligibility, windows, withdrawal) and the two
//! invariants the database keeps under concurrency: one registration per member, and
//! the capacity.
//!
//! Time: the suite runs against the real clock. Windows are set relative to now, in
//! the past where a test needs a phase already over (the API accepts any consistent
//! windows, as an organiser recording a contest already under way would need).

use chrono::{Duration, Utc};
use futures_util::StreamExt;
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use unionhall_api::auth::Keys;
use unionhall_domain::{MemberId, OrgId};
use unionhall_tests::riders::id_number;
use unionhall_tests::{Reply, TestApp, TwoCities, id};

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

fn hours(h: i64) -> String {
    (Utc::now() + Duration::hours(h)).to_rfc3339()
}

fn assert_refused(reply: &Reply, code: &str, pointer: &str) {
    reply.assert_problem(422, "validation");
    let found = reply.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == code && e["pointer"] == pointer);
    assert!(found, "expected {code} at {pointer}: {}", reply.text);
}

fn assert_conflict(reply: &Reply, constraint: &str) {
    reply.assert_problem(409, "conflict");
    assert_eq!(reply.json["conflict"], constraint, "{}", reply.text);
}

struct Member {
    id: String,
    token: String,
}

struct World {
    app: TestApp,
    c: TwoCities,
    keys: Keys,
    db: sea_orm::DatabaseConnection,
    seq: std::sync::atomic::AtomicU32,
}

async fn world_with(tweak: impl FnOnce(&mut unionhall_api::config::Config)) -> World {
    let app = TestApp::spawn_with(tweak).await;
    let c = app.two_cities().await;
    let keys = Keys::new(
        unionhall_tests::JWT_SECRET,
        &[],
        &app.config.jwt_issuer,
        &app.config.jwt_audience,
        900,
    )
    .unwrap();
    let db = sea_orm::Database::connect(app.config.database_url.clone().unwrap())
        .await
        .unwrap();
    World {
        app,
        c,
        keys,
        db,
        seq: std::sync::atomic::AtomicU32::new(1),
    }
}

async fn world() -> World {
    world_with(|_| {}).await
}

impl World {
    /// A member of `org` with `occupation`, a member account, and a token for it (the
    /// account stored directly and the token issued with the test secret, so many
    /// members cost no password hashing).
    async fn member_as(&self, org: &str, occupation: &str) -> Member {
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let reply = self
            .app
            .post(
                "/v1/members",
                &self.c.admin,
                &json!({
                    "org_id": org,
                    "name": "李四",
                    "id_number": id_number(seq),
                    "phone": format!("138{:08}", seq),
                    "occupation": occupation,
                    "employment_form": "standard",
                }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        let member_id: uuid::Uuid = id(&reply.json).parse().unwrap();
        let account = unionhall_persistence::users::set_member_account(
            &self.db,
            MemberId(member_id),
            OrgId(org.parse().unwrap()),
            reply.json["card_no"].as_str().unwrap(),
            "李四",
            "not-a-password-hash".to_owned(),
        )
        .await
        .unwrap();
        Member {
            id: member_id.to_string(),
            token: self.keys.issue(account.user_id, &[]).unwrap(),
        }
    }

    async fn member(&self, org: &str) -> Member {
        self.member_as(org, "factory_worker").await
    }

    /// A competition of the Jiujiang federation from a skills base with `extra` over it:
    /// registration open now, the run from an hour ahead.
    async fn create(&self, extra: Value) -> Reply {
        self.create_as(&self.c.jj_token, extra).await
    }

    async fn create_as(&self, token: &str, extra: Value) -> Reply {
        let mut body = json!({
            "org_id": id(&self.c.jj),
            "name": "2026 年“天工杯”信息技术职业技能竞赛",
            "category": "信息技术",
            "kind": "skills",
            "registration_opens": hours(-1),
            "registration_closes": hours(1),
            "run_starts": hours(1),
            "run_ends": hours(3),
            "criteria": [
                {"key": "technique", "name": "技术", "max_hundredths": 7000},
                {"key": "safety", "name": "安全", "max_hundredths": 3000},
            ],
            "scoring_method": "trimmed_mean",
            "tie_breaks": [{"criterion": "safety"}],
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.app.post("/v1/competitions", token, &body).await
    }

    /// A competition moved to `registration`.
    async fn open(&self, extra: Value) -> Value {
        let created = self.create(extra).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        self.set_status(&created.json, "registration").await
    }

    async fn set_status(&self, c: &Value, status: &str) -> Value {
        let reply = self.patch(c, &json!({"status": status})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json
    }

    async fn patch(&self, c: &Value, body: &Value) -> Reply {
        self.app
            .patch(
                &format!("/v1/competitions/{}", id(c)),
                &self.c.jj_token,
                None,
                body,
            )
            .await
    }

    async fn register(&self, token: &str, c: &Value, body: &Value) -> Reply {
        self.app
            .post(
                &format!("/v1/competitions/{}/registrations", id(c)),
                token,
                body,
            )
            .await
    }

    async fn get(&self, c: &Value, token: &str) -> Reply {
        self.app
            .get(&format!("/v1/competitions/{}", id(c)), token)
            .await
    }

    async fn delete(&self, path: &str, token: &str) -> Reply {
        let res = self
            .app
            .request(Method::DELETE, path, Some(token))
            .send()
            .await
            .unwrap();
        Reply::from(res).await
    }
}

// ---------------------------------------------------------------------------------
// Competitions and their lifecycle
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn competitions_are_created_by_admins_in_reach_with_every_problem_pointed() {
    let w = world().await;
    let member = w.member(id(&w.c.jj_county)).await;

    let created = w.create(json!({"capacity": 30})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let c = &created.json;
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/competitions/{}", id(c)).as_str())
    );
    assert_eq!(c["status"], "draft");
    assert_eq!(c["kind"], "skills");
    assert_eq!(c["registered"], 0);
    assert_eq!(c["capacity"], 30);
    assert_eq!(c["rank_kind"], "competition");
    assert_eq!(c["criteria"][0]["weight_bp"], 10_000);
    assert_eq!(c["tie_breaks"], json!([{"criterion": "safety"}]));

    // Members can't create; an admin can't organise outside their reach.
    w.create_as(&member.token, json!({}))
        .await
        .assert_problem(403, "forbidden");
    let outside = w
        .app
        .post(
            "/v1/competitions",
            &w.c.ja_token,
            &json!({
                "org_id": id(&w.c.jj), "name": "x", "kind": "speech",
                "registration_opens": hours(1), "registration_closes": hours(2),
                "run_starts": hours(3), "run_ends": hours(4),
                "criteria": [{"key": "poise", "name": "台风", "max_hundredths": 1000}],
            }),
        )
        .await;
    assert_refused(&outside, "not_found", "/org_id");

    // Every problem with the terms, with its pointer; nothing is written.
    let bad = w
        .create(json!({
            "kind": "quiz",
            "registration_closes": hours(-2),
            "run_ends": hours(0),
            "capacity": 0,
            "tie_breaks": ["finish_time"],
        }))
        .await;
    bad.assert_problem(422, "validation");
    let mut pointers = bad.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        vec![
            "/capacity",
            "/criteria",
            "/registration_closes",
            "/run_ends",
            "/tie_breaks/0",
            "/time_limit_seconds",
        ],
        "{}",
        bad.text
    );
    let judged_without_criteria = w.create(json!({"criteria": []})).await;
    assert_refused(&judged_without_criteria, "required", "/criteria");

    // Mass assignment: server-owned fields can't be sent.
    for field in ["status", "registered", "id", "version"] {
        let mut extra = json!({});
        extra[field] = json!(if field == "registered" {
            json!(5)
        } else {
            json!("running")
        });
        let reply = w.create(extra).await;
        assert_refused(&reply, "unknown_field", &format!("/{field}"));
    }
    let list = w.app.get("/v1/competitions", &w.c.jj_token).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn drafts_are_the_organisers_and_published_competitions_reach_its_subtree_only() {
    let w = world().await;
    let jj_member = w.member(id(&w.c.jj_county)).await;
    let ja_member = w.member(id(&w.c.ja_county)).await;
    let draft = w.create(json!({})).await.json;
    let quiz = w
        .open(json!({"kind": "quiz", "criteria": [], "tie_breaks": [],
            "time_limit_seconds": 600, "scoring_method": null}))
        .await;

    // A draft: the organiser's admins only.
    assert_eq!(w.get(&draft, &w.c.jj_token).await.status, StatusCode::OK);
    assert_eq!(w.get(&draft, &w.c.admin).await.status, StatusCode::OK);
    w.get(&draft, &jj_member.token)
        .await
        .assert_problem(404, "not-found");
    w.get(&draft, &w.c.ja_token)
        .await
        .assert_problem(404, "not-found");

    // Published: the organiser's subtree, not the other city.
    assert_eq!(w.get(&quiz, &jj_member.token).await.status, StatusCode::OK);
    w.get(&quiz, &ja_member.token)
        .await
        .assert_problem(404, "not-found");
    w.get(&quiz, &w.c.ja_token)
        .await
        .assert_problem(404, "not-found");

    // Lists follow the same rule, with kind and status filters.
    let ids = |r: &Reply| -> Vec<String> {
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| id(c).to_owned())
            .collect()
    };
    let mine = w.app.get("/v1/competitions", &jj_member.token).await;
    assert_eq!(ids(&mine), vec![id(&quiz).to_owned()]);
    let theirs = w.app.get("/v1/competitions", &ja_member.token).await;
    assert!(ids(&theirs).is_empty());
    let admin = w.app.get("/v1/competitions", &w.c.jj_token).await;
    assert_eq!(ids(&admin).len(), 2);
    let skills = w
        .app
        .get("/v1/competitions?kind=skills", &w.c.jj_token)
        .await;
    assert_eq!(ids(&skills), vec![id(&draft).to_owned()]);
    let open = w
        .app
        .get("/v1/competitions?status=registration", &w.c.jj_token)
        .await;
    assert_eq!(ids(&open), vec![id(&quiz).to_owned()]);
    let paged = w.app.get("/v1/competitions?limit=1", &w.c.jj_token).await;
    assert_eq!(ids(&paged), vec![id(&draft).to_owned()]);
    let next = paged.json["next_cursor"].as_str().unwrap();
    let rest = w
        .app
        .get(
            &format!("/v1/competitions?limit=1&cursor={next}"),
            &w.c.jj_token,
        )
        .await;
    assert_eq!(ids(&rest), vec![id(&quiz).to_owned()]);
    w.app
        .get("/v1/competitions?status=finished", &w.c.jj_token)
        .await
        .assert_problem(422, "validation");

    // Nobody outside the organiser's reach may change it: a 404, as if it didn't exist.
    w.app
        .patch(
            &format!("/v1/competitions/{}", id(&quiz)),
            &w.c.ja_token,
            None,
            &json!({"name": "x"}),
        )
        .await
        .assert_problem(404, "not-found");
    w.app
        .patch(
            &format!("/v1/competitions/{}", id(&quiz)),
            &jj_member.token,
            None,
            &json!({"name": "x"}),
        )
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn the_lifecycle_moves_one_checked_step_at_a_time_and_setup_freezes_once_running() {
    let w = world().await;
    let c = w.create(json!({"capacity": 10})).await.json;
    let path = format!("/v1/competitions/{}", id(&c));

    // If-Match: the GET's tag works once; a stale one is 412.
    let got = w.get(&c, &w.c.jj_token).await;
    let etag = got.header("etag").unwrap().to_owned();
    let skipped = w
        .app
        .patch(
            &path,
            &w.c.jj_token,
            Some(&etag),
            &json!({"status": "running"}),
        )
        .await;
    assert_conflict(&skipped, "transition_not_allowed");
    let renamed = w
        .app
        .patch(
            &path,
            &w.c.jj_token,
            Some(&etag),
            &json!({"name": "天工杯", "category": null, "status": "registration"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.json["status"], "registration");
    assert_eq!(renamed.json["category"], Value::Null);
    assert_ne!(renamed.header("etag"), Some(etag.as_str()));
    w.app
        .patch(&path, &w.c.jj_token, Some(&etag), &json!({"name": "again"}))
        .await
        .assert_problem(412, "precondition-failed");

    // Setup still editable in registration, and checked as on creation.
    let bad = w
        .patch(
            &c,
            &json!({"run_starts": hours(-5), "tie_breaks": [{"criterion": "speed"}]}),
        )
        .await;
    bad.assert_problem(422, "validation");
    let mut pointers = bad.pointers();
    pointers.sort();
    assert_eq!(pointers, vec!["/run_starts", "/tie_breaks/0"]);
    let cap = w.patch(&c, &json!({"capacity": 20})).await;
    assert_eq!(cap.json["capacity"], 20, "{}", cap.text);

    // Backwards is never a step.
    assert_conflict(
        &w.patch(&c, &json!({"status": "draft"})).await,
        "transition_not_allowed",
    );
    w.set_status(&c, "running").await;

    // Running: the terms are frozen, the name and windows are not.
    for change in [
        json!({"capacity": 5}),
        json!({"criteria": [{"key": "speed", "name": "速度", "max_hundredths": 100}]}),
        json!({"rank_kind": "dense"}),
        json!({"eligibility": {"occupations": ["factory_worker"]}}),
    ] {
        assert_conflict(&w.patch(&c, &change).await, "setup_frozen");
    }
    // Leaving `running` waits for the run to end.
    let early = w.patch(&c, &json!({"status": "judging"})).await;
    assert_conflict(&early, "run_not_over");
    // The organiser ends the run early by moving run_ends, then judges.
    let ended = w
        .patch(
            &c,
            &json!({"registration_opens": hours(-4), "registration_closes": hours(-3),
                "run_starts": hours(-2), "run_ends": hours(0)}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    let judging = w.set_status(&c, "judging").await;
    assert_eq!(judging["status"], "judging");
    // Publishing goes through the results endpoint, never a PATCH.
    let publish = w.patch(&c, &json!({"status": "results_published"})).await;
    assert_refused(&publish, "not_settable", "/status");
    // A skills contest can't skip judging (only a quiz may): checked by the domain.
    let quiz_only = w
        .open(
            json!({"registration_opens": hours(-4), "registration_closes": hours(-3),
            "run_starts": hours(-2), "run_ends": hours(-1)}),
        )
        .await;
    w.set_status(&quiz_only, "running").await;
    assert_conflict(
        &w.patch(&quiz_only, &json!({"status": "results_published"}))
            .await,
        "transition_not_allowed",
    );
}

// ---------------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn members_register_themselves_and_unions_register_their_members_within_the_rules() {
    let w = world().await;
    let c = w
        .open(json!({"eligibility": {"occupations": ["factory_worker", "courier"]}}))
        .await;
    let regs = format!("/v1/competitions/{}/registrations", id(&c));
    let alice = w.member(id(&w.c.jj_county)).await;
    let bob = w.member(id(&w.c.jj_county)).await;
    let rider = w.member_as(id(&w.c.jj_county), "delivery_rider").await;
    let outsider = w.member(id(&w.c.ja_county)).await;

    // A member registers themself with `{}`.
    let first = w.register(&alice.token, &c, &json!({})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["member_id"], alice.id.as_str());
    assert_eq!(first.json["member_org_id"], id(&w.c.jj_county));
    assert_eq!(first.header("location"), Some(regs.as_str()));
    // Once: the second names the first.
    let again = w.register(&alice.token, &c, &json!({})).await;
    assert_conflict(&again, "one_registration_per_member");
    assert_eq!(again.json["existing_id"], id(&first.json));
    // Only themself.
    assert_refused(
        &w.register(&alice.token, &c, &json!({"member_id": bob.id}))
            .await,
        "own_only",
        "/member_id",
    );
    // Eligibility: occupation.
    assert_refused(
        &w.register(&rider.token, &c, &json!({})).await,
        "not_eligible",
        "/member_id",
    );
    // Another city's member doesn't even see it.
    w.register(&outsider.token, &c, &json!({}))
        .await
        .assert_problem(404, "not-found");

    // The union registers its member; not another city's, nor without naming one.
    let by_union = w
        .register(&w.c.jj_token, &c, &json!({"member_id": bob.id}))
        .await;
    assert_eq!(by_union.status, StatusCode::CREATED, "{}", by_union.text);
    assert_refused(
        &w.register(&w.c.jj_token, &c, &json!({"member_id": outsider.id}))
            .await,
        "not_found",
        "/member_id",
    );
    assert_refused(
        &w.register(&w.c.jj_token, &c, &json!({})).await,
        "required",
        "/member_id",
    );
    // The federation admin registers the other city's member: outside the organiser.
    assert_refused(
        &w.register(&w.c.admin, &c, &json!({"member_id": outsider.id}))
            .await,
        "outside_organiser",
        "/member_id",
    );
    // Unknown fields are refused.
    assert_refused(
        &w.register(
            &w.c.jj_token,
            &c,
            &json!({"member_id": bob.id, "status": "x"}),
        )
        .await,
        "unknown_field",
        "/status",
    );
    assert_eq!(w.get(&c, &w.c.jj_token).await.json["registered"], 2);

    // Lists: the organiser sees all; a member only their own; another city's admin
    // can't find the competition.
    let all = w.app.get(&regs, &w.c.jj_token).await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 2);
    let own = w.app.get(&regs, &bob.token).await;
    let own_items = own.json["items"].as_array().unwrap();
    assert_eq!(own_items.len(), 1);
    assert_eq!(own_items[0]["member_id"], bob.id.as_str());
    w.app
        .get(&regs, &w.c.ja_token)
        .await
        .assert_problem(404, "not-found");

    // Withdrawal before the run: by the member, freeing the place; never someone
    // else's (404); then registering again works.
    let alice_reg = format!("{regs}/{}", id(&first.json));
    w.delete(&alice_reg, &bob.token)
        .await
        .assert_problem(404, "not-found");
    let gone = w.delete(&alice_reg, &alice.token).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    w.delete(&alice_reg, &alice.token)
        .await
        .assert_problem(404, "not-found");
    assert_eq!(w.get(&c, &w.c.jj_token).await.json["registered"], 1);
    let back = w.register(&alice.token, &c, &json!({})).await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.text);
    // The union withdraws the member it registered.
    let bob_reg = format!("{regs}/{}", id(&by_union.json));
    assert_eq!(
        w.delete(&bob_reg, &w.c.jj_token).await.status,
        StatusCode::NO_CONTENT
    );

    // Once the run has started, nobody withdraws.
    let moved = w
        .patch(
            &c,
            &json!({"registration_opens": hours(-4), "registration_closes": hours(-3),
                "run_starts": hours(-2), "run_ends": hours(2)}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let late = w
        .delete(&format!("{regs}/{}", id(&back.json)), &alice.token)
        .await;
    assert_conflict(&late, "withdrawal_closed");
    // Nor registers: the window has closed.
    assert_conflict(&w.register(&bob.token, &c, &json!({})).await, "not_open");
}

#[tokio::test]
async fn registration_needs_the_registration_status_and_window() {
    let w = world().await;
    let member = w.member(id(&w.c.jj_county)).await;
    // A draft isn't visible to members at all.
    let draft = w.create(json!({})).await.json;
    w.register(&member.token, &draft, &json!({}))
        .await
        .assert_problem(404, "not-found");
    // Its admin can't register anyone into a draft.
    assert_conflict(
        &w.register(&w.c.jj_token, &draft, &json!({"member_id": member.id}))
            .await,
        "not_open",
    );
    // In `registration` but before the window opens.
    let early = w
        .open(
            json!({"registration_opens": hours(1), "registration_closes": hours(2),
            "run_starts": hours(2), "run_ends": hours(3)}),
        )
        .await;
    assert_conflict(
        &w.register(&member.token, &early, &json!({})).await,
        "not_open",
    );
    // Idempotent retry of a registration replays it.
    let open = w.open(json!({})).await;
    let path = format!("/v1/competitions/{}/registrations", id(&open));
    let send = || async {
        Reply::from(
            w.app
                .request(Method::POST, &path, Some(&member.token))
                .header("Idempotency-Key", "reg-1")
                .json(&json!({}))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let first = send().await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let replay = send().await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json, first.json);
}

#[tokio::test]
async fn fifty_simultaneous_registrations_by_one_member_yield_exactly_one() {
    let w = world_with(|c| {
        c.db_max_connections = 20;
        c.db_acquire_timeout_secs = 60;
        c.workers = 4;
    })
    .await;
    let c = w.open(json!({})).await;
    let member = w.member(id(&w.c.jj_county)).await;
    let empty = json!({});
    let replies = join_all((0..50).map(|_| w.register(&member.token, &c, &empty))).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let conflicts = replies
        .iter()
        .filter(|r| {
            r.status == StatusCode::CONFLICT && r.json["conflict"] == "one_registration_per_member"
        })
        .count();
    let odd: Vec<_> = replies
        .iter()
        .filter(|r| r.status != StatusCode::CREATED && r.status != StatusCode::CONFLICT)
        .map(|r| r.text.clone())
        .take(3)
        .collect();
    assert!(odd.is_empty(), "unexpected answers: {odd:?}");
    assert_eq!((created, conflicts), (1, 49));
    assert_eq!(w.get(&c, &w.c.jj_token).await.json["registered"], 1);
    let list = w
        .app
        .get(
            &format!("/v1/competitions/{}/registrations", id(&c)),
            &w.c.jj_token,
        )
        .await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn capacity_holds_under_simultaneous_registrations() {
    let w = world_with(|c| {
        c.db_max_connections = 20;
        c.db_acquire_timeout_secs = 60;
        c.workers = 4;
    })
    .await;
    const CAPACITY: usize = 5;
    const EXTRA: usize = 25;
    let c = w.open(json!({"capacity": CAPACITY})).await;
    let union = id(&w.c.jj_county).to_owned();
    let members: Vec<Member> = futures_util::stream::iter(0..CAPACITY + EXTRA)
        .map(|_| w.member(&union))
        .buffer_unordered(8)
        .collect()
        .await;
    let empty = json!({});
    let replies = join_all(members.iter().map(|m| w.register(&m.token, &c, &empty))).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let full = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.json["conflict"] == "full")
        .count();
    let odd: Vec<_> = replies
        .iter()
        .filter(|r| r.status != StatusCode::CREATED && r.status != StatusCode::CONFLICT)
        .map(|r| r.text.clone())
        .take(3)
        .collect();
    assert!(odd.is_empty(), "unexpected answers: {odd:?}");
    assert_eq!((created, full), (CAPACITY, EXTRA));
    assert_eq!(
        w.get(&c, &w.c.jj_token).await.json["registered"],
        CAPACITY as u64
    );
    let list = w
        .app
        .get(
            &format!("/v1/competitions/{}/registrations?limit=200", id(&c)),
            &w.c.jj_token,
        )
        .await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), CAPACITY);
    // Lowering the capacity below the registrations is refused; a withdrawal frees a
    // place for someone refused before.
    assert_refused(
        &w.patch(&c, &json!({"capacity": CAPACITY - 1})).await,
        "below_registered",
        "/capacity",
    );
    let winner = replies
        .iter()
        .find(|r| r.status == StatusCode::CREATED)
        .unwrap();
    let loser = members
        .iter()
        .zip(&replies)
        .find(|(_, r)| r.status == StatusCode::CONFLICT)
        .unwrap()
        .0;
    assert_conflict(&w.register(&loser.token, &c, &json!({})).await, "full");
    let path = format!(
        "/v1/competitions/{}/registrations/{}",
        id(&c),
        id(&winner.json)
    );
    assert_eq!(
        w.delete(&path, &w.c.jj_token).await.status,
        StatusCode::NO_CONTENT
    );
    let now_in = w.register(&loser.token, &c, &json!({})).await;
    assert_eq!(now_in.status, StatusCode::CREATED, "{}", now_in.text);
}

// ---------------------------------------------------------------------------------
// Quizzes
// ---------------------------------------------------------------------------------

/// Every key named `correct`, anywhere in a JSON value.
fn has_correct_key(v: &Value) -> bool {
    match v {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k == "correct" || has_correct_key(v)),
        Value::Array(items) => items.iter().any(has_correct_key),
        _ => false,
    }
}

/// Collects non-admin responses and asserts none can carry an answer: no `correct`
/// key at any depth, and not the text "correct" anywhere in the body (which is why the
/// result counts `right_count`, not `correct_count`).
#[derive(Default)]
struct Secrecy(std::sync::Mutex<Vec<String>>);

impl Secrecy {
    fn seen(&self, r: &Reply) {
        self.0.lock().unwrap().push(r.text.clone());
    }

    fn assert_clean(&self) {
        let bodies = self.0.lock().unwrap();
        assert!(!bodies.is_empty());
        for body in bodies.iter() {
            assert!(
                !body.to_lowercase().contains("correct"),
                "answer leaked: {body}"
            );
            let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            assert!(!has_correct_key(&v), "answer leaked: {body}");
        }
    }
}

impl World {
    /// A quiz with registration open now and the run from an hour ahead, its bank
    /// (three questions, 10 + 5 + 5 points), and `members` registered; then the
    /// windows moved so the run is open now, and the quiz `running`. Returns the quiz
    /// and the bank as its admin sees it.
    async fn running_quiz(&self, extra: Value, members: &[&Member]) -> (Value, Vec<Value>) {
        let mut base = json!({"kind": "quiz", "criteria": [], "tie_breaks": [],
            "time_limit_seconds": 1800, "scoring_method": null});
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        let quiz = self.open(base).await;
        let questions = [
            json!({"kind": "single_choice", "prompt": "中国共产党第一次全国代表大会在哪里召开？",
                "options": ["上海", "北京", "南昌", "遵义"], "correct": [0], "points": 10}),
            json!({"kind": "multiple_choice", "prompt": "以下哪些是工会的基本职责？",
                "options": ["维护职工合法权益", "组织职工参与民主管理", "经营房地产"],
                "correct": [0, 1], "points": 5}),
            json!({"kind": "true_false", "prompt": "《工会法》规定工会会员享有选举权。",
                "options": ["正确", "错误"], "correct": [0], "points": 5}),
        ];
        let mut bank = Vec::new();
        for q in questions {
            let r = self
                .app
                .post(
                    &format!("/v1/competitions/{}/questions", id(&quiz)),
                    &self.c.jj_token,
                    &q,
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            assert_eq!(r.json["correct"], q["correct"]);
            bank.push(r.json);
        }
        for m in members {
            let r = self.register(&m.token, &quiz, &json!({})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        let moved = self
            .patch(
                &quiz,
                &json!({"registration_opens": hours(-3), "registration_closes": hours(-2),
                    "run_starts": hours(-1), "run_ends": hours(2)}),
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
        let quiz = self.set_status(&quiz, "running").await;
        (quiz, bank)
    }

    async fn start(&self, m: &Member, quiz: &Value) -> Reply {
        self.app
            .post(
                &format!("/v1/competitions/{}/attempts", id(quiz)),
                &m.token,
                &json!(null),
            )
            .await
    }
}

/// The keys on `paper` that answer every question of `bank` right.
fn right_answers(paper: &Value, bank: &[Value]) -> Value {
    let mut answers = serde_json::Map::new();
    for q in paper.as_array().unwrap() {
        let b = bank.iter().find(|b| b["id"] == q["question_id"]).unwrap();
        let right: Vec<&str> = b["correct"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| b["options"][i.as_u64().unwrap() as usize].as_str().unwrap())
            .collect();
        let keys: Vec<Value> = q["options"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| right.contains(&o["text"].as_str().unwrap()))
            .map(|o| o["key"].clone())
            .collect();
        answers.insert(q["question_id"].as_str().unwrap().to_owned(), json!(keys));
    }
    Value::Object(answers)
}

#[tokio::test]
async fn quiz_answers_are_never_shown_to_anyone_but_its_admins() {
    let w = world().await;
    let alice = w.member(id(&w.c.jj_county)).await;
    let bob = w.member(id(&w.c.jj_county)).await;
    w.app
        .create_user(&w.c.admin, "jj-judge", id(&w.c.jj), "judge")
        .await;
    let judge = w
        .app
        .login("jj-judge", unionhall_tests::USER_PASSWORD)
        .await
        .0;
    let (quiz, bank) = w.running_quiz(json!({}), &[&alice, &bob]).await;
    let seen = Secrecy::default();
    let questions = format!("/v1/competitions/{}/questions", id(&quiz));

    // The admins see the bank with answers; nobody else sees it at all.
    let admin_view = w.app.get(&questions, &w.c.jj_token).await;
    assert_eq!(admin_view.json["items"].as_array().unwrap().len(), 3);
    assert!(has_correct_key(&admin_view.json));
    for token in [&alice.token, &judge] {
        let r = w.app.get(&questions, token).await;
        r.assert_problem(403, "forbidden");
        seen.seen(&r);
    }
    let r = w.app.get(&questions, &w.c.ja_token).await;
    r.assert_problem(404, "not-found");
    seen.seen(&r);
    // The bank is frozen now the quiz runs.
    assert_conflict(
        &w.app
            .post(
                &questions,
                &w.c.jj_token,
                &json!({"kind": "true_false", "prompt": "x", "options": ["对", "错"],
                    "correct": [0], "points": 1}),
            )
            .await,
        "setup_frozen",
    );

    // An attempt's paper: every question, options keyed A…, no answers; each attempt's
    // order its own, and the same paper on every read.
    let started = w.start(&alice, &quiz).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    seen.seen(&started);
    let paper = &started.json["paper"];
    assert_eq!(paper.as_array().unwrap().len(), 3);
    for q in paper.as_array().unwrap() {
        assert_eq!(q["options"][0]["key"], "A");
        assert_eq!(
            q.as_object().unwrap().keys().collect::<Vec<_>>(),
            vec!["kind", "options", "points", "prompt", "question_id"]
        );
    }
    let deadline: chrono::DateTime<Utc> =
        started.json["deadline"].as_str().unwrap().parse().unwrap();
    let started_at: chrono::DateTime<Utc> = started.json["started_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(deadline - started_at, Duration::seconds(1800));
    let attempt = format!("/v1/attempts/{}", id(&started.json));
    let again = w.app.get(&attempt, &alice.token).await;
    seen.seen(&again);
    assert_eq!(again.json["paper"], *paper);
    // Someone else's attempt is a 404.
    w.app
        .get(&attempt, &bob.token)
        .await
        .assert_problem(404, "not-found");

    // Progress saved, then the submission scores it; every response stays clean.
    let right = right_answers(paper, &bank);
    let first_q = paper[0]["question_id"].as_str().unwrap().to_owned();
    let saved = Reply::from(
        w.app
            .request(
                Method::PUT,
                &format!("{attempt}/answers"),
                Some(&alice.token),
            )
            .json(&json!({"answers": {first_q.clone(): right[&first_q]}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    seen.seen(&saved);
    let read_back = w.app.get(&attempt, &alice.token).await;
    assert_eq!(
        read_back.json, saved.json,
        "the saved answers are what is stored"
    );
    let bad = w
        .app
        .post(
            &format!("{attempt}/submission"),
            &alice.token,
            &json!({"answers": {first_q.clone(): ["Z"], uuid::Uuid::now_v7().to_string(): ["A"]}}),
        )
        .await;
    bad.assert_problem(422, "validation");
    seen.seen(&bad);
    let mut rest = right.as_object().unwrap().clone();
    rest.remove(&first_q);
    let submitted = w
        .app
        .post(
            &format!("{attempt}/submission"),
            &alice.token,
            &json!({"answers": rest}),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.text);
    seen.seen(&submitted);
    assert_eq!(submitted.json["result"]["score"], 20);
    assert_eq!(submitted.json["result"]["max_score"], 20);
    assert_eq!(submitted.json["result"]["right_count"], 3);
    // The answer shows what was stored: reading the attempt back gives the same.
    let read_back = w.app.get(&attempt, &alice.token).await;
    assert_eq!(read_back.status, StatusCode::OK, "{}", read_back.text);
    assert_eq!(read_back.json, submitted.json);
    seen.seen(&read_back);

    // Bob answers one wrong, submits; the leaderboard stays clean too.
    let bob_started = w.start(&bob, &quiz).await;
    seen.seen(&bob_started);
    let mut bob_answers = right_answers(&bob_started.json["paper"], &bank);
    let tf = bob_started.json["paper"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["kind"] == "true_false")
        .unwrap();
    let right_tf = bob_answers[tf["question_id"].as_str().unwrap()][0].clone();
    let wrong_tf = if right_tf == "A" { "B" } else { "A" };
    bob_answers[tf["question_id"].as_str().unwrap()] = json!([wrong_tf]);
    let bob_done = w
        .app
        .post(
            &format!("/v1/attempts/{}/submission", id(&bob_started.json)),
            &bob.token,
            &json!({"answers": bob_answers}),
        )
        .await;
    assert_eq!(bob_done.json["result"]["score"], 15, "{}", bob_done.text);
    seen.seen(&bob_done);
    let board = w
        .app
        .get(
            &format!("/v1/competitions/{}/leaderboard", id(&quiz)),
            &bob.token,
        )
        .await;
    seen.seen(&board);
    assert_eq!(board.json["own"]["rank"], 2, "{}", board.text);
    // Bob's own entry is the same as his row on the board, name included.
    assert_eq!(board.json["own"], board.json["items"][1], "{}", board.text);
    seen.assert_clean();
}

#[tokio::test]
async fn fifty_simultaneous_starts_yield_one_attempt_and_submission_happens_once() {
    let w = world_with(|c| {
        c.db_max_connections = 20;
        c.db_acquire_timeout_secs = 60;
        c.workers = 4;
    })
    .await;
    let alice = w.member(id(&w.c.jj_county)).await;
    let stranger = w.member(id(&w.c.jj_county)).await;
    let (quiz, bank) = w.running_quiz(json!({}), &[&alice]).await;

    // Registration is required.
    assert_conflict(&w.start(&stranger, &quiz).await, "not_registered");
    // Staff don't take quizzes.
    w.app
        .post(
            &format!("/v1/competitions/{}/attempts", id(&quiz)),
            &w.c.jj_token,
            &json!(null),
        )
        .await
        .assert_problem(403, "forbidden");

    let replies = join_all((0..50).map(|_| w.start(&alice, &quiz))).await;
    let created: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    let conflicts = replies
        .iter()
        .filter(|r| {
            r.status == StatusCode::CONFLICT && r.json["conflict"] == "one_attempt_per_member"
        })
        .count();
    let odd: Vec<_> = replies
        .iter()
        .filter(|r| r.status != StatusCode::CREATED && r.status != StatusCode::CONFLICT)
        .map(|r| r.text.clone())
        .take(3)
        .collect();
    assert!(odd.is_empty(), "unexpected answers: {odd:?}");
    assert_eq!((created.len(), conflicts), (1, 49));
    let attempt = created[0];
    assert!(
        replies
            .iter()
            .filter(|r| r.status == StatusCode::CONFLICT)
            .all(|r| r.json["existing_id"] == attempt.json["id"])
    );

    // The submission, retried with its Idempotency-Key, replays the same result; a
    // new submission is refused.
    let path = format!("/v1/attempts/{}/submission", id(&attempt.json));
    let body = json!({"answers": right_answers(&attempt.json["paper"], &bank)});
    let send = |key: &'static str| {
        let body = body.clone();
        let path = path.clone();
        let token = alice.token.clone();
        let app = &w.app;
        async move {
            Reply::from(
                app.request(Method::POST, &path, Some(&token))
                    .header("Idempotency-Key", key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let first = send("submit-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["result"]["score"], 20);
    let retry = send("submit-1").await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json, first.json);
    assert_conflict(&send("submit-2").await, "already_submitted");
    let save = Reply::from(
        w.app
            .request(
                Method::PUT,
                &format!("/v1/attempts/{}/answers", id(&attempt.json)),
                Some(&alice.token),
            )
            .json(&json!({"answers": {}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_conflict(&save, "already_submitted");
}

#[tokio::test]
async fn submissions_after_the_deadline_and_its_grace_are_refused() {
    let w = world().await;
    let alice = w.member(id(&w.c.jj_county)).await;
    let bob = w.member(id(&w.c.jj_county)).await;
    let (quiz, bank) = w.running_quiz(json!({}), &[&alice, &bob]).await;
    let started = w.start(&alice, &quiz).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    let attempt = format!("/v1/attempts/{}", id(&started.json));
    // The grace is 10 s and time limits are whole seconds, so rather than sleep past a
    // deadline the organiser ends the run early, as the API allows while it runs: every
    // open attempt's deadline follows the run's end (a minute ago here).
    let ended = w
        .patch(
            &quiz,
            &json!({"run_ends": (Utc::now() - Duration::minutes(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.text);
    let got = w.app.get(&attempt, &alice.token).await;
    let deadline: chrono::DateTime<Utc> = got.json["deadline"].as_str().unwrap().parse().unwrap();
    assert!(deadline < Utc::now() - Duration::seconds(50));

    let late = w
        .app
        .post(
            &format!("{attempt}/submission"),
            &alice.token,
            &json!({"answers": right_answers(&started.json["paper"], &bank)}),
        )
        .await;
    assert_conflict(&late, "deadline_passed");
    assert!(late.json["detail"].as_str().unwrap().contains("deadline"));
    let save = Reply::from(
        w.app
            .request(
                Method::PUT,
                &format!("{attempt}/answers"),
                Some(&alice.token),
            )
            .json(&json!({"answers": {}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_conflict(&save, "deadline_passed");
    // Nor can anyone start now the run is over.
    assert_conflict(&w.start(&bob, &quiz).await, "not_running");
    let after = w.app.get(&attempt, &alice.token).await;
    assert_eq!(after.json["result"], Value::Null);
}

#[tokio::test]
async fn the_leaderboard_ranks_ties_by_the_rank_kind_across_pages() {
    use unionhall_domain::competitions::QuizScore;
    use unionhall_persistence::competitions::{self as repo, Submitted};
    let w = world().await;
    let mut members = Vec::new();
    for _ in 0..7 {
        members.push(w.member(id(&w.c.jj_county)).await);
    }
    let refs: Vec<&Member> = members.iter().collect();
    // Scores and times: ties need equal milliseconds, which real submissions don't
    // produce, so the attempts start through the API and their outcomes are recorded
    // through the same persistence call the submission handler makes.
    let outcomes = [(20, 100), (20, 100), (20, 250), (15, 50), (15, 50), (5, 10)];
    for (rank_kind, expected) in [
        ("competition", [1, 1, 3, 4, 4, 6]),
        ("dense", [1, 1, 2, 3, 3, 4]),
    ] {
        let (quiz, _) = w.running_quiz(json!({"rank_kind": rank_kind}), &refs).await;
        let mut attempts = Vec::new();
        for (m, (score, ms)) in members.iter().zip(outcomes) {
            let started = w.start(m, &quiz).await;
            assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
            let attempt_id: uuid::Uuid = id(&started.json).parse().unwrap();
            let done = repo::submit(
                &w.db,
                attempt_id,
                &Default::default(),
                Submitted {
                    at: Utc::now(),
                    score: QuizScore {
                        score,
                        max_score: 20,
                        correct_count: 0,
                        answered_count: 0,
                    },
                    time_taken_ms: ms,
                },
            )
            .await
            .unwrap();
            assert!(done);
            attempts.push(attempt_id.to_string());
        }
        // A started but unsubmitted attempt isn't on the board, nor has its member a
        // place.
        let unsubmitted = w.start(&members[6], &quiz).await;
        assert_eq!(
            unsubmitted.status,
            StatusCode::CREATED,
            "{}",
            unsubmitted.text
        );
        let board = format!("/v1/competitions/{}/leaderboard", id(&quiz));
        let theirs = w.app.get(&board, &members[6].token).await;
        assert_eq!(theirs.json["own"], Value::Null, "{}", theirs.text);
        assert_eq!(theirs.json["items"].as_array().unwrap().len(), 6);
        let path = format!("/v1/competitions/{}/leaderboard", id(&quiz));
        let mut ranks = Vec::new();
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}?limit=2&cursor={c}"),
                None => format!("{path}?limit=2"),
            };
            let page = w.app.get(&url, &members[4].token).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            assert_eq!(page.json["rank_kind"], rank_kind);
            assert_eq!(page.json["own"]["rank"], expected[4], "{}", page.text);
            for e in page.json["items"].as_array().unwrap() {
                ranks.push(e["rank"].as_u64().unwrap());
                keys.push((
                    e["score"].as_i64().unwrap(),
                    e["time_taken_ms"].as_i64().unwrap(),
                ));
                assert!(e["member_name"].is_string());
            }
            match page.json["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(ranks, expected, "{rank_kind}");
        assert_eq!(
            keys,
            outcomes
                .iter()
                .map(|&(s, t)| (i64::from(s), t))
                .collect::<Vec<_>>()
        );
        // The whole board in one page agrees with the paged one.
        let whole = w.app.get(&path, &w.c.jj_token).await;
        let whole_ranks: Vec<u64> = whole.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["rank"].as_u64().unwrap())
            .collect();
        assert_eq!(whole_ranks, expected);
        assert_eq!(whole.json["own"], Value::Null);
        w.app
            .get(&format!("{path}?cursor=forged"), &w.c.jj_token)
            .await
            .assert_problem(422, "validation");
    }
}

// ---------------------------------------------------------------------------------
// Judged contests
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn only_assigned_judges_score_and_corrections_keep_their_history() {
    let w = world().await;
    let alice = w.member(id(&w.c.jj_county)).await;
    let bob = w.member(id(&w.c.jj_county)).await;
    let admin = &w.c.admin;
    let judge_a = w
        .app
        .create_user(admin, "judge-a", id(&w.c.jj), "judge")
        .await;
    let judge_b = w
        .app
        .create_user(admin, "judge-b", id(&w.c.jj_county), "judge")
        .await;
    let ja_judge = w
        .app
        .create_user(admin, "judge-ja", id(&w.c.ja), "judge")
        .await;
    let staff = w
        .app
        .create_user(admin, "jj-staff", id(&w.c.jj), "palace_staff")
        .await;
    let pw = unionhall_tests::USER_PASSWORD;
    let a = w.app.login("judge-a", pw).await.0;
    let b = w.app.login("judge-b", pw).await.0;
    let ja = w.app.login("judge-ja", pw).await.0;
    let staff_token = w.app.login("jj-staff", pw).await.0;

    let c = w.open(json!({"exclude_own_union_judges": true})).await;
    let other = w.open(json!({})).await;
    let alice_reg = w.register(&alice.token, &c, &json!({})).await.json;
    let bob_reg = w.register(&bob.token, &c, &json!({})).await.json;
    let other_reg = w.register(&alice.token, &other, &json!({})).await.json;
    let judges = format!("/v1/competitions/{}/judges", id(&c));
    let scores = format!("/v1/competitions/{}/scores", id(&c));

    // Assignment: judges in reach only, once each.
    let assigned = w
        .app
        .post(&judges, &w.c.jj_token, &json!({"user_id": id(&judge_a)}))
        .await;
    assert_eq!(assigned.status, StatusCode::CREATED, "{}", assigned.text);
    assert_conflict(
        &w.app
            .post(&judges, &w.c.jj_token, &json!({"user_id": id(&judge_a)}))
            .await,
        "judge_assigned",
    );
    assert_refused(
        &w.app
            .post(&judges, &w.c.jj_token, &json!({"user_id": id(&staff)}))
            .await,
        "not_a_judge",
        "/user_id",
    );
    assert_refused(
        &w.app
            .post(&judges, &w.c.jj_token, &json!({"user_id": id(&ja_judge)}))
            .await,
        "not_found",
        "/user_id",
    );
    w.app
        .post(&judges, &alice.token, &json!({"user_id": id(&judge_a)}))
        .await
        .assert_problem(403, "forbidden");
    w.app
        .post(&judges, &w.c.ja_token, &json!({"user_id": id(&ja_judge)}))
        .await
        .assert_problem(404, "not-found");
    let b_assigned = w
        .app
        .post(&judges, &w.c.jj_token, &json!({"user_id": id(&judge_b)}))
        .await;
    assert_eq!(
        b_assigned.status,
        StatusCode::CREATED,
        "{}",
        b_assigned.text
    );
    let listed = w.app.get(&judges, &w.c.jj_token).await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 2);
    // A quiz has no judges.
    let quiz = w
        .open(json!({"kind": "quiz", "criteria": [], "tie_breaks": [],
            "time_limit_seconds": 600, "scoring_method": null}))
        .await;
    w.app
        .post(
            &format!("/v1/competitions/{}/judges", id(&quiz)),
            &w.c.jj_token,
            &json!({"user_id": id(&judge_a)}),
        )
        .await
        .assert_problem(404, "not-found");

    let sheet = |reg: &Value, technique: i64, safety: i64| json!({"registration_id": id(reg), "scores": {"technique": technique, "safety": safety}});
    // Not before the run.
    assert_conflict(
        &w.app
            .post(&scores, &a, &sheet(&alice_reg, 6000, 2500))
            .await,
        "not_scoring",
    );
    w.patch(
        &c,
        &json!({"registration_opens": hours(-3), "registration_closes": hours(-2),
            "run_starts": hours(-1), "run_ends": hours(2)}),
    )
    .await;
    w.set_status(&c, "running").await;

    // The first sheet, then a correction: the revision rises, the history keeps both.
    let first = w
        .app
        .post(&scores, &a, &sheet(&alice_reg, 6000, 2500))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["revision"], 1);
    let fixed = w
        .app
        .post(&scores, &a, &sheet(&alice_reg, 6100, 2500))
        .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text);
    assert_eq!(fixed.json["revision"], 2);
    assert_eq!(fixed.json["id"], first.json["id"]);
    assert_eq!(fixed.json["scores"]["technique"], 6100);
    let history = fixed.json["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["scores"]["technique"], 6000);
    assert_eq!(history[1]["scores"]["technique"], 6100);

    // Every criterion, within its maximum, and nothing else.
    let bad = w
        .app
        .post(
            &scores,
            &a,
            &json!({"registration_id": id(&bob_reg), "scores": {"technique": 7001, "speed": 1}}),
        )
        .await;
    bad.assert_problem(422, "validation");
    let mut pointers = bad.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        vec!["/scores/safety", "/scores/speed", "/scores/technique"]
    );
    // Only this competition's entrants.
    assert_refused(
        &w.app.post(&scores, &a, &sheet(&other_reg, 1, 1)).await,
        "not_found",
        "/registration_id",
    );
    // Conflict of interest: judge B belongs to the entrants' union.
    w.app
        .post(&scores, &b, &sheet(&bob_reg, 5000, 2000))
        .await
        .assert_problem(403, "forbidden");
    // Judge isolation: another contest's judge, staff, members and other cities can't.
    w.app
        .post(&scores, &ja, &sheet(&bob_reg, 5000, 2000))
        .await
        .assert_problem(404, "not-found");
    for token in [&staff_token, &alice.token] {
        w.app
            .post(&scores, token, &sheet(&bob_reg, 5000, 2000))
            .await
            .assert_problem(403, "forbidden");
    }
    let other_scores = format!("/v1/competitions/{}/scores", id(&other));
    w.app
        .post(&other_scores, &a, &sheet(&other_reg, 5000, 2000))
        .await
        .assert_problem(403, "forbidden");
    // Mass assignment: a judge can't name another judge on the sheet.
    assert_refused(
        &w.app
            .post(
                &scores,
                &a,
                &json!({"registration_id": id(&bob_reg), "judge_id": id(&judge_b),
                    "scores": {"technique": 1, "safety": 1}}),
            )
            .await,
        "unknown_field",
        "/judge_id",
    );

    // Who sees the sheets: the organiser all, a judge their own.
    let b_sees = w.app.get(&scores, &b).await;
    assert_eq!(b_sees.json["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        w.app
            .post(&scores, &a, &sheet(&bob_reg, 5000, 2000))
            .await
            .status,
        StatusCode::CREATED
    );
    let all = w.app.get(&scores, &w.c.jj_token).await;
    assert_eq!(all.json["items"].as_array().unwrap().len(), 2);
    let one = w
        .app
        .get(&format!("{scores}?registration_id={}", id(&bob_reg)), &a)
        .await;
    assert_eq!(one.json["items"].as_array().unwrap().len(), 1);
    w.app
        .get(&scores, &alice.token)
        .await
        .assert_problem(403, "forbidden");

    // Corrections go on while judging.
    w.patch(&c, &json!({"run_ends": hours(0)})).await;
    w.set_status(&c, "judging").await;
    let late_fix = w.app.post(&scores, &a, &sheet(&bob_reg, 5100, 2000)).await;
    assert_eq!(late_fix.status, StatusCode::OK, "{}", late_fix.text);
    assert_eq!(late_fix.json["revision"], 2);
}

// ---------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn publishing_a_judged_contest_ranks_with_tie_breaks_awards_and_freezes_scores() {
    let w = world().await;
    let mut members = Vec::new();
    for _ in 0..4 {
        members.push(w.member(id(&w.c.jj_county)).await);
    }
    let outsider = w.member(id(&w.c.ja_county)).await;
    let admin = &w.c.admin;
    let pw = unionhall_tests::USER_PASSWORD;
    let mut judges = Vec::new();
    for name in ["judge-1", "judge-2"] {
        let user = w.app.create_user(admin, name, id(&w.c.jj), "judge").await;
        judges.push((user, w.app.login(name, pw).await.0));
    }
    let c = w.open(json!({"scoring_method": "mean"})).await;
    let mut regs = Vec::new();
    for m in &members {
        regs.push(w.register(&m.token, &c, &json!({})).await.json);
    }
    for (user, _) in &judges {
        let r = w
            .app
            .post(
                &format!("/v1/competitions/{}/judges", id(&c)),
                &w.c.jj_token,
                &json!({"user_id": id(user)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let results = format!("/v1/competitions/{}/results", id(&c));
    assert_conflict(&w.app.get(&results, &w.c.jj_token).await, "not_published");
    w.patch(
        &c,
        &json!({"registration_opens": hours(-3), "registration_closes": hours(-2),
            "run_starts": hours(-1), "run_ends": hours(2)}),
    )
    .await;
    w.set_status(&c, "running").await;
    // Sheets (technique, safety) per judge. Alice 87.00 with safety 25; Bob 87.00 with
    // safety 27, so the safety tie-break puts him first; Carol 70.00; Dave unscored.
    let sheets = [
        (0, [(6000, 2500), (6400, 2500)]),
        (1, [(6000, 2700), (6000, 2700)]),
        (2, [(5000, 2000), (5000, 2000)]),
    ];
    for (entrant, marks) in sheets {
        for ((_, token), (technique, safety)) in judges.iter().zip(marks) {
            let r = w
                .app
                .post(
                    &format!("/v1/competitions/{}/scores", id(&c)),
                    token,
                    &json!({"registration_id": id(&regs[entrant]),
                        "scores": {"technique": technique, "safety": safety}}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
    }
    let bands = json!({"by": "rank", "bands": [
        {"from_rank": 1, "to_rank": 1, "tier": "first", "honour_title": "省级技术能手"},
        {"from_rank": 2, "to_rank": 3, "tier": "second"},
    ]});
    // Not while running: a skills contest is judged first.
    assert_conflict(
        &w.app.post(&results, &w.c.jj_token, &bands).await,
        "transition_not_allowed",
    );
    w.patch(&c, &json!({"run_ends": hours(0)})).await;
    w.set_status(&c, "judging").await;
    // Award rules are checked with pointers; nothing is published.
    let bad = w
        .app
        .post(
            &results,
            &w.c.jj_token,
            &json!({"by": "rank", "bands": [
                {"from_rank": 0, "to_rank": 1, "tier": "first"},
                {"from_rank": 2, "to_rank": 3, "tier": "second", "honour_title": " "},
            ]}),
        )
        .await;
    bad.assert_problem(422, "validation");
    assert_eq!(
        bad.pointers(),
        vec!["/bands/0/from_rank", "/bands/1/honour_title"]
    );
    // Only the organiser publishes.
    w.app
        .post(&results, &w.c.ja_token, &bands)
        .await
        .assert_problem(404, "not-found");
    w.app
        .post(&results, &members[0].token, &bands)
        .await
        .assert_problem(403, "forbidden");

    let published = w.app.post(&results, &w.c.jj_token, &bands).await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    assert_eq!(published.json["ranked"], 3);
    assert_eq!(published.json["awarded"], 3);
    assert_eq!(
        w.get(&c, &w.c.jj_token).await.json["status"],
        "results_published"
    );

    // Scores are frozen; nothing changes any more; publishing twice is refused.
    assert_conflict(
        &w.app
            .post(
                &format!("/v1/competitions/{}/scores", id(&c)),
                &judges[0].1,
                &json!({"registration_id": id(&regs[3]),
                    "scores": {"technique": 1, "safety": 1}}),
            )
            .await,
        "not_scoring",
    );
    assert_conflict(
        &w.patch(&c, &json!({"name": "x"})).await,
        "results_published",
    );
    assert_conflict(
        &w.app.post(&results, &w.c.jj_token, &bands).await,
        "transition_not_allowed",
    );

    // The results, paged in rank order, with each member's own.
    let first = w
        .app
        .get(&format!("{results}?limit=2"), &members[0].token)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let items = first.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["entrant_id"], id(&regs[1]));
    assert_eq!(items[0]["rank"], 1);
    assert_eq!(items[0]["score"], "87.00");
    assert_eq!(items[0]["prize_tier"], "first");
    assert_eq!(items[0]["honour_title"], "省级技术能手");
    assert_eq!(items[1]["entrant_id"], id(&regs[0]));
    assert_eq!(items[1]["rank"], 2);
    assert_eq!(items[1]["prize_tier"], "second");
    assert_eq!(first.json["own"]["rank"], 2);
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let rest = w
        .app
        .get(
            &format!("{results}?limit=2&cursor={cursor}"),
            &members[2].token,
        )
        .await;
    let rest_items = rest.json["items"].as_array().unwrap();
    assert_eq!(rest_items.len(), 1);
    assert_eq!(rest_items[0]["rank"], 3);
    assert_eq!(rest_items[0]["score"], "70.00");
    assert_eq!(rest.json["next_cursor"], Value::Null);
    // Dave was never scored: not ranked, no result of his own.
    let dave = w.app.get(&results, &members[3].token).await;
    assert_eq!(dave.json["own"], Value::Null);
    // Another city doesn't see them.
    w.app
        .get(&results, &outsider.token)
        .await
        .assert_problem(404, "not-found");

    // Each member sees their own results, and a certificate for what they won.
    let bob = w.app.get("/v1/me/certificates", &members[1].token).await;
    assert_eq!(bob.status, StatusCode::OK, "{}", bob.text);
    let certificates = bob.json["items"].as_array().unwrap();
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0]["competition_id"], id(&c));
    assert_eq!(certificates[0]["rank"], 1);
    let certificate = &certificates[0]["certificate"];
    let number = certificate["number"].as_str().unwrap();
    assert!(number.starts_with("UH-"), "{number}");
    assert!(number.ends_with("-00001"), "{number}");
    assert!(
        certificate["title"]
            .as_str()
            .unwrap()
            .ends_with(" 一等奖 省级技术能手"),
        "{certificate}"
    );
    let carol = w
        .app
        .get("/v1/me/competition-results", &members[2].token)
        .await;
    assert_eq!(carol.json["items"][0]["score"], "70.00");
    assert_eq!(carol.json["items"][0]["prize_tier"], "second");
    assert_ne!(carol.json["items"][0]["certificate"]["number"], number);
    // Dave wasn't ranked: no results, no certificates; staff accounts have none at all.
    for path in ["/v1/me/competition-results", "/v1/me/certificates"] {
        let dave = w.app.get(path, &members[3].token).await;
        assert_eq!(dave.status, StatusCode::OK, "{}", dave.text);
        assert_eq!(dave.json["items"], json!([]));
        w.app
            .get(path, &w.c.jj_token)
            .await
            .assert_problem(404, "not-found");
    }
}

#[tokio::test]
async fn a_quiz_publishes_straight_from_running_once_the_run_is_over() {
    let w = world().await;
    let alice = w.member(id(&w.c.jj_county)).await;
    let bob = w.member(id(&w.c.jj_county)).await;
    let (quiz, bank) = w
        .running_quiz(json!({"rank_kind": "dense"}), &[&alice, &bob])
        .await;
    let mut attempts = Vec::new();
    for (m, wrong) in [(&alice, false), (&bob, true)] {
        let started = w.start(m, &quiz).await;
        let mut answers = right_answers(&started.json["paper"], &bank);
        if wrong {
            let q = started.json["paper"][0]["question_id"].as_str().unwrap();
            answers[q] = json!([]);
        }
        let done = w
            .app
            .post(
                &format!("/v1/attempts/{}/submission", id(&started.json)),
                &m.token,
                &json!({"answers": answers}),
            )
            .await;
        assert_eq!(done.status, StatusCode::CREATED, "{}", done.text);
        attempts.push(done.json);
    }
    let results = format!("/v1/competitions/{}/results", id(&quiz));
    let list = |entrant: &Value| {
        json!({"by": "list", "awards": [
            {"entrant_id": entrant, "tier": "excellence"},
        ]})
    };
    assert_conflict(
        &w.app
            .post(&results, &w.c.jj_token, &list(&attempts[1]["id"]))
            .await,
        "run_not_over",
    );
    w.patch(&quiz, &json!({"run_ends": hours(0)})).await;
    let stranger = uuid::Uuid::now_v7().to_string();
    assert_refused(
        &w.app
            .post(&results, &w.c.jj_token, &list(&json!(stranger)))
            .await,
        "not_an_entrant",
        "/awards/0/entrant_id",
    );
    let published = w
        .app
        .post(&results, &w.c.jj_token, &list(&attempts[1]["id"]))
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    assert_eq!(published.json["ranked"], 2);
    assert_eq!(published.json["awarded"], 1);
    let got = w.app.get(&results, &bob.token).await;
    let items = got.json["items"].as_array().unwrap();
    assert_eq!(items[0]["entrant_id"], attempts[0]["id"]);
    assert_eq!(
        items[0]["score"],
        format!("{}.00", attempts[0]["result"]["score"])
    );
    assert_eq!(items[0]["prize_tier"], Value::Null);
    assert_eq!(got.json["own"]["rank"], 2);
    assert_eq!(got.json["own"]["prize_tier"], "excellence");

    // Alice ranked first without a prize: a result, no certificate.
    let mine = w.app.get("/v1/me/competition-results", &alice.token).await;
    assert_eq!(mine.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.json["items"][0]["kind"], "quiz");
    assert_eq!(mine.json["items"][0]["rank"], 1);
    assert_eq!(mine.json["items"][0]["certificate"], Value::Null);
    let none = w.app.get("/v1/me/certificates", &alice.token).await;
    assert_eq!(none.json["items"], json!([]));
    let bobs = w.app.get("/v1/me/certificates", &bob.token).await;
    assert_eq!(bobs.json["items"][0]["prize_tier"], "excellence");
    assert!(
        bobs.json["items"][0]["certificate"]["title"]
            .as_str()
            .unwrap()
            .ends_with(" 优秀奖")
    );
}

/// With the cache on, the top of a board is served from memory until it expires (a
/// submission right after a read shows only then), while later pages and who may see
/// the board are still decided on every request.
#[tokio::test]
async fn a_boards_top_page_is_cached_for_its_moment_and_visibility_is_still_checked() {
    let w = world_with(|c| c.leaderboard_cache_ms = 1_500).await;
    let alice = w.member(id(&w.c.jj_county)).await;
    let bob = w.member(id(&w.c.jj_county)).await;
    let outsider = w.member(id(&w.c.ja_county)).await;
    let (quiz, bank) = w.running_quiz(json!({}), &[&alice, &bob]).await;
    let board = format!("/v1/competitions/{}/leaderboard?limit=10", id(&quiz));
    submit_right(&w, &alice, &quiz, &bank).await;
    let first = w.app.get(&board, &w.c.jj_token).await;
    assert_eq!(first.json["items"].as_array().unwrap().len(), 1);
    submit_right(&w, &bob, &quiz, &bank).await;
    // Within the moment: the same top; a different page size is its own entry.
    let cached = w.app.get(&board, &w.c.jj_token).await;
    assert_eq!(cached.json["items"], first.json["items"]);
    let other_size = w
        .app
        .get(
            &format!("/v1/competitions/{}/leaderboard?limit=11", id(&quiz)),
            &w.c.jj_token,
        )
        .await;
    assert_eq!(other_size.json["items"].as_array().unwrap().len(), 2);
    // Another city's member still doesn't see the board.
    w.app
        .get(&board, &outsider.token)
        .await
        .assert_problem(404, "not-found");
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    let fresh = w.app.get(&board, &w.c.jj_token).await;
    assert_eq!(fresh.json["items"].as_array().unwrap().len(), 2);
}

/// Once a cached top is half its moment old, the next read is still answered from
/// memory and starts a background read: the new top shows before the old one would
/// have expired, so a steadily polled board never makes a viewer wait for the database.
#[tokio::test]
async fn a_cached_top_is_refreshed_in_the_background_before_it_expires() {
    use std::time::{Duration, Instant};
    let w = world_with(|c| c.leaderboard_cache_ms = 3_000).await;
    let alice = w.member(id(&w.c.jj_county)).await;
    let bob = w.member(id(&w.c.jj_county)).await;
    let (quiz, bank) = w.running_quiz(json!({}), &[&alice, &bob]).await;
    let board = format!("/v1/competitions/{}/leaderboard?limit=10", id(&quiz));
    submit_right(&w, &alice, &quiz, &bank).await;
    // The server reads the top between `asked` and `answered`: it expires no earlier
    // than `asked` + 3 s and is half its moment old by `answered` + 1.5 s.
    let asked = Instant::now();
    let first = w.app.get(&board, &w.c.jj_token).await;
    let answered = Instant::now();
    assert_eq!(first.json["items"].as_array().unwrap().len(), 1);
    submit_right(&w, &bob, &quiz, &bank).await;
    tokio::time::sleep(
        (answered + Duration::from_millis(1_550)).saturating_duration_since(Instant::now()),
    )
    .await;
    let stale = w.app.get(&board, &w.c.jj_token).await;
    assert_eq!(
        stale.json["items"], first.json["items"],
        "served from memory"
    );
    let expires = asked + Duration::from_millis(3_000);
    loop {
        let now = w.app.get(&board, &w.c.jj_token).await;
        if now.json["items"].as_array().unwrap().len() == 2 {
            assert!(
                Instant::now() < expires,
                "the new top showed only once the old expired"
            );
            break;
        }
        assert!(
            Instant::now() < expires,
            "no background refresh before the top expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `m`'s attempt and submits every answer right.
async fn submit_right(w: &World, m: &Member, quiz: &Value, bank: &[Value]) {
    let started = w.start(m, quiz).await;
    let done = w
        .app
        .post(
            &format!("/v1/attempts/{}/submission", id(&started.json)),
            &m.token,
            &json!({"answers": right_answers(&started.json["paper"], bank)}),
        )
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.text);
}
