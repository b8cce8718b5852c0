//! One `Config`: built-in defaults, then a TOML file, then `KITH_SECTION__KEY` environment
//! variables. Unknown keys are refused; `validate()` explains bad values by key.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::domain::mail::DigestSchedule;
use crate::domain::site::{ModerationMode, OriginPattern};
use crate::spam::client_ip::{IpNet, TrustedProxies};
use crate::spam::limiter::LimitsConfig;

/// The whole configuration of one kith process.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub default_site: DefaultSiteConfig,
    pub limits: FieldLimits,
    pub rate_limits: LimitsConfig,
    pub privacy: PrivacyConfig,
    pub mail: MailConfig,
    pub webhooks: WebhooksConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub live: LiveConfig,
    pub webmention: WebmentionConfig,
    pub cache: CacheConfig,
    pub signin: SigninConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Public base URL of this server (used in mails and links); empty means `http://host:port`.
    pub public_url: String,
    /// Largest accepted JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest import file accepted by the admin area (upload page and API), in bytes.
    pub max_import_bytes: usize,
    /// Serve the demo blog post at `/`.
    pub demo_page: bool,
    /// Serve embed files from this folder instead of the copies compiled into the binary
    /// (for developing the embed); empty means compiled in.
    pub assets_dir: String,
    /// Peers whose `X-Forwarded-For` header is believed (IPs or CIDR ranges).
    pub trusted_proxies: Vec<String>,
    /// Longest accepted request target (path and query), in bytes; longer gets 414.
    pub max_uri_bytes: usize,
    /// Seconds a request body may go without sending a byte before the request gets 408 and
    /// its connection is closed (request heads have their own, fixed 5 s limit).
    pub body_timeout_secs: u64,
    /// Seconds to let requests in flight finish after SIGTERM or SIGINT before closing them.
    pub shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://relative/path.db`, `sqlite:///absolute/path.db` or `postgres://user@host/db`.
    pub url: String,
    /// Connections in the pool.
    pub pool_size: u32,
    /// Seconds a request waits for a pool connection before it gets 503 database_unavailable.
    pub acquire_timeout_secs: u64,
    /// PostgreSQL streaming replicas (`postgres://…`) for public reads: threads, thread.html,
    /// counts and site settings, taken in turn. Writes, the admin area and a reader's reads
    /// just after their own write use the primary (`url`). Empty: everything reads `url`.
    pub replica_urls: Vec<String>,
    /// Seconds after a comment is posted, edited or deleted during which its author's reads go
    /// to the primary (the write's answer carries a signed `read_marker` the embed sends back),
    /// so a lagging replica never hides a reader's own comment from them.
    pub read_your_writes_secs: u32,
    /// Most new comments one write transaction commits (the posts that wait while one commits
    /// go together, each request answered after its commit). 0: each post in its own
    /// transaction.
    pub post_batch: u32,
    /// PostgreSQL: writer threads committing batches side by side (each holds a pool
    /// connection while it commits). 0: two (at most `pool_size`). SQLite has one writer.
    pub post_writers: u32,
}

impl DatabaseConfig {
    /// The database for people to read (logs, `check-config`): which backend and where, with
    /// any password replaced by `***`.
    pub fn describe(&self) -> String {
        let masked = masked_url(&self.url);
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            format!("SQLite at {path}")
        } else if self.url.starts_with("postgres://") || self.url.starts_with("postgresql://") {
            format!("PostgreSQL at {masked}")
        } else {
            masked
        }
    }
}

/// `url` with the password of its user part and of a `password=` parameter replaced by `***`.
pub fn masked_url(url: &str) -> String {
    let mut shown = url.to_string();
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((credentials, host)) = rest.rsplit_once('@')
    {
        let user = credentials.split(':').next().unwrap_or_default();
        let password = if credentials.contains(':') {
            ":***"
        } else {
            ""
        };
        shown = format!("{scheme}://{user}{password}@{host}");
    }
    if let Some((base, query)) = shown.clone().split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        shown = format!("{base}?{}", query.join("&"));
    }
    shown
}

