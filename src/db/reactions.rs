//! Reactions: one row per reader, reaction and comment, and the maintained counts (each
//! count is the rows plus what an import brought without rows: `imported`).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::DbConn;
use super::schema::comment_reaction_counts;
use crate::domain::comment::CommentId;
use crate::domain::reaction::{Reaction, ReactionCounts};
use crate::domain::site::SiteId;
use crate::error::AppError;

/// Records `voter`'s reaction; returns false when they had given it already. The count goes up
/// only with a fresh row, in the same transaction.
pub fn insert_if_absent(
    conn: &mut DbConn,
    comment: CommentId,
    reaction: Reaction,
    voter: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let inserted = diesel::sql_query(
        "INSERT INTO comment_reactions (comment_id, reaction, voter, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (comment_id, reaction, voter) DO NOTHING",
    )
    .bind::<BigInt, _>(comment.0)
    .bind::<Text, _>(reaction.id())
    .bind::<Text, _>(voter)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    if inserted == 0 {
        return Ok(false);
    }
    diesel::sql_query(
        "INSERT INTO comment_reaction_counts (comment_id, reaction, total) VALUES ($1, $2, 1) \
         ON CONFLICT (comment_id, reaction) \
         DO UPDATE SET total = comment_reaction_counts.total + 1",
    )
    .bind::<BigInt, _>(comment.0)
    .bind::<Text, _>(reaction.id())
    .execute(conn)?;
    Ok(true)
}

/// Takes back `voter`'s reaction; returns false when they had not given it.
pub fn delete(
    conn: &mut DbConn,
    comment: CommentId,
    reaction: Reaction,
    voter: &str,
) -> Result<bool, AppError> {
    let deleted = diesel::sql_query(
        "DELETE FROM comment_reactions WHERE comment_id = $1 AND reaction = $2 AND voter = $3",
    )
    .bind::<BigInt, _>(comment.0)
    .bind::<Text, _>(reaction.id())
    .bind::<Text, _>(voter)
    .execute(conn)?;
    if deleted == 0 {
        return Ok(false);
    }
    diesel::update(
        comment_reaction_counts::table
            .filter(comment_reaction_counts::comment_id.eq(comment.0))
            .filter(comment_reaction_counts::reaction.eq(reaction.id()))
            .filter(comment_reaction_counts::total.gt(0_i64)),
    )
    .set(comment_reaction_counts::total.eq(comment_reaction_counts::total - 1_i64))
    .execute(conn)?;
    Ok(true)
}

/// Sets an imported comment's reaction counts (a new comment: no rows yet). The counts come
/// without their readers (an export carries counts only), so they are kept apart as
/// `imported`: `total` is always `imported` plus the comment's rows in `comment_reactions`.
pub fn insert_imported(
    conn: &mut DbConn,
    comment: CommentId,
    counts: &[(Reaction, i64)],
) -> Result<(), AppError> {
    for &(reaction, count) in counts.iter().filter(|(_, n)| *n > 0) {
        diesel::insert_into(comment_reaction_counts::table)
            .values((
                comment_reaction_counts::comment_id.eq(comment.0),
                comment_reaction_counts::reaction.eq(reaction.id()),
                comment_reaction_counts::total.eq(count),
                comment_reaction_counts::imported.eq(count),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The reaction counts of each of `comments` that has any (reads the maintained counts).
pub fn list_counts(
    conn: &mut DbConn,
    comments: &[CommentId],
) -> Result<HashMap<CommentId, ReactionCounts>, AppError> {
    let mut by_comment: HashMap<CommentId, Vec<(Reaction, i64)>> = HashMap::new();
    // A thread page holds at most a few thousand comments; chunks keep every backend's
    // bound-parameter limit far away.
    for chunk in comments.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|c| c.0).collect();
        let rows: Vec<(i64, String, i64)> = comment_reaction_counts::table
            .filter(comment_reaction_counts::comment_id.eq_any(&ids))
            .filter(comment_reaction_counts::total.gt(0_i64))
            .select((
                comment_reaction_counts::comment_id,
                comment_reaction_counts::reaction,
                comment_reaction_counts::total,
            ))
            .load(conn)?;
        for (comment, reaction, total) in rows {
            // Ids no longer offered are not shown.
            if let Some(reaction) = Reaction::parse(&reaction) {
                by_comment
                    .entry(CommentId(comment))
                    .or_default()
                    .push((reaction, total));
            }
        }
    }
    Ok(by_comment
        .into_iter()
        .map(|(id, counts)| (id, ReactionCounts::new(counts)))
        .collect())
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    comment_id: i64,
    #[diesel(sql_type = Text)]
    reaction: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The reaction counts of every comment of a site that has any (the export), in one query.
pub fn list_counts_for_site(
    conn: &mut DbConn,
    site: SiteId,
) -> Result<HashMap<CommentId, ReactionCounts>, AppError> {
    let rows: Vec<CountRow> = diesel::sql_query(
        "SELECT r.comment_id, r.reaction, r.total FROM comment_reaction_counts r \
         JOIN comments c ON c.id = r.comment_id JOIN threads t ON t.id = c.thread_id \
         WHERE t.site_id = $1 AND r.total > 0",
    )
    .bind::<BigInt, _>(site.0)
    .load(conn)?;
    let mut by_comment: HashMap<CommentId, Vec<(Reaction, i64)>> = HashMap::new();
    for row in rows {
        if let Some(reaction) = Reaction::parse(&row.reaction) {
            by_comment
                .entry(CommentId(row.comment_id))
                .or_default()
                .push((reaction, row.total));
        }
    }
    Ok(by_comment
        .into_iter()
        .map(|(id, counts)| (id, ReactionCounts::new(counts)))
        .collect())
}

/// One comment's reaction counts.
pub fn counts(conn: &mut DbConn, comment: CommentId) -> Result<ReactionCounts, AppError> {
    Ok(list_counts(conn, &[comment])?
        .remove(&comment)
        .unwrap_or_default())
}
