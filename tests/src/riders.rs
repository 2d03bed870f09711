//! Valid delivery riders for roster syncs, generated from a serial number: each serial
//! is a different person (ID number, phone, `external_id`).

use chrono::{Days, NaiveDate};
use serde_json::{Value, json};

/// A valid resident ID number from Ji'an born in 1990 with serial `n` (0..=99_999):
/// born `n / 1000` days after 1 January 1990, sequence `n % 1000`, so every serial
/// gives a different number.
pub fn id_number(n: u32) -> String {
    assert!(n < 100_000, "serial {n} is out of range");
    let birth = NaiveDate::from_ymd_opt(1990, 1, 1)
        .and_then(|d| d.checked_add_days(Days::new(u64::from(n / 1000))))
        .expect("a date in 1990");
    let body = format!("360802{}{:03}", birth.format("%Y%m%d"), n % 1000);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// The `external_id` of rider `n`.
pub fn external_id(n: u32) -> String {
    format!("R-{n:05}")
}

/// Rider `n` as a platform sends it.
pub fn rider(n: u32, consent: bool) -> Value {
    json!({
        "external_id": external_id(n),
        "name": "骑手张",
        "phone": format!("139{:08}", n),
        "id_number": id_number(n),
        "region_code": "360802",
        "started_on": "2024-03-01",
        "consent_to_join": consent,
    })
}
