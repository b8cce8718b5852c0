//! Server-wide secrets shared by every process on the same database (signing keys).

use diesel::prelude::*;

use super::DbConn;
use super::schema::server_keys;
use crate::error::AppError;

/// Returns the secret named `name`, storing `fresh` first if there is none yet. Every process
/// ends up with the same value, whichever inserted first.
pub fn find_or_insert(conn: &mut DbConn, name: &str, fresh: &str) -> Result<String, AppError> {
    diesel::sql_query(
        "INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .bind::<diesel::sql_types::Text, _>(fresh)
    .execute(conn)?;
    Ok(server_keys::table
        .filter(server_keys::name.eq(name))
        .select(server_keys::value)
        .first(conn)?)
}
