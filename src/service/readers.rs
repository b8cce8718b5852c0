//! Readers who sign in: one entry point for every way of signing in ([`sign_in`]), their
//! sessions (a bearer token the embed keeps; only its hash is stored), and bans by identity.
//!
//! Signing in is optional. A session is a random 256-bit token ([`crate::secrets`]) sent as
//! `Authorization: Bearer …`; the database row holds its SHA-256, so every process sharing the
//! database accepts it and a leaked table grants nothing.

use chrono::Duration;

use super::now;
use crate::db::{self, DbConn, write_tx};
use crate::domain::ban::{Author, Ban, BanKind, BanRule};
use crate::domain::reader::{Identity, Reader, SessionToken, VerifiedIdentity, clean_display_name};
use crate::domain::site::Site;
use crate::error::{AppError, ErrorKind};
use crate::secrets;
use crate::state::AppState;

/// How long a reader session lasts.
pub const SESSION_TTL: Duration = Duration::days(30);

/// How stale `last_seen_at` may get before a request with the session writes it again: a
/// reader's requests cost one write per quarter hour, not one per request.
pub const LAST_SEEN_EVERY: Duration = Duration::minutes(15);

/// What a reader is called when a provider gives no name.
const NAME_FALLBACK: &str = "Reader";

/// 401 `session_expired`: the reader must sign in again.
pub fn session_expired() -> AppError {
    AppError::new(
        ErrorKind::SessionExpired,
        "your sign-in has expired or was ended; sign in again",
    )
}

fn banned() -> AppError {
    AppError::new(
        ErrorKind::ReaderBanned,
        "this account may not comment on this site",
    )
}

/// Whether `method` (`email` or a provider id) is one the site offers.
pub fn offers(site: &Site, method: &str) -> bool {
    site.settings.signin_methods.iter().any(|m| m == method)
}

/// Whether a ban names this identity or its address (only identity and e-mail bans apply to
/// signing in; IP and name bans apply to the comments posted afterwards, as for anyone).
fn is_banned(bans: &[BanRule], identity: &Identity, email: Option<&str>) -> bool {
    let author = Author {
        name: "",
        email,
        ip: None,
        reader: Some(identity),
    };
    bans.iter()
        .filter(|b| matches!(b.kind(), BanKind::Reader | BanKind::Email))
        .any(|b| b.matches(&author))
}

/// The address a reader is known by for e-mail bans: the provider-verified one, or the
/// subject of an e-mail sign-in.
fn ban_email(reader: &Reader) -> Option<&str> {
    reader.email.as_deref().or_else(|| {
        reader
            .identity
            .provider
            .is_email()
            .then_some(reader.identity.subject.as_str())
    })
}

/// Signs a reader in after a verified sign-in: stores (or refreshes) the reader and opens a
/// session. Refused with 403 `sign_in_not_offered` when the site does not offer the method and
/// `reader_banned` when a ban names the identity or its verified address.
///
/// `identity.email` is kept only when `email_verified` (and for `email`, the subject is the
/// verified address).
pub fn sign_in(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    identity: VerifiedIdentity,
) -> Result<(Reader, SessionToken), AppError> {
    let token = secrets::random_token();
    let reader =
        sign_in_with_session_hash(state, conn, site, identity, &secrets::hash_token(&token))?;
    Ok((reader, SessionToken(token)))
}

/// [`sign_in`] into a session whose token the reader's page drew itself: only its SHA-256
/// (`token_hash`) ever reaches the server, and the page that holds the token finds itself
/// signed in (OpenID Connect sign-in when the popup cannot hand the session back; see
/// [`super::signin`]).
pub fn sign_in_with_session_hash(
    _state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    identity: VerifiedIdentity,
    token_hash: &str,
) -> Result<Reader, AppError> {
    if !offers(site, &identity.provider) {
        return Err(AppError::new(
            ErrorKind::SignInNotOffered,
            format!(
                "this site does not offer signing in with {}",
                identity.provider
            ),
        ));
    }
    let parsed = Identity::parse(&identity.provider, &identity.subject)?;
    let email = if parsed.provider.is_email() {
        Some(parsed.subject.clone())
    } else if identity.email_verified {
        identity
            .email
            .as_deref()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| e.contains('@'))
    } else {
        None
    };
    let name = clean_display_name(&identity.display_name, NAME_FALLBACK);
    let now = now().naive_utc();
    write_tx(conn, |conn| {
        let bans: Vec<BanRule> = db::bans::list(conn)?.iter().filter_map(Ban::rule).collect();
        if is_banned(&bans, &parsed, email.as_deref()) {
            return Err(banned());
        }
        // Expired sessions and sign-in requests go as new ones come (as admin sessions do).
        db::readers::delete_expired(conn, now)?;
        let reader = db::readers::upsert(conn, site.id, &parsed, email.as_deref(), &name, now)?;
        db::readers::insert_session(conn, token_hash, reader.id, now, now + SESSION_TTL)?;
        Ok(reader)
    })
}

