//! The checks behind luabpf's fuzz targets, one module per target.
//!
//! Each module has `pub fn check(data: &[u8])`, which panics exactly when the
//! code under test misbehaves (panics, or breaks a stated property). The fuzz
//! binaries in `fuzz_targets/` call it under libFuzzer (nightly); the corpus replay
//! tests (`bpf-bridge/tests/it/fuzz_corpus.rs`) include these same files with
//! `#[path]` and call it on every committed corpus file under stable Rust, so the
//! two cannot drift. Modules refer to each other as `super::…` and to the crates
//! under test by name only, which resolves the same way in both places.

pub mod asm;
pub mod capture;
pub mod decode;
pub mod elf;
pub mod input;
pub mod interp;
pub mod roundtrip;
pub mod verify;
