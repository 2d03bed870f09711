//! A venue's booking rules, held as data so each palace can set its own, and the checks
//! that keep them sensible.

use crate::insurance::FieldProblem;
use serde::{Deserialize, Serialize};

/// A rolling window: a member reaching the venue's `no_show_limit` no-shows within this
/// many days is banned. Thirty days forgives an occasional miss while still catching a
/// habit; it is a constant rather than a rule so that members of every palace are
/// judged alike. See [`ban_after`](super::ban_after).
pub const NO_SHOW_WINDOW_DAYS: u32 = 30;

/// Upper bounds that no palace needs to exceed; they keep typos (a ban of 1,400 days)
/// out and every sum in range.
pub const MAX_DAYS_AHEAD: u32 = 365;
/// One week, for `min_notice_minutes` and `cancel_deadline_minutes`.
pub const MAX_NOTICE_MINUTES: u32 = 7 * 24 * 60;
pub const MAX_BAN_DAYS: u32 = 365;
pub const MAX_CHECK_IN_WINDOW_MINUTES: u32 = 240;
pub const MAX_GRACE_MINUTES: u32 = 24 * 60;

/// How a venue may be booked. `null` in an optional limit means "no limit"; a field
/// left out of a request takes the default, which is the issue's example of a free,
/// members-only table-tennis hall:
///
/// one table for at most an hour a day per member, at most two tables per grassroots
/// union a day, book today or tomorrow, cancel at least 30 minutes before, check in
/// from 15 minutes before the start, and two no-shows within
/// [`NO_SHOW_WINDOW_DAYS`] days bring a 14-day ban.
///
/// The JSON pointers in [`BookingRules::validate`]'s problems assume the rules are
/// nested in the venue's body as `booking_rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct BookingRules {
    /// How many local days ahead a booking may start: 0 is today only, 1 is today and
    /// tomorrow. Counted in calendar days, so at 23:30 "tomorrow" is 30 minutes away.
    pub max_days_ahead: u32,
    /// A booking must start at least this many minutes after it is made. 0: any time
    /// before the start.
    pub min_notice_minutes: u32,
    /// A member may cancel until this many minutes before the start (exactly then is
    /// still allowed); staff may cancel any time.
    pub cancel_deadline_minutes: u32,
    /// The most minutes of bookings one member may have on one local day (by each
    /// booking's start), counting every unit-holding booking of this venue.
    pub max_minutes_per_member_per_day: Option<u32>,
    /// The most units one grassroots union's members may book on one local day,
    /// summed over their bookings of this venue.
    pub max_units_per_union_per_day: Option<u32>,
    /// The most units one booking may take.
    pub max_units_per_booking: Option<u32>,
    /// Whether only members may book; staff can book for a guest otherwise.
    pub members_only: bool,
    /// This many no-shows within [`NO_SHOW_WINDOW_DAYS`] days bring a ban. None: no
    /// bans.
    pub no_show_limit: Option<u32>,
    /// How long a ban lasts, counted from the moment the no-show that reached the
    /// limit became one.
    pub ban_days: u32,
    /// Check-in opens this many minutes before the start.
    pub check_in_window_before_minutes: u32,
    /// A booking not checked in by its end plus this many minutes is a no-show. Staff
    /// may still record a check-in during the grace; the member's code works only
    /// until the end.
    pub no_show_grace_minutes: u32,
}

impl Default for BookingRules {
    fn default() -> Self {
        BookingRules {
            max_days_ahead: 1,
            min_notice_minutes: 0,
            cancel_deadline_minutes: 30,
            max_minutes_per_member_per_day: Some(60),
            max_units_per_union_per_day: Some(2),
            max_units_per_booking: Some(1),
            members_only: true,
            no_show_limit: Some(2),
            ban_days: 14,
            check_in_window_before_minutes: 15,
            no_show_grace_minutes: 15,
        }
    }
}

