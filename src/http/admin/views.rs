//! The admin pages' templates (askama, auto-escaped) and what they show.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};

use crate::db::queue::ThreadSummary;
use crate::domain::ban::Ban;
use crate::domain::comment::CommentStatus;
use crate::error::AppError;
use crate::service::admin::auth::AdminSession;
use crate::service::admin::moderate::{Action, QueueItem, Tab};
use crate::service::admin::site_admin::SiteForm;

/// Renders a page; a template failure is a 500 with a plain message.
pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "admin template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("something went wrong on our side")
        }
    }
}

/// What every page's frame needs.
pub struct Layout {
    pub title: String,
    /// The section highlighted in the navigation.
    pub section: &'static str,
    /// The logged-in admin (no navigation on the login and setup pages).
    pub admin: Option<NavAdmin>,
    /// A one-line confirmation of what the last action did.
    pub notice: Option<String>,
}

pub struct NavAdmin {
    pub name: String,
    pub csrf: String,
}

impl Layout {
    pub fn new(title: impl Into<String>, section: &'static str, session: &AdminSession) -> Self {
        Self {
            title: title.into(),
            section,
            admin: Some(NavAdmin {
                name: session.name.clone(),
                csrf: session.csrf_token.clone(),
            }),
            notice: None,
        }
    }

    pub fn public(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            section: "",
            admin: None,
            notice: None,
        }
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    pub fn csrf(&self) -> &str {
        self.admin.as_ref().map(|a| a.csrf.as_str()).unwrap_or("")
    }
}

/// "3 minutes ago"-free, unambiguous UTC time.
pub fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[derive(Template)]
#[template(path = "admin/error.html", config = "src/templates/askama.toml")]
pub struct ErrorPage {
    pub layout: Layout,
    pub code: &'static str,
    pub message: String,
}

