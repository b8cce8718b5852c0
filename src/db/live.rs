//! Live updates across processes on PostgreSQL: `NOTIFY` on one channel, and a connection of
//! its own that `LISTEN`s and hands each payload to the process's hub. SQLite has no other
//! process to tell.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConn;
use crate::error::AppError;

/// The channel every kith process listens on.
const CHANNEL: &str = "kith_live";
/// How often the listening connection looks for notifications (libpq delivers them to a
/// connection that asks; diesel exposes no socket to wait on).
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// First wait before reconnecting after the database went away; doubles up to the maximum.
const RECONNECT_MIN: Duration = Duration::from_millis(500);
const RECONNECT_MAX: Duration = Duration::from_secs(30);

/// Sends `payload` to every listening process, this one included, once the surrounding
/// transaction (if any) commits. Returns false on SQLite, where nothing was sent.
pub fn notify(conn: &mut DbConn, payload: &str) -> Result<bool, AppError> {
    match conn {
        DbConn::Pg(pg) => {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(payload)
                .execute(pg)?;
            Ok(true)
        }
        DbConn::Sqlite(_) => Ok(false),
    }
}

/// Listens on PostgreSQL `url` until `stopped()` holds, passing every payload to `deliver`.
/// Reconnects after the database goes away (notifications sent meanwhile are lost), telling
/// `listening` when it starts and stops listening. Runs on a thread of its own.
pub fn listen(
    url: &str,
    stopped: &dyn Fn() -> bool,
    deliver: &dyn Fn(&str),
    listening: &dyn Fn(bool),
) {
    let mut wait = RECONNECT_MIN;
    let mut first = true;
    while !stopped() {
        let mut conn = match PgConnection::establish(url)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                conn.batch_execute(&format!("LISTEN {CHANNEL}"))
                    .map(|()| conn)
                    .map_err(|e| e.to_string())
            }) {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "live updates: cannot listen on the database; retrying");
                std::thread::sleep(wait);
                wait = (wait * 2).min(RECONNECT_MAX);
                continue;
            }
        };
        wait = RECONNECT_MIN;
        if !first {
            tracing::info!("live updates: listening on the database again");
        }
        first = false;
        listening(true);
        'poll: while !stopped() {
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(notification) => deliver(&notification.payload),
                    Err(error) => {
                        tracing::warn!(%error, "live updates: lost the listening connection");
                        listening(false);
                        break 'poll;
                    }
                }
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}
