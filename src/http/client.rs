//! Who is asking: the client's IP address and user agent.

use std::future::{Ready, ready};
use std::net::{IpAddr, Ipv4Addr};

use actix_web::dev::Payload;
use actix_web::http::header::USER_AGENT;
use actix_web::{FromRequest, HttpRequest};

use crate::domain::comment::ClientInfo;
use crate::error::AppError;

/// Longest user agent kept.
const MAX_USER_AGENT: usize = 300;

/// Extracts [`ClientInfo`] from the connection.
pub struct Client(pub ClientInfo);

impl FromRequest for Client {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let ip = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let user_agent = req
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect());
        ready(Ok(Client(ClientInfo { ip, user_agent })))
    }
}
