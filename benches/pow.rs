//! Rough timing of the proof of work: how long a solve takes at a few difficulties (a stand-in
//! for the browser, which is typically a few times slower than native code) and how long the
//! server spends verifying.
//!
//! Run with `cargo bench --bench pow -- [runs]` (default 20 runs per difficulty).

use std::time::{Duration, Instant};

use chrono::Utc;
use kith::spam::pow;

fn main() {
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(20)
        .max(1);
    let key = &match kith::secrets::Keys::new(vec![0x5a; 32]) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    for difficulty in [12u8, 16, 18, 20] {
        let mut solve_total = Duration::ZERO;
        let mut verify_total = Duration::ZERO;
        let mut failures = 0;
        for _ in 0..runs {
            let challenge = pow::issue_challenge(key, 1, difficulty, Utc::now());
            let started = Instant::now();
            let nonce = pow::solve(&challenge, difficulty);
            solve_total += started.elapsed();
            let started = Instant::now();
            let verdict = pow::verify(key, 1, &challenge, &nonce, Utc::now(), pow::DEFAULT_MAX_AGE);
            verify_total += started.elapsed();
            if verdict.is_err() {
                failures += 1;
            }
        }
        println!(
            "difficulty {difficulty:2}: solve {:>10.2?} avg, verify {:>8.2?} avg, {failures} failures over {runs} runs",
            solve_total / runs,
            verify_total / runs,
        );
    }
}
