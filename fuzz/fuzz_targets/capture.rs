//! `cargo +nightly fuzz run capture`: see `src/capture.rs` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| luabpf_fuzz::capture::check(data));