/// The site created on first start when no site with this slug exists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DefaultSiteConfig {
    pub slug: String,
    pub name: String,
    /// Origins allowed to embed this site's threads; `*` may stand for a port (`http://localhost:*`).
    pub allowed_origins: Vec<String>,
    pub moderation: ModerationMode,
    pub require_name: bool,
    pub require_email: bool,
    pub edit_window_secs: u32,
    pub max_depth: u8,
    pub language: String,
    /// A comment with more links than this is held.
    pub max_links: u32,
    /// Comments sent sooner than this many seconds after the form was shown are held.
    pub min_post_secs: u32,
}

/// Length limits of the public fields, in characters.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FieldLimits {
    pub author: usize,
    pub email: usize,
    pub website: usize,
    pub body: usize,
    pub thread_title: usize,
    pub thread_url: usize,
    pub thread_key: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Days after which a comment's client IP and user agent are erased.
    pub ip_retention_days: u32,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server cannot.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or network.
    Plain,
}

/// Which new comments the site owner hears about.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum OwnerNotifications {
    /// Every new comment.
    All,
    /// Only comments held for moderation.
    #[default]
    Held,
    /// None.
    None,
}

/// Outgoing mail. Mail is off while `smtp_host` is empty.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub security: SmtpSecurity,
    /// A PEM file with certificates to trust for the SMTP server besides the usual public
    /// roots (a private CA or a self-signed certificate); empty means only the public roots.
    pub ca_file: String,
    pub username: String,
    pub password: String,
    /// A file holding the password (its first line), instead of `password`.
    pub password_file: String,
    /// The sender, e.g. `Blog comments <comments@example.com>`.
    pub from: String,
    /// Where owner notifications go; empty means no owner mails.
    pub owner: String,
    pub owner_notifications: OwnerNotifications,
    /// Days a link in a mail (moderation, confirmation, manage) stays valid.
    pub link_expiry_days: u32,
    /// Folder with templates overriding the built-in ones; empty means built in.
    pub templates_dir: String,
    /// Run the outbox worker in this process (several processes may all run it).
    pub worker: bool,
    /// Milliseconds between looks at the outbox.
    pub poll_interval_ms: u64,
    /// Delay before the first retry, in milliseconds; it doubles with every further attempt.
    pub retry_base_ms: u64,
    /// Attempts before a mail is marked failed.
    pub max_attempts: u32,
    /// Seconds to wait for the SMTP server before giving up on an attempt.
    pub timeout_secs: u64,
    /// The hour (0-23, UTC) when daily and weekly digests are made.
    pub digest_hour: u32,
    /// The day weekly digests are made: mon, tue, wed, thu, fri, sat or sun.
    pub digest_weekday: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_host: String::new(),
            smtp_port: 587,
            security: SmtpSecurity::Starttls,
            ca_file: String::new(),
            username: String::new(),
            password: String::new(),
            password_file: String::new(),
            from: String::new(),
            owner: String::new(),
            owner_notifications: OwnerNotifications::Held,
            link_expiry_days: 7,
            templates_dir: String::new(),
            worker: true,
            poll_interval_ms: 2000,
            retry_base_ms: 60_000,
            max_attempts: 8,
            timeout_secs: 20,
            digest_hour: 7,
            digest_weekday: "mon".into(),
        }
    }
}

/// Webhook deliveries (`docs/webhooks.md`): where they may go and how they are retried.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Deliver to private, loopback, link-local and other non-public addresses too (an
    /// endpoint on the same machine or network). Off: such addresses are refused at delivery
    /// time, after resolving the host, and on every redirect.
    pub allow_private: bool,
    /// Run the delivery worker in this process (several processes may all run it).
    pub worker: bool,
    /// Milliseconds between looks at the webhook outbox.
    pub poll_interval_ms: u64,
    /// Delay before the first retry, in milliseconds; it doubles with every further attempt.
    pub retry_base_ms: u64,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: u32,
    /// Seconds one attempt may take, connecting and reading the whole answer included.
    pub timeout_secs: u64,
    /// Bytes of the receiver's answer read at most; a longer answer fails the attempt.
    pub max_response_bytes: u64,
    /// Redirects followed at most (each target is checked like the first address).
    pub max_redirects: u32,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            worker: true,
            poll_interval_ms: 2000,
            retry_base_ms: 60_000,
            max_attempts: 8,
            timeout_secs: 10,
            max_response_bytes: 65_536,
            max_redirects: 3,
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("security", &self.security)
            .field("ca_file", &self.ca_file)
            .field("username", &self.username)
            .field("password", &"<secret>")
            .field("password_file", &self.password_file)
            .field("from", &self.from)
            .field("owner", &self.owner)
            .field("owner_notifications", &self.owner_notifications)
            .field("link_expiry_days", &self.link_expiry_days)
            .finish_non_exhaustive()
    }
}

