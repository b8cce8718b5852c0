//! The `kith` command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kith::config::Config;
use kith::domain::admin::{AdminName, Password};
use kith::service::admin::auth;
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
    init_logging(&config.log.level);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => migrate(config),
        Command::CheckConfig => check_config(&config),
        Command::Admin(command) => admin(config, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kith: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

fn serve(config: Config) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config)
            .await
            .map_err(|e| e.to_string())?;
        let url = app.state().config.public_url(app.port());
        tracing::info!("kith is listening on {url} (demo page at {url}/)");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
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

fn check_config(config: &Config) -> Result<(), String> {
    let text = toml_like(config);
    println!("configuration is valid\n{text}");
    Ok(())
}

fn toml_like(config: &Config) -> String {
    let mut shown = config.clone();
    if let Some((scheme, rest)) = shown.database.url.split_once("://")
        && let Some((credentials, host)) = rest.split_once('@')
    {
        let user = credentials.split(':').next().unwrap_or_default();
        shown.database.url = format!("{scheme}://{user}:***@{host}");
    }
    serde_json::to_string_pretty(&shown).unwrap_or_default()
}
