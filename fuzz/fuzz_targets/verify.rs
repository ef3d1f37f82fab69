//! `cargo +nightly fuzz run verify`: see `src/verify.rs` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| luabpf_fuzz::verify::check(data));
