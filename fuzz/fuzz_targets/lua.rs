//! `cargo +nightly fuzz run lua`: see `src/lua.rs` for what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| luabpf_fuzz::lua::check(data));