impl MailConfig {
    /// When digests are made (`digest_hour`, `digest_weekday`; checked by `validate`).
    pub fn digest_schedule(&self) -> DigestSchedule {
        DigestSchedule {
            hour: self.digest_hour.min(23),
            weekday: parse_weekday(&self.digest_weekday).unwrap_or(chrono::Weekday::Mon),
        }
    }

    /// Mail is on when an SMTP host is configured.
    pub fn enabled(&self) -> bool {
        !self.smtp_host.trim().is_empty()
    }

    /// The SMTP password, from `password` or the first line of `password_file`.
    pub fn password(&self) -> Result<Option<String>, ConfigError> {
        if !self.password_file.is_empty() {
            let text =
                std::fs::read_to_string(&self.password_file).map_err(|e| ConfigError::Invalid {
                    key: "mail.password_file",
                    message: format!("cannot read {}: {e}", self.password_file),
                })?;
            return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
        }
        Ok((!self.password.is_empty()).then(|| self.password.clone()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a tracing filter (`kith=debug,actix_web=info`).
    pub level: String,
    /// `text` (human-readable lines) or `json` (one JSON object per line).
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The Prometheus endpoint `GET /metrics`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `/metrics` at all (off by default).
    pub enabled: bool,
    /// `host:port` of a separate listener for `/metrics` alone (e.g. `127.0.0.1:9464`), so the
    /// public port never shows it; empty serves it on the main port.
    pub listen: String,
}

/// Live updates: a Server-Sent Events stream per thread (`GET /api/v1/sites/{site}/thread/events`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// Serve the streams at all; off answers them with 503 `live_unavailable`.
    pub enabled: bool,
    /// Streams one process keeps open at most; more get 503 `live_unavailable`.
    pub max_streams: usize,
    /// Streams one client address keeps open at most; more get 429 `too_many_streams`.
    pub max_streams_per_ip: usize,
    /// Seconds between the comment lines that keep idle streams open through proxies.
    pub heartbeat_secs: u64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_streams: 1000,
            max_streams_per_ip: 16,
            heartbeat_secs: 25,
        }
    }
}

/// Receiving Webmentions: the endpoint, and the worker that fetches and verifies source pages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebmentionConfig {
    /// Accept Webmentions at `POST /api/v1/sites/{site}/webmention`.
    pub enabled: bool,
    /// Run the verification worker in this process (several processes may: each mention is
    /// leased by one).
    pub worker: bool,
    /// Milliseconds between looks for mentions to verify.
    pub poll_interval_ms: u64,
    /// Seconds one fetch of a source page may take in all (connect, headers, body).
    pub timeout_secs: u64,
    /// Largest source page read, in bytes; a larger one is refused.
    pub max_bytes: usize,
    /// Redirects followed from the source URL.
    pub max_redirects: u8,
    /// Attempts before a mention whose source could not be fetched is given up.
    pub max_attempts: u32,
    /// Milliseconds before the first retry; doubles with each further attempt.
    pub retry_base_ms: u64,
    /// Fetch sources on loopback, private, link-local and other non-public addresses (for
    /// tests and closed networks only: otherwise anyone could make kith probe the local net).
    pub allow_private_addresses: bool,
}

impl Default for WebmentionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            worker: true,
            poll_interval_ms: 2000,
            timeout_secs: 10,
            max_bytes: 1_048_576,
            max_redirects: 5,
            max_attempts: 5,
            retry_base_ms: 60_000,
            allow_private_addresses: false,
        }
    }
}

