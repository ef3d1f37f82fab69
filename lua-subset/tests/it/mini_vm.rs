//! A small eBPF executor for tests, built on `isa::semantics`, so compiled
//! filters can be compared with the oracle before (and besides) the real
//! interpreter. XDP context, packet, stack and map helpers 1–3 only.

use bpf_bridge::isa::{decode_program, semantics, Op, Size, Src};
use bpf_bridge::program::{MapKind, Program};
use bpf_bridge::report::MapContents;
use std::collections::{BTreeMap, HashMap};

const CTX: u64 = 0x3000_0000;
const PKT: u64 = 0x1000_0000;
const STACK: u64 = 0x2000_0000;
const MAPVAL: u64 = 0x4000_0000;
const MAPPTR: u64 = 0x7000_0000;

struct MapState {
    kind: MapKind,
    key_size: usize,
    value_size: usize,
    max: usize,
    /// Hash: key → slot; array: index → slot.
    index: HashMap<Vec<u8>, usize>,
    slots: Vec<Vec<u8>>,
}

/// Result of one run.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Verdict(u64),
    Fault(String),
}

pub struct MiniVm {
    ops: Vec<Op>,
    maps: Vec<MapState>,
    names: Vec<String>,
    /// may_goto budget per run.
    pub may_goto_budget: u64,
    /// Executed slots of the last run, when tracing.
    pub trace: Option<Vec<usize>>,
}

impl MiniVm {
    pub fn new(p: &Program) -> MiniVm {
        let ops = decode_program(&p.insns).expect("decodes");
        let maps = p
            .maps
            .iter()
            .map(|m| MapState {
                kind: m.kind,
                key_size: m.key_size as usize,
                value_size: m.value_size as usize,
                max: m.max_entries as usize,
                index: HashMap::new(),
                slots: Vec::new(),
            })
            .collect();
        MiniVm {
            ops,
            maps,
            names: p.maps.iter().map(|m| m.name.clone()).collect(),
            may_goto_budget: 65_536,
            trace: None,
        }
    }

    fn slot_addr(&self, map: usize, slot: usize) -> u64 {
        MAPVAL + ((map as u64) << 24) + (slot as u64) * 8
    }

