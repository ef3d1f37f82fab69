//! `luabpf jit`: the native code for a program, disassembled.

use crate::args::{ArchArg, TypeArg};
use luabpf::load::{load_program, LoadOptions};
use luabpf::Failure;
use std::path::Path;

/// Compiles the program in `file` and prints its machine code.
pub fn show(
    file: &Path,
    arch: Option<ArchArg>,
    prog_type: Option<TypeArg>,
    prog_name: Option<String>,
    unverified: bool,
) -> Result<u8, Failure> {
    let opts = LoadOptions {
        prog_type: crate::cmd::run::prog_type(prog_type),
        prog_name,
    };
    let program = load_program(file, &opts)?;
    let facts = if unverified {
        None
    } else {
        Some(crate::cmd::run::verified(&program)?)
    };
    let arch = luabpf::jitsel::arch(arch.map(ArchArg::name))?;
    let compiled = jit::compile(&program, facts.as_ref(), arch, jit::Options::for_host())
        .map_err(|e| Failure::rejected(format!("jit ({}): {e}", arch.name())))?;
    println!(
        "; {} for {}: {} eBPF slots, {} bytes of code ({} mode)",
        program.name,
        arch.name(),
        program.insns.len(),
        compiled.code.len(),
        if compiled.verified {
            "verified"
        } else {
            "checked"
        }
    );
    print!("{}", compiled.disassemble());
    Ok(0)
}
