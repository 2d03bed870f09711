//! `GET /v1/stats/overview`: every figure cross-checked against its area's own
//! endpoint over the demo province, the rates' zero denominators, and who may ask.

use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use unionhall_api::server;
use unionhall_domain::UserId;
use unionhall_persistence::palaces::{self as palaces_repo, NewBooking};
use unionhall_persistence::users;
use unionhall_tests::{TestApp, id};

/// Every item of a list, following `next_cursor`.
async fn all(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
            None => format!("{path}{sep}limit=200"),
        };
        let page = app.get(&url, token).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {}", page.text);
        items.extend(page.json["items"].as_array().unwrap().iter().cloned());
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

/// Asia/Shanghai has kept UTC+8 without daylight saving since 1991.
fn today_in_china() -> NaiveDate {
    (Utc::now() + TimeDelta::hours(8)).date_naive()
}

fn rate(numerator: i64, denominator: i64) -> Value {
    let percent = if denominator == 0 {
        Value::Null
    } else {
        let hundredths = (numerator * 10_000 * 2 + denominator) / (2 * denominator);
        json!(format!("{}.{:02}", hundredths / 100, hundredths % 100))
    };
    json!({"percent": percent, "numerator": numerator, "denominator": denominator})
}

/// The demo province, plus one booking in Ji'an that ended an hour ago unattended (a
/// no-show the API can't create, since bookings start in the future): the root
/// admin's overview and the Ji'an admin's agree with what each area's endpoint says.
#[tokio::test]
async fn the_overview_agrees_with_every_area_endpoint() {
    let app = TestApp::spawn().await;
    let state = server::prepare(app.config.clone()).await.unwrap();
    unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    let admin = app.admin_token().await;
    let today = today_in_china();
    let year_starts = today.with_ordinal(1).unwrap();
    let month_starts = today.with_day(1).unwrap();

    // The no-show, at the Ji'an palace's first venue.
    let ja_palace = all(&app, "/v1/palaces", &admin)
        .await
        .into_iter()
        .find(|p| p["name"] == "吉安市职工文化活动中心")
        .unwrap();
    let venue = all(
        &app,
        &format!("/v1/palaces/{}/venues", id(&ja_palace)),
        &admin,
    )
    .await[0]
        .clone();
    let staff = users::credentials(&state.db, "ja-admin")
        .await
        .unwrap()
        .unwrap()
        .0;
    let now = Utc::now();
    let txn = unionhall_persistence::db::begin_write(&state.db)
        .await
        .unwrap();
    palaces_repo::insert_booking(
        &txn,
        NewBooking {
            venue_id: id(&venue).parse().unwrap(),
            member_id: None,
            member_org_id: None,
            guest_name: Some("散客".to_owned()),
            start: now - TimeDelta::hours(2),
            end: now - TimeDelta::hours(1),
            local_date: today,
            units: 1,
            minutes: 60,
            price_fen: 2000,
            grace_minutes: 15,
            created_by: UserId(staff.0),
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();

    // A member who joined years ago: active, but not new this year.
    let ja = all(&app, "/v1/orgs?q=吉安市总工会", &admin).await[0].clone();
    let veteran = app
        .post(
            "/v1/members",
            &admin,
            &json!({"org_id": id(&ja), "name": "老会员", "phone": "13900099999",
                "id_number": unionhall_tests::riders::id_number(99_999),
                "occupation": "factory_worker", "employment_form": "standard",
                "joined_on": "2020-05-01"}),
        )
        .await;
    assert_eq!(veteran.status, StatusCode::CREATED, "{}", veteran.text);

    let ja_admin = app
        .login("ja-admin", unionhall_api::demo::DEMO_PASSWORD)
        .await
        .0;
    for token in [&admin, &ja_admin] {
        let got = app.get("/v1/stats/overview", token).await;
        assert_eq!(got.status, StatusCode::OK, "{}", got.text);
        let o = &got.json;
        let org = o["org_id"].as_str().unwrap();
        assert_eq!(o["year"], today.year());
        assert_eq!(o["month_starts"], month_starts.to_string());

        // Members, as the member list shows them.
        let members = all(
            &app,
            &format!("/v1/members?org_id={org}&status=active"),
            token,
        )
        .await;
        assert_eq!(o["members"]["total"], members.len(), "{}", got.text);
        let gig = members
            .iter()
            .filter(|m| m["employment_form"] == "gig")
            .count();
        assert_eq!(o["members"]["gig"], gig);
        assert_eq!(
            o["members"]["gig_share"],
            rate(gig as i64, members.len() as i64)
        );
        let new = members
            .iter()
            .filter(|m| m["joined_on"].as_str().unwrap() >= year_starts.to_string().as_str())
            .count();
        assert_eq!(o["members"]["new_this_year"], new);
        assert!(new < members.len(), "the veteran is not new this year");
        let mut by_occupation: BTreeMap<String, i64> = BTreeMap::new();
        for m in &members {
            *by_occupation
                .entry(m["occupation"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        for row in o["members"]["by_occupation"].as_array().unwrap() {
            let occupation = row["occupation"].as_str().unwrap();
            assert_eq!(
                row["members"],
                by_occupation.get(occupation).copied().unwrap_or(0),
                "{occupation}"
            );
        }

        // Insurance, as the insurance stats say.
        let insurance = app
            .get(&format!("/v1/insurance/stats?org_id={org}"), token)
            .await;
        assert_eq!(insurance.status, StatusCode::OK, "{}", insurance.text);
        for (ours, theirs) in [
            ("covered_members", "enrolled_members"),
            ("enrollments", "enrollments"),
            ("premiums_fen", "premiums_fen"),
            ("paid_fen", "paid_fen"),
        ] {
            assert_eq!(o["insurance"][ours], insurance.json[theirs], "{ours}");
        }
        assert!(o["insurance"]["covered_members"].as_i64().unwrap() > 0);

        // Mediation this year, as the mediation stats say.
        let mediation = app
            .get(
                &format!("/v1/mediation/stats?org_id={org}&from={year_starts}"),
                token,
            )
            .await;
        assert_eq!(mediation.status, StatusCode::OK, "{}", mediation.text);
        let totals = &mediation.json["totals"];
        for key in [
            "accepted",
            "closed",
            "agreements",
            "withdrawn",
            "success_rate",
        ] {
            assert_eq!(o["mediation"][key], totals[key], "{key}");
        }

        // Stations, as the station list shows them.
        let stations = all(&app, &format!("/v1/stations?org_id={org}"), token).await;
        assert_eq!(o["stations"]["stations"], stations.len());
        assert_eq!(
            o["stations"]["open"],
            stations.iter().filter(|s| s["status"] == "open").count()
        );

        // Bookings of this month at the subtree's palaces, cancellations left out.
        let palaces: BTreeSet<String> = all(&app, &format!("/v1/palaces?org_id={org}"), token)
            .await
            .iter()
            .map(|p| id(p).to_owned())
            .collect();
        let mut venues = BTreeSet::new();
        for p in &palaces {
            for v in all(&app, &format!("/v1/palaces/{p}/venues"), token).await {
                venues.insert(id(&v).to_owned());
            }
        }
        let month: Vec<Value> = all(&app, "/v1/bookings", token)
            .await
            .into_iter()
            .filter(|b| venues.contains(b["venue_id"].as_str().unwrap()))
            .filter(|b| {
                b["date"].as_str().unwrap() >= month_starts.to_string().as_str()
                    && b["date"].as_str().unwrap()[..7] == month_starts.to_string()[..7]
            })
            .filter(|b| b["status"] != "cancelled")
            .collect();
        let count = |status: &str| month.iter().filter(|b| b["status"] == status).count();
        assert_eq!(o["bookings"]["this_month"], month.len(), "{}", got.text);
        assert_eq!(o["bookings"]["checked_in"], count("checked_in"));
        assert_eq!(o["bookings"]["no_shows"], count("no_show"));
        assert_eq!(o["bookings"]["no_shows"], 1);
        assert_eq!(
            o["bookings"]["no_show_rate"],
            rate(
                count("no_show") as i64,
                (count("no_show") + count("checked_in")) as i64
            )
        );

        // Competition entries by the subtree's members.
        let mut registrations = 0;
        let mut participants = BTreeSet::new();
        let subtree_members: BTreeSet<&str> =
            members.iter().map(|m| m["id"].as_str().unwrap()).collect();
        for c in all(&app, "/v1/competitions", &admin).await {
            for r in all(
                &app,
                &format!("/v1/competitions/{}/registrations", id(&c)),
                &admin,
            )
            .await
            {
                let member = r["member_id"].as_str().unwrap().to_owned();
                if subtree_members.contains(member.as_str()) {
                    registrations += 1;
                    participants.insert(member);
                }
            }
        }
        assert_eq!(o["competitions"]["registrations"], registrations);
        assert_eq!(o["competitions"]["participants"], participants.len());
    }
}

/// A subtree with nothing in it: zeros, and rates with no denominator are `null`, not
/// a division by zero. Only administrators ask, and only about their own subtree.
#[tokio::test]
async fn an_empty_subtree_has_no_rates_and_only_its_administrators_see_it() {
    let app = TestApp::spawn().await;
    let c = app.two_cities().await;
    let got = app.get("/v1/stats/overview", &c.jj_token).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    let o = &got.json;
    assert_eq!(o["org_id"], id(&c.jj));
    assert_eq!(o["members"]["total"], 0);
    assert_eq!(o["members"]["gig_share"], rate(0, 0));
    assert_eq!(o["bookings"]["no_show_rate"], rate(0, 0));
    assert_eq!(o["mediation"]["success_rate"], rate(0, 0));
    assert_eq!(o["stations"]["stations"], 0);
    assert_eq!(o["competitions"]["participants"], 0);
    assert!(
        o["members"]["by_occupation"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["members"] == 0)
    );

    // A county below is fine; another city is not (as everywhere, a named org out of
    // reach is a 422 pointing at it).
    let county = app
        .get(
            &format!("/v1/stats/overview?org_id={}", id(&c.jj_county)),
            &c.jj_token,
        )
        .await;
    assert_eq!(county.status, StatusCode::OK, "{}", county.text);
    assert_eq!(county.json["org_id"], id(&c.jj_county));
    let other = app
        .get(
            &format!("/v1/stats/overview?org_id={}", id(&c.ja)),
            &c.jj_token,
        )
        .await;
    other.assert_problem(422, "validation");
    assert_eq!(other.pointers(), vec!["/org_id"]);
    for (query, pointer) in [("org_id=not-a-uuid", "/org_id"), ("region=36", "/region")] {
        let bad = app
            .get(&format!("/v1/stats/overview?{query}"), &c.jj_token)
            .await;
        bad.assert_problem(422, "validation");
        assert_eq!(bad.pointers(), vec![pointer], "{query}");
    }
    // Members and staff without an administrator role don't see the figures.
    app.create_user(&c.admin, "a-judge", id(&c.jj), "judge")
        .await;
    let judge_token = app.login("a-judge", unionhall_tests::USER_PASSWORD).await.0;
    app.get("/v1/stats/overview", &judge_token)
        .await
        .assert_problem(403, "forbidden");
    let anonymous = app
        .request(reqwest::Method::GET, "/v1/stats/overview", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // The federation admin administers everything: the root by default.
    let root = app.get("/v1/stats/overview", &c.admin).await;
    assert_eq!(root.json["org_id"], app.root_org_id);
}
