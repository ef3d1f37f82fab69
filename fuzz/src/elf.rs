//! `elf`: arbitrary bytes as an eBPF ELF object. Reading never panics (with either
//! treatment of unknown sections); every program read decodes, disassembles, and
//! round-trips through the assembler text whenever the assembler can declare its
//! maps (the reader takes map names and sizes the `.map` directive rejects).

use bpf_bridge::asm::assemble;
use bpf_bridge::disasm::{disassemble, Style};
use bpf_bridge::elf::{read_elf, read_object, ReadOptions};
use bpf_bridge::isa::{self, Insn};
use bpf_bridge::program::{MapDef, ProgType};

/// Runs the check on one input.
pub fn check(data: &[u8]) {
    let skip = read_elf(data, &ReadOptions::default());
    let raw = read_elf(
        data,
        &ReadOptions {
            other_sections_as: Some(ProgType::Raw),
        },
    );
    let listed = read_object(data);
    if let Ok(obj) = &skip {
        // read_object: the same programs, or an error when there are none.
        let expected = (!obj.programs.is_empty()).then_some(obj.programs.len());
        assert_eq!(
            listed.as_ref().map(Vec::len).ok(),
            expected,
            "read_object disagrees with read_elf"
        );
    }
    for obj in [skip, raw].into_iter().flatten() {
        let _ = obj.program(None);
        for p in &obj.programs {
            let prog = &p.program;
            assert_eq!(prog.maps, obj.maps, "every program carries all maps");
            isa::decode_program(&prog.insns)
                .unwrap_or_else(|e| panic!("program {} does not decode: {e}", prog.name));
            let _ = obj.program(Some(&prog.name));
            if maps_expressible(&prog.maps) {
                super::roundtrip::text_round_trip(&prog.insns, &prog.maps);
            } else {
                for style in [Style::Conformance, Style::Llvm] {
                    disassemble(&prog.insns, &prog.maps, style)
                        .unwrap_or_else(|e| panic!("{} does not disassemble: {e}", prog.name));
                }
            }
        }
    }
}

/// Whether `.map` directives can declare `maps`: the disassembly of a bare `exit`
/// with them assembles back to the same maps.
fn maps_expressible(maps: &[MapDef]) -> bool {
    let exit = [Insn::new(0x95, 0, 0, 0, 0)];
    disassemble(&exit, maps, Style::Conformance)
        .ok()
        .and_then(|text| assemble(&text).ok())
        .is_some_and(|a| a.maps == maps)
}
