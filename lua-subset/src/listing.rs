//! Assembly listing with the Lua source lines as comments (`--emit asm`): the
//! bpf_conformance syntax of `bpf_bridge::disasm`, which re-assembles.

use bpf_bridge::disasm::{format_op, Style};
use bpf_bridge::isa::{decode_program, Op};
use bpf_bridge::program::Program;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The program as assembly; each run of instructions from one Lua line is
/// preceded by a `# LINE: text` comment.
pub fn listing(p: &Program) -> String {
    let mut out = String::new();
    let ops = match decode_program(&p.insns) {
        Ok(o) => o,
        Err(e) => return format!("# cannot decode: {e:?}\n"),
    };
    for m in &p.maps {
        let kind = if m.kind.is_array() { "array" } else { "hash" };
        let _ = writeln!(
            out,
            ".map {} {kind} key={} value={} entries={}",
            m.name, m.key_size, m.value_size, m.max_entries
        );
    }
    let targets: BTreeSet<usize> = ops
        .iter()
        .enumerate()
        .filter_map(|(pc, op)| op.target(pc).map(|t| t as usize))
        .collect();
    let src_lines: Vec<&str> = p
        .source
        .as_ref()
        .map(|s| s.text.lines().collect())
        .unwrap_or_default();
    let mut last_line = 0;
    for (pc, op) in ops.iter().enumerate() {
        if matches!(op, Op::LddwHigh) {
            continue;
        }
        if let Some(li) = p.source.as_ref().and_then(|s| s.lookup(pc)) {
            if li.line != last_line {
                last_line = li.line;
                let text = src_lines
                    .get((li.line as usize).saturating_sub(1))
                    .map_or("", |s| s.trim());
                let _ = writeln!(out, "# {}: {}", li.line, text);
            }
        }
        if targets.contains(&pc) {
            let _ = writeln!(out, "L{pc}:");
        }
        let _ = writeln!(
            out,
            "    {}",
            format_op(op, pc, &p.maps, Style::Conformance)
        );
    }
    out
}
