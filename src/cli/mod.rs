//! Subcommands of the `kith` command line that have more than a few lines.

pub mod site;
