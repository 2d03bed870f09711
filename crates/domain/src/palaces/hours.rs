//! Weekly opening hours: local wall-clock ranges per weekday, the slot lengths a venue
//! may use, and the checks that keep the ranges on the venue's slot grid.

use crate::insurance::FieldProblem;
use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The slot lengths a venue may use, in minutes. Each divides a day (1,440 minutes)
/// exactly, so the grid counted from 00:00 restarts at every midnight without a short
/// slot; the list is closed rather than "any divisor" so that nobody sets up 16- or
/// 32-minute slots by a typo.
pub const SLOT_MINUTES: [u32; 7] = [15, 20, 30, 45, 60, 90, 120];

/// The most opening ranges one day may have. Two or three is usual (morning, afternoon,
/// evening); eight leaves room for odd timetables without letting a request carry
/// thousands.
pub const MAX_RANGES_PER_DAY: usize = 8;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// Whether `slot_minutes` is one of [`SLOT_MINUTES`]; the problem points at
/// `/slot_minutes`.
pub fn check_slot_minutes(slot_minutes: u32) -> Result<(), FieldProblem> {
    if SLOT_MINUTES.contains(&slot_minutes) {
        Ok(())
    } else {
        let allowed: Vec<String> = SLOT_MINUTES.iter().map(u32::to_string).collect();
        Err(FieldProblem::new(
            "/slot_minutes",
            "unsupported",
            format!(
                "slot_minutes must be one of {}, not {slot_minutes}",
                allowed.join(", ")
            ),
        ))
    }
}

/// A local wall-clock time of day to the minute, `00:00` to `24:00`, written `HH:MM`.
///
/// `24:00` is the end of the day, so a venue can stay open until midnight; a
/// [`NaiveTime`] can't say that. Seconds are not accepted: nothing at a palace opens at
/// 08:30:15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "08:30")
)]
pub struct ClockTime(u16);

/// A time of day that isn't `HH:MM` between `00:00` and `24:00`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("expected a time of day as HH:MM, 00:00 to 24:00, not {0:?}")]
pub struct BadClockTime(pub String);

impl ClockTime {
    /// Midnight at the start of the day.
    pub const MIDNIGHT: ClockTime = ClockTime(0);
    /// Midnight at the end of the day.
    pub const END_OF_DAY: ClockTime = ClockTime(MINUTES_PER_DAY);

    /// `hour:minute`; None unless it is `00:00`–`23:59` or exactly `24:00`.
    pub fn new(hour: u32, minute: u32) -> Option<ClockTime> {
        if minute >= 60 || hour > 24 || (hour == 24 && minute != 0) {
            return None;
        }
        u16::try_from(hour * 60 + minute).ok().map(ClockTime)
    }

    /// Minutes since 00:00, 0 to 1,440.
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }

    /// The time as a [`NaiveTime`]; None for `24:00`.
    pub fn to_naive_time(self) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(self.minutes() / 60, self.minutes() % 60, 0)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl FromStr for ClockTime {
    type Err = BadClockTime;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadClockTime(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' {
            return Err(bad());
        }
        let two = |hi: u8, lo: u8| {
            (hi.is_ascii_digit() && lo.is_ascii_digit())
                .then(|| u32::from(hi - b'0') * 10 + u32::from(lo - b'0'))
        };
        let hour = two(b[0], b[1]).ok_or_else(bad)?;
        let minute = two(b[3], b[4]).ok_or_else(bad)?;
        ClockTime::new(hour, minute).ok_or_else(bad)
    }
}

/// Written and read as `"HH:MM"` without an intermediate `String`: a station search
/// answers a week of hours for each of dozens of stations.
impl Serialize for ClockTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (hour, minute) = (self.0 / 60, self.0 % 60);
        let digit = |n: u16| b'0' + u8::try_from(n % 10).unwrap_or(0);
        let text = [
            digit(hour / 10),
            digit(hour),
            b':',
            digit(minute / 10),
            digit(minute),
        ];
        serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ClockTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a time of day as HH:MM")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<ClockTime, E> {
                s.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl TryFrom<String> for ClockTime {
    type Error = BadClockTime;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ClockTime> for String {
    fn from(t: ClockTime) -> String {
        t.to_string()
    }
}

/// One opening range of a day, local wall-clock time: open from `from` until `to`
/// (exclusive). `{"from": "08:30", "to": "12:00"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub from: ClockTime,
    /// After `from`; `24:00` for "until midnight". A range can't run past midnight:
    /// end the day at `24:00` and start the next at `00:00`.
    pub to: ClockTime,
}

