//! Per-action rate limits keyed on the client address and on its network prefix.
//!
//! Each [`Action`] has its own pair of keyed GCRA limiters (governor): one keyed on the exact
//! client IP and one keyed on its [`ip_prefix`] (/24 or /64) whose quota is
//! [`LimitsConfig::prefix_multiplier`] times larger. A request passes only if both allow it, so a
//! single address is held to its own quota while a spammer hopping across a /24 or through the
//! 2^64 addresses of one IPv6 /64 runs into the shared prefix quota.
//!
//! The exact key is checked first and the prefix key only if that passed, so a flooding address
//! spends nothing from its neighbours' prefix budget once it is over its own limit.
//!
//! Keyed state grows with every new address; call [`Limiters::retain_recent`] periodically (say
//! once a minute) to drop addresses whose buckets have refilled. See the memory test at the
//! bottom of this file for the measured bound.

use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::RateLimiter;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use serde::Deserialize;

use super::client_ip::ip_prefix;

/// Something a client does that is rate limited separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Posting a new comment.
    Post,
    /// Editing or deleting one's own comment.
    Edit,
    /// Reporting a comment to the moderators.
    Report,
    /// Liking / voting on a comment.
    Like,
    /// Admin or moderator login attempts.
    Login,
    /// Rendering a markdown preview.
    Preview,
    /// Asking for comment counts (list pages).
    Counts,
    /// Asking for a mail to be sent (the "manage my comments" link, an e-mail sign-in link).
    Mail,
    /// Starting a sign-in with an OpenID Connect / OAuth provider (each start stores a flow).
    Signin,
}

impl Action {
    /// Every action, in a fixed order.
    pub const ALL: [Action; 9] = [
        Action::Post,
        Action::Edit,
        Action::Report,
        Action::Like,
        Action::Login,
        Action::Preview,
        Action::Counts,
        Action::Mail,
        Action::Signin,
    ];

    /// A stable lowercase name (for logs and metrics labels).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Post => "post",
            Action::Edit => "edit",
            Action::Report => "report",
            Action::Like => "like",
            Action::Login => "login",
            Action::Preview => "preview",
            Action::Counts => "counts",
            Action::Mail => "mail",
            Action::Signin => "signin",
        }
    }

    fn index(self) -> usize {
        match self {
            Action::Post => 0,
            Action::Edit => 1,
            Action::Report => 2,
            Action::Like => 3,
            Action::Login => 4,
            Action::Preview => 5,
            Action::Counts => 6,
            Action::Mail => 7,
            Action::Signin => 8,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sustained rate plus a burst allowance for one address.
///
/// `per_minute` cells refill evenly over a minute (5 means one every 12 s); `burst` is how many
/// may be spent at once from a full bucket. Both must be at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Sustained rate: cells refilled per minute.
    pub per_minute: u32,
    /// Bucket size: cells available at once.
    pub burst: u32,
}

impl Quota {
    /// A quota of `per_minute` refills and `burst` capacity.
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        Self { per_minute, burst }
    }

    fn scaled(self, factor: u32) -> Self {
        Self {
            per_minute: self.per_minute.saturating_mul(factor),
            burst: self.burst.saturating_mul(factor),
        }
    }

    fn to_governor(self, action: Action) -> Result<governor::Quota, LimiterError> {
        let invalid = || LimiterError::ZeroQuota { action };
        let per_minute = NonZeroU32::new(self.per_minute).ok_or_else(invalid)?;
        let burst = NonZeroU32::new(self.burst).ok_or_else(invalid)?;
        Ok(governor::Quota::per_minute(per_minute).allow_burst(burst))
    }
}

