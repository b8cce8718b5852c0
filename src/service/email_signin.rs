//! Signing in by e-mail link, in three steps that keep the session in the browser that asked:
//!
//! 1. [`request`]: the embed sends an address, a name and its page's origin. A sign-in
//!    request is stored with the hash of a random *browser secret* that only the asking tab
//!    gets back, and a one-time link (a signed [`Link::SignIn`]) is mailed. The answer is the
//!    same whether or not a mail went out (unknown, banned or over-asked addresses), so it
//!    tells nobody anything about an address.
//! 2. [`open_link`]: the reader opens the link (on any device) and presses the button (a POST,
//!    so mail scanners that prefetch links do nothing). The link's nonce is spent in
//!    `mail_used_links`, as for moderation links, and the page shows a short one-time code and,
//!    when the embed said which page asked, a link back to that page with the code in the URL's
//!    fragment (`#kith-signin=CODE`): in the browser that asked, the embed there finds its
//!    browser secret and exchanges the code by itself, so one click signs that browser in.
//! 3. [`exchange`]: the embed sends the code (from the fragment, or typed by the reader on
//!    another device) with its browser secret and gets a session token. Both are needed:
//!    someone who requested a link for another person's address never sees the code, and
//!    someone who sees the code (over the reader's shoulder, in a forwarded mail) lacks the
//!    secret. Five wrong codes end the request.

use chrono::Duration;

use super::now;
use crate::db::readers::NewSigninRequest;
use crate::db::{self, DbConn, write_tx};
use crate::domain::ban::{Author, Ban, BanKind, BanRule};
use crate::domain::fields::Email;
use crate::domain::reader::{
    EMAIL_PROVIDER, Identity, Reader, SessionToken, VerifiedIdentity, clean_display_name,
};
use crate::domain::site::{Site, SiteId};
use crate::error::{AppError, ErrorKind};
use crate::notify::links::{Link, LinkError};
use crate::secrets;
use crate::state::AppState;

/// How long a mailed sign-in link (and its request) stays valid.
pub const LINK_MINUTES: u32 = 30;
/// Length of the code the reader types.
pub const CODE_LEN: usize = 8;
/// Wrong codes before a request is dropped.
const MAX_FAILURES: i32 = 5;
/// Pending requests per address and site; more send no mail (a cap on mail to one inbox).
const MAX_PENDING: i64 = 3;

/// What the asking tab keeps until it exchanges the code.
#[derive(Debug, Clone)]
pub struct Requested {
    /// The browser secret (64 hex characters); never stored, only its hash.
    pub request: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

fn invalid_code() -> AppError {
    AppError::new(
        ErrorKind::InvalidSignInCode,
        "this code is not right, or the sign-in request has expired; ask for a new link",
    )
}

/// The longest page address kept for the way back.
const MAX_PAGE_LEN: usize = 2000;

/// The page a sign-in was asked from, without its fragment: an http(s) address on `origin`
/// (the request's own, one of the site's allowed origins), else 422 `invalid_field` (`page`).
fn parse_page(page: &str, origin: &str) -> Result<String, AppError> {
    let invalid = || {
        AppError::new(
            ErrorKind::InvalidField,
            "the page must be an address on the page's own origin",
        )
        .with_field("page")
    };
    let mut url = url::Url::parse(page).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.origin().ascii_serialization() != origin {
        return Err(invalid());
    }
    url.set_fragment(None);
    let page = String::from(url);
    if page.len() > MAX_PAGE_LEN {
        return Err(invalid());
    }
    Ok(page)
}

/// Step 1: stores a sign-in request and mails the link (see the module docs). `page` is the
/// address of the page asking, on `origin`, for the link's page to send the reader back to.
pub fn request(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    email: &Email,
    name: &str,
    origin: &str,
    page: Option<&str>,
) -> Result<Requested, AppError> {
    if !super::readers::offers(site, EMAIL_PROVIDER) {
        return Err(AppError::new(
            ErrorKind::SignInNotOffered,
            "this site does not offer signing in by e-mail",
        ));
    }
    if !state.config.mail.enabled() {
        return Err(AppError::new(
            ErrorKind::MailDisabled,
            "this server does not send mail",
        ));
    }
    if !site.allowed_origins.iter().any(|o| o.matches(origin)) {
        return Err(AppError::new(
            ErrorKind::OriginNotAllowed,
            "this page's origin may not use this site",
        )
        .with_field("origin"));
    }
    let page = page.map(|page| parse_page(page, origin)).transpose()?;
    let address = email.normalized();
    let local = address.split('@').next().unwrap_or_default();
    let name = clean_display_name(name, local);
    let secret = secrets::random_token();
    let browser_hash = secrets::hash_token(&secret);
    let now = now();
    let expires_at = now + Duration::minutes(i64::from(LINK_MINUTES));
    write_tx(conn, |conn| {
        let bans: Vec<BanRule> = db::bans::list(conn)?.iter().filter_map(Ban::rule).collect();
        let identity = Identity::parse(EMAIL_PROVIDER, &address)?;
        let author = Author {
            name: "",
            email: Some(&address),
            ip: None,
            reader: Some(&identity),
        };
        let banned = bans
            .iter()
            .filter(|b| matches!(b.kind(), BanKind::Reader | BanKind::Email))
            .any(|b| b.matches(&author));
        if banned
            || db::readers::count_pending_requests(conn, site.id, &address, now.naive_utc())?
                >= MAX_PENDING
        {
            return Ok(());
        }
        let id = db::readers::insert_signin_request(
            conn,
            &NewSigninRequest {
                site: site.id,
                email: &address,
                display_name: &name,
                origin,
                page: page.as_deref(),
                browser_hash: &browser_hash,
                now: now.naive_utc(),
                expires_at: expires_at.naive_utc(),
            },
        )?;
        let link = Link::SignIn {
            request: id,
            expires: expires_at.timestamp(),
            nonce: Link::nonce(),
        };
        super::notifications::send_signin_link(state, conn, site, &address, &link, LINK_MINUTES)
    })?;
    Ok(Requested {
        request: secret,
        expires_at,
    })
}

fn verify(state: &AppState, token: &str) -> Result<(i64, String), AppError> {
    match Link::verify(token, &state.keys, now().timestamp()) {
        Ok(Link::SignIn { request, nonce, .. }) => Ok((request, nonce)),
        Ok(_) | Err(LinkError::Forged) => Err(AppError::new(
            ErrorKind::InvalidLink,
            "this link is not valid",
        )),
        Err(LinkError::Expired) => Err(AppError::new(
            ErrorKind::LinkExpired,
            "this link has expired",
        )),
    }
}

/// The site a sign-in link belongs to (for its page's language), when it is valid.
pub fn link_site(state: &AppState, conn: &mut DbConn, token: &str) -> Option<SiteId> {
    let Ok(Link::SignIn { request, .. }) = Link::verify(token, &state.keys, i64::MIN) else {
        return None;
    };
    db::readers::find_signin_request(conn, request)
        .ok()
        .flatten()
        .map(|r| SiteId(r.site_id))
}

/// Checks a sign-in link without using it (the page with the button).
pub fn inspect_link(state: &AppState, conn: &mut DbConn, token: &str) -> Result<(), AppError> {
    let (request, nonce) = verify(state, token)?;
    if db::mail::is_link_used(conn, &nonce)? {
        return Err(AppError::new(
            ErrorKind::LinkUsed,
            "this link has already been used",
        ));
    }
    db::readers::find_signin_request(conn, request)?
        .filter(|r| r.expires_at > now().naive_utc())
        .ok_or_else(|| AppError::new(ErrorKind::LinkExpired, "this link has expired"))?;
    Ok(())
}

/// What the link's page shows once the button was pressed.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The one-time code (to type, or carried back in the page's fragment).
    pub code: String,
    /// The page the reader asked from, with `#kith-signin=<code>`: the embed there signs the
    /// browser that asked in by itself. None when the embed did not say which page asked.
    pub back: Option<String>,
}

