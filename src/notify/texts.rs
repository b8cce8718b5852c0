//! Server texts: the words of the mails and of the pages behind mail links, in the embed's ten
//! languages. They live in `src/notify/locales/<lang>.json` (compiled in), are parsed once at
//! start into typed structs, and use one placeholder syntax, `{name}`, as the embed's locale
//! files do. Everything is plain text (escaped where it reaches HTML).

use std::collections::HashMap;

use serde::Deserialize;

/// The locale files, English first (the fallback for any other language).
const FILES: [(&str, &str); 10] = [
    ("en", include_str!("locales/en.json")),
    ("de", include_str!("locales/de.json")),
    ("fr", include_str!("locales/fr.json")),
    ("es", include_str!("locales/es.json")),
    ("pt", include_str!("locales/pt.json")),
    ("it", include_str!("locales/it.json")),
    ("nl", include_str!("locales/nl.json")),
    ("pl", include_str!("locales/pl.json")),
    ("ja", include_str!("locales/ja.json")),
    ("zh", include_str!("locales/zh.json")),
];

/// Every server text in one language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub mail: MailTexts,
    pub pages: PageTexts,
    pub oidc: OidcTexts,
}

/// The words of the sign-in popup's last page (OpenID Connect and GitHub sign-in). `{author}`
/// is the reader's name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcTexts {
    /// The start page's (the popup's first page, before the provider; `{provider}` is its label).
    pub start_title: String,
    pub start_text: String,
    /// The start page when the window was not opened by a comment form that started the sign-in.
    pub err_no_opener: String,
    pub signed_in_title: String,
    pub signed_in_text: String,
    pub failed_title: String,
    /// The flow is unknown or was used already (`invalid_signin_state`).
    pub err_state: String,
    /// `signin_expired`.
    pub err_expired: String,
    /// The provider or a check refused (`signin_failed`).
    pub err_refused: String,
    /// `provider_unavailable`.
    pub err_unavailable: String,
    /// Anything else (an unknown provider, a refused origin, …).
    pub err_other: String,
}

/// The words of the mails. `{author}`, `{title}`, `{site}` and `{days}` are filled in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailTexts {
    pub reply_subject: String,
    pub reply_intro: String,
    pub reply_footer: String,
    pub thread_subject: String,
    pub thread_intro: String,
    pub thread_footer: String,
    pub view_comment: String,
    pub unsubscribe_thread: String,
    pub unsubscribe_all: String,
    pub confirm_subject: String,
    pub confirm_intro: String,
    pub confirm_action: String,
    pub confirm_footer: String,
    pub owner_subject_new: String,
    pub owner_subject_held: String,
    pub owner_intro: String,
    pub owner_footer: String,
    pub page: String,
    pub status: String,
    pub status_pending: String,
    pub status_approved: String,
    pub why_held: String,
    pub website: String,
    pub approve: String,
    pub delete: String,
    pub spam: String,
    pub ban: String,
    pub manage_subject: String,
    pub manage_intro: String,
    pub manage_action: String,
    pub manage_footer: String,
    /// Digests: `{count}` is the number of comments in them.
    pub digest_subject_daily: String,
    pub digest_subject_weekly: String,
    pub digest_intro: String,
    pub digest_footer: String,
    /// The link to choose instant, daily or weekly mail, or none.
    pub digest_manage: String,
    pub owner_digest_subject_daily: String,
    pub owner_digest_subject_weekly: String,
    pub owner_digest_intro: String,
    pub owner_digest_footer: String,
    /// A digest's link to a comment, to answer it.
    pub reply_link: String,
    pub signin_subject: String,
    pub signin_intro: String,
    pub signin_action: String,
    /// `{minutes}` is filled in.
    pub signin_footer: String,
    /// The quotation marks that replace a title's own, inside the language's quotes around
    /// `{title}` (so subjects never nest the same marks).
    pub inner_quote_open: String,
    pub inner_quote_close: String,
}

/// The words of the pages behind mail links. `{site}`, `{count}` and `{frequency}` are filled in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageTexts {
    pub title_approve: String,
    pub title_delete: String,
    pub title_spam: String,
    pub title_ban: String,
    pub done_title: String,
    pub done_approve: String,
    pub done_delete: String,
    pub done_spam: String,
    pub done_ban: String,
    pub confirm_title: String,
    pub confirm_text: String,
    pub thanks_title: String,
    pub confirmed_text: String,
    pub unsubscribe_title: String,
    pub unsubscribe_question: String,
    pub unsubscribed_title: String,
    pub unsubscribed_thread: String,
    pub unsubscribed_all: String,
    pub manage_none: String,
    pub manage_count: String,
    pub delete_all: String,
    pub delete_one: String,
    pub download: String,
    pub open: String,
    pub err_invalid: String,
    pub err_expired: String,
    pub err_used: String,
    pub err_other: String,
    pub err_internal: String,
    pub gone: String,
    /// Choosing how often mail comes (`{frequency}` is one of the three choices).
    pub frequency_question: String,
    pub frequency_instant: String,
    pub frequency_daily: String,
    pub frequency_weekly: String,
    pub frequency_saved_title: String,
    pub frequency_saved: String,
    pub signin_title: String,
    pub signin_text: String,
    pub signin_button: String,
    pub signed_in_title: String,
    /// `{site}` is filled in.
    pub signed_in_text: String,
    pub signed_in_code: String,
    /// The link back to the page that asked (which signs that browser in by itself).
    pub signed_in_back: String,
    /// Instead of `signed_in_text` when that link is shown: the code is for another device.
    pub signed_in_elsewhere: String,
}

