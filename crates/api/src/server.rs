//! Building the application and running the HTTP server.

use crate::auth::Keys;
use crate::auth::callers::CallerLoader;
use crate::config::Config;
use crate::error::ApiError;
use crate::extract::{json_error, path_error, query_error};
use crate::metrics::Metrics;
use crate::openapi::ApiDoc;
use crate::pii::PiiCipher;
use crate::routes::competitions::Boards;
use crate::routes::orgs::OrgPages;
use crate::routes::stations::PublicLimiter;
use crate::state::AppState;
use crate::{bootstrap, middleware, routes};
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use unionhall_persistence::{Db, StoreError, connect, connect_lazy, migrate};
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

/// A start-up failure, with one line saying what to fix.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// Connects to the database, applies migrations (unless disabled), loads or creates the
/// JWT secret, and creates the root organisation and first admin on an empty database.
pub async fn prepare(config: Config) -> Result<AppState, StartError> {
    let db = open_database(&config).await?;
    let reads = connect(&config.database_url(), &config.read_pool())
        .await
        .map_err(|e| format!("can't open the database (UNIONHALL_DATABASE_URL): {e}"))?;
    if config.migrate_on_start {
        migrate(&db)
            .await
            .map_err(|e| format!("database migration failed: {e}"))?;
    }
    let secret = bootstrap::jwt_secret(&config)?;
    let keys = Keys::new(
        &secret,
        &config.previous_jwt_secrets(),
        &config.jwt_issuer,
        &config.jwt_audience,
        config.access_token_ttl_secs,
    )
    .map_err(|e| format!("configuration: UNIONHALL_JWT_SECRET: {e}"))?;
    let pii = PiiCipher::from_hex(&bootstrap::pii_key(&config)?)
        .map_err(|e| format!("configuration: UNIONHALL_PII_KEY: {e}"))?;
    bootstrap::first_start(&db, &config).await?;
    Ok(AppState {
        callers: Arc::new(CallerLoader::new(reads.clone())),
        reads,
        public_limiter: Arc::new(PublicLimiter::new(config.public_requests_per_minute)),
        boards: Arc::new(Boards::new(std::time::Duration::from_millis(
            config.leaderboard_cache_ms,
        ))),
        org_pages: Arc::new(OrgPages::new(config.org_page_cache_entries)),
        db,
        config: Arc::new(config),
        keys: Arc::new(keys),
        metrics: Arc::new(Metrics::default()),
        pii: Arc::new(pii),
    })
}

/// Opens the pool (creating the SQLite data directory when needed).
pub async fn open_database(config: &Config) -> Result<Db, StartError> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            format!(
                "configuration: UNIONHALL_DATA_DIR: can't create {}: {e}",
                config.data_dir.display()
            )
        })?;
    }
    connect(&config.database_url(), &config.pool())
        .await
        .map_err(|e: StoreError| {
            format!("can't open the database (UNIONHALL_DATABASE_URL): {e}").into()
        })
}

/// Deletes what has outlived its purpose — idempotency records past 24 h, login-failure
/// windows that have closed — once at start and then hourly. Safe on every node at once.
pub async fn housekeeping(state: AppState) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let window = i64::try_from(state.config.login_window_secs).unwrap_or(i64::MAX);
        let closed_before = chrono::Utc::now().timestamp().saturating_sub(window);
        let purged = async {
            let keys = unionhall_persistence::idempotency::purge_expired(&state.db).await?;
            let windows =
                unionhall_persistence::throttle::purge_before(&state.db, closed_before).await?;
            Ok::<_, StoreError>((keys, windows))
        };
        match purged.await {
            Ok((keys, windows)) => tracing::debug!(keys, windows, "housekeeping"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; will retry in an hour"),
        }
    }
}

/// The pools an HTTP worker queries through, called on the worker's own thread. On
/// PostgreSQL: pools of its own, opening their connections on this worker's runtime
/// (`connect_lazy` says why), the configured sizes shared out between the workers. On
/// SQLite: the instance's pools (its driver runs each connection on a thread of its
/// own, so there is no reactor to share), as when a worker's pool can't be made.
fn worker_pools(state: &AppState, workers: usize) -> (Db, Db) {
    let shared = (state.db.clone(), state.reads.clone());
    if state.config.backend() != crate::config::Backend::Postgres {
        return shared;
    }
    let url = state.config.database_url();
    let (pool, read_pool) = state.config.worker_pools(workers);
    match (connect_lazy(&url, &pool), connect_lazy(&url, &read_pool)) {
        (Ok(db), Ok(reads)) => (db, reads),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "a worker's own pools could not be made; it shares the instance's");
            shared
        }
    }
}

/// The served spec, compact (the committed file is the pretty-printed one); `None` if
/// it could not be serialised, which the route answers with a 500.
fn spec_bytes() -> Option<web::Bytes> {
    match serde_json::to_vec(&ApiDoc::openapi()) {
        Ok(json) => Some(web::Bytes::from(json)),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document does not serialise");
            None
        }
    }
}

/// Binds and starts serving on `listener`. The returned server stops gracefully on
/// SIGTERM/SIGINT: in-flight requests finish (up to the shutdown timeout), then it exits.
pub fn serve(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let workers = match state.config.workers {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let shutdown = state.config.shutdown_timeout_secs;
    let data = web::Data::new(state);
    // Built on the first request for it, then shared by every worker. Building it runs
    // utoipa's generated code for every path and schema: done at start, that code's
    // pages and the build's scratch memory were about 12 of the 41 MB an idle instance
    // held, for a document most instances are never asked for.
    let spec: Arc<OnceLock<Option<web::Bytes>>> = Arc::new(OnceLock::new());
    let server = HttpServer::new(move || {
        let spec = spec.clone();
        // Each worker queries through pools of its own (on PostgreSQL; see
        // `worker_pools`) and batches its own requests' caller lookups (see
        // `auth::callers`).
        let (db, reads) = worker_pools(&data, workers);
        let data = web::Data::new(AppState {
            callers: Arc::new(CallerLoader::new(reads.clone())),
            db,
            reads,
            ..AppState::clone(&data)
        });
        let cors = data
            .config
            .cors_origin_list()
            .into_iter()
            .fold(Cors::default(), |cors, origin| cors.allowed_origin(&origin))
            .allow_any_method()
            .allow_any_header()
            .expose_headers(["ETag", "Location", "X-Request-Id", "Retry-After"])
            .max_age(3600);
        App::new()
            .app_data(data.clone())
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::JsonConfig::default().error_handler(json_error))
            .wrap(cors)
            .wrap(from_fn(middleware::observe))
            .configure(routes::configure)
            .service(
                routes::Endpoint::at("/openapi.json")
                    .get(move || {
                        let spec = spec.get_or_init(spec_bytes).clone();
                        async move {
                            let spec = spec.ok_or_else(ApiError::internal)?;
                            Ok::<_, ApiError>(
                                HttpResponse::Ok()
                                    .content_type("application/json")
                                    .body(spec),
                            )
                        }
                    })
                    .build(),
            )
            .service(web::redirect("/docs", "/docs/"))
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(SwaggerConfig::new(["/openapi.json"]).validator_url("none")),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::not_found("route"))
            }))
    })
    .workers(workers)
    .shutdown_timeout(shutdown)
    .listen(listener)?
    .run();
    Ok(server)
}
