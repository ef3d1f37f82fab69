//! The input format of the targets that run programs (`interp`, `verify`):
//!
//! ```text
//! [n] [m] m × [kind key_size value_size max_entries] bytecode… packet (last n bytes)
//! ```
//!
//! `m % 5` maps (kind `% 4`: hash, array, percpu hash, percpu array), named `m0`…,
//! so programs that use maps can be fuzzed along with the maps' shapes; the
//! bytecode is cut to whole slots. [`encode`] writes a program and a packet in this
//! format (for seeds).

use bpf_bridge::isa::{self, Insn};
use bpf_bridge::program::{MapDef, MapKind, ProgType, Program};

const KINDS: [MapKind; 4] = [
    MapKind::Hash,
    MapKind::Array,
    MapKind::PercpuHash,
    MapKind::PercpuArray,
];

/// A parsed input.
#[derive(Debug)]
pub struct Case {
    /// The bytecode (possibly empty or undecodable).
    pub insns: Vec<Insn>,
    /// The maps.
    pub maps: Vec<MapDef>,
    /// The packet (or the `raw` program's memory).
    pub packet: Vec<u8>,
}

impl Case {
    /// Splits `data`; `None` when it is too short for its own header.
    pub fn parse(data: &[u8]) -> Option<Case> {
        let (&n, rest) = data.split_first()?;
        let (&m, mut rest) = rest.split_first()?;
        let mut maps = Vec::new();
        for i in 0..m % 5 {
            let (def, tail) = rest.split_first_chunk::<4>()?;
            rest = tail;
            maps.push(MapDef {
                name: format!("m{i}"),
                kind: KINDS[def[0] as usize % 4],
                key_size: def[1].into(),
                value_size: def[2].into(),
                max_entries: def[3].into(),
            });
        }
        let (code, packet) = rest.split_at(rest.len().saturating_sub(n.into()));
        let code = &code[..code.len() / isa::INSN_SIZE * isa::INSN_SIZE];
        Some(Case {
            insns: isa::insns_from_bytes(code).ok()?,
            maps,
            packet: packet.to_vec(),
        })
    }

    /// The program as `prog_type`.
    pub fn program(&self, prog_type: ProgType) -> Program {
        let mut p = Program::new("fuzz", prog_type, self.insns.clone());
        p.maps = self.maps.clone();
        p
    }
}

/// `prog`'s bytecode and maps with `packet` in the format [`Case::parse`] reads;
/// `None` when a map does not fit (more than 4, or a size above 255).
pub fn encode(prog: &Program, packet: &[u8]) -> Option<Vec<u8>> {
    let n = u8::try_from(packet.len()).ok()?;
    if prog.maps.len() > 4 {
        return None;
    }
    let mut out = vec![n, prog.maps.len() as u8];
    for m in &prog.maps {
        let kind = KINDS.iter().position(|&k| k == m.kind)? as u8;
        out.push(kind);
        for v in [m.key_size, m.value_size, m.max_entries] {
            out.push(u8::try_from(v).ok()?);
        }
    }
    out.extend(isa::insns_to_bytes(&prog.insns));
    out.extend_from_slice(packet);
    Some(out)
}
