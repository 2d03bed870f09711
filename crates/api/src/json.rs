//! JSON response bodies, written the cheap way.
//!
//! Two costs showed in profiles of the list endpoints (a page of 50 is 17 KB of JSON):
//! serde_json's `collect_str`, through which chrono serialises every timestamp, escapes
//! each of the twenty-odd fragments chrono writes one `write_char` at a time (~1,100
//! instructions a timestamp, a tenth of a page's cost); and a body serialised into an
//! empty buffer is copied again at every doubling. Here a timestamp is written digit by
//! digit (the same text as chrono's, to the byte: the tests compare them), and bodies
//! start with a capacity that fits the usual page.

use crate::error::{ApiError, ApiResult};
use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::{Serialize, Serializer};

/// Serialises a timestamp exactly as chrono's own `Serialize` does
/// (`2026-11-30T08:32:00.123456Z`: RFC 3339, UTC as `Z`, fractional seconds only as many
/// as needed, in groups of three), written digit by digit into a stack buffer and handed
/// to the serializer whole. Use with `#[serde(serialize_with = "json::timestamp")]`.
pub fn timestamp<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = [0u8; 30];
    match rfc3339(at, &mut text) {
        Some(len) => {
            serializer.serialize_str(std::str::from_utf8(&text[..len]).unwrap_or_default())
        }
        // Years outside 0..=9999 (chrono writes a sign and more digits): chrono's path.
        None => serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// Writes `at` as chrono's `to_rfc3339_opts(SecondsFormat::AutoSi, true)` would into
/// `out` and returns the length, or `None` for a year outside 0..=9999.
fn rfc3339(at: &DateTime<Utc>, out: &mut [u8; 30]) -> Option<usize> {
    let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999)?;
    let mut second = at.second();
    let mut nano = at.nanosecond();
    // chrono keeps a leap second as nanoseconds past 1e9 and prints it as second 60.
    if nano >= 1_000_000_000 {
        second += 1;
        nano -= 1_000_000_000;
    }
    let mut len = 0;
    let mut put = |digits: u32, mut value: u32, after: Option<u8>| {
        for i in (0..digits as usize).rev() {
            out[len + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        len += digits as usize;
        if let Some(byte) = after {
            out[len] = byte;
            len += 1;
        }
    };
    put(4, year, Some(b'-'));
    put(2, at.month(), Some(b'-'));
    put(2, at.day(), Some(b'T'));
    put(2, at.hour(), Some(b':'));
    put(2, at.minute(), Some(b':'));
    put(2, second, None);
    let (digits, fraction) = match nano {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (3, n / 1_000_000),
        n if n % 1_000 == 0 => (6, n / 1_000),
        n => (9, n),
    };
    if digits > 0 {
        put(0, 0, Some(b'.'));
        put(digits, fraction, None);
    }
    put(0, 0, Some(b'Z'));
    Some(len)
}

/// `value` as JSON text, written into a buffer of `capacity` bytes to start with (a
/// guess at the body's size; it grows if short).
pub fn body_with_capacity<T: Serialize>(value: &T, capacity: usize) -> ApiResult<Vec<u8>> {
    let mut body = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut body, value).map_err(|e| {
        tracing::error!(error = %e, "a response body does not serialise");
        ApiError::internal()
    })?;
    Ok(body)
}

/// A 200 response with a JSON body already written (by `body_with_capacity`).
pub fn ok_body(body: impl Into<Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(body.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn ours(at: DateTime<Utc>) -> String {
        let mut out = Vec::new();
        timestamp(&at, &mut serde_json::Serializer::new(&mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn chronos(at: DateTime<Utc>) -> String {
        serde_json::to_string(&at).unwrap()
    }

    #[test]
    fn timestamps_read_exactly_as_chrono_writes_them() {
        let base = NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(8, 3, 9)
            .unwrap();
        for nano in [
            0,
            1,
            7,
            999,
            1_000,
            120_000,
            123_456,
            1_000_000,
            5_000_000,
            100_000_000,
            123_456_789,
            999_999_999,
        ] {
            let at = Utc.from_utc_datetime(&base) + chrono::Duration::nanoseconds(nano);
            assert_eq!(ours(at), chronos(at), "{nano} ns");
        }
        for (y, m, d) in [
            (0, 1, 1),
            (1, 2, 3),
            (999, 12, 31),
            (1970, 1, 1),
            (9999, 12, 31),
        ] {
            let at = Utc.with_ymd_and_hms(y, m, d, 23, 59, 59).unwrap();
            assert_eq!(ours(at), chronos(at), "{y}-{m}-{d}");
        }
    }

    #[test]
    fn leap_seconds_and_far_years_take_chronos_text_too() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        let at = Utc.from_utc_datetime(&leap);
        assert_eq!(ours(at), chronos(at));
        assert_eq!(ours(at), "\"2016-12-31T23:59:60.500Z\"");
        for year in [-1, 10_000, 262_000] {
            let at = Utc.with_ymd_and_hms(year, 6, 1, 0, 0, 0).unwrap();
            assert_eq!(ours(at), chronos(at), "{year}");
        }
    }
}