impl BookingRules {
    /// Every problem with the rules, each pointing under `/booking_rules`.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        at_most(
            &mut problems,
            "max_days_ahead",
            self.max_days_ahead,
            MAX_DAYS_AHEAD,
        );
        at_most(
            &mut problems,
            "min_notice_minutes",
            self.min_notice_minutes,
            MAX_NOTICE_MINUTES,
        );
        at_most(
            &mut problems,
            "cancel_deadline_minutes",
            self.cancel_deadline_minutes,
            MAX_NOTICE_MINUTES,
        );
        limit(
            &mut problems,
            "max_minutes_per_member_per_day",
            self.max_minutes_per_member_per_day,
            Some(24 * 60),
        );
        limit(
            &mut problems,
            "max_units_per_union_per_day",
            self.max_units_per_union_per_day,
            None,
        );
        limit(
            &mut problems,
            "max_units_per_booking",
            self.max_units_per_booking,
            None,
        );
        limit(&mut problems, "no_show_limit", self.no_show_limit, None);
        at_most(&mut problems, "ban_days", self.ban_days, MAX_BAN_DAYS);
        if self.no_show_limit.is_some() && self.ban_days == 0 {
            problems.push(FieldProblem::new(
                "/booking_rules/ban_days",
                "out_of_range",
                "with a no-show limit, a ban must last at least 1 day; set no_show_limit \
                 to null for no bans",
            ));
        }
        at_most(
            &mut problems,
            "check_in_window_before_minutes",
            self.check_in_window_before_minutes,
            MAX_CHECK_IN_WINDOW_MINUTES,
        );
        at_most(
            &mut problems,
            "no_show_grace_minutes",
            self.no_show_grace_minutes,
            MAX_GRACE_MINUTES,
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

fn at_most(problems: &mut Vec<FieldProblem>, field: &str, value: u32, max: u32) {
    if value > max {
        problems.push(FieldProblem::new(
            format!("/booking_rules/{field}"),
            "out_of_range",
            format!("must be 0 to {max}, not {value}"),
        ));
    }
}

/// An optional limit: absent (null) for none, otherwise at least 1 (a limit of 0 would
/// forbid every booking) and at most `max`.
fn limit(problems: &mut Vec<FieldProblem>, field: &str, value: Option<u32>, max: Option<u32>) {
    let Some(value) = value else { return };
    let detail = match max {
        _ if value == 0 => "must be at least 1, not 0; use null for no limit".to_owned(),
        Some(max) if value > max => format!("must be 1 to {max}, not {value}"),
        _ => return,
    };
    problems.push(FieldProblem::new(
        format!("/booking_rules/{field}"),
        "out_of_range",
        detail,
    ));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_default_is_the_free_members_only_table_tennis_hall() {
        let rules = BookingRules::default();
        assert_eq!(rules.validate(), Ok(()));
        assert!(rules.members_only);
        assert_eq!(rules.max_minutes_per_member_per_day, Some(60));
        assert_eq!(rules.max_units_per_union_per_day, Some(2));
        assert_eq!(rules.max_units_per_booking, Some(1));
        assert_eq!(rules.max_days_ahead, 1);
        assert_eq!(rules.cancel_deadline_minutes, 30);
        assert_eq!((rules.no_show_limit, rules.ban_days), (Some(2), 14));
    }

    #[test]
    fn left_out_fields_take_the_default_and_null_means_no_limit() {
        let rules: BookingRules =
            serde_json::from_str(r#"{"max_days_ahead": 7, "max_units_per_booking": null}"#)
                .unwrap();
        assert_eq!(rules.max_days_ahead, 7);
        assert_eq!(rules.max_units_per_booking, None);
        assert_eq!(rules.max_minutes_per_member_per_day, Some(60));
        assert_eq!(
            serde_json::from_str::<BookingRules>("{}").unwrap(),
            BookingRules::default()
        );
        assert!(serde_json::from_str::<BookingRules>(r#"{"max_days": 7}"#).is_err());
        let round: BookingRules =
            serde_json::from_value(serde_json::to_value(BookingRules::default()).unwrap()).unwrap();
        assert_eq!(round, BookingRules::default());
    }

    #[test]
    fn validation_names_every_bad_field() {
        let rules = BookingRules {
            max_days_ahead: 366,
            min_notice_minutes: MAX_NOTICE_MINUTES + 1,
            cancel_deadline_minutes: MAX_NOTICE_MINUTES + 1,
            max_minutes_per_member_per_day: Some(1441),
            max_units_per_union_per_day: Some(0),
            max_units_per_booking: Some(0),
            members_only: true,
            no_show_limit: Some(0),
            ban_days: 0,
            check_in_window_before_minutes: 241,
            no_show_grace_minutes: 1441,
        };
        let problems = rules.validate().unwrap_err();
        let pointers: Vec<_> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            vec![
                "/booking_rules/max_days_ahead",
                "/booking_rules/min_notice_minutes",
                "/booking_rules/cancel_deadline_minutes",
                "/booking_rules/max_minutes_per_member_per_day",
                "/booking_rules/max_units_per_union_per_day",
                "/booking_rules/max_units_per_booking",
                "/booking_rules/no_show_limit",
                "/booking_rules/ban_days",
                "/booking_rules/check_in_window_before_minutes",
                "/booking_rules/no_show_grace_minutes",
            ]
        );
        assert!(problems.iter().all(|p| p.code == "out_of_range"));
        assert_eq!(
            problems[4].detail,
            "must be at least 1, not 0; use null for no limit"
        );
        assert_eq!(problems[3].detail, "must be 1 to 1440, not 1441");

        // No bans at all: a ban length of 0 is fine then.
        let lenient = BookingRules {
            no_show_limit: None,
            ban_days: 0,
            ..BookingRules::default()
        };
        assert_eq!(lenient.validate(), Ok(()));
    }
}
