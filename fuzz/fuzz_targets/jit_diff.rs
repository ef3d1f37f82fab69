//! `cargo +nightly fuzz run jit_diff`: see `src/jit_diff.rs` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| luabpf_fuzz::jit_diff::check(data));
