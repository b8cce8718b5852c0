//! Mail rows: the outbox, addresses and their opt-in state, thread subscriptions, used links.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::DbConn;
use super::comments::CommentRow;
use super::schema::{
    comments, mail_addresses, mail_outbox, mail_subscriptions, mail_used_links, threads,
};
use super::threads::ThreadRow;
use crate::domain::comment::{Comment, CommentId};
use crate::domain::mail::{Frequency, MailAddress};
use crate::domain::site::SiteId;
use crate::domain::thread::Thread;
use crate::error::AppError;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);

/// Where an outbox row stands.
pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub unsubscribe_url: Option<String>,
    pub sender_name: String,
    pub comment_id: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A rendered mail waiting to be sent.
#[derive(Debug, Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct NewOutboxRow<'a> {
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub unsubscribe_url: Option<&'a str>,
    pub sender_name: &'a str,
    pub comment_id: Option<i64>,
    pub status: &'static str,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert_outbox(conn: &mut DbConn, row: &NewOutboxRow<'_>) -> Result<i64, AppError> {
    Ok(diesel::insert_into(mail_outbox::table)
        .values(row)
        .returning(mail_outbox::id)
        .get_result(conn)?)
}

pub fn find_outbox(conn: &mut DbConn, id: i64) -> Result<Option<OutboxRow>, AppError> {
    Ok(mail_outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

super::outbox::lease_queries!(mail_outbox, pending = PENDING, sent = SENT);

pub fn update_sent(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(SENT),
            mail_outbox::attempts.eq(mail_outbox::attempts + 1),
            mail_outbox::sent_at.eq(Some(now)),
            mail_outbox::locked_until.eq(None::<NaiveDateTime>),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: due again at `next` or, when `next` is `None`, given up.
pub fn update_attempt_failed(
    conn: &mut DbConn,
    id: i64,
    attempts: i32,
    next: Option<NaiveDateTime>,
    error: &str,
) -> Result<(), AppError> {
    let target = mail_outbox::table.find(id);
    match next {
        Some(next) => diesel::update(target)
            .set((
                mail_outbox::attempts.eq(attempts),
                mail_outbox::locked_until.eq(None::<NaiveDateTime>),
                mail_outbox::last_error.eq(Some(error)),
                mail_outbox::next_attempt_at.eq(next),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                mail_outbox::status.eq(FAILED),
                mail_outbox::attempts.eq(attempts),
                mail_outbox::locked_until.eq(None::<NaiveDateTime>),
                mail_outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Mails given up after their last attempt, newest first (for the admin area).
pub fn list_failed(conn: &mut DbConn, limit: i64) -> Result<Vec<OutboxRow>, AppError> {
    Ok(mail_outbox::table
        .filter(mail_outbox::status.eq(FAILED))
        .order(mail_outbox::id.desc())
        .select(OutboxRow::as_select())
        .limit(limit)
        .load(conn)?)
}

/// Outbox rows waiting to be sent and rows given up (for metrics).
pub fn count_outbox_backlog(conn: &mut DbConn) -> Result<(i64, i64), AppError> {
    let rows: Vec<(String, i64)> = mail_outbox::table
        .filter(mail_outbox::status.eq_any([PENDING, FAILED]))
        .group_by(mail_outbox::status)
        .select((mail_outbox::status, diesel::dsl::count(mail_outbox::id)))
        .load(conn)?;
    let count = |status: &str| {
        rows.iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    };
    Ok((count(PENDING), count(FAILED)))
}

/// Every outbox row, oldest first (tests and diagnostics).
pub fn list_outbox(conn: &mut DbConn) -> Result<Vec<OutboxRow>, AppError> {
    Ok(mail_outbox::table
        .order(mail_outbox::id.asc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// Whether a mail of `kind` went (or waits to go) to `recipient` since `since`.
pub fn recent_exists(
    conn: &mut DbConn,
    recipient: &str,
    kind: &str,
    since: NaiveDateTime,
) -> Result<bool, AppError> {
    let found: Option<i64> = mail_outbox::table
        .filter(mail_outbox::recipient.eq(recipient))
        .filter(mail_outbox::kind.eq(kind))
        .filter(mail_outbox::created_at.ge(since))
        .select(mail_outbox::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_addresses)]
struct AddressRow {
    pub id: i64,
    pub site_id: i64,
    pub email: String,
    pub confirmed_at: Option<NaiveDateTime>,
    pub unsubscribed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub frequency: String,
}

/// A stored frequency; an unknown spelling (never written by kith) counts as instant.
fn frequency_of(value: &str) -> Frequency {
    Frequency::parse(value).unwrap_or_default()
}

impl From<AddressRow> for MailAddress {
    fn from(row: AddressRow) -> Self {
        MailAddress {
            id: row.id,
            site_id: SiteId(row.site_id),
            email: row.email,
            confirmed_at: row.confirmed_at.map(|t| t.and_utc()),
            unsubscribed_at: row.unsubscribed_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            frequency: frequency_of(&row.frequency),
        }
    }
}

/// The row of a (lowercased) address on a site, created when missing; the flag tells whether
/// it was created now.
pub fn find_or_insert_address(
    conn: &mut DbConn,
    site: SiteId,
    email_lowercase: &str,
    now: NaiveDateTime,
) -> Result<(MailAddress, bool), AppError> {
    let inserted = diesel::sql_query(
        "INSERT INTO mail_addresses (site_id, email, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (site_id, email) DO NOTHING",
    )
    .bind::<BigInt, _>(site.0)
    .bind::<Text, _>(email_lowercase)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    let row = find_address_by_email(conn, site, email_lowercase)?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("address vanished after insert")))?;
    Ok((row, inserted > 0))
}

pub fn find_address(conn: &mut DbConn, id: i64) -> Result<Option<MailAddress>, AppError> {
    Ok(mail_addresses::table
        .find(id)
        .select(AddressRow::as_select())
        .first::<AddressRow>(conn)
        .optional()?
        .map(MailAddress::from))
}

pub fn find_address_by_email(
    conn: &mut DbConn,
    site: SiteId,
    email_lowercase: &str,
) -> Result<Option<MailAddress>, AppError> {
    Ok(mail_addresses::table
        .filter(mail_addresses::site_id.eq(site.0))
        .filter(mail_addresses::email.eq(email_lowercase))
        .select(AddressRow::as_select())
        .first::<AddressRow>(conn)
        .optional()?
        .map(MailAddress::from))
}

pub fn update_confirmed(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(mail_addresses::table.find(id))
        .set((
            mail_addresses::confirmed_at.eq(Some(now)),
            mail_addresses::unsubscribed_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn update_unsubscribed(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> Result<(), AppError> {
    diesel::update(mail_addresses::table.find(id))
        .set(mail_addresses::unsubscribed_at.eq(Some(now)))
        .execute(conn)?;
    Ok(())
}

pub fn insert_subscription(
    conn: &mut DbConn,
    thread_id: i64,
    address_id: i64,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::sql_query(
        "INSERT INTO mail_subscriptions (thread_id, address_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (thread_id, address_id) DO NOTHING",
    )
    .bind::<BigInt, _>(thread_id)
    .bind::<BigInt, _>(address_id)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(())
}

pub fn delete_subscription(
    conn: &mut DbConn,
    thread_id: i64,
    address_id: i64,
) -> Result<(), AppError> {
    diesel::delete(
        mail_subscriptions::table
            .filter(mail_subscriptions::thread_id.eq(thread_id))
            .filter(mail_subscriptions::address_id.eq(address_id)),
    )
    .execute(conn)?;
    Ok(())
}

/// Addresses subscribed to a thread (any opt-in state).
pub fn list_thread_subscribers(
    conn: &mut DbConn,
    thread_id: i64,
) -> Result<Vec<MailAddress>, AppError> {
    Ok(mail_subscriptions::table
        .inner_join(mail_addresses::table)
        .filter(mail_subscriptions::thread_id.eq(thread_id))
        .order(mail_addresses::id.asc())
        .select(AddressRow::as_select())
        .load::<AddressRow>(conn)?
        .into_iter()
        .map(MailAddress::from)
        .collect())
}

/// An address's subscriptions to a thread with the frequency each one gets mail at (its own,
/// else the address's).
pub fn list_thread_subscriptions(
    conn: &mut DbConn,
    thread_id: i64,
) -> Result<Vec<(MailAddress, Frequency)>, AppError> {
    let rows: Vec<(AddressRow, Option<String>)> = mail_subscriptions::table
        .inner_join(mail_addresses::table)
        .filter(mail_subscriptions::thread_id.eq(thread_id))
        .order(mail_addresses::id.asc())
        .select((AddressRow::as_select(), mail_subscriptions::frequency))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, own)| {
            let address = MailAddress::from(row);
            let frequency = own.as_deref().map_or(address.frequency, frequency_of);
            (address, frequency)
        })
        .collect())
}

/// The frequency an address gets mail about a thread at, when it follows the thread.
pub fn find_subscription_frequency(
    conn: &mut DbConn,
    thread_id: i64,
    address: &MailAddress,
) -> Result<Option<Frequency>, AppError> {
    let own: Option<Option<String>> = mail_subscriptions::table
        .filter(mail_subscriptions::thread_id.eq(thread_id))
        .filter(mail_subscriptions::address_id.eq(address.id))
        .select(mail_subscriptions::frequency)
        .first(conn)
        .optional()?;
    Ok(own.map(|own| own.as_deref().map_or(address.frequency, frequency_of)))
}

/// Sets how often an address gets mail, for every thread it follows too (their own choices
/// are dropped).
pub fn update_address_frequency(
    conn: &mut DbConn,
    address_id: i64,
    frequency: Frequency,
) -> Result<(), AppError> {
    diesel::update(mail_addresses::table.find(address_id))
        .set(mail_addresses::frequency.eq(frequency.as_str()))
        .execute(conn)?;
    diesel::update(mail_subscriptions::table.filter(mail_subscriptions::address_id.eq(address_id)))
        .set(mail_subscriptions::frequency.eq(None::<String>))
        .execute(conn)?;
    Ok(())
}

/// Sets how often an address gets mail about one thread it follows; `false` when it does not
/// follow it.
pub fn update_subscription_frequency(
    conn: &mut DbConn,
    thread_id: i64,
    address_id: i64,
    frequency: Frequency,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        mail_subscriptions::table
            .filter(mail_subscriptions::thread_id.eq(thread_id))
            .filter(mail_subscriptions::address_id.eq(address_id)),
    )
    .set(mail_subscriptions::frequency.eq(Some(frequency.as_str())))
    .execute(conn)?;
    Ok(changed > 0)
}

/// Marks a one-time link as used; `false` when it already was.
pub fn insert_used_link(
    conn: &mut DbConn,
    nonce: &str,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let inserted = diesel::sql_query(
        "INSERT INTO mail_used_links (nonce, used_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
    )
    .bind::<Text, _>(nonce)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(inserted > 0)
}

pub fn is_link_used(conn: &mut DbConn, nonce: &str) -> Result<bool, AppError> {
    let found: Option<String> = mail_used_links::table
        .find(nonce)
        .select(mail_used_links::nonce)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Records that readers were told about a comment; `false` when they already were.
pub fn insert_notified(
    conn: &mut DbConn,
    comment: CommentId,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let inserted = diesel::sql_query(
        "INSERT INTO mail_notified_comments (comment_id, notified_at) VALUES ($1, $2) \
         ON CONFLICT (comment_id) DO NOTHING",
    )
    .bind::<BigInt, _>(comment.0)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(inserted > 0)
}

/// Stops reply notifications for an address's comments in one thread, or everywhere on the
/// site when `thread_id` is `None`.
pub fn update_notify_replies_off(
    conn: &mut DbConn,
    site: SiteId,
    thread_id: Option<i64>,
    email_lowercase: &str,
) -> Result<(), AppError> {
    let mut ids = comments::table
        .inner_join(threads::table)
        .filter(threads::site_id.eq(site.0))
        .filter(lower(comments::email).eq(email_lowercase))
        .filter(comments::notify_replies.eq(true))
        .select(comments::id)
        .into_boxed();
    if let Some(thread) = thread_id {
        ids = ids.filter(comments::thread_id.eq(thread));
    }
    let ids: Vec<i64> = ids.load(conn)?;
    if !ids.is_empty() {
        diesel::update(comments::table.filter(comments::id.eq_any(ids)))
            .set(comments::notify_replies.eq(false))
            .execute(conn)?;
    }
    Ok(())
}

/// Every comment an address wrote on a site (any status but deleted), with its thread,
/// oldest first.
pub fn list_comments_by_email(
    conn: &mut DbConn,
    site: SiteId,
    email_lowercase: &str,
) -> Result<Vec<(Comment, Thread)>, AppError> {
    let rows: Vec<(CommentRow, ThreadRow)> = comments::table
        .inner_join(threads::table)
        .filter(threads::site_id.eq(site.0))
        .filter(lower(comments::email).eq(email_lowercase))
        .filter(comments::status.ne(crate::domain::comment::CommentStatus::Deleted))
        .order((comments::created_at.asc(), comments::id.asc()))
        .select((CommentRow::as_select(), ThreadRow::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(comment, thread)| (comment.into(), thread.into()))
        .collect())
}
