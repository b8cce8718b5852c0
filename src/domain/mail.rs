//! A reader's e-mail address as the mail features know it (double opt-in, unsubscribe).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fields::FieldError;
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
    /// How often the address gets mail (a thread subscription may say otherwise).
    pub frequency: Frequency,
}

impl MailAddress {
    /// Confirmed and not unsubscribed: reader notifications may go to it.
    pub fn may_receive(&self) -> bool {
        self.confirmed_at.is_some() && self.unsubscribed_at.is_none()
    }
}

/// How often a recipient gets mail about new comments: one mail per comment, or a digest of
/// the period's comments once a day or once a week (`docs/mail.md`, "Digests").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    #[default]
    Instant,
    Daily,
    Weekly,
}

impl Frequency {
    pub const ALL: [Self; 3] = [Self::Instant, Self::Daily, Self::Weekly];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instant => "instant",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value.trim() {
            "instant" => Ok(Self::Instant),
            "daily" => Ok(Self::Daily),
            "weekly" => Ok(Self::Weekly),
            other => Err(FieldError::new(
                "frequency",
                format!("`{other}` must be instant, daily or weekly"),
            )),
        }
    }

    /// Whether mail waits for a digest.
    pub fn is_digest(self) -> bool {
        self != Self::Instant
    }
}

/// Who a digest goes to: a reader's address, or the owner of a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestRecipient {
    Address(i64),
    Owner(SiteId),
}

impl DigestRecipient {
    /// The key digest rows are stored under.
    pub fn key(self) -> String {
        match self {
            Self::Address(id) => format!("address:{id}"),
            Self::Owner(site) => format!("owner:{}", site.0),
        }
    }

    pub fn parse_key(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        let id = id.parse::<i64>().ok()?;
        match kind {
            "address" => Some(Self::Address(id)),
            "owner" => Some(Self::Owner(SiteId(id))),
            _ => None,
        }
    }
}

/// Why a comment waits for a reader's (or the owner's) digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestReason {
    /// A reply to the reader's comment.
    Reply,
    /// A new comment on a page the reader follows.
    Thread,
    /// The owner's alert about a new comment.
    Owner,
}

impl DigestReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reply => "reply",
            Self::Thread => "thread",
            Self::Owner => "owner",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "reply" => Some(Self::Reply),
            "thread" => Some(Self::Thread),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }
}

/// When digests are made: daily at `hour` UTC, weekly on `weekday` at that hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestSchedule {
    pub hour: u32,
    pub weekday: chrono::Weekday,
}

impl DigestSchedule {
    /// The end of the latest period of `frequency` that has ended at `now` (comments recorded
    /// before it belong in the digest made for it); `None` for instant mail.
    pub fn period_end(self, frequency: Frequency, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        use chrono::{Datelike, Duration, TimeZone};
        let day = now.date_naive();
        let at = |date: chrono::NaiveDate| {
            date.and_hms_opt(self.hour.min(23), 0, 0)
                .map(|t| Utc.from_utc_datetime(&t))
        };
        let today = at(day)?;
        let daily = if today <= now {
            today
        } else {
            today - Duration::days(1)
        };
        match frequency {
            Frequency::Instant => None,
            Frequency::Daily => Some(daily),
            Frequency::Weekly => {
                let back = (7 + daily.weekday().num_days_from_monday()
                    - self.weekday.num_days_from_monday())
                    % 7;
                Some(daily - Duration::days(i64::from(back)))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    #[test]
    fn periods_end_at_the_configured_hour_and_weekday() {
        let schedule = DigestSchedule {
            hour: 7,
            weekday: chrono::Weekday::Mon,
        };
        // 2026-11-30 is a Monday.
        let daily = |now| schedule.period_end(Frequency::Daily, at(now)).unwrap();
        let weekly = |now| schedule.period_end(Frequency::Weekly, at(now)).unwrap();
        assert_eq!(daily("2026-11-30 06:59"), at("2026-11-29 07:00"));
        assert_eq!(daily("2026-11-30 07:00"), at("2026-11-30 07:00"));
        assert_eq!(daily("2026-12-01 23:00"), at("2026-12-01 07:00"));
        assert_eq!(weekly("2026-11-30 06:59"), at("2026-11-23 07:00"));
        assert_eq!(weekly("2026-11-30 07:00"), at("2026-11-30 07:00"));
        assert_eq!(weekly("2026-12-06 23:59"), at("2026-11-30 07:00"));
        assert_eq!(
            schedule.period_end(Frequency::Instant, at("2026-11-30 07:00")),
            None
        );
    }

    #[test]
    fn recipient_keys_round_trip() {
        for r in [
            DigestRecipient::Address(4),
            DigestRecipient::Owner(SiteId(2)),
        ] {
            assert_eq!(DigestRecipient::parse_key(&r.key()), Some(r));
        }
        assert_eq!(DigestRecipient::parse_key("x:1"), None);
    }
}
