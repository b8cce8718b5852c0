//! Where public reads go: to a PostgreSQL streaming replica when `database.replica_urls` lists
//! some, else (and whenever a replica cannot answer) to the primary.
//!
//! # Reading one's own writes
//! A replica lags the primary by a little (usually milliseconds, more under load or while
//! replay is held up). So that a reader who just posted never reloads the page and misses their
//! own comment, every comment write answers with a signed **read marker**, `<until_ms>.<tag>`:
//! valid for `database.read_your_writes_secs` (10 s by default), it names nothing but its
//! expiry. The embed keeps it and sends it back as `fresh=<marker>` on its thread reads while
//! it lasts, and a read carrying a valid marker goes to the primary.
//!
//! Why a marker the client carries rather than the alternatives:
//! - a cookie would not travel: the API usually sits on another origin than the blog, and
//!   browsers block third-party cookies;
//! - a custom header would make every such read a CORS preflighted request (a second round trip);
//! - comparing the replica's replay position with the write's WAL position (LSN) is exact but
//!   needs that position in the marker and a query on the replica per read; a few seconds of
//!   primary reads for the one reader who wrote is simpler and costs the primary next to nothing.
//!
//! The marker is signed so that nobody can send every read to the primary at will; it is not a
//! secret (it grants nothing but a read from the primary, of what everybody may read).
//!
//! # Caches in front of replica reads
//! A page read from a replica may be older than the change that made a cache drop its copy (the
//! change is committed on the primary and announced at once; the replica replays it a little
//! later). A cache must therefore not keep such a page as if it were current: fill it from the
//! primary, or keep a page read from a replica only briefly.

use chrono::{DateTime, Utc};

use crate::db::DbConn;
use crate::error::AppError;
use crate::secrets::{Keys, Purpose};
use crate::service;
use crate::state::AppState;

/// Longest marker accepted for parsing (a real one is at most 20 + 1 + 32 characters).
const MAX_MARKER_LEN: usize = 64;

/// Which database a public read may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// A replica if there is one that answers, else the primary.
    Replica,
    /// The primary: the reader wrote something moments ago.
    Primary,
}

/// A marker for a reader who wrote at `now`: their reads go to the primary until it expires.
pub fn issue_marker(state: &AppState, now: DateTime<Utc>) -> String {
    let until_ms = now.timestamp_millis().saturating_add(
        i64::from(state.config.database.read_your_writes_secs).saturating_mul(1000),
    );
    marker(&state.keys, until_ms)
}

fn marker(keys: &Keys, until_ms: i64) -> String {
    let tag = keys.sign(Purpose::ReadMarker, until_ms.to_string());
    format!("{until_ms}.{tag}")
}

/// Where a read that came with `fresh` (the `fresh` query parameter, if any) goes at `now`.
/// A missing, malformed, forged or expired marker reads from a replica, as any reader does.
pub fn read_from(keys: &Keys, fresh: Option<&str>, now: DateTime<Utc>) -> ReadFrom {
    let Some(marker) = fresh.filter(|m| !m.is_empty() && m.len() <= MAX_MARKER_LEN) else {
        return ReadFrom::Replica;
    };
    let Some((until, tag)) = marker.split_once('.') else {
        return ReadFrom::Replica;
    };
    let Ok(until_ms) = until.parse::<i64>() else {
        return ReadFrom::Replica;
    };
    if until_ms <= now.timestamp_millis() || !keys.verify(Purpose::ReadMarker, until, tag) {
        return ReadFrom::Replica;
    }
    ReadFrom::Primary
}

/// Runs the read `f` on a replica (when `from` allows and one answers) or on the primary, off
/// the async executor. `f` may run twice: on a replica that fails mid-read, then on the primary.
pub async fn read<T, F>(state: &AppState, from: ReadFrom, f: F) -> Result<T, AppError>
where
    F: Fn(&AppState, &mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    if from == ReadFrom::Primary {
        state.metrics.public_read("fresh");
        return service::blocking(state, f).await;
    }
    if state.replicas.is_empty() {
        state.metrics.public_read("primary");
        return service::blocking(state, f).await;
    }
    let state = state.clone();
    actix_web::web::block(move || {
        let now_us = service::now().timestamp_micros();
        if let Some(answer) = state.replicas.read(now_us, |conn| f(&state, conn)) {
            state.metrics.public_read("replica");
            return answer;
        }
        state.metrics.public_read("primary");
        let mut conn = service::conn(&state)?;
        f(&state, &mut conn)
    })
    .await?
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn keys() -> Keys {
        Keys::new(vec![7; 32]).unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_fresh_marker_reads_from_the_primary_until_it_expires() {
        let marker = marker(&keys(), at(10).timestamp_millis());
        assert_eq!(read_from(&keys(), Some(&marker), at(0)), ReadFrom::Primary);
        assert_eq!(read_from(&keys(), Some(&marker), at(9)), ReadFrom::Primary);
        assert_eq!(read_from(&keys(), Some(&marker), at(10)), ReadFrom::Replica);
    }

    #[test]
    fn missing_malformed_and_forged_markers_read_from_a_replica() {
        let marker = marker(&keys(), at(10).timestamp_millis());
        let other = Keys::new(vec![8; 32]).unwrap();
        assert_eq!(read_from(&other, Some(&marker), at(0)), ReadFrom::Replica);
        let (_, tag) = marker.split_once('.').unwrap();
        let stretched = format!("{}.{tag}", at(3600).timestamp_millis());
        assert_eq!(
            read_from(&keys(), Some(&stretched), at(0)),
            ReadFrom::Replica
        );
        for bad in [
            "",
            "1",
            "x.y",
            ".",
            "99999999999999999999999.00",
            &"9".repeat(100),
        ] {
            assert_eq!(
                read_from(&keys(), Some(bad), at(0)),
                ReadFrom::Replica,
                "{bad}"
            );
        }
        assert_eq!(read_from(&keys(), None, at(0)), ReadFrom::Replica);
    }
}
