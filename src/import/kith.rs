//! kith's own JSON format: lossless, carries every field of [`ImportThread`] and
//! [`ImportComment`].
//!
//! ```json
//! {"format": "kith", "version": 1, "threads": [{"key": "/post/", "comments": [...]}]}
//! ```
//!
//! A comment's `reactions` (counts by reaction id) is optional: files written before reactions
//! existed, and comments nobody reacted to, leave it out.
//!
//! Written by [`crate::export::kith::write`]. Unknown fields are refused (a newer file says so
//! with a higher version), and the file must be consistent: ids unique per thread, parents
//! present.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{ImportData, ImportError, ImportThread, json_error};
use crate::domain::reaction::Reaction;

pub const FORMAT_MARKER: &str = "kith";
pub const VERSION: u32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    dead_code,
    reason = "format, version and exported_at are checked by the probe; kept so serde accepts them"
)]
pub(crate) struct KithFile {
    pub format: String,
    pub version: u32,
    /// When the file was written (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Names the blog of the file's plain (non-key) source ids; kith's own exports give every
    /// comment its full import key instead and leave this out.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub threads: Vec<ImportThread>,
}

/// The same shape, borrowed, for writing.
#[derive(Serialize)]
pub(crate) struct KithFileRef<'a> {
    pub format: &'a str,
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<chrono::DateTime<chrono::Utc>>,
    pub threads: &'a [ImportThread],
}

#[derive(Deserialize)]
struct Probe {
    format: Option<String>,
    version: Option<serde_json::Value>,
}

pub(crate) fn parse(bytes: &[u8]) -> Result<ImportData, ImportError> {
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| json_error("kith JSON", &e))?;
    if probe.format.as_deref() != Some(FORMAT_MARKER) {
        return Err(ImportError::new(format!(
            "kith JSON: \"format\" is {:?}, expected \"kith\"",
            probe.format.unwrap_or_default()
        )));
    }
    match probe.version.as_ref().and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) => {
            return Err(ImportError::new(format!(
                "kith JSON: unsupported version {v}; this kith reads version {VERSION}"
            )));
        }
        None => {
            return Err(ImportError::new(
                "kith JSON: missing or non-numeric \"version\"",
            ));
        }
    }
    let file: KithFile = serde_json::from_slice(bytes).map_err(|e| json_error("kith JSON", &e))?;
    for (ti, t) in file.threads.iter().enumerate() {
        let mut ids = HashSet::with_capacity(t.comments.len());
        for c in &t.comments {
            if !ids.insert(c.source_id.as_str()) {
                return Err(ImportError::new(format!(
                    "kith JSON: thread {} ('{}'): comment id {} appears twice",
                    ti + 1,
                    t.key,
                    c.source_id
                )));
            }
        }
        for c in &t.comments {
            if let Some(p) = &c.parent_source_id
                && !ids.contains(p.as_str())
            {
                return Err(ImportError::new(format!(
                    "kith JSON: thread {} ('{}'): comment {} replies to {p}, which is not in the thread",
                    ti + 1,
                    t.key,
                    c.source_id
                )));
            }
        }
    }
    let mut data = ImportData {
        source: file.source.as_deref().and_then(super::source_name),
        threads: file.threads,
        ..ImportData::default()
    };
    // Cycles cannot be represented in kith's database: break them the same way as elsewhere.
    for t in &mut data.threads {
        super::repair_tree(t, &mut data.notes);
    }
    // Reaction counts: ids this kith does not offer (a newer set) and counts below one are
    // left out, noted.
    for t in &mut data.threads {
        for c in &mut t.comments {
            c.reactions.retain(|id, count| {
                let known = Reaction::parse(id).is_some();
                if !known || *count < 0 {
                    data.notes.push(format!(
                        "comment {} ('{}'): reaction {id:?} with count {count} left out",
                        c.source_id, t.key
                    ));
                }
                known && *count > 0
            });
        }
    }
    Ok(data)
}
