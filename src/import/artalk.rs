//! Artalk export: Artrans JSON, an array of "Artran" objects, one per comment:
//! `id, rid, content, ua, ip, created_at, updated_at, is_collapsed, is_pending, is_pinned,
//! vote_up, vote_down, nick, email, link, password, badge_name, badge_color, page_key,
//! page_title, page_admin_only, site_name, site_urls`.
//!
//! Artalk writes every field as a string (`"true"`, `"666"`); converters sometimes write numbers
//! and booleans, so both are read. Dates are Go's `time.Time` text
//! (`2021-10-28 20:50:15 +0800 +0800`, the zone name optional) or RFC 3339.
//!
//! Decisions:
//! - the page is `page_key` (a URL or a path); a path gets its URL from the first of `site_urls`;
//!   `page_title` is its title; `page_admin_only` (only admins may comment) closes it;
//! - `rid` names the parent (`0` or empty: top level); `content` is Markdown;
//! - `is_pending` → pending, everything else approved (`is_collapsed` only folds a comment);
//!   Artalk keeps no deleted comments in its export;
//! - `vote_up - vote_down` → likes, `is_pinned` → pinned, `link` → website (through the link
//!   check), `email` kept private; `password` and the badge are not kept;
//! - the blog in import keys is the first `site_name`; a file with several sites is imported
//!   into this one site, with a note;
//! - a comment without a usable date is skipped with a reason; a missing id becomes `artran-N`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::{
    CommentKind, CommentStatus, ImportBody, ImportComment, ImportData, ImportError, ImportThread,
    Skipped, flex, json_error, non_empty,
};

const WHAT: &str = "Artalk Artrans JSON";

#[derive(Deserialize)]
struct Artran {
    #[serde(default, deserialize_with = "flex::string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    rid: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    content: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    ua: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    ip: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    is_pending: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    is_pinned: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    vote_up: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    vote_down: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    nick: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    link: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    page_key: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    page_title: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    page_admin_only: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    site_name: Option<String>,
    #[serde(default, deserialize_with = "flex::string")]
    site_urls: Option<String>,
}

