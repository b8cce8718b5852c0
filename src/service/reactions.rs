//! Reactions from readers: each of the fixed set once per reader and comment, given or taken
//! back; counted like likes (maintained counts, announced like a like).

use super::now;
use super::votes::{find_public, voter};
use crate::db::changes::{comments_changed, write_tx};
use crate::db::{self, DbConn};
use crate::domain::comment::{ClientInfo, CommentId};
use crate::domain::reaction::{Reaction, ReactionCounts};
use crate::domain::reader::ReaderId;
use crate::domain::site::Site;
use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

/// A reaction after a reader gave or took it back.
#[derive(Debug, Clone)]
pub struct Reacted {
    /// Whether this reader's reaction stands now.
    pub reacted: bool,
    /// The comment's counts after the change.
    pub counts: ReactionCounts,
}

/// The reaction id in a request, or 400 `unknown_reaction`.
pub fn parse(id: &str) -> Result<Reaction, AppError> {
    Reaction::parse(id).ok_or_else(|| {
        let ids: Vec<&str> = Reaction::ALL.iter().map(|r| r.id()).collect();
        AppError::new(
            ErrorKind::UnknownReaction,
            format!("reactions are {}", ids.join(", ")),
        )
    })
}

/// Gives (`on`) or takes back a reader's reaction to an approved comment. Giving it twice or
/// taking back one never given changes nothing. A signed-in `reader` is one reader on every
/// device and network (keyed by reader, not by address); anonymous readers are keyed by their
/// address. 403 `reactions_disabled` when the site has reactions off.
#[expect(
    clippy::too_many_arguments,
    reason = "one use-case's inputs; a struct would only rename them"
)]
pub fn react(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    id: CommentId,
    reaction: Reaction,
    on: bool,
    client: &ClientInfo,
    reader: Option<ReaderId>,
) -> Result<Reacted, AppError> {
    if !site.settings.reactions {
        return Err(AppError::new(
            ErrorKind::ReactionsDisabled,
            "this site does not take reactions",
        ));
    }
    let voter = voter(state, client, reader);
    write_tx(conn, &state.changes, |conn, changes| {
        find_public(conn, site, id)?;
        let changed = if on {
            db::reactions::insert_if_absent(conn, id, reaction, &voter, now().naive_utc())?
        } else {
            db::reactions::delete(conn, id, reaction, &voter)?
        };
        if changed {
            comments_changed(conn, changes, &[id], false)?;
        }
        Ok(Reacted {
            reacted: on,
            counts: db::reactions::counts(conn, id)?,
        })
    })
}

/// A comment's reaction counts (none when the site has reactions off).
pub fn counts_of(
    conn: &mut DbConn,
    site: &Site,
    id: CommentId,
) -> Result<ReactionCounts, AppError> {
    if site.settings.reactions {
        db::reactions::counts(conn, id)
    } else {
        Ok(ReactionCounts::default())
    }
}
