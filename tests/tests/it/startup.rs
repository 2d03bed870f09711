//! First start on an empty database: the root organisation, the first admin, and the
//! generated JWT secret that must survive restarts and stay private.

use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use unionhall_api::config::Config;
use unionhall_api::server;
use unionhall_domain::UserId;
use unionhall_tests::{TestApp, id};

fn sqlite_config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        database_url: None,
        jwt_secret: None,
        admin_password: Some("first-admin-password".into()),
        ..Config::default()
    }
}

#[tokio::test]
async fn a_generated_jwt_secret_is_private_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = server::prepare(sqlite_config(dir.path())).await.unwrap();
    let secret_file = dir.path().join("jwt-secret");
    let mode = std::fs::metadata(&secret_file)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "only the owner may read the secret");
    assert!(std::fs::read_to_string(&secret_file).unwrap().len() >= 32);

    let token = first.keys.issue(UserId::new(), &[]).unwrap();
    first.db.close().await.unwrap();
    let second = server::prepare(sqlite_config(dir.path())).await.unwrap();
    assert!(
        second.keys.verify(&token).is_ok(),
        "tokens issued before a restart still verify"
    );
}

#[tokio::test]
async fn the_first_start_creates_the_root_and_its_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        root_org_name: "测试省总工会".into(),
        root_org_code: "test-root".into(),
        ..sqlite_config(dir.path())
    };
    let state = server::prepare(config.clone()).await.unwrap();
    let root = unionhall_persistence::orgs::find_root(&state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(root.code, "test-root");
    assert_eq!(root.name, "测试省总工会");
    assert_eq!(
        unionhall_persistence::orgs::count_all(&state.db)
            .await
            .unwrap(),
        1
    );
    state.db.close().await.unwrap();
    // A restart finds the tree and adds nothing.
    let again = server::prepare(config).await.unwrap();
    assert_eq!(
        unionhall_persistence::orgs::count_all(&again.db)
            .await
            .unwrap(),
        1
    );
    assert!(
        unionhall_persistence::users::credentials(&again.db, "admin")
            .await
            .unwrap()
            .is_some(),
        "the first admin exists"
    );
}

#[tokio::test]
async fn postgres_without_a_jwt_secret_refuses_to_start() {
    let config = Config {
        database_url: Some("postgres://postgres@127.0.0.1:5432/postgres".into()),
        jwt_secret: None,
        ..Config::default()
    };
    let err = config.check().unwrap_err();
    assert_eq!(err.setting, "UNIONHALL_JWT_SECRET");
}

