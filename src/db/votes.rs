//! Likes and reports: one per reader and comment.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DbConn;
use super::schema::comment_votes;
use crate::domain::comment::CommentId;
use crate::error::AppError;

/// What a vote is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteKind {
    Like,
    Report,
}

impl VoteKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Like => "like",
            Self::Report => "report",
        }
    }
}

/// Records a vote; returns false when this voter already cast one of this kind.
pub fn insert_if_absent(
    conn: &mut DbConn,
    comment: CommentId,
    kind: VoteKind,
    voter: &str,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let inserted = diesel::sql_query(
        "INSERT INTO comment_votes (comment_id, voter, kind, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (comment_id, kind, voter) DO NOTHING",
    )
    .bind::<BigInt, _>(comment.0)
    .bind::<Text, _>(voter)
    .bind::<Text, _>(kind.as_str())
    .bind::<Nullable<Text>, _>(reason)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(inserted > 0)
}

pub fn count(conn: &mut DbConn, comment: CommentId, kind: VoteKind) -> Result<i64, AppError> {
    Ok(comment_votes::table
        .filter(comment_votes::comment_id.eq(comment.0))
        .filter(comment_votes::kind.eq(kind.as_str()))
        .count()
        .get_result(conn)?)
}
