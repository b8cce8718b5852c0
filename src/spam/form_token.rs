//! A signed "the form was shown at" token: no server state, rejects bots that post instantly and
//! replays of very old forms.
//!
//! The token is `<issued_at_ms>.<hmac_hex>`: the issue time in milliseconds since the Unix epoch
//! and an HMAC-SHA256 over the site id and that time, under the server's secret key. It contains
//! only ASCII digits, `a-f` and one `.`, so it is safe in URLs, headers, JSON and form fields.
//! The site id is not in the token but in the MAC, so a token from one site fails on another.
//!
//! It is deliberately reusable within its lifetime (one form, several comments); pair it with the
//! rate limiter, and with [`pow`](super::pow) where one-time use is wanted.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::secrets::{Keys, Purpose};

/// A comment posted sooner than this after the form was shown is refused (default).
pub const DEFAULT_MIN_AGE: Duration = Duration::from_secs(3);

/// A form older than this must be reloaded (default).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Longest token accepted for parsing (a real one is at most 20 + 1 + 64 characters).
const MAX_LEN: usize = 96;

/// Why a form token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormTokenError {
    /// Not a token at all (wrong shape, length or characters).
    #[error("malformed form token")]
    Malformed,
    /// Well formed, but not signed by this server for this site (bad MAC or another site).
    #[error("form token is not valid for this site")]
    Forged,
    /// Posted sooner than the minimum age after the form was shown (likely a bot), or issued in
    /// the future.
    #[error("comment posted too soon after the form was shown")]
    TooEarly,
    /// Older than the maximum age: the form must be reloaded.
    #[error("form token expired; reload the page")]
    Expired,
}

fn message(site_id: i64, issued_ms: i64) -> String {
    format!("{site_id}|{issued_ms}")
}

/// Issues a token for a form of `site_id` shown at `now`.
pub fn issue(keys: &Keys, site_id: i64, now: DateTime<Utc>) -> String {
    let issued_ms = now.timestamp_millis();
    let tag = keys.sign(Purpose::FormToken, message(site_id, issued_ms));
    format!("{issued_ms}.{tag}")
}

/// Verifies a token from a submitted form of `site_id` at `now`.
///
/// Use [`DEFAULT_MIN_AGE`] (3 s) and [`DEFAULT_MAX_AGE`] (24 h) unless configured otherwise.
/// The MAC is checked before the times, and compared in constant time.
///
/// # Errors
/// [`FormTokenError`]: `Malformed`, `Forged`, `TooEarly` (also for tokens from the future) or
/// `Expired`.
pub fn verify(
    keys: &Keys,
    site_id: i64,
    token: &str,
    now: DateTime<Utc>,
    min_age: Duration,
    max_age: Duration,
) -> Result<(), FormTokenError> {
    if token.len() > MAX_LEN {
        return Err(FormTokenError::Malformed);
    }
    let (issued, tag) = token.split_once('.').ok_or(FormTokenError::Malformed)?;
    let issued_ms = parse_millis(issued).ok_or(FormTokenError::Malformed)?;
    if tag.len() != 64 || !tag.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(FormTokenError::Malformed);
    }
    if !keys.verify(Purpose::FormToken, message(site_id, issued_ms), tag) {
        return Err(FormTokenError::Forged);
    }
    let age_ms = i128::from(now.timestamp_millis()) - i128::from(issued_ms);
    if age_ms < 0 || age_ms < i128::try_from(min_age.as_millis()).unwrap_or(i128::MAX) {
        return Err(FormTokenError::TooEarly);
    }
    if age_ms > i128::try_from(max_age.as_millis()).unwrap_or(i128::MAX) {
        return Err(FormTokenError::Expired);
    }
    Ok(())
}