/// `2021-10-28 20:50:15 +0800 +0800`, `2021-10-28 20:50:15.123 +0800 CST`,
/// `2021-10-28 20:50:15 +0800`, RFC 3339, or `2021-10-28 20:50:15` (UTC).
pub(crate) fn go_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with("0001-01-01") {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(raw) {
        return Some(d.with_timezone(&Utc));
    }
    let parts: Vec<&str> = raw.split_whitespace().collect();
    match parts.as_slice() {
        [date, clock, offset, ..] => DateTime::parse_from_str(
            &format!("{date} {clock} {offset}"),
            "%Y-%m-%d %H:%M:%S%.f %z",
        )
        .ok()
        .map(|d| d.with_timezone(&Utc)),
        [date, clock] => {
            NaiveDateTime::parse_from_str(&format!("{date} {clock}"), "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        }
        _ => None,
    }
}

fn yes(v: &Option<String>) -> bool {
    matches!(
        v.as_deref()
            .map(str::trim)
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("true" | "1")
    )
}

fn number(v: &Option<String>) -> i64 {
    v.as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0)
}

/// The page's address: `page_key` itself when absolute, else joined to the first site URL.
fn page_url(key: &str, site_urls: Option<&str>) -> Option<String> {
    if key.contains("://") {
        return Some(key.to_string());
    }
    let base = site_urls?
        .split(',')
        .map(str::trim)
        .find(|u| u.starts_with("http://") || u.starts_with("https://"))?;
    let base = url::Url::parse(base).ok()?;
    base.join(key).ok().map(|u| u.to_string())
}

pub(crate) fn parse(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let records: Vec<Artran> = serde_json::from_slice(bytes).map_err(|e| json_error(WHAT, &e))?;
    let mut data = ImportData::default();
    let mut sites: Vec<String> = Vec::new();
    let mut order: Vec<String> = Vec::new();
    let mut threads: HashMap<String, ImportThread> = HashMap::new();
    for (i, r) in records.into_iter().enumerate() {
        let source_id = match r.id.as_deref().and_then(non_empty) {
            Some(id) => id,
            None => {
                let made_up = format!("artran-{}", i + 1);
                data.notes.push(format!(
                    "Artran number {} has no id; imported as {made_up}",
                    i + 1
                ));
                made_up
            }
        };
        let Some(key) = r.page_key.as_deref().and_then(non_empty) else {
            data.skipped.push(Skipped {
                source_id,
                reason: format!("no page_key (Artran number {})", i + 1),
            });
            continue;
        };
        let raw_date = r.created_at.clone().unwrap_or_default();
        let Some(created_at) = go_time(&raw_date) else {
            data.skipped.push(Skipped {
                source_id,
                reason: format!(
                    "created_at '{raw_date}' is not a date (Artran number {})",
                    i + 1
                ),
            });
            continue;
        };
        if let Some(site) = r.site_name.as_deref().and_then(non_empty)
            && !sites.contains(&site)
        {
            sites.push(site);
        }
        let parent = r.rid.as_deref().and_then(non_empty).filter(|p| p != "0");
        let comment = ImportComment {
            reactions: Default::default(),
            source_id,
            parent_source_id: parent,
            author: r
                .nick
                .as_deref()
                .and_then(non_empty)
                .unwrap_or_else(|| "Anonymous".to_string()),
            email: r.email.as_deref().and_then(non_empty),
            website: r.link.as_deref().and_then(non_empty),
            ip: r.ip.as_deref().and_then(non_empty),
            user_agent: r.ua.as_deref().and_then(non_empty),
            created_at,
            edited_at: None,
            body: ImportBody::Markdown(r.content.unwrap_or_default()),
            rendered_html: None,
            status: if yes(&r.is_pending) {
                CommentStatus::Pending
            } else {
                CommentStatus::Approved
            },
            kind: CommentKind::Comment,
            likes: number(&r.vote_up).saturating_sub(number(&r.vote_down)),
            pinned: yes(&r.is_pinned),
            owner: false,
            notify_replies: false,
            held_reason: None,
        };
        let thread = threads.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            ImportThread {
                key: key.clone(),
                url: page_url(&key, r.site_urls.as_deref()),
                title: r.page_title.as_deref().and_then(non_empty),
                closed: yes(&r.page_admin_only),
                comments: Vec::new(),
            }
        });
        thread.comments.push(comment);
    }
    data.source = sites.first().and_then(|s| super::source_name(s));
    if sites.len() > 1 {
        data.notes.push(format!(
            "the file holds comments of {} Artalk sites ({}); all are imported into this site",
            sites.len(),
            sites.join(", ")
        ));
    }
    data.threads = order
        .into_iter()
        .filter_map(|k| threads.remove(&k))
        .collect();
    Ok(data)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn go_times_read_with_and_without_zone_names() {
        let want = DateTime::parse_from_rfc3339("2021-10-28T12:50:15Z")
            .unwrap()
            .with_timezone(&Utc);
        for raw in [
            "2021-10-28 20:50:15 +0800 +0800",
            "2021-10-28 20:50:15 +0800 CST",
            "2021-10-28 20:50:15 +0800",
            "2021-10-28T20:50:15+08:00",
            "2021-10-28 12:50:15",
        ] {
            assert_eq!(go_time(raw), Some(want), "{raw}");
        }
        assert_eq!(go_time("yesterday"), None);
        assert_eq!(go_time(""), None);
    }

    #[test]
    fn relative_page_keys_get_the_first_site_url() {
        assert_eq!(
            page_url(
                "/posts/a/",
                Some("http://localhost:3000/demo/,https://b.example")
            ),
            Some("http://localhost:3000/posts/a/".into())
        );
        assert_eq!(
            page_url("https://x.example/p", None),
            Some("https://x.example/p".into())
        );
        assert_eq!(page_url("/p", None), None);
    }
}
