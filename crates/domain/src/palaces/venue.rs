//! Venues: their kinds, and the terms the booking rules read (units, slot length, time
//! zone, opening hours, rules, prices).

use super::{BookingRules, Closure, OpeningHours, Slot, check_slot_minutes, slots_on};
use crate::insurance::{AmountError, FieldProblem, wire_enum};
use chrono::NaiveDate;
use chrono_tz::Tz;

wire_enum!(
    /// What a venue is for. Informational: every kind books the same way.
    VenueKind {
        TableTennis => "table_tennis",
        Basketball => "basketball",
        Tennis => "tennis",
        Gateball => "gateball",
        Badminton => "badminton",
        Darts => "darts",
        Archery => "archery",
        Gym => "gym",
        ReadingRoom => "reading_room",
        Other => "other",
    }
);

/// The most units (tables, courts, lanes) one venue may have.
pub const MAX_UNITS: u32 = 500;

/// The highest price per unit per slot: ¥10,000, far above any palace's, so that a
/// booking's price always fits in an `i64`.
pub const MAX_PRICE_FEN: i64 = 1_000_000;

/// Everything about a venue that the booking rules read. (Its id, name, kind, palace
/// and capacity per unit are storage's business.) The JSON pointers in
/// [`VenueTerms::validate`]'s problems assume a request body with these field names,
/// `opening_hours` and `booking_rules` nested; the time zone is the palace's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueTerms {
    /// Tables or courts that can be booked separately, 1 to [`MAX_UNITS`].
    pub units: u32,
    /// One of [`SLOT_MINUTES`](super::SLOT_MINUTES).
    pub slot_minutes: u32,
    /// The palace's time zone; opening hours and "days" are its wall clock.
    pub time_zone: Tz,
    pub opening_hours: OpeningHours,
    pub booking_rules: BookingRules,
    /// Per unit per slot, for members. Free (0) at most palaces.
    pub member_price_fen: i64,
    /// Per unit per slot, for guests staff book in, when the venue isn't members-only.
    pub guest_price_fen: i64,
}

impl VenueTerms {
    /// Every problem with the terms: units, slot length, each opening range, each rule
    /// and both prices.
    pub fn validate(&self) -> Result<(), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        if !(1..=MAX_UNITS).contains(&self.units) {
            problems.push(FieldProblem::new(
                "/units",
                "out_of_range",
                format!("must be 1 to {MAX_UNITS}, not {}", self.units),
            ));
        }
        if let Err(problem) = check_slot_minutes(self.slot_minutes) {
            problems.push(problem);
        }
        if let Err(more) = self.opening_hours.validate(self.slot_minutes) {
            problems.extend(more);
        }
        if let Err(more) = self.booking_rules.validate() {
            problems.extend(more);
        }
        for (pointer, fen) in [
            ("/member_price_fen", self.member_price_fen),
            ("/guest_price_fen", self.guest_price_fen),
        ] {
            if !(0..=MAX_PRICE_FEN).contains(&fen) {
                problems.push(FieldProblem::new(
                    pointer,
                    "out_of_range",
                    format!("must be 0 to {MAX_PRICE_FEN} fen, not {fen}"),
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The slots of the local `date`; see [`slots_on`].
    pub fn slots_on(&self, date: NaiveDate, closures: &[Closure]) -> Vec<Slot> {
        slots_on(
            date,
            self.time_zone,
            &self.opening_hours,
            self.slot_minutes,
            closures,
        )
    }

    /// What a booking of `units` units over `slots` slots costs: the member or guest
    /// price per unit per slot.
    pub fn price_fen(&self, for_guest: bool, units: u32, slots: u32) -> Result<i64, AmountError> {
        let per = if for_guest {
            self.guest_price_fen
        } else {
            self.member_price_fen
        };
        per.checked_mul(i64::from(units))
            .and_then(|p| p.checked_mul(i64::from(slots)))
            .ok_or(AmountError::Overflow)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::slots::tests::palace_hours;
    use super::*;

    /// Four tables, hour slots, Shanghai, the palace hours and the default rules.
    pub(crate) fn table_tennis() -> VenueTerms {
        VenueTerms {
            units: 4,
            slot_minutes: 60,
            time_zone: chrono_tz::Asia::Shanghai,
            opening_hours: palace_hours(),
            booking_rules: BookingRules::default(),
            member_price_fen: 0,
            guest_price_fen: 2_000,
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for k in VenueKind::ALL {
            assert_eq!(k.as_str().parse::<VenueKind>(), Ok(*k));
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(VenueKind::ALL.len(), 10);
        assert!("pool".parse::<VenueKind>().is_err());
        assert_eq!(
            serde_json::to_string(&VenueKind::ReadingRoom).unwrap(),
            "\"reading_room\""
        );
    }

    #[test]
    fn the_example_venue_is_valid_and_free_for_members() {
        let venue = table_tennis();
        assert_eq!(venue.validate(), Ok(()));
        assert_eq!(venue.price_fen(false, 1, 1), Ok(0));
        assert_eq!(venue.price_fen(true, 2, 3), Ok(12_000));
        let mut dear = venue.clone();
        dear.guest_price_fen = i64::MAX;
        assert_eq!(dear.price_fen(true, 2, 1), Err(AmountError::Overflow));
    }

    #[test]
    fn venue_validation_gathers_every_part() {
        let mut venue = table_tennis();
        venue.units = 0;
        venue.slot_minutes = 25;
        venue.opening_hours.mon[0].to = venue.opening_hours.mon[0].from;
        venue.booking_rules.max_units_per_booking = Some(0);
        venue.member_price_fen = -1;
        venue.guest_price_fen = MAX_PRICE_FEN + 1;
        let problems = venue.validate().unwrap_err();
        let codes: Vec<_> = problems
            .iter()
            .map(|p| (p.pointer.as_str(), p.code))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("/units", "out_of_range"),
                ("/slot_minutes", "unsupported"),
                ("/opening_hours/mon/0/to", "not_after_from"),
                ("/booking_rules/max_units_per_booking", "out_of_range"),
                ("/member_price_fen", "out_of_range"),
                ("/guest_price_fen", "out_of_range"),
            ]
        );
    }
}