/// The `[rate_limits]` configuration section: one [`Quota`] per action for a single address, and the
/// factor by which the quota of a whole /24 (IPv4) or /64 (IPv6) is larger.
///
/// Defaults (per address; the prefix gets 4× both numbers):
///
/// | action | per minute | burst | reasoning |
/// |---|---|---|---|
/// | post   | 5  | 3  | a person writes a comment in well over 12 s; three quick replies are fine |
/// | edit   | 10 | 5  | fixing typos comes in small bursts |
/// | report | 5  | 5  | a reader may flag a handful of comments in one sitting |
/// | like   | 30 | 20 | cheap, clicky, but a script liking everything is noise |
/// | login  | 3  | 5  | slows password guessing to a few tries a minute |
/// | preview | 30 | 10 | a writer previews now and then; rendering costs more than reading |
/// | counts | 120 | 60 | one request per list page a reader opens |
/// | mail   | 2  | 3  | "manage my comments" and sign-in mails: each one lands in someone's inbox |
/// | signin | 6  | 10 | a reader starts a provider sign-in a few times at most; each start stores a flow |
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Posting comments.
    pub post: Quota,
    /// Editing or deleting own comments.
    pub edit: Quota,
    /// Reporting comments.
    pub report: Quota,
    /// Liking comments.
    pub like: Quota,
    /// Logging in.
    pub login: Quota,
    /// Markdown previews.
    pub preview: Quota,
    /// Comment-count requests.
    pub counts: Quota,
    /// Mails a reader asks for ("manage my comments", e-mail sign-in links).
    pub mail: Quota,
    /// Starting a sign-in with a provider (`…/auth/oidc/{provider}/start`).
    pub signin: Quota,
    /// How many times the per-address quota a whole /24 or /64 may use (default 4, at least 1).
    pub prefix_multiplier: u32,
    /// On PostgreSQL, also count every request that passed this process's limiter in the
    /// database, so that all kith processes on one database share one quota (default on).
    /// Ignored on SQLite, which has one process.
    pub shared: bool,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            post: Quota::new(5, 3),
            edit: Quota::new(10, 5),
            report: Quota::new(5, 5),
            like: Quota::new(30, 20),
            login: Quota::new(3, 5),
            preview: Quota::new(30, 10),
            counts: Quota::new(120, 60),
            mail: Quota::new(2, 3),
            signin: Quota::new(6, 10),
            prefix_multiplier: 4,
            shared: true,
        }
    }
}

impl LimitsConfig {
    /// The per-address quota for `action`.
    pub fn quota(&self, action: Action) -> Quota {
        match action {
            Action::Post => self.post,
            Action::Edit => self.edit,
            Action::Report => self.report,
            Action::Like => self.like,
            Action::Login => self.login,
            Action::Preview => self.preview,
            Action::Counts => self.counts,
            Action::Mail => self.mail,
            Action::Signin => self.signin,
        }
    }

    /// Checks that every number is at least 1 (what [`Limiters::new`] requires).
    ///
    /// # Errors
    /// The first offending setting.
    pub fn validate(&self) -> Result<(), LimiterError> {
        if self.prefix_multiplier == 0 {
            return Err(LimiterError::ZeroPrefixMultiplier);
        }
        for action in Action::ALL {
            let quota = self.quota(action);
            quota.to_governor(action)?;
            quota.scaled(self.prefix_multiplier).to_governor(action)?;
        }
        Ok(())
    }
}

/// One bucket of the quota shared through the database: a GCRA (generic cell rate algorithm)
/// bucket, the same algorithm governor runs in memory, kept as one row per key.
///
/// A bucket holds a theoretical arrival time `tat`. A request at `now` is let through when
/// `max(tat, now) + emission - now <= burst_span`, and then moves `tat` to
/// `max(tat, now) + emission`; otherwise it waits `tat + emission - burst_span - now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedBucket {
    /// The row's key: `post:192.0.2.7` for an address, `post:192.0.2.0/24` for its network.
    pub key: String,
    /// Microseconds per cell at the sustained rate.
    pub emission_us: i64,
    /// `emission_us` times the burst: how far ahead of now `tat` may run.
    pub burst_us: i64,
}

impl SharedBucket {
    fn new(key: String, quota: Quota) -> Self {
        let per_minute = i64::from(quota.per_minute.max(1));
        let emission_us = (60_000_000 / per_minute).max(1);
        Self {
            key,
            emission_us,
            burst_us: emission_us.saturating_mul(i64::from(quota.burst.max(1))),
        }
    }
}

/// What the shared buckets said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedVerdict {
    Allowed,
    /// Over quota: wait this many microseconds.
    Refused {
        wait_us: i64,
    },
}

