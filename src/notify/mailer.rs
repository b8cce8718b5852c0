//! The SMTP client (lettre): STARTTLS, implicit TLS or plain, with optional login, and
//! optionally an extra trusted certificate (`mail.ca_file`) for a server with a private or
//! self-signed one.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
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
#[derive(Clone)]
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
        let tls = || -> Result<TlsParameters, String> {
            let mut params = TlsParameters::builder(host.to_string());
            if !config.ca_file.trim().is_empty() {
                let pem = std::fs::read(config.ca_file.trim())
                    .map_err(|e| format!("mail.ca_file {}: {e}", config.ca_file))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| format!("mail.ca_file {}: {e}", config.ca_file))?;
                params = params.add_root_certificate(cert);
            }
            params
                .build()
                .map_err(|e| format!("mail TLS settings: {e}"))
        };
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host);
        let builder = match config.security {
            SmtpSecurity::Starttls => builder.tls(Tls::Required(tls()?)),
            SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
            SmtpSecurity::Plain => builder,
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
    pub async fn send(&self, mail: &Outgoing<'_>) -> Result<String, SendError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| SendError::permanent(format!("recipient address: {e}")))?;
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
            .map_err(|e| SendError::permanent(format!("building the message: {e}")))?;
        let response = self.transport.send(message).await.map_err(|e| SendError {
            permanent: is_permanent(&e),
            message: format!("SMTP: {e}"),
        })?;
        Ok(describe(&response))
    }
}

/// Why a mail was not sent, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    /// The server refused the mail for good (a 5xx reply), or it cannot be built.
    pub permanent: bool,
}

impl SendError {
    fn permanent(message: String) -> Self {
        Self {
            message,
            permanent: true,
        }
    }
}

/// A 5xx reply means the server will never take this mail; anything else (a 4xx reply, a
/// refused connection, a timeout, a TLS failure) may pass later. A refused login (530, 534,
/// 535, 538) is a 5xx too, but about the settings rather than the mail: kept for a retry, so
/// that fixing the password loses nothing.
fn is_permanent(error: &lettre::transport::smtp::Error) -> bool {
    let login = error
        .status()
        .is_some_and(|code| matches!(code.to_string().as_str(), "530" | "534" | "535" | "538"));
    error.is_permanent() && !login
}

fn describe(response: &lettre::transport::smtp::response::Response) -> String {
    let lines: Vec<&str> = response.message().collect();
    format!("{} {}", response.code(), lines.join(" "))
}
