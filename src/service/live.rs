//! Telling readers with a thread open about comments that became visible (see [`crate::live`]).

use crate::db::{self, DbConn};
use crate::domain::comment::{CommentId, CommentStatus};
use crate::error::AppError;
use crate::live::Published;
use crate::state::AppState;

/// Tells the live streams of every process about comments that may just have become visible.
/// Call it after the transaction that published them committed (a reader told about a comment
/// must be able to read it). Comments that are not approved are skipped: held and spam ones
/// never reach a stream. A failure here is logged, never the request's: the comment is stored.
pub fn published(state: &AppState, conn: &mut DbConn, ids: &[CommentId]) {
    for &id in ids {
        if let Err(error) = tell(state, conn, id) {
            tracing::warn!(error = %error, comment = id.0, "live updates: could not tell readers");
        }
    }
}

fn tell(state: &AppState, conn: &mut DbConn, id: CommentId) -> Result<(), AppError> {
    let Some(comment) = db::comments::find(conn, id)? else {
        return Ok(());
    };
    if comment.status != CommentStatus::Approved {
        return Ok(());
    }
    let Some(thread) = db::threads::find_by_id(conn, comment.thread_id)? else {
        return Ok(());
    };
    announce(
        state,
        conn,
        Published {
            site: thread.site_id,
            thread_key: thread.key,
            comment: id,
        },
    );
    Ok(())
}

/// Tells every process's streams about a comment known to be approved and committed.
pub fn announce(state: &AppState, conn: &mut DbConn, event: Published) {
    if !state.config.live.enabled {
        return;
    }
    // On PostgreSQL every process hears it through the database, this one included.
    match db::live::notify(conn, &event.encode()) {
        Ok(true) => {}
        Ok(false) => state.live.publish(event),
        Err(error) => {
            tracing::warn!(error = %error, comment = event.comment.0, "live updates: could not tell readers");
        }
    }
}
