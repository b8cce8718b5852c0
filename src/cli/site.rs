//! `kith site …`: list, show, create and change sites from the command line, for servers
//! without a browser. The same checks as the admin area's site form ([`SiteForm`]).

use kith::config::Config;
use kith::domain::webhook::{EndpointUrl, PayloadFormat, WebhookEvent};
use kith::service::admin::site_admin::{self, SiteForm};
use kith::service::webhooks;
use kith::startup;

#[derive(clap::Subcommand)]
pub enum SiteCommand {
    /// List the sites: slug, name and allowed origins.
    List,
    /// Print one site's settings as JSON.
    Show { slug: String },
    /// Create a site (the settings not given take their defaults).
    Create {
        slug: String,
        #[command(flatten)]
        settings: Box<SiteSettingsArgs>,
    },
    /// Change a site's settings (the ones not given stay as they are).
    Set {
        slug: String,
        #[command(flatten)]
        settings: Box<SiteSettingsArgs>,
    },
    /// List a site's webhook endpoints: id, format, events, URL.
    Webhooks { slug: String },
    /// Add a webhook endpoint; prints its id and its signing secret (see docs/webhooks.md).
    WebhookAdd {
        slug: String,
        /// Where deliveries are POSTed (http or https).
        #[arg(long)]
        url: String,
        /// Events, comma separated: posted, held, approved, deleted, reported.
        #[arg(long, default_value = "posted,held,approved,deleted,reported")]
        events: String,
        /// kith (signed JSON), slack or discord.
        #[arg(long, default_value = "kith")]
        format: String,
    },
    /// Print a webhook endpoint's signing secret.
    WebhookSecret { slug: String, id: i64 },
    /// Give a webhook endpoint a new secret (the old one stops verifying) and print it.
    WebhookRotate { slug: String, id: i64 },
    /// Remove a webhook endpoint and its deliveries.
    WebhookRemove { slug: String, id: i64 },
}

/// Every setting of the admin area's site form; lists are comma separated.
#[derive(clap::Args, Default)]
pub struct SiteSettingsArgs {
    /// The site's name, as readers see it in mails.
    #[arg(long)]
    name: Option<String>,
    /// Origins whose pages may show the comments, comma separated
    /// (`https://blog.example,http://localhost:*`); replaces the list.
    #[arg(long)]
    allowed_origins: Option<String>,
    /// none, first-time or all.
    #[arg(long)]
    moderation: Option<String>,
    #[arg(long)]
    edit_window_secs: Option<String>,
    #[arg(long)]
    max_depth: Option<String>,
    #[arg(long)]
    require_name: Option<bool>,
    #[arg(long)]
    require_email: Option<bool>,
    /// Words that hold a comment, comma separated; replaces the list.
    #[arg(long)]
    hold_words: Option<String>,
    /// Words that send a comment to spam, comma separated; replaces the list.
    #[arg(long)]
    reject_words: Option<String>,
    #[arg(long)]
    max_links: Option<String>,
    #[arg(long)]
    report_threshold: Option<String>,
    #[arg(long)]
    auto_close_days: Option<String>,
    /// The embed's language (en, de, fr, es, pt, it, nl, pl, ja, zh).
    #[arg(long)]
    language: Option<String>,
    #[arg(long)]
    honeypot: Option<bool>,
    #[arg(long)]
    require_form_token: Option<bool>,
    #[arg(long)]
    min_post_secs: Option<String>,
    #[arg(long)]
    duplicate_window_secs: Option<String>,
    #[arg(long)]
    pow_difficulty: Option<String>,
    #[arg(long)]
    spam_threshold_percent: Option<String>,
    /// Reactions (👍 ❤️ 😄 🎉 😕 👀) on comments.
    #[arg(long)]
    reactions: Option<bool>,
    /// identicon (drawn by the embed, no third party), libravatar or gravatar (see
    /// docs/embed.md, "Avatars", for what this tells those services).
    #[arg(long)]
    avatars: Option<String>,
    /// How often the owner gets alerts about the site's comments: instant, daily or weekly.
    #[arg(long)]
    owner_frequency: Option<String>,
    /// How readers may sign in, comma separated: `email` and provider ids (`github`);
    /// replaces the list (an empty string: sign-in not offered).
    #[arg(long)]
    signin_methods: Option<String>,
    /// Whether readers may comment without signing in.
    #[arg(long)]
    anonymous_allowed: Option<bool>,
    /// Whether signed-in readers skip first-time moderation.
    #[arg(long)]
    signed_in_skip_moderation: Option<bool>,
    /// Seconds signed-in readers may edit or delete their comments (0: always).
    #[arg(long)]
    signed_in_edit_secs: Option<String>,
}

