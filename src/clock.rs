//! The time the digest scheduler goes by: the system clock in production, a clock that tests
//! set and advance (no sleeping, no global state). It lives in the `AppState`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

use crate::domain::comment::truncate_to_micros;

/// A clock; clones share one time source.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock.
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands still at `start` until set or advanced (tests).
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(truncate_to_micros(start)))),
        }
    }

    /// Now, to the microsecond (what both databases keep).
    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            None => truncate_to_micros(Utc::now()),
            Some(time) => *time
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// Sets a manual clock; the system clock ignores it.
    pub fn set(&self, to: DateTime<Utc>) {
        if let Some(time) = &self.manual {
            *time
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = truncate_to_micros(to);
        }
    }

    /// Moves a manual clock forward; the system clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Some(time) = &self.manual {
            let mut time = time
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *time += by;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let start = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let clock = Clock::manual(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        other.advance(Duration::hours(2));
        assert_eq!(clock.now(), start + Duration::hours(2));
        clock.set(start);
        assert_eq!(other.now(), start);
        let system = Clock::system();
        system.set(start);
        assert!(system.now() > start);
    }
}
