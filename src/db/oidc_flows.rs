//! Sign-in flows in progress (`oidc_flows`): written when a reader leaves for a provider, taken
//! (read and deleted at once) when they come back.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DbConn;
use super::schema::oidc_flows;
use crate::domain::signin::SigninFlow;
use crate::domain::site::SiteId;
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = oidc_flows)]
struct FlowRow {
    state_hash: String,
    site_id: i64,
    provider: String,
    nonce: String,
    pkce_verifier: String,
    origin: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

impl From<FlowRow> for SigninFlow {
    fn from(row: FlowRow) -> Self {
        SigninFlow {
            site_id: SiteId(row.site_id),
            provider: row.provider,
            nonce: row.nonce,
            pkce_verifier: row.pkce_verifier,
            origin: row.origin,
            created_at: row.created_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
        }
    }
}

/// Stores a flow under the hash of its `state`.
pub fn insert_flow(conn: &mut DbConn, state_hash: &str, flow: &SigninFlow) -> Result<(), AppError> {
    let row = FlowRow {
        state_hash: state_hash.to_string(),
        site_id: flow.site_id.0,
        provider: flow.provider.clone(),
        nonce: flow.nonce.clone(),
        pkce_verifier: flow.pkce_verifier.clone(),
        origin: flow.origin.clone(),
        created_at: flow.created_at.naive_utc(),
        expires_at: flow.expires_at.naive_utc(),
    };
    diesel::insert_into(oidc_flows::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Deletes the flow with this state hash and returns it: of two callbacks with the same state,
/// only one gets it. Expired flows are returned too (the caller says why it refuses them).
pub fn take_flow(conn: &mut DbConn, state_hash: &str) -> Result<Option<SigninFlow>, AppError> {
    use oidc_flows::dsl as f;
    let row = diesel::delete(f::oidc_flows.filter(f::state_hash.eq(state_hash)))
        .returning((
            f::state_hash,
            f::site_id,
            f::provider,
            f::nonce,
            f::pkce_verifier,
            f::origin,
            f::created_at,
            f::expires_at,
        ))
        .get_result::<FlowRow>(conn)
        .optional()?;
    Ok(row.map(SigninFlow::from))
}

/// Deletes the flows that expired before `now`; how many.
pub fn delete_expired_flows(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, AppError> {
    Ok(
        diesel::delete(oidc_flows::table.filter(oidc_flows::expires_at.lt(now.naive_utc())))
            .execute(conn)?,
    )
}
