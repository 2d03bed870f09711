//! Sealing personal data (PIPL): ID numbers and phones are stored encrypted with
//! AES-256-GCM (a fresh random 96-bit nonce per value, stored as base64
//! `nonce ‖ ciphertext ‖ tag`) next to a keyed HMAC-SHA256 of the normalised value
//! (hex) for uniqueness and exact lookup. A database dump shows neither in clear.
//!
//! One configured 32-byte key (`UNIONHALL_PII_KEY`, 64 hex characters) yields two
//! independent subkeys, one for encryption and one for hashing, so neither use can
//! weaken the other. Each field is its own domain: the same digits as a phone and as
//! part of an ID number hash differently, and a phone's ciphertext can't be passed off
//! as an ID number's (the field name is the AEAD's associated data).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::fmt;
use unionhall_persistence::members::Sealed;

type HmacSha256 = Hmac<Sha256>;

/// Which kind of personal data a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    IdNumber,
    Phone,
    /// An insurance claim's diagnosis (health data): sealed, never hashed.
    Diagnosis,
}

impl Field {
    fn label(self) -> &'static [u8] {
        match self {
            Field::IdNumber => b"id_number",
            Field::Phone => b"phone",
            Field::Diagnosis => b"diagnosis",
        }
    }
}

/// Why a key or a sealed value could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PiiError {
    #[error("must be 64 hexadecimal characters (32 bytes)")]
    BadKey,
    #[error("a stored value could not be decrypted (wrong key or damaged data)")]
    Undecryptable,
}

/// The loaded key: encrypts, decrypts and hashes personal data.
#[derive(Clone)]
pub struct PiiCipher {
    aead: Aes256Gcm,
    hash_key: [u8; 32],
    /// HMAC keyed with `hash_key`, cloned for each hash: the key schedule is computed
    /// once, not for every one of a 100,000-rider snapshot's 200,000 hashes.
    hash_mac: HmacSha256,
}

impl fmt::Debug for PiiCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PiiCipher(..)")
    }
}

const NONCE_LEN: usize = 12;

fn subkey(master: &[u8], purpose: &[u8]) -> Result<[u8; 32], PiiError> {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(master).map_err(|_| PiiError::BadKey)?;
    mac.update(purpose);
    Ok(mac.finalize().into_bytes().into())
}

impl PiiCipher {
    /// Loads a key given as 64 hex characters.
    pub fn from_hex(key: &str) -> Result<PiiCipher, PiiError> {
        let bytes = hex::decode(key.trim()).map_err(|_| PiiError::BadKey)?;
        if bytes.len() != 32 {
            return Err(PiiError::BadKey);
        }
        let enc_key = subkey(&bytes, b"unionhall pii encryption v1")?;
        let hash_key = subkey(&bytes, b"unionhall pii lookup hash v1")?;
        let aead = Aes256Gcm::new_from_slice(&enc_key).map_err(|_| PiiError::BadKey)?;
        let hash_mac =
            <HmacSha256 as Mac>::new_from_slice(&hash_key).map_err(|_| PiiError::BadKey)?;
        Ok(PiiCipher {
            aead,
            hash_key,
            hash_mac,
        })
    }

