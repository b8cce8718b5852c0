//! Ban rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::bans;
use crate::domain::ban::{BanKind, BanRule};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bans)]
pub struct BanRow {
    pub id: i64,
    pub kind: String,
    pub value: String,
    pub note: String,
    pub created_at: NaiveDateTime,
}

impl BanRow {
    /// The rule, or `None` for a row no longer parseable (skipped, never fatal).
    pub fn rule(&self) -> Option<BanRule> {
        BanKind::parse(&self.kind)
            .ok()
            .and_then(|k| BanRule::parse(k, &self.value).ok())
    }
}

pub fn list(conn: &mut DbConn) -> Result<Vec<BanRow>, AppError> {
    Ok(bans::table
        .order((bans::created_at.desc(), bans::id.desc()))
        .select(BanRow::as_select())
        .load(conn)?)
}

/// Adds a ban; an identical one already present is returned instead.
pub fn insert(
    conn: &mut DbConn,
    rule: &BanRule,
    note: &str,
    now: NaiveDateTime,
) -> Result<BanRow, AppError> {
    let kind = rule.kind().as_str();
    let value = rule.value();
    diesel::sql_query(
        "INSERT INTO bans (kind, value, note, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kind, value) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(kind)
    .bind::<diesel::sql_types::Text, _>(&value)
    .bind::<diesel::sql_types::Text, _>(note)
    .bind::<diesel::sql_types::Timestamp, _>(now)
    .execute(conn)?;
    Ok(bans::table
        .filter(bans::kind.eq(kind))
        .filter(bans::value.eq(&value))
        .select(BanRow::as_select())
        .first(conn)?)
}

/// Lifts a ban; returns whether there was one.
pub fn delete(conn: &mut DbConn, id: i64) -> Result<bool, AppError> {
    Ok(diesel::delete(bans::table.find(id)).execute(conn)? > 0)
}
