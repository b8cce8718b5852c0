//! kith: a self-hostable comment and discussion engine.
//!
//! A request flows one way: `http` → `service` → (`domain`, `render`, `db`).

pub mod address;
pub mod changes;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod export;
pub mod http;
pub mod import;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod outbox;
pub mod render;
pub mod secrets;
pub mod service;
pub mod spam;
pub mod startup;
pub mod state;
pub mod webmention;
