//! Proof of work: a stateless, signed challenge that the browser solves before posting.
//!
//! A challenge is the ASCII string
//!
//! ```text
//! p1.<issued_at_unix_secs>.<site_id>.<difficulty>.<32 hex random>.<64 hex hmac>
//! ```
//!
//! (digits, `a-f`, `p`, `.` and perhaps a `-` in the site id: URL-safe). The HMAC-SHA256 covers
//! everything before it, so neither the time, the site nor the difficulty can be changed.
//!
//! The client finds a decimal `nonce` (at most 20 digits) such that SHA-256 of the UTF-8 string
//! `challenge + ":" + nonce` starts with `difficulty` zero bits, counting from the most
//! significant bit of the first byte. In JavaScript:
//!
//! ```js
//! for (let n = 0; ; n++) {
//!   const d = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(`${c}:${n}`)));
//!   if (leadingZeroBits(d) >= difficulty) return String(n);
//! }
//! ```
//!
//! [`DEFAULT_DIFFICULTY`] is 16 bits: 65,536 hashes on average. Natively that is about 35 ms
//! (`cargo run --release --example pow_bench`: 34 ms to solve, 10 µs to verify, on this project's
//! 2-core machine). In a browser it depends on the solver: awaiting `crypto.subtle.digest` once
//! per nonce (as sketched above) costs a few microseconds of promise overhead per hash, so
//! hash in batches or with a synchronous SHA-256, and solve while the reader is typing. Each step
//! of difficulty doubles the client's work and leaves verification at one hash.
//!
//! Verification is stateless, so by itself a solved challenge could be replayed until it expires.
//! [`verify`] therefore returns a [`PowDigest`] identifying the challenge; store it until
//! [`PowDigest::expires_at`] and refuse a second use.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

use crate::secrets::{self, Keys, Purpose};

/// Format version tag at the start of every challenge.
const VERSION: &str = "p1";

/// Default number of leading zero bits (about 65,536 hashes for the client on average).
pub const DEFAULT_DIFFICULTY: u8 = 16;

/// Highest difficulty [`issue_challenge`] will put in a challenge; higher requests are clamped.
/// 32 bits is already billions of hashes: far beyond what a browser should be asked to do.
pub const MAX_DIFFICULTY: u8 = 32;

/// Default lifetime of a challenge.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// Clock skew between servers tolerated for a challenge issued "in the future".
const FUTURE_SKEW_SECS: i64 = 60;

/// Longest challenge accepted for parsing (a real one is under 140 characters).
const MAX_LEN: usize = 160;

/// Longest accepted nonce: `u64::MAX` has 20 decimal digits.
const MAX_NONCE_LEN: usize = 20;

/// Why a proof of work is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The challenge is not in the expected format.
    #[error("malformed proof-of-work challenge")]
    Malformed,
    /// The challenge was not issued by this server for this site, or was altered.
    #[error("proof-of-work challenge is not valid for this site")]
    Forged,
    /// The challenge is older than the allowed age (or too far in the future).
    #[error("proof-of-work challenge expired; fetch a new one")]
    Expired,
    /// The nonce is not a decimal string of 1 to 20 digits.
    #[error("proof-of-work nonce must be 1 to 20 decimal digits")]
    InvalidNonce,
    /// The hash does not start with enough zero bits.
    #[error("proof of work does not meet the difficulty")]
    InsufficientWork,
}

/// Identifies a solved challenge so it can be refused if used again.
///
/// `as_str()` is the lowercase hex SHA-256 of the challenge (64 characters). Keep it until
/// `expires_at()`; after that [`verify`] refuses the challenge anyway.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PowDigest {
    hex: String,
    expires_at: DateTime<Utc>,
}

impl PowDigest {
    /// The 64-character lowercase hex SHA-256 of the challenge.
    pub fn as_str(&self) -> &str {
        &self.hex
    }

