//! The slot grid of a day, closures, and how many units each slot has free.
//!
//! Local wall-clock times become instants like this, everywhere in this module:
//!
//! - a local time that occurs once is that instant;
//! - a local time that occurs twice (clocks going back) is the earlier instant;
//! - a local time that never occurs (clocks going forward) is the instant the clocks
//!   jumped, i.e. the first local time after the gap.
//!
//! A slot whose local *start* never occurs is skipped. A slot keeps its wall-clock
//! ends, so on a changeover night it can be shorter or longer than `slot_minutes` of
//! real time (Berlin, clocks back: 02:00–03:00 runs from the first 02:00 to 03:00, two
//! hours). Slots never overlap and stay contiguous wherever the hours are. In
//! Asia/Shanghai, which has no daylight saving, none of this arises.

use super::{ClockTime, OpeningHours};
use crate::insurance::FieldProblem;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The longest clock change searched past when a local time falls in a gap. Real
/// changes are an hour or less; Samoa skipped a whole day in 2011.
const MAX_GAP_MINUTES: i64 = 2 * 24 * 60;

/// A blackout: the venue is closed from `start` until `end` (exclusive), whatever its
/// opening hours say. A slot overlapping a closure at all is closed, so a closure from
/// 10:15 to 10:45 closes the whole 10:00–11:00 slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub start: DateTime<Utc>,
    /// After `start`.
    pub end: DateTime<Utc>,
    /// Shown to members whose slot or booking it closes: "floor waxing", "county
    /// games".
    pub reason: String,
}

/// The longest closure reason, in characters.
pub const MAX_CLOSURE_REASON_CHARS: usize = 200;