impl TimeRange {
    /// A range from `from` to `to`; None when either isn't a valid [`ClockTime`].
    pub fn new(from: (u32, u32), to: (u32, u32)) -> Option<TimeRange> {
        Some(TimeRange {
            from: ClockTime::new(from.0, from.1)?,
            to: ClockTime::new(to.0, to.1)?,
        })
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.from, self.to)
    }
}

/// A venue's weekly opening hours, in the palace's local time. A day with no ranges is
/// closed, and so is a day left out of the request:
/// `{"mon": [{"from": "08:30", "to": "12:00"}, {"from": "14:00", "to": "21:00"}],
/// "sat": [], ...}`.
///
/// Holidays and one-off closures aren't here: they are [`Closure`](super::Closure)s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct OpeningHours {
    pub mon: Vec<TimeRange>,
    pub tue: Vec<TimeRange>,
    pub wed: Vec<TimeRange>,
    pub thu: Vec<TimeRange>,
    pub fri: Vec<TimeRange>,
    pub sat: Vec<TimeRange>,
    pub sun: Vec<TimeRange>,
}

impl OpeningHours {
    /// The same ranges every day of the week.
    pub fn every_day(ranges: &[TimeRange]) -> OpeningHours {
        OpeningHours {
            mon: ranges.to_vec(),
            tue: ranges.to_vec(),
            wed: ranges.to_vec(),
            thu: ranges.to_vec(),
            fri: ranges.to_vec(),
            sat: ranges.to_vec(),
            sun: ranges.to_vec(),
        }
    }