/// A canonical decimal millisecond count: digits only, no sign, no leading zeros.
fn parse_millis(s: &str) -> Option<i64> {
    let canonical = !s.is_empty()
        && s.len() <= 19
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn key() -> Keys {
        Keys::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        t0() + chrono::TimeDelta::seconds(secs)
    }

    fn check(token: &str, now: DateTime<Utc>) -> Result<(), FormTokenError> {
        verify(&key(), 7, token, now, DEFAULT_MIN_AGE, DEFAULT_MAX_AGE)
    }

    #[test]
    fn a_fresh_token_verifies_after_the_minimum_age() {
        let token = issue(&key(), 7, t0());
        assert_eq!(check(&token, at(3)), Ok(()));
        assert_eq!(check(&token, at(600)), Ok(()));
        assert_eq!(
            check(&token, at(24 * 3600)),
            Ok(()),
            "exactly max_age is still fine"
        );
    }

    #[test]
    fn token_is_url_safe_ascii() {
        let token = issue(&key(), -1, t0());
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.'),
            "{token}"
        );
        assert!(token.len() <= MAX_LEN);
    }

    #[test]
    fn posting_too_soon_is_too_early() {
        let token = issue(&key(), 7, t0());
        assert_eq!(check(&token, t0()), Err(FormTokenError::TooEarly));
        assert_eq!(
            check(&token, t0() + chrono::TimeDelta::milliseconds(2999)),
            Err(FormTokenError::TooEarly)
        );
        assert_eq!(
            check(&token, at(-60)),
            Err(FormTokenError::TooEarly),
            "from the future"
        );
    }

    #[test]
    fn old_tokens_expire() {
        let token = issue(&key(), 7, t0());
        assert_eq!(
            check(&token, at(24 * 3600 + 1)),
            Err(FormTokenError::Expired)
        );
        assert_eq!(
            verify(
                &key(),
                7,
                &token,
                at(61),
                Duration::ZERO,
                Duration::from_secs(60)
            ),
            Err(FormTokenError::Expired)
        );
    }

    #[test]
    fn other_site_or_key_is_forged() {
        let token = issue(&key(), 7, t0());
        assert_eq!(
            verify(&key(), 8, &token, at(10), DEFAULT_MIN_AGE, DEFAULT_MAX_AGE),
            Err(FormTokenError::Forged)
        );
        assert_eq!(
            verify(
                &Keys::new(vec![1; 32]).unwrap(),
                7,
                &token,
                at(10),
                DEFAULT_MIN_AGE,
                DEFAULT_MAX_AGE
            ),
            Err(FormTokenError::Forged)
        );
    }

    #[test]
    fn moving_the_timestamp_breaks_the_mac() {
        let token = issue(&key(), 7, t0());
        let (_, tag) = token.split_once('.').unwrap();
        let backdated = format!("{}.{tag}", t0().timestamp_millis() - 60_000);
        assert_eq!(check(&backdated, at(1)), Err(FormTokenError::Forged));
        // Flip one hex digit of the MAC.
        let mut chars: Vec<char> = token.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == '0' { '1' } else { '0' };
        let flipped: String = chars.into_iter().collect();
        assert_eq!(check(&flipped, at(10)), Err(FormTokenError::Forged));
    }

    #[test]
    fn garbage_is_malformed() {
        let token = issue(&key(), 7, t0());
        let (ts, tag) = token.split_once('.').unwrap();
        for bad in [
            String::new(),
            ".".to_owned(),
            "abc".to_owned(),
            tag.to_owned(),
            format!("{ts}."),
            format!(".{tag}"),
            format!("{ts}.{}", &tag[..63]),
            format!("{ts}.{tag}0"),
            format!("{ts}.{}", tag.to_uppercase()),
            format!("+{ts}.{tag}"),
            format!("-{ts}.{tag}"),
            format!("0{ts}.{tag}"),
            format!("{ts}.{tag}.x"),
            format!("99999999999999999999.{tag}"),
            "x".repeat(10_000),
        ] {
            assert_eq!(
                check(&bad, at(10)),
                Err(FormTokenError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tokens_differ_by_time_and_site() {
        assert_ne!(issue(&key(), 7, t0()), issue(&key(), 7, at(1)));
        assert_ne!(issue(&key(), 7, t0()), issue(&key(), 8, t0()));
        assert_eq!(
            issue(&key(), 7, t0()),
            issue(&key(), 7, t0()),
            "deterministic"
        );
    }
}
