//! `luabpf asm` and `luabpf disasm`.

use bpf_bridge::disasm::{self, Style};
use bpf_bridge::isa::insns_to_bytes;
use luabpf::load::LoadOptions;
use luabpf::{read_file, Failure};
use std::path::Path;

/// Assembles `file` into raw bytecode at `output`.
pub fn assemble(file: &Path, output: &Path) -> Result<u8, Failure> {
    let text = String::from_utf8(read_file(file)?)
        .map_err(|_| Failure::input(format!("{}: not UTF-8 text", file.display())))?;
    let assembled = bpf_bridge::asm::assemble(&text)
        .map_err(|e| Failure::input(format!("{}:{e}", file.display())))?;
    if !assembled.maps.is_empty() {
        eprintln!(
            "note: raw bytecode has no room for map declarations; {} map(s) refer to indices 0..{}",
            assembled.maps.len(),
            assembled.maps.len()
        );
    }
    std::fs::write(output, insns_to_bytes(&assembled.insns))
        .map_err(|e| Failure::input(format!("{}: {e}", output.display())))?;
    Ok(0)
}

/// Prints the disassembly of any program file.
pub fn disassemble(file: &Path, llvm: bool, prog: Option<String>) -> Result<u8, Failure> {
    let program = luabpf::load::load_program(
        file,
        &LoadOptions {
            prog_type: None,
            prog_name: prog,
        },
    )?;
    let style = if llvm {
        Style::Llvm
    } else {
        Style::Conformance
    };
    let text = disasm::disassemble(&program.insns, &program.maps, style)
        .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
    print!("{text}");
    Ok(0)
}
