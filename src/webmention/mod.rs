//! Receiving Webmentions: `fetch` gets a source page safely, `page` reads it (is there a link
//! to the target, what does its `h-entry` say), `worker` leases queued mentions and hands what
//! it found to `service::webmentions`. `fetch` and `page` sit below `service`; the worker, like
//! `startup`, composes them.

pub mod dom;
pub mod fetch;
pub mod page;
pub mod worker;
