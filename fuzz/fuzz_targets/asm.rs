//! `cargo +nightly fuzz run asm`: see `src/asm.rs` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| luabpf_fuzz::asm::check(data));
