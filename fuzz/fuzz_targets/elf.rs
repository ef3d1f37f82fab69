//! `cargo +nightly fuzz run elf`: see `src/elf.rs` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| luabpf_fuzz::elf::check(data));
