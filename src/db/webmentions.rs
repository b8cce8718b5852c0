//! Received Webmentions waiting for (or done with) verification: one row per site, source and
//! target, leased by the outbox worker (queries in [`super::outbox`]), so several processes never verify the
//! same mention at once and a restart loses none.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DbConn;
use super::schema::webmentions;
use crate::domain::comment::CommentId;
use crate::domain::site::SiteId;
use crate::domain::webmention::{Mention, MentionId, MentionStatus};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webmentions)]
struct MentionRow {
    id: i64,
    site_id: i64,
    source: String,
    target: String,
    status: MentionStatus,
    outcome: Option<String>,
    requests: i32,
    attempts: i32,
    comment_id: Option<i64>,
    client_ip: Option<String>,
    last_error: Option<String>,
}

impl From<MentionRow> for Mention {
    fn from(row: MentionRow) -> Self {
        Mention {
            id: MentionId(row.id),
            site_id: SiteId(row.site_id),
            source: row.source,
            target: row.target,
            status: row.status,
            outcome: row.outcome,
            requests: row.requests,
            attempts: row.attempts,
            comment_id: row.comment_id.map(CommentId),
            client_ip: row.client_ip,
            last_error: row.last_error,
        }
    }
}

/// Queues a mention for verification, or queues it again (a repeated mention of the same
/// source and target is due at once, with its attempts reset and its request counted).
pub fn upsert(
    conn: &mut DbConn,
    site: SiteId,
    source: &str,
    target: &str,
    client_ip: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::sql_query(
        "INSERT INTO webmentions (site_id, source, target, status, requests, attempts, \
             next_attempt_at, client_ip, created_at, updated_at) \
         VALUES ($1, $2, $3, 'pending', 1, 0, $4, $5, $6, $7) \
         ON CONFLICT (site_id, source, target) DO UPDATE SET \
             status = 'pending', requests = webmentions.requests + 1, attempts = 0, \
             next_attempt_at = excluded.next_attempt_at, last_error = NULL, \
             client_ip = excluded.client_ip, updated_at = excluded.updated_at",
    )
    .bind::<BigInt, _>(site.0)
    .bind::<Text, _>(source)
    .bind::<Text, _>(target)
    .bind::<Timestamp, _>(now)
    .bind::<Nullable<Text>, _>(client_ip)
    .bind::<Timestamp, _>(now)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: MentionId) -> Result<Option<Mention>, AppError> {
    Ok(webmentions::table
        .find(id.0)
        .select(MentionRow::as_select())
        .first::<MentionRow>(conn)
        .optional()?
        .map(Mention::from))
}

pub fn find_by_urls(
    conn: &mut DbConn,
    site: SiteId,
    source: &str,
    target: &str,
) -> Result<Option<Mention>, AppError> {
    Ok(webmentions::table
        .filter(webmentions::site_id.eq(site.0))
        .filter(webmentions::source.eq(source))
        .filter(webmentions::target.eq(target))
        .select(MentionRow::as_select())
        .first::<MentionRow>(conn)
        .optional()?
        .map(Mention::from))
}

super::outbox::lease_queries!(webmentions, pending = MentionStatus::Pending);

/// Records a finished verification of request number `requests`. When the mention was sent
/// again meanwhile (`requests` moved on), it stays pending and only loses its lease, so the
/// newer request is verified too; returns whether the row was finished.
pub fn update_done(
    conn: &mut DbConn,
    id: MentionId,
    requests: i32,
    outcome: &str,
    comment: Option<CommentId>,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        webmentions::table
            .filter(webmentions::id.eq(id.0))
            .filter(webmentions::requests.eq(requests)),
    )
    .set((
        webmentions::status.eq(MentionStatus::Done),
        webmentions::outcome.eq(Some(outcome)),
        webmentions::attempts.eq(webmentions::attempts + 1),
        webmentions::locked_until.eq(None::<NaiveDateTime>),
        webmentions::last_error.eq(None::<String>),
        webmentions::comment_id.eq(comment.map(|c| c.0)),
        webmentions::updated_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 0 {
        release_lease(conn, id.0)?;
    }
    Ok(changed == 1)
}

/// Records a failed attempt: due again at `next`, or given up (`failed`) when `next` is `None`.
pub fn update_attempt_failed(
    conn: &mut DbConn,
    id: MentionId,
    requests: i32,
    attempts: i32,
    next: Option<NaiveDateTime>,
    error: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let target = webmentions::table
        .filter(webmentions::id.eq(id.0))
        .filter(webmentions::requests.eq(requests));
    let changed = match next {
        Some(next) => diesel::update(target)
            .set((
                webmentions::attempts.eq(attempts),
                webmentions::locked_until.eq(None::<NaiveDateTime>),
                webmentions::last_error.eq(Some(error)),
                webmentions::next_attempt_at.eq(next),
                webmentions::updated_at.eq(now),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                webmentions::status.eq(MentionStatus::Failed),
                webmentions::outcome.eq(Some("failed")),
                webmentions::attempts.eq(attempts),
                webmentions::locked_until.eq(None::<NaiveDateTime>),
                webmentions::last_error.eq(Some(error)),
                webmentions::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    if changed == 0 {
        release_lease(conn, id.0)?;
    }
    Ok(())
}

/// Erases the sender's address of mentions received before `before` (the privacy retention).
pub fn erase_client_ips_before(
    conn: &mut DbConn,
    before: NaiveDateTime,
) -> Result<usize, AppError> {
    Ok(diesel::update(
        webmentions::table
            .filter(webmentions::created_at.lt(before))
            .filter(webmentions::client_ip.is_not_null()),
    )
    .set(webmentions::client_ip.eq(None::<String>))
    .execute(conn)?)
}
