//! The black-box test harness: the real app on `127.0.0.1:0` with a fresh database
//! per test — a SQLite file in a temporary directory, or, when
//! `UNIONHALL_TEST_POSTGRES_URL` is set, a PostgreSQL database of its own that is
//! dropped afterwards — and a small HTTP client that talks to it like a front-end would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use std::net::TcpListener;
use unionhall_api::config::{Backend, Config};
use unionhall_api::server;

pub mod riders;

/// The JWT secret test servers sign with, so tests can forge tokens deliberately.
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";
/// The personal-data key test servers seal with (64 hex characters).
pub const PII_KEY: &str = "7e3f1c2a9b8d4e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071";
/// The first admin's credentials.
pub const ADMIN_USERNAME: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// The password the builders give new accounts.
pub const USER_PASSWORD: &str = "user-password-for-tests";

/// A running app and its database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub handle: actix_web::dev::ServerHandle,
    pub config: Config,
    pub root_org_id: String,
    /// The database the app made for itself, dropped with it.
    _postgres: Option<PostgresDb>,
    _dir: tempfile::TempDir,
}

struct PostgresDb {
    admin_url: String,
    name: String,
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async; give the cleanup its own runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(db) = Database::connect(&admin_url).await {
                    let _ = db
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

/// The backend the suite runs on.
pub fn postgres_url() -> Option<String> {
    std::env::var("UNIONHALL_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

async fn fresh_postgres(admin_url: &str) -> (PostgresDb, String) {
    let name = format!("uh_test_{}", uuid::Uuid::now_v7().simple());
    let db = Database::connect(admin_url)
        .await
        .expect("connect to UNIONHALL_TEST_POSTGRES_URL");
    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    db.close().await.ok();
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("postgres URL ends with /<database>");
    let url = format!("{base}/{name}");
    (
        PostgresDb {
            admin_url: admin_url.to_owned(),
            name,
        },
        url,
    )
}

/// A database of a test's own that outlives the apps started on it (an app may be
/// killed and another opened on the same data): a SQLite file in a temporary
/// directory, or, when `UNIONHALL_TEST_POSTGRES_URL` is set, a PostgreSQL database
/// that is dropped with this value.
pub struct ScratchDatabase {
    /// The database URL for `UNIONHALL_DATABASE_URL`.
    pub url: String,
    /// A directory that lives as long as the database, e.g. for `UNIONHALL_DATA_DIR`.
    pub dir: tempfile::TempDir,
    postgres: Option<PostgresDb>,
}

impl ScratchDatabase {
    /// A new, empty database.
    pub async fn create() -> ScratchDatabase {
        let dir = tempfile::tempdir().unwrap();
        let (postgres, url) = match postgres_url() {
            Some(admin) => {
                let (db, url) = fresh_postgres(&admin).await;
                (Some(db), url)
            }
            None => (
                None,
                format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
            ),
        };
        ScratchDatabase { url, dir, postgres }
    }

    /// Whether it is a PostgreSQL database.
    pub fn on_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl TestApp {
    /// A fresh app with default test settings.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A fresh app with settings adjusted by `tweak`.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let ScratchDatabase { url, dir, postgres } = ScratchDatabase::create().await;
        Self::start(dir, postgres, url, tweak).await
    }

    /// An app with default test settings on an existing database (one a
    /// [`ScratchDatabase`] owns, say), which is left in place when the app is dropped.
    pub async fn spawn_on(database_url: &str) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        Self::start(dir, None, database_url.to_owned(), |_| {}).await
    }

    async fn start(
        dir: tempfile::TempDir,
        postgres: Option<PostgresDb>,
        database_url: String,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config {
            bind: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: Some(database_url),
            jwt_secret: Some(JWT_SECRET.into()),
            pii_key: Some(PII_KEY.into()),
            admin_username: ADMIN_USERNAME.into(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            workers: 2,
            db_max_connections: 5,
            // Many apps run at once against one PostgreSQL (100 connections): keep each
            // app's second pool small too.
            db_read_connections: 2,
            // Tests read the board right after submitting; one test turns it on.
            leaderboard_cache_ms: 0,
            ..Config::default()
        };
        tweak(&mut config);
        config.check().expect("test configuration is valid");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = server::prepare(config.clone()).await.expect("app starts");
        let server = server::serve(state, listener).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut app = TestApp {
            base,
            client,
            handle,
            config,
            root_org_id: String::new(),
            _postgres: postgres,
            _dir: dir,
        };
        let token = app.admin_token().await;
        let me = app.get("/v1/me", &token).await;
        app.root_org_id = me.json["roles"][0]["org_id"].as_str().unwrap().to_owned();
        app
    }

    /// Whether this app runs on PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        self.config.backend() == Backend::Postgres
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request builder with an optional bearer token.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// GET with a token.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        Reply::from(
            self.request(Method::GET, path, Some(token))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// POST JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        Reply::from(
            self.request(Method::POST, path, Some(token))
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// PATCH JSON with a token and optional If-Match.
    pub async fn patch(
        &self,
        path: &str,
        token: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut rb = self.request(Method::PATCH, path, Some(token)).json(body);
        if let Some(tag) = if_match {
            rb = rb.header("If-Match", tag);
        }
        Reply::from(rb.send().await.unwrap()).await
    }

    /// The token endpoint with a JSON body.
    pub async fn token_request(&self, body: &Value) -> Reply {
        Reply::from(
            self.request(Method::POST, "/v1/auth/token", None)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Logs in with a password; panics unless it works. Returns (access, refresh).
    pub async fn login(&self, username: &str, password: &str) -> (String, String) {
        let reply = self
            .token_request(
                &json!({"grant_type": "password", "username": username, "password": password}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "login as {username}: {}",
            reply.json
        );
        (
            reply.json["access_token"].as_str().unwrap().to_owned(),
            reply.json["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    /// An access token for the first federation admin.
    pub async fn admin_token(&self) -> String {
        self.login(ADMIN_USERNAME, ADMIN_PASSWORD).await.0
    }

    /// Creates an organisation as `token`; panics unless 201. Returns its JSON.
    pub async fn create_org(
        &self,
        token: &str,
        parent_id: &str,
        kind: &str,
        code: &str,
        region: &str,
    ) -> Value {
        let reply = self
            .post(
                "/v1/orgs",
                token,
                &json!({"name": format!("{code} 工会"), "code": code, "kind": kind, "parent_id": parent_id, "region_code": region}),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create org {code}: {}",
            reply.json
        );
        reply.json
    }

    /// Creates a staff account with one role at `org_id`; panics unless 201.
    pub async fn create_user(
        &self,
        token: &str,
        username: &str,
        org_id: &str,
        role: &str,
    ) -> Value {
        let reply = self
            .post(
                "/v1/users",
                token,
                &json!({
                    "username": username,
                    "password": USER_PASSWORD,
                    "display_name": username,
                    "org_id": org_id,
                    "roles": [{"role": role, "org_id": org_id}],
                }),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create user {username}: {}",
            reply.json
        );
        reply.json
    }

    /// Two city federations under the root, each with a county, and a union admin for
    /// each city: the usual isolation fixture.
    pub async fn two_cities(&self) -> TwoCities {
        let admin = self.admin_token().await;
        let ja = self
            .create_org(&admin, &self.root_org_id, "city_federation", "ja", "360800")
            .await;
        let jj = self
            .create_org(&admin, &self.root_org_id, "city_federation", "jj", "360400")
            .await;
        let ja_county = self
            .create_org(
                &admin,
                id(&ja),
                "county_federation",
                "ja-qingyuan",
                "360803",
            )
            .await;
        let jj_county = self
            .create_org(&admin, id(&jj), "county_federation", "jj-xunyang", "360403")
            .await;
        self.create_user(&admin, "ja-admin", id(&ja), "union_admin")
            .await;
        self.create_user(&admin, "jj-admin", id(&jj), "union_admin")
            .await;
        let ja_token = self.login("ja-admin", USER_PASSWORD).await.0;
        let jj_token = self.login("jj-admin", USER_PASSWORD).await.0;
        TwoCities {
            admin,
            ja,
            jj,
            ja_county,
            jj_county,
            ja_token,
            jj_token,
        }
    }
}

/// The fixture `two_cities` builds.
pub struct TwoCities {
    pub admin: String,
    pub ja: Value,
    pub jj: Value,
    pub ja_county: Value,
    pub jj_county: Value,
    pub ja_token: String,
    pub jj_token: String,
}

/// The `id` field of a JSON resource.
pub fn id(v: &Value) -> &str {
    v["id"].as_str().expect("resource has an id")
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Reply {
    /// Reads a response.
    pub async fn from(res: Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            json,
            text,
        }
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts this is an RFC 9457 problem with `status` and problem `slug`.
    pub fn assert_problem(&self, status: u16, slug: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type of {}",
            self.text
        );
        assert_eq!(
            self.json["type"],
            format!("/problems/{slug}"),
            "type of {}",
            self.text
        );
        assert_eq!(self.json["status"], status);
        assert!(self.json["title"].is_string());
        assert!(self.json["detail"].is_string());
        assert!(self.json["instance"].is_string());
        assert_eq!(
            self.json["request_id"].as_str(),
            self.header("x-request-id"),
            "request_id matches the header"
        );
        self
    }

    /// The pointers of a validation problem's errors.
    pub fn pointers(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|errs| {
                errs.iter()
                    .filter_map(|e| e["pointer"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
