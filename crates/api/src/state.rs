//! What every handler can reach: the pool, the configuration, the token keys, the
//! personal-data cipher and the metrics registry. Nothing per-user lives here, so nodes stay interchangeable.

use crate::auth::Keys;
use crate::auth::callers::CallerLoader;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::pii::PiiCipher;
use crate::routes::competitions::Boards;
use crate::routes::orgs::OrgPages;
use crate::routes::stations::PublicLimiter;
use std::sync::Arc;
use unionhall_persistence::Db;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// A small pool of its own for reads that must not wait behind writes for a
    /// connection (`db_read_connections`): caller lookups and leaderboards.
    pub reads: Db,
    pub config: Arc<Config>,
    pub keys: Arc<Keys>,
    pub metrics: Arc<Metrics>,
    /// Seals and unseals personal data.
    pub pii: Arc<PiiCipher>,
    /// Reads the caller of each request, batching concurrent lookups. One per worker.
    pub callers: Arc<CallerLoader>,
    /// Limits anonymous requests to the public endpoints per client address; one for
    /// all workers of this instance.
    pub public_limiter: Arc<PublicLimiter>,
    /// The tops of quiz leaderboards, kept for `leaderboard_cache_ms`; one for all
    /// workers of this instance.
    pub boards: Arc<Boards>,
    /// Organisation pages kept while the tree is unchanged; one for all workers of this
    /// instance.
    pub org_pages: Arc<OrgPages>,
}

/// The extractor handlers use.
pub type State = actix_web::web::Data<AppState>;
