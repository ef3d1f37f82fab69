//! `luabpf compile`: a Lua filter to an ELF object, assembly or raw bytecode.

use crate::args::{CpuArg, EmitArg};
use bpf_bridge::elf::write::write_object;
use bpf_bridge::isa::insns_to_bytes;
use lua_subset::{CompileOptions, Cpu};
use luabpf::load::compile_lua;
use luabpf::{read_file, Failure};
use std::path::Path;

/// Compiles `file` and writes the chosen form to `output`.
pub fn compile(file: &Path, output: &Path, emit: EmitArg, cpu: CpuArg) -> Result<u8, Failure> {
    let text = String::from_utf8(read_file(file)?)
        .map_err(|_| Failure::input(format!("{}: not UTF-8 text", file.display())))?;
    let cpu = match cpu {
        CpuArg::V3 => Cpu::V3,
        CpuArg::V4 => Cpu::V4,
    };
    let opts = CompileOptions {
        cpu,
        ..CompileOptions::default()
    };
    let program = compile_lua(&file.display().to_string(), &text, &opts)?;
    let bytes = match emit {
        EmitArg::Elf => write_object(&program)
            .map_err(|e| Failure::rejected(format!("{}: {e}", file.display())))?,
        EmitArg::Asm => lua_subset::listing::listing(&program).into_bytes(),
        EmitArg::Bin => insns_to_bytes(&program.insns),
    };
    std::fs::write(output, bytes)
        .map_err(|e| Failure::input(format!("{}: {e}", output.display())))?;
    Ok(0)
}
