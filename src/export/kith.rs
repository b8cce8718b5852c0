//! kith's own lossless JSON format (read back by `import::parse(.., Format::Kith)`).

use std::io::Write;

use crate::import::ImportData;
use crate::import::kith::{FORMAT_MARKER, KithFileRef, VERSION};

/// Writes `data.threads` as kith JSON (pretty-printed, UTF-8). `skipped` and `notes` are
/// import-time reports and are not written.
pub fn write(data: &ImportData, out: impl Write) -> std::io::Result<()> {
    let file = KithFileRef {
        format: FORMAT_MARKER,
        version: VERSION,
        exported_at: Some(chrono::Utc::now()),
        threads: &data.threads,
    };
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, &file).map_err(std::io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}
