//! Workers' cultural palaces: venues, their weekly hours and closures, the slot grid of
//! a day and what is free in it, and the rules a booking must keep, down to
//! cancellation, check-in, no-shows and bans.
//!
//! Conventions the rest of the service relies on:
//!
//! - **Two clocks.** Instants (bookings, closures, `now`) are UTC. Opening hours and
//!   "days" are the palace's wall clock in its time zone (`Asia/Shanghai` unless it
//!   says otherwise): "today", "a day" for the daily limits and "days ahead" are local
//!   dates, and a booking belongs to the local date of its start.
//! - **The grid.** A venue's slots are `slot_minutes` long ([`SLOT_MINUTES`]), counted
//!   from local 00:00; opening ranges lie on the grid, so each range is whole slots and
//!   the last ends exactly at closing time. A booking is a run of consecutive offered
//!   slots: it starts and ends on the grid and can't cross a gap in the hours.
//! - **Clock changes.** A local time that happens twice means the earlier instant; one
//!   that never happens is skipped as a slot start, and as an end means the moment the
//!   clocks jumped. [`slots_on`] says what that does to a changeover night; Shanghai
//!   never has one.
//! - **Closures** close every slot they touch at all, and refuse every booking they
//!   touch.
//! - **Capacity** is the database's to enforce under concurrency; [`fits`] and
//!   [`peak_units`] state the rule for storage's conditional update and for tests.
//! - **No-shows and bans are computed**, never stored: a `booked` booking past its end
//!   plus grace is a no-show ([`effective_status`]), and a member's ban follows from
//!   their no-shows ([`ban_after`]), so both hold even if no background job ever ran.
//! - **Problems.** Validation problems are the insurance module's [`FieldProblem`], so
//!   the API maps both alike (422). A ban is a [`BookingRefusal::Banned`] (403).
//! - **Money** is integer fen per unit per slot; members pay `member_price_fen` (0 by
//!   default), guests `guest_price_fen`.

mod bookings;
mod hours;
mod rules;
mod slots;
mod venue;

pub use crate::insurance::FieldProblem;
pub use bookings::{
    BookerContext, BookingQuote, BookingRefusal, BookingRequest, BookingStatus,
    CHECK_IN_CODE_DIGITS, MAX_BOOKING_HOURS, StoredStatus, ban_after, booking_minutes,
    check_booking_request, check_in_code_from_mac, check_in_code_message, check_in_codes_match,
    check_in_window, effective_status, may_cancel, may_check_in, no_show_lookback,
};
pub use hours::{
    BadClockTime, ClockTime, MAX_RANGES_PER_DAY, OpeningHours, SLOT_MINUTES, TimeRange,
    check_slot_minutes,
};
pub use rules::{
    BookingRules, MAX_BAN_DAYS, MAX_CHECK_IN_WINDOW_MINUTES, MAX_DAYS_AHEAD, MAX_GRACE_MINUTES,
    MAX_NOTICE_MINUTES, NO_SHOW_WINDOW_DAYS,
};
pub use slots::{
    BookedUnits, Closure, MAX_CLOSURE_REASON_CHARS, Slot, SlotAvailability, availability,
    day_bounds, fits, local_date, peak_units, slots_on,
};
pub use venue::{MAX_PRICE_FEN, MAX_UNITS, VenueKind, VenueTerms};
