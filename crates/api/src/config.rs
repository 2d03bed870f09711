//! Configuration: `UNIONHALL_*` environment variables over an optional TOML file
//! (`UNIONHALL_CONFIG`, default `./unionhall.toml` when present) over defaults.
//! A bad value stops start-up with one line naming the setting.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Every setting. Field names are the TOML keys; upper-cased with the `UNIONHALL_`
/// prefix they are the environment variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on.
    #[serde(deserialize_with = "string_like")]
    pub bind: String,
    /// Directory for the embedded database and the generated JWT secret.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: a SQLite file in `data_dir`.
    #[serde(deserialize_with = "optional_string_like")]
    pub database_url: Option<String>,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Maximum pooled database connections. 8 by default: on two cores shared with
    /// PostgreSQL, 16 write transactions at once did no more submissions a second than
    /// 8 and doubled a leaderboard poll's p99 beside them (`BENCHMARKS.md`).
    pub db_max_connections: u32,
    /// Connections kept open when idle.
    pub db_min_connections: u32,
    /// A second, small pool for the reads that must not queue behind write
    /// transactions for a connection: who the caller is (every request) and quiz
    /// leaderboards.
    pub db_read_connections: u32,
    /// The oldest, in milliseconds, a quiz leaderboard's first page served from an
    /// instance's memory may be (re-read in the background from half that age); 0
    /// reads it on every request.
    pub leaderboard_cache_ms: u64,
    /// How many organisation pages an instance keeps for reuse while the tree is
    /// unchanged (see `page_cache`); 0 builds every page anew.
    pub org_page_cache_entries: usize,
    /// Seconds to wait for a pooled connection before answering 503.
    pub db_acquire_timeout_secs: u64,
    /// HMAC secret for access tokens (≥ 32 bytes). Required with PostgreSQL; generated
    /// and kept in `data_dir` otherwise.
    #[serde(deserialize_with = "optional_string_like")]
    pub jwt_secret: Option<String>,
    /// Key for personal data (ID numbers, phones): 64 hex characters (32 bytes), used
    /// to encrypt them and to key their lookup hashes. Required with PostgreSQL;
    /// generated and kept in `data_dir` otherwise. Losing it loses the data.
    #[serde(deserialize_with = "optional_string_like")]
    pub pii_key: Option<String>,
    /// Earlier secrets still accepted for verification during a rotation, comma-separated.
    #[serde(deserialize_with = "string_like")]
    pub jwt_previous_secrets: String,
    /// `iss` of issued tokens, enforced on verification.
    #[serde(deserialize_with = "string_like")]
    pub jwt_issuer: String,
    /// `aud` of issued tokens, enforced on verification.
    #[serde(deserialize_with = "string_like")]
    pub jwt_audience: String,
    /// Access token lifetime in seconds.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime in seconds.
    pub refresh_token_ttl_secs: u64,
    /// Largest accepted request body in bytes (413 beyond).
    pub body_limit_bytes: usize,
    /// Largest accepted rider-roster sync body in bytes (413 beyond).
    pub roster_body_limit_bytes: usize,
    /// Page size when `limit` is absent.
    pub default_page_size: u64,
    /// Largest `limit` accepted (422 beyond).
    pub max_page_size: u64,
    /// Failed logins per account per window before 429.
    pub login_max_failures_per_account: u32,
    /// Failed logins per client address per window before 429.
    pub login_max_failures_per_ip: u32,
    /// The login throttling window in seconds.
    pub login_window_secs: u64,
    /// Anonymous join applications per client address per login window before 429.
    pub join_max_per_ip: u32,
    /// Requests a minute each client address may make to the public (token-less)
    /// endpoints — the station search and check-ins — before 429; as many may come at
    /// once. Counted in each instance's memory.
    pub public_requests_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// Origins allowed by CORS, comma-separated; empty allows none.
    #[serde(deserialize_with = "string_like")]
    pub cors_origins: String,
    /// Seconds a request may take before it is answered 503.
    pub request_timeout_secs: u64,
    /// The same for bulk writes (roster syncs, group enrollments), which may carry
    /// hundreds of thousands of rows in one transaction.
    pub bulk_request_timeout_secs: u64,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// `text` or `json` log lines.
    #[serde(deserialize_with = "string_like")]
    pub log_format: String,
    /// Name of the root organisation created on an empty database.
    #[serde(deserialize_with = "string_like")]
    pub root_org_name: String,
    /// Code of the root organisation created on an empty database.
    #[serde(deserialize_with = "string_like")]
    pub root_org_code: String,
    /// Region code of the root organisation.
    #[serde(deserialize_with = "string_like")]
    pub root_org_region_code: String,
    /// Username of the first federation admin.
    #[serde(deserialize_with = "string_like")]
    pub admin_username: String,
    /// Password of the first federation admin; generated and printed once when unset.
    #[serde(deserialize_with = "optional_string_like")]
    pub admin_password: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            migrate_on_start: true,
            db_max_connections: 8,
            db_min_connections: 1,
            db_read_connections: 4,
            leaderboard_cache_ms: 1000,
            org_page_cache_entries: 256,
            db_acquire_timeout_secs: 5,
            jwt_secret: None,
            pii_key: None,
            jwt_previous_secrets: String::new(),
            jwt_issuer: "unionhall".into(),
            jwt_audience: "unionhall-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            body_limit_bytes: 1024 * 1024,
            roster_body_limit_bytes: 64 * 1024 * 1024,
            default_page_size: 50,
            max_page_size: 200,
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 20,
            login_window_secs: 15 * 60,
            join_max_per_ip: 10,
            public_requests_per_minute: 120,
            trust_forwarded_for: false,
            cors_origins: String::new(),
            request_timeout_secs: 30,
            bulk_request_timeout_secs: 600,
            shutdown_timeout_secs: 30,
            workers: 0,
            log_format: "text".into(),
            root_org_name: "江西省总工会".into(),
            root_org_code: "jxftu".into(),
            root_org_region_code: "360000".into(),
            admin_username: "admin".into(),
            admin_password: None,
        }
    }
}