/// The demo, loaded into a running app's database (SQLite or PostgreSQL): members, a
/// platform whose roster sync enrolled consenting riders and linked the demo members
/// who ride for it, and pending applications, all visible through the API. Loading
/// again adds nothing.
#[tokio::test]
async fn the_demo_loads_members_riders_and_applications_and_loading_twice_adds_nothing() {
    let app = TestApp::spawn().await;
    let state = server::prepare(app.config.clone()).await.unwrap();
    let first = unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    assert!(first.orgs_created >= 20, "{first}");
    assert_eq!(first.users_created, 3, "{first}");
    assert_eq!(first.members_created, 12, "{first}");
    // 3 demo members ride for the platform and 21 more riders, every seventh of whom
    // (3) hasn't consented.
    assert_eq!(first.riders_created, 24, "{first}");
    assert_eq!(first.riders_linked, 3, "{first}");
    assert_eq!(first.riders_enrolled, 18, "{first}");
    assert_eq!(first.applications_created, 3, "{first}");
    // Three plans; the platform union's 21 riders in the hospital and accident plans;
    // a hospital claim in each of the six states.
    assert_eq!(first.plans_created, 3, "{first}");
    assert_eq!(first.enrollments_created, 2 * 21, "{first}");
    assert_eq!(first.claims_created, 6, "{first}");
    // Palaces in Jiujiang, Nanchang and Ji'an with 13 venues, and a week of bookings:
    // each of the 12 demo members one hour a day for 7 days.
    assert_eq!(
        (
            first.palaces_created,
            first.venues_created,
            first.bookings_created
        ),
        (3, 13, 12 * 7),
        "{first}"
    );
    let (client_id, secret) = first.platform_credentials.clone().expect("credentials");

    let admin = app.admin_token().await;
    let riders = app
        .get("/v1/platforms/meituan-ja/riders?limit=200", &admin)
        .await;
    assert_eq!(riders.status, 200, "{}", riders.text);
    let items = riders.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 24);
    assert_eq!(
        items.iter().filter(|r| r["member_id"].is_string()).count(),
        21
    );
    let members = app
        .get("/v1/members?occupation=delivery_rider&limit=200", &admin)
        .await;
    assert_eq!(members.json["items"].as_array().unwrap().len(), 3 + 18);
    let pending = app
        .get("/v1/join-applications?status=pending", &admin)
        .await;
    assert_eq!(pending.json["items"].as_array().unwrap().len(), 3);
    let token = app
        .token_request(&json!({"grant_type": "client_credentials",
            "client_id": client_id, "client_secret": secret}))
        .await;
    assert_eq!(token.status, 200, "{}", token.text);
    let plans = app.get("/v1/insurance/plans?status=open", &admin).await;
    assert_eq!(
        plans.json["items"].as_array().unwrap().len(),
        3,
        "{}",
        plans.text
    );
    let claims = app.get("/v1/insurance/claims?limit=200", &admin).await;
    let mut states: Vec<&str> = claims.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    states.sort_unstable();
    assert_eq!(
        states,
        [
            "approved",
            "paid",
            "rejected",
            "returned",
            "submitted",
            "under_review"
        ],
        "{}",
        claims.text
    );
    let stats = app.get("/v1/insurance/stats", &admin).await;
    assert_eq!(stats.json["enrolled_members"], 21, "{}", stats.text);
    assert_eq!(stats.json["premiums_fen"], 21 * (8000 + 4000));
    // One competition of each kind: a published skills contest, a speech contest open
    // for registration, a running quiz with 300 attempts on its leaderboard.
    let competitions = app.get("/v1/competitions", &admin).await;
    let by_kind = |kind: &str| {
        competitions.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind}: {}", competitions.text))
    };
    let (skills, speech, quiz) = (by_kind("skills"), by_kind("speech"), by_kind("quiz"));
    assert_eq!(skills["status"], "results_published");
    assert_eq!(speech["status"], "registration");
    assert_eq!(quiz["status"], "running");
    let results = app
        .get(
            &format!("/v1/competitions/{}/results?limit=200", id(&skills)),
            &admin,
        )
        .await;
    let ranked = results.json["items"].as_array().unwrap();
    assert_eq!(ranked.len(), 12, "{}", results.text);
    assert_eq!(ranked[0]["prize_tier"], "first");
    assert_eq!(ranked[0]["honour_title"], "江西省技术能手");
    let judges = app
        .get(&format!("/v1/competitions/{}/judges", id(&speech)), &admin)
        .await;
    assert_eq!(judges.json["items"].as_array().unwrap().len(), 3);
    let mut on_board = 0;
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                &format!(
                    "/v1/competitions/{}/leaderboard?limit=200{cursor}",
                    id(&quiz)
                ),
                &admin,
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        on_board += page.json["items"].as_array().unwrap().len();
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(on_board, 300);

    let again = unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    assert_eq!(
        (
            again.orgs_created,
            again.users_created,
            again.members_created,
            again.riders_created,
            again.riders_enrolled,
            again.applications_created,
            again.plans_created,
            again.enrollments_created,
            again.claims_created,
        ),
        (0, 0, 0, 0, 0, 0, 0, 0, 0),
        "{again}"
    );
    assert!(again.platform_credentials.is_none());
    assert_eq!(
        (
            again.palaces_created,
            again.venues_created,
            again.bookings_created
        ),
        (0, 0, 0),
        "{again}"
    );
    let palaces = app.get("/v1/palaces", &admin).await;
    assert_eq!(palaces.json["items"].as_array().unwrap().len(), 3);
    let bookings = app.get("/v1/bookings?limit=200", &admin).await;
    assert_eq!(
        bookings.json["items"].as_array().unwrap().len(),
        12 * 7,
        "{}",
        bookings.text
    );
    let claims = app.get("/v1/insurance/claims?limit=200", &admin).await;
    assert_eq!(claims.json["items"].as_array().unwrap().len(), 6);
}
