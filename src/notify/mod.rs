//! Mail: the outbox worker (lettre over SMTP), signed links, and the mail templates.

pub mod links;
pub mod mailer;
pub mod overrides;
pub mod pages;
pub mod templates;
pub mod worker;

pub use mailer::{Mailer, Outgoing};