/// Environment values are parsed loosely (`UNIONHALL_ROOT_ORG_REGION_CODE=360000` arrives
/// as a number), so text settings accept any scalar and keep its text.
fn string_like<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("text")
        }
        fn visit_str<E>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_i64<E>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i128<E>(self, v: i128) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u128<E>(self, v: u128) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(Text)
}

fn optional_string_like<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    struct MaybeText;
    impl<'de> serde::de::Visitor<'de> for MaybeText {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("text or nothing")
        }
        fn visit_none<E>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
            string_like(d).map(Some)
        }
    }
    d.deserialize_option(MaybeText)
}

/// A setting that can't be used, named so the operator can fix it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {setting}: {reason}")]
pub struct ConfigError {
    pub setting: String,
    pub reason: String,
}

fn bad(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_owned(),
        reason: reason.into(),
    }
}

/// The storage engine a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Config {
    /// Loads defaults, then the TOML file, then the environment, and checks the result.
    pub fn load() -> Result<Config, ConfigError> {
        let file = std::env::var("UNIONHALL_CONFIG").unwrap_or_else(|_| "unionhall.toml".into());
        // Every value from the environment is taken as a string: a numeric-looking
        // secret must not become a number. Typed fields parse their strings below.
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("UNIONHALL_").ignore(&["CONFIG", "TEST_POSTGRES_URL"]));
        let config: Config = figment.extract().map_err(|e| {
            let setting = e.path.last().map_or_else(
                || "(file)".to_owned(),
                |k| format!("UNIONHALL_{}", k.to_uppercase()),
            );
            bad(&setting, e.kind.to_string())
        })?;
        config.check()?;
        Ok(config)
    }

    /// Checks values that parse but can't work.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.bind.parse::<std::net::SocketAddr>().map_err(|e| {
            bad(
                "UNIONHALL_BIND",
                format!("`{}` is not host:port ({e})", self.bind),
            )
        })?;
        let url = self.database_url();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(bad(
                "UNIONHALL_DATABASE_URL",
                "must start with sqlite: or postgres://",
            ));
        }
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < 32 {
                return Err(bad("UNIONHALL_JWT_SECRET", "must be at least 32 bytes"));
            }
        } else if self.backend() == Backend::Postgres {
            return Err(bad(
                "UNIONHALL_JWT_SECRET",
                "required with PostgreSQL: every node must sign with the same secret",
            ));
        }
        if let Some(key) = &self.pii_key {
            if !crate::pii::is_valid_key(key) {
                return Err(bad(
                    "UNIONHALL_PII_KEY",
                    "must be 64 hexadecimal characters (32 bytes)",
                ));
            }
        } else if self.backend() == Backend::Postgres {
            return Err(bad(
                "UNIONHALL_PII_KEY",
                "required with PostgreSQL: every node must seal personal data with the same key",
            ));
        }
        if self.previous_jwt_secrets().iter().any(|s| s.len() < 32) {
            return Err(bad(
                "UNIONHALL_JWT_PREVIOUS_SECRETS",
                "each secret must be at least 32 bytes",
            ));
        }
        if self.jwt_issuer.is_empty() {
            return Err(bad("UNIONHALL_JWT_ISSUER", "must not be empty"));
        }
        if self.jwt_audience.is_empty() {
            return Err(bad("UNIONHALL_JWT_AUDIENCE", "must not be empty"));
        }
        let positive: [(&str, u64); 8] = [
            (
                "UNIONHALL_ACCESS_TOKEN_TTL_SECS",
                self.access_token_ttl_secs,
            ),
            (
                "UNIONHALL_REFRESH_TOKEN_TTL_SECS",
                self.refresh_token_ttl_secs,
            ),
            ("UNIONHALL_DEFAULT_PAGE_SIZE", self.default_page_size),
            ("UNIONHALL_MAX_PAGE_SIZE", self.max_page_size),
            ("UNIONHALL_LOGIN_WINDOW_SECS", self.login_window_secs),
            ("UNIONHALL_REQUEST_TIMEOUT_SECS", self.request_timeout_secs),
            (
                "UNIONHALL_BULK_REQUEST_TIMEOUT_SECS",
                self.bulk_request_timeout_secs,
            ),
            (
                "UNIONHALL_DB_ACQUIRE_TIMEOUT_SECS",
                self.db_acquire_timeout_secs,
            ),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(bad(name, "must be greater than 0"));
        }
        if self.public_requests_per_minute == 0 {
            return Err(bad(
                "UNIONHALL_PUBLIC_REQUESTS_PER_MINUTE",
                "must be greater than 0",
            ));
        }
        if self.default_page_size > self.max_page_size {
            return Err(bad(
                "UNIONHALL_DEFAULT_PAGE_SIZE",
                "must not exceed UNIONHALL_MAX_PAGE_SIZE",
            ));
        }
        if self.body_limit_bytes < 1024 {
            return Err(bad("UNIONHALL_BODY_LIMIT_BYTES", "must be at least 1024"));
        }
        if self.roster_body_limit_bytes < 1024 {
            return Err(bad(
                "UNIONHALL_ROSTER_BODY_LIMIT_BYTES",
                "must be at least 1024",
            ));
        }
        if self.db_max_connections == 0 || self.db_min_connections > self.db_max_connections {
            return Err(bad(
                "UNIONHALL_DB_MAX_CONNECTIONS",
                "must be ≥ 1 and ≥ UNIONHALL_DB_MIN_CONNECTIONS",
            ));
        }
        if self.db_read_connections == 0 {
            return Err(bad("UNIONHALL_DB_READ_CONNECTIONS", "must be ≥ 1"));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(bad("UNIONHALL_LOG_FORMAT", "must be `text` or `json`"));
        }
        if let Some(origin) = self
            .cors_origin_list()
            .into_iter()
            .find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(bad(
                "UNIONHALL_CORS_ORIGINS",
                format!("`{origin}` is not an http(s) origin"),
            ));
        }
        unionhall_domain::orgs::check_region_code(&self.root_org_region_code)
            .map_err(|e| bad("UNIONHALL_ROOT_ORG_REGION_CODE", e.to_string()))?;
        unionhall_domain::users::check_username(&self.admin_username)
            .map_err(|e| bad("UNIONHALL_ADMIN_USERNAME", e.to_string()))?;
        if let Some(password) = &self.admin_password {
            unionhall_domain::users::check_password(password)
                .map_err(|e| bad("UNIONHALL_ADMIN_PASSWORD", e.to_string()))?;
        }
        Ok(())
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("unionhall.db").display()
            )
        })
    }

    /// Which engine the URL selects.
    pub fn backend(&self) -> Backend {
        if self.database_url().starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// Verification-only secrets.
    pub fn previous_jwt_secrets(&self) -> Vec<String> {
        split_list(&self.jwt_previous_secrets)
    }

    /// CORS origins.
    pub fn cors_origin_list(&self) -> Vec<String> {
        split_list(&self.cors_origins)
    }

    /// The database pool settings.
    pub fn pool(&self) -> unionhall_persistence::db::PoolSettings {
        unionhall_persistence::db::PoolSettings {
            max_connections: self.db_max_connections,
            min_connections: self.db_min_connections,
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout_secs),
        }
    }

    /// The read pool's settings: `db_read_connections`, all kept open.
    pub fn read_pool(&self) -> unionhall_persistence::db::PoolSettings {
        unionhall_persistence::db::PoolSettings {
            max_connections: self.db_read_connections,
            min_connections: self.db_min_connections.min(self.db_read_connections),
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout_secs),
        }
    }

    /// One HTTP worker's share of the two pools, when each worker has its own (on
    /// PostgreSQL, see `server::serve`): every size divided between `workers`, rounded
    /// up, so the instance holds at most a connection more per pool and worker than
    /// configured.
    pub fn worker_pools(
        &self,
        workers: usize,
    ) -> (
        unionhall_persistence::db::PoolSettings,
        unionhall_persistence::db::PoolSettings,
    ) {
        let workers = u32::try_from(workers.max(1)).unwrap_or(u32::MAX);
        let share = |settings: unionhall_persistence::db::PoolSettings| {
            unionhall_persistence::db::PoolSettings {
                max_connections: settings.max_connections.div_ceil(workers),
                min_connections: settings.min_connections.div_ceil(workers),
                ..settings
            }
        };
        (share(self.pool()), share(self.read_pool()))
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::result_large_err)]
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().check().unwrap();
    }

    #[test]
    fn worker_pools_share_the_sizes_out_rounding_up() {
        let config = Config {
            db_max_connections: 9,
            db_min_connections: 1,
            db_read_connections: 4,
            ..Config::default()
        };
        let (pool, reads) = config.worker_pools(2);
        assert_eq!((pool.max_connections, pool.min_connections), (5, 1));
        assert_eq!((reads.max_connections, reads.min_connections), (2, 1));
        let (pool, reads) = config.worker_pools(16);
        assert_eq!((pool.max_connections, reads.max_connections), (1, 1));
        let (pool, _) = config.worker_pools(0);
        assert_eq!(pool.max_connections, 9);
    }

    #[test]
    fn postgres_needs_a_secret() {
        let config = Config {
            database_url: Some("postgres://x@localhost/db".into()),
            ..Config::default()
        };
        let err = config.check().unwrap_err();
        assert_eq!(err.setting, "UNIONHALL_JWT_SECRET");
    }

    #[test]
    fn postgres_needs_a_pii_key_and_keys_are_hex() {
        let config = Config {
            database_url: Some("postgres://x@localhost/db".into()),
            jwt_secret: Some("x".repeat(32)),
            ..Config::default()
        };
        assert_eq!(config.check().unwrap_err().setting, "UNIONHALL_PII_KEY");
        let config = Config {
            pii_key: Some("ab".repeat(32)),
            ..config
        };
        config.check().unwrap();
        let config = Config {
            pii_key: Some("not hex".into()),
            ..Config::default()
        };
        assert_eq!(config.check().unwrap_err().setting, "UNIONHALL_PII_KEY");
    }

    #[test]
    fn bad_values_name_their_setting() {
        let config = Config {
            bind: "nowhere".into(),
            ..Config::default()
        };
        assert_eq!(config.check().unwrap_err().setting, "UNIONHALL_BIND");
        let config = Config {
            max_page_size: 10,
            ..Config::default()
        };
        assert_eq!(
            config.check().unwrap_err().setting,
            "UNIONHALL_DEFAULT_PAGE_SIZE"
        );
        let config = Config {
            jwt_secret: Some("short".into()),
            ..Config::default()
        };
        assert_eq!(config.check().unwrap_err().setting, "UNIONHALL_JWT_SECRET");
        let config = Config {
            db_read_connections: 0,
            ..Config::default()
        };
        assert_eq!(
            config.check().unwrap_err().setting,
            "UNIONHALL_DB_READ_CONNECTIONS"
        );
    }

    #[test]
    fn environment_strings_stay_strings() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "UNIONHALL_JWT_SECRET",
                "12345678901234567890123456789012345",
            );
            jail.set_env("UNIONHALL_BODY_LIMIT_BYTES", "4096");
            jail.set_env("UNIONHALL_ADMIN_PASSWORD", "1234567890123");
            jail.set_env("UNIONHALL_ROOT_ORG_REGION_CODE", "360000");
            let config = Config::load().map_err(|e| e.to_string())?;
            assert_eq!(
                config.jwt_secret.as_deref(),
                Some("12345678901234567890123456789012345")
            );
            assert_eq!(config.admin_password.as_deref(), Some("1234567890123"));
            assert_eq!(config.body_limit_bytes, 4096);
            assert_eq!(config.root_org_region_code, "360000");
            Ok(())
        });
    }

    #[test]
    fn an_unparseable_number_names_the_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("UNIONHALL_MAX_PAGE_SIZE", "lots");
            let err = Config::load().unwrap_err();
            assert_eq!(err.setting, "UNIONHALL_MAX_PAGE_SIZE");
            Ok(())
        });
    }
}
