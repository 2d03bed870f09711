//! Membership: who is a member of which union, in what state, and how that changes.
//!
//! Statuses and the moves between them, occupations and employment forms, member card
//! numbers (`36` + 12 digits + a Luhn check digit), and the rule that a birth date or
//! gender a client sends must agree with the ID number. Personal data arrives here
//! already sealed: this crate never sees a key or a cipher.

use crate::ids::{MemberId, OrgId, UserId};
use crate::person::{Gender, IdNumber, check_digit_luhn};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use thiserror::Error;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in the order the spec lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or(())
            }
        }
    };
}

wire_enum!(
    /// Where a membership stands. Only `active` counts towards "one active membership
    /// per person". `transferred` marks a membership closed by a transfer; transfers
    /// here move the membership itself (it stays `active` in the new union and its
    /// history records the move), so current records don't enter that state.
    MemberStatus {
        Active => "active",
        Transferred => "transferred",
        Withdrawn => "withdrawn",
        Lapsed => "lapsed",
    }
);

wire_enum!(
    /// What a member does for a living; gig-economy work is named.
    Occupation {
        DeliveryRider => "delivery_rider",
        RideHailingDriver => "ride_hailing_driver",
        Courier => "courier",
        LiveStreamer => "live_streamer",
        CommunityEcommerce => "community_ecommerce",
        TruckDriver => "truck_driver",
        DomesticWorker => "domestic_worker",
        FactoryWorker => "factory_worker",
        Other => "other",
    }
);

wire_enum!(
    /// Whether the member has a standard employment contract or works through a platform.
    EmploymentForm {
        Standard => "standard",
        Gig => "gig",
    }
);

wire_enum!(
    /// What happened to a membership, as its history records it.
    MemberEventKind {
        Joined => "joined",
        Updated => "updated",
        Transferred => "transferred",
        Withdrawn => "withdrawn",
        Lapsed => "lapsed",
        Reinstated => "reinstated",
    }
);

/// A change of state an admin can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// Move to another union; the member stays active there.
    Transfer,
    /// The member leaves.
    Withdraw,
    /// The membership lapses (dues unpaid, lost contact).
    Lapse,
    /// A withdrawn or lapsed member comes back.
    Reinstate,
}

/// Why a transition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a {from} membership can't be {verb}", from = .from.as_str(), verb = .transition.past_tense())]
pub struct TransitionError {
    pub from: MemberStatus,
    pub transition: Transition,
}

impl Transition {
    fn past_tense(self) -> &'static str {
        match self {
            Transition::Transfer => "transferred",
            Transition::Withdraw => "withdrawn",
            Transition::Lapse => "lapsed",
            Transition::Reinstate => "reinstated",
        }
    }

    /// The event a successful transition records.
    pub fn event_kind(self) -> MemberEventKind {
        match self {
            Transition::Transfer => MemberEventKind::Transferred,
            Transition::Withdraw => MemberEventKind::Withdrawn,
            Transition::Lapse => MemberEventKind::Lapsed,
            Transition::Reinstate => MemberEventKind::Reinstated,
        }
    }

    /// The status after this transition from `from`, or why it isn't allowed.
    pub fn apply(self, from: MemberStatus) -> Result<MemberStatus, TransitionError> {
        use MemberStatus::*;
        let to = match (self, from) {
            (Transition::Transfer, Active) => Some(Active),
            (Transition::Withdraw, Active) => Some(Withdrawn),
            (Transition::Lapse, Active) => Some(Lapsed),
            (Transition::Reinstate, Withdrawn | Lapsed) => Some(Active),
            _ => None,
        };
        to.ok_or(TransitionError {
            from,
            transition: self,
        })
    }
}

/// The prefix of every member card number (Jiangxi's GB/T 2260 province code).
pub const CARD_PREFIX: &str = "36";

/// How many serial digits follow the prefix.
pub const CARD_SERIAL_DIGITS: u32 = 12;

/// The card number for a serial (taken modulo 10^12): `36`, the serial as 12 digits,
/// and a Luhn check digit, 15 digits in all. Serials are drawn at random; the
/// database's unique constraint catches the rare collision and the caller retries.
pub fn card_number(serial: u64) -> String {
    let serial = serial % 10u64.pow(CARD_SERIAL_DIGITS);
    let payload = format!("{CARD_PREFIX}{serial:012}");
    let check = check_digit_luhn(&payload);
    format!("{payload}{check}")
}

/// A client-sent attribute that contradicts the ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum IdentityMismatch {
    #[error("gender does not match the ID number")]
    Gender,
    #[error("birth_date does not match the ID number")]
    BirthDate,
}

impl IdentityMismatch {
    /// The request field at fault.
    pub fn field(self) -> &'static str {
        match self {
            IdentityMismatch::Gender => "gender",
            IdentityMismatch::BirthDate => "birth_date",
        }
    }

    /// A stable machine-readable code for API error details.
    pub fn code(self) -> &'static str {
        "id_number_mismatch"
    }
}

/// The gender and birth date of the holder of `id`: derived from the number, and
/// checked against what the client sent, if it sent them.
pub fn identity_of(
    id: &IdNumber,
    gender: Option<Gender>,
    birth_date: Option<NaiveDate>,
) -> Result<(Gender, NaiveDate), Vec<IdentityMismatch>> {
    let mut wrong = Vec::new();
    if gender.is_some_and(|g| g != id.gender()) {
        wrong.push(IdentityMismatch::Gender);
    }
    if birth_date.is_some_and(|d| d != id.birth_date()) {
        wrong.push(IdentityMismatch::BirthDate);
    }
    if wrong.is_empty() {
        Ok((id.gender(), id.birth_date()))
    } else {
        Err(wrong)
    }
}

