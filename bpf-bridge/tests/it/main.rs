//! The integration-test binary of bpf-bridge.

mod elf_write;
#[cfg(target_os = "linux")]
mod kernel;
mod progs;