    /// Encrypts a normalised value under a fresh random nonce, drawn from the thread's
    /// CSPRNG (ChaCha, seeded and periodically reseeded from the OS) rather than a
    /// system call per value.
    pub fn encrypt(&self, field: Field, clear: &str) -> Result<String, PiiError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: clear.as_bytes(),
                    aad: field.label(),
                },
            )
            .map_err(|_| PiiError::Undecryptable)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what `encrypt` produced for the same field.
    pub fn decrypt(&self, field: Field, sealed: &str) -> Result<String, PiiError> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| PiiError::Undecryptable)?;
        if bytes.len() <= NONCE_LEN {
            return Err(PiiError::Undecryptable);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let clear = self
            .aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: field.label(),
                },
            )
            .map_err(|_| PiiError::Undecryptable)?;
        String::from_utf8(clear).map_err(|_| PiiError::Undecryptable)
    }

    /// The keyed hash (hex) of a normalised value: equal values hash equal, and without
    /// the key nobody can test a guess.
    pub fn hash(&self, field: Field, normalised: &str) -> String {
        let mut mac = self.hash_mac.clone();
        mac.update(field.label());
        mac.update(b"\0");
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A keyed digest of a request that carries personal data, for idempotency
    /// comparisons: an unkeyed hash of a body holding an ID number could be brute-forced.
    pub fn request_digest(&self, text: &str) -> String {
        let mut mac = self.hash_mac.clone();
        mac.update(b"request\0");
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// HMAC-SHA256 of a booking's check-in message (see
    /// `unionhall_domain::palaces::check_in_code_message`) under a key derived from the
    /// configured key for this use alone, so every node computes the same short-lived
    /// code and nobody without the key can.
    pub fn check_in_mac(&self, message: &str) -> Vec<u8> {
        let key = match subkey(&self.hash_key, b"unionhall check-in code v1") {
            Ok(key) => key,
            Err(_) => return Vec::new(),
        };
        let mut mac = match <HmacSha256 as Mac>::new_from_slice(&key) {
            Ok(mac) => mac,
            Err(_) => return Vec::new(),
        };
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Ciphertext and hash of a normalised value, ready to store.
    pub fn seal(&self, field: Field, normalised: &str) -> Result<Sealed, PiiError> {
        Ok(Sealed {
            ciphertext: self.encrypt(field, normalised)?,
            hash: self.hash(field, normalised),
        })
    }
}

/// A fresh random key as 64 hex characters.
pub fn generate_key_hex() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    hex::encode(key)
}

/// Whether `key` is 64 hex characters.
pub fn is_valid_key(key: &str) -> bool {
    let key = key.trim();
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn round_trips_with_fresh_nonces() {
        let c = PiiCipher::from_hex(KEY).unwrap();
        let a = c.encrypt(Field::IdNumber, "11010519491231002X").unwrap();
        let b = c.encrypt(Field::IdNumber, "11010519491231002X").unwrap();
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(!a.contains("1101051949"));
        assert_eq!(
            c.decrypt(Field::IdNumber, &a).unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            c.decrypt(Field::IdNumber, &b).unwrap(),
            "11010519491231002X"
        );
    }

    #[test]
    fn ciphertexts_are_bound_to_field_and_key() {
        let c = PiiCipher::from_hex(KEY).unwrap();
        let sealed = c.encrypt(Field::Phone, "13812345678").unwrap();
        assert_eq!(
            c.decrypt(Field::IdNumber, &sealed),
            Err(PiiError::Undecryptable)
        );
        let other = PiiCipher::from_hex(&generate_key_hex()).unwrap();
        assert_eq!(
            other.decrypt(Field::Phone, &sealed),
            Err(PiiError::Undecryptable)
        );
        assert_eq!(
            c.decrypt(Field::Phone, "AAAA"),
            Err(PiiError::Undecryptable)
        );
        assert_eq!(c.decrypt(Field::Phone, "%%%"), Err(PiiError::Undecryptable));
    }

    #[test]
    fn hashes_are_keyed_deterministic_and_per_field() {
        let c = PiiCipher::from_hex(KEY).unwrap();
        let h = c.hash(Field::Phone, "13812345678");
        assert_eq!(h.len(), 64);
        assert_eq!(h, c.hash(Field::Phone, "13812345678"));
        assert_ne!(h, c.hash(Field::IdNumber, "13812345678"));
        assert_ne!(h, c.hash(Field::Phone, "13812345679"));
        let other = PiiCipher::from_hex(&generate_key_hex()).unwrap();
        assert_ne!(h, other.hash(Field::Phone, "13812345678"));
    }

    #[test]
    fn stored_hashes_never_change_their_meaning() {
        // Hashes are lookup keys already stored: this pins the value for KEY, so no
        // change to how the MAC is computed can silently orphan them.
        let c = PiiCipher::from_hex(KEY).unwrap();
        let hash_key = subkey(&hex::decode(KEY).unwrap(), b"unionhall pii lookup hash v1").unwrap();
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&hash_key).unwrap();
        mac.update(b"phone\0");
        mac.update(b"13812345678");
        assert_eq!(
            c.hash(Field::Phone, "13812345678"),
            hex::encode(mac.finalize().into_bytes())
        );
    }

    #[test]
    fn keys_must_be_32_hex_bytes() {
        assert!(is_valid_key(KEY));
        assert!(is_valid_key(&generate_key_hex()));
        assert!(!is_valid_key("abc"));
        assert!(!is_valid_key(&"g".repeat(64)));
        assert_eq!(PiiCipher::from_hex("abc").err(), Some(PiiError::BadKey));
        assert_eq!(
            PiiCipher::from_hex(&"00".repeat(31)).err(),
            Some(PiiError::BadKey)
        );
    }
}
