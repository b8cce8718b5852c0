//! Integration tests: the real application over HTTP, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_support;
mod helpers;
mod process;
mod smtp;

mod admin;
mod assets;
mod backup;
mod blns;
mod comments;
mod concurrency;
mod config;
mod control_chars;
mod cors;
mod csrf;
mod edit;
mod faults;
mod fuzz_corpus;
mod import;
mod links;
mod live;
mod logs;
mod mail;
mod mail_delivery;
mod metrics;
mod migrations;
mod moderation;
mod notifications;
mod openapi;
mod operations;
mod outage;
mod pagination;
mod rate_limits;
mod reading;
mod readme;
mod sanitizer;
mod shutdown;
mod site_cli;
mod spam;
mod transfer;
mod validation;
