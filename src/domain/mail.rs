//! A reader's e-mail address as the mail features know it (double opt-in, unsubscribe).

use chrono::{DateTime, Utc};

use super::site::SiteId;

/// One address on one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAddress {
    pub id: i64,
    pub site_id: SiteId,
    /// Lowercase.
    pub email: String,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub unsubscribed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl MailAddress {
    /// Confirmed and not unsubscribed: reader notifications may go to it.
    pub fn may_receive(&self) -> bool {
        self.confirmed_at.is_some() && self.unsubscribed_at.is_none()
    }
}