    /// When the challenge stops verifying, so the replay record can be dropped.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

/// Issues a challenge for `site_id` at `now`, asking for `difficulty` zero bits (clamped to
/// [`MAX_DIFFICULTY`]; [`DEFAULT_DIFFICULTY`] is 16).
pub fn issue_challenge(keys: &Keys, site_id: i64, difficulty: u8, now: DateTime<Utc>) -> String {
    let body = format!(
        "{VERSION}.{}.{site_id}.{}.{}",
        now.timestamp(),
        difficulty.min(MAX_DIFFICULTY),
        secrets::random_hex::<16>()
    );
    let tag = keys.sign(Purpose::ProofOfWork, &body);
    format!("{body}.{tag}")
}

struct Parsed<'a> {
    body: &'a str,
    tag: &'a str,
    issued_at: i64,
    site_id: i64,
    difficulty: u8,
}

fn parse(challenge: &str) -> Option<Parsed<'_>> {
    if challenge.len() > MAX_LEN {
        return None;
    }
    let (body, tag) = challenge.rsplit_once('.')?;
    let mut fields = body.split('.');
    let version = fields.next()?;
    let issued = fields.next()?;
    let site = fields.next()?;
    let difficulty = fields.next()?;
    let random = fields.next()?;
    if fields.next().is_some() || version != VERSION {
        return None;
    }
    let lower_hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    if !lower_hex(random, 32) || !lower_hex(tag, 64) {
        return None;
    }
    Some(Parsed {
        body,
        tag,
        issued_at: canonical_int(issued)?,
        site_id: canonical_int(site)?,
        difficulty: u8::try_from(canonical_int(difficulty)?).ok()?,
    })
}