impl SiteSettingsArgs {
    /// `form` with every given setting replaced.
    fn apply(self, mut form: SiteForm) -> SiteForm {
        let lines = |list: String| {
            list.split(',')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let text = |field: &mut String, value: Option<String>| {
            if let Some(v) = value {
                *field = v;
            }
        };
        text(&mut form.name, self.name);
        text(&mut form.allowed_origins, self.allowed_origins);
        text(&mut form.moderation, self.moderation);
        text(&mut form.edit_window_secs, self.edit_window_secs);
        text(&mut form.max_depth, self.max_depth);
        text(&mut form.hold_words, self.hold_words.map(lines));
        text(&mut form.reject_words, self.reject_words.map(lines));
        text(&mut form.max_links, self.max_links);
        text(&mut form.report_threshold, self.report_threshold);
        text(&mut form.auto_close_days, self.auto_close_days);
        text(&mut form.language, self.language);
        form.require_name = self.require_name.or(form.require_name);
        form.require_email = self.require_email.or(form.require_email);
        form.honeypot = self.honeypot.or(form.honeypot);
        form.require_form_token = self.require_form_token.or(form.require_form_token);
        form.min_post_secs = self.min_post_secs.or(form.min_post_secs);
        form.duplicate_window_secs = self.duplicate_window_secs.or(form.duplicate_window_secs);
        form.pow_difficulty = self.pow_difficulty.or(form.pow_difficulty);
        form.spam_threshold_percent = self.spam_threshold_percent.or(form.spam_threshold_percent);
        form.reactions = self.reactions.or(form.reactions);
        form.avatars = self.avatars.or(form.avatars);
        form.owner_frequency = self.owner_frequency.or(form.owner_frequency);
        form.signin_methods = self.signin_methods.or(form.signin_methods);
        form.anonymous_allowed = self.anonymous_allowed.or(form.anonymous_allowed);
        form.signed_in_skip_moderation = self
            .signed_in_skip_moderation
            .or(form.signed_in_skip_moderation);
        form.signed_in_edit_secs = self.signed_in_edit_secs.or(form.signed_in_edit_secs);
        form
    }
}

/// Runs a `kith site` command; what it prints goes to standard output.
pub fn run(config: Config, command: SiteCommand) -> Result<(), String> {
    let state = startup::prepare(config).map_err(|e| e.to_string())?;
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    // Name the option a refused value came from (`--max-depth: must be …`).
    let message = |e: kith::error::AppError| match e.field {
        Some(field) => format!("--{}: {}", field.replace('_', "-"), e.message),
        None => e.message,
    };
    match command {
        SiteCommand::List => {
            for site in site_admin::list(&mut conn).map_err(message)? {
                let origins: Vec<String> = site
                    .allowed_origins
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                println!("{}\t{}\t{}", site.slug, site.name, origins.join(","));
            }
        }
        SiteCommand::Show { slug } => {
            let site = site_admin::find(&mut conn, &slug).map_err(message)?;
            println!("{}", site_json(&site));
        }
        SiteCommand::Create { slug, settings } => {
            let mut form = settings.apply(SiteForm::blank());
            form.slug = slug;
            if form.name.is_empty() {
                form.name.clone_from(&form.slug);
            }
            let site = site_admin::create(&state, &mut conn, &form).map_err(message)?;
            println!("{}", site_json(&site));
        }
        SiteCommand::Set { slug, settings } => {
            let site = site_admin::find(&mut conn, &slug).map_err(message)?;
            let form = settings.apply(SiteForm::of(&site));
            let site = site_admin::update(&state, &mut conn, &slug, &form).map_err(message)?;
            println!("{}", site_json(&site));
        }
        SiteCommand::Webhooks { slug } => {
            let site = site_admin::find(&mut conn, &slug).map_err(message)?;
            let overview = webhooks::overview(&mut conn, site.id).map_err(message)?;
            for e in overview.endpoints {
                let events: Vec<&str> = e.events.iter().map(|e| e.label()).collect();
                println!(
                    "{}\t{}\t{}\t{}",
                    e.id,
                    e.format.as_str(),
                    events.join(","),
                    e.url
                );
            }
        }
        SiteCommand::WebhookAdd {
            slug,
            url,
            events,
            format,
        } => {
            let url = EndpointUrl::parse(&url).map_err(|e| message(e.into()))?;
            let format = PayloadFormat::parse(&format).map_err(|e| message(e.into()))?;
            let events = WebhookEvent::parse_list(&events).map_err(|e| message(e.into()))?;
            let site = site_admin::find(&mut conn, &slug).map_err(message)?;
            let (endpoint, secret) =
                webhooks::create(&state, &mut conn, site.id, &url, format, &events)
                    .map_err(message)?;
            println!("{}\t{secret}", endpoint.id);
        }
        SiteCommand::WebhookSecret { slug, id } => {
            let site = site_admin::find(&mut conn, &slug).map_err(message)?;
            println!(
                "{}",
                webhooks::secret(&state, &mut conn, site.id, id).map_err(message)?
            );
        }
        SiteCommand::WebhookRotate { slug, id } => {
            let site = site_admin::find(&mut conn, &slug).map_err(message)?;
            let secret =
                webhooks::rotate_secret(&state, &mut conn, site.id, id).map_err(message)?;
            println!("{secret}");
        }
        SiteCommand::WebhookRemove { slug, id } => {
            let site = site_admin::find(&mut conn, &slug).map_err(message)?;
            webhooks::delete(&mut conn, site.id, id).map_err(message)?;
        }
    }
    Ok(())
}

fn site_json(site: &kith::domain::site::Site) -> String {
    let value = serde_json::json!({
        "slug": site.slug,
        "name": site.name,
        "allowed_origins": site.allowed_origins.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "settings": site.settings,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}
