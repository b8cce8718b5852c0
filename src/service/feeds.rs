//! Atom feeds of approved comments: per thread and per site, the newest [`FEED_SIZE`].
//!
//! Only approved comments are read (held, spam and deleted ones never appear), and of each only
//! what readers see on the page: the author's name, the sanitized HTML, the dates. Never the
//! e-mail address, the website, the IP address or the user agent.
//!
//! Ids are stable: the feed's and each entry's `urn:uuid:` is derived from the site's own name
//! in import keys ([`super::import::own_source`]: stable for the site, different on another
//! installation) and the thread key or comment id, so they survive a change of the server's
//! address. Entry links are the comment's permalink as the embed makes it: the page's address
//! plus `#comment-{id}`.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::db::comments::FeedItem;
use crate::db::{self, DbConn};
use crate::domain::site::Site;
use crate::domain::thread::ThreadKey;
use crate::error::AppError;
use crate::export::wordpress::xml_safe;
use crate::state::AppState;

/// Entries per feed.
pub const FEED_SIZE: i64 = 50;

/// A feed ready to be written: every text is safe for XML (forbidden characters replaced).
#[derive(Debug, Clone)]
pub struct Feed {
    pub id: String,
    pub title: String,
    /// The page (thread feed) or site (site feed) the feed is about, when known.
    pub page: Option<String>,
    /// The newest entry's update (or epoch for an empty feed).
    pub updated: DateTime<Utc>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub title: String,
    /// The comment's permalink, when the page's address is known.
    pub link: Option<String>,
    pub author: String,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Sanitized HTML (it was stored only after the sanitizer).
    pub html: String,
}

/// The feed of one thread (empty when nobody commented on the page yet).
pub fn thread_feed(
    state: &AppState,
    conn: &mut DbConn,
    site_slug: &str,
    key: &ThreadKey,
) -> Result<Feed, AppError> {
    let site = super::sites::find(state, conn, site_slug)?;
    let own = super::import::own_source(state, &site);
    let thread = db::threads::find_by_key(conn, site.id, key)?;
    let items = match &thread {
        Some(t) => db::comments::list_newest_approved(conn, site.id, Some(t.id), FEED_SIZE)?,
        None => Vec::new(),
    };
    let (title, url) = thread
        .as_ref()
        .map(|t| (t.title.clone(), t.url.clone()))
        .unwrap_or_default();
    let page = page_address(&site, key.as_str(), &url);
    let name = if title.trim().is_empty() {
        key.as_str().to_string()
    } else {
        title
    };
    let entries: Vec<Entry> = items.iter().map(|item| entry(&own, &site, item)).collect();
    Ok(Feed {
        id: uuid_urn(&format!("{own}\nthread\n{}", key.as_str())),
        title: clean(&format!("Comments on {name}")),
        page,
        updated: newest(&entries),
        entries,
    })
}

/// The feed of a whole site.
pub fn site_feed(state: &AppState, conn: &mut DbConn, site_slug: &str) -> Result<Feed, AppError> {
    let site = super::sites::find(state, conn, site_slug)?;
    let own = super::import::own_source(state, &site);
    let items = db::comments::list_newest_approved(conn, site.id, None, FEED_SIZE)?;
    let entries: Vec<Entry> = items.iter().map(|item| entry(&own, &site, item)).collect();
    Ok(Feed {
        id: uuid_urn(&format!("{own}\nsite")),
        title: clean(&format!("Comments on {}", site.name)),
        page: site_origin(&site),
        updated: newest(&entries),
        entries,
    })
}

fn entry(own: &str, site: &Site, item: &FeedItem) -> Entry {
    let c = &item.comment;
    let author = if c.author.trim().is_empty() {
        "Anonymous".to_string()
    } else {
        c.author.clone()
    };
    let page_name = if item.thread_title.trim().is_empty() {
        item.thread_key.as_str()
    } else {
        item.thread_title.as_str()
    };
    Entry {
        id: uuid_urn(&format!("{own}\ncomment\n{}", c.id.0)),
        title: clean(&format!("{author} on {page_name}")),
        link: page_address(site, &item.thread_key, &item.thread_url)
            .map(|page| format!("{page}#comment-{}", c.id.0)),
        author: clean(&author),
        published: c.created_at,
        updated: c.edited_at.unwrap_or(c.created_at).max(c.created_at),
        html: clean(c.body_html.as_str()),
    }
}

fn newest(entries: &[Entry]) -> DateTime<Utc> {
    entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// The page a thread is on: the address the embed reported (without its fragment), else the
/// site's first allowed origin followed by the thread key.
fn page_address(site: &Site, key: &str, url: &str) -> Option<String> {
    let url = url.split('#').next().unwrap_or_default().trim();
    if !url.is_empty() && crate::domain::link::is_safe_web_link(url) {
        return Some(url.to_string());
    }
    site_origin(site).map(|origin| format!("{origin}{key}"))
}

/// The site's first allowed origin that names one address (no `:*` port).
fn site_origin(site: &Site) -> Option<String> {
    site.allowed_origins
        .iter()
        .map(ToString::to_string)
        .find(|o| !o.ends_with(":*"))
}

/// `urn:uuid:` of a name-based UUID (RFC 9562 version 8, from SHA-256 of `name`).
fn uuid_urn(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn clean(s: &str) -> String {
    xml_safe(s).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn uuid_urns_are_stable_well_formed_and_distinct() {
        let a = uuid_urn("site.tag\ncomment\n1");
        assert_eq!(a, uuid_urn("site.tag\ncomment\n1"));
        assert_ne!(a, uuid_urn("site.tag\ncomment\n2"));
        let hex = a.strip_prefix("urn:uuid:").unwrap();
        let groups: Vec<usize> = hex.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(&hex[14..15], "8");
    }
}
