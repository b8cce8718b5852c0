//! Signed links in mails: moderation, confirmation, unsubscribe, "manage my comments",
//! reader sign-in.
//!
//! A token is a dot-separated payload plus its signature ([`Purpose::MailLink`], under the
//! server's master secret, so every process on the database accepts the same links). Only
//! ASCII letters, digits, `-` and `.` appear, so tokens sit in URL paths unescaped.

use crate::domain::comment::CommentId;
use crate::secrets::{self, Keys, Purpose};

/// What a moderation link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModAction {
    Approve,
    Delete,
    Spam,
    /// Bans the author (e-mail address, else IP address) and marks the comment as spam.
    Ban,
}

impl ModAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Delete => "delete",
            Self::Spam => "spam",
            Self::Ban => "ban",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "approve" => Some(Self::Approve),
            "delete" => Some(Self::Delete),
            "spam" => Some(Self::Spam),
            "ban" => Some(Self::Ban),
            _ => None,
        }
    }
}

/// What a link in a mail allows, once its signature checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// One-time moderation of a comment by the site owner.
    Moderate {
        action: ModAction,
        comment: CommentId,
        expires: i64,
        nonce: String,
    },
    /// Confirms an address for notifications (double opt-in).
    Confirm { address: i64, expires: i64 },
    /// Stops mails to an address: about one thread, or all of them. Never expires.
    Unsubscribe { address: i64, thread: Option<i64> },
    /// Lists, deletes and exports an address's comments.
    Manage { address: i64, expires: i64 },
    /// Completes a reader's e-mail-link sign-in request (once).
    SignIn {
        request: i64,
        expires: i64,
        nonce: String,
    },
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is not valid")]
    Forged,
    #[error("this link has expired")]
    Expired,
}

impl Link {
    /// A fresh random nonce for a one-time link.
    pub fn nonce() -> String {
        secrets::random_hex::<12>()
    }

    fn payload(&self) -> String {
        match self {
            Self::Moderate {
                action,
                comment,
                expires,
                nonce,
            } => format!("m.{}.{}.{expires}.{nonce}", action.as_str(), comment.0),
            Self::Confirm { address, expires } => format!("c.{address}.{expires}"),
            Self::Unsubscribe { address, thread } => {
                format!("u.{address}.{}", thread.unwrap_or(0))
            }
            Self::Manage { address, expires } => format!("g.{address}.{expires}"),
            Self::SignIn {
                request,
                expires,
                nonce,
            } => format!("s.{request}.{expires}.{nonce}"),
        }
    }

    /// The token to put in a URL.
    pub fn sign(&self, keys: &Keys) -> String {
        let payload = self.payload();
        let signature = keys.sign(Purpose::MailLink, &payload);
        format!("{payload}.{signature}")
    }

    /// Checks a token's signature and expiry (`now` in Unix seconds).
    pub fn verify(token: &str, keys: &Keys, now: i64) -> Result<Self, LinkError> {
        let (payload, given) = token.rsplit_once('.').ok_or(LinkError::Forged)?;
        if !keys.verify(Purpose::MailLink, payload, given) {
            return Err(LinkError::Forged);
        }
        let link = Self::parse_payload(payload).ok_or(LinkError::Forged)?;
        let expires = match &link {
            Self::Moderate { expires, .. }
            | Self::Confirm { expires, .. }
            | Self::Manage { expires, .. }
            | Self::SignIn { expires, .. } => Some(*expires),
            Self::Unsubscribe { .. } => None,
        };
        if expires.is_some_and(|at| now > at) {
            return Err(LinkError::Expired);
        }
        Ok(link)
    }

    fn parse_payload(payload: &str) -> Option<Self> {
        let parts: Vec<&str> = payload.split('.').collect();
        let int = |s: &str| s.parse::<i64>().ok();
        match parts.as_slice() {
            ["m", action, comment, expires, nonce] => Some(Self::Moderate {
                action: ModAction::parse(action)?,
                comment: CommentId(int(comment)?),
                expires: int(expires)?,
                nonce: (*nonce).to_string(),
            }),
            ["c", address, expires] => Some(Self::Confirm {
                address: int(address)?,
                expires: int(expires)?,
            }),
            ["u", address, thread] => Some(Self::Unsubscribe {
                address: int(address)?,
                thread: int(thread).filter(|t| *t > 0),
            }),
            ["g", address, expires] => Some(Self::Manage {
                address: int(address)?,
                expires: int(expires)?,
            }),
            ["s", request, expires, nonce] => Some(Self::SignIn {
                request: int(request)?,
                expires: int(expires)?,
                nonce: (*nonce).to_string(),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(vec![7; 32]).unwrap()
    }

    #[test]
    fn signed_links_verify_and_tampered_ones_do_not() {
        let link = Link::Moderate {
            action: ModAction::Approve,
            comment: CommentId(42),
            expires: 1_000,
            nonce: Link::nonce(),
        };
        let token = link.sign(&keys());
        assert_eq!(Link::verify(&token, &keys(), 999).unwrap(), link);
        assert_eq!(
            Link::verify(&token, &keys(), 1_001),
            Err(LinkError::Expired)
        );
        let forged = token.replace("approve", "delete");
        assert_eq!(Link::verify(&forged, &keys(), 999), Err(LinkError::Forged));
        let other = Keys::new(vec![8; 32]).unwrap();
        assert_eq!(Link::verify(&token, &other, 999), Err(LinkError::Forged));
        assert_eq!(Link::verify("", &keys(), 0), Err(LinkError::Forged));
    }

    #[test]
    fn unsubscribe_links_never_expire() {
        let link = Link::Unsubscribe {
            address: 3,
            thread: Some(9),
        };
        let token = link.sign(&keys());
        assert_eq!(Link::verify(&token, &keys(), i64::MAX).unwrap(), link);
    }
}
