//! Mail: composition (what each mail says, in the site's language), layouts, signed links,
//! the SMTP client and the outbox worker. Below `service`: nothing here imports it.
//!
//! - `texts`: the server texts, from `locales/*.json`, parsed at start
//! - `compose`: one function that builds every mail's view
//! - `view`, `templates`, `overrides`, `layout`: a view rendered with the built-in layout or a
//!   `mail.templates_dir` folder's (read once at start)
//! - `links`: signed links in mails
//! - `mailer`, `worker`: sending, with retries
//! - `webhooks`: webhook deliveries from their own outbox, with the same lease and retries

pub mod compose;
pub mod layout;
pub mod links;
pub mod mailer;
pub mod overrides;
pub mod templates;
pub mod texts;
pub mod view;
pub mod webhooks;
pub mod worker;

pub use mailer::{Mailer, Outgoing};
