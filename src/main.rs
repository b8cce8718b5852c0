//! The `kith` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kith::config::Config;
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
    /// Mail tools.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
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
        Command::Mail {
            command: MailCommand::Test { address },
        } => mail_test(&config, &address),
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
    if let Some((scheme, rest)) = shown.database.url.split_once("://")
        && let Some((credentials, host)) = rest.split_once('@')
    {
        let user = credentials.split(':').next().unwrap_or_default();
        shown.database.url = format!("{scheme}://{user}:***@{host}");
    }
    if !shown.mail.password.is_empty() {
        shown.mail.password = "***".into();
    }
    serde_json::to_string_pretty(&shown).unwrap_or_default()
}
