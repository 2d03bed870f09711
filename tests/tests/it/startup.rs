//! First start on an empty database: the root organisation, the first admin, and the
//! generated JWT secret that must survive restarts and stay private.

use std::os::unix::fs::PermissionsExt;
use unionhall_api::config::Config;
use unionhall_api::server;
use unionhall_domain::UserId;

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

#[tokio::test]
async fn the_demo_loads_members_and_loading_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = server::prepare(sqlite_config(dir.path())).await.unwrap();
    let first = unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    assert!(first.orgs_created >= 20, "{first}");
    assert_eq!(first.users_created, 3, "{first}");
    assert_eq!(first.members_created, 12, "{first}");
    let again = unionhall_api::demo::load(&state.db, &state.pii)
        .await
        .unwrap();
    assert_eq!(
        (
            again.orgs_created,
            again.users_created,
            again.members_created
        ),
        (0, 0, 0),
        "{again}"
    );
}
