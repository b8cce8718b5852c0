//! Who is asking: the client's IP address and user agent.

use std::future::{Ready, ready};
use std::net::{IpAddr, Ipv4Addr};

use actix_web::dev::Payload;
use actix_web::http::header::USER_AGENT;
use actix_web::{FromRequest, HttpRequest, web};

use crate::domain::comment::ClientInfo;
use crate::error::AppError;
use crate::spam::client_ip::client_ip;
use crate::spam::limiter::Action;
use crate::state::AppState;

/// Longest user agent kept.
const MAX_USER_AGENT: usize = 300;

/// Extracts [`ClientInfo`] from the connection.
pub struct Client(pub ClientInfo);

impl FromRequest for Client {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let peer = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let ip = match req.app_data::<web::Data<AppState>>() {
            Some(state) => client_ip(peer, forwarded, &state.trusted_proxies),
            None => peer,
        };
        let user_agent = req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        ready(Ok(Client(ClientInfo { ip, user_agent })))
    }
}

/// Applies the rate limit of `action` to the client (its address and its /24 or /64): this
/// process's limiters, then the quota shared by every process on a PostgreSQL database.
pub async fn rate_limit(
    state: &AppState,
    action: Action,
    client: &ClientInfo,
) -> Result<(), AppError> {
    crate::service::rate_limits::check(state, action, client.ip).await
}
