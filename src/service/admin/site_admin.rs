//! Creating and editing sites. Every change drops the cached copy at once (other processes
//! see it within the cache's time to live).

use std::sync::Arc;

use crate::db::changes::write_tx;
use crate::db::{self, DbConn};
use crate::domain::avatar::AvatarSource;
use crate::domain::fields::FieldError;
use crate::domain::mail::Frequency;
use crate::domain::site::{ModerationMode, OriginPattern, Site, SiteSettings, SiteSlug};
use crate::error::{AppError, ErrorKind};
use crate::service::now;
use crate::state::AppState;

/// A site form as submitted: every value a string, as browsers send them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SiteForm {
    pub slug: String,
    pub name: String,
    /// One origin per line (or comma separated).
    pub allowed_origins: String,
    pub moderation: String,
    pub edit_window_secs: String,
    pub max_depth: String,
    /// Checkboxes: `None` keeps the current value (a partial post; see the admin page's
    /// whole-form marker).
    pub require_name: Option<bool>,
    pub require_email: Option<bool>,
    /// One word or phrase per line.
    pub hold_words: String,
    pub reject_words: String,
    pub max_links: String,
    pub report_threshold: String,
    pub auto_close_days: String,
    pub language: String,
    /// Spam defences (see [`SiteSettings`]); `None` keeps the current value, so API clients
    /// written before these fields existed keep working.
    pub honeypot: Option<bool>,
    pub require_form_token: Option<bool>,
    pub min_post_secs: Option<String>,
    pub duplicate_window_secs: Option<String>,
    pub pow_difficulty: Option<String>,
    pub spam_threshold_percent: Option<String>,
    /// Reactions on or off; `None` keeps the current value.
    pub reactions: Option<bool>,
    /// `identicon`, `libravatar` or `gravatar`; `None` keeps the current value.
    pub avatars: Option<String>,
    /// How often the owner gets alerts: instant, daily or weekly (`None` keeps the value).
    pub owner_frequency: Option<String>,
    /// Reader sign-in (see [`SiteSettings`]); `None` keeps the current value. Methods are
    /// separated by commas, spaces or lines: `email` and provider ids.
    pub signin_methods: Option<String>,
    pub anonymous_allowed: Option<bool>,
    pub signed_in_skip_moderation: Option<bool>,
    pub signed_in_edit_secs: Option<String>,
}

impl SiteForm {
    /// The form showing a site's current values.
    pub fn of(site: &Site) -> Self {
        let s = &site.settings;
        Self {
            slug: site.slug.clone(),
            name: site.name.clone(),
            allowed_origins: site
                .allowed_origins
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            moderation: moderation_str(s.moderation).into(),
            edit_window_secs: s.edit_window_secs.to_string(),
            max_depth: s.max_depth.to_string(),
            require_name: Some(s.require_name),
            require_email: Some(s.require_email),
            hold_words: s.hold_words.join("\n"),
            reject_words: s.reject_words.join("\n"),
            max_links: s.max_links.to_string(),
            report_threshold: s.report_threshold.to_string(),
            auto_close_days: s.auto_close_days.to_string(),
            language: s.language.clone(),
            honeypot: Some(s.honeypot),
            require_form_token: Some(s.require_form_token),
            min_post_secs: Some(s.min_post_secs.to_string()),
            duplicate_window_secs: Some(s.duplicate_window_secs.to_string()),
            pow_difficulty: Some(s.pow_difficulty.to_string()),
            spam_threshold_percent: Some(s.spam_threshold_percent.to_string()),
            reactions: Some(s.reactions),
            avatars: Some(s.avatars.as_str().to_string()),
            owner_frequency: Some(s.owner_frequency.as_str().to_string()),
            signin_methods: Some(s.signin_methods.join(", ")),
            anonymous_allowed: Some(s.anonymous_allowed),
            signed_in_skip_moderation: Some(s.signed_in_skip_moderation),
            signed_in_edit_secs: Some(s.signed_in_edit_secs.to_string()),
        }
    }

    /// A blank form with the default settings.
    pub fn blank() -> Self {
        let mut form = Self::of(&Site {
            id: crate::domain::site::SiteId(0),
            slug: String::new(),
            name: String::new(),
            allowed_origins: Vec::new(),
            settings: SiteSettings::default(),
        });
        form.slug.clear();
        form
    }