/// A decimal integer as `i64::to_string` writes it (optional `-`, no `+`, no leading zeros).
fn canonical_int(s: &str) -> Option<i64> {
    let n: i64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

/// Verifies a solved challenge for `site_id` at `now`.
///
/// Checks, in order: the format, the MAC and site (constant-time), the age (at most `max_age`,
/// e.g. [`DEFAULT_MAX_AGE`]), the nonce format, and the work.
///
/// # Errors
/// The first failed check, as a [`PowError`].
pub fn verify(
    keys: &Keys,
    site_id: i64,
    challenge: &str,
    nonce: &str,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<PowDigest, PowError> {
    let parsed = parse(challenge).ok_or(PowError::Malformed)?;
    if parsed.site_id != site_id || !keys.verify(Purpose::ProofOfWork, parsed.body, parsed.tag) {
        return Err(PowError::Forged);
    }
    let max_age_secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    let age = now.timestamp().saturating_sub(parsed.issued_at);
    if age > max_age_secs || age < -FUTURE_SKEW_SECS {
        return Err(PowError::Expired);
    }
    if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN || !nonce.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(PowError::InvalidNonce);
    }
    let hash = Sha256::new()
        .chain_update(challenge.as_bytes())
        .chain_update(b":")
        .chain_update(nonce.as_bytes())
        .finalize();
    if leading_zero_bits(&hash) < u32::from(parsed.difficulty) {
        return Err(PowError::InsufficientWork);
    }
    let expires_at = Utc
        .timestamp_opt(parsed.issued_at.saturating_add(max_age_secs), 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    Ok(PowDigest {
        hex: hex::encode(Sha256::digest(challenge.as_bytes())),
        expires_at,
    })
}

/// Finds the smallest nonce that solves `challenge` at `difficulty` (for tests, benchmarks and
/// as the reference for the JavaScript solver). Expect about 2^difficulty hashes.
pub fn solve(challenge: &str, difficulty: u8) -> String {
    let mut prefix = Sha256::new();
    prefix.update(challenge.as_bytes());
    prefix.update(b":");
    let mut nonce = String::with_capacity(MAX_NONCE_LEN);
    for n in 0u64.. {
        nonce.clear();
        // Writing to a String cannot fail.
        let _ = write!(nonce, "{n}");
        let hash = prefix.clone().chain_update(nonce.as_bytes()).finalize();
        if leading_zero_bits(&hash) >= u32::from(difficulty) {
            return nonce;
        }
    }
    // Not reached for any difficulty a challenge can carry (2^64 tries).
    nonce
}

/// Leading zero bits of a big-endian byte string.
fn leading_zero_bits(bytes: &[u8]) -> u32 {
    let mut bits = 0;
    for &byte in bytes {
        if byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn key() -> Keys {
        Keys::new(b"pow test key, not secret, 32 byt".to_vec()).unwrap()
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        t0() + chrono::TimeDelta::seconds(secs)
    }

    fn hash_of(challenge: &str, nonce: &str) -> Vec<u8> {
        Sha256::digest(format!("{challenge}:{nonce}").as_bytes()).to_vec()
    }

    #[test]
    fn counts_leading_zero_bits() {
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0x01]), 7);
        assert_eq!(leading_zero_bits(&[0x00, 0x40]), 9);
        assert_eq!(leading_zero_bits(&[0x00, 0x00, 0xff]), 16);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
        assert_eq!(leading_zero_bits(&[]), 0);
    }

    #[test]
    fn solved_challenge_verifies_and_names_itself() {
        let challenge = issue_challenge(&key(), 3, 12, t0());
        let nonce = solve(&challenge, 12);
        assert!(leading_zero_bits(&hash_of(&challenge, &nonce)) >= 12);
        let digest = verify(&key(), 3, &challenge, &nonce, at(5), DEFAULT_MAX_AGE).unwrap();
        assert_eq!(
            digest.as_str(),
            hex::encode(Sha256::digest(challenge.as_bytes()))
        );
        assert_eq!(digest.as_str().len(), 64);
        assert_eq!(digest.expires_at(), at(3600));
    }

    #[test]
    fn challenge_is_url_safe_and_fresh_each_time() {
        let a = issue_challenge(&key(), -42, DEFAULT_DIFFICULTY, t0());
        let b = issue_challenge(&key(), -42, DEFAULT_DIFFICULTY, t0());
        assert_ne!(a, b, "random part");
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-'),
            "{a}"
        );
        assert!(a.len() <= MAX_LEN);
        assert!(
            a.contains(".16."),
            "difficulty is visible to the client: {a}"
        );
    }

    #[test]
    fn default_difficulty_solves_and_verifies() {
        let challenge = issue_challenge(&key(), 1, DEFAULT_DIFFICULTY, t0());
        let nonce = solve(&challenge, DEFAULT_DIFFICULTY);
        assert!(verify(&key(), 1, &challenge, &nonce, at(1), DEFAULT_MAX_AGE).is_ok());
    }

    #[test]
    fn a_nonce_without_enough_zero_bits_is_refused() {
        let challenge = issue_challenge(&key(), 3, 12, t0());
        let nonce = solve(&challenge, 12);
        // Find some nonce that does not have 12 zero bits.
        let bad = (0u64..)
            .map(|n| n.to_string())
            .find(|n| leading_zero_bits(&hash_of(&challenge, n)) < 12)
            .unwrap();
        assert_ne!(bad, nonce);
        assert_eq!(
            verify(&key(), 3, &challenge, &bad, at(5), DEFAULT_MAX_AGE),
            Err(PowError::InsufficientWork)
        );
    }

    #[test]
    fn badly_shaped_nonces_are_refused() {
        let challenge = issue_challenge(&key(), 3, 0, t0());
        for nonce in [
            "",
            "-1",
            "+1",
            "1.0",
            " 1",
            "1 ",
            "abc",
            "123456789012345678901",
            "１",
        ] {
            assert_eq!(
                verify(&key(), 3, &challenge, nonce, at(5), DEFAULT_MAX_AGE),
                Err(PowError::InvalidNonce),
                "{nonce:?}"
            );
        }
        // Difficulty 0: any well-formed nonce, including the 20-digit maximum.
        assert!(
            verify(
                &key(),
                3,
                &challenge,
                "18446744073709551615",
                at(5),
                DEFAULT_MAX_AGE
            )
            .is_ok()
        );
    }

    #[test]
    fn another_site_or_key_is_forged() {
        let challenge = issue_challenge(&key(), 3, 8, t0());
        let nonce = solve(&challenge, 8);
        assert_eq!(
            verify(&key(), 4, &challenge, &nonce, at(5), DEFAULT_MAX_AGE),
            Err(PowError::Forged)
        );
        assert_eq!(
            verify(
                &Keys::new(vec![1; 32]).unwrap(),
                3,
                &challenge,
                &nonce,
                at(5),
                DEFAULT_MAX_AGE
            ),
            Err(PowError::Forged)
        );
    }

    #[test]
    fn lowering_the_difficulty_breaks_the_mac() {
        let challenge = issue_challenge(&key(), 3, 20, t0());
        let tampered = challenge.replacen(".20.", ".1.", 1);
        assert_ne!(tampered, challenge);
        let nonce = solve(&tampered, 1);
        assert_eq!(
            verify(&key(), 3, &tampered, &nonce, at(5), DEFAULT_MAX_AGE),
            Err(PowError::Forged)
        );
    }

    #[test]
    fn changing_the_site_or_time_in_the_challenge_breaks_the_mac() {
        let challenge = issue_challenge(&key(), 3, 0, t0());
        let moved_site = challenge.replacen(".3.", ".4.", 1);
        assert_eq!(
            verify(&key(), 4, &moved_site, "0", at(5), DEFAULT_MAX_AGE),
            Err(PowError::Forged)
        );
        let ts = t0().timestamp().to_string();
        let later = challenge.replacen(&ts, &(t0().timestamp() + 3000).to_string(), 1);
        assert_eq!(
            verify(&key(), 3, &later, "0", at(3700), DEFAULT_MAX_AGE),
            Err(PowError::Forged)
        );
    }

    #[test]
    fn old_challenges_expire() {
        let challenge = issue_challenge(&key(), 3, 4, t0());
        let nonce = solve(&challenge, 4);
        assert!(verify(&key(), 3, &challenge, &nonce, at(3600), DEFAULT_MAX_AGE).is_ok());
        assert_eq!(
            verify(&key(), 3, &challenge, &nonce, at(3601), DEFAULT_MAX_AGE),
            Err(PowError::Expired)
        );
        assert_eq!(
            verify(&key(), 3, &challenge, &nonce, at(-61), DEFAULT_MAX_AGE),
            Err(PowError::Expired),
            "issued too far in the future"
        );
        assert!(
            verify(&key(), 3, &challenge, &nonce, at(-30), DEFAULT_MAX_AGE).is_ok(),
            "skew"
        );
    }

    #[test]
    fn difficulty_is_clamped() {
        let challenge = issue_challenge(&key(), 3, 200, t0());
        assert!(
            challenge.contains(&format!(".{MAX_DIFFICULTY}.")),
            "{challenge}"
        );
    }

    #[test]
    fn garbage_challenges_are_malformed() {
        let good = issue_challenge(&key(), 3, 0, t0());
        let (body, tag) = good.rsplit_once('.').unwrap();
        for bad in [
            String::new(),
            "p1".to_owned(),
            "p1.1.2.3".to_owned(),
            good.replacen("p1.", "p2.", 1),
            format!("{body}.{}", &tag[..63]),
            format!("{body}.{}", tag.to_uppercase()),
            format!("{body}.x.{tag}"),
            good.replacen(".3.", ".03.", 1),
            good.replacen(".3.", ".+3.", 1),
            good.replacen(".0.", ".256.", 1),
            format!("{good}{}", "0".repeat(200)),
        ] {
            assert_eq!(
                verify(&key(), 3, &bad, "0", at(5), DEFAULT_MAX_AGE),
                Err(PowError::Malformed),
                "{bad:?}"
            );
        }
    }
}
