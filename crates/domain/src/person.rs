//! Personal data of union members: resident ID numbers, mobile phones, names,
//! member card check digits, and masking for display.
//!
//! Each value type can only be built by parsing, so holding one means the input
//! passed the rules. ID numbers and phones have no `Display` or `Serialize` and a
//! masking `Debug`, so the full value only leaves through an explicit `as_str()`.
//! The one clock read is "today" for the ID birth-date check; `IdNumber::parse_on`
//! takes that date explicitly.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

// ─── Types ──────────────────────────────────────────────────────────────────

/// Why a piece of personal data was refused; `code()` is the slug an API reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum PersonDataError {
    #[error("ID number must be exactly 18 characters")]
    Length,
    #[error("ID number must be 17 digits followed by a digit or X")]
    Format,
    #[error("ID number check digit does not match; the number was probably mistyped")]
    Checksum,
    #[error("ID number birth date must be a real date from 1900-01-01 up to today")]
    BirthDate,
    #[error("ID number must start with a province-level region code")]
    Region,
    #[error("phone must be an 11-digit mainland China mobile number, optionally prefixed with +86")]
    Phone,
    #[error(
        "name must be 1-50 characters of Chinese characters or Latin letters, \
         separated by single spaces, middle dots (·), hyphens or apostrophes"
    )]
    Name,
}

impl PersonDataError {
    /// A stable machine-readable code for API error details.
    pub fn code(&self) -> &'static str {
        match self {
            PersonDataError::Length => "length",
            PersonDataError::Format => "format",
            PersonDataError::Checksum => "checksum",
            PersonDataError::BirthDate => "birth_date",
            PersonDataError::Region => "region",
            PersonDataError::Phone => "phone",
            PersonDataError::Name => "name",
        }
    }
}

/// Gender as encoded in the 17th digit of a resident ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }
}

impl FromStr for Gender {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "male" => Ok(Gender::Male),
            "female" => Ok(Gender::Female),
            _ => Err(()),
        }
    }
}

/// A resident national ID number (GB 11643-1999), checked and stored in canonical
/// 18-character form with an uppercase `X`.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct IdNumber {
    raw: String,
    birth_date: NaiveDate,
    gender: Gender,
}

impl IdNumber {
    /// The full canonical number; handle with care, prefer `masked()` for display.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The gender encoded in the 17th digit (odd is male, even is female).
    pub fn gender(&self) -> Gender {
        self.gender
    }
}

/// A mainland China mobile number, normalised to 11 digits without a country prefix.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Phone(String);

impl Phone {
    /// The 11 digits; prefer `masked()` for display.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as entered by a member: Chinese, minority (`买买提·吐尔逊`) or
/// foreign (`Jean-Luc Picard`), trimmed and with its separators normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<PersonName> for String {
    fn from(name: PersonName) -> Self {
        name.0
    }
}

// ─── Parsing ────────────────────────────────────────────────────────────────

/// ISO 7064 MOD 11-2 weights for the first 17 digits (2^(17-i) mod 11).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each weighted sum modulo 11.
const ID_CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Province-level GB/T 2260 prefixes, including Taiwan (71), Hong Kong (81) and
/// Macao (82). Only the first two digits are checked because ID numbers keep the
/// county code they were issued under, even after that county is abolished.
const PROVINCE_CODES: [&str; 35] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
    // Residence permits for Hong Kong, Macao and Taiwan residents use the same format.
    "83",
];

/// The earliest birth year accepted in an ID number.
const MIN_BIRTH_YEAR: i32 = 1900;

/// Today's date in China, the reference for "not born in the future".
fn today_in_china() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

/// Reads an ASCII digit string as a number; callers have already checked the digits.
fn digits_value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |acc, b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
}

impl IdNumber {
    /// Parses and validates an ID number, judging the birth date against today in China.
    pub fn parse(input: &str) -> Result<IdNumber, PersonDataError> {
        IdNumber::parse_on(input, today_in_china())
    }

