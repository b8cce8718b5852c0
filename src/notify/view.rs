//! What a mail shows, before a layout turns it into text and HTML.

use crate::render::SafeHtml;

/// A quoted comment in a mail.
#[derive(Debug, Clone)]
pub struct Quoted {
    pub author: String,
    /// The comment's markdown source, for the plain-text part.
    pub text: String,
    /// The comment's sanitized HTML.
    pub html: SafeHtml,
}

/// Everything a mail shows; every string is plain text (escaped in the HTML part).
#[derive(Debug, Clone, Default)]
pub struct MailView {
    pub lang: String,
    pub site: String,
    pub subject: String,
    pub heading: String,
    pub intro: Vec<String>,
    pub comment: Option<Quoted>,
    pub facts: Vec<(String, String)>,
    pub actions: Vec<(String, String)>,
    pub footer: String,
    pub unsubscribe: Option<(String, String)>,
    /// A digest's comments, by page (empty in every other mail).
    pub digest: Vec<DigestSection>,
}

/// One page in a digest, with its comments oldest first.
#[derive(Debug, Clone)]
pub struct DigestSection {
    pub title: String,
    pub url: Option<String>,
    pub entries: Vec<DigestEntry>,
}

/// One comment in a digest.
#[derive(Debug, Clone)]
pub struct DigestEntry {
    pub comment: Quoted,
    /// When it was written, e.g. `2026-11-30 14:05 UTC`.
    pub when: String,
    /// A short note, e.g. the owner's "Waiting for moderation".
    pub note: Option<String>,
    /// Labelled links: reply, view, moderation.
    pub links: Vec<(String, String)>,
}

/// A rendered mail.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}
