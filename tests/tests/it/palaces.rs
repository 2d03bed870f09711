//! Workers' cultural palaces: palaces, venues (validation with pointers), closures,
//! availability, every booking rule's 422, capacity's 409, 200 concurrent requests for
//! the last unit, cancellation, check-in with the member's code, computed no-shows and
//! the ban they bring, and isolation between members and between unions' staff.
//!
//! Time: the suite runs against the real clock. Bookings are made for tomorrow (local
//! Asia/Shanghai, which is UTC+8 all year) or for the next quarter hour; rules that
//! need "a booking starting soon" use the longest allowed windows instead of waiting.
//! No-shows need bookings in the past, which the API rightly refuses, so those rows
//! are written through the persistence layer, exactly as a booking made days ago
//! would have been stored; everything after that goes through the API.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Timelike, Utc};
use futures_util::StreamExt;
use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use unionhall_api::auth::Keys;
use unionhall_domain::{MemberId, OrgId, UserId};
use unionhall_persistence::palaces::{self as repo, NewBooking};
use unionhall_tests::riders::id_number;
use unionhall_tests::{Reply, TestApp, TwoCities, USER_PASSWORD, id};

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&shanghai()).date_naive()
}

/// Local Shanghai `date` at `h:m`, as RFC 3339 UTC.
fn at(date: NaiveDate, h: u32, m: u32) -> String {
    instant(date, h, m).to_rfc3339()
}

