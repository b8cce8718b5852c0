//! Webhooks: the events a site can send out, the payload formats, and an endpoint's settings.

use chrono::{DateTime, Utc};

use super::fields::FieldError;
use super::site::SiteId;

/// Something that happened to a comment, as a webhook announces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// A new comment was stored (by a reader or as the owner's reply), whatever its status.
    Posted,
    /// A comment went to the moderation queue: held when posted, after an edit, or hidden by
    /// readers' reports.
    Held,
    /// A held, spam or deleted comment was published (admin area, mail link, owner reply).
    Approved,
    /// A comment was deleted by an admin or by its author.
    Deleted,
    /// A reader reported a comment.
    Reported,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 5] = [
        Self::Posted,
        Self::Held,
        Self::Approved,
        Self::Deleted,
        Self::Reported,
    ];

    /// The name in payloads, settings and the `Kith-Event` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Posted => "comment.posted",
            Self::Held => "comment.held",
            Self::Approved => "comment.approved",
            Self::Deleted => "comment.deleted",
            Self::Reported => "comment.reported",
        }
    }

    /// A short word for people (Slack and Discord messages, the admin page).
    pub fn label(self) -> &'static str {
        match self {
            Self::Posted => "posted",
            Self::Held => "held",
            Self::Approved => "approved",
            Self::Deleted => "deleted",
            Self::Reported => "reported",
        }
    }

    /// Accepts `comment.posted` or the short `posted`.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == value || e.label() == value)
            .ok_or_else(|| {
                FieldError::new(
                    "events",
                    format!(
                        "unknown event `{value}`: use posted, held, approved, deleted or reported"
                    ),
                )
            })
    }

    /// A comma-separated list; at least one event, no repeats kept.
    pub fn parse_list(value: &str) -> Result<Vec<Self>, FieldError> {
        let mut events = Vec::new();
        for part in value.split(',').filter(|p| !p.trim().is_empty()) {
            let event = Self::parse(part)?;
            if !events.contains(&event) {
                events.push(event);
            }
        }
        if events.is_empty() {
            return Err(FieldError::new("events", "choose at least one event"));
        }
        Ok(events)
    }
}

/// The shape of a delivery's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadFormat {
    /// kith's own JSON document, signed (`docs/webhooks.md`).
    #[default]
    Kith,
    /// A Slack incoming webhook: `{"text": …, "blocks": […]}`.
    Slack,
    /// A Discord webhook: `{"content": …, "embeds": […]}`.
    Discord,
}

impl PayloadFormat {
    pub const ALL: [PayloadFormat; 3] = [Self::Kith, Self::Slack, Self::Discord];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kith => "kith",
            Self::Slack => "slack",
            Self::Discord => "discord",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == value.trim())
            .ok_or_else(|| FieldError::new("format", "must be kith, slack or discord"))
    }
}

/// Where deliveries go: an absolute `http` or `https` URL without credentials in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(String);

impl EndpointUrl {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        let bad = |m: &str| FieldError::new("url", m);
        if value.len() > 2000 {
            return Err(bad("at most 2000 characters"));
        }
        let url = url::Url::parse(value).map_err(|_| bad("must be an absolute http(s) URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("must start with http:// or https://"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not hold a user name or password"));
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A site's webhook endpoint. Its secret is not part of it: see `Keys::webhook_secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub site_id: SiteId,
    pub url: String,
    pub format: PayloadFormat,
    pub events: Vec<WebhookEvent>,
    pub created_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    pub fn wants(&self, event: WebhookEvent) -> bool {
        self.events.contains(&event)
    }

    /// The events, short names, comma separated.
    pub fn events_text(&self) -> String {
        self.events
            .iter()
            .map(|e| e.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [Self::Pending, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| FieldError::new("status", "unknown delivery status"))
    }
}

/// One queued, sent or failed delivery, as the admin area lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub event: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_long_and_short_names() {
        assert_eq!(
            WebhookEvent::parse_list("posted, comment.held,posted").unwrap(),
            vec![WebhookEvent::Posted, WebhookEvent::Held]
        );
        assert!(WebhookEvent::parse_list("").is_err());
        assert!(WebhookEvent::parse_list("liked").is_err());
    }

    #[test]
    fn endpoint_urls_are_http_without_credentials() {
        assert!(EndpointUrl::parse("https://hooks.example/x").is_ok());
        assert!(EndpointUrl::parse("ftp://hooks.example/x").is_err());
        assert!(EndpointUrl::parse("https://user:pw@hooks.example/").is_err());
        assert!(EndpointUrl::parse("/relative").is_err());
    }
}
