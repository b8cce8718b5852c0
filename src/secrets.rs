//! The one place for secrets and tokens: the server's keys, signed values, random tokens and
//! token hashes. Nothing else in the crate builds a MAC, draws random bytes for a token or
//! compares secrets.
//!
//! - [`Keys`] holds the master secret (stored in the database, so every process sharing it
//!   agrees) and signs and verifies values for one [`Purpose`] at a time: a tag made for one
//!   purpose never verifies for another. Verification is constant-time through the MAC crate
//!   (`hmac`'s `verify_slice` / `verify_truncated_left`).
//! - [`random_token`] and [`random_hex`] make unguessable values from the OS-seeded CSPRNG.
//! - [`hash_token`] is what is stored for a bearer token (sessions, setup links, edit tokens);
//!   [`token_matches_hash`] checks a presented token against it in constant time.
//!
//! There is no fallback anywhere: building a MAC cannot fail (the key is padded as RFC 2104
//! says, see [`mac_with`]), and a master secret too short to be one is refused by [`Keys::new`].
//!
//! # Wire formats are frozen
//! Signed values outlive a restart or an upgrade: mail links wait in the outbox and in inboxes,
//! form tokens and proof-of-work challenges sit in readers' open pages, CSRF tokens in open admin
//! pages, and avatar seeds are what readers recognise each other by. Each [`Purpose`] therefore
//! keeps the exact key, label and tag length it had before this module existed (see
//! [`Purpose::layout`]); the unit tests check them against independent reference code. A new
//! purpose uses a derived key and a `kith/<name>/v1` label, like [`Purpose::FormToken`].

use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// SHA-256's block size: HMAC keys are zero-padded (or first hashed) to this length.
const BLOCK: usize = 64;

/// SHA-256 output, and so the longest tag.
const FULL_TAG: usize = 32;

/// The shortest master secret accepted (the server generates 32 bytes).
pub const MIN_MASTER_LEN: usize = 32;

/// What a signature is for. Each purpose signs under its own key or label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The signed "form shown at" token ([`crate::spam::form_token`]).
    FormToken,
    /// Proof-of-work challenges ([`crate::spam::pow`]).
    ProofOfWork,
    /// Links in mails ([`crate::notify::links`]): moderation, confirmation, unsubscribe, manage.
    MailLink,
    /// An admin session's CSRF token, derived from the session's token hash.
    AdminCsrf,
    /// The public avatar seed: a keyed hash, so the e-mail address behind it cannot be guessed.
    Avatar,
    /// A reader's likes and reports are stored under a keyed hash of their IP address, never
    /// the address itself.
    Voter,
    /// A site's name in the import keys of its exports (`kith@{slug}.{tag}#{id}`,
    /// [`crate::service::import::own_source`]): stable per site, different per installation.
    ExportSource,
    /// A webhook endpoint's signing secret, derived from the endpoint's random salt so it is
    /// never stored and can be shown again to an admin ([`Keys::webhook_secret`]).
    WebhookSecret,
    /// A reader's "read your writes" marker ([`crate::service::reads`]): for a few seconds
    /// after their own write, their reads go to the primary database instead of a replica.
    ReadMarker,
}

/// Which key a purpose's MAC is keyed with.
enum KeySource {
    /// The master secret itself.
    Master,
    /// A sub-key: `HMAC(master, "key" 0x00 label)`.
    Derived(&'static str),
}

/// How a purpose's tag is made: `HMAC(key, prefix ‖ message)`, first `tag_bytes` bytes, as
/// lowercase hex.
struct Layout {
    key: KeySource,
    prefix: &'static [u8],
    tag_bytes: usize,
}

impl Purpose {
    /// The frozen layout of each purpose (see the module docs for why they differ).
    fn layout(self) -> Layout {
        match self {
            Self::FormToken => Layout {
                key: KeySource::Derived("form-token"),
                prefix: b"kith/form-token/v1\n",
                tag_bytes: FULL_TAG,
            },
            Self::ProofOfWork => Layout {
                key: KeySource::Derived("proof-of-work"),
                prefix: b"kith/pow/v1\n",
                tag_bytes: FULL_TAG,
            },
            // The sub-key alone separates mail links from other uses; 128 bits keep links short.
            Self::MailLink => Layout {
                key: KeySource::Derived("mail-links"),
                prefix: b"",
                tag_bytes: 16,
            },
            Self::AdminCsrf => Layout {
                key: KeySource::Master,
                prefix: b"admin-csrf\0",
                tag_bytes: 20,
            },
            Self::Avatar => Layout {
                key: KeySource::Master,
                prefix: b"avatar\0",
                tag_bytes: 8,
            },
            Self::Voter => Layout {
                key: KeySource::Master,
                prefix: b"voter\0",
                tag_bytes: 16,
            },
            Self::ExportSource => Layout {
                key: KeySource::Derived("export-source"),
                prefix: b"kith/export-source/v1\n",
                tag_bytes: 6,
            },
            Self::WebhookSecret => Layout {
                key: KeySource::Derived("webhook-secret"),
                prefix: b"kith/webhook-secret/v1\n",
                tag_bytes: FULL_TAG,
            },
            Self::ReadMarker => Layout {
                key: KeySource::Derived("read-marker"),
                prefix: b"kith/read-marker/v1\n",
                tag_bytes: 16,
            },
        }
    }

