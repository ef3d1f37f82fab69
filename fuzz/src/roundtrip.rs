//! Shared by the `decode`, `asm` and `elf` checks: a decodable program must print
//! in both styles and its Conformance-style text must assemble back to the same
//! bytecode and maps.

use bpf_bridge::asm::assemble;
use bpf_bridge::disasm::{disassemble, Style};
use bpf_bridge::isa::Insn;
use bpf_bridge::program::MapDef;

/// Disassembles `insns` (which must decode, with every map index below
/// `maps.len()`) in both styles and re-assembles the Conformance text.
pub fn text_round_trip(insns: &[Insn], maps: &[MapDef]) {
    let llvm = disassemble(insns, maps, Style::Llvm)
        .unwrap_or_else(|e| panic!("decodable program fails to disassemble (llvm): {e}"));
    assert!(!llvm.is_empty());
    let text = disassemble(insns, maps, Style::Conformance)
        .unwrap_or_else(|e| panic!("decodable program fails to disassemble: {e}"));
    let back =
        assemble(&text).unwrap_or_else(|e| panic!("disassembly does not re-assemble: {e}\n{text}"));
    assert_eq!(back.insns, insns, "re-assembly differs; text:\n{text}");
    assert_eq!(back.maps, maps, "re-assembled maps differ; text:\n{text}");
}