impl ErrorPage {
    pub fn new(e: &AppError) -> Self {
        Self {
            layout: Layout::public("Something is not right"),
            code: e.kind.code(),
            message: e.message.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/login.html", config = "src/templates/askama.toml")]
pub struct LoginPage {
    pub layout: Layout,
    pub name: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/setup.html", config = "src/templates/askama.toml")]
pub struct SetupPage {
    pub layout: Layout,
    pub token: String,
    pub valid: bool,
    pub error: Option<String>,
    /// What was typed (kept when the form comes back with an error); never the passwords.
    pub typed: SetupTyped,
}

#[derive(Default)]
pub struct SetupTyped {
    pub name: String,
    pub display_name: String,
    pub site_name: String,
    pub blog_url: String,
}

/// A queue row, ready to show.
pub struct Row {
    pub item: QueueItem,
    pub created: String,
    pub created_iso: String,
}

impl Row {
    pub fn new(item: QueueItem) -> Self {
        Self {
            created: when(&item.comment.created_at),
            created_iso: item.comment.created_at.to_rfc3339(),
            item,
        }
    }

    pub fn html(&self) -> &str {
        self.item.comment.body_html.as_str()
    }

    pub fn status(&self) -> &'static str {
        self.item.comment.status.as_str()
    }

    /// Whether the row offers `action` (approve, spam, delete or restore) for its status.
    pub fn offers(&self, action: Action) -> bool {
        let status = self.item.comment.status;
        match action {
            Action::Approve => status != CommentStatus::Approved,
            Action::Spam => status != CommentStatus::Spam,
            Action::Delete => status != CommentStatus::Deleted,
            Action::Restore => matches!(status, CommentStatus::Spam | CommentStatus::Deleted),
            Action::Pin | Action::Unpin => true,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/queue.html", config = "src/templates/askama.toml")]
pub struct QueuePage {
    pub layout: Layout,
    pub tab: Tab,
    pub tabs: Vec<TabLink>,
    pub rows: Vec<Row>,
    pub search: SearchForm,
    pub sites: Vec<String>,
    /// This page's own URL, where actions return to.
    pub back: String,
    pub next_page: Option<String>,
}

pub struct TabLink {
    pub label: &'static str,
    pub href: String,
    pub count: i64,
    pub current: bool,
}

#[derive(Default)]
pub struct SearchForm {
    pub q: String,
    pub author: String,
    pub email: String,
    pub ip: String,
    pub page: String,
    pub site: String,
}

#[derive(Template)]
#[template(path = "admin/comment.html", config = "src/templates/askama.toml")]
pub struct CommentPage {
    pub layout: Layout,
    pub row: Row,
    pub back: String,
}

#[derive(Template)]
#[template(path = "admin/account.html", config = "src/templates/askama.toml")]
pub struct AccountPage {
    pub layout: Layout,
    pub login_name: String,
    pub display_name: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/webhooks.html", config = "src/templates/askama.toml")]
pub struct WebhooksPage {
    pub layout: Layout,
    pub slug: String,
    pub endpoints: Vec<crate::domain::webhook::WebhookEndpoint>,
    pub deliveries: Vec<crate::domain::webhook::Delivery>,
    /// An endpoint's secret, shown after creating it or when asked for.
    pub secret: Option<(i64, String)>,
    pub error: Option<String>,
    /// The URL typed in a refused form.
    pub url: String,
}

impl WebhooksPage {
    pub fn event_choices(&self) -> Vec<(&'static str, &'static str)> {
        crate::domain::webhook::WebhookEvent::ALL
            .iter()
            .map(|e| (e.label(), e.label()))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "admin/bans.html", config = "src/templates/askama.toml")]
pub struct BansPage {
    pub layout: Layout,
    pub bans: Vec<(Ban, String)>,
}

#[derive(Template)]
#[template(path = "admin/threads.html", config = "src/templates/askama.toml")]
pub struct ThreadsPage {
    pub layout: Layout,
    pub threads: Vec<(ThreadSummary, String)>,
    pub site: String,
    pub q: String,
    pub sites: Vec<String>,
    pub back: String,
}

#[derive(Template)]
#[template(path = "admin/sites.html", config = "src/templates/askama.toml")]
pub struct SitesPage {
    pub layout: Layout,
    pub sites: Vec<(String, String, usize)>,
}

#[derive(Template)]
#[template(path = "admin/site_form.html", config = "src/templates/askama.toml")]
pub struct SiteFormPage {
    pub layout: Layout,
    pub form: SiteForm,
    /// `None` for a new site.
    pub editing: Option<String>,
    pub error: Option<String>,
}

impl SiteFormPage {
    pub fn action(&self) -> String {
        match &self.editing {
            Some(slug) => format!("/admin/sites/{slug}"),
            None => "/admin/sites".to_string(),
        }
    }

    /// The language list as `(tag, name, selected)`; a tag outside the list (set by hand or by
    /// an older version) stays offered so that saving the form keeps it.
    pub fn languages(&self) -> Vec<(String, String, bool)> {
        let current = self.form.language.trim();
        let mut list: Vec<(String, String, bool)> = LANGUAGES
            .iter()
            .map(|(tag, name)| (tag.to_string(), name.to_string(), *tag == current))
            .collect();
        if !current.is_empty() && !LANGUAGES.iter().any(|(tag, _)| *tag == current) {
            list.push((current.to_string(), current.to_string(), true));
        }
        list
    }

    /// The owner-alert frequencies as `(value, label, selected)`.
    pub fn owner_frequencies(&self) -> Vec<(&'static str, &'static str, bool)> {
        let current = self.form.owner_frequency.as_deref().unwrap_or("instant");
        [
            ("instant", "instant: one mail per comment"),
            ("daily", "daily: one digest a day"),
            ("weekly", "weekly: one digest a week"),
        ]
        .into_iter()
        .map(|(value, label)| (value, label, value == current))
        .collect()
    }
}

#[derive(Template)]
#[template(path = "admin/transfer.html", config = "src/templates/askama.toml")]
pub struct TransferPage {
    pub layout: Layout,
    pub slug: String,
    pub site_name: String,
    /// The upload limit, for people.
    pub limit: String,
    /// The options as last sent, to show them again.
    pub format: String,
    pub dry_run: bool,
    pub skip_pingbacks: bool,
    pub outcome: Option<ImportOutcome>,
}

/// What the last upload did.
pub enum ImportOutcome {
    Done {
        summary: String,
        dry_run: bool,
        /// The first skipped records and repairs, one line each, and how many more there are.
        skipped: Vec<String>,
        notes: Vec<String>,
        more: usize,
    },
    Refused(String),
}

/// Import formats offered by the upload form: value and label.
pub const IMPORT_FORMATS: [(&str, &str); 9] = [
    ("", "Detect from the file"),
    ("wordpress", "WordPress (WXR)"),
    ("disqus", "Disqus"),
    ("isso", "Isso (database file or JSON)"),
    ("commento", "Commento / Comentario"),
    ("remark42", "Remark42 backup"),
    ("artalk", "Artalk (Artrans JSON)"),
    ("cusdis", "Cusdis (JSON dump of its tables)"),
    ("kith", "kith JSON"),
];

impl TransferPage {
    pub fn formats(&self) -> &'static [(&'static str, &'static str)] {
        &IMPORT_FORMATS
    }

    pub fn is_format(&self, value: &str) -> bool {
        self.format == value
    }
}

/// A byte count for people: whole MiB when it is one, else bytes.
pub fn size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// One bar of the dashboard chart, in SVG user units.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub label: String,
    pub count: i64,
}

/// The comments-per-day chart, drawn on the server.
pub struct Chart {
    pub width: i64,
    pub height: i64,
    pub bars: Vec<Bar>,
    pub max: i64,
    pub total: i64,
    pub first: String,
    pub last: String,
}

impl Chart {
    pub const PLOT_HEIGHT: i64 = 120;

    /// "1 comment", "2 comments".
    pub fn total_text(&self) -> String {
        comments(self.total)
    }

    pub fn max_text(&self) -> String {
        comments(self.max)
    }

    pub fn new(per_day: &[(NaiveDate, i64)]) -> Self {
        let max = per_day.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let step = 20;
        let bars = per_day
            .iter()
            .enumerate()
            .map(|(i, (day, n))| {
                let height = if max == 0 {
                    0
                } else {
                    (n * Self::PLOT_HEIGHT / max).max(i64::from(*n > 0) * 2)
                };
                Bar {
                    x: i64::try_from(i).unwrap_or(0) * step + 2,
                    y: Self::PLOT_HEIGHT - height + 10,
                    width: step - 4,
                    height,
                    label: day.format("%b %-d").to_string(),
                    count: *n,
                }
            })
            .collect::<Vec<_>>();
        Self {
            width: i64::try_from(per_day.len()).unwrap_or(30) * step,
            height: Self::PLOT_HEIGHT + 30,
            total: per_day.iter().map(|(_, n)| n).sum(),
            first: per_day
                .first()
                .map(|(d, _)| d.format("%b %-d").to_string())
                .unwrap_or_default(),
            last: per_day
                .last()
                .map(|(d, _)| d.format("%b %-d").to_string())
                .unwrap_or_default(),
            bars,
            max,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/dashboard.html", config = "src/templates/askama.toml")]
pub struct DashboardPage {
    pub layout: Layout,
    pub chart: Chart,
    pub tabs: Vec<TabLink>,
    pub latest: Vec<Row>,
}

/// A count of comments in words: "1 comment", "0 comments".
pub fn comments(n: i64) -> String {
    format!("{n} {}", if n == 1 { "comment" } else { "comments" })
}

/// The languages the embed speaks, as the site form offers them.
pub const LANGUAGES: [(&str, &str); 10] = [
    ("en", "English"),
    ("de", "Deutsch (German)"),
    ("fr", "Français (French)"),
    ("es", "Español (Spanish)"),
    ("pt", "Português (Portuguese)"),
    ("it", "Italiano (Italian)"),
    ("nl", "Nederlands (Dutch)"),
    ("pl", "Polski (Polish)"),
    ("ja", "日本語 (Japanese)"),
    ("zh", "中文 (Chinese)"),
];
