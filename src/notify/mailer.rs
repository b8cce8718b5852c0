//! The SMTP client (lettre): STARTTLS, implicit TLS or plain, with optional login.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, SmtpSecurity};

/// A mail ready for the wire.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// One-click unsubscribe URL (RFC 8058), when the mail has one.
    pub unsubscribe_url: Option<&'a str>,
    /// Shown as the sender's name when `mail.from` has none (the site's name).
    pub sender_name: &'a str,
    /// A stable id for the mail (`Message-ID` left of the `@`), so that a mail sent again
    /// after a crash is recognisable as the same one; `None` generates a random one.
    pub message_id: Option<String>,
}

/// Sends mail through the configured SMTP server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// `None` when mail is off (no SMTP host).
    pub fn from_config(config: &MailConfig) -> Result<Option<Self>, String> {
        if !config.enabled() {
            return Ok(None);
        }
        let host = config.smtp_host.trim();
        let builder = match config.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("mail.smtp_host: {e}"))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| format!("mail.smtp_host: {e}"))?,
            SmtpSecurity::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder
            .port(config.smtp_port)
            .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        if !config.username.is_empty() {
            let password = config
                .password()
                .map_err(|e| e.to_string())?
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(config.username.clone(), password));
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("mail.from `{}`: {e}", config.from))?;
        Ok(Some(Self {
            transport: builder.build(),
            from,
        }))
    }

    /// Sends one mail; returns the server's answer, or why it failed.
    pub async fn send(&self, mail: &Outgoing<'_>) -> Result<String, String> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("recipient address: {e}"))?;
        let mut from = self.from.clone();
        if from.name.is_none() && !mail.sender_name.is_empty() {
            from.name = Some(mail.sender_name.to_string());
        }
        let message_id = mail
            .message_id
            .as_ref()
            .map(|local| format!("<{local}@{}>", from.email.domain()));
        let mut builder = Message::builder()
            .message_id(message_id)
            .from(from)
            .to(to)
            .subject(mail.subject)
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ));
        if let Some(url) = mail.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let body = if mail.html.is_empty() {
            MultiPart::mixed().singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.text.to_string()),
            )
        } else {
            MultiPart::alternative_plain_html(mail.text.to_string(), mail.html.to_string())
        };
        let message = builder
            .multipart(body)
            .map_err(|e| format!("building the message: {e}"))?;
        let response = self
            .transport
            .send(message)
            .await
            .map_err(|e| format!("SMTP: {e}"))?;
        Ok(describe(&response))
    }
}

fn describe(response: &lettre::transport::smtp::response::Response) -> String {
    let lines: Vec<&str> = response.message().collect();
    format!("{} {}", response.code(), lines.join(" "))
}