/// A signed-in reader's session, as the HTTP layer resolves it.
#[derive(Debug, Clone)]
pub struct ReaderSession {
    pub reader: Reader,
    pub token_hash: String,
}

/// The reader behind a bearer token on `site`; 401 `session_expired` when the token is
/// unknown, expired, of another site, or its identity was banned since. Using a session
/// records when the reader was last seen, at most once per [`LAST_SEEN_EVERY`].
pub fn session(conn: &mut DbConn, site: &Site, token: &str) -> Result<ReaderSession, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(session_expired());
    }
    let token_hash = secrets::hash_token(token);
    let now = now();
    let mut reader = db::readers::find_session_reader(conn, &token_hash, now.naive_utc())?
        .filter(|r| r.site_id == site.id)
        .ok_or_else(session_expired)?;
    let bans: Vec<BanRule> = db::bans::list(conn)?.iter().filter_map(Ban::rule).collect();
    if is_banned(&bans, &reader.identity, ban_email(&reader)) {
        return Err(banned());
    }
    if reader.last_seen_at <= now - LAST_SEEN_EVERY
        && db::readers::update_last_seen_before(
            conn,
            reader.id,
            now.naive_utc(),
            (now - LAST_SEEN_EVERY).naive_utc(),
        )?
    {
        reader.last_seen_at = now;
    }
    Ok(ReaderSession { reader, token_hash })
}

/// Ends the session (its row is deleted).
pub fn sign_out(conn: &mut DbConn, session: &ReaderSession) -> Result<(), AppError> {
    db::readers::delete_session(conn, &session.token_hash)?;
    Ok(())
}

/// Drops expired sessions, e-mail sign-in requests and OpenID Connect flows; returns how many
/// rows went. The server runs it every minute (`startup::minute_sweep`).
pub fn purge_expired(conn: &mut DbConn) -> Result<usize, AppError> {
    let now = now();
    let readers = db::readers::delete_expired(conn, now.naive_utc())?;
    let flows = db::oidc_flows::delete_expired_flows(conn, now)?;
    Ok(readers + flows)
}

/// The label a provider is shown with.
pub fn provider_label(state: &AppState, provider: &crate::domain::reader::Provider) -> String {
    state
        .signin
        .get(provider.as_str())
        .map(|p| p.label.clone())
        .unwrap_or_else(|| provider.default_label())
}

/// The reader's comments on the site (deleted ones aside), with their thread and until when
/// the reader may still edit or delete each.
pub fn own_comments(
    conn: &mut DbConn,
    site: &Site,
    reader: &Reader,
) -> Result<
    Vec<(
        crate::domain::comment::Comment,
        crate::domain::thread::Thread,
        chrono::DateTime<chrono::Utc>,
    )>,
    AppError,
> {
    Ok(db::readers::list_comments(conn, reader.id)?
        .into_iter()
        .filter(|(_, thread)| thread.site_id == site.id)
        .map(|(comment, thread)| {
            let until = super::comments::editable_until(site, &comment);
            (comment, thread, until)
        })
        .collect())
}

/// The OpenID Connect / OAuth providers a site offers, in its order, with their labels.
pub fn offered_providers(
    state: &AppState,
    site: &Site,
) -> Vec<crate::service::sites::PublicProvider> {
    site.settings
        .signin_methods
        .iter()
        .filter(|m| m.as_str() != crate::domain::reader::EMAIL_PROVIDER)
        .filter_map(|m| crate::domain::reader::Provider::parse(m).ok())
        // Only providers this server is configured for can be offered.
        .filter(|p| state.signin.get(p.as_str()).is_some())
        .map(|p| crate::service::sites::PublicProvider {
            id: p.as_str().to_string(),
            label: provider_label(state, &p),
        })
        .collect()
}