    /// Parses everything but the slug onto `base` (the site's current settings, so settings
    /// this form does not show are kept).
    // Not `expect`: the update stops being needless as soon as a setting outside this form exists.
    #[allow(clippy::needless_update)]
    pub fn parse(&self, base: &SiteSettings) -> Result<ParsedSite, FieldError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(FieldError::new("name", "must be 1 to 100 characters"));
        }
        let origins = self
            .allowed_origins
            .split(['\n', ','])
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(OriginPattern::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let moderation = match self.moderation.as_str() {
            "none" => ModerationMode::None,
            "first-time" => ModerationMode::FirstTime,
            "all" => ModerationMode::All,
            _ => {
                return Err(FieldError::new(
                    "moderation",
                    "must be none, first-time or all",
                ));
            }
        };
        let language = self.language.trim();
        if language.is_empty()
            || language.len() > 16
            || !language
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(FieldError::new(
                "language",
                "must be a language tag like en",
            ));
        }
        let avatars = match self.avatars.as_deref() {
            None => base.avatars,
            Some(value) => AvatarSource::parse(value).ok_or_else(|| {
                FieldError::new("avatars", "must be identicon, libravatar or gravatar")
            })?,
        };
        let settings = SiteSettings {
            moderation,
            require_name: self.require_name.unwrap_or(base.require_name),
            require_email: self.require_email.unwrap_or(base.require_email),
            edit_window_secs: number("edit_window_secs", &self.edit_window_secs, 0, 31_536_000)?,
            max_depth: u8::try_from(number("max_depth", &self.max_depth, 1, 20)?).unwrap_or(5),
            language: language.to_string(),
            hold_words: words("hold_words", &self.hold_words)?,
            reject_words: words("reject_words", &self.reject_words)?,
            max_links: number("max_links", &self.max_links, 0, 1000)?,
            report_threshold: number("report_threshold", &self.report_threshold, 1, 1000)?,
            auto_close_days: number("auto_close_days", &self.auto_close_days, 0, 36_500)?,
            honeypot: self.honeypot.unwrap_or(base.honeypot),
            require_form_token: self.require_form_token.unwrap_or(base.require_form_token),
            min_post_secs: optional_number(
                "min_post_secs",
                self.min_post_secs.as_deref(),
                0,
                3600,
            )?
            .unwrap_or(base.min_post_secs),
            duplicate_window_secs: optional_number(
                "duplicate_window_secs",
                self.duplicate_window_secs.as_deref(),
                0,
                31_536_000,
            )?
            .unwrap_or(base.duplicate_window_secs),
            pow_difficulty: optional_number(
                "pow_difficulty",
                self.pow_difficulty.as_deref(),
                0,
                24,
            )?
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(base.pow_difficulty),
            spam_threshold_percent: optional_number(
                "spam_threshold_percent",
                self.spam_threshold_percent.as_deref(),
                0,
                100,
            )?
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(base.spam_threshold_percent),
            reactions: self.reactions.unwrap_or(base.reactions),
            avatars,
            owner_frequency: match self.owner_frequency.as_deref() {
                Some(value) => Frequency::parse(value).map_err(|_| {
                    FieldError::new("owner_frequency", "must be instant, daily or weekly")
                })?,
                None => base.owner_frequency,
            },
            signin_methods: match self.signin_methods.as_deref() {
                Some(value) => signin_methods(value)?,
                None => base.signin_methods.clone(),
            },
            anonymous_allowed: self.anonymous_allowed.unwrap_or(base.anonymous_allowed),
            signed_in_skip_moderation: self
                .signed_in_skip_moderation
                .unwrap_or(base.signed_in_skip_moderation),
            signed_in_edit_secs: optional_number(
                "signed_in_edit_secs",
                self.signed_in_edit_secs.as_deref(),
                0,
                u32::MAX,
            )?
            .unwrap_or(base.signed_in_edit_secs),
            ..base.clone()
        };
        Ok(ParsedSite {
            name: name.to_string(),
            origins,
            settings,
        })
    }
}

/// A site's values, every one checked.
#[derive(Debug, Clone)]
pub struct ParsedSite {
    pub name: String,
    pub origins: Vec<OriginPattern>,
    pub settings: SiteSettings,
}

fn moderation_str(mode: ModerationMode) -> &'static str {
    match mode {
        ModerationMode::None => "none",
        ModerationMode::FirstTime => "first-time",
        ModerationMode::All => "all",
    }
}

fn number(field: &'static str, value: &str, min: u32, max: u32) -> Result<u32, FieldError> {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            FieldError::new(field, format!("must be a whole number from {min} to {max}"))
        })
}

fn optional_number(
    field: &'static str,
    value: Option<&str>,
    min: u32,
    max: u32,
) -> Result<Option<u32>, FieldError> {
    value.map(|v| number(field, v, min, max)).transpose()
}