/// The cache of rendered thread pages (`GET …/thread` and `…/thread.html`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Most pages kept (each variant of sort, page size, cursor and format counts); 0 turns
    /// the cache off.
    pub pages_max_entries: u64,
    /// Most bytes kept for pages, all encodings counted (identity, gzip and brotli).
    pub pages_max_bytes: u64,
    /// Most thread keys whose comment count is kept (`POST …/counts`); 0 turns the cache off.
    /// Keys of pages without comments get a quarter of both limits, apart.
    pub counts_max_entries: u64,
    /// Most bytes kept for counts (keys and bookkeeping).
    pub counts_max_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            pages_max_entries: 1000,
            pages_max_bytes: 8 * 1024 * 1024,
            counts_max_entries: 20_000,
            counts_max_bytes: 4 * 1024 * 1024,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            public_url: String::new(),
            max_body_bytes: 65_536,
            max_import_bytes: 52_428_800,
            demo_page: true,
            assets_dir: String::new(),
            trusted_proxies: Vec::new(),
            max_uri_bytes: 8192,
            body_timeout_secs: 10,
            shutdown_timeout_secs: 30,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/kith.db".into(),
            pool_size: 8,
            acquire_timeout_secs: 2,
            replica_urls: Vec::new(),
            read_your_writes_secs: 10,
            post_batch: 64,
            post_writers: 0,
        }
    }
}

impl Default for DefaultSiteConfig {
    fn default() -> Self {
        Self {
            slug: "default".into(),
            name: "kith demo".into(),
            allowed_origins: vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()],
            moderation: ModerationMode::FirstTime,
            require_name: true,
            require_email: true,
            edit_window_secs: 900,
            max_depth: 5,
            language: "en".into(),
            max_links: 2,
            min_post_secs: 3,
        }
    }
}

impl Default for FieldLimits {
    fn default() -> Self {
        Self {
            author: 100,
            email: 254,
            website: 500,
            body: 10_000,
            thread_title: 300,
            thread_url: 2_000,
            thread_key: 500,
        }
    }
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        Self {
            ip_retention_days: 30,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// Why a configuration was refused.
/// Reader sign-in with OpenID Connect providers and GitHub (docs/signin.md). Which providers a
/// site offers is the site's `signin_methods` setting; this lists the ones this server knows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SigninConfig {
    /// The configured providers (`[[signin.providers]]`); none by default.
    pub providers: Vec<SigninProvider>,
    /// Seconds a reader has to finish signing in at the provider after starting.
    pub flow_ttl_secs: u64,
    /// Seconds allowed for each request to a provider (discovery, keys, token, user info).
    pub http_timeout_secs: u64,
    /// Seconds of clock difference tolerated when checking an ID token's `exp` and `iat`.
    pub clock_leeway_secs: u64,
    /// Seconds discovery documents and signing keys are kept before being fetched again (an
    /// unknown key id fetches the keys again at once).
    pub metadata_ttl_secs: u64,
}

impl Default for SigninConfig {
    fn default() -> Self {
        Self {
            providers: Vec::new(),
            flow_ttl_secs: 600,
            http_timeout_secs: 10,
            clock_leeway_secs: 60,
            metadata_ttl_secs: 3600,
        }
    }
}

/// How a provider signs readers in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenID Connect: discovery from `issuer`, code flow with PKCE, a verified ID token.
    #[default]
    Oidc,
    /// GitHub's OAuth 2 flow and its REST API (`/user`, `/user/emails`).
    Github,
}

/// One sign-in provider. The client secret is never logged, serialized or shown.
#[derive(Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SigninProvider {
    /// Short name used in URLs and in the site setting `signin_methods` (`a-z`, `0-9`, `-`).
    pub id: String,
    /// Button text: "Sign in with {label}".
    pub label: String,
    pub kind: ProviderKind,
    /// OIDC: the issuer URL (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    #[serde(skip_serializing)]
    pub client_secret: String,
    /// A file whose first line is the client secret (instead of `client_secret`).
    pub client_secret_file: String,
    /// Scopes asked for; empty means `openid profile email` (OIDC) or `read:user user:email`
    /// (GitHub).
    pub scopes: Vec<String>,
    /// GitHub only, for GitHub Enterprise or tests: the authorize and token URLs and the API
    /// base; empty means github.com's.
    pub authorize_url: String,
    pub token_url: String,
    pub api_url: String,
}