    /// Like `parse`, with "today" given, for deterministic tests and historical imports.
    pub fn parse_on(input: &str, today: NaiveDate) -> Result<IdNumber, PersonDataError> {
        let trimmed = input.trim();
        if trimmed.chars().count() != 18 {
            return Err(PersonDataError::Length);
        }
        // Only a final `x` may legally be a letter; uppercasing anything else changes
        // nothing about whether it is accepted.
        let raw = trimmed.to_ascii_uppercase();
        let bytes = raw.as_bytes();
        // 18 chars that are all ASCII are also 18 bytes, so indexing below is in range.
        let (body, check) = match bytes {
            [body @ .., check] if bytes.len() == 18 => (body, *check),
            _ => return Err(PersonDataError::Format),
        };
        if !body.iter().all(u8::is_ascii_digit) || !(check.is_ascii_digit() || check == b'X') {
            return Err(PersonDataError::Format);
        }

        let expected = id_check_char(body).map(|c| c as u8);
        if expected != Some(check) {
            return Err(PersonDataError::Checksum);
        }

        if !PROVINCE_CODES.contains(&&raw[..2]) {
            return Err(PersonDataError::Region);
        }

        let year =
            i32::try_from(digits_value(&body[6..10])).map_err(|_| PersonDataError::BirthDate)?;
        let month = digits_value(&body[10..12]);
        let day = digits_value(&body[12..14]);
        let birth_date = NaiveDate::from_ymd_opt(year, month, day)
            .filter(|d| d.year() >= MIN_BIRTH_YEAR && *d <= today)
            .ok_or(PersonDataError::BirthDate)?;

        let gender = if (body[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        };

        Ok(IdNumber {
            raw,
            birth_date,
            gender,
        })
    }
}

impl FromStr for IdNumber {
    type Err = PersonDataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse(s)
    }
}

impl TryFrom<String> for IdNumber {
    type Error = PersonDataError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        IdNumber::parse(&s)
    }
}

impl Phone {
    /// Parses a mobile number written as `13812345678`, `+86 138 1234 5678`,
    /// `86-138-1234-5678` and the like.
    pub fn parse(input: &str) -> Result<Phone, PersonDataError> {
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        let national = if let Some(rest) = compact.strip_prefix("+86") {
            rest
        } else if compact.len() == 13
            && let Some(rest) = compact.strip_prefix("86")
        {
            rest
        } else {
            &compact
        };
        let ok = match national.as_bytes() {
            [b'1', second, rest @ ..] => {
                (b'3'..=b'9').contains(second)
                    && rest.len() == 9
                    && rest.iter().all(u8::is_ascii_digit)
            }
            _ => false,
        };
        if ok {
            Ok(Phone(national.to_owned()))
        } else {
            Err(PersonDataError::Phone)
        }
    }
}

impl FromStr for Phone {
    type Err = PersonDataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phone::parse(s)
    }
}

impl TryFrom<String> for Phone {
    type Error = PersonDataError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse(&s)
    }
}

/// The canonical middle dot of minority names (U+00B7).
const MIDDLE_DOT: char = '\u{00B7}';

/// Longest accepted name, in characters.
const MAX_NAME_CHARS: usize = 50;

/// Chinese characters: CJK unified ideographs (BMP and supplementary planes),
/// compatibility ideographs, and 〇 (U+3007), which appears in given names.
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2EE5F}'
        | '\u{2F800}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}')
}

/// Latin letters, including accented ones (`é`, `ñ`, `ü`, Vietnamese tones).
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}') && c.is_alphabetic())
}

/// Characters allowed between name parts.
fn is_name_separator(c: char) -> bool {
    matches!(c, ' ' | MIDDLE_DOT | '-' | '\'')
}

/// Maps look-alike dots to U+00B7 and any whitespace to a plain space.
fn normalise_name_char(c: char) -> char {
    match c {
        // bullet, katakana middle dot, hyphenation point, halfwidth katakana middle dot
        '\u{2022}' | '\u{30FB}' | '\u{2027}' | '\u{FF65}' => MIDDLE_DOT,
        // full-width (ideographic) space is what Chinese input methods type
        '\u{3000}' => ' ',
        c => c,
    }
}

