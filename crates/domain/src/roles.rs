//! Roles and what they allow. A role is always bound to an organisation, and its
//! authority covers that organisation's subtree and nothing else.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A role a user holds at an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    FederationAdmin,
    UnionAdmin,
    InsuranceReviewer,
    PalaceStaff,
    Judge,
    Mediator,
}

impl Role {
    /// Every role, in the order the spec lists them.
    pub const ALL: [Role; 6] = [
        Role::FederationAdmin,
        Role::UnionAdmin,
        Role::InsuranceReviewer,
        Role::PalaceStaff,
        Role::Judge,
        Role::Mediator,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::FederationAdmin => "federation_admin",
            Role::UnionAdmin => "union_admin",
            Role::InsuranceReviewer => "insurance_reviewer",
            Role::PalaceStaff => "palace_staff",
            Role::Judge => "judge",
            Role::Mediator => "mediator",
        }
    }

    /// Whether this role administers its subtree: organisations and staff accounts.
    pub fn administers(self) -> bool {
        matches!(self, Role::FederationAdmin | Role::UnionAdmin)
    }

    /// Whether a holder of `self` may grant `other`. Only federation admins mint
    /// federation admins; any administering role may grant the others (in its subtree).
    pub fn may_grant(self, other: Role) -> bool {
        match other {
            Role::FederationAdmin => self == Role::FederationAdmin,
            _ => self.administers(),
        }
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_administer_and_grant() {
        assert!(Role::FederationAdmin.administers());
        assert!(Role::UnionAdmin.administers());
        assert!(!Role::Judge.administers());
        assert!(Role::FederationAdmin.may_grant(Role::FederationAdmin));
        assert!(!Role::UnionAdmin.may_grant(Role::FederationAdmin));
        assert!(Role::UnionAdmin.may_grant(Role::PalaceStaff));
        assert!(!Role::PalaceStaff.may_grant(Role::Judge));
    }
}
