//! Digest rows: comments waiting for a recipient's next digest, and the digests made (one per
//! recipient, frequency and period end: the unique key that keeps two processes from making
//! the same digest).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DbConn;
use super::schema::{mail_digest_items, mail_digests};
use crate::domain::comment::CommentId;
use crate::domain::mail::{DigestReason, DigestRecipient, Frequency};
use crate::domain::site::SiteId;
use crate::error::AppError;

/// A comment waiting for a recipient's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    pub recipient: DigestRecipient,
    pub site: SiteId,
    pub comment: CommentId,
    pub reason: DigestReason,
    pub frequency: Frequency,
}

/// Records a comment for a recipient's next digest; `false` when it already waits there (or
/// went out in one).
pub fn insert_item(
    conn: &mut DbConn,
    item: &DigestItem,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let address = match item.recipient {
        DigestRecipient::Address(id) => Some(id),
        DigestRecipient::Owner(_) => None,
    };
    let inserted = diesel::sql_query(
        "INSERT INTO mail_digest_items \
         (recipient_key, site_id, address_id, comment_id, reason, frequency, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (recipient_key, comment_id) DO NOTHING",
    )
    .bind::<Text, _>(item.recipient.key())
    .bind::<BigInt, _>(item.site.0)
    .bind::<Nullable<BigInt>, _>(address)
    .bind::<BigInt, _>(item.comment.0)
    .bind::<Text, _>(item.reason.as_str())
    .bind::<Text, _>(item.frequency.as_str())
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(inserted > 0)
}

/// Recipients with comments of `frequency` recorded before `before` and not yet in a digest.
pub fn list_due_recipients(
    conn: &mut DbConn,
    frequency: Frequency,
    before: NaiveDateTime,
) -> Result<Vec<DigestRecipient>, AppError> {
    let keys: Vec<String> = mail_digest_items::table
        .filter(mail_digest_items::frequency.eq(frequency.as_str()))
        .filter(mail_digest_items::digest_id.is_null())
        .filter(mail_digest_items::created_at.lt(before))
        .select(mail_digest_items::recipient_key)
        .distinct()
        .order(mail_digest_items::recipient_key.asc())
        .load(conn)?;
    Ok(keys
        .iter()
        .filter_map(|k| DigestRecipient::parse_key(k))
        .collect())
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Records the digest of `recipient` for the period ending at `period_end`; `None` when it was
/// already made (by this process earlier or by another one at the same time: on PostgreSQL the
/// second insert waits for the first transaction and then finds the row).
pub fn insert_digest(
    conn: &mut DbConn,
    recipient: DigestRecipient,
    frequency: Frequency,
    period_end: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Option<i64>, AppError> {
    let rows: Vec<IdRow> = diesel::sql_query(
        "INSERT INTO mail_digests (recipient_key, frequency, period_end, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (recipient_key, frequency, period_end) DO NOTHING \
         RETURNING id",
    )
    .bind::<Text, _>(recipient.key())
    .bind::<Text, _>(frequency.as_str())
    .bind::<Timestamp, _>(period_end)
    .bind::<Timestamp, _>(now)
    .load(conn)?;
    Ok(rows.first().map(|r| r.id))
}

/// Puts the recipient's waiting comments of `frequency` recorded before `before` into digest
/// `digest_id`, and returns them, oldest first.
pub fn take_items(
    conn: &mut DbConn,
    recipient: DigestRecipient,
    frequency: Frequency,
    before: NaiveDateTime,
    digest_id: i64,
) -> Result<Vec<DigestItem>, AppError> {
    diesel::update(
        mail_digest_items::table
            .filter(mail_digest_items::recipient_key.eq(recipient.key()))
            .filter(mail_digest_items::frequency.eq(frequency.as_str()))
            .filter(mail_digest_items::digest_id.is_null())
            .filter(mail_digest_items::created_at.lt(before)),
    )
    .set(mail_digest_items::digest_id.eq(Some(digest_id)))
    .execute(conn)?;
    let rows: Vec<(i64, i64, String)> = mail_digest_items::table
        .filter(mail_digest_items::digest_id.eq(digest_id))
        .order((
            mail_digest_items::created_at.asc(),
            mail_digest_items::id.asc(),
        ))
        .select((
            mail_digest_items::site_id,
            mail_digest_items::comment_id,
            mail_digest_items::reason,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(site, comment, reason)| {
            Some(DigestItem {
                recipient,
                site: SiteId(site),
                comment: CommentId(comment),
                reason: DigestReason::parse(&reason)?,
                frequency,
            })
        })
        .collect())
}

/// Notes the outbox mail a digest became.
pub fn update_digest_outbox(
    conn: &mut DbConn,
    digest_id: i64,
    outbox_id: i64,
) -> Result<(), AppError> {
    diesel::update(mail_digests::table.find(digest_id))
        .set(mail_digests::outbox_id.eq(Some(outbox_id)))
        .execute(conn)?;
    Ok(())
}

/// Comments waiting for a digest (metrics, tests).
pub fn count_waiting(conn: &mut DbConn) -> Result<i64, AppError> {
    Ok(mail_digest_items::table
        .filter(mail_digest_items::digest_id.is_null())
        .count()
        .get_result(conn)?)
}
