//! Who is calling: every authenticated request re-reads its caller (roles, reach,
//! disabled flag) so that a disabled account or a removed role stops at once. Under
//! load that lookup is most of the database work a request does, so requests that
//! wait at the same moment share one query.
//!
//! How: each actix worker has a `CallerLoader`. A request sends its user id to the
//! worker's batching task and awaits the answer. The task keeps up to `IN_FLIGHT`
//! lookups running; while they are busy, new ids queue, and the next lookup takes all
//! of them (up to `MAX_BATCH`) with one `WHERE id IN (…)`. An idle service therefore
//! answers a lone request with one query, immediately (no timer, no added latency),
//! and a busy one does one query for many requests. Every answer is read after its
//! request arrived, so freshness is the same as a query per request.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use tokio::sync::{Semaphore, mpsc, oneshot};
use unionhall_domain::UserId;
use unionhall_domain::users::Caller;
use unionhall_persistence::{Db, StoreError, users};

/// How many ids one query carries at most.
const MAX_BATCH: usize = 64;
/// How many lookups one worker runs at once.
const IN_FLIGHT: usize = 4;

type Answer = Result<Option<Caller>, StoreError>;
type Ask = (UserId, oneshot::Sender<Answer>);

/// Looks callers up in batches. Create one per actix worker (`server::serve` does): the
/// batching task runs on the runtime of the first request that uses the loader.
pub struct CallerLoader {
    db: Db,
    asks: OnceLock<mpsc::UnboundedSender<Ask>>,
}

impl CallerLoader {
    pub fn new(db: Db) -> Self {
        CallerLoader {
            db,
            asks: OnceLock::new(),
        }
    }

    /// The caller with this id, read after this call began; `None` when the account no
    /// longer exists.
    pub async fn load(&self, user_id: UserId) -> Answer {
        let asks = self.asks.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(batch_lookups(self.db.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        if asks.send((user_id, reply)).is_err() {
            // The task is gone (its runtime shut down): ask directly.
            return users::caller(&self.db, user_id).await;
        }
        match answer.await {
            Ok(answer) => answer,
            Err(_) => users::caller(&self.db, user_id).await,
        }
    }
}

/// The batching task: ends when every sender (the loader) is gone.
async fn batch_lookups(db: Db, mut asks: mpsc::UnboundedReceiver<Ask>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // Wait for a free slot first: while all are busy, asks queue up and the next
        // lookup takes them together.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        if asks.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let taken = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
        let db = db.clone();
        tokio::spawn(async move {
            answer_all(&db, taken).await;
            drop(slot);
        });
    }
}

async fn answer_all(db: &Db, asks: Vec<Ask>) {
    let mut ids: Vec<UserId> = asks.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    match users::callers(db, &ids).await {
        Ok(found) => answer_each(asks, &found),
        Err(e) => {
            for (_, reply) in asks {
                let _ = reply.send(Err(same_error(&e)));
            }
        }
    }
}

fn answer_each(asks: Vec<Ask>, found: &HashMap<UserId, Caller>) {
    for (id, reply) in asks {
        // A request that gave up (client gone, timeout) no longer listens: fine.
        let _ = reply.send(Ok(found.get(&id).cloned()));
    }
}

/// One failure, told to every waiting request: unavailability stays unavailability
/// (503); anything else stays an internal error, with its message for the log.
fn same_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Db(sea_orm::DbErr::Custom(other.to_string())),
    }
}
