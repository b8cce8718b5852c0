//! Duplicate detection: a fingerprint that is equal for trivially varied copies of a comment.
//!
//! Store [`fingerprint`] with each comment and look for an equal one in a recent time window
//! (same site, or across sites). Normalization:
//!
//! * letters are lowercased (Unicode-aware, so `ÉTÉ` and `été` match);
//! * every run of characters that are not letters or digits (whitespace, punctuation, symbols,
//!   emoji, markdown and HTML syntax characters) becomes one separator, and separators at the
//!   ends vanish: `Great post!!!`, `great   post` and `*Great* post.` match;
//! * zero-width and other invisible format characters are dropped entirely, so they cannot split
//!   a word in two.
//!
//! Letters and digits themselves are kept, so links and phone numbers still distinguish copies.
//! No Unicode compatibility folding (full-width letters stay distinct) is done.
//!
//! Very short comments ("Thanks!", "+1") collide by nature; callers should only act on
//! duplicates whose [`normalize`]d text is at least [`MIN_NORMALIZED_LEN`] characters long.

use sha2::{Digest, Sha256};

/// Below this many characters of normalized text, equal fingerprints are not evidence of spam.
pub const MIN_NORMALIZED_LEN: usize = 20;

/// The normalized text that [`fingerprint`] hashes (useful to apply [`MIN_NORMALIZED_LEN`]).
pub fn normalize(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut pending_space = false;
    for c in body.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Zero-width and bidi format characters that render as nothing.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{FEFF}' // zero-width no-break space
    )
}

/// A fixed 64-character lowercase hex SHA-256 of [`normalize`]`(body)`, prefixed by nothing.
pub fn fingerprint(body: &str) -> String {
    hex::encode(Sha256::digest(normalize(body).as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn case_whitespace_and_punctuation_are_folded() {
        let base = fingerprint("Great post, thanks for sharing! Check my site example.com");
        for variant in [
            "great post thanks for sharing check my site example com",
            "GREAT POST, THANKS FOR SHARING!!! Check my site: example.com",
            "  Great   post,\n\nthanks for sharing!\tCheck my site example.com  ",
            "**Great post**, thanks for sharing! Check my site <example.com>",
            "Great post... thanks for sharing ;) Check my site example.com 🙂",
            "Great po\u{200B}st, thanks for sharing! Check my site example.com",
        ] {
            assert_eq!(fingerprint(variant), base, "{variant:?}");
        }
    }

    #[test]
    fn different_words_or_links_do_not_match() {
        let a = fingerprint("Great post, thanks for sharing! example.com");
        assert_ne!(
            a,
            fingerprint("Great post, thanks for sharing! example.org")
        );
        assert_ne!(
            a,
            fingerprint("Great posts, thanks for sharing! example.com")
        );
        assert_ne!(fingerprint("call 555 1234"), fingerprint("call 555 1235"));
        // Word boundaries are kept: "no thing" is not "nothing".
        assert_ne!(fingerprint("no thing"), fingerprint("nothing"));
    }

    #[test]
    fn unicode_letters_are_lowercased_and_kept() {
        assert_eq!(fingerprint("ÉTÉ À PARIS"), fingerprint("été à paris"));
        assert_eq!(normalize("Привет, МИР!"), "привет мир");
        assert_eq!(normalize("日本語のテキスト。"), "日本語のテキスト");
        assert_ne!(fingerprint("été"), fingerprint("ete"));
    }

    #[test]
    fn output_is_fixed_length_hex() {
        for body in ["", "x", &"long ".repeat(10_000)] {
            let f = fingerprint(body);
            assert_eq!(f.len(), 64);
            assert!(f.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        }
        assert_eq!(fingerprint(""), fingerprint("!!! ... ???"));
    }

    #[test]
    fn normalize_reports_length_for_the_short_comment_rule() {
        assert!(normalize("Thanks!").chars().count() < MIN_NORMALIZED_LEN);
        assert!(
            normalize("Buy cheap pills at pharmacy-example.test now")
                .chars()
                .count()
                >= MIN_NORMALIZED_LEN
        );
    }
}
