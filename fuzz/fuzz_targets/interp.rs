//! `cargo +nightly fuzz run interp`: see `src/interp.rs` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| luabpf_fuzz::interp::check(data));
