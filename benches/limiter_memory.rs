//! Measures what the rate limiters' keyed state costs: the process's resident memory before and
//! after 100,000 distinct client addresses (each in its own /24, so both the address and the
//! prefix limiters grow), and after the periodic clean-up once their buckets have refilled.
//!
//! `cargo bench --bench limiter_memory`. Not a test: prints what it measured, with the date.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use kith::spam::limiter::{Action, Limiters, LimitsConfig};

/// The process's resident memory now, in KiB (`VmRSS`).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const ADDRESSES: u32 = 100_000;
    println!(
        "limiter_memory, run {} on {} cores",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let clock = FakeRelativeClock::default();
    let limiters = Limiters::with_clock(&LimitsConfig::default(), clock.clone())?;
    let before = rss_kib().ok_or("no /proc/self/status")?;
    for i in 0..ADDRESSES {
        // 10.a.b.1: every address in a /24 of its own.
        let ip = IpAddr::V4(Ipv4Addr::from(0x0A00_0001 | (i << 8)));
        let _ = limiters.check(Action::Post, ip);
    }
    let filled = rss_kib().ok_or("no /proc/self/status")?;
    let keys = limiters.len();
    clock.advance(Duration::from_secs(3600));
    limiters.retain_recent();
    let cleaned = rss_kib().ok_or("no /proc/self/status")?;
    let grown = filled.saturating_sub(before);
    println!(
        "{ADDRESSES} distinct addresses: {keys} keys, resident memory +{:.1} MiB ({} bytes per address); \
         after the clean-up {} keys, resident {:.1} MiB above the start",
        grown as f64 / 1024.0,
        grown * 1024 / u64::from(ADDRESSES),
        limiters.len(),
        cleaned.saturating_sub(before) as f64 / 1024.0,
    );
    Ok(())
}