fn instant(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    shanghai()
        .from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn tomorrow() -> NaiveDate {
    today() + Duration::days(1)
}

fn parse_time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// The codes of a validation problem.
fn codes(reply: &Reply) -> Vec<String> {
    reply.json["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .filter_map(|e| e["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
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

/// The two cities, a palace-staff account in each, and a palace in Jiujiang.
struct World {
    app: TestApp,
    c: TwoCities,
    jj_staff: String,
    ja_staff: String,
    palace: Value,
    keys: Keys,
    db: sea_orm::DatabaseConnection,
    seq: std::sync::atomic::AtomicU32,
}

async fn world_with(tweak: impl FnOnce(&mut unionhall_api::config::Config)) -> World {
    let app = TestApp::spawn_with(tweak).await;
    let c = app.two_cities().await;
    app.create_user(&c.admin, "jj-palace-staff", id(&c.jj), "palace_staff")
        .await;
    app.create_user(&c.admin, "ja-palace-staff", id(&c.ja), "palace_staff")
        .await;
    let jj_staff = app.login("jj-palace-staff", USER_PASSWORD).await.0;
    let ja_staff = app.login("ja-palace-staff", USER_PASSWORD).await.0;
    let reply = app
        .post(
            "/v1/palaces",
            &jj_staff,
            &json!({
                "org_id": id(&c.jj),
                "name": "九江市职工文化宫",
                "address": "九江市浔阳区长虹西大道 1 号",
                "region_code": "360402",
                "location": {"lat": 29.7051, "lng": 116.0019},
                "contact_phone": "0792-8221234",
                "photos": ["https://example.org/jj-palace.jpg"],
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let palace = reply.json;
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
        jj_staff,
        ja_staff,
        palace,
        keys,
        db,
        seq: std::sync::atomic::AtomicU32::new(1),
    }
}

async fn world() -> World {
    world_with(|_| {}).await
}

/// A member of `org` with a member account, and a token for it. The account is
/// stored directly (its password never matters here) and the token issued with the
/// test secret, so hundreds of members cost no password hashing.
struct Member {
    id: String,
    token: String,
}

impl World {
    async fn member(&self, org: &str) -> Member {
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let reply = self
            .app
            .post(
                "/v1/members",
                &self.c.admin,
                &json!({
                    "org_id": org,
                    "name": "张三",
                    "id_number": id_number(seq),
                    "phone": format!("139{:08}", seq),
                    "occupation": "factory_worker",
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
            "张三",
            "not-a-password-hash".to_owned(),
        )
        .await
        .unwrap();
        Member {
            id: member_id.to_string(),
            token: self.keys.issue(account.user_id, &[]).unwrap(),
        }
    }

    /// A venue of the Jiujiang palace from `extra` over a base of 2 units, 60-minute
    /// slots, open 08:00–12:00 and 14:00–21:00 every day, default rules with `rules`
    /// over them.
    async fn venue(&self, extra: Value, rules: Value) -> Value {
        let hours = json!([{"from": "08:00", "to": "12:00"}, {"from": "14:00", "to": "21:00"}]);
        let mut body = json!({
            "name": "乒乓球馆",
            "kind": "table_tennis",
            "units": 2,
            "slot_minutes": 60,
            "opening_hours": {"mon": hours, "tue": hours, "wed": hours, "thu": hours,
                "fri": hours, "sat": hours, "sun": hours},
            "booking_rules": rules,
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let reply = self
            .app
            .post(
                &format!("/v1/palaces/{}/venues", id(&self.palace)),
                &self.jj_staff,
                &body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json
    }

    /// A venue open around the clock on 15-minute slots.
    async fn all_day_venue(&self, rules: Value) -> Value {
        let day = json!([{"from": "00:00", "to": "24:00"}]);
        self.venue(
            json!({"slot_minutes": 15, "opening_hours": {"mon": day, "tue": day, "wed": day,
                "thu": day, "fri": day, "sat": day, "sun": day}}),
            rules,
        )
        .await
    }

    async fn book(&self, token: &str, venue: &Value, start: &str, end: &str, units: u32) -> Reply {
        self.app
            .post(
                "/v1/bookings",
                token,
                &json!({"venue_id": id(venue), "start": start, "end": end, "units": units}),
            )
            .await
    }

    async fn free_units(&self, venue: &Value, date: NaiveDate, h: u32) -> u64 {
        let reply = self
            .app
            .get(
                &format!("/v1/venues/{}/availability?date={date}", id(venue)),
                &self.jj_staff,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let start = instant(date, h, 0);
        let slot = reply.json["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| parse_time(&s["start"]) == start)
            .unwrap_or_else(|| panic!("no slot at {h}:00 in {}", reply.text));
        slot["free_units"].as_u64().unwrap()
    }

    /// A booking stored as it would have been when made in the past (the API refuses
    /// to book the past, rightly).
    async fn past_booking(&self, venue: &Value, member: &Member, start: DateTime<Utc>) -> String {
        let staff_user = self.app.get("/v1/me", &self.jj_staff).await;
        let b = repo::insert_booking(
            &self.db,
            NewBooking {
                venue_id: id(venue).parse().unwrap(),
                member_id: Some(MemberId(member.id.parse().unwrap())),
                member_org_id: Some(OrgId(id(&self.c.jj_county).parse().unwrap())),
                guest_name: None,
                start,
                end: start + Duration::hours(1),
                local_date: start.with_timezone(&shanghai()).date_naive(),
                units: 1,
                minutes: 60,
                price_fen: 0,
                grace_minutes: 15,
                created_by: UserId(id(&staff_user.json).parse().unwrap()),
            },
        )
        .await
        .unwrap();
        b.id.to_string()
    }
}

// ---------------------------------------------------------------------------------
// Palaces and venues
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn palaces_are_created_by_staff_read_by_everyone_and_changed_with_if_match() {
    let w = world().await;
    let palace = &w.palace;
    assert_eq!(palace["org_id"], id(&w.c.jj));
    assert_eq!(palace["time_zone"], "Asia/Shanghai");
    assert_eq!(palace["location"]["lat"], 29.7051);
    let member = w.member(id(&w.c.jj_county)).await;

    // Members read palaces.
    let got = w
        .app
        .get(&format!("/v1/palaces/{}", id(palace)), &member.token)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    let etag = got.header("etag").unwrap().to_owned();
    let list = w
        .app
        .get("/v1/palaces?region_code=360402", &member.token)
        .await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    let none = w
        .app
        .get("/v1/palaces?region_code=360802", &member.token)
        .await;
    assert_eq!(none.json["items"].as_array().unwrap().len(), 0);
    let by_org = w
        .app
        .get(&format!("/v1/palaces?org_id={}", id(&w.c.ja)), &w.jj_staff)
        .await;
    assert_eq!(by_org.json["items"].as_array().unwrap().len(), 0);
    let by_root = w
        .app
        .get(
            &format!("/v1/palaces?org_id={}", w.app.root_org_id),
            &w.jj_staff,
        )
        .await;
    assert_eq!(by_root.json["items"].as_array().unwrap().len(), 1);

    // Members can't open palaces; staff can't open one for a union outside their reach.
    w.app
        .post(
            "/v1/palaces",
            &member.token,
            &json!({"org_id": id(&w.c.jj), "name": "x", "address": "y", "region_code": "360402"}),
        )
        .await
        .assert_problem(403, "forbidden");
    let outside = w
        .app
        .post(
            "/v1/palaces",
            &w.jj_staff,
            &json!({"org_id": id(&w.c.ja), "name": "x", "address": "y", "region_code": "360802"}),
        )
        .await;
    assert_refused(&outside, "not_found", "/org_id");
    let bad = w
        .app
        .post(
            "/v1/palaces",
            &w.jj_staff,
            &json!({"org_id": id(&w.c.jj), "name": "x", "address": "y", "region_code": "999999",
                "location": {"lat": 91.0, "lng": 0.0}, "photos": ["ftp://x"], "time_zone": "Mars/Base"}),
        )
        .await;
    bad.assert_problem(422, "validation");
    let mut pointers = bad.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        vec!["/location/lat", "/photos", "/region_code", "/time_zone"]
    );

    // PATCH with If-Match; a stale tag is 412.
    let patched = w
        .app
        .patch(
            &format!("/v1/palaces/{}", id(palace)),
            &w.jj_staff,
            Some(&etag),
            &json!({"name": "九江市工人文化宫", "location": null}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.json["name"], "九江市工人文化宫");
    assert_eq!(patched.json["location"], Value::Null);
    assert_eq!(patched.json["address"], palace["address"]);
    w.app
        .patch(
            &format!("/v1/palaces/{}", id(palace)),
            &w.jj_staff,
            Some(&etag),
            &json!({"name": "again"}),
        )
        .await
        .assert_problem(412, "precondition-failed");
}

#[tokio::test]
async fn venues_are_validated_with_pointers_and_nothing_is_written() {
    let w = world().await;
    let path = format!("/v1/palaces/{}/venues", id(&w.palace));
    let bad = w
        .app
        .post(
            &path,
            &w.jj_staff,
            &json!({
                "name": "乒乓球馆", "kind": "table_tennis", "units": 0, "slot_minutes": 25,
                "opening_hours": {"mon": [{"from": "12:00", "to": "08:00"}]},
                "booking_rules": {"max_units_per_booking": 0, "ban_days": 400},
                "guest_price_fen": -1,
            }),
        )
        .await;
    bad.assert_problem(422, "validation");
    assert_eq!(
        bad.pointers(),
        vec![
            "/units",
            "/slot_minutes",
            "/opening_hours/mon/0/to",
            "/booking_rules/max_units_per_booking",
            "/booking_rules/ban_days",
            "/guest_price_fen",
        ]
    );
    // Shape errors point too.
    let shape = w
        .app
        .post(
            &path,
            &w.jj_staff,
            &json!({"name": "x", "kind": "pool", "units": 1, "slot_minutes": 60, "opening_hours": {}}),
        )
        .await;
    assert_refused(&shape, "enum", "/kind");
    let clock = w
        .app
        .post(
            &path,
            &w.jj_staff,
            &json!({"name": "x", "kind": "darts", "units": 1, "slot_minutes": 60,
                "opening_hours": {"mon": [{"from": "25:00", "to": "26:00"}]}}),
        )
        .await;
    clock.assert_problem(422, "validation");
    assert!(clock.pointers()[0].starts_with("/opening_hours/mon/0/from"));
    let list = w.app.get(&path, &w.jj_staff).await;
    assert_eq!(list.json["items"], json!([]));

    // A valid one, read back by a member; PATCH merges the rules it names.
    let venue = w.venue(json!({}), json!({})).await;
    assert_eq!(venue["booking_rules"]["members_only"], true);
    assert_eq!(venue["member_price_fen"], 0);
    let member = w.member(id(&w.c.jj_county)).await;
    let got = w
        .app
        .get(&format!("/v1/venues/{}", id(&venue)), &member.token)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    let etag = got.header("etag").unwrap().to_owned();
    let list = w.app.get(&path, &member.token).await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
    let patched = w
        .app
        .patch(
            &format!("/v1/venues/{}", id(&venue)),
            &w.jj_staff,
            Some(&etag),
            &json!({"units": 6, "booking_rules": {"max_days_ahead": 7}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.json["units"], 6);
    assert_eq!(patched.json["booking_rules"]["max_days_ahead"], 7);
    assert_eq!(patched.json["booking_rules"]["members_only"], true);
    let unknown = w
        .app
        .patch(
            &format!("/v1/venues/{}", id(&venue)),
            &w.jj_staff,
            None,
            &json!({"booking_rules": {"max_days": 7}}),
        )
        .await;
    assert_refused(&unknown, "unknown_field", "/booking_rules/max_days");
    let invalid = w
        .app
        .patch(
            &format!("/v1/venues/{}", id(&venue)),
            &w.jj_staff,
            None,
            &json!({"slot_minutes": 45}),
        )
        .await;
    invalid.assert_problem(422, "validation");
    assert!(
        invalid
            .pointers()
            .contains(&"/opening_hours/mon/0/from".to_owned()),
        "{}",
        invalid.text
    );
    let after = w
        .app
        .get(&format!("/v1/venues/{}", id(&venue)), &member.token)
        .await;
    assert_eq!(after.json["slot_minutes"], 60);
    assert_eq!(after.json["units"], 6);
    // Members don't manage venues.
    w.app
        .patch(
            &format!("/v1/venues/{}", id(&venue)),
            &member.token,
            None,
            &json!({"units": 1}),
        )
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn closures_close_slots_with_their_reason_and_refuse_bookings() {
    let w = world().await;
    let venue = w.venue(json!({}), json!({})).await;
    let member = w.member(id(&w.c.jj_county)).await;
    let day = tomorrow();
    let path = format!("/v1/venues/{}/closures", id(&venue));
    let backwards = w
        .app
        .post(
            &path,
            &w.jj_staff,
            &json!({"start": at(day, 16, 0), "end": at(day, 15, 0), "reason": "地板打蜡"}),
        )
        .await;
    assert_refused(&backwards, "end_before_start", "/end");
    let blank = w
        .app
        .post(
            &path,
            &w.jj_staff,
            &json!({"start": at(day, 15, 0), "end": at(day, 16, 0), "reason": " "}),
        )
        .await;
    blank.assert_problem(422, "validation");
    assert_eq!(blank.pointers(), vec!["/reason"]);
    w.app
        .post(
            &path,
            &member.token,
            &json!({"start": at(day, 15, 0), "end": at(day, 16, 0), "reason": "地板打蜡"}),
        )
        .await
        .assert_problem(403, "forbidden");
    let closure = w
        .app
        .post(
            &path,
            &w.jj_staff,
            &json!({"start": at(day, 15, 15), "end": at(day, 15, 45), "reason": "地板打蜡"}),
        )
        .await;
    assert_eq!(closure.status, StatusCode::CREATED, "{}", closure.text);
    let list = w
        .app
        .get(&format!("{path}?upcoming=true"), &member.token)
        .await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);

    let avail = w
        .app
        .get(
            &format!("/v1/venues/{}/availability?date={day}", id(&venue)),
            &member.token,
        )
        .await;
    assert_eq!(avail.status, StatusCode::OK);
    let slots = avail.json["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 11, "08–12 and 14–21 on the hour");
    let closed = slots.iter().find(|s| s["local_start"] == "15:00").unwrap();
    assert_eq!(closed["open"], false);
    assert_eq!(closed["closed_reason"], "地板打蜡");
    assert_eq!(closed["free_units"], 0);
    assert_eq!(slots[0]["local_start"], "08:00");
    assert_eq!(slots[0]["free_units"], 2);

    let refused = w
        .book(&member.token, &venue, &at(day, 15, 0), &at(day, 16, 0), 1)
        .await;
    assert_refused(&refused, "in_closure", "/start");
    assert!(refused.text.contains("地板打蜡"));
}

// ---------------------------------------------------------------------------------
// Booking rules
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn every_booking_rule_is_a_422_naming_it_and_nothing_is_booked() {
    let w = world().await;
    let venue = w.venue(json!({}), json!({"max_days_ahead": 1})).await;
    let member = w.member(id(&w.c.jj_county)).await;
    let day = tomorrow();
    let t = &member.token;

    let r = w
        .book(t, &venue, &at(day, 10, 15), &at(day, 11, 15), 1)
        .await;
    assert_refused(&r, "not_aligned", "/start");
    assert_refused(&r, "not_aligned", "/end");
    // The lunch gap: nothing starts at 12:00, and 11:00–15:00 crosses it.
    let r = w.book(t, &venue, &at(day, 12, 0), &at(day, 13, 0), 1).await;
    assert_refused(&r, "outside_opening_hours", "/start");
    let r = w.book(t, &venue, &at(day, 7, 0), &at(day, 8, 0), 1).await;
    assert_refused(&r, "outside_opening_hours", "/start");
    let r = w.book(t, &venue, &at(day, 11, 0), &at(day, 15, 0), 1).await;
    assert_refused(&r, "outside_opening_hours", "/end");
    let r = w.book(t, &venue, &at(day, 11, 0), &at(day, 10, 0), 1).await;
    assert_refused(&r, "end_before_start", "/end");
    let ahead = today() + Duration::days(3);
    let r = w
        .book(t, &venue, &at(ahead, 10, 0), &at(ahead, 11, 0), 1)
        .await;
    assert_refused(&r, "too_far_ahead", "/start");
    let yesterday = today() - Duration::days(1);
    let r = w
        .book(t, &venue, &at(yesterday, 10, 0), &at(yesterday, 11, 0), 1)
        .await;
    assert_refused(&r, "in_past", "/start");
    let r = w.book(t, &venue, &at(day, 10, 0), &at(day, 11, 0), 2).await;
    assert_refused(&r, "too_many_units", "/units");
    let r = w.book(t, &venue, &at(day, 10, 0), &at(day, 11, 0), 3).await;
    assert_eq!(
        codes(&r).iter().filter(|c| *c == "too_many_units").count(),
        2,
        "more than the venue has and than one booking may take: {}",
        r.text
    );
    let r = w.book(t, &venue, &at(day, 10, 0), &at(day, 11, 0), 0).await;
    assert_refused(&r, "out_of_range", "/units");
    // 90 minutes in one go passes the 60-minute daily limit.
    let r = w.book(t, &venue, &at(day, 9, 0), &at(day, 11, 0), 1).await;
    assert_refused(&r, "daily_minutes_exceeded", "/end");
    // Members only: staff can't book a guest here.
    let r = w
        .app
        .post(
            "/v1/bookings",
            &w.jj_staff,
            &json!({"venue_id": id(&venue), "start": at(day, 10, 0), "end": at(day, 11, 0),
                "units": 1, "guest_name": "李客人"}),
        )
        .await;
    assert_refused(&r, "members_only", "/guest_name");
    // Members book for themselves only.
    let other = w.member(id(&w.c.jj_county)).await;
    let r = w
        .app
        .post(
            "/v1/bookings",
            t,
            &json!({"venue_id": id(&venue), "start": at(day, 10, 0), "end": at(day, 11, 0),
                "units": 1, "member_id": other.id}),
        )
        .await;
    assert_refused(&r, "own_only", "/member_id");
    // Unknown fields and venues.
    let r = w
        .app
        .post(
            "/v1/bookings",
            t,
            &json!({"venue_id": id(&venue), "start": at(day, 10, 0), "end": at(day, 11, 0),
                "units": 1, "status": "checked_in"}),
        )
        .await;
    assert_refused(&r, "unknown_field", "/status");
    let r = w
        .app
        .post(
            "/v1/bookings",
            t,
            &json!({"venue_id": uuid::Uuid::now_v7(), "start": at(day, 10, 0), "end": at(day, 11, 0), "units": 1}),
        )
        .await;
    assert_refused(&r, "not_found", "/venue_id");

    let mine = w.app.get("/v1/bookings", t).await;
    assert_eq!(mine.json["items"], json!([]), "nothing was booked");
    assert_eq!(w.free_units(&venue, day, 10).await, 2);
}

#[tokio::test]
async fn notice_and_days_ahead_follow_the_venue_s_rules() {
    let w = world().await;
    let venue = w
        .venue(
            json!({}),
            json!({"min_notice_minutes": 10080, "max_days_ahead": 30}),
        )
        .await;
    let member = w.member(id(&w.c.jj_county)).await;
    let day = tomorrow();
    let r = w
        .book(&member.token, &venue, &at(day, 10, 0), &at(day, 11, 0), 1)
        .await;
    assert_refused(&r, "too_little_notice", "/start");
    let later = today() + Duration::days(8);
    let r = w
        .book(
            &member.token,
            &venue,
            &at(later, 10, 0),
            &at(later, 11, 0),
            1,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[tokio::test]
async fn daily_minutes_allow_exactly_the_limit_and_refuse_more() {
    let w = world().await;
    let venue = w.venue(json!({"slot_minutes": 30}), json!({})).await;
    let member = w.member(id(&w.c.jj_county)).await;
    let day = tomorrow();
    let t = &member.token;
    let first = w
        .book(t, &venue, &at(day, 10, 0), &at(day, 10, 30), 1)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.json["minutes"], 30);
    assert_eq!(first.json["status"], "booked");
    assert_eq!(
        first.header("location").unwrap(),
        format!("/v1/bookings/{}", id(&first.json))
    );
    let second = w
        .book(t, &venue, &at(day, 10, 30), &at(day, 11, 0), 1)
        .await;
    assert_eq!(
        second.status,
        StatusCode::CREATED,
        "exactly 60: {}",
        second.text
    );
    let third = w
        .book(t, &venue, &at(day, 14, 0), &at(day, 14, 30), 1)
        .await;
    assert_refused(&third, "daily_minutes_exceeded", "/end");
    // Cancelling gives the minutes back.
    let cancel = w
        .app
        .post(
            &format!("/v1/bookings/{}/cancellation", id(&first.json)),
            t,
            &json!({}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
    let again = w
        .book(t, &venue, &at(day, 14, 0), &at(day, 14, 30), 1)
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
}

#[tokio::test]
async fn a_grassroots_union_s_members_share_its_daily_units() {
    let w = world().await;
    let venue = w
        .venue(
            json!({"units": 8}),
            json!({"max_units_per_union_per_day": 2}),
        )
        .await;
    let union = id(&w.c.jj_county);
    let (a, b, c) = (
        w.member(union).await,
        w.member(union).await,
        w.member(union).await,
    );
    let elsewhere = w.member(id(&w.c.ja_county)).await;
    let day = tomorrow();
    for m in [&a, &b] {
        let r = w
            .book(&m.token, &venue, &at(day, 10, 0), &at(day, 11, 0), 1)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = w
        .book(&c.token, &venue, &at(day, 15, 0), &at(day, 16, 0), 1)
        .await;
    assert_refused(&r, "union_daily_units_exceeded", "/units");
    let r = w
        .book(
            &elsewhere.token,
            &venue,
            &at(day, 15, 0),
            &at(day, 16, 0),
            1,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "another union: {}", r.text);
}

#[tokio::test]
async fn staff_book_for_members_and_guests_and_a_full_slot_is_a_409() {
    let w = world().await;
    let venue = w
        .venue(
            json!({"units": 1, "guest_price_fen": 2000}),
            json!({"members_only": false}),
        )
        .await;
    let member = w.member(id(&w.c.jj_county)).await;
    let day = tomorrow();
    let guest = w
        .app
        .post(
            "/v1/bookings",
            &w.jj_staff,
            &json!({"venue_id": id(&venue), "start": at(day, 10, 0), "end": at(day, 11, 0),
                "units": 1, "guest_name": "李客人"}),
        )
        .await;
    assert_eq!(guest.status, StatusCode::CREATED, "{}", guest.text);
    assert_eq!(guest.json["guest_name"], "李客人");
    assert_eq!(guest.json["price_fen"], 2000);
    assert_eq!(guest.json["member_id"], Value::Null);

    let full = w
        .book(&member.token, &venue, &at(day, 10, 0), &at(day, 11, 0), 1)
        .await;
    full.assert_problem(409, "conflict");
    assert_eq!(full.json["conflict"], "capacity_taken");
    assert!(
        full.json["detail"]
            .as_str()
            .unwrap()
            .contains("10:00–11:00"),
        "{}",
        full.text
    );

    let for_member = w
        .app
        .post(
            "/v1/bookings",
            &w.jj_staff,
            &json!({"venue_id": id(&venue), "start": at(day, 11, 0), "end": at(day, 12, 0),
                "units": 1, "member_id": member.id}),
        )
        .await;
    assert_eq!(
        for_member.status,
        StatusCode::CREATED,
        "{}",
        for_member.text
    );
    assert_eq!(for_member.json["member_id"], member.id.as_str());
    assert_eq!(for_member.json["price_fen"], 0);
    // The member sees it among their own; staff filter by venue, date and member.
    let mine = w.app.get("/v1/bookings", &member.token).await;
    assert_eq!(mine.json["items"].as_array().unwrap().len(), 1);
    let staff = w
        .app
        .get(
            &format!("/v1/bookings?venue_id={}&date={day}", id(&venue)),
            &w.jj_staff,
        )
        .await;
    assert_eq!(staff.json["items"].as_array().unwrap().len(), 2);
    let one = w
        .app
        .get(
            &format!("/v1/bookings?member_id={}", member.id),
            &w.jj_staff,
        )
        .await;
    assert_eq!(one.json["items"].as_array().unwrap().len(), 1);
    let paged = w.app.get("/v1/bookings?limit=1", &w.jj_staff).await;
    assert_eq!(paged.json["items"].as_array().unwrap().len(), 1);
    let cursor = paged.json["next_cursor"].as_str().unwrap();
    let rest = w
        .app
        .get(
            &format!("/v1/bookings?limit=1&cursor={cursor}"),
            &w.jj_staff,
        )
        .await;
    assert_eq!(rest.json["items"].as_array().unwrap().len(), 1);
    assert_ne!(rest.json["items"][0]["id"], paged.json["items"][0]["id"]);
    // Staff of another union can't book here.
    let r = w
        .app
        .post(
            "/v1/bookings",
            &w.ja_staff,
            &json!({"venue_id": id(&venue), "start": at(day, 14, 0), "end": at(day, 15, 0),
                "units": 1, "guest_name": "王客人"}),
        )
        .await;
    assert_refused(&r, "not_found", "/venue_id");
}

// ---------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn two_hundred_simultaneous_requests_for_the_last_unit_yield_exactly_one_booking() {
    let w = world_with(|c| {
        c.db_max_connections = 20;
        c.db_acquire_timeout_secs = 60;
        c.workers = 4;
    })
    .await;
    let venue = w
        .venue(
            json!({"units": 2}),
            json!({"max_units_per_union_per_day": null, "max_minutes_per_member_per_day": null}),
        )
        .await;
    let union = id(&w.c.jj_county).to_owned();
    let members: Vec<Member> = futures_util::stream::iter(0..201)
        .map(|_| w.member(&union))
        .buffer_unordered(16)
        .collect()
        .await;
    let day = tomorrow();
    let (start, end) = (at(day, 19, 0), at(day, 20, 0));
    let first = w.book(&members[200].token, &venue, &start, &end, 1).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(w.free_units(&venue, day, 19).await, 1);

    let replies = join_all(
        members[..200]
            .iter()
            .map(|m| w.book(&m.token, &venue, &start, &end, 1)),
    )
    .await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let conflicts = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.json["conflict"] == "capacity_taken")
        .count();
    let odd: Vec<_> = replies
        .iter()
        .filter(|r| r.status != StatusCode::CREATED && r.status != StatusCode::CONFLICT)
        .map(|r| r.text.clone())
        .take(3)
        .collect();
    assert!(odd.is_empty(), "unexpected answers: {odd:?}");
    assert_eq!((created, conflicts), (1, 199));
    assert_eq!(w.free_units(&venue, day, 19).await, 0);
    let held = w
        .app
        .get(
            &format!(
                "/v1/bookings?venue_id={}&status=booked&limit=200",
                id(&venue)
            ),
            &w.jj_staff,
        )
        .await;
    assert_eq!(held.json["items"].as_array().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------
// Cancellation, check-in, no-shows and bans
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn cancellation_frees_the_unit_members_before_the_deadline_staff_any_time() {
    let w = world().await;
    let venue = w.venue(json!({"units": 1}), json!({})).await;
    let strict = w
        .venue(
            json!({"units": 1}),
            json!({"cancel_deadline_minutes": 10080}),
        )
        .await;
    let member = w.member(id(&w.c.jj_county)).await;
    let other = w.member(id(&w.c.jj_county)).await;
    let day = tomorrow();

    let b = w
        .book(&member.token, &venue, &at(day, 10, 0), &at(day, 11, 0), 1)
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    assert_eq!(w.free_units(&venue, day, 10).await, 0);
    let cancel_path = format!("/v1/bookings/{}/cancellation", id(&b.json));
    // Another member can't see or cancel it.
    w.app
        .get(&format!("/v1/bookings/{}", id(&b.json)), &other.token)
        .await
        .assert_problem(404, "not-found");
    w.app
        .post(&cancel_path, &other.token, &json!({}))
        .await
        .assert_problem(404, "not-found");
    let done = w.app.post(&cancel_path, &member.token, &json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.json["status"], "cancelled");
    assert_eq!(w.free_units(&venue, day, 10).await, 1);
    w.app
        .post(&cancel_path, &member.token, &json!({}))
        .await
        .assert_problem(409, "conflict");
    let taken = w
        .book(&other.token, &venue, &at(day, 10, 0), &at(day, 11, 0), 1)
        .await;
    assert_eq!(
        taken.status,
        StatusCode::CREATED,
        "the freed unit: {}",
        taken.text
    );

    // Past the member's deadline: a 422 for them, fine for staff.
    let b = w
        .book(&member.token, &strict, &at(day, 10, 0), &at(day, 11, 0), 1)
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    let path = format!("/v1/bookings/{}/cancellation", id(&b.json));
    let late = w.app.post(&path, &member.token, &json!({})).await;
    assert_refused(&late, "cancel_deadline_passed", "");
    let by_staff = w.app.post(&path, &w.jj_staff, &json!({})).await;
    assert_eq!(by_staff.status, StatusCode::OK, "{}", by_staff.text);
    assert_eq!(w.free_units(&strict, day, 10).await, 1);
    let cancelled = w
        .app
        .get(
            &format!("/v1/bookings?status=cancelled&venue_id={}", id(&strict)),
            &member.token,
        )
        .await;
    assert_eq!(cancelled.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn members_check_in_with_the_code_their_booking_shows_inside_the_window() {
    let w = world().await;
    let venue = w
        .all_day_venue(
            json!({"check_in_window_before_minutes": 240, "max_minutes_per_member_per_day": null}),
        )
        .await;
    let member = w.member(id(&w.c.jj_county)).await;
    let other = w.member(id(&w.c.jj_county)).await;
    // The next quarter hour starts within the 4-hour window.
    let now = Utc::now() + Duration::minutes(1);
    let next = now.with_second(0).unwrap().with_nanosecond(0).unwrap()
        + Duration::minutes(i64::from(15 - now.minute() % 15));
    let b = w
        .book(
            &member.token,
            &venue,
            &next.to_rfc3339(),
            &(next + Duration::minutes(15)).to_rfc3339(),
            1,
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    let code = b.json["check_in_code"]
        .as_str()
        .expect("code shown")
        .to_owned();
    assert_eq!(code.len(), 6);
    assert!(code.bytes().all(|c| c.is_ascii_digit()));
    let path = format!("/v1/bookings/{}", id(&b.json));
    // Staff don't see the code; the member sees the same one again.
    let staff_view = w.app.get(&path, &w.jj_staff).await;
    assert_eq!(staff_view.json.get("check_in_code"), None);
    let again = w.app.get(&path, &member.token).await;
    assert_eq!(again.json["check_in_code"], code.as_str());

    let check_in = format!("{path}/check-in");
    w.app
        .post(&check_in, &other.token, &json!({"code": code}))
        .await
        .assert_problem(404, "not-found");
    let missing = w.app.post(&check_in, &member.token, &json!({})).await;
    assert_refused(&missing, "required", "/code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = w
        .app
        .post(&check_in, &member.token, &json!({"code": wrong}))
        .await;
    assert_refused(&r, "wrong_code", "/code");
    let ok = w
        .app
        .post(&check_in, &member.token, &json!({"code": code}))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["status"], "checked_in");
    assert_eq!(ok.json.get("check_in_code"), None);
    w.app
        .post(&check_in, &member.token, &json!({"code": code}))
        .await
        .assert_problem(409, "conflict");

    // A booking for tomorrow: no code yet, and check-in isn't open for anyone.
    let day = tomorrow();
    let later = w
        .book(&member.token, &venue, &at(day, 20, 0), &at(day, 20, 15), 1)
        .await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.text);
    assert_eq!(later.json.get("check_in_code"), None);
    let r = w
        .app
        .post(
            &format!("/v1/bookings/{}/check-in", id(&later.json)),
            &w.jj_staff,
            &json!({}),
        )
        .await;
    assert_refused(&r, "check_in_not_open", "");
}

#[tokio::test]
async fn staff_check_in_without_a_code() {
    let w = world().await;
    let venue = w
        .all_day_venue(json!({"check_in_window_before_minutes": 240}))
        .await;
    let member = w.member(id(&w.c.jj_county)).await;
    let now = Utc::now() + Duration::minutes(1);
    let next = now.with_second(0).unwrap().with_nanosecond(0).unwrap()
        + Duration::minutes(i64::from(15 - now.minute() % 15));
    let b = w
        .book(
            &member.token,
            &venue,
            &next.to_rfc3339(),
            &(next + Duration::minutes(15)).to_rfc3339(),
            1,
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    let path = format!("/v1/bookings/{}/check-in", id(&b.json));
    w.app
        .post(&path, &w.ja_staff, &json!({}))
        .await
        .assert_problem(404, "not-found");
    // An empty body will do.
    let reply = Reply::from(
        w.app
            .request(reqwest::Method::POST, &path, Some(&w.jj_staff))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["status"], "checked_in");
    let list = w
        .app
        .get("/v1/bookings?status=checked_in", &member.token)
        .await;
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn no_shows_are_computed_and_two_bring_a_ban_on_the_next_attempt() {
    let w = world().await;
    let venue = w.venue(json!({}), json!({})).await;
    let member = w.member(id(&w.c.jj_county)).await;
    // On the minute, as bookings are (and PostgreSQL keeps microseconds only).
    let now = Utc::now()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    // Ended five minutes ago: still inside the 15-minute grace, so still booked.
    let recent = w
        .past_booking(&venue, &member, now - Duration::minutes(65))
        .await;
    let got = w
        .app
        .get(&format!("/v1/bookings/{recent}"), &member.token)
        .await;
    assert_eq!(got.json["status"], "booked", "{}", got.text);
    // One no-show is no ban yet.
    let old = w
        .past_booking(&venue, &member, now - Duration::days(3))
        .await;
    let got = w
        .app
        .get(&format!("/v1/bookings/{old}"), &member.token)
        .await;
    assert_eq!(got.json["status"], "no_show", "{}", got.text);
    let no_shows = w
        .app
        .get("/v1/bookings?status=no_show", &member.token)
        .await;
    assert_eq!(no_shows.json["items"].as_array().unwrap().len(), 1);
    // A no-show can't be cancelled any more.
    w.app
        .post(
            &format!("/v1/bookings/{old}/cancellation"),
            &w.jj_staff,
            &json!({}),
        )
        .await
        .assert_problem(409, "conflict");
    let day = tomorrow();
    let ok = w
        .book(&member.token, &venue, &at(day, 10, 0), &at(day, 11, 0), 1)
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "one no-show: {}", ok.text);

    // The second no-show within 30 days: the next attempt meets a 14-day ban.
    let second_start = now - Duration::days(1);
    w.past_booking(&venue, &member, second_start).await;
    let banned = w
        .book(&member.token, &venue, &at(day, 14, 0), &at(day, 15, 0), 1)
        .await;
    banned.assert_problem(403, "booking-ban");
    let until = parse_time(&banned.json["until"]);
    let expected = second_start + Duration::hours(1) + Duration::minutes(15) + Duration::days(14);
    assert_eq!(until, expected);
    let detail = banned.json["detail"].as_str().unwrap();
    assert!(detail.contains("no-shows"), "{detail}");
    assert!(
        detail.contains(
            &expected
                .with_timezone(&shanghai())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        ),
        "{detail}"
    );
    // Other members aren't affected.
    let other = w.member(id(&w.c.jj_county)).await;
    let r = w
        .book(&other.token, &venue, &at(day, 14, 0), &at(day, 15, 0), 1)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

// ---------------------------------------------------------------------------------
// Isolation
// ---------------------------------------------------------------------------------

#[tokio::test]
async fn staff_of_one_union_cannot_manage_another_union_s_palace() {
    let w = world().await;
    let venue = w.venue(json!({}), json!({})).await;
    let member = w.member(id(&w.c.jj_county)).await;
    let day = tomorrow();
    let b = w
        .book(&member.token, &venue, &at(day, 10, 0), &at(day, 11, 0), 1)
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.text);
    let palace = id(&w.palace);
    let venue_id = id(&venue);
    // Reading is public…
    let r = w
        .app
        .get(&format!("/v1/palaces/{palace}"), &w.ja_staff)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // …managing is not.
    w.app
        .patch(
            &format!("/v1/palaces/{palace}"),
            &w.ja_staff,
            None,
            &json!({"name": "x"}),
        )
        .await
        .assert_problem(404, "not-found");
    w.app
        .post(
            &format!("/v1/palaces/{palace}/venues"),
            &w.ja_staff,
            &json!({"name": "x", "kind": "darts", "units": 1, "slot_minutes": 60, "opening_hours": {}}),
        )
        .await
        .assert_problem(404, "not-found");
    w.app
        .patch(
            &format!("/v1/venues/{venue_id}"),
            &w.ja_staff,
            None,
            &json!({"units": 9}),
        )
        .await
        .assert_problem(404, "not-found");
    w.app
        .post(
            &format!("/v1/venues/{venue_id}/closures"),
            &w.ja_staff,
            &json!({"start": at(day, 8, 0), "end": at(day, 9, 0), "reason": "x"}),
        )
        .await
        .assert_problem(404, "not-found");
    let booking = format!("/v1/bookings/{}", id(&b.json));
    w.app
        .get(&booking, &w.ja_staff)
        .await
        .assert_problem(404, "not-found");
    w.app
        .post(&format!("{booking}/cancellation"), &w.ja_staff, &json!({}))
        .await
        .assert_problem(404, "not-found");
    let listed = w.app.get("/v1/bookings", &w.ja_staff).await;
    assert_eq!(listed.json["items"], json!([]));
    // The Jiujiang union admin above the palace manages it; the Ji'an one doesn't.
    let r = w.app.get(&booking, &w.c.jj_token).await;
    assert_eq!(r.status, StatusCode::OK);
    w.app
        .get(&booking, &w.c.ja_token)
        .await
        .assert_problem(404, "not-found");
    // A member can't list someone else's bookings by filtering for them.
    let other = w.member(id(&w.c.jj_county)).await;
    let r = w
        .app
        .get(
            &format!("/v1/bookings?member_id={}", member.id),
            &other.token,
        )
        .await;
    assert_eq!(r.json["items"], json!([]));
}
