//! `decode`: arbitrary bytes as bytecode. Decoding never panics; a program that
//! decodes re-encodes to the same slots (except that a `gotol` whose offset fits
//! 16 bits comes back as the JMP-class `ja`: both decode to the same `Op::Ja`),
//! disassembles in both styles and re-assembles to the same bytes.

use bpf_bridge::disasm::{disassemble, Style};
use bpf_bridge::isa::{self, Op};
use bpf_bridge::program::{MapDef, MapKind};

/// Programs referring to more maps than this skip the text round trip (map indices
/// are 32-bit; one `MapDef` per index would be a needless allocation).
const MAX_MAPS: u32 = 64;

/// Runs the check on one input.
pub fn check(data: &[u8]) {
    let Ok(insns) = isa::insns_from_bytes(data) else {
        assert_ne!(data.len() % isa::INSN_SIZE, 0, "whole slots must split");
        return;
    };
    assert_eq!(isa::insns_to_bytes(&insns), data);
    let Ok(ops) = isa::decode_program(&insns) else {
        return;
    };
    assert_eq!(ops.len(), insns.len(), "one op per slot");
    let re = isa::encode_program(&ops);
    assert_eq!(re.len(), insns.len(), "re-encoding changes the slot count");
    for (pc, (&orig, &again)) in insns.iter().zip(&re).enumerate() {
        if orig != again {
            let short_gotol = isa::is_gotol(orig) && i16::try_from(orig.imm).is_ok();
            let mut ja = Vec::new();
            Op::Ja { off: orig.imm }.encode(&mut ja);
            assert!(
                short_gotol && ja == [again],
                "slot {pc}: {orig:?} decodes to {:?}, which encodes as {again:?}",
                ops[pc]
            );
        }
    }

    let needed = ops
        .iter()
        .filter_map(|op| match *op {
            Op::LoadMap { map, .. } | Op::LoadMapValue { map, .. } => Some(map.saturating_add(1)),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    if needed > 0 {
        // Without the maps it refers to, disassembly is an error, not a panic.
        assert!(disassemble(&insns, &[], Style::Conformance).is_err());
        assert!(disassemble(&insns, &[], Style::Llvm).is_err());
    }
    if needed > MAX_MAPS {
        return;
    }
    let maps = (0..needed).map(map_def).collect::<Vec<_>>();
    super::roundtrip::text_round_trip(&insns, &maps);
}

/// A map to stand for index `i` (kinds vary so each `.map` form is exercised).
fn map_def(i: u32) -> MapDef {
    let kinds = [
        MapKind::Hash,
        MapKind::Array,
        MapKind::PercpuHash,
        MapKind::PercpuArray,
    ];
    MapDef {
        name: format!("m{i}"),
        kind: kinds[i as usize % kinds.len()],
        key_size: 4,
        value_size: 8 + i,
        max_entries: 1 + i,
    }
}
