//! The only place that speaks diesel: one code path over PostgreSQL and SQLite.

pub mod admins;
pub mod backup;
pub mod bans;
pub mod changes;
pub mod columns;
pub mod comments;
pub mod digests;
pub mod keys;
pub mod mail;
pub mod oidc_flows;
pub mod outbox;
pub mod pool;
pub mod queue;
pub mod rate_limits;
pub mod reactions;
pub mod readers;
pub mod replicas;
pub mod schema;
pub mod sites;
pub mod spam;
pub mod threads;
pub mod votes;
pub mod webhooks;
pub mod webmentions;

pub use pool::{Backend, DbConn, DbPool, connect, run_migrations, write_tx};