impl Closure {
    /// Whether the closure overlaps `[start, end)` at all.
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.start < end && start < self.end
    }

    /// Every problem with a closure as a request body (`/start`, `/end`, `/reason`).
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if self.end <= self.start {
            problems.push(FieldProblem::new(
                "/end",
                "end_before_start",
                format!(
                    "a closure must end after it starts: {} is not after {}",
                    self.end.to_rfc3339(),
                    self.start.to_rfc3339()
                ),
            ));
        }
        if self.reason.trim().is_empty() {
            problems.push(FieldProblem::new(
                "/reason",
                "required",
                "members are shown the reason; say why the venue is closed",
            ));
        } else if self.reason.chars().count() > MAX_CLOSURE_REASON_CHARS {
            problems.push(FieldProblem::new(
                "/reason",
                "too_long",
                format!("at most {MAX_CLOSURE_REASON_CHARS} characters"),
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// One slot of a day's grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The local wall-clock start, as the palace's notice board shows it.
    pub local_start: NaiveTime,
    /// False when a closure overlaps the slot.
    pub open: bool,
    /// The reason of the earliest-starting closure overlapping the slot.
    pub closed_reason: Option<String>,
}

/// The local date of `instant` in `tz`.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The instants the local `date` begins and ends (the next local midnight), resolved
/// as the module describes. Bookings and slots of the date lie within these bounds:
/// storage can fetch a day's bookings with `start < day_end AND end > day_start`.
/// None only for dates at the very edge of what chrono represents.
pub fn day_bounds(date: NaiveDate, tz: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = resolve_local(tz, local_at(date, 0)?)?;
    let end = resolve_local(tz, local_at(date, ClockTime::END_OF_DAY.minutes())?)?;
    Some((start, end))
}

/// Every slot of the local `date`, in time order: each opening range of the date's
/// weekday cut into `slot_minutes` pieces from its `from` (the last ends exactly at
/// its `to`), each marked closed when a closure overlaps it. Empty on a closed day, or
/// if `slot_minutes` is 0.
///
/// Local times become instants as the crate's palaces docs say: the earlier of a
/// repeated time, the jump for a skipped one, and a slot whose start is skipped is
/// left out. Slots keep their wall-clock ends, so on a changeover night one can be
/// shorter or longer than `slot_minutes` of real time (Berlin, clocks back: 02:00–03:00
/// runs from the first 02:00 until 03:00, two hours; the repeated hour is offered
/// once). Slots never overlap, and slots of adjacent ranges and days stay contiguous.
pub fn slots_on(
    date: NaiveDate,
    tz: Tz,
    hours: &OpeningHours,
    slot_minutes: u32,
    closures: &[Closure],
) -> Vec<Slot> {
    let Some(step) = usize::try_from(slot_minutes).ok().filter(|s| *s > 0) else {
        return Vec::new();
    };
    let mut slots = Vec::new();
    for range in hours.on(date.weekday()) {
        let (from, to) = (range.from.minutes(), range.to.minutes());
        for m in (from..to).step_by(step) {
            let end_m = m + slot_minutes;
            if end_m > to {
                break;
            }
            let Some(local_start) = local_at(date, m) else {
                continue;
            };
            let Some(start) = tz.from_local_datetime(&local_start).earliest() else {
                // This local time never happens: the clocks jumped over it.
                continue;
            };
            let start = start.with_timezone(&Utc);
            let Some(end) = local_at(date, end_m).and_then(|l| resolve_local(tz, l)) else {
                continue;
            };
            if end <= start {
                continue;
            }
            let closure = closures
                .iter()
                .filter(|c| c.overlaps(start, end))
                .min_by_key(|c| c.start);
            slots.push(Slot {
                start,
                end,
                local_start: local_start.time(),
                open: closure.is_none(),
                closed_reason: closure.map(|c| c.reason.clone()),
            });
        }
    }
    slots.sort_by_key(|s| s.start);
    slots
}

/// Units one booking holds from `start` until `end` (exclusive). Storage passes the
/// bookings that hold units: stored status `booked` or `checked_in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookedUnits {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub units: u32,
}

/// One slot of `GET /venues/{id}/availability`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotAvailability {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The local wall-clock start, `HH:MM`.
    #[serde(serialize_with = "hh_mm")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "08:30"))]
    pub local_start: NaiveTime,
    /// False when a closure covers any of the slot.
    pub open: bool,
    pub closed_reason: Option<String>,
    /// The most units held at any moment of the slot.
    pub booked_units: u32,
    /// Units that can still be booked: the venue's units less `booked_units`, and 0
    /// when the slot is closed.
    pub free_units: u32,
}

fn hh_mm<S: serde::Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&t.format("%H:%M"))
}

/// Each slot with its free units. `bookings` may span several slots, and need not be
/// only the day's: those that miss a slot don't count against it. A slot's booked
/// units are the peak held at any moment within it, which is the sum of the bookings
/// covering it whenever bookings follow the grid, and stays right for old bookings
/// made on a different grid.
pub fn availability(
    slots: &[Slot],
    bookings: &[BookedUnits],
    venue_units: u32,
) -> Vec<SlotAvailability> {
    slots
        .iter()
        .map(|slot| {
            let booked = peak_units(bookings, slot.start, slot.end);
            SlotAvailability {
                start: slot.start,
                end: slot.end,
                local_start: slot.local_start,
                open: slot.open,
                closed_reason: slot.closed_reason.clone(),
                booked_units: booked,
                free_units: if slot.open {
                    venue_units.saturating_sub(booked)
                } else {
                    0
                },
            }
        })
        .collect()
}

/// The most units `bookings` hold at any one moment of `[start, end)`. Bookings are
/// half-open: one ending at 10:00 and another starting at 10:00 never coincide.
pub fn peak_units(bookings: &[BookedUnits], start: DateTime<Utc>, end: DateTime<Utc>) -> u32 {
    // (instant, is_start, units): at equal instants, ends sort before starts.
    let mut events: Vec<(DateTime<Utc>, bool, u64)> = Vec::new();
    for b in bookings {
        if b.start < end && start < b.end && b.start < b.end {
            events.push((b.start.max(start), true, u64::from(b.units)));
            events.push((b.end.min(end), false, u64::from(b.units)));
        }
    }
    events.sort_unstable();
    let (mut held, mut peak) = (0u64, 0u64);
    for (_, is_start, units) in events {
        if is_start {
            held += units;
            peak = peak.max(held);
        } else {
            held = held.saturating_sub(units);
        }
    }
    u32::try_from(peak).unwrap_or(u32::MAX)
}