impl PersonName {
    /// Parses a name: trims, normalises middle dots and spaces, then checks the
    /// characters and the 1–50 character length.
    pub fn parse(input: &str) -> Result<PersonName, PersonDataError> {
        let mut name = String::with_capacity(input.len());
        for c in input.trim().chars().map(normalise_name_char) {
            // Collapse runs of spaces, and drop spaces next to a middle dot
            // (`买买提 · 吐尔逊` → `买买提·吐尔逊`).
            let prev = name.chars().next_back();
            match (prev, c) {
                (Some(' '), ' ') | (Some(MIDDLE_DOT), ' ') => {}
                (Some(' '), MIDDLE_DOT) => {
                    name.pop();
                    name.push(c);
                }
                _ => name.push(c),
            }
        }

        let count = name.chars().count();
        let is_letter = |c: char| is_han(c) || is_latin_letter(c);
        let chars_ok = name.chars().all(|c| is_letter(c) || is_name_separator(c));
        let ends_ok = name.chars().next().is_some_and(is_letter)
            && name.chars().next_back().is_some_and(is_letter);
        let no_double_separator = !name
            .chars()
            .zip(name.chars().skip(1))
            .any(|(a, b)| is_name_separator(a) && is_name_separator(b));

        if (1..=MAX_NAME_CHARS).contains(&count) && chars_ok && ends_ok && no_double_separator {
            Ok(PersonName(name))
        } else {
            Err(PersonDataError::Name)
        }
    }
}

impl FromStr for PersonName {
    type Err = PersonDataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PersonName::parse(s)
    }
}

impl TryFrom<String> for PersonName {
    type Error = PersonDataError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PersonName::parse(&s)
    }
}

/// The GB 11643-1999 check character (ISO 7064 MOD 11-2) for the first 17 digits of an
/// ID number; `None` unless given exactly 17 ASCII digits.
pub fn id_check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    ID_CHECK_CHARS
        .get((sum % 11) as usize)
        .map(|&c| char::from(c))
}

/// The Luhn check digit for a string of digits (non-digits are skipped, so pass
/// digits only), used to make mistyped member card numbers detectable.
pub fn check_digit_luhn(payload: &str) -> char {
    let sum: u32 = payload
        .bytes()
        .filter(u8::is_ascii_digit)
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            // The digit next to the check digit is doubled, then every other one.
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap_or('0')
}

/// Whether a member card number is at least two ASCII digits whose last digit is
/// the Luhn check digit of the rest (no spaces or other characters allowed).
pub fn card_number_is_valid(card_no: &str) -> bool {
    match card_no.as_bytes() {
        [payload @ .., check] if !payload.is_empty() => {
            card_no.bytes().all(|b| b.is_ascii_digit())
                && char::from(*check) == check_digit_luhn(&card_no[..payload.len()])
        }
        _ => false,
    }
}

// ─── Masking ────────────────────────────────────────────────────────────────

/// Replaces all but the first `keep_start` and last `keep_end` characters with `*`,
/// for showing personal data in lists; if nothing would be hidden, hides everything.
pub fn mask_middle(s: &str, keep_start: usize, keep_end: usize) -> String {
    let len = s.chars().count();
    match keep_start.checked_add(keep_end) {
        Some(kept) if kept < len => s
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i < keep_start || i >= len - keep_end {
                    c
                } else {
                    '*'
                }
            })
            .collect(),
        _ => "*".repeat(len),
    }
}

impl IdNumber {
    /// The number with its middle hidden, e.g. `3608**********123X`.
    pub fn masked(&self) -> String {
        mask_middle(&self.raw, 4, 4)
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdNumber").field(&self.masked()).finish()
    }
}

impl Phone {
    /// The number with its middle hidden, e.g. `138****5678`.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 3, 4)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Phone").field(&self.masked()).finish()
    }
}