    /// Length of this purpose's tag in hex characters.
    pub fn tag_hex_len(self) -> usize {
        self.layout().tag_bytes * 2
    }
}

/// Why a master secret is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the server's master secret is {0} bytes; at least {MIN_MASTER_LEN} are needed")]
    TooShort(usize),
}

/// The server's master secret and what is signed with it. Never logged, never sent.
pub struct Keys {
    master: Vec<u8>,
}

impl Keys {
    /// Keys from the master secret (raw bytes, at least [`MIN_MASTER_LEN`]).
    ///
    /// # Errors
    /// [`KeyError::TooShort`] for a shorter secret: nothing is signed with a weak key.
    pub fn new(master: Vec<u8>) -> Result<Self, KeyError> {
        if master.len() < MIN_MASTER_LEN {
            return Err(KeyError::TooShort(master.len()));
        }
        Ok(Self { master })
    }

    /// A fresh master secret, hex-encoded for storage.
    pub fn generate_master_hex() -> String {
        random_hex::<MIN_MASTER_LEN>()
    }

    /// The MAC for `purpose`, with its key and prefix already absorbed.
    fn mac(&self, purpose: Purpose) -> (HmacSha256, usize) {
        let layout = purpose.layout();
        let mut mac = match layout.key {
            KeySource::Master => mac_with(&self.master),
            KeySource::Derived(label) => {
                let mut derive = mac_with(&self.master);
                derive.update(b"key\0");
                derive.update(label.as_bytes());
                mac_with(&derive.finalize().into_bytes())
            }
        };
        mac.update(layout.prefix);
        (mac, layout.tag_bytes)
    }

    /// The tag of `message` for `purpose`: lowercase hex, [`Purpose::tag_hex_len`] characters.
    pub fn sign(&self, purpose: Purpose, message: impl AsRef<[u8]>) -> String {
        let (mut mac, tag_bytes) = self.mac(purpose);
        mac.update(message.as_ref());
        let full = mac.finalize().into_bytes();
        hex::encode(&full[..tag_bytes])
    }

    /// Whether `tag` is the tag of `message` for `purpose`. Only the canonical form (lowercase
    /// hex of the purpose's length) is accepted; the comparison is the MAC crate's
    /// constant-time one.
    pub fn verify(&self, purpose: Purpose, message: impl AsRef<[u8]>, tag: &str) -> bool {
        let (mut mac, tag_bytes) = self.mac(purpose);
        if tag.len() != tag_bytes * 2 || !is_lower_hex(tag) {
            return false;
        }
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        mac.update(message.as_ref());
        if tag_bytes == FULL_TAG {
            mac.verify_slice(&tag).is_ok()
        } else {
            mac.verify_truncated_left(&tag).is_ok()
        }
    }
}

/// What a webhook endpoint's secret starts with, so a leaked one is recognisable.
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

impl Keys {
    /// The signing secret of the webhook endpoint whose stored salt is `salt`: the same in
    /// every process sharing the database, changed by giving the endpoint a new salt.
    pub fn webhook_secret(&self, salt: &str) -> String {
        format!(
            "{WEBHOOK_SECRET_PREFIX}{}",
            self.sign(Purpose::WebhookSecret, salt)
        )
    }
}

/// The `v1` signature of a webhook delivery: lowercase hex of
/// `HMAC-SHA256(secret, timestamp + "." + body)`, keyed with the secret's bytes as shown to the
/// admin (prefix included). `docs/webhooks.md` shows receivers how to check it.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = mac_with(secret.as_bytes());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<secret>)")
    }
}