/// The server texts of every language, parsed once at start.
#[derive(Debug)]
pub struct Locales {
    english: Texts,
    others: HashMap<&'static str, Texts>,
}

impl Locales {
    /// Parses the compiled-in locale files; an error names the file and the problem.
    pub fn load() -> Result<Self, String> {
        let mut english = None;
        let mut others = HashMap::new();
        for (lang, json) in FILES {
            let texts: Texts = serde_json::from_str(json)
                .map_err(|e| format!("src/notify/locales/{lang}.json: {e}"))?;
            if lang == "en" {
                english = Some(texts);
            } else {
                others.insert(lang, texts);
            }
        }
        let english = english.ok_or("src/notify/locales/en.json is missing")?;
        Ok(Self { english, others })
    }

    /// The texts for a site language (`pt-BR` → `pt`); English for any other.
    pub fn get(&self, language: &str) -> &Texts {
        let base = language.split(['-', '_']).next().unwrap_or_default();
        self.others.get(base).unwrap_or(&self.english)
    }
}

/// Fills `{name}` placeholders in one pass (a value that itself looks like a placeholder stays
/// as it is; an unknown placeholder is left alone).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let replaced = after.find('}').and_then(|end| {
            let name = &after[..end];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, end))
        });
        match replaced {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    use super::*;

    /// Every key of a locale file (`mail.reply_subject`, …) with the placeholders its text uses.
    fn placeholders(json: &str) -> BTreeMap<String, BTreeSet<String>> {
        let value: Value = serde_json::from_str(json).unwrap();
        let mut out = BTreeMap::new();
        for (section, texts) in value.as_object().unwrap() {
            for (key, text) in texts.as_object().unwrap() {
                let text = text.as_str().unwrap();
                let mut found = BTreeSet::new();
                let mut rest = text;
                while let Some(start) = rest.find('{') {
                    let after = &rest[start + 1..];
                    let end = after
                        .find('}')
                        .unwrap_or_else(|| panic!("{section}.{key}: an unclosed {{ in {text:?}"));
                    found.insert(after[..end].to_string());
                    rest = &after[end + 1..];
                }
                out.insert(format!("{section}.{key}"), found);
            }
        }
        out
    }

    #[test]
    fn every_language_has_the_same_keys_and_placeholders_as_english() {
        let english = placeholders(FILES[0].1);
        let known: BTreeSet<&str> = [
            "author",
            "title",
            "site",
            "days",
            "count",
            "frequency",
            "minutes",
            "provider",
        ]
        .into();
        for (key, names) in &english {
            for name in names {
                assert!(known.contains(name.as_str()), "{key}: unknown {{{name}}}");
            }
        }
        for (lang, json) in &FILES[1..] {
            let theirs = placeholders(json);
            let keys: Vec<_> = theirs.keys().collect();
            assert_eq!(keys, english.keys().collect::<Vec<_>>(), "{lang}: keys");
            assert_eq!(theirs, english, "{lang}: placeholders");
        }
    }

    /// Every text of a locale file by key (`mail.signin_subject`, …).
    fn texts(json: &str) -> BTreeMap<String, String> {
        let value: Value = serde_json::from_str(json).unwrap();
        let mut out = BTreeMap::new();
        for (section, texts) in value.as_object().unwrap() {
            for (key, text) in texts.as_object().unwrap() {
                out.insert(
                    format!("{section}.{key}"),
                    text.as_str().unwrap().to_string(),
                );
            }
        }
        out
    }

    #[test]
    fn every_sign_in_text_is_translated_not_an_english_copy() {
        let english = texts(FILES[0].1);
        let signin: Vec<&String> = english
            .keys()
            .filter(|k| k.contains("signin") || k.contains("signed_in") || k.starts_with("oidc."))
            .collect();
        assert!(signin.len() >= 18, "{signin:?}");
        for (lang, json) in &FILES[1..] {
            let theirs = texts(json);
            for key in &signin {
                assert_ne!(theirs[*key], english[*key], "{lang}: {key} is English");
            }
        }
    }

    #[test]
    fn one_placeholder_syntax_and_no_empty_text() {
        for (lang, json) in FILES {
            assert!(
                !json.contains("{{"),
                "{lang}: `{{{{` is not a placeholder here"
            );
            assert!(!json.contains("%s") && !json.contains("%d"), "{lang}");
            assert!(!json.contains("\"\""), "{lang}: an empty text");
        }
    }

    #[test]
    fn every_language_parses_and_unknown_ones_fall_back_to_english() {
        let locales = Locales::load().unwrap();
        for (lang, _) in &FILES[1..] {
            assert!(!std::ptr::eq(locales.get(lang), &locales.english), "{lang}");
        }
        assert_eq!(locales.get("de").mail.approve, "Freigeben");
        assert_eq!(locales.get("pt-BR").mail.approve, "Aprovar");
        assert_eq!(locales.get("xx").mail.approve, "Approve");
    }

    #[test]
    fn a_misspelt_key_is_refused() {
        let json = FILES[0]
            .1
            .replacen("\"reply_subject\"", "\"reply_subjet\"", 1);
        let err = serde_json::from_str::<Texts>(&json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("reply_subjet"), "{err}");
    }

    #[test]
    fn fill_replaces_once_and_leaves_lookalikes_in_values_alone() {
        let out = fill(
            "{author} on {title} ({site}) {unknown}",
            &[("author", "{site}"), ("title", "T"), ("site", "S")],
        );
        assert_eq!(out, "{site} on T (S) {unknown}");
    }
}