impl SharedVerdict {
    /// The verdict of one bucket, from the row it returned: `tat_us` after the request, and
    /// whether the request was let through.
    pub fn of_bucket(now_us: i64, tat_us: i64, bucket: &SharedBucket, allowed: bool) -> Self {
        if allowed {
            SharedVerdict::Allowed
        } else {
            let wait_us = tat_us
                .saturating_add(bucket.emission_us)
                .saturating_sub(bucket.burst_us)
                .saturating_sub(now_us);
            SharedVerdict::Refused {
                wait_us: wait_us.max(0),
            }
        }
    }

    /// The refusal as a [`RetryAfter`], or `None` when allowed.
    pub fn retry_after(self) -> Option<RetryAfter> {
        match self {
            SharedVerdict::Allowed => None,
            SharedVerdict::Refused { wait_us } => Some(RetryAfter::from_wait(
                Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
            )),
        }
    }
}

impl LimitsConfig {
    /// The two shared buckets a request of `action` from `ip` spends from: its address's and
    /// its network's (/24 or /64, with the quota times `prefix_multiplier`). Same keys and
    /// numbers in every process with the same configuration.
    pub fn shared_buckets(&self, action: Action, ip: IpAddr) -> (SharedBucket, SharedBucket) {
        let ip = ip.to_canonical();
        let quota = self.quota(action);
        let prefix_len = if ip.is_ipv4() { 24 } else { 64 };
        (
            SharedBucket::new(format!("{action}:{ip}"), quota),
            SharedBucket::new(
                format!("{action}:{}/{prefix_len}", ip_prefix(ip)),
                quota.scaled(self.prefix_multiplier.max(1)),
            ),
        )
    }
}

/// Why a [`LimitsConfig`] cannot be turned into limiters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimiterError {
    /// A quota has `per_minute = 0` or `burst = 0`.
    #[error("limits.{action}: per_minute and burst must both be at least 1")]
    ZeroQuota {
        /// The action whose quota is invalid.
        action: Action,
    },
    /// `prefix_multiplier = 0` would block every request.
    #[error("limits.prefix_multiplier must be at least 1")]
    ZeroPrefixMultiplier,
}

/// A request was refused; the client may retry after this long (whole seconds, at least 1),
/// ready for a `Retry-After` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rate limited: retry after {} s", .0.as_secs())]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Rounds `wait` up to whole seconds, at least one.
    pub fn from_wait(wait: Duration) -> Self {
        let mut secs = wait.as_secs();
        if wait.subsec_nanos() > 0 {
            secs = secs.saturating_add(1);
        }
        Self(Duration::from_secs(secs.max(1)))
    }

    /// The number of seconds, for the `Retry-After` header.
    pub fn secs(&self) -> u64 {
        self.0.as_secs()
    }
}

type Keyed<C> =
    RateLimiter<IpAddr, DashMapStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

struct Pair<C: Clock> {
    exact: Keyed<C>,
    prefix: Keyed<C>,
}

/// The rate limiters of one application: two keyed limiters per [`Action`].
///
/// Cheap to share (`Send + Sync`; put it in the app state behind an `Arc`). Generic over the
/// clock so tests can use governor's `FakeRelativeClock`; production uses the default clock via
/// [`Limiters::new`].
pub struct Limiters<C: Clock = DefaultClock> {
    clock: C,
    pairs: Vec<Pair<C>>,
}

impl<C: Clock> fmt::Debug for Limiters<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiters")
            .field("keys", &self.len())
            .finish_non_exhaustive()
    }
}

