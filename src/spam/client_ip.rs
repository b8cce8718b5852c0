//! Which address is the client? CIDR networks, trusted reverse proxies and address prefixes.
//!
//! Behind a reverse proxy the TCP peer is the proxy, and the client's address arrives in
//! `X-Forwarded-For`. That header is only as trustworthy as whoever wrote it, so [`client_ip`]
//! reads it only when the peer is a configured trusted proxy, and then walks it from the right
//! (the entries appended by our own proxies) past every trusted hop to the first foreign address.
//! Entries further left were written by the client and are never looked at.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::Deserialize;

/// Why a string is not a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpNetError {
    /// The part before the `/` is not an IPv4 or IPv6 address.
    #[error("`{0}` is not an IP address (expected e.g. 10.0.0.0/8, 127.0.0.1 or fd00::/8)")]
    InvalidAddress(String),
    /// The part after the `/` is not a number within 0..=32 (IPv4) or 0..=128 (IPv6).
    #[error("`{0}` is not a valid prefix length (0..=32 for IPv4, 0..=128 for IPv6)")]
    InvalidPrefix(String),
}

/// An IPv4 or IPv6 network in CIDR notation, such as `10.0.0.0/8` or `fd00::/8`.
///
/// Parsing accepts a bare address as a single-host network (`127.0.0.1` is `127.0.0.1/32`) and
/// clears host bits (`192.168.1.7/24` becomes `192.168.1.0/24`), so `Display` always shows the
/// canonical form. An IPv4 network also contains the IPv4-mapped IPv6 form of its addresses
/// (`::ffff:10.1.2.3`), which is what a dual-stack socket reports for IPv4 peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct IpNet {
    addr: IpAddr,
    prefix_len: u8,
}

impl IpNet {
    /// The network of `addr` with `prefix_len` leading bits, host bits cleared.
    ///
    /// # Errors
    /// [`IpNetError::InvalidPrefix`] when `prefix_len` exceeds the address width.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<Self, IpNetError> {
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if prefix_len > max {
            return Err(IpNetError::InvalidPrefix(prefix_len.to_string()));
        }
        Ok(Self {
            addr: mask(addr, prefix_len),
            prefix_len,
        })
    }

    /// The network address (host bits are zero).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The number of leading bits that are fixed.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` lies in this network. IPv4-mapped IPv6 addresses are compared as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix_len) == self.addr
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr_part, prefix_part) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr_part
            .parse()
            .map_err(|_| IpNetError::InvalidAddress(addr_part.to_owned()))?;
        let prefix_len = match prefix_part {
            None => match addr {
                IpAddr::V4(_) => 32,
                IpAddr::V6(_) => 128,
            },
            // `u8::from_str` accepts a leading `+`; CIDR does not.
            Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(IpNetError::InvalidPrefix(p.to_owned()));
            }
            Some(p) => p
                .parse::<u8>()
                .map_err(|_| IpNetError::InvalidPrefix(p.to_owned()))?,
        };
        IpNet::new(addr, prefix_len)
    }
}

impl TryFrom<String> for IpNet {
    type Error = IpNetError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// The reverse proxies whose `X-Forwarded-For` entries are believed.
///
/// Empty by default: the header is then ignored and the TCP peer is the client. Deserializes from
/// a list of CIDR strings, e.g. `trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    /// Whether `ip` is inside one of the trusted networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }
}

impl FromStr for TrustedProxies {
    type Err = IpNetError;

    /// Parses a comma- or whitespace-separated list, as an environment variable would carry it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

/// The client's address, given the TCP peer and the `X-Forwarded-For` header (all occurrences
/// joined with `,`, as the HTTP spec allows).
///
/// * The header counts only when `peer` is a trusted proxy; otherwise the peer is the client.
/// * The list is walked from the right, skipping trusted proxies; the first other address is the
///   client. If every entry is a trusted proxy, the leftmost one is the client (an internal
///   request).
/// * An entry that is reached on that walk and is not an IP address (garbage, empty, `unknown`)
///   makes the whole header untrustworthy: the peer is returned. Entries left of the client are
///   never parsed, so a client cannot push its neighbours onto the proxy's address by prepending
///   garbage.
/// * `1.2.3.4:5678` and `[2001:db8::1]:5678` (some proxies add ports) are accepted.
/// * The result is canonical: an IPv4-mapped IPv6 address comes back as IPv4.
pub fn client_ip(peer: IpAddr, x_forwarded_for: Option<&str>, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    let Some(header) = x_forwarded_for else {
        return peer;
    };
    if !trusted.contains(peer) {
        return peer;
    }
    let mut leftmost = None;
    for entry in header.rsplit(',') {
        let Some(ip) = parse_entry(entry) else {
            return peer;
        };
        if !trusted.contains(ip) {
            return ip;
        }
        leftmost = Some(ip);
    }
    leftmost.unwrap_or(peer)
}

/// One `X-Forwarded-For` entry as a canonical address, tolerating a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = entry.strip_prefix('[') {
        // [v6] or [v6]:port
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return if port_ok {
            inside
                .parse::<Ipv6Addr>()
                .ok()
                .map(|v6| IpAddr::V6(v6).to_canonical())
        } else {
            None
        };
    }
    // v4:port
    let (host, port) = entry.split_once(':')?;
    if !is_port(port) {
        return None;
    }
    host.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