// ─── Tests ──────────────────────────────────────────────────────────────────

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as DeError;

    /// Completes 17 digits into a full ID number, computing the MOD 11-2 check
    /// character independently of the production tables: weight = 2^(17-i) mod 11.
    fn with_check(first17: &str) -> String {
        assert_eq!(first17.len(), 17, "helper needs exactly 17 digits");
        let sum: u32 = first17
            .chars()
            .enumerate()
            .map(|(i, c)| c.to_digit(10).unwrap() * (2u32.pow(17 - i as u32) % 11))
            .sum();
        let check = (12 - sum % 11) % 11;
        let check = if check == 10 {
            'X'
        } else {
            char::from_digit(check, 10).unwrap()
        };
        format!("{first17}{check}")
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A fixed "today" so the tests don't depend on the clock.
    fn today() -> NaiveDate {
        day(2025, 6, 15)
    }

    // ── IdNumber ──

    #[test]
    fn helper_agrees_with_known_real_format_example() {
        assert_eq!(with_check("11010519491231002"), "11010519491231002X");
        // Worked by hand: weighted sum 154, 154 mod 11 = 0, check character '1'.
        assert_eq!(with_check("11010119900307001"), "110101199003070011");
    }

    #[test]
    fn known_valid_id_parses_with_its_date_and_gender() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), day(1949, 12, 31));
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.masked(), "1101**********002X");
    }

    #[test]
    fn gender_follows_the_parity_of_the_17th_digit() {
        for (digit, gender) in [
            ('1', Gender::Male),
            ('3', Gender::Male),
            ('9', Gender::Male),
            ('0', Gender::Female),
            ('2', Gender::Female),
            ('8', Gender::Female),
        ] {
            let id = with_check(&format!("3608211985070512{digit}"));
            assert_eq!(
                IdNumber::parse_on(&id, today()).unwrap().gender(),
                gender,
                "{id}"
            );
        }
    }

    #[test]
    fn id_is_trimmed_and_final_x_uppercased() {
        let id = IdNumber::parse("  11010519491231002x\t").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id, IdNumber::parse("11010519491231002X").unwrap());
    }

    #[test]
    fn id_masking_keeps_four_and_four() {
        let raw = with_check("36080219800101123");
        let id = IdNumber::parse_on(&raw, today()).unwrap();
        let masked = id.masked();
        assert_eq!(masked.len(), 18);
        assert_eq!(&masked[..4], "3608");
        assert_eq!(&masked[4..14], "**********");
        assert_eq!(&masked[14..], &raw[14..]);
    }

    #[test]
    fn id_debug_output_is_masked() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        let debug = format!("{id:?}");
        assert_eq!(debug, "IdNumber(\"1101**********002X\")");
        assert!(!debug.contains("19491231"));
    }

    #[test]
    fn id_length_errors() {
        for input in [
            "",
            "   ",
            "1101051949123100",    // 16
            "11010519491231002",   // 17
            "11010519491231002X1", // 19
            "110105491231002",     // first-generation 15-digit number
        ] {
            assert_eq!(
                IdNumber::parse(input),
                Err(PersonDataError::Length),
                "{input:?}"
            );
        }
    }

    #[test]
    fn id_format_errors() {
        for input in [
            "1101051949123100XX",                   // X not only at the end
            "X10105194912310021",                   // X at the start
            "11010519491231002Y",                   // wrong final letter
            "1101051949-231002X",                   // punctuation
            "11010519491231 02X",                   // inner space
            "１１０１０５１９４９１２３１００２Ｘ", // full-width digits: 18 chars, not ASCII
        ] {
            assert_eq!(
                IdNumber::parse(input),
                Err(PersonDataError::Format),
                "{input:?}"
            );
        }
    }

    #[test]
    fn id_checksum_errors() {
        let good = with_check("36080219800101123");
        let (body, check) = good.split_at(17);
        for wrong in ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X"] {
            if wrong == check {
                continue;
            }
            let input = format!("{body}{wrong}");
            assert_eq!(
                IdNumber::parse_on(&input, today()),
                Err(PersonDataError::Checksum)
            );
        }
        // A single mistyped body digit is always caught.
        let mut typo = good.clone().into_bytes();
        typo[9] = if typo[9] == b'5' { b'6' } else { b'5' };
        let typo = String::from_utf8(typo).unwrap();
        assert_eq!(
            IdNumber::parse_on(&typo, today()),
            Err(PersonDataError::Checksum)
        );
        // Swapping adjacent different digits is caught too.
        assert_eq!(
            IdNumber::parse_on("11010591491231002X", today()),
            Err(PersonDataError::Checksum)
        );
    }

    #[test]
    fn the_check_character_completes_a_valid_number() {
        assert_eq!(id_check_char(b"11010519491231002"), Some('X'));
        assert_eq!(id_check_char(b"1101051949123100"), None);
        assert_eq!(id_check_char(b"1101051949123100a"), None);
    }

    #[test]
    fn id_region_must_be_a_province() {
        for prefix in [
            "00", "10", "16", "24", "30", "38", "47", "55", "60", "66", "72", "84", "91", "99",
        ] {
            let input = with_check(&format!("{prefix}010519800101123"));
            assert_eq!(
                IdNumber::parse_on(&input, today()),
                Err(PersonDataError::Region),
                "{input}"
            );
        }
        for prefix in PROVINCE_CODES {
            let input = with_check(&format!("{prefix}010519800101123"));
            assert!(IdNumber::parse_on(&input, today()).is_ok(), "{input}");
        }
    }

    #[test]
    fn id_accepts_retired_county_codes() {
        // 110103 (Chongwen District) and 110104 (Xuanwu District) were merged away in
        // 2010, but people born there keep those numbers for life.
        for county in ["110103", "110104"] {
            let input = with_check(&format!("{county}19650304123"));
            assert!(IdNumber::parse_on(&input, today()).is_ok(), "{input}");
        }
        // Any county digits after a real province prefix are fine.
        let input = with_check("36999919650304123");
        assert!(IdNumber::parse_on(&input, today()).is_ok());
    }

    #[test]
    fn id_birth_date_must_be_a_real_date() {
        for date in [
            "19000229", "20230229", "19800230", "19801301", "19800001", "19800100", "19800132",
            "00000000",
        ] {
            let input = with_check(&format!("360802{date}123"));
            assert_eq!(
                IdNumber::parse_on(&input, today()),
                Err(PersonDataError::BirthDate),
                "{input}"
            );
        }
        let leap = with_check("36080220000229123");
        assert_eq!(
            IdNumber::parse_on(&leap, today()).unwrap().birth_date(),
            day(2000, 2, 29)
        );
    }

    #[test]
    fn id_birth_date_range_is_1900_to_today() {
        let at = |date: &str| IdNumber::parse_on(&with_check(&format!("360802{date}123")), today());
        assert_eq!(at("18991231"), Err(PersonDataError::BirthDate));
        assert_eq!(at("19000101").unwrap().birth_date(), day(1900, 1, 1));
        assert_eq!(at("20250615").unwrap().birth_date(), today());
        assert_eq!(at("20250616"), Err(PersonDataError::BirthDate));
        assert_eq!(at("20991231"), Err(PersonDataError::BirthDate));
    }

    #[test]
    fn id_parse_uses_the_real_clock_for_the_future_check() {
        let tomorrow = today_in_china().succ_opt().unwrap();
        let input = with_check(&format!("360802{}123", tomorrow.format("%Y%m%d")));
        assert_eq!(IdNumber::parse(&input), Err(PersonDataError::BirthDate));
    }

    #[test]
    fn id_errors_are_reported_in_a_stable_order() {
        // Wrong length wins over everything; format over checksum; checksum over region
        // and date, so a typo is reported as a typo.
        assert_eq!(IdNumber::parse("abc"), Err(PersonDataError::Length));
        assert_eq!(
            IdNumber::parse("0000000000000000A0"),
            Err(PersonDataError::Format)
        );
        assert_eq!(
            IdNumber::parse("000000999999990001"),
            Err(PersonDataError::Checksum)
        );
        let bad_region_and_date = with_check("00000099999999000");
        assert_eq!(
            IdNumber::parse(&bad_region_and_date),
            Err(PersonDataError::Region)
        );
    }

    #[test]
    fn id_conversions_and_deserialisation_validate() {
        assert!("11010519491231002X".parse::<IdNumber>().is_ok());
        assert!(IdNumber::try_from(String::from("11010519491231002X")).is_ok());
        let de = IdNumber::deserialize("11010519491231002x".into_deserializer());
        let de: Result<IdNumber, DeError> = de;
        assert_eq!(de.unwrap().as_str(), "11010519491231002X");
        let bad: Result<IdNumber, DeError> =
            IdNumber::deserialize("11010519491231002".into_deserializer());
        assert!(bad.unwrap_err().to_string().contains("18 characters"));
    }

    #[test]
    fn gender_uses_snake_case_names() {
        let male: Result<Gender, DeError> = Gender::deserialize("male".into_deserializer());
        let female: Result<Gender, DeError> = Gender::deserialize("female".into_deserializer());
        let wrong: Result<Gender, DeError> = Gender::deserialize("Male".into_deserializer());
        assert_eq!(male.unwrap(), Gender::Male);
        assert_eq!(female.unwrap(), Gender::Female);
        assert!(wrong.is_err());
    }

    // ── Errors ──

    #[test]
    fn error_codes_are_stable_and_messages_human() {
        let all = [
            (PersonDataError::Length, "length"),
            (PersonDataError::Format, "format"),
            (PersonDataError::Checksum, "checksum"),
            (PersonDataError::BirthDate, "birth_date"),
            (PersonDataError::Region, "region"),
            (PersonDataError::Phone, "phone"),
            (PersonDataError::Name, "name"),
        ];
        for (err, code) in all {
            assert_eq!(err.code(), code);
            let message = err.to_string();
            assert!(message.len() > 20, "{message}");
            assert!(!message.contains('{'), "{message}");
        }
    }

    // ── Phone ──

    #[test]
    fn phones_normalise_to_eleven_digits() {
        for input in [
            "13812345678",
            " 13812345678 ",
            "138 1234 5678",
            "138-1234-5678",
            "+8613812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "8613812345678",
            "86 138 1234 5678",
            "86-13812345678",
        ] {
            assert_eq!(
                Phone::parse(input).unwrap().as_str(),
                "13812345678",
                "{input:?}"
            );
        }
        for second in '3'..='9' {
            let input = format!("1{second}012345678");
            assert_eq!(Phone::parse(&input).unwrap().as_str(), input);
        }
    }

    #[test]
    fn phones_outside_the_mobile_ranges_are_refused() {
        for input in [
            "",
            "+86",
            "86",
            "10012345678",      // 10x is not a mobile range
            "12812345678",      // 12x is not a mobile range
            "23812345678",      // doesn't start with 1
            "1381234567",       // 10 digits
            "138123456789",     // 12 digits
            "+8613812345678 9", // 12 digits after the prefix
            "+85213812345678",  // Hong Kong prefix
            "+1 138 1234 5678",
            "008613812345678",
            "86138123456", // 11 digits starting with 86: not stripped, not a mobile
            "138.1234.5678",
            "(138)12345678",
            "1381234567a",
            "１３８１２３４５６７８", // full-width digits
            "138\t1234\t5678",
            "+ 8613812345678+",
        ] {
            assert_eq!(
                Phone::parse(input),
                Err(PersonDataError::Phone),
                "{input:?}"
            );
        }
    }

    #[test]
    fn phones_mask_and_debug_hide_the_middle() {
        let phone = Phone::parse("+86 138-1234-5678").unwrap();
        assert_eq!(phone.masked(), "138****5678");
        assert_eq!(format!("{phone:?}"), "Phone(\"138****5678\")");
    }

    #[test]
    fn phone_conversions_and_deserialisation_validate() {
        assert_eq!(
            "13912345678".parse::<Phone>().unwrap().as_str(),
            "13912345678"
        );
        assert!(Phone::try_from(String::from("12345")).is_err());
        let de: Result<Phone, DeError> =
            Phone::deserialize("+86 139 1234 5678".into_deserializer());
        assert_eq!(de.unwrap().as_str(), "13912345678");
        let bad: Result<Phone, DeError> = Phone::deserialize("110".into_deserializer());
        assert!(bad.is_err());
    }

    // ── PersonName ──

    fn name(s: &str) -> Result<String, PersonDataError> {
        PersonName::parse(s).map(|n| n.as_str().to_owned())
    }

    #[test]
    fn chinese_and_foreign_names_are_accepted() {
        for input in [
            "张三",
            "欧阳娜娜",
            "王〇",
            "𠀾𡈽", // CJK extension B
            "John Smith",
            "Jean-Luc Picard",
            "Seán O'Brien",
            "José García Núñez",
            "Nguyễn Văn An",
            "A",
            "李Lily",
        ] {
            assert_eq!(name(input).as_deref(), Ok(input), "{input:?}");
        }
    }

    #[test]
    fn minority_middle_dots_are_normalised() {
        for input in [
            "买买提·吐尔逊",
            "买买提•吐尔逊",
            "买买提・吐尔逊",
            "买买提‧吐尔逊",
            "买买提･吐尔逊",
            "买买提 · 吐尔逊",
            "买买提 ·吐尔逊",
            "买买提· 吐尔逊",
        ] {
            assert_eq!(name(input).as_deref(), Ok("买买提·吐尔逊"), "{input:?}");
        }
        assert_eq!(
            name("阿沛·阿旺·晋美").as_deref(),
            Ok("阿沛\u{00B7}阿旺\u{00B7}晋美")
        );
    }

    #[test]
    fn names_are_trimmed_and_spaces_collapsed() {
        assert_eq!(name("  李四  ").as_deref(), Ok("李四"));
        assert_eq!(name("\u{3000}王五\u{3000}").as_deref(), Ok("王五"));
        assert_eq!(name("Mary   Ann").as_deref(), Ok("Mary Ann"));
        assert_eq!(name("Mary\u{3000}Ann").as_deref(), Ok("Mary Ann"));
    }

    #[test]
    fn name_length_counts_characters_not_bytes() {
        let fifty_han = "张".repeat(50);
        assert_eq!(fifty_han.len(), 150);
        assert!(name(&fifty_han).is_ok());
        assert_eq!(name(&"张".repeat(51)), Err(PersonDataError::Name));
        assert!(name(&"a".repeat(50)).is_ok());
        assert_eq!(name(&"a".repeat(51)), Err(PersonDataError::Name));
        // Collapsed spaces don't count against the limit.
        let spaced = format!("{}     {}", "a".repeat(24), "b".repeat(25));
        assert_eq!(name(&spaced).map(|n| n.chars().count()), Ok(50));
    }

    #[test]
    fn bad_names_are_refused() {
        for input in [
            "",
            "   ",
            "\u{3000}",
            "张三1",
            "Agent 007",
            "张三!",
            "张三，李四",
            "a@b",
            "Robert'); DROP TABLE members;--",
            "<script>",
            "张\u{0}三",
            "张\n三",
            "张\t三",
            "张\u{7f}三",
            "张\u{200B}三", // zero-width space
            "·张三",
            "张三·",
            "张三··李四",
            "张三·-李四",
            "-Jean",
            "Jean-",
            "O''Brien",
            "张三😀",
            "Иван",     // Cyrillic
            "e\u{301}", // combining accent (not NFC)
            "张三×",
        ] {
            assert_eq!(name(input), Err(PersonDataError::Name), "{input:?}");
        }
    }

    #[test]
    fn name_conversions_and_serde_round_trip() {
        let parsed: PersonName = "买买提•吐尔逊".parse().unwrap();
        assert_eq!(parsed.to_string(), "买买提·吐尔逊");
        assert_eq!(String::from(parsed.clone()), "买买提·吐尔逊");
        assert!(PersonName::try_from(String::from("1")).is_err());
        let de: Result<PersonName, DeError> = PersonName::deserialize(" 张三 ".into_deserializer());
        assert_eq!(de.unwrap().as_str(), "张三");
        let bad: Result<PersonName, DeError> = PersonName::deserialize("".into_deserializer());
        assert!(bad.is_err());
    }

    // ── Card numbers ──

    #[test]
    fn luhn_matches_known_examples() {
        assert_eq!(check_digit_luhn("7992739871"), '3');
        assert!(card_number_is_valid("79927398713"));
        assert!(card_number_is_valid("4111111111111111"));
        assert!(card_number_is_valid("4012888888881881"));
        assert!(card_number_is_valid("18"));
        assert!(card_number_is_valid("00"));
        assert_eq!(check_digit_luhn(""), '0');
        assert_eq!(check_digit_luhn("0"), '0');
        assert_eq!(check_digit_luhn("5"), '9');
    }

    #[test]
    fn luhn_check_digit_validates_generated_card_numbers() {
        for serial in [
            "000000000000",
            "000000000001",
            "123456789012",
            "999999999999",
            "360802000417",
        ] {
            let payload = format!("36{serial}");
            let card = format!("{payload}{}", check_digit_luhn(&payload));
            assert_eq!(card.len(), 15);
            assert!(card_number_is_valid(&card), "{card}");
        }
    }

    #[test]
    fn luhn_catches_single_digit_errors_and_adjacent_swaps() {
        let payload = "36123456789012";
        let card = format!("{payload}{}", check_digit_luhn(payload));
        let bytes = card.as_bytes();
        for i in 0..bytes.len() {
            for d in b'0'..=b'9' {
                if d == bytes[i] {
                    continue;
                }
                let mut changed = bytes.to_vec();
                changed[i] = d;
                let changed = String::from_utf8(changed).unwrap();
                assert!(!card_number_is_valid(&changed), "{changed}");
            }
        }
        for i in 0..bytes.len() - 1 {
            let (a, b) = (bytes[i], bytes[i + 1]);
            // Luhn's known blind spot is swapping 0 and 9.
            if a == b || matches!((a, b), (b'0', b'9') | (b'9', b'0')) {
                continue;
            }
            let mut swapped = bytes.to_vec();
            swapped.swap(i, i + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            assert!(!card_number_is_valid(&swapped), "{swapped}");
        }
    }

    #[test]
    fn malformed_card_numbers_are_invalid() {
        for input in [
            "",
            "0",
            "7992739871X",
            "7992 7398 713",
            " 79927398713",
            "79927398713 ",
            "-79927398713",
            "７９９２７３９８７１３",
        ] {
            assert!(!card_number_is_valid(input), "{input:?}");
        }
    }

    // ── Masking ──

    #[test]
    fn mask_middle_keeps_the_ends() {
        assert_eq!(mask_middle("13812345678", 3, 4), "138****5678");
        assert_eq!(mask_middle("abcdefghij", 2, 3), "ab*****hij");
        assert_eq!(mask_middle("abcdef", 0, 2), "****ef");
        assert_eq!(mask_middle("abcdef", 2, 0), "ab****");
        assert_eq!(mask_middle("abcdef", 0, 0), "******");
    }

    #[test]
    fn mask_middle_counts_characters() {
        assert_eq!(mask_middle("张三丰", 1, 1), "张*丰");
        assert_eq!(mask_middle("买买提·吐尔逊", 1, 1), "买*****逊");
    }

    #[test]
    fn mask_middle_hides_everything_when_too_short() {
        assert_eq!(mask_middle("", 4, 4), "");
        assert_eq!(mask_middle("abc", 4, 4), "***");
        assert_eq!(mask_middle("abcdefgh", 4, 4), "********");
        assert_eq!(mask_middle("张三", 1, 1), "**");
        assert_eq!(mask_middle("abc", usize::MAX, usize::MAX), "***");
        assert_eq!(mask_middle("abc", usize::MAX, 0), "***");
    }
}
