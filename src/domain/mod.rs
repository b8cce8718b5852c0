//! Plain types and rules: no HTTP, no SQL.

pub mod admin;
pub mod avatar;
pub mod ban;
pub mod comment;
pub mod fields;
pub mod link;
pub mod mail;
pub mod moderation;
pub mod reaction;
pub mod reader;
pub mod site;
pub mod thread;
pub mod tree;
pub mod webhook;
pub mod webmention;
