//! Builds the application: bind, open the pool, migrate, seed, start workers.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::Compress;
use actix_web::{App, HttpServer, web};

use crate::changes::ChangeBus;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::http::page_cache::PageCache;
use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::notify::layout::MailLayout;
use crate::notify::texts::Locales;
use crate::render::Renderer;
use crate::service;
use crate::spam::limiter::Limiters;
use crate::state::{AppState, Keys, LogOnce, SiteCache};

/// How long an idle HTTP/1.1 connection is kept open (nginx's `keepalive_timeout` default).
const KEEP_ALIVE: Duration = Duration::from_secs(75);

/// How long a cached site may be stale when another process changed it.
const SITE_CACHE_TTL: Duration = Duration::from_secs(30);
/// How often the rate limiters forget idle addresses (bounding their memory).
const LIMITER_SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// How often old client IPs are erased.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// A running kith server.
pub struct Application {
    port: u16,
    server: Server,
    /// Keeps `kith restore` from replacing the SQLite file under this server.
    _serving_lock: Option<db::backup::ServingLock>,
    /// The separate `/metrics` listener (`metrics.listen`) and its port.
    metrics_server: Option<(u16, Server)>,
    state: AppState,
    mail_worker: Option<crate::notify::worker::WorkerHandle>,
    webmention_worker: Option<crate::webmention::worker::WorkerHandle>,
    webhook_worker: Option<crate::notify::webhooks::WorkerHandle>,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Database(#[from] db::pool::OpenError),
    #[error("{0}")]
    Setup(#[from] AppError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

impl Application {
    /// Opens the database, migrates it, seeds the default site and binds the listener
    /// (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// [`Application::build`] with the clock digests go by (tests pass a manual one).
    pub async fn build_with_clock(config: Config, clock: Clock) -> Result<Self, StartError> {
        let serving_lock = db::backup::hold_serving_lock(&config.database.url)
            .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
        let mut state = prepare(config)?;
        state.clock = clock;
        let address = format!("{}:{}", state.config.server.host, state.config.server.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind { address, source })?
            .port();
        if state.config.server.public_url.is_empty() {
            // Links in mails need the port actually bound (port 0 picks one).
            let mut config = (*state.config).clone();
            config.server.public_url = state.config.public_url(port);
            state.config = Arc::new(config);
        }
        let server_state = state.clone();
        let max_body = state.config.server.max_body_bytes;
        let metrics = &state.config.metrics;
        let metrics_on_main = metrics.enabled && metrics.listen.is_empty();
        let metrics_server = if metrics.enabled && !metrics.listen.is_empty() {
            Some(metrics_server(&state, &metrics.listen)?)
        } else {
            None
        };
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(crate::http::edge::edge))
                .wrap(Compress::default())
                .wrap(actix_web::middleware::from_fn(
                    crate::http::request_id::request_id,
                ))
                .wrap(actix_web::middleware::from_fn(crate::http::metrics::record))
                .app_data(web::Data::new(server_state.clone()))
                .configure(|cfg| {
                    if metrics_on_main {
                        crate::http::metrics::routes(cfg);
                    }
                    crate::http::routes(cfg, max_body);
                })
        })
        // kith handles SIGTERM and SIGINT itself (`kith serve`), so that tests running many
        // applications in one process do not install signal handlers.
        .disable_signals()
        // Idle keep-alive connections live longer than clients' own idle timeouts (browsers,
        // Node's fetch: 4-5 s; nginx upstreams: 60 s), so the client always closes first and
        // never sends a request on a connection the server is closing at that moment.
        .keep_alive(KEEP_ALIVE)
        // Database work runs on each worker's blocking threads, and a thread beyond the pool's
        // connections would only wait for one: so no more threads than connections (actix's
        // default is 512 shared by the workers). Fewer threads, fewer allocator arenas: the
        // peak memory under many concurrent writes.
        .worker_max_blocking_threads(blocking_threads(state.config.database.pool_size))
        .shutdown_timeout(state.config.server.shutdown_timeout_secs)
        .listen(listener)
        .map_err(|source| StartError::Bind {
            address: "listener".into(),
            source,
        })?
        .run();
        start_workers(state.clone());
        if db::Backend::of(&state.config.database.url) == Some(db::Backend::Postgres) {
            db::changes::spawn_listener(state.config.database.url.clone(), &state.changes)
                .map_err(AppError::internal)?;
        }
        announce_setup_link(&state, port)?;
        let mail_worker =
            crate::notify::worker::spawn(state.pool.clone(), state.config.mail.clone());
        service::digests::spawn(state.clone());
        let webmention_worker = crate::webmention::worker::spawn(state.clone());
        let webhook_worker = crate::notify::webhooks::spawn(
            state.pool.clone(),
            state.config.webhooks.clone(),
            state.keys.clone(),
        );
        Ok(Self {
            port,
            server,
            metrics_server,
            _serving_lock: serving_lock,
            state,
            mail_worker,
            webmention_worker,
            webhook_worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the separate `/metrics` listener, when `metrics.listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A handle that stops the server: `stop(true)` stops accepting connections at once and
    /// lets requests in flight finish (for up to `server.shutdown_timeout_secs`).
    pub fn stop_handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (see [`Application::stop_handle`]), then lets the
    /// mail worker finish the mail in flight; a mail it could not finish in time gets its
    /// lease released, so another process sends it at once.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = match self.metrics_server {
            // The metrics listener stops with the main server, never the other way round.
            Some((_, metrics)) => {
                let handle = metrics.handle();
                actix_web::rt::spawn(metrics);
                let result = self.server.await;
                handle.stop(true).await;
                result
            }
            None => self.server.await,
        };
        let grace = Duration::from_secs(self.state.config.server.shutdown_timeout_secs);
        if let Some(worker) = self.webmention_worker {
            worker.stop_within(grace).await;
        }
        if let Some(worker) = self.mail_worker {
            worker.stop_within(grace).await;
        }
        if let Some(worker) = self.webhook_worker {
            worker.stop_within(grace).await;
        }
        result
    }
}

/// A listener serving `/metrics` alone, on `metrics.listen`.
fn metrics_server(state: &AppState, address: &str) -> Result<(u16, Server), StartError> {
    let bind_error = |source| StartError::Bind {
        address: address.to_string(),
        source,
    };
    let listener = TcpListener::bind(address).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    let state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .configure(crate::http::metrics::routes)
            .default_service(web::to(crate::http::errors::not_found))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(bind_error)?
    .run();
    Ok((port, server))
}

/// Blocking threads per worker for a pool of `pool_size` connections: one worker may get all
/// the busy requests, so each may use every connection, plus one for work that needs none.
fn blocking_threads(pool_size: u32) -> usize {
    usize::try_from(pool_size)
        .unwrap_or(usize::MAX)
        .saturating_add(1)
}

/// Everything but the listener: pool, migrations, keys, default site.
pub fn prepare(config: Config) -> Result<AppState, StartError> {
    let trusted_proxies = config
        .trusted_proxies()
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    let limiters = Limiters::new(&config.rate_limits).map_err(AppError::internal)?;
    let pool = db::pool::connect_with(
        &config.database.url,
        config.database.pool_size,
        Duration::from_secs(config.database.acquire_timeout_secs),
    )?;
    let keys = setup_database(&pool, &config)?;
    let replica_urls: Vec<(String, String)> = config
        .database
        .replica_urls
        .iter()
        .map(|url| (url.clone(), crate::config::masked_url(url)))
        .collect();
    let replicas = db::replicas::Replicas::connect(&replica_urls, config.database.pool_size)?;
    if !replicas.is_empty() {
        tracing::info!(
            replicas = ?replicas,
            "public reads go to {} read replica(s)",
            replicas.len()
        );
    }
    let shared_quota = if config.rate_limits.shared
        && db::Backend::of(&config.database.url) == Some(db::Backend::Postgres)
    {
        db::rate_limits::SharedQuota::postgres(&config.database.url)
    } else {
        db::rate_limits::SharedQuota::off()
    };
    let texts = Locales::load().map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let mail_layout = MailLayout::load(&config.mail.templates_dir)
        .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let pages = PageCache::new(&config.cache);
    let counts = service::counts::CountCache::new(&config.cache);
    let changes = ChangeBus::new();
    let live = Arc::new(LiveHub::new(config.live.clone(), changes.clone()));
    let assets = Arc::new(crate::http::assets::EmbedFiles::new(config.assets_dir()));
    let config_signin = config.signin.clone();
    // New comments go through the post writer. SQLite: one writer thread (one writer at a
    // time). PostgreSQL: several side by side (`database.post_writers`); each batch stores its
    // posts in thread order, so batches never create the same new threads in opposite orders,
    // and a post refused for a deadlock all the same is tried again alone.
    let writers = match db::Backend::of(&config.database.url) {
        Some(db::Backend::Sqlite) => 1,
        _ if config.database.post_writers > 0 => config.database.post_writers as usize,
        // Two: measured best with 32 posters on 2 CPUs (one waits on the database while the
        // other works; more make smaller batches that wait on each other's thread rows).
        _ => 2.min(config.database.pool_size as usize).max(1),
    };
    let posts = match config.database.post_batch {
        0 => None,
        batch => Some(
            service::post_writer::PostWriter::start(batch as usize, writers)
                .map_err(AppError::internal)?,
        ),
    };
    Ok(AppState {
        pool,
        replicas: Arc::new(replicas),
        config: Arc::new(config),
        renderer: Arc::new(Renderer::new()),
        keys: Arc::new(keys),
        sites: SiteCache::new(SITE_CACHE_TTL),
        limiters: Arc::new(limiters),
        shared_quota: Arc::new(shared_quota),
        trusted_proxies: Arc::new(trusted_proxies),
        texts: Arc::new(texts),
        mail_layout: Arc::new(mail_layout),
        log_once: LogOnce::new(Duration::from_secs(3600)),
        metrics: Arc::new(Metrics::new().map_err(AppError::internal)?),
        live,
        pages,
        counts,
        assets,
        changes,
        posts,
        clock: Clock::system(),
        signin: Arc::new(crate::oidc::Providers::new(&config_signin).map_err(AppError::internal)?),
    })
}

fn setup_database(pool: &DbPool, config: &Config) -> Result<Keys, AppError> {
    let mut conn = pool.get()?;
    let applied = db::run_migrations(&mut conn)?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    let master = db::keys::find_or_insert(&mut conn, "master", &Keys::generate_master_hex())?;
    let master = hex::decode(master).map_err(AppError::internal)?;
    let keys = Keys::new(master).map_err(AppError::internal)?;
    if service::sites::ensure_default(&mut conn, &config.default_site)? {
        tracing::info!(slug = %config.default_site.slug, "created the default site");
    }
    Ok(keys)
}

/// With no admin account yet, logs a one-time link to create the first one.
fn announce_setup_link(state: &AppState, port: u16) -> Result<(), AppError> {
    let mut conn = state.pool.get()?;
    if let Some(token) = service::admin::auth::issue_setup_token(&mut conn)? {
        let url = state.config.public_url(port);
        tracing::warn!(
            "no admin account yet: create one at {url}/admin/setup?token={token} \
             (the link works once), or run `kith admin create NAME`"
        );
    }
    Ok(())
}

/// The chores of every minute: full shared rate-limit buckets, spent proof-of-work
/// challenges, and the short-lived sign-in rows (expired reader sessions, e-mail sign-in
/// requests nobody finished, OpenID Connect flows nobody came back from), so those tables stay
/// as small as the traffic of the last half hour whether or not anyone signs in. Idempotent, so
/// every process runs it; a failure is not worth a log line (the next minute sweeps again).
pub fn minute_sweep(state: &AppState, conn: &mut db::DbConn) -> Result<usize, AppError> {
    // Each chore runs even when one before it failed.
    let buckets = if state.shared_quota.enabled() {
        service::rate_limits::sweep(conn)
    } else {
        Ok(0)
    };
    let signin = service::readers::purge_expired(conn);
    let pow = db::spam::delete_expired_pow(conn, service::now().naive_utc());
    Ok(buckets? + signin? + pow?)
}

/// Background chores; each is idempotent, so every process may run them.
fn start_workers(state: AppState) {
    let limiter_state = state.clone();
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(LIMITER_SWEEP_INTERVAL);
        loop {
            interval.tick().await;
            limiter_state.limiters.retain_recent();
            let _ = service::blocking(&limiter_state, minute_sweep).await;
        }
    });
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(RETENTION_INTERVAL);
        loop {
            interval.tick().await;
            let days = i64::from(state.config.privacy.ip_retention_days);
            let result = service::blocking(&state, move |_, conn| {
                let before = service::now() - chrono::Duration::days(days);
                let erased = db::comments::erase_client_data_before(conn, before.naive_utc())?;
                db::webmentions::erase_client_ips_before(conn, before.naive_utc())?;
                Ok(erased)
            })
            .await;
            match result {
                Ok(0) => {}
                Ok(erased) => tracing::info!(erased, "erased old client IPs"),
                Err(e) => tracing::warn!(error = %e, "could not erase old client IPs"),
            }
        }
    });
}
