//! Typed ids: a `UserId` can't be passed where an `OrgId` is wanted.
//!
//! Ids are UUID v7, so they sort by creation time and index well.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_type!(
    /// An organisation (federation or union) in the tree.
    OrgId
);
id_type!(
    /// A login account: staff, platform or member.
    UserId
);
id_type!(
    /// A membership: one person's record in one union.
    MemberId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_creation() {
        let a = OrgId::new();
        let b = OrgId::new();
        assert!(a < b);
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id = UserId(Uuid::nil());
        assert_eq!(
            serde_json::to_string(&id).ok().as_deref(),
            Some("\"00000000-0000-0000-0000-000000000000\"")
        );
    }
}
