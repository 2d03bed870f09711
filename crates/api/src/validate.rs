//! Field rules for `#[validate(custom(function = …))]`, each delegating to the domain
//! rule and carrying its stable code, so every endpoint reports a bad value the same way.

use unionhall_domain::{orgs, person, users};
use validator::ValidationError;

fn refused(code: &'static str, message: String) -> ValidationError {
    ValidationError::new(code).with_message(message.into())
}

/// Non-blank text without control characters (names, titles).
pub fn plain_text(text: &str) -> Result<(), ValidationError> {
    if text.chars().any(char::is_control) || text.trim().is_empty() {
        Err(refused(
            "text",
            "must be non-blank text without control characters".into(),
        ))
    } else {
        Ok(())
    }
}

/// An organisation code: lowercase letters, digits, `-`, `_`.
pub fn org_code(code: &str) -> Result<(), ValidationError> {
    if code
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(refused(
            "code",
            "use lowercase letters, digits, '-' and '_'".into(),
        ))
    }
}

/// A current GB/T 2260 region code.
pub fn region_code(code: &str) -> Result<(), ValidationError> {
    orgs::check_region_code(code).map_err(|e| refused(e.code(), e.to_string()))
}

/// An IANA time zone name.
pub fn time_zone(name: &str) -> Result<(), ValidationError> {
    orgs::check_time_zone(name)
        .map(|_| ())
        .map_err(|e| refused(e.code(), e.to_string()))
}

/// A username.
pub fn username(name: &str) -> Result<(), ValidationError> {
    users::check_username(name).map_err(|e| refused(e.code(), e.to_string()))
}

/// A new password.
pub fn password(pw: &str) -> Result<(), ValidationError> {
    users::check_password(pw).map_err(|e| refused(e.code(), e.to_string()))
}

/// A person's name (Chinese, minority with `·`, or Latin), 1–50 characters.
pub fn person_name(name: &str) -> Result<(), ValidationError> {
    // Parsing trims surrounding whitespace; a control character anywhere (even a
    // trailing newline) is refused rather than silently dropped.
    if name.chars().any(char::is_control) {
        return Err(refused(
            person::PersonDataError::Name.code(),
            person::PersonDataError::Name.to_string(),
        ));
    }
    person::PersonName::parse(name)
        .map(|_| ())
        .map_err(|e| refused(e.code(), e.to_string()))
}

/// A resident ID number (GB 11643-1999). The message never repeats the value.
pub fn id_number(id: &str) -> Result<(), ValidationError> {
    person::IdNumber::parse(id)
        .map(|_| ())
        .map_err(|e| refused(e.code(), e.to_string()))
}

/// A mainland mobile number. The message never repeats the value.
pub fn phone(phone: &str) -> Result<(), ValidationError> {
    person::Phone::parse(phone)
        .map(|_| ())
        .map_err(|e| refused(e.code(), e.to_string()))
}
