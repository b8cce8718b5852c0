//! The fuzz targets' bodies (fuzz/src/lib.rs) replayed on stable over every saved input in
//! fuzz/corpus/NAME/: the seeds, and any crash a fuzzing run found and saved there.

#[path = "../../fuzz/src/lib.rs"]
mod targets;

use std::path::PathBuf;

#[test]
fn every_fuzz_corpus_input_passes_its_target() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus"));
    for (name, target) in targets::TARGETS {
        let dir = root.join(name);
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "no corpus for {name}");
        for input in inputs {
            let bytes = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&bytes));
            assert!(outcome.is_ok(), "{name} failed on {}", input.display());
        }
    }
}

#[test]
fn every_fuzz_target_has_a_cargo_fuzz_binary() {
    let manifest = include_str!("../../fuzz/Cargo.toml");
    for (name, _) in targets::TARGETS {
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name}");
        let source = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/fuzz_targets"))
            .join(format!("{name}.rs"));
        let source = std::fs::read_to_string(&source).unwrap();
        assert!(
            source.contains(&format!("kith_fuzz::{name}(data)")),
            "{name}"
        );
    }
}

#[test]
fn the_html_checker_refuses_what_must_never_reach_a_page() {
    for bad in [
        "<script>alert(1)</script>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a onclick=\"x()\">x</a>",
        "<img src=x>",
        "<a title=\"x\" onmouseover=\"y\">x</a>",
        "<q cite=\"javascript:x\">x</q>",
        "<p style=\"color:red\">x</p>",
        "<a href=x>x</a>",
        "<p>unclosed <",
    ] {
        let caught = std::panic::catch_unwind(|| targets::assert_only_allowed_html(bad));
        assert!(caught.is_err(), "{bad} passed");
    }
    targets::assert_only_allowed_html(
        "<p>a <a href=\"https://e.example/?a=1&amp;b\" rel=\"nofollow ugc noopener\">b</a></p>\
         <ol start=\"3\"><li>c</li></ol><br>",
    );
}
