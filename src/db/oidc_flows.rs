//! Sign-in flows in progress (`oidc_flows`): written when a reader leaves for a provider, taken
//! (read and deleted at once) when they come back.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DbConn;
use super::schema::oidc_flows;
use crate::domain::signin::{PollBinding, SigninFlow};
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
    poll_hash: Option<String>,
    binding_hash: Option<String>,
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
            poll: match (row.poll_hash, row.binding_hash) {
                (Some(session_hash), Some(binding_hash)) => Some(PollBinding {
                    session_hash,
                    binding_hash,
                }),
                _ => None,
            },
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
        poll_hash: flow.poll.as_ref().map(|p| p.session_hash.clone()),
        binding_hash: flow.poll.as_ref().map(|p| p.binding_hash.clone()),
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
            f::poll_hash,
            f::binding_hash,
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

/// Whether a flow waiting for its callback was started with this session hash.
pub fn poll_hash_pending(conn: &mut DbConn, poll_hash: &str) -> Result<bool, AppError> {
    use oidc_flows::dsl as f;
    Ok(diesel::select(diesel::dsl::exists(
        f::oidc_flows.filter(f::poll_hash.eq(poll_hash)),
    ))
    .get_result(conn)?)
}