fn is_port(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The network an address most likely shares with its neighbours: its /24 for IPv4 and its /64
/// for IPv6 (the usual size of one customer's IPv6 allocation). IPv4-mapped IPv6 addresses are
/// treated as IPv4. Used as a second rate-limiting key so that hopping across one's own addresses
/// does not escape a limit.
pub fn ip_prefix(ip: IpAddr) -> IpAddr {
    let ip = ip.to_canonical();
    match ip {
        IpAddr::V4(_) => mask(ip, 24),
        IpAddr::V6(_) => mask(ip, 64),
    }
}

/// `ip` with all but its first `prefix_len` bits cleared (`prefix_len` already validated or
/// saturating: anything above the width keeps every bit).
fn mask(ip: IpAddr, prefix_len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let keep = u32::MAX
                .checked_shl(32 - u32::from(prefix_len.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & keep))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let keep = u128::MAX
                .checked_shl(128 - u32::from(prefix_len.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & keep))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn proxies(s: &str) -> TrustedProxies {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_displays_ipv4_and_ipv6_networks() {
        assert_eq!(net("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(net("192.168.1.7/24").to_string(), "192.168.1.0/24");
        assert_eq!(net("127.0.0.1").to_string(), "127.0.0.1/32");
        assert_eq!(net(" fd00::1/8 ").to_string(), "fd00::/8");
        assert_eq!(net("::1").to_string(), "::1/128");
        assert_eq!(net("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(net("::/0").to_string(), "::/0");
        assert_eq!(net("2001:db8::/32").prefix_len(), 32);
        assert_eq!(net("2001:db8::/32").addr(), ip("2001:db8::"));
    }

    #[test]
    fn rejects_bad_networks_with_typed_errors() {
        assert!(matches!(
            "".parse::<IpNet>(),
            Err(IpNetError::InvalidAddress(_))
        ));
        assert!(matches!(
            "10.0.0/8".parse::<IpNet>(),
            Err(IpNetError::InvalidAddress(_))
        ));
        assert!(matches!(
            "example.com/8".parse::<IpNet>(),
            Err(IpNetError::InvalidAddress(_))
        ));
        assert!(matches!(
            "10.0.0.0/33".parse::<IpNet>(),
            Err(IpNetError::InvalidPrefix(_))
        ));
        assert!(matches!(
            "::/129".parse::<IpNet>(),
            Err(IpNetError::InvalidPrefix(_))
        ));
        assert!(matches!(
            "10.0.0.0/".parse::<IpNet>(),
            Err(IpNetError::InvalidPrefix(_))
        ));
        assert!(matches!(
            "10.0.0.0/+8".parse::<IpNet>(),
            Err(IpNetError::InvalidPrefix(_))
        ));
        assert!(matches!(
            "10.0.0.0/8/8".parse::<IpNet>(),
            Err(IpNetError::InvalidPrefix(_))
        ));
        assert!(matches!(
            "10.0.0.0/-1".parse::<IpNet>(),
            Err(IpNetError::InvalidPrefix(_))
        ));
        assert!(IpNet::new(ip("::"), 129).is_err());
        let message = "10.0.0.0/40".parse::<IpNet>().unwrap_err().to_string();
        assert!(message.contains("40"), "{message}");
    }

    #[test]
    fn contains_checks_the_prefix_bits_only() {
        let n = net("10.1.0.0/16");
        assert!(n.contains(ip("10.1.0.0")));
        assert!(n.contains(ip("10.1.255.255")));
        assert!(!n.contains(ip("10.2.0.0")));
        assert!(!n.contains(ip("::ffff:10.2.0.1")));
        assert!(
            n.contains(ip("::ffff:10.1.2.3")),
            "IPv4-mapped IPv6 counts as IPv4"
        );
        assert!(!n.contains(ip("2001:db8::1")));
        assert!(net("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(!net("0.0.0.0/0").contains(ip("2001:db8::1")));
        let v6 = net("2001:db8:abcd::/48");
        assert!(v6.contains(ip("2001:db8:abcd:ffff::1")));
        assert!(!v6.contains(ip("2001:db8:abce::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(net("::/0").contains(ip("::1")));
        assert!(net("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(!net("127.0.0.1").contains(ip("127.0.0.2")));
    }

    #[test]
    fn trusted_proxies_deserialize_from_a_list_of_strings() {
        let parsed: TrustedProxies =
            serde_json::from_str(r#"["127.0.0.1", "10.0.0.0/8", "::1"]"#).unwrap();
        assert_eq!(parsed, proxies("127.0.0.1, 10.0.0.0/8 ::1"));
        assert!(serde_json::from_str::<TrustedProxies>(r#"["10.0.0.0/99"]"#).is_err());
        assert!("10.0.0.0/8, nope".parse::<TrustedProxies>().is_err());
        assert_eq!(
            "".parse::<TrustedProxies>().unwrap(),
            TrustedProxies::default()
        );
    }

    #[test]
    fn header_from_an_untrusted_peer_is_ignored() {
        let trusted = proxies("10.0.0.0/8");
        let peer = ip("203.0.113.5");
        assert_eq!(client_ip(peer, Some("1.2.3.4"), &trusted), peer);
        assert_eq!(
            client_ip(peer, Some("1.2.3.4"), &TrustedProxies::default()),
            peer
        );
    }

    #[test]
    fn no_header_means_the_peer() {
        assert_eq!(
            client_ip(ip("10.0.0.1"), None, &proxies("10.0.0.0/8")),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn trusted_peer_yields_the_rightmost_untrusted_entry() {
        let trusted = proxies("10.0.0.0/8, 192.168.0.0/16");
        let peer = ip("10.0.0.1");
        assert_eq!(
            client_ip(peer, Some("198.51.100.7"), &trusted),
            ip("198.51.100.7")
        );
        // The client claims to be 1.1.1.1; our proxies added the real one on the right.
        assert_eq!(
            client_ip(peer, Some("1.1.1.1, 198.51.100.7, 192.168.3.4"), &trusted),
            ip("198.51.100.7")
        );
        // Whitespace variations and several joined headers.
        assert_eq!(
            client_ip(peer, Some("1.1.1.1,198.51.100.7 ,  10.9.9.9"), &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn every_entry_trusted_gives_the_leftmost() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            client_ip(ip("10.0.0.1"), Some("10.3.3.3, 10.2.2.2"), &trusted),
            ip("10.3.3.3")
        );
    }

    #[test]
    fn garbage_on_the_walk_falls_back_to_the_peer() {
        let trusted = proxies("10.0.0.0/8");
        let peer = ip("10.0.0.1");
        for header in [
            "",
            " ",
            "unknown",
            "not-an-ip",
            "1.2.3.4, ",
            "1.2.3.4,,10.1.1.1",
            "1.2.3.4; 5.6.7.8",
            "1.2.3.4:99999999",
            "[2001:db8::1]x",
            "<script>",
            "300.1.1.1",
        ] {
            assert_eq!(
                client_ip(peer, Some(header), &trusted),
                peer,
                "header {header:?}"
            );
        }
    }

    #[test]
    fn garbage_left_of_the_client_is_never_read() {
        let trusted = proxies("10.0.0.0/8");
        assert_eq!(
            client_ip(ip("10.0.0.1"), Some("garbage, , 198.51.100.7"), &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn ports_and_brackets_are_tolerated() {
        let trusted = proxies("10.0.0.0/8");
        let peer = ip("10.0.0.1");
        assert_eq!(
            client_ip(peer, Some("198.51.100.7:4711"), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(peer, Some("[2001:db8::7]:443"), &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_ip(peer, Some("[2001:db8::7]"), &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_ip(peer, Some("2001:db8::7"), &trusted),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn mapped_addresses_come_back_as_ipv4() {
        let trusted = proxies("127.0.0.1");
        // Dual-stack socket reports the proxy as ::ffff:127.0.0.1.
        assert_eq!(
            client_ip(
                ip("::ffff:127.0.0.1"),
                Some("::ffff:198.51.100.7"),
                &trusted
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("::ffff:203.0.113.1"), None, &trusted),
            ip("203.0.113.1")
        );
    }

    #[test]
    fn ipv6_proxies_work_too() {
        let trusted = proxies("fd00::/8, ::1");
        assert_eq!(
            client_ip(ip("::1"), Some("2001:db8::1, fd12::3"), &trusted),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn prefixes_are_slash_24_and_slash_64() {
        assert_eq!(ip_prefix(ip("203.0.113.77")), ip("203.0.113.0"));
        assert_eq!(ip_prefix(ip("::ffff:203.0.113.77")), ip("203.0.113.0"));
        assert_eq!(ip_prefix(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(ip_prefix(ip("::1")), ip("::"));
        assert_eq!(ip_prefix(ip("0.0.0.0")), ip("0.0.0.0"));
        assert_eq!(ip_prefix(ip("255.255.255.255")), ip("255.255.255.0"));
    }
}