/// Sign-in methods: `email` and provider ids, separated by commas, spaces or lines; each once.
pub fn signin_methods(value: &str) -> Result<Vec<String>, FieldError> {
    let mut methods: Vec<String> = Vec::new();
    for word in value
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|w| !w.is_empty())
    {
        let provider = crate::domain::reader::Provider::parse(word).map_err(|_| {
            FieldError::new(
                "signin_methods",
                format!("`{word}` is not a method: use email or a provider id"),
            )
        })?;
        if !methods.iter().any(|m| m == provider.as_str()) {
            methods.push(provider.as_str().to_string());
        }
    }
    if methods.len() > 20 {
        return Err(FieldError::new("signin_methods", "at most 20 methods"));
    }
    Ok(methods)
}

fn words(field: &'static str, value: &str) -> Result<Vec<String>, FieldError> {
    let list: Vec<String> = value
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if list.len() > 1000 || list.iter().any(|w| w.chars().count() > 100) {
        return Err(FieldError::new(
            field,
            "at most 1000 entries of at most 100 characters",
        ));
    }
    Ok(list)
}

/// What the first-run setup asks about the blog: its name, and its address (whose origin may
/// then show the comments).
#[derive(Debug, Clone)]
pub struct FirstRun {
    pub site_name: String,
    pub origin: Option<OriginPattern>,
}

impl FirstRun {
    /// Checks the setup form's site fields; `blog_url` may be a whole page address.
    pub fn parse(site_name: &str, blog_url: &str) -> Result<Self, FieldError> {
        let site_name = site_name.trim();
        if site_name.is_empty()
            || site_name.chars().count() > 100
            || site_name.chars().any(char::is_control)
        {
            return Err(FieldError::new("site_name", "must be 1 to 100 characters"));
        }
        let blog_url = blog_url.trim();
        let origin = if blog_url.is_empty() {
            None
        } else {
            let url = url::Url::parse(blog_url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| {
                    FieldError::new("blog_url", "must be an address like https://blog.example")
                })?;
            let origin = url.origin().ascii_serialization();
            Some(
                OriginPattern::parse(&origin)
                    .map_err(|e| FieldError::new("blog_url", e.message))?,
            )
        };
        Ok(Self {
            site_name: site_name.to_string(),
            origin,
        })
    }
}

/// Names the default site and allows the blog's origin, as the first admin said at setup.
pub fn apply_first_run(
    state: &AppState,
    conn: &mut DbConn,
    slug: &str,
    first_run: &FirstRun,
) -> Result<Arc<Site>, AppError> {
    let site = find(conn, slug)?;
    let mut origins = site.allowed_origins.clone();
    if let Some(origin) = &first_run.origin
        && !origins.contains(origin)
    {
        origins.push(origin.clone());
    }
    write_tx(conn, &state.changes, |conn, changes| {
        changes.site(site.id);
        db::sites::update(
            conn,
            site.id,
            &first_run.site_name,
            &origins,
            &site.settings,
        )
    })?;
    state.sites.invalidate(slug);
    crate::service::sites::find(state, conn, slug)
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Site>, AppError> {
    db::sites::list(conn)
}

pub fn find(conn: &mut DbConn, slug: &str) -> Result<Site, AppError> {
    db::sites::find_by_slug(conn, slug)?
        .ok_or_else(|| AppError::new(ErrorKind::SiteNotFound, format!("no site named `{slug}`")))
}

/// Creates a site from a form; 409 when the slug is taken.
pub fn create(state: &AppState, conn: &mut DbConn, form: &SiteForm) -> Result<Site, AppError> {
    let slug = SiteSlug::parse(form.slug.trim()).map_err(|e| FieldError::new("slug", e.message))?;
    let parsed = form.parse(&SiteSettings::default())?;
    let site = write_tx(conn, &state.changes, |conn, _| {
        db::sites::insert(
            conn,
            slug.as_str(),
            &parsed.name,
            &parsed.origins,
            &parsed.settings,
            now().naive_utc(),
        )
    })?
    .ok_or_else(|| {
        AppError::new(
            ErrorKind::AlreadyExists,
            format!("a site named `{}` exists already", slug.as_str()),
        )
        .with_field("slug")
    })?;
    state.sites.invalidate(slug.as_str());
    Ok(site)
}

/// Changes a site's name, origins and settings from a form.
pub fn update(
    state: &AppState,
    conn: &mut DbConn,
    slug: &str,
    form: &SiteForm,
) -> Result<Arc<Site>, AppError> {
    let site = find(conn, slug)?;
    let parsed = form.parse(&site.settings)?;
    write_tx(conn, &state.changes, |conn, changes| {
        changes.site(site.id);
        db::sites::update(
            conn,
            site.id,
            &parsed.name,
            &parsed.origins,
            &parsed.settings,
        )
    })?;
    state.sites.invalidate(slug);
    crate::service::sites::find(state, conn, slug)
}
