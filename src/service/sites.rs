//! Sites: lookup (cached), the default site, public settings.

use std::sync::Arc;

use serde::Serialize;

use super::now;
use crate::config::{DefaultSiteConfig, FieldLimits};
use crate::db::{self, DbConn};
use crate::domain::avatar::AvatarSource;
use crate::domain::reader::EMAIL_PROVIDER;
use crate::domain::site::{ModerationMode, OriginPattern, Site, SiteSettings};
use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

/// The site with this slug, or 404 `site_not_found`.
pub fn find(state: &AppState, conn: &mut DbConn, slug: &str) -> Result<Arc<Site>, AppError> {
    let epoch = state.changes.epoch();
    if let Some(site) = state.sites.get_current(slug, epoch) {
        return Ok(site);
    }
    let site = db::sites::find_by_slug(conn, slug)?
        .ok_or_else(|| AppError::new(ErrorKind::SiteNotFound, format!("no site named `{slug}`")))?;
    let site = Arc::new(site);
    state.sites.put(site.clone(), epoch);
    Ok(site)
}

/// What the embed is told about `site`, with a fresh form token and proof-of-work challenge.
pub fn for_embed(state: &AppState, site: &Site) -> PublicSettings {
    let at = now();
    let mut settings = public_settings(site, &state.config.limits);
    settings.form_token = super::spam::issue_form_token(state, site, at);
    settings.pow = super::spam::issue_pow(state, site, at);
    settings.mail = state.config.mail.enabled();
    settings.signin.email &= settings.mail;
    settings.signin.providers = super::readers::offered_providers(state, site);
    settings.live = state.config.live.enabled;
    settings
}

/// The cached site with this slug, if it is current (no database access).
pub fn cached(state: &AppState, slug: &str) -> Option<Arc<Site>> {
    state.sites.get_current(slug, state.changes.epoch())
}

/// Creates the configured default site on first start; an existing one is left alone.
pub fn ensure_default(conn: &mut DbConn, config: &DefaultSiteConfig) -> Result<bool, AppError> {
    let origins: Vec<OriginPattern> = config
        .allowed_origins
        .iter()
        .filter_map(|o| OriginPattern::parse(o).ok())
        .collect();
    let settings = SiteSettings {
        moderation: config.moderation,
        require_name: config.require_name,
        require_email: config.require_email,
        edit_window_secs: config.edit_window_secs,
        max_depth: config.max_depth,
        language: config.language.clone(),
        max_links: config.max_links,
        min_post_secs: config.min_post_secs,
        ..SiteSettings::default()
    };
    db::sites::insert_if_absent(
        conn,
        &config.slug,
        &config.name,
        &origins,
        &settings,
        now().naive_utc(),
    )
}

/// Replaces a site's settings and drops the cached copy.
pub fn update_settings(
    state: &AppState,
    conn: &mut DbConn,
    slug: &str,
    settings: &SiteSettings,
) -> Result<(), AppError> {
    let site = find(state, conn, slug)?;
    db::changes::write_tx(conn, &state.changes, |conn, changes| {
        changes.site(site.id);
        db::sites::update_settings(conn, site.id, settings)
    })?;
    state.sites.invalidate(slug);
    Ok(())
}

/// What the embed needs to know about a site.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicSettings {
    pub name: String,
    pub language: String,
    /// none, first-time or all.
    #[schema(value_type = String)]
    pub moderation: ModerationMode,
    pub require_name: bool,
    pub require_email: bool,
    pub edit_window_secs: u32,
    pub max_depth: u8,
    pub limits: PublicLimits,
    pub form_token: String,
    pub pow: Option<PowChallenge>,
    /// Whether this server sends mail (reply notifications, "manage my comments").
    pub mail: bool,
    /// Whether readers may add reactions to comments.
    pub reactions: bool,
    /// identicon, libravatar or gravatar (comments then carry `avatar_url`).
    #[schema(value_type = String)]
    pub avatars: AvatarSource,
    /// How readers may sign in (optional unless `anonymous_allowed` is false).
    pub signin: PublicSignin,
    /// Whether this server streams live updates (`live.enabled`): the embed then opens
    /// `GET …/thread/events` once the thread is painted.
    pub live: bool,
}

/// The sign-in the site offers its readers (docs/signin.md).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicSignin {
    /// Signing in by e-mail link is offered (and this server sends mail).
    pub email: bool,
    /// OpenID Connect / OAuth providers offered: a button each, opening
    /// `GET …/auth/oidc/{id}/start?origin=…` in a popup.
    pub providers: Vec<PublicProvider>,
    /// Whether readers may comment without signing in.
    pub anonymous_allowed: bool,
    /// Seconds signed-in readers may edit or delete their comments (0: always).
    pub signed_in_edit_secs: u32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicProvider {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicLimits {
    pub author: usize,
    pub email: usize,
    pub website: usize,
    pub body: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PowChallenge {
    pub challenge: String,
    pub difficulty: u8,
}

pub fn public_settings(site: &Site, limits: &FieldLimits) -> PublicSettings {
    let s = &site.settings;
    PublicSettings {
        name: site.name.clone(),
        language: s.language.clone(),
        moderation: s.moderation,
        require_name: s.require_name,
        require_email: s.require_email,
        edit_window_secs: s.edit_window_secs,
        max_depth: s.max_depth,
        limits: PublicLimits {
            author: limits.author,
            email: limits.email,
            website: limits.website,
            body: limits.body,
        },
        form_token: String::new(),
        pow: None,
        mail: false,
        reactions: s.reactions,
        avatars: s.avatars,
        signin: PublicSignin {
            email: s.signin_methods.iter().any(|m| m == EMAIL_PROVIDER),
            providers: Vec::new(),
            anonymous_allowed: s.anonymous_allowed,
            signed_in_edit_secs: s.signed_in_edit_secs,
        },
        live: false,
    }
}
