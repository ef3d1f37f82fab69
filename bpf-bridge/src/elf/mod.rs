//! ELF objects: the format clang and libbpf use for eBPF programs.

pub mod write;
