//! What an error response needs to know about the request it answers (its id and
//! path), carried in a task-local set by the request middleware for the duration of
//! the request, so `ApiError` can render a complete problem from anywhere.

use std::cell::RefCell;

/// The request being served.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
}

tokio::task_local! {
    static CONTEXT: RefCell<RequestContext>;
}

/// Runs `fut` with `ctx` as the current request.
pub async fn scope<F: std::future::Future>(ctx: RequestContext, fut: F) -> F::Output {
    CONTEXT.scope(RefCell::new(ctx), fut).await
}

/// The current request, or an empty context outside a request (CLI, tests).
pub fn current() -> RequestContext {
    CONTEXT.try_with(|c| c.borrow().clone()).unwrap_or_default()
}
