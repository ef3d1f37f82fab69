//! `asm`: arbitrary text to the assembler. Assembling never panics; what assembles
//! has a line entry per instruction and every instruction decodes on its own (as
//! `assemble` promises). When the whole program also decodes (jump targets in
//! range, no fall-through), it disassembles and re-assembles to the same bytes.

use bpf_bridge::asm::assemble;
use bpf_bridge::isa::{self, Op};

/// Runs the check on one input (invalid UTF-8 is skipped: `assemble` takes `&str`).
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(a) = assemble(text) else {
        return;
    };
    let line_count = text.lines().count() as u32;
    let mut next_slot = 0;
    for l in &a.lines {
        assert_eq!(
            l.insn, next_slot,
            "line table not contiguous: {:?}",
            a.lines
        );
        assert!(
            l.line >= 1 && l.line <= line_count,
            "line {} out of range",
            l.line
        );
        assert!(l.col >= 1);
        let op = isa::decode_one(&a.insns, l.insn)
            .unwrap_or_else(|e| panic!("assembled instruction does not decode: {e}"));
        if let Op::LoadMap { map, .. } | Op::LoadMapValue { map, .. } = op {
            assert!((map as usize) < a.maps.len(), "map index {map} undeclared");
        }
        next_slot += op.slots();
    }
    assert_eq!(
        next_slot,
        a.insns.len(),
        "line table does not cover the program"
    );
    if a.insns.is_empty() || isa::decode_program(&a.insns).is_err() {
        return;
    }
    super::roundtrip::text_round_trip(&a.insns, &a.maps);
}
