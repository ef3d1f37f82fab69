//! lua-subset: compiles a filter written in a strict subset of Lua 5.4 to
//! standard eBPF (an XDP program), and runs the very same file under real Lua
//! 5.4 ([`oracle`]) as the reference for what it means.
//!
//! Pipeline: [`syntax`] guards → full_moon parse → [`lower`] (scopes, subset
//! rules, folding; arena [`ir`]) → [`types`] → [`codegen`] (inlining, values
//! in virtual registers, merged packet checks) → control-flow clean-ups
//! (`cfgopt`, run by [`emit::simplify`]) → [`regalloc`] → [`emit`].
//! Every pass reports problems as [`diag::Diagnostic`]s; none panics on input.

mod cfgopt;
pub mod codegen;
mod copyprop;
pub mod diag;
pub mod emit;
mod fastmap;
pub mod ir;
pub mod listing;
mod lower;
pub mod luaops;
pub mod oracle;
pub mod regalloc;
pub mod syntax;
pub mod types;

use bpf_bridge::isa::encode_program;
use bpf_bridge::program::{MapDef, MapKind, ProgType, Program, SourceMap};
pub use diag::{Diagnostic, Diagnostics, Span};

/// Target instruction set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Cpu {
    /// No sdiv/smod, movsx, ldsx, bswap, gotol or may_goto (e.g. rbpf).
    V3,
    /// The full ISA of RFC 9669 plus may_goto.
    #[default]
    V4,
}

/// Compiler settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// Instruction set.
    pub cpu: Cpu,
    /// Back-edges allowed per packet in loops without a proven bound.
    pub loop_budget: u32,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            cpu: Cpu::V4,
            loop_budget: 65_536,
        }
    }
}

/// Compiles `source` (named `file_name` in diagnostics) to an XDP program.
pub fn compile(
    file_name: &str,
    source: &str,
    opts: &CompileOptions,
) -> Result<Program, Diagnostics> {
    let arena = bumpalo::Bump::new();
    let module = lower::lower(&arena, source).map_err(|s| s.finish(file_name, source))?;
    let codegen::Generated {
        mut code,
        nregs,
        nlabels,
    } = codegen::generate(&module, opts).map_err(|s| s.finish(file_name, source))?;
    emit::simplify(&mut code, nregs, nlabels);
    let (ops, lines) = emit::lower_to_ops(&mut code, nregs, codegen::SPILL_BASE, source).map_err(
        |(span, msg)| {
            let mut sink = diag::Sink::default();
            sink.error(span, msg, None);
            sink.finish(file_name, source)
        },
    )?;
    let insns = encode_program(&ops);
    let maps = module
        .maps
        .iter()
        .map(|m| MapDef {
            name: m.name.clone(),
            kind: match m.kind {
                ir::MapType::Hash => MapKind::Hash,
                ir::MapType::Array => MapKind::Array,
            },
            key_size: m.key_size,
            value_size: m.value_size,
            max_entries: m.entries,
        })
        .collect();
    let mut prog = Program::new(program_name(file_name), ProgType::Xdp, insns);
    prog.maps = maps;
    prog.source = Some(SourceMap {
        file: file_name.to_string(),
        text: source.to_string(),
        lines,
    });
    Ok(prog)
}

/// A C identifier from the file name (`examples/syn_count.lua` → `syn_count`).
fn program_name(file: &str) -> String {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = base.strip_suffix(".lua").unwrap_or(base);
    let mut s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "filter_");
    }
    s
}

/// Names of the maps a source declares, in declaration order (for reports).
pub fn map_names(source: &str) -> Vec<String> {
    let arena = bumpalo::Bump::new();
    match lower::lower(&arena, source) {
        Ok(m) => m.maps.iter().map(|d| d.name.clone()).collect(),
        Err(_) => Vec::new(),
    }
}