/// A membership as storage holds it. The ID number and phone are sealed (encrypted by
/// the API layer); `*_sealed` fields are opaque here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: MemberId,
    pub org_id: OrgId,
    pub name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub id_number_sealed: String,
    pub phone_sealed: String,
    pub employer: Option<String>,
    pub occupation: Occupation,
    pub employment_form: EmploymentForm,
    pub card_no: String,
    pub status: MemberStatus,
    pub joined_on: NaiveDate,
    /// Bumped on every change; the API's `ETag`.
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// One entry in a membership's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEvent {
    pub id: uuid::Uuid,
    pub member_id: MemberId,
    pub kind: MemberEventKind,
    pub from_org_id: Option<OrgId>,
    pub to_org_id: Option<OrgId>,
    pub from_status: Option<MemberStatus>,
    pub to_status: Option<MemberStatus>,
    pub reason: Option<String>,
    pub actor_user_id: Option<UserId>,
    pub request_id: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

wire_enum!(
    /// Where a join application stands. Only `pending` ones can be decided.
    ApplicationStatus {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

/// An application to join a union, as stored: the applicant's personal data sealed,
/// and (once decided) who decided, when, why, and the membership it created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinApplication {
    pub id: uuid::Uuid,
    pub org_id: OrgId,
    pub name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    /// Ciphertext, as for members.
    pub id_number_sealed: String,
    pub id_number_hash: String,
    pub phone_sealed: String,
    pub phone_hash: String,
    pub employer: Option<String>,
    pub occupation: Occupation,
    pub employment_form: EmploymentForm,
    /// The argon2id hash of the password the applicant chose (none when staff applied
    /// on someone's behalf without one).
    pub password_hash: Option<String>,
    /// SHA-256 (hex) of the status secret handed out once at submission.
    pub secret_hash: String,
    pub status: ApplicationStatus,
    pub reason: Option<String>,
    pub submitted_by_user_id: Option<UserId>,
    pub decided_by_user_id: Option<UserId>,
    pub member_id: Option<MemberId>,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::person::card_number_is_valid;

    #[test]
    fn wire_names_round_trip() {
        for s in MemberStatus::ALL {
            assert_eq!(s.as_str().parse::<MemberStatus>(), Ok(*s));
        }
        for o in Occupation::ALL {
            assert_eq!(o.as_str().parse::<Occupation>(), Ok(*o));
        }
        for e in EmploymentForm::ALL {
            assert_eq!(e.as_str().parse::<EmploymentForm>(), Ok(*e));
        }
        for k in MemberEventKind::ALL {
            assert_eq!(k.as_str().parse::<MemberEventKind>(), Ok(*k));
        }
        assert_eq!(Occupation::ALL.len(), 9);
        assert!("retired".parse::<MemberStatus>().is_err());
        assert_eq!(
            serde_json::to_string(&Occupation::RideHailingDriver).ok(),
            Some("\"ride_hailing_driver\"".into())
        );
    }

    #[test]
    fn transitions_follow_the_lifecycle() {
        use MemberStatus::*;
        use Transition::*;
        assert_eq!(Transfer.apply(Active), Ok(Active));
        assert_eq!(Withdraw.apply(Active), Ok(Withdrawn));
        assert_eq!(Lapse.apply(Active), Ok(Lapsed));
        assert_eq!(Reinstate.apply(Withdrawn), Ok(Active));
        assert_eq!(Reinstate.apply(Lapsed), Ok(Active));
        for refused in [
            (Reinstate, Active),
            (Reinstate, Transferred),
            (Transfer, Withdrawn),
            (Transfer, Lapsed),
            (Withdraw, Withdrawn),
            (Withdraw, Lapsed),
            (Lapse, Lapsed),
            (Lapse, Withdrawn),
            (Withdraw, Transferred),
        ] {
            assert!(refused.0.apply(refused.1).is_err(), "{refused:?}");
        }
        let err = Withdraw.apply(Lapsed).unwrap_err();
        assert_eq!(err.to_string(), "a lapsed membership can't be withdrawn");
        assert_eq!(Transfer.event_kind(), MemberEventKind::Transferred);
        assert_eq!(Reinstate.event_kind(), MemberEventKind::Reinstated);
    }

    #[test]
    fn card_numbers_carry_a_luhn_digit() {
        for serial in [0, 1, 42, 999_999_999_999, 123_456_789_012, u64::MAX] {
            let card = card_number(serial);
            assert_eq!(card.len(), 15, "{card}");
            assert!(card.starts_with("36"));
            assert!(card_number_is_valid(&card), "{card}");
        }
        assert_eq!(
            card_number(0),
            format!("36000000000000{}", check_digit_luhn("36000000000000"))
        );
        assert_ne!(card_number(1), card_number(2));
    }

    #[test]
    fn identity_is_derived_and_checked() {
        // 11010519491231002X: born 1949-12-31, female.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let born = NaiveDate::from_ymd_opt(1949, 12, 31).unwrap();
        assert_eq!(identity_of(&id, None, None), Ok((Gender::Female, born)));
        assert_eq!(
            identity_of(&id, Some(Gender::Female), Some(born)),
            Ok((Gender::Female, born))
        );
        assert_eq!(
            identity_of(&id, Some(Gender::Male), None),
            Err(vec![IdentityMismatch::Gender])
        );
        let other = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
        assert_eq!(
            identity_of(&id, Some(Gender::Male), Some(other)),
            Err(vec![IdentityMismatch::Gender, IdentityMismatch::BirthDate])
        );
        assert_eq!(IdentityMismatch::BirthDate.field(), "birth_date");
    }
}