/// Whether `wanted` fits beside `existing` in a venue of `venue_units` units: at no
/// moment of `wanted` would more than `venue_units` be held. The database enforces
/// capacity (this decides nothing under concurrency); this is for tests and for
/// storage's own conditional update.
pub fn fits(existing: &[BookedUnits], wanted: &BookedUnits, venue_units: u32) -> bool {
    let held = u64::from(peak_units(existing, wanted.start, wanted.end));
    held + u64::from(wanted.units) <= u64::from(venue_units)
}

/// `minutes` past local midnight of `date`, as a local date-time (1,440 is the next
/// midnight).
pub(crate) fn local_at(date: NaiveDate, minutes: u32) -> Option<NaiveDateTime> {
    date.and_time(NaiveTime::MIN)
        .checked_add_signed(TimeDelta::minutes(i64::from(minutes)))
}

/// A local date-time as an instant: the earlier of two, or the end of a gap.
pub(crate) fn resolve_local(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let found = tz.from_local_datetime(&local).earliest().or_else(|| {
        (1..=MAX_GAP_MINUTES).find_map(|m| {
            local
                .checked_add_signed(TimeDelta::minutes(m))
                .and_then(|later| tz.from_local_datetime(&later).earliest())
        })
    })?;
    Some(found.with_timezone(&Utc))
}

