//! eBPF ELF objects as `clang -O2 -g -target bpf` writes them and libbpf loads them.
//!
//! Reading ([`read_elf`], [`read_object`]):
//! - every global function in an executable section other than `.text` is a program,
//!   named by its symbol; functions in `.text` are subprograms, appended after each
//!   program that calls them (relocated calls and calls already resolved inside a
//!   section both work);
//! - the section name gives the type: `xdp`, `xdp/*`, `xdp.frags`, `xdp.frags/*` are
//!   [`ProgType::Xdp`]. Programs in other sections (`socket`, `tc`, `classifier`, …)
//!   are listed in [`ElfObject::unsupported`] and not loaded, unless
//!   [`ReadOptions::other_sections_as`] says which type to give them (e.g. `Raw`);
//! - maps: BTF-defined ones in `.maps` and legacy `struct bpf_map_def`s in `maps`,
//!   in that order (then by offset); every program gets all of the object's maps, and
//!   each `lddw` relocated against a map becomes a pseudo `lddw` with its index;
//! - global data (`.data`, `.rodata`, `.bss`) and extern symbols are rejected with a
//!   clear error; so are relocation types other than `R_BPF_64_64`/`R_BPF_64_32`;
//! - the license is the NUL-terminated string in `license` (empty when absent).
//!
//! Every linked program is checked with [`crate::isa::decode_program`].
//!
//! Writing ([`write::write_object`]) produces the same layout from a
//! [`Program`], with `.BTF`/`.BTF.ext` line info from its source.

mod btf_maps;
mod read;
pub mod write;

use crate::program::{MapDef, ProgType, Program};

pub use read::read_elf;

/// Why an object could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// Not parseable as an ELF file, or structurally broken.
    #[error("malformed ELF object: {0}")]
    Malformed(String),
    /// A well-formed ELF file that is not a little-endian 64-bit relocatable eBPF object.
    #[error("not an eBPF object: {0}")]
    NotBpf(String),
    /// Something valid that luabpf does not support (global data, map types, relocations…).
    #[error("{0}")]
    Unsupported(String),
    /// [`ElfObject::program`] found nothing under that name.
    #[error("no program named {name:?} in the object (programs: {available})")]
    NoSuchProgram {
        /// The name asked for.
        name: String,
        /// The loadable programs, as `function (section)`.
        available: String,
    },
}

/// How to read an object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The type to give programs in sections luabpf does not recognize (`None`: skip
    /// them, listing them in [`ElfObject::unsupported`]).
    pub other_sections_as: Option<ProgType>,
}

/// A program in a section whose type luabpf does not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedProgram {
    /// Function name.
    pub name: String,
    /// ELF section name.
    pub section: String,
}

/// A loaded program and the section it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfProgram {
    /// ELF section name (`xdp`, `xdp/classify`, …).
    pub section: String,
    /// The linked program (name = function symbol).
    pub program: Program,
}

/// Everything read from an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfObject {
    /// Loadable programs, in section then offset order.
    pub programs: Vec<ElfProgram>,
    /// Programs skipped because of their section type.
    pub unsupported: Vec<UnsupportedProgram>,
    /// The object's maps (every program carries all of them).
    pub maps: Vec<MapDef>,
    /// Contents of the `license` section.
    pub license: String,
}

impl ElfObject {
    /// Picks a program by function name, else by section name. With `None`, the
    /// object must hold exactly one loadable program.
    pub fn program(&self, name: Option<&str>) -> Result<&Program, ElfError> {
        let found = match name {
            None if self.programs.len() == 1 => Some(&self.programs[0]),
            None => None,
            Some(n) => self
                .programs
                .iter()
                .find(|p| p.program.name == n)
                .or_else(|| {
                    let mut in_section = self.programs.iter().filter(|p| p.section == n);
                    match (in_section.next(), in_section.next()) {
                        (Some(p), None) => Some(p),
                        _ => None,
                    }
                }),
        };
        if let Some(p) = found {
            return Ok(&p.program);
        }
        if let Some(u) = name.and_then(|n| {
            self.unsupported
                .iter()
                .find(|u| u.name == n || u.section == n)
        }) {
            return Err(ElfError::Unsupported(format!(
                "program {} is in section {:?}, whose program type luabpf does not run \
                 (supported: xdp, xdp/*, xdp.frags)",
                u.name, u.section
            )));
        }
        let available = if self.programs.is_empty() {
            "none".to_string()
        } else {
            self.programs
                .iter()
                .map(|p| format!("{} ({})", p.program.name, p.section))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(ElfError::NoSuchProgram {
            name: name.unwrap_or("").to_string(),
            available,
        })
    }
}

/// The program type of a section name, when luabpf runs that type.
pub fn prog_type_for_section(section: &str) -> Option<ProgType> {
    let xdp = section == "xdp"
        || section.starts_with("xdp/")
        || section == "xdp.frags"
        || section.starts_with("xdp.frags/");
    xdp.then_some(ProgType::Xdp)
}

/// Reads every loadable program of an object with default [`ReadOptions`]. An
/// object with no loadable program is an error naming what it does hold.
pub fn read_object(bytes: &[u8]) -> Result<Vec<Program>, ElfError> {
    let obj = read_elf(bytes, &ReadOptions::default())?;
    if obj.programs.is_empty() {
        let found = if obj.unsupported.is_empty() {
            "no programs at all".to_string()
        } else {
            let list: Vec<String> = obj
                .unsupported
                .iter()
                .map(|u| format!("{} in section {:?}", u.name, u.section))
                .collect();
            format!("only {}", list.join(", "))
        };
        return Err(ElfError::Unsupported(format!(
            "no XDP program in the object ({found})"
        )));
    }
    Ok(obj.programs.into_iter().map(|p| p.program).collect())
}
