//! HMAC-SHA256 with domain separation, shared by the signed tokens.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// SHA-256's block size: HMAC keys are zero-padded (or first hashed) to this length.
const BLOCK: usize = 64;

/// Builds the MAC without a fallible constructor.
///
/// RFC 2104 hashes keys longer than the block and zero-pads shorter ones; doing that here gives
/// exactly the MAC that `new_from_slice` would, with an infallible `new` (no `expect`).
fn new_mac(key: &[u8]) -> HmacSha256 {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    HmacSha256::new(&block.into())
}

/// A MAC keyed with `key` that has already absorbed the namespace `domain`, so a tag made for
/// one purpose (say a form token) is never valid for another (a proof-of-work challenge).
fn keyed(key: &[u8], domain: &str) -> HmacSha256 {
    let mut mac = new_mac(key);
    mac.update(domain.as_bytes());
    mac.update(b"\n");
    mac
}

/// The lowercase hex tag of `msg` under `key`, in the namespace `domain`.
pub(crate) fn sign_hex(key: &[u8], domain: &str, msg: &str) -> String {
    let mut mac = keyed(key, domain);
    mac.update(msg.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a hex tag in constant time (the comparison, not the hex decoding, which leaks nothing
/// secret). `false` for any malformed tag.
pub(crate) fn verify_hex(key: &[u8], domain: &str, msg: &str, tag_hex: &str) -> bool {
    let Ok(tag) = hex::decode(tag_hex) else {
        return false;
    };
    let mut mac = keyed(key, domain);
    mac.update(msg.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn reference(key: &[u8], domain: &str, msg: &str) -> String {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap();
        mac.update(domain.as_bytes());
        mac.update(b"\n");
        mac.update(msg.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn padded_key_matches_the_reference_hmac_for_short_exact_and_long_keys() {
        for len in [0usize, 1, 16, 32, 63, 64, 65, 200] {
            let key = vec![0xA5u8; len];
            assert_eq!(
                sign_hex(&key, "d", "m"),
                reference(&key, "d", "m"),
                "len {len}"
            );
        }
    }

    #[test]
    fn rfc4231_test_case_2() {
        // Key "Jefe", data "what do ya want for nothing?".
        let mut plain = new_mac(b"Jefe");
        plain.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(plain.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verify_accepts_own_tag_and_rejects_others() {
        let tag = sign_hex(b"k", "d", "m");
        assert!(verify_hex(b"k", "d", "m", &tag));
        assert!(!verify_hex(b"k2", "d", "m", &tag));
        assert!(!verify_hex(b"k", "e", "m", &tag));
        assert!(!verify_hex(b"k", "d", "n", &tag));
        assert!(!verify_hex(b"k", "d", "m", "zz"));
        assert!(!verify_hex(b"k", "d", "m", &tag[..62]));
    }
}
