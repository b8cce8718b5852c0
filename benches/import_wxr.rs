//! Times parsing a generated 100,000-comment WXR file (plain and gzipped).
//!
//! `cargo bench --bench import_wxr`. Not a test: prints timings and peak memory.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

use kith::import::{Format, detect, parse, summary};

fn big_wxr(n: usize) -> Vec<u8> {
    let mut s = String::with_capacity(n * 700);
    s.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel>",
    );
    let per_item = 100;
    for item in 0..n.div_ceil(per_item) {
        let _ = write!(
            s,
            "<item><title>Post {item}</title><link>https://example.com/p/{item}/</link>"
        );
        for j in 0..per_item.min(n - item * per_item) {
            let id = item * per_item + j + 1;
            let parent = if j % 3 == 2 { id - 1 } else { 0 };
            let _ = write!(
                s,
                "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_author><![CDATA[Author {id}]]></wp:comment_author>\
                 <wp:comment_author_email>a{id}@example.com</wp:comment_author_email><wp:comment_author_url>https://example.com/</wp:comment_author_url>\
                 <wp:comment_author_IP>192.0.2.1</wp:comment_author_IP><wp:comment_date>2020-01-01 10:00:00</wp:comment_date>\
                 <wp:comment_date_gmt>2020-01-01 09:00:00</wp:comment_date_gmt><wp:comment_content><![CDATA[<p>Comment {id} with a few words of text, as comments have.</p>]]></wp:comment_content>\
                 <wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type><wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
            );
        }
        s.push_str("</item>");
    }
    s.push_str("</channel></rss>");
    s.into_bytes()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
