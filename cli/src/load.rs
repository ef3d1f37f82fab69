//! Programs from files, by extension: `.bin`, `.s`, ELF `.o`, `.lua`.

use crate::{read_file, Failure};
use bpf_bridge::elf::{self, ReadOptions};
use bpf_bridge::isa::insns_from_bytes;
use bpf_bridge::program::{ProgType, Program};
use bpf_bridge::{asm, isa};
use lua_subset::CompileOptions;
use std::path::Path;

/// Compiles a Lua filter; refusals come back rendered with `file:line:col` and snippets.
pub fn compile_lua(file: &str, text: &str, opts: &CompileOptions) -> Result<Program, Failure> {
    lua_subset::compile(file, text, opts).map_err(|d| Failure::rejected(d.render()))
}

/// What the user said about the program to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `--type`; `None` means the default (xdp) or what an ELF section says.
    pub prog_type: Option<ProgType>,
    /// `--prog`: a program of an ELF object, by function or section name.
    pub prog_name: Option<String>,
}

/// The kinds of program files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Raw little-endian bytecode.
    Bin,
    /// bpf_conformance assembly.
    Asm,
    /// ELF relocatable object.
    Elf,
    /// A Lua filter.
    Lua,
}

/// The kind of a program file: by extension, else by the ELF magic.
pub fn kind_of(path: &Path, bytes: &[u8]) -> Kind {
    match path.extension().and_then(|e| e.to_str()) {
        Some("lua") => Kind::Lua,
        Some("s" | "asm") => Kind::Asm,
        Some("o" | "elf") => Kind::Elf,
        _ if bytes.starts_with(b"\x7fELF") => Kind::Elf,
        _ => Kind::Bin,
    }
}

fn name_of(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("prog")
        .to_string()
}

/// Loads a program from a file of any kind (Lua compiled with default options).
pub fn load_program(path: &Path, opts: &LoadOptions) -> Result<Program, Failure> {
    let bytes = read_file(path)?;
    let prog_type = opts.prog_type.unwrap_or(ProgType::Xdp);
    let shown = path.display();
    let program = match kind_of(path, &bytes) {
        Kind::Bin => {
            let insns =
                insns_from_bytes(&bytes).map_err(|e| Failure::input(format!("{shown}: {e}")))?;
            Program::new(name_of(path), prog_type, insns)
        }
        Kind::Asm => {
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::input(format!("{shown}: not UTF-8 text")))?;
            asm::assemble(&text)
                .map_err(|e| Failure::input(format!("{shown}:{e}")))?
                .into_program_with_source(name_of(path), prog_type, &shown.to_string(), &text)
        }
        Kind::Elf => {
            let read = ReadOptions {
                other_sections_as: opts.prog_type,
            };
            let object = elf::read_elf(&bytes, &read)
                .map_err(|e| Failure::input(format!("{shown}: {e}")))?;
            let mut program = object
                .program(opts.prog_name.as_deref())
                .map_err(|e| Failure::input(format!("{shown}: {e}")))?
                .clone();
            // An ELF section names the type; `--type` only matters for sections that do not.
            if elf::prog_type_for_section(&program.name).is_none() {
                if let Some(t) = opts.prog_type {
                    program.prog_type = t;
                }
            }
            program
        }
        Kind::Lua => {
            let text = String::from_utf8(bytes)
                .map_err(|_| Failure::input(format!("{shown}: not UTF-8 text")))?;
            return compile_lua(&shown.to_string(), &text, &CompileOptions::default());
        }
    };
    isa::decode_program(&program.insns).map_err(|e| Failure::input(format!("{shown}: {e}")))?;
    Ok(program)
}
