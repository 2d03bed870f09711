//! Rules for login accounts: usernames and passwords.

use crate::ids::{MemberId, OrgId, UserId};
use crate::orgs::{OrgPath, Reach};
use crate::roles::Role;
use thiserror::Error;

/// A role held at an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleBinding {
    pub role: Role,
    pub org_id: OrgId,
}

/// A login account as the rest of the system sees it (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// The organisation the account belongs to; it decides who may manage the account.
    pub org_id: OrgId,
    pub disabled: bool,
    pub roles: Vec<RoleBinding>,
    /// Bumped on every change; the API's `ETag`.
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Who is calling, as loaded fresh from storage for each request: so a disabled
/// account or a withdrawn role stops working at once, not when a token expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    /// The organisation the account belongs to.
    pub org_id: OrgId,
    pub disabled: bool,
    /// Each role with the path of the organisation it is bound to.
    pub bindings: Vec<(Role, OrgId, OrgPath)>,
    /// Set on a member account: the membership it may read (it holds no roles).
    pub member_id: Option<MemberId>,
    /// The organisation tree's version when this caller was read. Every change to any
    /// organisation raises it, so what was built from the tree at one version (a page
    /// of organisations) may be served again to a caller read at the same version.
    pub tree_version: i64,
}

impl Caller {
    /// Where the caller may act with any role satisfying `qualifies`.
    pub fn reach(&self, qualifies: impl Fn(Role) -> bool) -> Reach {
        Reach::over(
            self.bindings
                .iter()
                .filter(|(role, _, _)| qualifies(*role))
                .map(|(_, _, path)| path.clone())
                .collect(),
        )
    }

    /// Where the caller administers organisations and staff.
    pub fn admin_reach(&self) -> Reach {
        self.reach(Role::administers)
    }

    /// Whether the caller may grant `role` at an organisation with `path`: they must
    /// hold a role there (or above) that may grant it.
    pub fn may_grant(&self, role: Role, path: &OrgPath) -> bool {
        self.bindings
            .iter()
            .any(|(held, _, held_path)| held.may_grant(role) && held_path.contains(path))
    }
}

/// Why a username or password was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CredentialError {
    #[error(
        "username must be 3-64 characters of lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    Username,
    #[error("password must be 10-128 characters")]
    PasswordLength,
}

impl CredentialError {
    /// A stable machine-readable code for API error details.
    pub fn code(&self) -> &'static str {
        match self {
            CredentialError::Username => "username",
            CredentialError::PasswordLength => "password_length",
        }
    }
}

/// Usernames are ASCII so they can't be spoofed with look-alike characters, and
/// lowercase so `Admin` and `admin` can't both exist.
pub fn check_username(username: &str) -> Result<(), CredentialError> {
    let ok_len = (3..=64).contains(&username.len());
    let ok_first = username
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let ok_chars = username
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok_len && ok_first && ok_chars {
        Ok(())
    } else {
        Err(CredentialError::Username)
    }
}

/// Length is what makes a password strong; the upper bound keeps hashing cheap.
pub fn check_password(password: &str) -> Result<(), CredentialError> {
    if (10..=128).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(CredentialError::PasswordLength)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_grants_only_below_its_bindings() {
        let root = OrgPath::root(OrgId::new());
        let city = root.child(OrgId::new());
        let county = city.child(OrgId::new());
        let caller = Caller {
            user_id: UserId::new(),
            username: "city-admin".into(),
            display_name: "City admin".into(),
            org_id: OrgId::new(),
            disabled: false,
            bindings: vec![(Role::UnionAdmin, OrgId::new(), city.clone())],
            member_id: None,
            tree_version: 1,
        };
        assert!(caller.may_grant(Role::PalaceStaff, &county));
        assert!(caller.may_grant(Role::UnionAdmin, &city));
        assert!(!caller.may_grant(Role::FederationAdmin, &county));
        assert!(!caller.may_grant(Role::UnionAdmin, &root));
        assert!(caller.admin_reach().covers(&county));
        assert!(!caller.admin_reach().covers(&root));
        assert!(caller.reach(|r| r == Role::Judge).is_empty());
    }

    #[test]
    fn usernames() {
        assert!(check_username("admin").is_ok());
        assert!(check_username("zhang.san-2").is_ok());
        assert!(check_username("ab").is_err());
        assert!(check_username("Admin").is_err());
        assert!(check_username("_admin").is_err());
        assert!(check_username("张三").is_err());
        assert!(check_username(&"a".repeat(65)).is_err());
    }

    #[test]
    fn passwords() {
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(129)).is_err());
        assert!(check_password("十个汉字的密码很安全吧").is_ok());
    }
}