/// An HMAC-SHA256 keyed with `key`, built without a fallible constructor.
///
/// RFC 2104 hashes keys longer than the block and zero-pads shorter ones; doing that here gives
/// exactly the MAC that `new_from_slice` would (a test checks), with the infallible `new`.
fn mac_with(key: &[u8]) -> HmacSha256 {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..FULL_TAG].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    HmacSha256::new(&block.into())
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `N` random bytes from the thread-local CSPRNG (seeded by the OS), as lowercase hex.
pub fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A bearer token: 256 random bits as 64 lowercase hex characters.
pub fn random_token() -> String {
    random_hex::<32>()
}

/// Letters and digits of [`random_code`]: no 0/O, 1/I/L look-alikes.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A short one-time code a person types (a sign-in code): `len` characters drawn uniformly
/// from [`CODE_ALPHABET`] by the CSPRNG. Store it like a token, with [`hash_token`].
pub fn random_code(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// What is stored for a bearer token: its SHA-256, lowercase hex. Unkeyed on purpose: the
/// tokens are 256 random bits, so a leaked hash cannot be reversed, and stored hashes stay
/// valid whatever happens to the master secret.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The PKCE S256 code challenge of a code verifier (RFC 7636 §4.2): the unpadded base64url of
/// its SHA-256.
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Label keying the comparison in [`token_matches_hash`]; not a secret.
const COMPARE_KEY: &[u8] = b"kith/compare-token-hash/v1";

/// Whether `token` hashes to `stored_hash` (as made by [`hash_token`]), in constant time.
///
/// Both hashes go through one more HMAC and the MAC crate's `verify_slice` compares the
/// results ("double HMAC" comparison), so neither length nor content leaks through timing. An
/// empty stored hash (a comment imported without an edit token) matches nothing.
pub fn token_matches_hash(token: &str, stored_hash: &str) -> bool {
    if stored_hash.is_empty() {
        return false;
    }
    let mut presented = mac_with(COMPARE_KEY);
    presented.update(hash_token(token).as_bytes());
    let mut stored = mac_with(COMPARE_KEY);
    stored.update(stored_hash.as_bytes());
    presented
        .verify_slice(&stored.finalize().into_bytes())
        .is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const MASTER: [u8; 32] = [7; 32];

    #[test]
    fn pkce_challenge_is_unpadded_base64url_of_sha256() {
        // Reference value from Python's hashlib + base64.urlsafe_b64encode, padding removed.
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc"
        );
    }

    fn keys() -> Keys {
        Keys::new(MASTER.to_vec()).unwrap()
    }

    /// HMAC-SHA256 through the crate's own fallible constructor.
    fn reference_hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }

    // The constructions as they were written before this module (state.rs `Keys::tag` and
    // `derive`, spam/mac.rs `sign_hex`, notify/links.rs `signature`), kept here verbatim in
    // spirit so that a change to a layout fails a test. Voter hashes are stored in the votes
    // table, avatar seeds are public: both must stay the same too.
    fn old_tag(master: &[u8], purpose: &str, value: &[u8]) -> String {
        hex::encode(reference_hmac(master, &[purpose.as_bytes(), &[0], value]))
    }
    fn old_derive(master: &[u8], purpose: &str) -> Vec<u8> {
        hex::decode(old_tag(master, "key", purpose.as_bytes())).unwrap()
    }
    fn old_spam_sign(key: &[u8], domain: &str, msg: &str) -> String {
        hex::encode(reference_hmac(
            key,
            &[domain.as_bytes(), b"\n", msg.as_bytes()],
        ))
    }
    fn old_mail_signature(master: &[u8], payload: &str) -> String {
        let key = old_derive(master, "mail-links");
        let mut hex = hex::encode(reference_hmac(&key, &[payload.as_bytes()]));
        hex.truncate(32);
        hex
    }

    #[test]
    fn every_purpose_keeps_the_layout_already_issued_values_use() {
        let k = keys();
        let msg = "7|1740830400000";
        assert_eq!(
            k.sign(Purpose::FormToken, msg),
            old_spam_sign(
                &old_derive(&MASTER, "form-token"),
                "kith/form-token/v1",
                msg
            )
        );
        assert_eq!(
            k.sign(Purpose::ProofOfWork, msg),
            old_spam_sign(&old_derive(&MASTER, "proof-of-work"), "kith/pow/v1", msg)
        );
        let payload = "m.approve.42.1000.0123456789abcdef01234567";
        assert_eq!(
            k.sign(Purpose::MailLink, payload),
            old_mail_signature(&MASTER, payload)
        );
        let hash = hash_token("session");
        let old_csrf: String = old_tag(&MASTER, "admin-csrf", hash.as_bytes())
            .chars()
            .take(40)
            .collect();
        assert_eq!(k.sign(Purpose::AdminCsrf, &hash), old_csrf);
        let old_avatar: String = old_tag(&MASTER, "avatar", b"ann@example.com")
            .chars()
            .take(16)
            .collect();
        assert_eq!(k.sign(Purpose::Avatar, "ann@example.com"), old_avatar);
        let old_voter: String = old_tag(&MASTER, "voter", b"127.0.0.1")
            .chars()
            .take(32)
            .collect();
        assert_eq!(k.sign(Purpose::Voter, "127.0.0.1"), old_voter);
    }

    #[test]
    fn a_mail_link_signed_before_the_refactor_still_verifies() {
        // Produced by the previous code (notify/links.rs) for master [7; 32].
        let payload = "u.3.9";
        let tag = old_mail_signature(&MASTER, payload);
        assert!(keys().verify(Purpose::MailLink, payload, &tag));
    }

    #[test]
    fn padded_key_matches_the_reference_hmac_for_short_exact_and_long_keys() {
        for len in [0usize, 1, 16, 32, 63, 64, 65, 200] {
            let key = vec![0xA5u8; len];
            let mut mac = mac_with(&key);
            mac.update(b"m");
            assert_eq!(
                mac.finalize().into_bytes().to_vec(),
                reference_hmac(&key, &[b"m"]),
                "len {len}"
            );
        }
    }

    #[test]
    fn rfc4231_test_case_2() {
        // Key "Jefe", data "what do ya want for nothing?".
        let mut plain = mac_with(b"Jefe");
        plain.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(plain.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn tags_verify_only_for_their_own_key_purpose_and_message() {
        let all = [
            Purpose::FormToken,
            Purpose::ProofOfWork,
            Purpose::MailLink,
            Purpose::AdminCsrf,
            Purpose::Avatar,
            Purpose::Voter,
            Purpose::ReadMarker,
        ];
        let other = Keys::new(vec![8; 32]).unwrap();
        for purpose in all {
            let tag = keys().sign(purpose, "m");
            assert_eq!(tag.len(), purpose.tag_hex_len());
            assert!(keys().verify(purpose, "m", &tag), "{purpose:?}");
            assert!(!keys().verify(purpose, "n", &tag), "{purpose:?}");
            assert!(!other.verify(purpose, "m", &tag), "{purpose:?}");
            for elsewhere in all.into_iter().filter(|p| *p != purpose) {
                assert!(
                    !keys().verify(elsewhere, "m", &tag),
                    "{purpose:?} as {elsewhere:?}"
                );
            }
            // Not canonical, or the wrong length: refused.
            assert!(!keys().verify(purpose, "m", &tag.to_uppercase()));
            assert!(!keys().verify(purpose, "m", &tag[..tag.len() - 2]));
            assert!(!keys().verify(purpose, "m", &format!("{tag}00")));
            assert!(!keys().verify(purpose, "m", ""));
            assert!(!keys().verify(purpose, "m", &"zz".repeat(tag.len() / 2)));
        }
    }

    #[test]
    fn a_short_master_secret_is_refused() {
        assert_eq!(Keys::new(Vec::new()).unwrap_err(), KeyError::TooShort(0));
        assert_eq!(Keys::new(vec![1; 31]).unwrap_err(), KeyError::TooShort(31));
        let generated = hex::decode(Keys::generate_master_hex()).unwrap();
        assert!(Keys::new(generated).is_ok());
    }

    #[test]
    fn random_tokens_are_long_hex_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(is_lower_hex(&a));
        assert_ne!(a, b);
        assert_eq!(random_hex::<12>().len(), 24);
    }

    #[test]
    fn token_hashes_match_only_their_token() {
        let token = random_token();
        let stored = hash_token(&token);
        assert_eq!(stored.len(), 64);
        assert_ne!(stored, token);
        assert!(token_matches_hash(&token, &stored));
        assert!(!token_matches_hash(&random_token(), &stored));
        assert!(!token_matches_hash(&token, &stored[..63]));
        assert!(!token_matches_hash(&stored, &stored));
        assert!(
            !token_matches_hash("", ""),
            "imported comments have no token"
        );
        assert!(!token_matches_hash(&token, ""));
    }
}
