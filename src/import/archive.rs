//! Transparent unpacking of gzip and zip files.
//!
//! A zip must hold exactly one `.xml` or `.json` file (directories and macOS `__MACOSX/` or
//! dot-file clutter are ignored); none, or two, is an error. Unpacked size is capped so that a
//! small archive cannot expand without bound.

use std::borrow::Cow;
use std::io::{Cursor, Read};

use super::ImportError;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const ZIP_EMPTY_MAGIC: &[u8] = b"PK\x05\x06";

/// The most an archive may unpack to.
pub const MAX_UNPACKED: u64 = 2 * 1024 * 1024 * 1024;

/// The content of `bytes`, gunzipped or unzipped when it is an archive; otherwise `bytes`
/// itself.
pub fn unpack(bytes: &[u8]) -> Result<Cow<'_, [u8]>, ImportError> {
    if bytes.starts_with(GZIP_MAGIC) {
        let mut out = Vec::new();
        let mut decoder = flate2::read::MultiGzDecoder::new(bytes).take(MAX_UNPACKED + 1);
        decoder.read_to_end(&mut out).map_err(|e| {
            ImportError::at(
                format!("cannot decompress the gzip file: {e}"),
                format!("byte {} of the unpacked data", out.len()),
            )
        })?;
        check_size(out.len())?;
        Ok(Cow::Owned(out))
    } else if bytes.starts_with(ZIP_MAGIC) || bytes.starts_with(ZIP_EMPTY_MAGIC) {
        unzip(bytes).map(Cow::Owned)
    } else {
        Ok(Cow::Borrowed(bytes))
    }
}

fn check_size(len: usize) -> Result<(), ImportError> {
    if len as u64 > MAX_UNPACKED {
        return Err(ImportError::new(format!(
            "the archive unpacks to more than {MAX_UNPACKED} bytes; unpack it yourself and import the file"
        )));
    }
    Ok(())
}

fn unzip(bytes: &[u8]) -> Result<Vec<u8>, ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ImportError::new(format!("cannot read the zip file: {e}")))?;
    let mut candidates: Vec<(usize, String)> = Vec::new();
    for i in 0..archive.len() {
        let file = archive
            .by_index(i)
            .map_err(|e| ImportError::new(format!("cannot read zip entry {}: {e}", i + 1)))?;
        if file.is_dir() {
            continue;
        }
        let name = file
            .name()
            .map_err(|e| ImportError::new(format!("zip entry {} has a bad name: {e}", i + 1)))?
            .into_owned();
        let base = name.rsplit('/').next().unwrap_or(&name);
        if name.starts_with("__MACOSX/") || base.starts_with('.') {
            continue;
        }
        let lower = base.to_ascii_lowercase();
        if lower.ends_with(".xml") || lower.ends_with(".json") {
            candidates.push((i, name));
        }
    }
    match candidates.as_slice() {
        [] => Err(ImportError::new(
            "the zip file contains no .xml or .json file; expected exactly one",
        )),
        [(i, name)] => {
            let file = archive.by_index(*i).map_err(|e| {
                ImportError::new(format!("cannot read {name} in the zip file: {e}"))
            })?;
            let mut out = Vec::new();
            file.take(MAX_UNPACKED + 1)
                .read_to_end(&mut out)
                .map_err(|e| {
                    ImportError::new(format!("cannot unpack {name} from the zip file: {e}"))
                })?;
            check_size(out.len())?;
            Ok(out)
        }
        many => {
            let names: Vec<&str> = many.iter().map(|(_, n)| n.as_str()).collect();
            Err(ImportError::new(format!(
                "the zip file contains {} files ({}); expected exactly one .xml or .json file",
                many.len(),
                names.join(", ")
            )))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::test_support::fixture;
    use super::*;

    #[test]
    fn gz_fixtures_unpack_to_their_unpacked_twins() {
        for name in [
            "comentario-bad-format.json",
            "comentario-bad-version.json",
            "comentario-ok-empty-v1.json",
            "comentario-ok-single-v3.json",
            "disqus-ok-single.xml",
        ] {
            let packed = fixture(&format!("comentario/{name}.gz"));
            let plain = fixture(&format!("comentario/unpacked/{name}"));
            assert_eq!(
                unpack(&packed).unwrap().as_ref(),
                plain.as_slice(),
                "{name}"
            );
        }
    }

    #[test]
    fn zip_rules() {
        let single = fixture("comentario/wordpress-ok-single.zip");
        let plain = fixture("comentario/unpacked/wordpress-ok-single.xml");
        assert_eq!(unpack(&single).unwrap().as_ref(), plain.as_slice());
        let err = unpack(&fixture("comentario/wordpress-bad-no-files.zip")).unwrap_err();
        assert!(err.message.contains("no .xml or .json file"), "{err}");
        let err = unpack(&fixture("comentario/wordpress-bad-two-files.zip")).unwrap_err();
        assert!(err.message.contains("2 files"), "{err}");
        assert!(err.message.contains("wordpress-ok-single.xml"), "{err}");
    }

    #[test]
    fn plain_bytes_pass_through_and_broken_gzip_is_an_error() {
        assert!(matches!(unpack(b"<rss/>").unwrap(), Cow::Borrowed(_)));
        let err = unpack(&[0x1f, 0x8b, 8, 0, 0]).unwrap_err();
        assert!(err.message.contains("gzip"), "{err}");
    }
}
