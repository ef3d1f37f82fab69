//! `elf`: arbitrary bytes as an eBPF ELF object. Reading never panics (with either
//! treatment of unknown sections); every program read decodes, refers only to the
//! object's maps and round-trips through the assembler text.

use bpf_bridge::elf::{read_elf, read_object, ReadOptions};
use bpf_bridge::isa;
use bpf_bridge::program::ProgType;

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
        assert_eq!(
            listed.as_ref().map(Vec::len).ok(),
            Some(obj.programs.len()),
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
            super::roundtrip::text_round_trip(&prog.insns, &prog.maps);
        }
    }
}
