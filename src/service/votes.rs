//! Likes and reports from readers, one per reader and comment.

use super::now;
use crate::db::changes::{comments_changed, write_tx};
use crate::db::votes::VoteKind;
use crate::db::{self, DbConn};
use crate::domain::comment::{ClientInfo, CommentId, CommentStatus};
use crate::domain::fields::Reason;
use crate::domain::reader::ReaderId;
use crate::domain::site::Site;
use crate::domain::webhook::WebhookEvent;
use crate::error::{AppError, ErrorKind};
use crate::secrets::Purpose;
use crate::state::AppState;

/// Who a like, report or reaction counts as: a signed-in reader by their reader id (once per
/// reader, whatever device or network they use), anyone else by their address. Either way
/// the stored key is a keyed hash (no raw IP or reader id is stored), and the two kinds never
/// collide (`reader:` never starts an address).
pub(super) fn voter(state: &AppState, client: &ClientInfo, reader: Option<ReaderId>) -> String {
    match reader {
        Some(reader) => state
            .keys
            .sign(Purpose::Voter, format!("reader:{}", reader.0)),
        None => state.keys.sign(Purpose::Voter, client.ip.to_string()),
    }
}

/// The approved comment `id` of `site`, or 404 `comment_not_found`.
pub(super) fn find_public(conn: &mut DbConn, site: &Site, id: CommentId) -> Result<(), AppError> {
    db::comments::find_in_site(conn, site.id, id)?
        .filter(|c| c.status == CommentStatus::Approved)
        .map(|_| ())
        .ok_or_else(|| AppError::new(ErrorKind::CommentNotFound, "no such comment"))
}

/// Likes a comment; a second like from the same reader changes nothing (see [`voter`]: a
/// signed-in `reader` counts once across devices). Returns the count.
pub fn like(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    id: CommentId,
    client: &ClientInfo,
    reader: Option<ReaderId>,
) -> Result<i64, AppError> {
    let voter = voter(state, client, reader);
    write_tx(conn, &state.changes, |conn, changes| {
        find_public(conn, site, id)?;
        if db::votes::insert_if_absent(conn, id, VoteKind::Like, &voter, None, now().naive_utc())? {
            comments_changed(conn, changes, &[id], false)?;
            db::comments::update_like_count(conn, id, 1)
        } else {
            Ok(db::comments::find(conn, id)?
                .map(|c| c.like_count)
                .unwrap_or(0))
        }
    })
}

/// Records a reader's report; a second report from the same reader changes nothing. At the
/// site's threshold of distinct reporters the comment is hidden until an admin decides. A
/// signed-in `reader` is one reporter whatever address they report from.
pub fn report(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    id: CommentId,
    reason: &Reason,
    client: &ClientInfo,
    reader: Option<ReaderId>,
) -> Result<(), AppError> {
    let voter = voter(state, client, reader);
    write_tx(conn, &state.changes, |conn, changes| {
        find_public(conn, site, id)?;
        let fresh = db::votes::insert_if_absent(
            conn,
            id,
            VoteKind::Report,
            &voter,
            Some(reason.as_str()),
            now().naive_utc(),
        )?;
        if fresh {
            crate::service::webhooks::emit_for(state, conn, WebhookEvent::Reported, id)?;
            let reporters = db::queue::count_unreviewed_reports(conn, id)?;
            if reporters >= i64::from(site.settings.report_threshold.max(1)) {
                let reason = format!("reported by {reporters} readers");
                comments_changed(conn, changes, &[id], false)?;
                let was = db::comments::find(conn, id)?.map(|c| c.status);
                db::comments::update_status(conn, &[id], CommentStatus::Pending, Some(&reason))?;
                if was != Some(CommentStatus::Pending) {
                    crate::service::webhooks::emit_for(state, conn, WebhookEvent::Held, id)?;
                }
            }
        }
        Ok(())
    })
}