impl std::fmt::Debug for SigninProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigninProvider")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<secret>")
            .field("client_secret_file", &self.client_secret_file)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl SigninProvider {
    /// The client secret, from `client_secret` or the first line of `client_secret_file`.
    pub fn client_secret(&self) -> Result<String, ConfigError> {
        if self.client_secret_file.is_empty() {
            return Ok(self.client_secret.clone());
        }
        let text = std::fs::read_to_string(&self.client_secret_file).map_err(|e| {
            ConfigError::Invalid {
                key: "signin.providers.client_secret_file",
                message: format!("cannot read {}: {e}", self.client_secret_file),
            }
        })?;
        Ok(text.lines().next().unwrap_or_default().trim().to_string())
    }

    /// The scopes asked for, the kind's defaults when none are configured.
    pub fn scopes(&self) -> Vec<String> {
        if !self.scopes.is_empty() {
            return self.scopes.clone();
        }
        let defaults: &[&str] = match self.kind {
            ProviderKind::Oidc => &["openid", "profile", "email"],
            ProviderKind::Github => &["read:user", "user:email"],
        };
        defaults.iter().map(|s| (*s).to_string()).collect()
    }
}

impl SigninConfig {
    /// The provider with this id.
    pub fn provider(&self, id: &str) -> Option<&SigninProvider> {
        self.providers.iter().find(|p| p.id == id)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("signin.flow_ttl_secs", self.flow_ttl_secs),
            ("signin.http_timeout_secs", self.http_timeout_secs),
            ("signin.metadata_ttl_secs", self.metadata_ttl_secs),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for provider in &self.providers {
            let id = &provider.id;
            let id_ok = !id.is_empty()
                && id.len() <= 32
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !id_ok || id == "email" {
                return Err(ConfigError::Invalid {
                    key: "signin.providers.id",
                    message: format!(
                        "`{id}` must be 1 to 32 of a-z, 0-9 and - (and not `email`, the e-mail link sign-in)"
                    ),
                });
            }
            if !seen.insert(id.as_str()) {
                return Err(ConfigError::Invalid {
                    key: "signin.providers.id",
                    message: format!("`{id}` is configured twice"),
                });
            }
            let bad = |key: &'static str, why: &str| ConfigError::Invalid {
                key,
                message: format!("provider `{id}`: {why}"),
            };
            if provider.label.trim().is_empty() {
                return Err(bad("signin.providers.label", "needs a label"));
            }
            if provider.client_id.is_empty() {
                return Err(bad("signin.providers.client_id", "needs a client_id"));
            }
            if !provider.client_secret.is_empty() && !provider.client_secret_file.is_empty() {
                return Err(bad(
                    "signin.providers.client_secret_file",
                    "set either client_secret or client_secret_file, not both",
                ));
            }
            if provider.client_secret()?.is_empty() {
                return Err(bad(
                    "signin.providers.client_secret",
                    "needs a client_secret (or client_secret_file)",
                ));
            }
            let urls: &[(&'static str, &str)] = match provider.kind {
                ProviderKind::Oidc => {
                    if provider.issuer.is_empty() {
                        return Err(bad(
                            "signin.providers.issuer",
                            "an oidc provider needs an issuer URL",
                        ));
                    }
                    if !provider.scopes().iter().any(|s| s == "openid") {
                        return Err(bad(
                            "signin.providers.scopes",
                            "an oidc provider's scopes must include openid",
                        ));
                    }
                    &[("signin.providers.issuer", provider.issuer.as_str())]
                }
                ProviderKind::Github => &[
                    (
                        "signin.providers.authorize_url",
                        provider.authorize_url.as_str(),
                    ),
                    ("signin.providers.token_url", provider.token_url.as_str()),
                    ("signin.providers.api_url", provider.api_url.as_str()),
                ],
            };
            for (key, value) in urls {
                if value.is_empty() {
                    continue;
                }
                match url::Url::parse(value) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                    _ => return Err(bad(key, "must be an http(s) URL")),
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Defaults, then `file` (if any), then `KITH_SECTION__KEY` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Load(format!(
                    "file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(
            Env::prefixed("KITH_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        );
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Load(describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML document on top of the defaults (no environment), then validates it.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError::Load(describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database.url.as_str();
        if !(url.starts_with("sqlite://")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                key: "database.url",
                message: format!(
                    "`{url}` must start with sqlite:// or postgres:// (e.g. sqlite://data/kith.db)"
                ),
            });
        }
        if self.cache.pages_max_entries > 0 && self.cache.pages_max_bytes < 65_536 {
            return Err(invalid(
                "cache.pages_max_bytes",
                "must be at least 65536 (or set cache.pages_max_entries = 0 to turn the cache off)",
            ));
        }
        if self.cache.counts_max_entries > 0 && self.cache.counts_max_bytes < 65_536 {
            return Err(invalid(
                "cache.counts_max_bytes",
                "must be at least 65536 (or set cache.counts_max_entries = 0 to turn the cache off)",
            ));
        }
        if self.database.pool_size == 0 {
            return Err(invalid("database.pool_size", "must be at least 1"));
        }
        if self.database.post_writers > self.database.pool_size {
            return Err(invalid(
                "database.post_writers",
                "must be at most database.pool_size (each writer holds a connection while it commits)",
            ));
        }
        if self.database.acquire_timeout_secs == 0 {
            return Err(invalid(
                "database.acquire_timeout_secs",
                "must be at least 1",
            ));
        }
        if self.live.heartbeat_secs == 0 {
            return Err(invalid("live.heartbeat_secs", "must be at least 1"));
        }
        if self.webmention.timeout_secs == 0 {
            return Err(invalid("webmention.timeout_secs", "must be at least 1"));
        }
        if self.webmention.max_bytes < 1024 {
            return Err(invalid("webmention.max_bytes", "must be at least 1024"));
        }
        if self.webmention.max_attempts == 0 {
            return Err(invalid("webmention.max_attempts", "must be at least 1"));
        }
        for replica in &self.database.replica_urls {
            if !url.starts_with("postgres") {
                return Err(invalid(
                    "database.replica_urls",
                    "replicas need PostgreSQL: database.url must be a postgres:// URL too",
                ));
            }
            if !(replica.starts_with("postgres://") || replica.starts_with("postgresql://")) {
                return Err(ConfigError::Invalid {
                    key: "database.replica_urls",
                    message: format!("`{}` must start with postgres://", masked_url(replica)),
                });
            }
        }
        if self.database.read_your_writes_secs == 0 {
            return Err(invalid(
                "database.read_your_writes_secs",
                "must be at least 1",
            ));
        }
        if self.server.body_timeout_secs == 0 {
            return Err(invalid("server.body_timeout_secs", "must be at least 1"));
        }
        if self.server.max_uri_bytes < 256 {
            return Err(invalid("server.max_uri_bytes", "must be at least 256"));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        if self.server.max_import_bytes < 1024 {
            return Err(invalid("server.max_import_bytes", "must be at least 1024"));
        }
        if !self.server.public_url.is_empty() {
            match url::Url::parse(&self.server.public_url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => return Err(invalid("server.public_url", "must be an http(s) URL")),
            }
        }
        self.trusted_proxies()?;
        self.signin.validate()?;
        if !self.metrics.listen.is_empty()
            && self.metrics.listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(invalid(
                "metrics.listen",
                "must be host:port, such as 127.0.0.1:9464 (or empty for the main port)",
            ));
        }
        self.rate_limits
            .validate()
            .map_err(|e| ConfigError::Invalid {
                key: "rate_limits",
                message: e.to_string(),
            })?;
        let site = &self.default_site;
        crate::domain::site::SiteSlug::parse(&site.slug).map_err(|e| ConfigError::Invalid {
            key: "default_site.slug",
            message: e.to_string(),
        })?;
        for origin in &site.allowed_origins {
            OriginPattern::parse(origin).map_err(|e| ConfigError::Invalid {
                key: "default_site.allowed_origins",
                message: format!("`{origin}`: {e}"),
            })?;
        }
        if !(1..=20).contains(&site.max_depth) {
            return Err(invalid(
                "default_site.max_depth",
                "must be between 1 and 20",
            ));
        }
        if self.limits.body == 0 || self.limits.author == 0 {
            return Err(invalid("limits", "limits must be positive"));
        }
        self.validate_webhooks()?;
        self.validate_mail()
    }

    fn validate_webhooks(&self) -> Result<(), ConfigError> {
        let hooks = &self.webhooks;
        if hooks.max_attempts == 0 {
            return Err(invalid("webhooks.max_attempts", "must be at least 1"));
        }
        if hooks.timeout_secs == 0 {
            return Err(invalid("webhooks.timeout_secs", "must be at least 1"));
        }
        if hooks.max_redirects > 10 {
            return Err(invalid("webhooks.max_redirects", "must be at most 10"));
        }
        Ok(())
    }

    fn validate_mail(&self) -> Result<(), ConfigError> {
        let mail = &self.mail;
        if !mail.enabled() {
            return Ok(());
        }
        if mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "mail.from",
                "must be an address such as `Comments <comments@example.com>` when mail is on",
            ));
        }
        if !mail.owner.is_empty() && mail.owner.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid("mail.owner", "must be an e-mail address or empty"));
        }
        if mail.smtp_port == 0 {
            return Err(invalid("mail.smtp_port", "must not be 0"));
        }
        if mail.link_expiry_days == 0 {
            return Err(invalid("mail.link_expiry_days", "must be at least 1"));
        }
        if mail.max_attempts == 0 {
            return Err(invalid("mail.max_attempts", "must be at least 1"));
        }
        if mail.digest_hour > 23 {
            return Err(invalid(
                "mail.digest_hour",
                "must be an hour from 0 to 23 (UTC)",
            ));
        }
        if parse_weekday(&mail.digest_weekday).is_none() {
            return Err(invalid(
                "mail.digest_weekday",
                "must be mon, tue, wed, thu, fri, sat or sun",
            ));
        }
        if !mail.password.is_empty() && !mail.password_file.is_empty() {
            return Err(invalid(
                "mail.password_file",
                "set either mail.password or mail.password_file, not both",
            ));
        }
        mail.password()?;
        if !mail.ca_file.trim().is_empty() {
            let pem = std::fs::read_to_string(mail.ca_file.trim()).map_err(|e| {
                invalid(
                    "mail.ca_file",
                    &format!("cannot read {}: {e}", mail.ca_file),
                )
            })?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(invalid(
                    "mail.ca_file",
                    &format!("{} holds no PEM certificate", mail.ca_file),
                ));
            }
        }
        Ok(())
    }

    /// The base URL people reach this server at.
    pub fn public_url(&self, bound_port: u16) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}:{}", self.server.host, bound_port)
        } else {
            self.server.public_url.trim_end_matches('/').to_string()
        }
    }

    /// The parsed `server.trusted_proxies`.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ConfigError> {
        self.server
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<IpNet>().map_err(|e| ConfigError::Invalid {
                    key: "server.trusted_proxies",
                    message: format!("`{p}`: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Folder the embed is served from, when not compiled in.
    pub fn assets_dir(&self) -> Option<PathBuf> {
        (!self.server.assets_dir.is_empty()).then(|| PathBuf::from(&self.server.assets_dir))
    }
}

fn invalid(key: &'static str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.to_string(),
    }
}

fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A weekday as `digest_weekday` spells it (`mon` … `sun`, any case).
fn parse_weekday(value: &str) -> Option<chrono::Weekday> {
    match value.trim().to_ascii_lowercase().as_str() {
        "mon" => Some(chrono::Weekday::Mon),
        "tue" => Some(chrono::Weekday::Tue),
        "wed" => Some(chrono::Weekday::Wed),
        "thu" => Some(chrono::Weekday::Thu),
        "fri" => Some(chrono::Weekday::Fri),
        "sat" => Some(chrono::Weekday::Sat),
        "sun" => Some(chrono::Weekday::Sun),
        _ => None,
    }
}

#[cfg(test)]
mod masking_tests {
    use super::*;

    #[test]
    fn passwords_in_database_urls_are_masked() {
        assert_eq!(
            masked_url("postgres://kith:secret@db.internal:5432/kith"),
            "postgres://kith:***@db.internal:5432/kith"
        );
        assert_eq!(
            masked_url("postgres://kith@db/kith?sslmode=require&password=secret"),
            "postgres://kith@db/kith?sslmode=require&password=***"
        );
        assert_eq!(masked_url("sqlite://data/kith.db"), "sqlite://data/kith.db");
        let config = DatabaseConfig {
            url: "sqlite://data/kith.db".into(),
            pool_size: 1,
            ..DatabaseConfig::default()
        };
        assert_eq!(config.describe(), "SQLite at data/kith.db");
    }
}