/// Whether `instant` is a boundary of the `slot_minutes` grid of its local date: a
/// multiple of `slot_minutes` past local midnight, resolved as the module describes.
pub(crate) fn on_grid(instant: DateTime<Utc>, tz: Tz, slot_minutes: u32) -> bool {
    let Some(step) = usize::try_from(slot_minutes).ok().filter(|s| *s > 0) else {
        return false;
    };
    let date = local_date(instant, tz);
    (0..=ClockTime::END_OF_DAY.minutes())
        .step_by(step)
        .any(|m| local_at(date, m).and_then(|l| resolve_local(tz, l)) == Some(instant))
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::hours::tests::range;
    use super::*;
    use chrono_tz::{Asia::Shanghai, Europe::Berlin};

    pub(crate) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    pub(crate) fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn closure(start: DateTime<Utc>, end: DateTime<Utc>, reason: &str) -> Closure {
        Closure {
            start,
            end,
            reason: reason.to_owned(),
        }
    }

    fn starts(slots: &[Slot]) -> Vec<NaiveTime> {
        slots.iter().map(|s| s.local_start).collect()
    }

    /// Mondays 08:00–12:00 and 14:00–21:00; Saturdays 10:00–14:00, across noon.
    pub(crate) fn palace_hours() -> OpeningHours {
        OpeningHours {
            mon: vec![range((8, 0), (12, 0)), range((14, 0), (21, 0))],
            sat: vec![range((10, 0), (14, 0))],
            ..OpeningHours::default()
        }
    }

    #[test]
    fn shanghai_slots_are_eight_hours_ahead_of_utc_all_year() {
        // 2026-03-02 is a Monday; Shanghai is UTC+8 in winter and summer alike.
        let slots = slots_on(day(2026, 3, 2), Shanghai, &palace_hours(), 60, &[]);
        assert_eq!(slots.len(), 4 + 7);
        assert_eq!(slots[0].start, utc(2026, 3, 2, 0, 0));
        assert_eq!(slots[0].end, utc(2026, 3, 2, 1, 0));
        assert_eq!(slots[3].local_start, hm(11, 0));
        assert_eq!(slots[4].local_start, hm(14, 0));
        assert_eq!(slots[4].start, utc(2026, 3, 2, 6, 0));
        assert!(slots.iter().all(|s| s.open && s.closed_reason.is_none()));
        // The last slot ends exactly at closing time, 21:00 local.
        let last = slots.last().unwrap();
        assert_eq!(last.local_start, hm(20, 0));
        assert_eq!(last.end, utc(2026, 3, 2, 13, 0));

        let july = slots_on(day(2026, 7, 6), Shanghai, &palace_hours(), 60, &[]);
        assert_eq!(july[0].start, utc(2026, 7, 6, 0, 0));
        // Tuesdays are closed.
        assert!(slots_on(day(2026, 3, 3), Shanghai, &palace_hours(), 60, &[]).is_empty());
        assert!(slots_on(day(2026, 3, 2), Shanghai, &palace_hours(), 0, &[]).is_empty());
    }

    #[test]
    fn a_range_across_noon_is_one_run_of_slots() {
        // 2026-03-07 is a Saturday: 10:00–14:00.
        let slots = slots_on(day(2026, 3, 7), Shanghai, &palace_hours(), 30, &[]);
        assert_eq!(slots.len(), 8);
        assert_eq!(starts(&slots)[3..6], [hm(11, 30), hm(12, 0), hm(12, 30)]);
        assert_eq!(slots[4].start, utc(2026, 3, 7, 4, 0));
        for pair in slots.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert_eq!(slots[7].end, utc(2026, 3, 7, 6, 0));
    }

    #[test]
    fn until_midnight_ends_at_the_next_local_midnight() {
        let hours = OpeningHours::every_day(&[range((22, 0), (24, 0))]);
        let slots = slots_on(day(2026, 3, 2), Shanghai, &hours, 120, &[]);
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].start, utc(2026, 3, 2, 14, 0));
        assert_eq!(slots[0].end, utc(2026, 3, 2, 16, 0));
        assert_eq!(
            day_bounds(day(2026, 3, 2), Shanghai),
            Some((utc(2026, 3, 1, 16, 0), utc(2026, 3, 2, 16, 0)))
        );
    }

    #[test]
    fn a_closure_over_part_of_a_slot_closes_the_whole_slot() {
        // 10:15–10:45 local is 02:15–02:45 UTC.
        let closures = [closure(
            utc(2026, 3, 2, 2, 15),
            utc(2026, 3, 2, 2, 45),
            "floor waxing",
        )];
        let slots = slots_on(day(2026, 3, 2), Shanghai, &palace_hours(), 60, &closures);
        let closed: Vec<_> = slots.iter().filter(|s| !s.open).collect();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].local_start, hm(10, 0));
        assert_eq!(closed[0].closed_reason.as_deref(), Some("floor waxing"));
        // A closure that ends where a slot begins, or begins where it ends, touches
        // nothing.
        let touching = [closure(
            utc(2026, 3, 2, 1, 0),
            utc(2026, 3, 2, 2, 0),
            "meeting",
        )];
        let slots = slots_on(day(2026, 3, 2), Shanghai, &palace_hours(), 60, &touching);
        let closed: Vec<_> = slots
            .iter()
            .filter(|s| !s.open)
            .map(|s| s.local_start)
            .collect();
        assert_eq!(closed, vec![hm(9, 0)]);
        // Overlapping closures: the earliest-starting one names the slot.
        let two = [
            closure(utc(2026, 3, 2, 2, 30), utc(2026, 3, 2, 4, 0), "later"),
            closure(utc(2026, 3, 2, 1, 0), utc(2026, 3, 2, 2, 30), "earlier"),
        ];
        let slots = slots_on(day(2026, 3, 2), Shanghai, &palace_hours(), 60, &two);
        assert_eq!(slots[2].closed_reason.as_deref(), Some("earlier"));
        assert_eq!(slots[3].closed_reason.as_deref(), Some("later"));
    }

    #[test]
    fn berlin_spring_forward_skips_the_missing_hour() {
        // 2026-03-29: at 02:00 CET clocks jump to 03:00 CEST (01:00 UTC).
        let hours = OpeningHours::every_day(&[range((0, 0), (24, 0))]);
        let slots = slots_on(day(2026, 3, 29), Berlin, &hours, 60, &[]);
        assert_eq!(slots.len(), 23);
        assert!(!starts(&slots).contains(&hm(2, 0)));
        assert_eq!(slots[1].local_start, hm(1, 0));
        assert_eq!(
            (slots[1].start, slots[1].end),
            (utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0))
        );
        assert_eq!(slots[2].local_start, hm(3, 0));
        assert_eq!(slots[2].start, utc(2026, 3, 29, 1, 0));
        for pair in slots.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        // A 90-minute slot from 01:30 ends at 03:00 on the wall: half an hour later.
        let slots = slots_on(day(2026, 3, 29), Berlin, &hours, 90, &[]);
        let s = slots.iter().find(|s| s.local_start == hm(1, 30)).unwrap();
        assert_eq!(
            (s.start, s.end),
            (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0))
        );
        assert_eq!(
            slots
                .iter()
                .find(|s| s.local_start == hm(3, 0))
                .unwrap()
                .start,
            s.end
        );
        assert_eq!(
            day_bounds(day(2026, 3, 29), Berlin),
            Some((utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)))
        );
    }

    #[test]
    fn berlin_fall_back_takes_the_first_of_the_repeated_hour() {
        // 2026-10-25: at 03:00 CEST clocks go back to 02:00 CET; 02:00–03:00 happens
        // twice (00:00–01:00 and 01:00–02:00 UTC).
        let hours = OpeningHours::every_day(&[range((0, 0), (24, 0))]);
        let slots = slots_on(day(2026, 10, 25), Berlin, &hours, 60, &[]);
        assert_eq!(slots.len(), 24);
        let two = &slots[2];
        assert_eq!(two.local_start, hm(2, 0));
        // From the first 02:00 until 03:00 on the wall: two real hours.
        assert_eq!(
            (two.start, two.end),
            (utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0))
        );
        for pair in slots.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        // The second 02:00 is not a slot boundary; the first is.
        assert!(on_grid(utc(2026, 10, 25, 0, 0), Berlin, 60));
        assert!(!on_grid(utc(2026, 10, 25, 1, 0), Berlin, 60));
        assert!(on_grid(utc(2026, 10, 25, 2, 0), Berlin, 60));
    }

    #[test]
    fn grid_boundaries_count_from_local_midnight() {
        assert!(on_grid(utc(2026, 3, 2, 2, 0), Shanghai, 60));
        assert!(!on_grid(utc(2026, 3, 2, 2, 30), Shanghai, 60));
        assert!(on_grid(utc(2026, 3, 2, 2, 30), Shanghai, 30));
        assert!(on_grid(utc(2026, 3, 2, 2, 30), Shanghai, 45)); // 10:30 = 14 × 45 min
        assert!(!on_grid(utc(2026, 3, 2, 2, 15), Shanghai, 45));
        assert!(!on_grid(
            utc(2026, 3, 2, 2, 0) + TimeDelta::seconds(1),
            Shanghai,
            60
        ));
        // Local midnight, the end of one day and the start of the next.
        assert!(on_grid(utc(2026, 3, 2, 16, 0), Shanghai, 90));
        // Spring forward: 03:00 CEST ends the 01:00 slot.
        assert!(on_grid(utc(2026, 3, 29, 1, 0), Berlin, 60));
    }

    fn booked(start: DateTime<Utc>, end: DateTime<Utc>, units: u32) -> BookedUnits {
        BookedUnits { start, end, units }
    }

    #[test]
    fn free_units_are_what_the_busiest_moment_leaves() {
        let closures = [closure(
            utc(2026, 3, 2, 3, 0),
            utc(2026, 3, 2, 4, 0),
            "repairs",
        )];
        let slots = slots_on(day(2026, 3, 2), Shanghai, &palace_hours(), 60, &closures);
        let bookings = [
            // 08:00–10:00, 2 tables: spans two slots.
            booked(utc(2026, 3, 2, 0, 0), utc(2026, 3, 2, 2, 0), 2),
            // 09:00–10:00, 1 table.
            booked(utc(2026, 3, 2, 1, 0), utc(2026, 3, 2, 2, 0), 1),
            // 10:00–10:30 and 10:30–11:00 on an old 30-minute grid: never together.
            booked(utc(2026, 3, 2, 2, 0), utc(2026, 3, 2, 2, 30), 3),
            booked(utc(2026, 3, 2, 2, 30), utc(2026, 3, 2, 3, 0), 3),
            // 11:00–12:00, in the closure.
            booked(utc(2026, 3, 2, 3, 0), utc(2026, 3, 2, 4, 0), 1),
            // Another day.
            booked(utc(2026, 3, 3, 0, 0), utc(2026, 3, 3, 1, 0), 4),
        ];
        let free = availability(&slots, &bookings, 4);
        let row = |i: usize| {
            (
                free[i].local_start,
                free[i].booked_units,
                free[i].free_units,
                free[i].open,
            )
        };
        assert_eq!(row(0), (hm(8, 0), 2, 2, true));
        assert_eq!(row(1), (hm(9, 0), 3, 1, true));
        assert_eq!(row(2), (hm(10, 0), 3, 1, true));
        assert_eq!(row(3), (hm(11, 0), 1, 0, false));
        assert_eq!(free[3].closed_reason.as_deref(), Some("repairs"));
        assert_eq!(row(4), (hm(14, 0), 0, 4, true));
        // More held than the venue has (units reduced since): none free, not a wrap.
        assert_eq!(availability(&slots, &bookings, 1)[1].free_units, 0);

        let json = serde_json::to_value(&free[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "start": "2026-03-02T00:00:00Z", "end": "2026-03-02T01:00:00Z",
                "local_start": "08:00", "open": true, "closed_reason": null,
                "booked_units": 2, "free_units": 2
            })
        );
    }

    #[test]
    fn fits_leaves_the_last_unit_to_one_booking() {
        let slot = booked(utc(2026, 3, 2, 1, 0), utc(2026, 3, 2, 2, 0), 1);
        let mut existing = vec![booked(utc(2026, 3, 2, 0, 0), utc(2026, 3, 2, 2, 0), 3)];
        assert!(fits(&existing, &slot, 4));
        existing.push(slot);
        assert!(!fits(&existing, &slot, 4));
        // Back to back is not overlapping.
        let next = booked(utc(2026, 3, 2, 2, 0), utc(2026, 3, 2, 3, 0), 4);
        assert!(fits(&existing, &next, 4));
        assert!(!fits(&[], &booked(slot.start, slot.end, 5), 4));
    }

    #[test]
    fn closures_need_an_order_and_a_reason() {
        let ok = closure(utc(2026, 3, 2, 0, 0), utc(2026, 3, 2, 4, 0), "county games");
        assert_eq!(ok.validate(), Ok(()));
        let bad = closure(utc(2026, 3, 2, 4, 0), utc(2026, 3, 2, 4, 0), "  ");
        let problems = bad.validate().unwrap_err();
        let codes: Vec<_> = problems
            .iter()
            .map(|p| (p.pointer.as_str(), p.code))
            .collect();
        assert_eq!(
            codes,
            vec![("/end", "end_before_start"), ("/reason", "required")]
        );
        let long = closure(ok.start, ok.end, &"闭".repeat(201));
        assert_eq!(long.validate().unwrap_err()[0].code, "too_long");
    }
}