impl Limiters<DefaultClock> {
    /// Limiters on the real (monotonic) clock.
    ///
    /// # Errors
    /// See [`LimitsConfig::validate`].
    pub fn new(config: &LimitsConfig) -> Result<Self, LimiterError> {
        Self::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Limiters<C> {
    /// Limiters on a clock of your choice (tests inject `FakeRelativeClock`).
    ///
    /// # Errors
    /// See [`LimitsConfig::validate`].
    pub fn with_clock(config: &LimitsConfig, clock: C) -> Result<Self, LimiterError> {
        config.validate()?;
        let mut pairs = Vec::with_capacity(Action::ALL.len());
        for action in Action::ALL {
            let quota = config.quota(action);
            let exact = quota.to_governor(action)?;
            let prefix = quota.scaled(config.prefix_multiplier).to_governor(action)?;
            pairs.push(Pair {
                exact: RateLimiter::dashmap_with_clock(exact, clock.clone()),
                prefix: RateLimiter::dashmap_with_clock(prefix, clock.clone()),
            });
        }
        Ok(Self { clock, pairs })
    }
}

impl<C: Clock> Limiters<C> {
    /// Spends one cell of `action` for `ip` (the exact address, then its prefix).
    ///
    /// `ip` should come from [`client_ip`](fn@super::client_ip::client_ip); IPv4-mapped IPv6 is
    /// treated as IPv4.
    ///
    /// # Errors
    /// [`RetryAfter`] when either the address or its prefix is over quota.
    pub fn check(&self, action: Action, ip: IpAddr) -> Result<(), RetryAfter> {
        let Some(pair) = self.pairs.get(action.index()) else {
            // Unreachable: `pairs` has one entry per action. Refusing is the safe answer.
            return Err(RetryAfter::from_wait(Duration::from_secs(60)));
        };
        let ip = ip.to_canonical();
        let now = self.clock.now();
        pair.exact
            .check_key(&ip)
            .map_err(|not_until| RetryAfter::from_wait(not_until.wait_time_from(now)))?;
        pair.prefix
            .check_key(&ip_prefix(ip))
            .map_err(|not_until| RetryAfter::from_wait(not_until.wait_time_from(now)))?;
        Ok(())
    }

    /// Forgets every key whose bucket has refilled (indistinguishable from a fresh key) and
    /// returns memory to the allocator. Call it periodically, e.g. once a minute.
    pub fn retain_recent(&self) {
        for pair in &self.pairs {
            pair.exact.retain_recent();
            pair.exact.shrink_to_fit();
            pair.prefix.retain_recent();
            pair.prefix.shrink_to_fit();
        }
    }

    /// The number of keys held across all limiters (exact and prefix, every action).
    pub fn len(&self) -> usize {
        self.pairs
            .iter()
            .map(|pair| pair.exact.len() + pair.prefix.len())
            .sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use governor::clock::FakeRelativeClock;
    use governor::state::InMemoryState;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn fake(config: &LimitsConfig) -> (Limiters<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (Limiters::with_clock(config, clock.clone()).unwrap(), clock)
    }

    fn passes(
        limiters: &Limiters<FakeRelativeClock>,
        action: Action,
        addr: IpAddr,
        n: usize,
    ) -> usize {
        (0..n)
            .filter(|_| limiters.check(action, addr).is_ok())
            .count()
    }

    #[test]
    fn limiters_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Limiters>();
        assert_send_sync::<Limiters<FakeRelativeClock>>();
    }

    #[test]
    fn real_clock_limiters_build_from_defaults() {
        let limiters = Limiters::new(&LimitsConfig::default()).unwrap();
        assert!(limiters.is_empty());
        assert!(limiters.check(Action::Post, ip("192.0.2.1")).is_ok());
        assert_eq!(limiters.len(), 2);
    }

    #[test]
    fn flood_from_one_ip_is_held_to_its_burst_while_another_ip_passes() {
        let (limiters, _clock) = fake(&LimitsConfig::default());
        let flooder = ip("198.51.100.1");
        assert_eq!(
            passes(&limiters, Action::Post, flooder, 1000),
            3,
            "burst of 3"
        );
        let refused = limiters.check(Action::Post, flooder).unwrap_err();
        assert_eq!(
            refused,
            RetryAfter(Duration::from_secs(12)),
            "5/min refills every 12 s"
        );
        // Another address in another /24, and even one in the same /24, still passes.
        assert!(limiters.check(Action::Post, ip("203.0.113.9")).is_ok());
        assert!(limiters.check(Action::Post, ip("198.51.100.2")).is_ok());
        // Other actions of the flooder are unaffected.
        assert!(limiters.check(Action::Like, flooder).is_ok());
    }

    #[test]
    fn quota_refills_at_the_sustained_rate() {
        let (limiters, clock) = fake(&LimitsConfig::default());
        let addr = ip("198.51.100.1");
        assert_eq!(passes(&limiters, Action::Post, addr, 10), 3);
        clock.advance(Duration::from_secs(11));
        let wait = limiters.check(Action::Post, addr).unwrap_err();
        assert_eq!(wait.secs(), 1);
        clock.advance(Duration::from_secs(1));
        assert_eq!(passes(&limiters, Action::Post, addr, 10), 1);
        clock.advance(Duration::from_secs(60));
        assert_eq!(
            passes(&limiters, Action::Post, addr, 10),
            3,
            "full again, capped at burst"
        );
    }

    #[test]
    fn exhausting_a_slash_24_blocks_new_ips_there_but_not_in_another_slash_24() {
        let (limiters, _clock) = fake(&LimitsConfig::default());
        // Prefix burst is 4 × 3 = 12: four addresses with 3 posts each use it up.
        let mut passed = 0;
        for host in 1..=10u8 {
            passed += passes(
                &limiters,
                Action::Post,
                IpAddr::V4(Ipv4Addr::new(198, 51, 100, host)),
                3,
            );
        }
        assert_eq!(passed, 12);
        let newcomer = limiters.check(Action::Post, ip("198.51.100.200"));
        assert!(newcomer.is_err(), "fresh address in an exhausted /24");
        assert!(
            limiters.check(Action::Post, ip("198.51.101.200")).is_ok(),
            "next /24"
        );
    }

    #[test]
    fn hopping_through_an_ipv6_slash_64_is_caught_by_the_prefix() {
        let (limiters, _clock) = fake(&LimitsConfig::default());
        let base = u128::from("2001:db8:1:2::".parse::<Ipv6Addr>().unwrap());
        let passed = (1..=100u128)
            .filter(|i| {
                limiters
                    .check(Action::Post, IpAddr::V6(Ipv6Addr::from(base + i)))
                    .is_ok()
            })
            .count();
        assert_eq!(passed, 12);
        assert!(
            limiters.check(Action::Post, ip("2001:db8:1:3::1")).is_ok(),
            "next /64"
        );
    }

    #[test]
    fn mapped_ipv4_shares_the_key_of_plain_ipv4() {
        let (limiters, _clock) = fake(&LimitsConfig::default());
        assert_eq!(passes(&limiters, Action::Post, ip("192.0.2.1"), 3), 3);
        assert!(
            limiters
                .check(Action::Post, ip("::ffff:192.0.2.1"))
                .is_err()
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_of_at_least_one() {
        assert_eq!(RetryAfter::from_wait(Duration::ZERO).secs(), 1);
        assert_eq!(RetryAfter::from_wait(Duration::from_millis(1)).secs(), 1);
        assert_eq!(RetryAfter::from_wait(Duration::from_millis(1001)).secs(), 2);
        assert_eq!(RetryAfter::from_wait(Duration::from_secs(7)).secs(), 7);
        assert_eq!(
            RetryAfter::from_wait(Duration::from_secs(7)).to_string(),
            "rate limited: retry after 7 s"
        );
    }

    #[test]
    fn zero_quotas_are_rejected() {
        let mut config = LimitsConfig::default();
        config.like.burst = 0;
        assert_eq!(
            Limiters::new(&config).unwrap_err(),
            LimiterError::ZeroQuota {
                action: Action::Like
            }
        );
        let config = LimitsConfig {
            prefix_multiplier: 0,
            ..LimitsConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err(),
            LimiterError::ZeroPrefixMultiplier
        );
        assert!(LimitsConfig::default().validate().is_ok());
    }

    #[test]
    fn config_deserializes_with_defaults_for_missing_actions() {
        let config: LimitsConfig = serde_json::from_str(
            r#"{"post": {"per_minute": 2, "burst": 1}, "prefix_multiplier": 8}"#,
        )
        .unwrap();
        assert_eq!(config.post, Quota::new(2, 1));
        assert_eq!(config.like, LimitsConfig::default().like);
        assert_eq!(config.prefix_multiplier, 8);
        assert!(
            serde_json::from_str::<LimitsConfig>(r#"{"psot": {"per_minute": 2, "burst": 1}}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<LimitsConfig>(r#"{"post": {"per_minute": 2}}"#).is_err());
    }

    #[test]
    fn shared_buckets_are_keyed_on_the_address_and_its_network() {
        let config = LimitsConfig::default();
        let (exact, prefix) = config.shared_buckets(Action::Post, ip("::ffff:192.0.2.7"));
        assert_eq!(exact.key, "post:192.0.2.7");
        assert_eq!(prefix.key, "post:192.0.2.0/24");
        // 5 a minute: one cell every 12 s, a burst of 3; the /24 gets 4 times both.
        assert_eq!(
            (exact.emission_us, exact.burst_us),
            (12_000_000, 36_000_000)
        );
        assert_eq!(
            (prefix.emission_us, prefix.burst_us),
            (3_000_000, 36_000_000)
        );
        let (exact, prefix) = config.shared_buckets(Action::Like, ip("2001:db8:1:2::9"));
        assert_eq!(exact.key, "like:2001:db8:1:2::9");
        assert_eq!(prefix.key, "like:2001:db8:1:2::/64");
    }

    #[test]
    fn a_refused_shared_bucket_says_how_long_to_wait() {
        let (exact, _) = LimitsConfig::default().shared_buckets(Action::Post, ip("192.0.2.1"));
        // Three posts at t = 0 left tat at 36 s; the fourth may come when tat + 12 s - 36 s
        // has passed, i.e. at 12 s.
        let refused = SharedVerdict::of_bucket(2_000_000, 36_000_000, &exact, false);
        assert_eq!(
            refused,
            SharedVerdict::Refused {
                wait_us: 10_000_000
            }
        );
        assert_eq!(
            refused.retry_after(),
            Some(RetryAfter(Duration::from_secs(10)))
        );
        assert_eq!(
            SharedVerdict::of_bucket(2_000_000, 36_000_000, &exact, true).retry_after(),
            None
        );
    }

    /// Memory: every distinct address costs one entry in the exact map and (for new prefixes)
    /// one in the prefix map of the action used. An entry is `(IpAddr, InMemoryState)`:
    /// 17 bytes of key padded to 24, plus an 8-byte atomic = 32 bytes, plus one control byte in
    /// the hashbrown table, at a load factor of at most 7/8 and with power-of-two growth, so at
    /// worst about 2 × 8/7 × 33 ≈ 76 bytes per key (≈ 7.6 MB for 100,000 keys, before the
    /// periodic `retain_recent`). After `retain_recent` past the refill window nothing is left.
    #[test]
    fn memory_stays_bounded_under_100k_distinct_ips() {
        const ENTRY_BYTES: usize = 32;
        assert_eq!(std::mem::size_of::<IpAddr>(), 17);
        assert_eq!(std::mem::size_of::<InMemoryState>(), 8);
        assert!(std::mem::size_of::<(IpAddr, InMemoryState)>() <= ENTRY_BYTES);
        let bytes_per_key_bound = 2 * (ENTRY_BYTES + 1) * 8 / 7 + 1;

        let (limiters, clock) = fake(&LimitsConfig::default());
        let n: u32 = 100_000;
        for i in 0..n {
            // Spread over distinct /24s (i << 8), so both maps grow by one key per address.
            let addr = IpAddr::V4(Ipv4Addr::from(0x0B00_0000u32 + (i << 8) + 1));
            assert!(limiters.check(Action::Post, addr).is_ok());
        }
        let peak = limiters.len();
        assert_eq!(
            peak,
            2 * n as usize,
            "one exact and one prefix key per address"
        );
        let peak_bytes = peak * bytes_per_key_bound;
        assert!(
            peak_bytes < 16 * 1024 * 1024,
            "peak estimate {peak_bytes} bytes"
        );
        println!("peak keys {peak}, ≤ {bytes_per_key_bound} B/key, ≤ {peak_bytes} B");

        // Still within the window: recent keys are kept.
        limiters.retain_recent();
        assert_eq!(limiters.len(), peak);

        // One sustained interval (12 s for post) after the last hit, every bucket is full again.
        clock.advance(Duration::from_secs(60));
        limiters.retain_recent();
        assert_eq!(limiters.len(), 0);

        // A new wave reuses the (shrunk) maps without surprises.
        for i in 0..1000u32 {
            let addr = IpAddr::V4(Ipv4Addr::from(0x0C00_0000u32 + (i << 8)));
            assert!(limiters.check(Action::Post, addr).is_ok());
        }
        assert_eq!(limiters.len(), 2000);
    }
}
