//! The `kith` command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::{Arc, OnceLock};

mod cli;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kith::config::Config;
use kith::domain::admin::{AdminName, Password};
use kith::error::AppError;
use kith::service::admin::auth;
use kith::service::{self, export::ExportFormat, import::HostRule, import::ImportOptions};
use kith::startup::{self, Application};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "kith",
    version,
    about = "A self-hostable comment and discussion engine"
)]
struct Cli {
    /// Configuration file (TOML); `KITH_SECTION__KEY` environment variables override it.
    #[arg(long, short, env = "KITH_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Run the database migrations, then exit.
    Migrate,
    /// Check the configuration and print it (secrets left out), then exit.
    CheckConfig,
    /// Manage admin accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Mail tools.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// List, show, create and change sites (name, allowed origins, moderation, spam defences).
    #[command(subcommand)]
    Site(cli::site::SiteCommand),
    /// Import comments from WordPress, Disqus, Isso, Commento/Comentario, Remark42, Artalk, Cusdis
    /// or a kith export.
    Import(ImportArgs),
    /// Write every thread and comment of a site to standard output.
    Export(ExportArgs),
    /// Copy the SQLite database to FILE, consistently, while servers keep running
    /// (PostgreSQL: prints the `pg_dump` command to use instead).
    Backup {
        /// Where to write the copy (must not exist yet).
        file: PathBuf,
    },
    /// Replace the SQLite database with the backup FILE (servers must be stopped; the
    /// current database is kept as `<database>.before-restore`).
    Restore {
        /// A file written by `kith backup`.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Send a test mail through the configured SMTP server and print its answer.
    Test {
        /// Where to send the test mail.
        address: String,
    },
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The export file (plain, .gz or .zip; an Isso database file as is).
    file: PathBuf,
    /// The site to import into.
    #[arg(long)]
    site: String,
    /// wordpress, disqus, isso, commento, remark42, artalk, cusdis or kith; detected from the
    /// content when left out.
    #[arg(long)]
    format: Option<String>,
    /// Read the file and report what would be imported; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Leave WordPress pingbacks and trackbacks out.
    #[arg(long)]
    skip_pingbacks: bool,
    /// Rewrite page addresses starting with OLD to start with NEW (a URL prefix or a bare
    /// host), for sites that moved.
    #[arg(long, value_name = "OLD=NEW", conflicts_with = "strip_host")]
    map_host: Option<String>,
    /// Do not store the pages' old URLs (keys are paths either way).
    #[arg(long)]
    strip_host: bool,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// The site to export.
    #[arg(long)]
    site: String,
    /// kith (lossless JSON), wordpress (WXR 1.2) or disqus (Disqus XML).
    #[arg(long, default_value = "kith")]
    format: String,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin account. The password is asked for (or read from the first line of
    /// standard input when it is not a terminal), never taken from the command line.
    Create {
        /// Login name: letters, digits, `.`, `_` or `-`.
        name: String,
    },
    /// Set a new password for an admin account and end all its sessions.
    Password { name: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("kith: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    // Logs go to standard error, so standard output stays for reports and exported files.
    init_logging(&config.log);
    let result = match command {
        Command::Serve => serve(config),
        Command::Migrate => migrate(config),
        Command::CheckConfig => check_config(&config),
        Command::Admin(command) => admin(config, command),
        Command::Mail {
            command: MailCommand::Test { address },
        } => mail_test(&config, &address),
        Command::Site(command) => cli::site::run(config, command),
        Command::Import(args) => import(config, args),
        Command::Export(args) => export(config, args),
        Command::Backup { file } => backup(&config, &file),
        Command::Restore { file } => restore(&config, &file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kith: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(log: &kith::config::LogConfig) {
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    match log.format {
        kith::config::LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // One JSON object a line: the event's fields at the top level, and the request span
        // (its `id`) under `span`, so a 500's cause carries the request id too.
        kith::config::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// Most skipped records and notes listed one by one.
const LISTED: usize = 20;

fn import(config: Config, args: ImportArgs) -> Result<(), String> {
    let format = args
        .format
        .as_deref()
        .map(str::parse::<kith::import::Format>)
        .transpose()
        .map_err(|e| e.to_string())?;
    let host = match (&args.map_host, args.strip_host) {
        (Some(rule), _) => HostRule::parse_map(rule)?,
        (None, true) => HostRule::Strip,
        (None, false) => HostRule::Keep,
    };
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    // A dry run never opens the configured database for writing (see `scratch_database`).
    let (config, _scratch) = if args.dry_run {
        scratch_database(config)?
    } else {
        (config, None)
    };
    let state = startup::prepare(config).map_err(|e| e.to_string())?;
    let mut conn = service::conn(&state).map_err(|e| describe(&e))?;
    let bar: Arc<OnceLock<ProgressBar>> = Arc::new(OnceLock::new());
    let progress_bar = bar.clone();
    let options = ImportOptions {
        format,
        dry_run: args.dry_run,
        skip_pingbacks: args.skip_pingbacks,
        host,
        progress: Some(Arc::new(move |done, total| {
            if total < 5_000 {
                return Ok(());
            }
            let bar = progress_bar.get_or_init(|| {
                let bar = ProgressBar::new(total);
                if let Ok(style) = ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} comments written, {eta} left",
                ) {
                    bar.set_style(style);
                }
                bar
            });
            bar.set_position(done);
            Ok(())
        })),
    };
    let result = service::import::import_file(&state, &mut conn, &args.site, &bytes, &options);
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    let summary = result.map_err(|e| describe(&e))?;
    list(
        "skipped",
        summary
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.source_id, s.reason)),
    );
    list("repaired", summary.notes.iter().cloned());
    println!("{summary}");
    Ok(())
}

/// The database a dry run works on, so that it writes nothing where the real import would:
/// - no SQLite file yet: an in-memory database (as the real run would start empty);
/// - a SQLite file: a snapshot of it (`VACUUM INTO`, read-only) in a temporary folder,
///   migrated there if this kith is newer;
/// - PostgreSQL without kith's tables: an in-memory database; with them, the database itself
///   (the import's dry run only reads), unless it needs migrating or lacks the default site,
///   which a dry run cannot do without writing: then it says so.
fn scratch_database(mut config: Config) -> Result<(Config, Option<tempfile::TempDir>), String> {
    let url = config.database.url.clone();
    let in_memory = |mut config: Config| {
        config.database.url = "sqlite://:memory:".into();
        // one connection: each in-memory connection is a database of its own
        config.database.pool_size = 1;
        config
    };
    match kith::db::pool::Backend::of(&url) {
        Some(kith::db::pool::Backend::Sqlite) => {
            let path = url.trim_start_matches("sqlite://");
            if path == ":memory:" || !std::path::Path::new(path).exists() {
                return Ok((in_memory(config), None));
            }
            let dir = tempfile::tempdir().map_err(|e| format!("dry run: {e}"))?;
            let copy = dir.path().join("snapshot.db");
            kith::db::pool::snapshot_sqlite(path, &copy).map_err(|e| format!("dry run: {e}"))?;
            config.database.url = format!("sqlite://{}", copy.display());
            Ok((config, Some(dir)))
        }
        Some(kith::db::pool::Backend::Postgres) => {
            match kith::db::pool::postgres_readiness(&url, &config.default_site.slug)
                .map_err(|e| format!("dry run: {e}"))?
            {
                kith::db::pool::Readiness::Empty => Ok((in_memory(config), None)),
                kith::db::pool::Readiness::Ready => Ok((config, None)),
                kith::db::pool::Readiness::NeedsSetup(why) => Err(format!(
                    "dry run: the database {why}; a real import would set it up first, which a \
                     dry run does not do. Run `kith migrate`, then the dry run"
                )),
            }
        }
        None => Ok((config, None)),
    }
}

fn list(label: &str, items: impl ExactSizeIterator<Item = String>) {
    let total = items.len();
    for item in items.take(LISTED) {
        eprintln!("{label}: {item}");
    }
    if total > LISTED {
        eprintln!("{label}: … and {} more", total - LISTED);
    }
}

fn export(config: Config, args: ExportArgs) -> Result<(), String> {
    let format: ExportFormat = args.format.parse()?;
    let state = startup::prepare(config).map_err(|e| e.to_string())?;
    let mut conn = service::conn(&state).map_err(|e| describe(&e))?;
    let stdout = std::io::stdout().lock();
    service::export::export_site(&state, &mut conn, &args.site, format, stdout)
        .map_err(|e| describe(&e))
}

/// The message for the user: the cause too when it is an internal error.
fn describe(e: &AppError) -> String {
    if e.kind.is_outage() {
        e.to_string()
    } else {
        e.message.clone()
    }
}

fn serve(config: Config) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config)
            .await
            .map_err(|e| e.to_string())?;
        let url = app.state().config.public_url(app.port());
        tracing::info!(
            "kith is listening on {url} (demo page at {url}/); database: {}",
            app.state().config.database.describe()
        );
        let handle = app.stop_handle();
        let live = app.state().live.clone();
        let grace = app.state().config.server.shutdown_timeout_secs;
        actix_web::rt::spawn(async move {
            let signal = shutdown_signal().await;
            tracing::info!(
                "{signal} received: no new connections; finishing requests in flight (for up to {grace} s)"
            );
            // Live-update streams never finish by themselves: end them now.
            live.close();
            handle.stop(true).await;
        });
        app.run_until_stopped().await.map_err(|e| e.to_string())?;
        tracing::info!("kith stopped");
        Ok(())
    })
}

fn backup(config: &Config, file: &std::path::Path) -> Result<(), String> {
    use kith::db::backup::{self, BackupError};
    match backup::backup(&config.database.url, file) {
        Ok(bytes) => {
            println!("backup written to {} ({bytes} bytes)", file.display());
            Ok(())
        }
        Err(BackupError::Postgres) => Err(format!(
            "`kith backup` copies SQLite databases; for PostgreSQL use its own tool:\n  \
             pg_dump --format=custom --file={} '{}'\n(see docs/deploy.md)",
            file.display(),
            kith::config::masked_url(&config.database.url)
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn restore(config: &Config, file: &std::path::Path) -> Result<(), String> {
    use kith::db::backup::{self, BackupError};
    match backup::restore(&config.database.url, file) {
        Ok(restored) => {
            if restored.migrated > 0 {
                println!(
                    "brought the backup up to date ({} migrations)",
                    restored.migrated
                );
            }
            if let Some(previous) = restored.previous {
                println!("the database replaced was kept as {}", previous.display());
            }
            println!("restored {}", file.display());
            Ok(())
        }
        Err(BackupError::Postgres) => Err(format!(
            "`kith restore` restores SQLite databases; for PostgreSQL stop kith, then:\n  \
             pg_restore --clean --if-exists --no-owner --dbname='{}' {}\n(see docs/deploy.md)",
            kith::config::masked_url(&config.database.url),
            file.display()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Waits for SIGTERM (service managers, `docker stop`) or SIGINT (Ctrl-C); returns its name.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            _ => {
                tracing::warn!("cannot listen for SIGTERM; stop kith with SIGKILL");
                std::future::pending().await
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

fn migrate(config: Config) -> Result<(), String> {
    startup::prepare(config)
        .map(|_| ())
        .map_err(|e| e.to_string())?;
    println!("database is up to date");
    Ok(())
}

fn admin(config: Config, command: AdminCommand) -> Result<(), String> {
    let (name, create) = match command {
        AdminCommand::Create { name } => (name, true),
        AdminCommand::Password { name } => (name, false),
    };
    let name = AdminName::parse(&name).map_err(|e| e.to_string())?;
    let password = Password::parse(read_password()?).map_err(|e| e.to_string())?;
    let state = startup::prepare(config).map_err(|e| e.to_string())?;
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    if create {
        auth::create_admin(&mut conn, &name, &password).map_err(|e| e.message.clone())?;
        println!("admin `{}` created; log in at /admin/login", name.as_str());
    } else {
        auth::set_password(&mut conn, &name, &password).map_err(|e| e.message.clone())?;
        println!(
            "password of `{}` changed; its sessions were ended",
            name.as_str()
        );
    }
    Ok(())
}

/// A password from a hidden prompt (asked twice), or the first line of standard input.
fn read_password() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 10 characters): ")
            .map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Password again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

fn mail_test(config: &Config, address: &str) -> Result<(), String> {
    let site = &config.default_site.name;
    let text = format!("This is a test mail from kith ({site}). If you can read it, mail works.\n");
    let subject = format!("kith test mail ({site})");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let answer = runtime.block_on(async {
        // The SMTP pool needs the runtime, so the mailer is built inside it.
        let mailer = kith::notify::Mailer::from_config(&config.mail)?.ok_or_else(|| {
            "mail is off: set mail.smtp_host and mail.from (see docs/mail.md)".to_string()
        })?;
        mailer
            .send(&kith::notify::Outgoing {
                to: address,
                subject: &subject,
                text: &text,
                html: "",
                unsubscribe_url: None,
                sender_name: site,
                message_id: None,
            })
            .await
            .map_err(|e| e.to_string())
    })?;
    println!("sent to {address}; the server answered: {answer}");
    Ok(())
}

fn check_config(config: &Config) -> Result<(), String> {
    let text = toml_like(config);
    println!("configuration is valid\n{text}");
    Ok(())
}

fn toml_like(config: &Config) -> String {
    let mut shown = config.clone();
    shown.database.url = kith::config::masked_url(&shown.database.url);
    if !shown.mail.password.is_empty() {
        shown.mail.password = "***".into();
    }
    serde_json::to_string_pretty(&shown).unwrap_or_default()
}