/// Step 2: spends the link and returns the code to show (only now is it made).
pub fn open_link(state: &AppState, conn: &mut DbConn, token: &str) -> Result<Opened, AppError> {
    let (request, nonce) = verify(state, token)?;
    let code = secrets::random_code(CODE_LEN);
    let code_hash = secrets::hash_token(&code);
    let page = write_tx(conn, |conn| {
        if !db::mail::insert_used_link(conn, &nonce, now().naive_utc())? {
            return Err(AppError::new(
                ErrorKind::LinkUsed,
                "this link has already been used",
            ));
        }
        let row = db::readers::find_signin_request(conn, request)?
            .filter(|r| r.expires_at > now().naive_utc())
            .ok_or_else(|| AppError::new(ErrorKind::LinkExpired, "this link has expired"))?;
        db::readers::update_signin_code(conn, request, &code_hash)?;
        Ok(row.page)
    })?;
    let back = page.map(|page| format!("{page}#kith-signin={code}"));
    Ok(Opened { code, back })
}

/// A typed code as compared: upper case, without spaces or dashes.
fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

enum Checked {
    Right(VerifiedIdentity),
    Wrong,
}

/// Step 3: the browser secret and the code shown by the link → a session (see
/// [`super::readers::sign_in`]). 403 `invalid_sign_in_code` for anything wrong, without saying
/// what.
pub fn exchange(
    state: &AppState,
    conn: &mut DbConn,
    site: &Site,
    request: &str,
    code: &str,
) -> Result<(Reader, SessionToken), AppError> {
    let browser_hash = secrets::hash_token(request);
    let code = normalize_code(code);
    let checked = write_tx(conn, |conn| {
        let Some(row) = db::readers::find_signin_request_by_browser(conn, &browser_hash)? else {
            return Ok(Checked::Wrong);
        };
        if row.site_id != site.id.0 || row.expires_at <= now().naive_utc() {
            return Ok(Checked::Wrong);
        }
        let Some(code_hash) = row.code_hash.as_deref() else {
            // The link was not opened yet: no code exists, so this cannot be a guess.
            return Ok(Checked::Wrong);
        };
        if !secrets::token_matches_hash(&code, code_hash) {
            if db::readers::increment_signin_failures(conn, row.id)? >= MAX_FAILURES {
                db::readers::delete_signin_request(conn, row.id)?;
            }
            return Ok(Checked::Wrong);
        }
        db::readers::delete_signin_request(conn, row.id)?;
        Ok(Checked::Right(VerifiedIdentity {
            provider: EMAIL_PROVIDER.into(),
            subject: row.email.clone(),
            email: Some(row.email),
            email_verified: true,
            display_name: row.display_name,
        }))
    })?;
    match checked {
        Checked::Wrong => Err(invalid_code()),
        Checked::Right(identity) => super::readers::sign_in(state, conn, site, identity),
    }
}
