//! kith: a self-hostable comment engine.

pub mod spam;
