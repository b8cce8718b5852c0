//! Anti-spam building blocks: pure, storage-free and framework-free.
//!
//! Every item here takes its keys, clock readings and configuration as arguments; nothing keeps
//! global state, so two differently configured applications can live in one process.
//!
//! | module | what it gives the HTTP / service layer |
//! |---|---|
//! | [`client_ip`](mod@client_ip) | the client address behind trusted reverse proxies, and its /24 or /64 prefix |
//! | [`limiter`] | per-action rate limits keyed on the exact IP **and** its prefix |
//! | [`form_token`] | a signed, stateless "form shown at" token that rejects too-fast and stale posts |
//! | [`pow`] | a stateless signed proof-of-work challenge and its verifier |
//! | [`duplicate`] | a normalized fingerprint so trivially varied duplicates match |
//! | [`bayes`] | a small naive Bayes spam score that learns from moderation decisions |

pub mod bayes;
pub mod client_ip;
pub mod duplicate;
pub mod form_token;
pub mod limiter;
pub mod pow;

pub use bayes::{MIN_DOCS_PER_CLASS, Model, features};
pub use client_ip::{IpNet, IpNetError, TrustedProxies, client_ip, ip_prefix};
pub use duplicate::fingerprint;
pub use form_token::FormTokenError;
pub use limiter::{Action, LimiterError, Limiters, LimitsConfig, Quota, RetryAfter};
pub use pow::{PowDigest, PowError};
