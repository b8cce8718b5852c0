//! Bans: by e-mail address, by IP address or range (CIDR), by name pattern, by signed-in
//! identity (`provider:subject`).

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::fields::FieldError;
use super::reader::Identity;

/// A stored ban, as listed.
#[derive(Debug, Clone)]
pub struct Ban {
    pub id: i64,
    pub kind: BanKind,
    pub value: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl Ban {
    /// The rule, or `None` for a stored value no longer parseable (skipped, never fatal).
    pub fn rule(&self) -> Option<BanRule> {
        BanRule::parse(self.kind, &self.value).ok()
    }
}

/// What a ban matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanKind {
    Email,
    Ip,
    Name,
    /// A signed-in identity (`provider:subject`).
    Reader,
}

impl BanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Ip => "ip",
            Self::Name => "name",
            Self::Reader => "reader",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value {
            "email" => Ok(Self::Email),
            "ip" => Ok(Self::Ip),
            "name" => Ok(Self::Name),
            "reader" => Ok(Self::Reader),
            _ => Err(FieldError::new("kind", "must be email, ip, name or reader")),
        }
    }
}

/// A parsed ban rule, ready to match authors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BanRule {
    /// An e-mail address, compared case-insensitively.
    Email(String),
    /// An address and prefix length (a single address has the full length).
    Ip(IpAddr, u8),
    /// A name pattern, lowercase; `*` matches any run of characters.
    Name(String),
    /// A signed-in identity: whoever signs in as it (whatever name or address they give).
    Reader(Identity),
}

/// Longest ban value accepted.
const MAX_VALUE: usize = 254;

impl BanRule {
    pub fn parse(kind: BanKind, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > MAX_VALUE {
            return Err(FieldError::new(
                "value",
                format!("must be 1 to {MAX_VALUE} characters"),
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(FieldError::new(
                "value",
                "must not contain control characters",
            ));
        }
        match kind {
            BanKind::Email => {
                if !value.contains('@') || value.contains(char::is_whitespace) {
                    return Err(FieldError::new("value", "must be an e-mail address"));
                }
                Ok(Self::Email(value.to_lowercase()))
            }
            BanKind::Ip => parse_cidr(value),
            BanKind::Name => {
                if value.chars().all(|c| c == '*') {
                    return Err(FieldError::new(
                        "value",
                        "a pattern of only `*` would ban everyone",
                    ));
                }
                Ok(Self::Name(value.to_lowercase()))
            }
            BanKind::Reader => Identity::parse_key(value).map(Self::Reader),
        }
    }

    pub fn kind(&self) -> BanKind {
        match self {
            Self::Email(_) => BanKind::Email,
            Self::Ip(..) => BanKind::Ip,
            Self::Name(_) => BanKind::Name,
            Self::Reader(_) => BanKind::Reader,
        }
    }

    /// The value as stored and shown (`192.0.2.0/24`, `spam@example.com`, `*casino*`).
    pub fn value(&self) -> String {
        match self {
            Self::Email(e) | Self::Name(e) => e.clone(),
            Self::Ip(ip, len) if *len == full_len(ip) => ip.to_string(),
            Self::Ip(ip, len) => format!("{ip}/{len}"),
            Self::Reader(identity) => identity.key(),
        }
    }

    /// Whether an author with these details is banned by this rule.
    pub fn matches(&self, author: &Author<'_>) -> bool {
        match self {
            Self::Email(banned) => author
                .email
                .is_some_and(|e| e.trim().to_lowercase() == *banned),
            Self::Ip(net, len) => author.ip.is_some_and(|ip| in_range(ip, *net, *len)),
            Self::Name(pattern) => wildcard_match(pattern, &author.name.to_lowercase()),
            Self::Reader(banned) => author.reader.is_some_and(|r| r == banned),
        }
    }
}

/// Who posted, as far as bans care.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub ip: Option<IpAddr>,
    /// The signed-in identity, for a signed-in reader.
    pub reader: Option<&'a Identity>,
}

fn full_len(ip: &IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn parse_cidr(value: &str) -> Result<BanRule, FieldError> {
    let bad = || FieldError::new("value", "must be an IP address or a CIDR range");
    let (addr, len) = match value.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| bad())?)),
        None => (value, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    let max = full_len(&ip);
    let len = len.unwrap_or(max);
    if len > max || len == 0 {
        return Err(FieldError::new(
            "value",
            format!("prefix length must be 1 to {max}"),
        ));
    }
    Ok(BanRule::Ip(mask(ip, len), len))
}

fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn mask(ip: IpAddr, len: u8) -> IpAddr {
    let full = full_len(&ip);
    let host_bits = u32::from(full - len);
    let bits = to_bits(ip);
    let masked = if host_bits >= 128 {
        0
    } else {
        (bits >> host_bits) << host_bits
    };
    match ip {
        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from(u32::try_from(masked).unwrap_or(0))),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(masked)),
    }
}

fn in_range(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let ip = match (ip, net) {
        (IpAddr::V6(v6), IpAddr::V4(_)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        (IpAddr::V4(_), IpAddr::V6(_)) => return false,
        _ => ip,
    };
    mask(ip, len) == net
}

/// `*` matches any run of characters (none included); everything else literally.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn author<'a>(name: &'a str, email: Option<&'a str>, ip: &str) -> Author<'a> {
        Author {
            name,
            email,
            ip: ip.parse().ok(),
            reader: None,
        }
    }

    #[test]
    fn cidr_ranges_match_inside_only() {
        let rule = BanRule::parse(BanKind::Ip, "192.0.2.77/24").unwrap();
        assert_eq!(rule.value(), "192.0.2.0/24");
        assert!(rule.matches(&author("a", None, "192.0.2.1")));
        assert!(rule.matches(&author("a", None, "::ffff:192.0.2.9")));
        assert!(!rule.matches(&author("a", None, "192.0.3.1")));
        let v6 = BanRule::parse(BanKind::Ip, "2001:db8::/32").unwrap();
        assert!(v6.matches(&author("a", None, "2001:db8:1::5")));
        assert!(!v6.matches(&author("a", None, "2001:db9::5")));
        let single = BanRule::parse(BanKind::Ip, "203.0.113.5").unwrap();
        assert_eq!(single.value(), "203.0.113.5");
        assert!(single.matches(&author("a", None, "203.0.113.5")));
        assert!(!single.matches(&author("a", None, "203.0.113.6")));
    }

    #[test]
    fn bad_ip_values_are_refused() {
        for bad in ["300.1.1.1", "1.2.3.4/33", "1.2.3.4/0", "x", "::/129"] {
            assert!(BanRule::parse(BanKind::Ip, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn name_patterns_use_stars() {
        let rule = BanRule::parse(BanKind::Name, "*Casino*").unwrap();
        assert!(rule.matches(&author("Best casino deals", None, "1.1.1.1")));
        assert!(!rule.matches(&author("Cassie", None, "1.1.1.1")));
        let exact = BanRule::parse(BanKind::Name, "Troll").unwrap();
        assert!(exact.matches(&author("troll", None, "1.1.1.1")));
        assert!(!exact.matches(&author("trolls", None, "1.1.1.1")));
        let prefix = BanRule::parse(BanKind::Name, "bot*").unwrap();
        assert!(prefix.matches(&author("Bot 3000", None, "1.1.1.1")));
        assert!(BanRule::parse(BanKind::Name, "**").is_err());
    }

    #[test]
    fn email_bans_ignore_case() {
        let rule = BanRule::parse(BanKind::Email, "Spam@Example.com").unwrap();
        assert!(rule.matches(&author("a", Some("spam@example.COM"), "1.1.1.1")));
        assert!(!rule.matches(&author("a", Some("ham@example.com"), "1.1.1.1")));
        assert!(!rule.matches(&author("a", None, "1.1.1.1")));
    }

    #[test]
    fn reader_bans_match_the_identity_only() {
        let rule = BanRule::parse(BanKind::Reader, "github:666").unwrap();
        assert_eq!(rule.value(), "github:666");
        let troll = Identity::parse("github", "666").unwrap();
        let other = Identity::parse("gitlab", "666").unwrap();
        let mut a = author("Anyone", None, "1.1.1.1");
        assert!(!rule.matches(&a));
        a.reader = Some(&troll);
        assert!(rule.matches(&a));
        a.reader = Some(&other);
        assert!(!rule.matches(&a));
        let by_mail = BanRule::parse(BanKind::Reader, "email:Troll@Example.com").unwrap();
        assert_eq!(by_mail.value(), "email:troll@example.com");
        assert!(BanRule::parse(BanKind::Reader, "nocolon").is_err());
    }
}
