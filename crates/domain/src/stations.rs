//! Outdoor-worker service stations: places where riders, couriers and other outdoor
//! workers rest, charge phones and heat meals. What a station offers, whether it is open
//! now, how a radius search is bounded, and the visit counts it keeps.
//!
//! Conventions the rest of the service relies on:
//!
//! - **Hours** are the palaces' weekly [`OpeningHours`] (the same JSON), in the
//!   operator organisation's time zone; a station has no slot grid, so any minute is a
//!   valid opening time ([`check_hours`]). A range can't cross midnight: a station open
//!   20:00–02:00 says `20:00–24:00` one day and `00:00–02:00` the next.
//! - **Open now** means status `open` and the local wall-clock time of `now` inside one
//!   of the day's ranges ([`open_at`]).
//! - **Amenities** are a set, stored as a bit mask whose bits never change meaning
//!   ([`Amenity::bit`]); a search asks for stations that have all of those it names.
//! - **Visits** are anonymous counts per station per local day: nothing about the
//!   visitor is kept.

use crate::insurance::{FieldProblem, wire_enum};
use crate::palaces::OpeningHours;
use chrono::{DateTime, Datelike, Months, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

wire_enum!(
    /// Something a station offers.
    Amenity {
        /// Seats or a rest area.
        Rest => "rest",
        /// Phone and e-bike battery charging.
        Charging => "charging",
        /// A microwave or food warmer.
        MealHeating => "meal_heating",
        DrinkingWater => "drinking_water",
        Toilet => "toilet",
        /// A first-aid kit.
        FirstAid => "first_aid",
        Wifi => "wifi",
    }
);

impl Amenity {
    /// The amenity's bit in the stored mask. Fixed forever: stored rows depend on it,
    /// so a new amenity takes a new bit and none is ever reused.
    pub fn bit(self) -> i32 {
        match self {
            Amenity::Rest => 1,
            Amenity::Charging => 1 << 1,
            Amenity::MealHeating => 1 << 2,
            Amenity::DrinkingWater => 1 << 3,
            Amenity::Toilet => 1 << 4,
            Amenity::FirstAid => 1 << 5,
            Amenity::Wifi => 1 << 6,
        }
    }
}

/// A set of amenities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amenities(i32);

impl Amenities {
    /// The set stored as `mask`; None when it has a bit no amenity owns.
    pub fn from_mask(mask: i32) -> Option<Amenities> {
        let known = Amenity::ALL.iter().fold(0, |m, a| m | a.bit());
        (mask & !known == 0).then_some(Amenities(mask))
    }

    /// The stored form.
    pub fn mask(self) -> i32 {
        self.0
    }

    /// Whether nothing is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `a` is in the set.
    pub fn has(self, a: Amenity) -> bool {
        self.0 & a.bit() != 0
    }

    /// Whether every amenity of `wanted` is in the set.
    pub fn has_all(self, wanted: Amenities) -> bool {
        self.0 & wanted.0 == wanted.0
    }

    /// The set with `a` added.
    pub fn with(self, a: Amenity) -> Amenities {
        Amenities(self.0 | a.bit())
    }

    /// The members, in the order the spec lists them.
    pub fn to_vec(self) -> Vec<Amenity> {
        Amenity::ALL
            .iter()
            .copied()
            .filter(|a| self.has(*a))
            .collect()
    }

    /// A set from a station's list; naming one twice is a problem at that entry
    /// (`/amenities/2`).
    pub fn from_list(list: &[Amenity]) -> Result<Amenities, FieldProblem> {
        let mut set = Amenities::default();
        for (i, a) in list.iter().enumerate() {
            if set.has(*a) {
                return Err(FieldProblem::new(
                    format!("/amenities/{i}"),
                    "duplicate",
                    format!("{a} is listed twice"),
                ));
            }
            set = set.with(*a);
        }
        Ok(set)
    }

    /// The set a search asks for: each value of `amenity` (the parameter may be
    /// repeated), itself a comma-separated list. An unknown or empty name is a problem
    /// at `/amenity`.
    pub fn from_query<'a>(
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<Amenities, FieldProblem> {
        let mut set = Amenities::default();
        for name in values.into_iter().flat_map(|v| v.split(',')) {
            let amenity = name.parse::<Amenity>().map_err(|()| {
                let known: Vec<&str> = Amenity::ALL.iter().map(|a| a.as_str()).collect();
                FieldProblem::new(
                    "/amenity",
                    "enum",
                    format!("unknown amenity {name:?}; one of {}", known.join(", ")),
                )
            })?;
            set = set.with(amenity);
        }
        Ok(set)
    }
}

wire_enum!(
    /// Whether a station is in service.
    StationStatus {
        /// In service, within its opening hours.
        Open => "open",
        /// Out of service for now (repairs, a holiday); expected back.
        TemporarilyClosed => "temporarily_closed",
        /// Out of service for good; kept for its history and visit counts.
        Closed => "closed",
    }
);

// ─── Hours ──────────────────────────────────────────────────────────────────

/// Passed to [`OpeningHours::validate`] as the slot length: not one of the palaces'
/// slot lengths, so it checks the ranges (order, overlap, count) and no grid.
const NO_SLOT_GRID: u32 = 0;

/// Every problem with a station's hours, pointing under `/opening_hours`: each range
/// ends after it starts, a day's ranges are in order and don't overlap, and a day has
/// at most [`MAX_RANGES_PER_DAY`](crate::palaces::MAX_RANGES_PER_DAY) of them. Any
/// minute may open or close.
pub fn check_hours(hours: &OpeningHours) -> Result<(), Vec<FieldProblem>> {
    hours.validate(NO_SLOT_GRID)
}

/// Whether a station with `status` and `hours` in `tz` is open at the instant `now`.
pub fn open_at(status: StationStatus, hours: &OpeningHours, tz: Tz, now: DateTime<Utc>) -> bool {
    if status != StationStatus::Open {
        return false;
    }
    let local = now.with_timezone(&tz);
    let minute = local.hour() * 60 + local.minute();
    hours
        .on(local.weekday())
        .iter()
        .any(|r| r.from.minutes() <= minute && minute < r.to.minutes())
}

/// The local date of `now` in `tz`: the day a visit counts for.
pub fn local_day(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

// ─── Search ─────────────────────────────────────────────────────────────────

/// The radius of a search that names none, metres: a few minutes' ride.
pub const DEFAULT_RADIUS_M: u32 = 3_000;

/// The largest radius a search may ask for, metres: a city and its outskirts. It
/// bounds the rows a search reads.
pub const MAX_RADIUS_M: u32 = 50_000;

/// Whether `radius_m` may be searched; the problem points at `/radius_m`.
pub fn check_radius(radius_m: u32) -> Result<(), FieldProblem> {
    if (1..=MAX_RADIUS_M).contains(&radius_m) {
        Ok(())
    } else {
        Err(FieldProblem::new(
            "/radius_m",
            "range",
            format!("radius_m must be 1 to {MAX_RADIUS_M} metres, not {radius_m}"),
        ))
    }
}

// ─── Contact ────────────────────────────────────────────────────────────────

/// A station's public phone number (a service desk or the 12351 union hotline, not a
/// person's): 3 to 30 characters of digits, spaces, `+`, `-` and parentheses, with at
/// least three digits. The problem points at `/phone`.
pub fn check_phone(phone: &str) -> Result<(), FieldProblem> {
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let length = phone.chars().count();
    if allowed && digits >= 3 && (3..=30).contains(&length) && phone.trim() == phone {
        Ok(())
    } else {
        Err(FieldProblem::new(
            "/phone",
            "phone",
            "a phone number is 3-30 characters of digits, spaces, '+', '-' and parentheses",
        ))
    }
}

// ─── Visits ─────────────────────────────────────────────────────────────────

/// The days a visit report covers when it names none: the last 30, today included.
pub const DEFAULT_VISIT_DAYS: u32 = 30;

/// The most days one visit report may cover: a year and a day, so a leap year fits.
pub const MAX_VISIT_DAYS: u32 = 366;

/// The days a visit report covers, both ends included: `to` defaults to `today`,
/// `from` to [`DEFAULT_VISIT_DAYS`] days ending at `to`. `from` after `to`, or more
/// than [`MAX_VISIT_DAYS`] days, is a problem (at `/from` or `/to`).
pub fn visit_range(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), FieldProblem> {
    let to = to.unwrap_or(today);
    let from = match from {
        Some(from) => from,
        None => to
            .checked_sub_days(chrono::Days::new(u64::from(DEFAULT_VISIT_DAYS - 1)))
            .unwrap_or(NaiveDate::MIN),
    };
    if from > to {
        return Err(FieldProblem::new(
            "/from",
            "after_to",
            format!("from ({from}) is after to ({to})"),
        ));
    }
    let days = (to - from).num_days() + 1;
    if days > i64::from(MAX_VISIT_DAYS) {
        return Err(FieldProblem::new(
            "/to",
            "range",
            format!("a report covers at most {MAX_VISIT_DAYS} days, not {days}"),
        ));
    }
    Ok((from, to))
}

/// The month holding `date`: its first day and the first day of the next.
pub fn month_of(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = date.with_day(1).unwrap_or(date);
    let next = first
        .checked_add_months(Months::new(1))
        .unwrap_or(NaiveDate::MAX);
    (first, next)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::palaces::TimeRange;
    use chrono::TimeZone;

    fn range(from: (u32, u32), to: (u32, u32)) -> TimeRange {
        TimeRange::new(from, to).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn amenity_bits_are_distinct_and_fixed() {
        let bits: Vec<i32> = Amenity::ALL.iter().map(|a| a.bit()).collect();
        assert_eq!(bits, vec![1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(Amenity::ALL.len(), 7);
        assert_eq!(Amenity::MealHeating.as_str(), "meal_heating");
        assert_eq!("first_aid".parse::<Amenity>(), Ok(Amenity::FirstAid));
        assert!("shower".parse::<Amenity>().is_err());
    }

    #[test]
    fn amenity_sets_round_trip_and_compare() {
        let set = Amenities::from_list(&[Amenity::Wifi, Amenity::Rest, Amenity::Charging]).unwrap();
        assert_eq!(set.mask(), 1 | 2 | 64);
        assert_eq!(
            set.to_vec(),
            vec![Amenity::Rest, Amenity::Charging, Amenity::Wifi]
        );
        assert_eq!(Amenities::from_mask(set.mask()), Some(set));
        assert_eq!(Amenities::from_mask(128), None);
        let wanted = Amenities::default().with(Amenity::Rest).with(Amenity::Wifi);
        assert!(set.has_all(wanted));
        assert!(!set.has_all(wanted.with(Amenity::Toilet)));
        assert!(set.has_all(Amenities::default()));
        let dup = Amenities::from_list(&[Amenity::Rest, Amenity::Wifi, Amenity::Rest]).unwrap_err();
        assert_eq!(
            (dup.pointer.as_str(), dup.code),
            ("/amenities/2", "duplicate")
        );
    }

    #[test]
    fn search_amenities_may_repeat_or_be_comma_separated() {
        let set = Amenities::from_query(["charging,toilet", "rest"]).unwrap();
        assert_eq!(
            set.to_vec(),
            vec![Amenity::Rest, Amenity::Charging, Amenity::Toilet]
        );
        assert!(Amenities::from_query([]).unwrap().is_empty());
        for bad in [
            vec!["charging,shower"],
            vec![""],
            vec!["rest,"],
            vec!["Rest"],
        ] {
            let p = Amenities::from_query(bad.clone()).unwrap_err();
            assert_eq!(
                (p.pointer.as_str(), p.code),
                ("/amenity", "enum"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hours_may_open_at_any_minute_but_ranges_still_order() {
        let hours = OpeningHours {
            mon: vec![range((7, 5), (11, 55)), range((13, 7), (24, 0))],
            ..OpeningHours::default()
        };
        assert_eq!(check_hours(&hours), Ok(()));
        let bad = OpeningHours {
            tue: vec![range((9, 0), (8, 0)), range((7, 0), (10, 0))],
            ..OpeningHours::default()
        };
        let codes: Vec<_> = check_hours(&bad)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.pointer, p.code))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("/opening_hours/tue/0/to".to_owned(), "not_after_from"),
                ("/opening_hours/tue/1/from".to_owned(), "overlapping"),
            ]
        );
    }

    #[test]
    fn open_at_reads_the_local_wall_clock() {
        let shanghai = chrono_tz::Asia::Shanghai;
        let hours = OpeningHours {
            // 2026-12-01 is a Tuesday.
            tue: vec![range((8, 0), (12, 0)), range((14, 0), (24, 0))],
            wed: vec![range((0, 0), (2, 0))],
            ..OpeningHours::default()
        };
        let at = |y, m, d, h, min| {
            shanghai
                .with_ymd_and_hms(y, m, d, h, min, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let open = StationStatus::Open;
        assert!(!open_at(open, &hours, shanghai, at(2026, 12, 1, 7, 59)));
        assert!(open_at(open, &hours, shanghai, at(2026, 12, 1, 8, 0)));
        assert!(!open_at(open, &hours, shanghai, at(2026, 12, 1, 12, 0)));
        assert!(open_at(open, &hours, shanghai, at(2026, 12, 1, 23, 59)));
        assert!(open_at(open, &hours, shanghai, at(2026, 12, 2, 1, 30)));
        assert!(!open_at(open, &hours, shanghai, at(2026, 12, 2, 2, 0)));
        for status in [StationStatus::TemporarilyClosed, StationStatus::Closed] {
            assert!(!open_at(status, &hours, shanghai, at(2026, 12, 1, 9, 0)));
        }
        // The same instant is Monday evening in New York: closed there.
        let new_york = chrono_tz::America::New_York;
        assert!(!open_at(open, &hours, new_york, at(2026, 12, 1, 9, 0)));
        assert_eq!(
            local_day(at(2026, 12, 1, 9, 0), new_york),
            date("2026-11-30")
        );
        assert_eq!(
            local_day(at(2026, 12, 1, 9, 0), shanghai),
            date("2026-12-01")
        );
    }

    #[test]
    fn radius_is_bounded() {
        assert_eq!(check_radius(DEFAULT_RADIUS_M), Ok(()));
        assert_eq!(check_radius(MAX_RADIUS_M), Ok(()));
        let p = check_radius(MAX_RADIUS_M + 1).unwrap_err();
        assert_eq!((p.pointer.as_str(), p.code), ("/radius_m", "range"));
        assert!(check_radius(0).is_err());
    }

    #[test]
    fn station_phones() {
        for ok in [
            "12351",
            "0791-86661234",
            "+86 791 8666 1234",
            "(0791) 86661234",
        ] {
            assert_eq!(check_phone(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "12",
            "call me",
            "0791-8666\n1234",
            " 12351",
            &"1".repeat(31),
        ] {
            assert!(check_phone(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn visit_ranges_default_and_are_bounded() {
        let today = date("2026-12-10");
        assert_eq!(
            visit_range(None, None, today),
            Ok((date("2026-11-11"), today))
        );
        assert_eq!(
            visit_range(None, Some(date("2026-01-30")), today),
            Ok((date("2026-01-01"), date("2026-01-30")))
        );
        let from = date("2025-12-10");
        assert_eq!(visit_range(Some(from), None, today), Ok((from, today)));
        let p = visit_range(Some(date("2025-12-09")), None, today).unwrap_err();
        assert_eq!((p.pointer.as_str(), p.code), ("/to", "range"));
        let p = visit_range(Some(date("2026-12-11")), None, today).unwrap_err();
        assert_eq!((p.pointer.as_str(), p.code), ("/from", "after_to"));
        assert_eq!(
            visit_range(Some(today), Some(today), today),
            Ok((today, today))
        );
    }

    #[test]
    fn months() {
        assert_eq!(
            month_of(date("2026-12-10")),
            (date("2026-12-01"), date("2027-01-01"))
        );
        assert_eq!(
            month_of(date("2028-02-29")),
            (date("2028-02-01"), date("2028-03-01"))
        );
    }
}
