//! The lease queries every outbox table shares (`mail_outbox`, `webhook_deliveries`,
//! `webmentions`): rows with `id`, `status`, `next_attempt_at` and `locked_until` columns, due
//! when pending, `next_attempt_at` has come and no live lease is on them. A lease is a time in
//! `locked_until`, set by a conditional update, so of several workers (in one process or in
//! many sharing the database) only one gets a row, and a row leased by a process that died is
//! due again once its lease lapses. The worker that uses them is `crate::outbox`.
//!
//! The tables' columns have the same names but are different diesel types, so the queries are
//! written once in [`lease_queries!`] and expanded in each table's module.

use chrono::NaiveDateTime;

use super::DbConn;
use crate::error::AppError;

/// One table's lease queries as plain functions, for `crate::outbox::Outbox::LEASES`.
#[derive(Clone, Copy)]
pub struct Leases {
    /// Ids of pending rows that are due and not leased, oldest first, at most `limit`.
    pub list_due_ids: fn(&mut DbConn, NaiveDateTime, i64) -> Result<Vec<i64>, AppError>,
    /// Leases a due row until the second time; `true` for the one worker that got it.
    pub claim: fn(&mut DbConn, i64, NaiveDateTime, NaiveDateTime) -> Result<bool, AppError>,
    /// Gives up the lease on a pending row, so it is due again at once.
    pub release_lease: fn(&mut DbConn, i64) -> Result<(), AppError>,
}

/// Writes `list_due_ids`, `claim`, `release_lease` and a `LEASES` constant for an outbox
/// table: `lease_queries!(table, pending = <the pending status value>)`. With
/// `sent = <the sent status value>` it also writes `delete_sent_before`.
macro_rules! lease_queries {
    ($table:ident, pending = $pending:expr, sent = $sent:expr) => {
        $crate::db::outbox::lease_queries!($table, pending = $pending);

        /// Deletes sent rows created before `before`; returns how many.
        pub fn delete_sent_before(
            conn: &mut $crate::db::DbConn,
            before: ::chrono::NaiveDateTime,
        ) -> Result<usize, $crate::error::AppError> {
            use ::diesel::prelude::*;
            Ok(::diesel::delete(
                $table::table
                    .filter($table::status.eq($sent))
                    .filter($table::created_at.lt(before)),
            )
            .execute(conn)?)
        }
    };
    ($table:ident, pending = $pending:expr) => {
        /// This table's lease queries, for the outbox worker.
        pub const LEASES: $crate::db::outbox::Leases = $crate::db::outbox::Leases {
            list_due_ids,
            claim,
            release_lease,
        };

        /// Ids of pending rows that are due and not leased by a worker, oldest first.
        pub fn list_due_ids(
            conn: &mut $crate::db::DbConn,
            now: ::chrono::NaiveDateTime,
            limit: i64,
        ) -> Result<Vec<i64>, $crate::error::AppError> {
            use ::diesel::prelude::*;
            Ok($table::table
                .filter($table::status.eq($pending))
                .filter($table::next_attempt_at.le(now))
                .filter(
                    $table::locked_until
                        .is_null()
                        .or($table::locked_until.lt(now)),
                )
                .order($table::id.asc())
                .select($table::id)
                .limit(limit)
                .load(conn)?)
        }

        /// Leases a due row to this worker until `until`. Only one of several concurrent
        /// workers (in one process or many sharing the database) gets `true` for the same row.
        pub fn claim(
            conn: &mut $crate::db::DbConn,
            id: i64,
            now: ::chrono::NaiveDateTime,
            until: ::chrono::NaiveDateTime,
        ) -> Result<bool, $crate::error::AppError> {
            use ::diesel::prelude::*;
            let changed = ::diesel::update(
                $table::table
                    .filter($table::id.eq(id))
                    .filter($table::status.eq($pending))
                    .filter($table::next_attempt_at.le(now))
                    .filter(
                        $table::locked_until
                            .is_null()
                            .or($table::locked_until.lt(now)),
                    ),
            )
            .set($table::locked_until.eq(Some(until)))
            .execute(conn)?;
            Ok(changed == 1)
        }

        /// Gives up the lease on a pending row this worker did not finish (shutdown, or a
        /// newer request arrived during the attempt), so it is due again.
        pub fn release_lease(
            conn: &mut $crate::db::DbConn,
            id: i64,
        ) -> Result<(), $crate::error::AppError> {
            use ::diesel::prelude::*;
            ::diesel::update(
                $table::table
                    .filter($table::id.eq(id))
                    .filter($table::status.eq($pending)),
            )
            .set($table::locked_until.eq(None::<::chrono::NaiveDateTime>))
            .execute(conn)?;
            Ok(())
        }
    };
}

pub(crate) use lease_queries;
