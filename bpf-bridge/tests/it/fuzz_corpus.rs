//! Replays the committed cargo-fuzz corpora (`fuzz/corpus/<target>/`) under stable
//! Rust. The checks are the fuzz targets' own (`fuzz/src/*.rs`, included here by
//! path), so a corpus file that once found a bug keeps guarding against it.

#[path = "../../../fuzz/src/asm.rs"]
mod asm;
#[path = "../../../fuzz/src/capture.rs"]
mod capture;
#[path = "../../../fuzz/src/decode.rs"]
mod decode;
#[path = "../../../fuzz/src/elf.rs"]
mod elf;
#[path = "../../../fuzz/src/input.rs"]
mod input;
#[path = "../../../fuzz/src/interp.rs"]
mod interp;
#[path = "../../../fuzz/src/roundtrip.rs"]
mod roundtrip;
#[path = "../../../fuzz/src/verify.rs"]
mod verify;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Runs `check` on every file of `fuzz/corpus/<target>`, then fails listing each
/// file that panicked (name and hex, to reproduce with `cargo fuzz run TARGET FILE`).
#[track_caller]
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).expect("read corpus file");
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            failed.push(format!("{} ({hex})", path.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} {target} corpus files fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn decode_corpus() {
    replay("decode", decode::check);
}

#[test]
fn asm_corpus() {
    replay("asm", asm::check);
}

#[test]
fn elf_corpus() {
    replay("elf", elf::check);
}

#[test]
fn capture_corpus() {
    replay("capture", capture::check);
}

#[test]
fn interp_corpus() {
    replay("interp", interp::check);
}

#[test]
fn verify_corpus() {
    replay("verify", verify::check);
}

#[test]
fn run_input_format_round_trips() {
    let a = bpf_bridge::asm::assemble(
        ".map m0 hash key=4 value=8 entries=16\nlddw %r1, map:m0\nmov %r0, 0\nexit",
    )
    .unwrap();
    let prog = a.into_program("fuzz", bpf_bridge::program::ProgType::Xdp);
    let packet = [0xaa; 20];
    let bytes = input::encode(&prog, &packet).unwrap();
    let case = input::Case::parse(&bytes).unwrap();
    assert_eq!(case.insns, prog.insns);
    assert_eq!(case.maps, prog.maps);
    assert_eq!(case.packet, packet);
    assert_eq!(case.program(prog.prog_type), prog);
    // Maps are named by index; truncated headers are refused, not misread.
    assert!(input::Case::parse(&bytes[..1]).is_none());
    assert!(input::Case::parse(&bytes[..4]).is_none());
}
