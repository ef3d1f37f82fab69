//! Choosing and building the JIT engine for an `--arch`.

use crate::Failure;
use bpf_bridge::facts::Facts;
use bpf_bridge::program::Program;
use jit::engine::JitEngine;
use jit::exec_mem::ExecPool;
use jit::{Arch, Options};

/// The architecture named by `--arch`, else the host's.
pub fn arch(name: Option<&str>) -> Result<Arch, Failure> {
    match name {
        Some(n) => Arch::from_name(n).ok_or_else(|| Failure::input(format!("unknown --arch {n}"))),
        None => Arch::host().ok_or_else(|| Failure::input("no JIT for this host: give --arch")),
    }
}

/// Compiles and loads `program` (verified mode with `facts`, else checked).
pub fn engine(
    program: &Program,
    facts: Option<&Facts>,
    arch: Arch,
    pool: &ExecPool,
) -> Result<JitEngine, Failure> {
    JitEngine::new(program, facts, arch, Options::for_host(), pool)
        .map_err(|e| Failure::rejected(format!("jit ({}): {e}", arch.name())))
}
