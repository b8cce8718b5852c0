//! Ban rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::bans;
use crate::domain::ban::{Ban, BanKind, BanRule};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bans)]
struct BanRow {
    id: i64,
    kind: BanKind,
    value: String,
    note: String,
    created_at: NaiveDateTime,
}

impl From<BanRow> for Ban {
    fn from(r: BanRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            value: r.value,
            note: r.note,
            created_at: r.created_at.and_utc(),
        }
    }
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Ban>, AppError> {
    let rows: Vec<BanRow> = bans::table
        .order((bans::created_at.desc(), bans::id.desc()))
        .select(BanRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Ban::from).collect())
}

/// Adds a ban; an identical one already present is returned instead.
pub fn insert(
    conn: &mut DbConn,
    rule: &BanRule,
    note: &str,
    now: NaiveDateTime,
) -> Result<Ban, AppError> {
    let kind = rule.kind();
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
    let row: BanRow = bans::table
        .filter(bans::kind.eq(kind))
        .filter(bans::value.eq(&value))
        .select(BanRow::as_select())
        .first(conn)?;
    Ok(row.into())
}

/// Lifts a ban; returns whether there was one.
pub fn delete(conn: &mut DbConn, id: i64) -> Result<bool, AppError> {
    Ok(diesel::delete(bans::table.find(id)).execute(conn)? > 0)
}