    /// The ranges of `day`; empty when the venue is closed that day.
    pub fn on(&self, day: Weekday) -> &[TimeRange] {
        match day {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    /// `08:30–12:00, 14:00–21:00`, or `closed`, for people.
    pub fn describe(&self, day: Weekday) -> String {
        let ranges = self.on(day);
        if ranges.is_empty() {
            return "closed".to_owned();
        }
        ranges
            .iter()
            .map(TimeRange::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every problem with the hours, each pointing under `/opening_hours`
    /// (`/opening_hours/mon/1/to`). Each range must end after it starts; a day's
    /// ranges must be in order and not overlap (touching is fine); a day has at most
    /// [`MAX_RANGES_PER_DAY`] ranges; and, when `slot_minutes` is one of
    /// [`SLOT_MINUTES`], every time must lie on the slot grid counted from 00:00, so
    /// that each range is a whole number of slots and the last slot ends exactly at
    /// closing time. (An unsupported `slot_minutes` is [`check_slot_minutes`]'s to
    /// report, not this.)
    pub fn validate(&self, slot_minutes: u32) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let grid = SLOT_MINUTES.contains(&slot_minutes).then_some(slot_minutes);
        for (day, name) in WEEK {
            check_day(&mut problems, name, self.on(day), grid);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

const WEEK: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

fn check_day(
    problems: &mut Vec<FieldProblem>,
    name: &str,
    ranges: &[TimeRange],
    grid: Option<u32>,
) {
    let day_pointer = format!("/opening_hours/{name}");
    if ranges.len() > MAX_RANGES_PER_DAY {
        problems.push(FieldProblem::new(
            day_pointer.clone(),
            "too_many_ranges",
            format!(
                "a day may have at most {MAX_RANGES_PER_DAY} opening ranges, not {}",
                ranges.len()
            ),
        ));
    }
    let mut previous_to: Option<ClockTime> = None;
    for (i, range) in ranges.iter().enumerate() {
        let pointer = format!("{day_pointer}/{i}");
        if let Some(slot) = grid {
            for (field, time) in [("from", range.from), ("to", range.to)] {
                if !time.minutes().is_multiple_of(slot) {
                    problems.push(FieldProblem::new(
                        format!("{pointer}/{field}"),
                        "not_aligned",
                        format!(
                            "with {slot}-minute slots, opening times must be whole \
                             multiples of {slot} minutes from 00:00; {time} isn't"
                        ),
                    ));
                }
            }
        }
        if range.to <= range.from {
            problems.push(FieldProblem::new(
                format!("{pointer}/to"),
                "not_after_from",
                format!(
                    "a range must end after it starts: {} is not after {}",
                    range.to, range.from
                ),
            ));
        }
        if let Some(before) = previous_to
            && range.from < before
        {
            problems.push(FieldProblem::new(
                format!("{pointer}/from"),
                "overlapping",
                format!(
                    "a day's ranges must be in order and must not overlap: {} is before \
                     the previous range ends at {before}",
                    range.from
                ),
            ));
        }
        previous_to = Some(previous_to.map_or(range.to, |t| t.max(range.to)));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) fn range(from: (u32, u32), to: (u32, u32)) -> TimeRange {
        TimeRange::new(from, to).unwrap()
    }

    fn codes(problems: &[FieldProblem]) -> Vec<(&str, &str)> {
        problems
            .iter()
            .map(|p| (p.pointer.as_str(), p.code))
            .collect()
    }

    #[test]
    fn clock_times_are_hh_mm_up_to_24_00() {
        assert_eq!("08:30".parse::<ClockTime>().unwrap().minutes(), 510);
        assert_eq!("00:00".parse::<ClockTime>(), Ok(ClockTime::MIDNIGHT));
        assert_eq!("24:00".parse::<ClockTime>(), Ok(ClockTime::END_OF_DAY));
        for bad in [
            "24:01", "25:00", "8:30", "08:60", "08:30:00", "0830", "ab:cd", "",
        ] {
            assert!(bad.parse::<ClockTime>().is_err(), "{bad}");
        }
        assert_eq!(ClockTime::new(9, 5).unwrap().to_string(), "09:05");
        assert_eq!(ClockTime::END_OF_DAY.to_string(), "24:00");
        assert_eq!(ClockTime::END_OF_DAY.to_naive_time(), None);
        assert_eq!(
            ClockTime::new(21, 0).unwrap().to_naive_time(),
            NaiveTime::from_hms_opt(21, 0, 0)
        );
    }

    #[test]
    fn clock_times_are_json_strings_both_ways() {
        for (text, minutes) in [
            ("00:00", 0),
            ("09:05", 545),
            ("23:59", 1439),
            ("24:00", 1440),
        ] {
            let t: ClockTime = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(t.minutes(), minutes);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{text}\""));
        }
        let bad = serde_json::from_str::<ClockTime>("\"8:30\"").unwrap_err();
        assert!(bad.to_string().contains("HH:MM"), "{bad}");
        assert!(serde_json::from_str::<ClockTime>("830").is_err());
    }

    #[test]
    fn opening_hours_read_and_write_as_days_of_ranges() {
        let json =
            r#"{"mon":[{"from":"08:30","to":"12:00"},{"from":"14:00","to":"21:00"}],"sun":[]}"#;
        let hours: OpeningHours = serde_json::from_str(json).unwrap();
        assert_eq!(
            hours.mon,
            vec![range((8, 30), (12, 0)), range((14, 0), (21, 0))]
        );
        assert!(hours.tue.is_empty() && hours.sun.is_empty());
        assert_eq!(hours.describe(Weekday::Mon), "08:30–12:00, 14:00–21:00");
        assert_eq!(hours.describe(Weekday::Tue), "closed");
        let back = serde_json::to_value(&hours).unwrap();
        assert_eq!(
            back["mon"][1],
            serde_json::json!({"from": "14:00", "to": "21:00"})
        );
        assert_eq!(back["sat"], serde_json::json!([]));

        for bad in [
            r#"{"monday":[]}"#,
            r#"{"mon":[{"from":"08:30","to":"25:00"}]}"#,
            r#"{"mon":[{"from":"08:30","to":"12:00","note":"x"}]}"#,
        ] {
            assert!(serde_json::from_str::<OpeningHours>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slot_lengths_come_from_a_closed_list() {
        for ok in SLOT_MINUTES {
            assert_eq!(check_slot_minutes(ok), Ok(()));
            assert!((1440 % ok) == 0);
        }
        let err = check_slot_minutes(25).unwrap_err();
        assert_eq!(
            (err.pointer.as_str(), err.code),
            ("/slot_minutes", "unsupported")
        );
        assert_eq!(
            err.detail,
            "slot_minutes must be one of 15, 20, 30, 45, 60, 90, 120, not 25"
        );
        assert!(check_slot_minutes(0).is_err());
        assert!(check_slot_minutes(1440).is_err());
    }

    #[test]
    fn good_hours_pass_including_until_midnight_and_touching_ranges() {
        let mut hours = OpeningHours::every_day(&[range((8, 0), (12, 0)), range((14, 0), (21, 0))]);
        hours.sun = vec![range((0, 0), (12, 0)), range((12, 0), (24, 0))];
        hours.sat = vec![];
        assert_eq!(hours.validate(60), Ok(()));
        assert_eq!(hours.validate(30), Ok(()));
        assert_eq!(hours.validate(15), Ok(()));
        assert!(hours.validate(120).is_err()); // 21:00 isn't on a 2-hour grid
    }

    #[test]
    fn hours_must_lie_on_the_slot_grid() {
        let hours = OpeningHours {
            mon: vec![range((8, 30), (12, 0)), range((14, 0), (21, 15))],
            ..OpeningHours::default()
        };
        assert_eq!(hours.validate(30).map_err(|p| codes(&p).len()), Err(1));
        let problems = hours.validate(60).unwrap_err();
        assert_eq!(
            codes(&problems),
            vec![
                ("/opening_hours/mon/0/from", "not_aligned"),
                ("/opening_hours/mon/1/to", "not_aligned"),
            ]
        );
        assert_eq!(
            problems[0].detail,
            "with 60-minute slots, opening times must be whole multiples of 60 minutes \
             from 00:00; 08:30 isn't"
        );
        // 45-minute slots: 00:00, 00:45, 01:30 … 08:15, 09:00.
        let hours = OpeningHours {
            tue: vec![range((8, 15), (9, 0)), range((9, 0), (9, 30))],
            ..OpeningHours::default()
        };
        assert_eq!(
            codes(&hours.validate(45).unwrap_err()),
            vec![("/opening_hours/tue/1/to", "not_aligned")]
        );
        // An unsupported slot length is reported elsewhere, not once per time.
        assert_eq!(hours.validate(25), Ok(()));
    }

    #[test]
    fn ranges_must_be_non_empty_in_order_and_not_overlap() {
        let hours = OpeningHours {
            wed: vec![
                range((14, 0), (21, 0)),
                range((8, 0), (12, 0)),
                range((12, 0), (12, 0)),
                range((20, 0), (19, 0)),
            ],
            ..OpeningHours::default()
        };
        assert_eq!(
            codes(&hours.validate(60).unwrap_err()),
            vec![
                ("/opening_hours/wed/1/from", "overlapping"),
                ("/opening_hours/wed/2/to", "not_after_from"),
                ("/opening_hours/wed/2/from", "overlapping"),
                ("/opening_hours/wed/3/to", "not_after_from"),
                ("/opening_hours/wed/3/from", "overlapping"),
            ]
        );
        let too_many = OpeningHours {
            fri: (0..9).map(|h| range((h * 2, 0), (h * 2 + 1, 0))).collect(),
            ..OpeningHours::default()
        };
        assert_eq!(
            codes(&too_many.validate(60).unwrap_err()),
            vec![("/opening_hours/fri", "too_many_ranges")]
        );
    }
}

#[cfg(all(test, feature = "openapi"))]
mod schema_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use utoipa::PartialSchema;

    #[test]
    fn clock_times_are_strings_in_the_spec() {
        let schema = serde_json::to_value(ClockTime::schema()).unwrap();
        assert_eq!(schema["type"], serde_json::json!("string"));
        let hours = serde_json::to_value(OpeningHours::schema()).unwrap();
        assert!(hours["properties"]["sun"].is_object(), "{hours}");
        assert_ne!(hours["additionalProperties"], serde_json::json!(true));
    }
}