    fn read(&self, addr: u64, n: usize, pkt: &[u8], stack: &[u8]) -> Result<u64, String> {
        let get = |mem: &[u8], off: u64| -> Result<u64, String> {
            let o = off as usize;
            if off
                .checked_add(n as u64)
                .is_none_or(|e| e > mem.len() as u64)
            {
                return Err(format!("read out of bounds at {addr:#x}"));
            }
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&mem[o..o + n]);
            Ok(u64::from_le_bytes(b))
        };
        if (CTX..CTX + 8).contains(&addr) {
            return match (addr - CTX, n) {
                (0, 4) => Ok(PKT),
                (4, 4) => Ok(PKT + pkt.len() as u64),
                _ => Err("bad ctx access".into()),
            };
        }
        if (PKT..PKT + 0x100_0000).contains(&addr) {
            return get(pkt, addr - PKT);
        }
        if (STACK..STACK + 512).contains(&addr) {
            return get(stack, addr - STACK);
        }
        if (MAPVAL..MAPPTR).contains(&addr) {
            let map = ((addr - MAPVAL) >> 24) as usize;
            let rel = (addr - MAPVAL) & 0xff_ffff;
            let m = self.maps.get(map).ok_or("bad map")?;
            let slot = (rel / 8) as usize;
            let v = m.slots.get(slot).ok_or("bad slot")?;
            if !rel.is_multiple_of(8) || n > m.value_size {
                return Err("bad map value access".into());
            }
            return get(v, 0);
        }
        Err(format!("read of unmapped address {addr:#x}"))
    }

    fn write(&mut self, addr: u64, n: usize, v: u64, stack: &mut [u8]) -> Result<(), String> {
        let bytes = v.to_le_bytes();
        if addr >= STACK && addr + n as u64 <= STACK + 512 {
            let o = (addr - STACK) as usize;
            stack[o..o + n].copy_from_slice(&bytes[..n]);
            return Ok(());
        }
        if (MAPVAL..MAPPTR).contains(&addr) {
            let map = ((addr - MAPVAL) >> 24) as usize;
            let rel = (addr - MAPVAL) & 0xff_ffff;
            let m = self.maps.get_mut(map).ok_or("bad map")?;
            let slot = m.slots.get_mut((rel / 8) as usize).ok_or("bad slot")?;
            if n > slot.len() {
                return Err("bad map value write".into());
            }
            slot[..n].copy_from_slice(&bytes[..n]);
            return Ok(());
        }
        Err(format!("write of unmapped address {addr:#x}"))
    }

    fn stack_bytes(stack: &[u8], addr: u64, n: usize) -> Result<Vec<u8>, String> {
        if addr < STACK || addr + n as u64 > STACK + 512 {
            return Err("helper pointer not on the stack".into());
        }
        let o = (addr - STACK) as usize;
        Ok(stack[o..o + n].to_vec())
    }

    fn helper(&mut self, id: i32, r: &mut [u64; 11], stack: &[u8]) -> Result<(), String> {
        let map = r[1].checked_sub(MAPPTR).ok_or("r1 is not a map")? as usize;
        let (ks, vs, kind, max) = {
            let m = self.maps.get(map).ok_or("bad map")?;
            (m.key_size, m.value_size, m.kind, m.max)
        };
        let key = Self::stack_bytes(stack, r[2], ks)?;
        let m = &mut self.maps[map];
        match id {
            1 => {
                if kind.is_array() {
                    let idx = u32::from_le_bytes(key[..4].try_into().unwrap()) as usize;
                    if idx >= max {
                        r[0] = 0;
                        return Ok(());
                    }
                }
                let slot = match m.index.get(&key) {
                    Some(s) => Some(*s),
                    None if kind.is_array() => {
                        m.slots.push(vec![0; vs.max(8)]);
                        m.index.insert(key, m.slots.len() - 1);
                        Some(m.slots.len() - 1)
                    }
                    None => None,
                };
                r[0] = slot.map_or(0, |s| self.slot_addr(map, s));
            }
            2 => {
                let val = Self::stack_bytes(stack, r[3], vs)?;
                if kind.is_array() {
                    let idx = u32::from_le_bytes(key[..4].try_into().unwrap()) as usize;
                    if idx >= max {
                        r[0] = (-7i64) as u64;
                        return Ok(());
                    }
                }
                match m.index.get(&key) {
                    Some(&s) => {
                        m.slots[s][..vs].copy_from_slice(&val);
                        r[0] = 0;
                    }
                    None => {
                        if !kind.is_array() && m.index.len() >= max {
                            r[0] = (-7i64) as u64;
                        } else {
                            let mut v = val.clone();
                            v.resize(vs.max(8), 0);
                            m.slots.push(v);
                            m.index.insert(key, m.slots.len() - 1);
                            r[0] = 0;
                        }
                    }
                }
            }
            3 => {
                if kind.is_array() {
                    r[0] = (-22i64) as u64;
                } else {
                    r[0] = if m.index.remove(&key).is_some() {
                        0
                    } else {
                        (-2i64) as u64
                    };
                }
            }
            _ => return Err(format!("helper {id}")),
        }
        for reg in r.iter_mut().take(6).skip(1) {
            *reg = 0xdead;
        }
        Ok(())
    }

    /// Runs the program on one packet.
    pub fn run(&mut self, pkt: &[u8]) -> Outcome {
        if let Some(t) = self.trace.as_mut() {
            t.clear();
        }
        let mut r = [0u64; 11];
        let mut stack = vec![0u8; 512];
        r[1] = CTX;
        r[10] = STACK + 512;
        let mut pc = 0usize;
        let mut budget = self.may_goto_budget;
        let mut steps = 0u64;
        loop {
            steps += 1;
            if steps > 50_000_000 {
                return Outcome::Fault("step limit".into());
            }
            if let Some(t) = self.trace.as_mut() {
                t.push(pc);
            }
            let Some(op) = self.ops.get(pc).copied() else {
                return Outcome::Fault("pc out of range".into());
            };
            let src = |s: Src, r: &[u64; 11]| match s {
                Src::Reg(x) => r[x.idx()],
                Src::Imm(i) => i as i64 as u64,
            };
            match op {
                Op::Alu {
                    width,
                    op,
                    dst,
                    src: s,
                } => {
                    r[dst.idx()] = semantics::alu(width, op, r[dst.idx()], src(s, &r));
                }
                Op::Neg { width, dst } => r[dst.idx()] = semantics::neg(width, r[dst.idx()]),
                Op::Endian { kind, bits, dst } => {
                    r[dst.idx()] = semantics::endian(kind, bits, r[dst.idx()])
                }
                Op::LoadImm64 { dst, value } => r[dst.idx()] = value,
                Op::LoadMap { dst, map } => r[dst.idx()] = MAPPTR + map as u64,
                Op::Load {
                    size,
                    signed,
                    dst,
                    base,
                    off,
                } => {
                    let addr = r[base.idx()].wrapping_add(off as i64 as u64);
                    match self.read(addr, size.bytes(), pkt, &stack) {
                        Ok(v) => r[dst.idx()] = semantics::extend_load(size, signed, v),
                        Err(e) => return Outcome::Fault(format!("pc {pc}: {e}")),
                    }
                }
                Op::Store {
                    size,
                    base,
                    off,
                    src: s,
                } => {
                    let addr = r[base.idx()].wrapping_add(off as i64 as u64);
                    let v = src(s, &r);
                    if let Err(e) = self.write(addr, size.bytes(), v, &mut stack) {
                        return Outcome::Fault(format!("pc {pc}: {e}"));
                    }
                    let _ = Size::B;
                }
                Op::Ja { off } => {
                    pc = (pc as i64 + 1 + off as i64) as usize;
                    continue;
                }
                Op::Jmp {
                    width,
                    op,
                    dst,
                    src: s,
                    off,
                } => {
                    if semantics::jmp_taken(width, op, r[dst.idx()], src(s, &r)) {
                        pc = (pc as i64 + 1 + off as i64) as usize;
                        continue;
                    }
                }
                Op::MayGoto { off } => {
                    if budget == 0 {
                        pc = (pc as i64 + 1 + off as i64) as usize;
                        continue;
                    }
                    budget -= 1;
                }
                Op::Call { helper } => {
                    if let Err(e) = self.helper(helper, &mut r, &stack) {
                        return Outcome::Fault(format!("pc {pc}: {e}"));
                    }
                }
                Op::Exit => return Outcome::Verdict(r[0]),
                Op::LddwHigh => {}
                other => return Outcome::Fault(format!("unsupported {other:?}")),
            }
            pc += 1;
        }
    }

    /// Map contents like the oracle's (arrays: non-zero elements only).
    pub fn maps(&self) -> BTreeMap<String, MapContents> {
        let mut out = BTreeMap::new();
        for (i, m) in self.maps.iter().enumerate() {
            let mut c: MapContents = m
                .index
                .iter()
                .map(|(k, s)| (k.clone(), m.slots[*s][..m.value_size].to_vec()))
                .filter(|(_, v)| !m.kind.is_array() || v.iter().any(|b| *b != 0))
                .collect();
            c.sort();
            out.insert(self.names[i].clone(), c);
        }
        out
    }
}
