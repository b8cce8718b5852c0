//! Reading threads: a page of the reply tree (counts: `service::counts`).

use std::collections::HashMap;

use crate::db::{self, DbConn};
use crate::domain::comment::{Comment, CommentId, CommentStatus};
use crate::domain::reaction::ReactionCounts;
use crate::domain::site::Site;
use crate::domain::thread::{Cursor, Sort, Thread, ThreadKey};
use crate::domain::tree::{self, Node};
use crate::error::{AppError, ErrorKind};

/// One page of a thread.
pub struct ThreadPage {
    pub thread: Thread,
    pub total: i64,
    pub comments: Vec<Node>,
    pub next_cursor: Option<Cursor>,
    /// Reaction counts of the page's comments that have any (none when the site has
    /// reactions off).
    pub reactions: HashMap<CommentId, ReactionCounts>,
}

/// Approved comments of the thread at `key` as a tree: pinned ones first (on the first page),
/// then `limit` top-level comments in `sort` order after `cursor`, each with all its replies.
pub fn list(
    conn: &mut DbConn,
    site: &Site,
    key: &ThreadKey,
    sort: Sort,
    cursor: Option<Cursor>,
    limit: i64,
) -> Result<ThreadPage, AppError> {
    let thread = db::threads::find_by_key(conn, site.id, key)?.ok_or_else(|| {
        AppError::new(
            ErrorKind::ThreadNotFound,
            "nobody has commented on this page yet",
        )
    })?;
    let thread_id = thread.id;
    let mut roots = if cursor.is_none() {
        db::comments::list_pinned_roots(conn, thread_id)?
    } else {
        Vec::new()
    };
    let mut page = db::comments::list_roots_page(conn, thread_id, sort, cursor, limit + 1)?;
    let has_more = page.len() as i64 > limit;
    page.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = has_more.then(|| page.last()).flatten().map(|last| Cursor {
        sort,
        value: match sort {
            Sort::Top => last.like_count,
            Sort::Oldest | Sort::Newest => last.created_at.timestamp_micros(),
        },
        id: last.id.0,
    });
    roots.append(&mut page);
    let order: Vec<CommentId> = roots.iter().map(|r| r.id).collect();
    let replies = db::comments::list_replies_of_roots(conn, thread_id, &order)?;
    let comments: Vec<_> = roots.into_iter().chain(replies).collect();
    let reactions = if site.settings.reactions {
        let ids: Vec<CommentId> = comments.iter().map(|c| c.id).collect();
        db::reactions::list_counts(conn, &ids)?
    } else {
        HashMap::new()
    };
    let total = thread.approved_count;
    Ok(ThreadPage {
        thread,
        total,
        comments: tree::build(&order, comments),
        next_cursor,
        reactions,
    })
}

/// One published (approved) comment of `site`, as thread pages show it (without its replies):
/// what the embed fetches when a thread's live stream announces a comment. Held, spam and
/// deleted comments are not found, so asking by id reveals nothing a thread page would not.
pub fn published(conn: &mut DbConn, site: &Site, id: CommentId) -> Result<Comment, AppError> {
    db::comments::find_in_site(conn, site.id, id)?
        .filter(|comment| comment.status == CommentStatus::Approved)
        .ok_or_else(|| AppError::new(ErrorKind::CommentNotFound, "no such comment"))
}
