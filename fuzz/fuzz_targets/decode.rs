//! `cargo +nightly fuzz run decode`: see `src/decode.rs` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| luabpf_fuzz::decode::check(data));
