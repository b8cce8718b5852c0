//! The admin area's use-cases: accounts and sessions, moderation, bans, threads, sites.

pub mod auth;
pub mod moderate;
pub mod site_admin;
