//! Enrollment: who pays, and why a member named in a group enrollment was skipped.

use super::{Eligibility, wire_enum};
use crate::members::{EmploymentForm, MemberStatus, Occupation};

wire_enum!(
    /// Who pays an enrollment's premium.
    PaidBy {
        /// The union pays for its members (group enrollments, usually).
        Union => "union",
        /// The member pays for themself.
        Member => "member",
    }
);

wire_enum!(
    /// Why a member named in a group enrollment wasn't enrolled; the report lists
    /// `{member_id, reason}`.
    SkipReason {
        /// The membership isn't `active` (withdrawn, lapsed, transferred).
        NotActive => "not_active",
        /// The plan's eligibility filters (occupation, employment form) exclude them.
        NotEligible => "not_eligible",
        /// Already enrolled in this plan.
        AlreadyEnrolled => "already_enrolled",
        /// Outside the caller's organisation subtree, or no such member: the two are
        /// reported alike, so ids can't be probed.
        NotInReach => "not_in_reach",
    }
);

/// Whether a member may enrol in a plan with these eligibility rules, judged on the
/// member alone: `not_active` first, then `not_eligible`. Whether they are already
/// enrolled or within the caller's reach is for storage to say.
pub fn eligible(
    rules: &Eligibility,
    status: MemberStatus,
    occupation: Occupation,
    employment_form: EmploymentForm,
) -> Result<(), SkipReason> {
    if status != MemberStatus::Active {
        Err(SkipReason::NotActive)
    } else if !rules.admits(occupation, employment_form) {
        Err(SkipReason::NotEligible)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for r in SkipReason::ALL {
            assert_eq!(r.as_str().parse::<SkipReason>(), Ok(*r));
        }
        for p in PaidBy::ALL {
            assert_eq!(p.as_str().parse::<PaidBy>(), Ok(*p));
        }
        assert_eq!(
            serde_json::to_string(&SkipReason::NotInReach).unwrap(),
            "\"not_in_reach\""
        );
    }

    #[test]
    fn only_active_members_who_pass_the_filters_may_enrol() {
        use EmploymentForm::*;
        use Occupation::*;
        let riders = Eligibility {
            occupations: Some(vec![DeliveryRider]),
            employment_form: Some(Gig),
        };
        assert_eq!(
            eligible(&riders, MemberStatus::Active, DeliveryRider, Gig),
            Ok(())
        );
        assert_eq!(
            eligible(&riders, MemberStatus::Active, Courier, Gig),
            Err(SkipReason::NotEligible)
        );
        assert_eq!(
            eligible(&riders, MemberStatus::Active, DeliveryRider, Standard),
            Err(SkipReason::NotEligible)
        );
        for status in [
            MemberStatus::Withdrawn,
            MemberStatus::Lapsed,
            MemberStatus::Transferred,
        ] {
            // Not active wins over not eligible.
            assert_eq!(
                eligible(&riders, status, Courier, Standard),
                Err(SkipReason::NotActive)
            );
        }
        assert_eq!(
            eligible(
                &Eligibility::default(),
                MemberStatus::Active,
                Other,
                Standard
            ),
            Ok(())
        );
    }
}
