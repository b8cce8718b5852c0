//! Storage for the spam defences: duplicate look-ups, spam-score counts, used proofs of work.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::DbConn;
use super::schema::{comments, spam_tokens, threads, used_pow};
use crate::domain::site::SiteId;
use crate::error::AppError;
use crate::spam::bayes::Model;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);

/// The token whose row holds the document counts.
const DOCS: &str = "";

/// Whether the site has a comment with this fingerprint from `ip` or `email` since `since`.
pub fn has_recent_duplicate(
    conn: &mut DbConn,
    site: SiteId,
    fingerprint: &str,
    ip: &str,
    email_lowercase: Option<&str>,
    since: NaiveDateTime,
) -> Result<bool, AppError> {
    let same_sender = comments::client_ip
        .eq(ip)
        .or(lower(comments::email).eq(email_lowercase.unwrap_or("\u{1}")));
    // `EXISTS`, not `LIMIT 1`: SQLite reads a bound LIMIT while planning, so a statement with
    // one is prepared again at every execution (it was a fifth of the post writer's time).
    let found = diesel::select(diesel::dsl::exists(
        comments::table
            .inner_join(threads::table)
            .filter(threads::site_id.eq(site.0))
            .filter(comments::fingerprint.eq(fingerprint))
            .filter(comments::created_at.ge(since))
            .filter(same_sender)
            .select(comments::id),
    ))
    .get_result::<bool>(conn)?;
    Ok(found)
}

/// Records a used proof of work; false when it was used before.
pub fn insert_used_pow(
    conn: &mut DbConn,
    digest: &str,
    expires_at: NaiveDateTime,
) -> Result<bool, AppError> {
    let inserted = diesel::sql_query(
        "INSERT INTO used_pow (digest, expires_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
    )
    .bind::<Text, _>(digest)
    .bind::<Timestamp, _>(expires_at)
    .execute(conn)?;
    Ok(inserted > 0)
}

pub fn delete_expired_pow(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
    Ok(diesel::delete(used_pow::table.filter(used_pow::expires_at.lt(now))).execute(conn)?)
}

/// Whether the site's spam score has learned enough to give an opinion (its document counts
/// only: one row).
pub fn model_is_ready(conn: &mut DbConn, site: SiteId) -> Result<bool, AppError> {
    let docs: Option<(i64, i64)> = spam_tokens::table
        .filter(spam_tokens::site_id.eq(site.0))
        .filter(spam_tokens::token.eq(DOCS))
        .select((spam_tokens::spam_count, spam_tokens::ham_count))
        .get_result(conn)
        .optional()?;
    let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    Ok(docs.is_some_and(|(spam, ham)| {
        Model::from_counts(clamp(spam), clamp(ham), HashMap::new()).is_ready()
    }))
}

/// The part of a site's spam model that scoring `features` needs: the document counts and
/// those features' counts.
pub fn find_model(conn: &mut DbConn, site: SiteId, features: &[String]) -> Result<Model, AppError> {
    let mut wanted: Vec<&str> = features.iter().map(String::as_str).collect();
    wanted.push(DOCS);
    let rows: Vec<(String, i64, i64)> = spam_tokens::table
        .filter(spam_tokens::site_id.eq(site.0))
        .filter(spam_tokens::token.eq_any(wanted))
        .select((
            spam_tokens::token,
            spam_tokens::spam_count,
            spam_tokens::ham_count,
        ))
        .load(conn)?;
    let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    let mut docs = (0, 0);
    let mut counts = HashMap::new();
    for (token, spam, ham) in rows {
        if token == DOCS {
            docs = (clamp(spam), clamp(ham));
        } else {
            counts.insert(token, (clamp(spam), clamp(ham)));
        }
    }
    Ok(Model::from_counts(docs.0, docs.1, counts))
}

/// Adds `delta` (+1 to learn, -1 to unlearn) to the spam or ham count of each feature and of
/// the document total.
pub fn add_token_counts(
    conn: &mut DbConn,
    site: SiteId,
    features: &[String],
    spam: bool,
    delta: i64,
) -> Result<(), AppError> {
    let (spam_delta, ham_delta) = if spam { (delta, 0) } else { (0, delta) };
    for token in features.iter().map(String::as_str).chain([DOCS]) {
        diesel::sql_query(
            "INSERT INTO spam_tokens (site_id, token, spam_count, ham_count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (site_id, token) DO UPDATE SET \
             spam_count = spam_tokens.spam_count + excluded.spam_count, \
             ham_count = spam_tokens.ham_count + excluded.ham_count",
        )
        .bind::<BigInt, _>(site.0)
        .bind::<Text, _>(token)
        .bind::<BigInt, _>(spam_delta)
        .bind::<BigInt, _>(ham_delta)
        .execute(conn)?;
    }
    Ok(())
}
