//! Times parsing a generated 100,000-comment WXR file (plain and gzipped).
//!
//! `cargo bench --bench import_wxr`. Not a test: prints timings and peak memory.

use std::io::Write as _;
use std::time::Instant;

use kith::import::{Format, detect, parse, summary};

#[path = "support/big_wxr.rs"]
mod support;
use support::big_wxr;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "import_wxr, run {} on {} cores",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let n = 100_000;
    let bytes = big_wxr(n);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes)?;
    let gzipped = gz.finish()?;
    for (label, input) in [("plain", &bytes), ("gzip", &gzipped)] {
        let start = Instant::now();
        let format = detect(input).ok_or("not detected")?;
        let detected = start.elapsed();
        let data = parse(input, format)?;
        let total = start.elapsed();
        let s = summary(&data);
        assert_eq!(format, Format::WordPress);
        assert_eq!(s.comments, n);
        println!(
            "{label}: {} bytes, detect {:?}, detect+parse {:?} ({:.0} comments/s): {s}",
            input.len(),
            detected,
            total,
            n as f64 / total.as_secs_f64()
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS {} MiB", kib / 1024);
    }
    Ok(())
}
