//! The integration-test binary of bpf-bridge: one module per area.
#![cfg(feature = "std")]

mod asm;
mod conformance;
mod elf;
mod elf_write;
mod fuzz_corpus;
mod interp;
#[cfg(target_os = "linux")]
mod kernel;
mod progs;
mod verifier;

use std::path::{Path, PathBuf};

/// The bpf_conformance `tests/` directory: `BPF_CONFORMANCE_DIR` (which must exist
/// when set), else `../shared/conformance/tests` beside the workspace; `None` (after
/// printing why) when neither is there.
pub fn conformance_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("BPF_CONFORMANCE_DIR") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "BPF_CONFORMANCE_DIR={} is not a directory",
            dir.display()
        );
        return Some(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/tests");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipped: no conformance vectors (set BPF_CONFORMANCE_DIR; {} is missing)",
            dir.display()
        );
        None
    }
}

/// Every `*.data` file of the conformance suite, sorted, as (file name, text).
pub fn conformance_vectors() -> Vec<(String, String)> {
    let Some(dir) = conformance_dir() else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("read conformance dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("read vector"))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no .data files in {}", dir.display());
    out
}

/// The body of section `-- name` of a conformance vector.
pub fn section(text: &str, name: &str) -> Option<String> {
    let header = format!("-- {name}");
    let mut lines = text.lines();
    lines.by_ref().find(|l| l.trim_end() == header)?;
    let body: Vec<&str> = lines.take_while(|l| !l.starts_with("-- ")).collect();
    Some(body.join("\n"))
}
