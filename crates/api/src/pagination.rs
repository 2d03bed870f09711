//! Cursor pagination: `limit` (default and maximum from configuration; over the maximum
//! is a 422, not a silent clamp) and an opaque `cursor`; answers carry `next_cursor`.

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::json;
use actix_web::HttpResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use unionhall_persistence::{Page, PageRequest};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

/// A page of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema + Serialize> ListResponse<T> {
    /// The 200 response with this page as its body. The body's buffer starts at a size
    /// that fits most pages (items are a few hundred bytes of JSON each), so a page of
    /// 50 is written once instead of being copied at every doubling.
    pub fn respond(&self) -> ApiResult<HttpResponse> {
        Ok(json::ok_body(self.body()?))
    }

    /// The page's JSON text, as `respond` sends it.
    pub fn body(&self) -> ApiResult<Vec<u8>> {
        json::body_with_capacity(self, 128 + 512 * self.items.len())
    }
}

impl<T: ToSchema> ListResponse<T> {
    /// Converts a storage page, encoding where the next one starts.
    pub fn from_page<S>(page: Page<S>, f: impl FnMut(S) -> T) -> Self {
        let next_cursor = page.next_after.map(encode_cursor);
        ListResponse {
            items: page.items.into_iter().map(f).collect(),
            next_cursor,
        }
    }
}

const CURSOR_PREFIX: &str = "uh1:";

/// Encodes the position after `id`. Opaque to clients; versioned for us.
pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(CURSOR_PREFIX)?.parse().ok()
}

/// Checks `limit` and `cursor` and turns them into a storage page request.
pub fn page_request(
    config: &Config,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(config.default_page_size);
    if limit == 0 || limit > config.max_page_size {
        return Err(ApiError::field(
            "/limit",
            "range",
            format!("limit must be between 1 and {}", config.max_page_size),
        ));
    }
    let after = match cursor {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::field("/cursor", "cursor", "cursor is not one this service issued")
        })?),
    };
    Ok(PageRequest { limit, after })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode(id.to_string())), None);
    }

    #[test]
    fn limits_are_checked_not_clamped() {
        let config = Config::default();
        assert_eq!(page_request(&config, None, None).unwrap().limit, 50);
        assert_eq!(page_request(&config, Some(200), None).unwrap().limit, 200);
        assert!(page_request(&config, Some(201), None).is_err());
        assert!(page_request(&config, Some(0), None).is_err());
        assert!(page_request(&config, None, Some("zzz")).is_err());
    }
}

/// The query of a list with no filters of its own: just a page position. Lists with
/// filters repeat these two fields in their own query (serde can't flatten into a
/// struct that denies unknown fields).
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    #[validate(length(max = 200))]
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}
