//! Linear-scan register allocation of virtual registers onto r1–r4 and r6–r9
//! (r0 and r5 are kept as scratch for spill code; r0 also carries results).
//! Intervals come from block-level liveness; helper calls clobber r0–r5, so
//! values live across a call land in r6–r9 or on the stack.

use crate::codegen::vcode::*;
use crate::fastmap::FastMap as HashMap;

/// Where a virtual register lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    Reg(u8),
    /// Byte offset from r10.
    Stack(i16),
}

/// Registers handed out, caller-saved first.
const ALLOCATABLE: [u8; 8] = [1, 2, 3, 4, 6, 7, 8, 9];
/// Physical registers whose fixed uses constrain allocation.
const FIXED: u32 = 6;

#[derive(Clone, Copy, Debug)]
struct Interval {
    v: u32,
    start: u32,
    end: u32,
}

/// Basic blocks: `(first, last)` instruction indices, and successors.
pub(crate) struct Cfg {
    pub blocks: Vec<(usize, usize)>,
    pub succs: Vec<Vec<usize>>,
}

pub(crate) fn cfg(code: &[VInsn]) -> Cfg {
    let mut leaders = vec![false; code.len() + 1];
    if !code.is_empty() {
        leaders[0] = true;
    }
    for (i, ins) in code.iter().enumerate() {
        if matches!(ins.op, VOp::Label(_)) {
            leaders[i] = true;
        }
        if ins.op.target().is_some() || !ins.op.falls_through() {
            leaders[i + 1] = true;
        }
    }
    let mut blocks = Vec::new();
    let mut start = 0;
    for (i, &lead) in leaders.iter().enumerate().skip(1) {
        if lead || i == code.len() {
            if start < i {
                blocks.push((start, i - 1));
            }
            start = i;
        }
    }
    let mut label_block = HashMap::default();
    for (b, &(s, e)) in blocks.iter().enumerate() {
        for ins in &code[s..=e] {
            if let VOp::Label(l) = ins.op {
                label_block.insert(l, b);
            }
        }
    }
    let mut succs = Vec::new();
    for (b, &(_, e)) in blocks.iter().enumerate() {
        let mut s = Vec::new();
        let last = code[e].op;
        if let Some(t) = last.target() {
            if let Some(&tb) = label_block.get(&t) {
                s.push(tb);
            }
        }
        if last.falls_through() && b + 1 < blocks.len() {
            s.push(b + 1);
        }
        succs.push(s);
    }
    Cfg { blocks, succs }
}

struct BitSet(Vec<u64>);

impl BitSet {
    fn new(n: usize) -> BitSet {
        BitSet(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: u32) {
        self.0[(i / 64) as usize] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: u32) {
        self.0[(i / 64) as usize] &= !(1 << (i % 64));
    }
    fn get(&self, i: u32) -> bool {
        self.0[(i / 64) as usize] & (1 << (i % 64)) != 0
    }
    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| (w * 64 + b) as u32)
        })
    }
}

/// Allocation result: a location per virtual register and the stack bytes used.
pub struct Allocation {
    pub locs: HashMap<u32, Loc>,
    /// Lowest spill offset used (0 when nothing spilled).
    pub min_offset: i16,
}

/// Allocates registers for `code` (virtual registers below `nregs`).
pub fn allocate(code: &[VInsn], nregs: u32, spill_base: i16) -> Result<Allocation, String> {
    let n = nregs as usize;
    let g = cfg(code);
    let nb = g.blocks.len();
    let mut uses = Vec::new();
    let mut defs = Vec::new();
    // Block-level use/def, then live-in/out to a fixed point.
    let mut buse: Vec<BitSet> = (0..nb).map(|_| BitSet::new(n)).collect();
    let mut bdef: Vec<BitSet> = (0..nb).map(|_| BitSet::new(n)).collect();
    for (b, &(s, e)) in g.blocks.iter().enumerate() {
        for ins in &code[s..=e] {
            uses.clear();
            defs.clear();
            ins.op.uses(&mut uses);
            ins.op.defs(&mut defs);
            for u in &uses {
                if u.0 < nregs && !bdef[b].get(u.0) {
                    buse[b].set(u.0);
                }
            }
            for d in &defs {
                if d.0 < nregs {
                    bdef[b].set(d.0);
                }
            }
        }
    }
    let mut live_in: Vec<BitSet> = (0..nb).map(|_| BitSet::new(n)).collect();
    let mut live_out: Vec<BitSet> = (0..nb).map(|_| BitSet::new(n)).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for b in (0..nb).rev() {
            let words = live_out[b].0.len();
            for w in 0..words {
                let mut x = 0;
                for &s in &g.succs[b] {
                    x |= live_in[s].0[w];
                }
                live_out[b].0[w] = x;
                let inn = buse[b].0[w] | (x & !bdef[b].0[w]);
                if inn != live_in[b].0[w] {
                    live_in[b].0[w] = inn;
                    changed = true;
                }
            }
        }
    }
    // Interval hulls for virtual registers; exact segments for fixed ones.
    let mut lo = vec![u32::MAX; n];
    let mut hi = vec![0u32; n];
    let mut fixed: Vec<Vec<(u32, u32)>> = vec![Vec::new(); FIXED as usize];
    let touch = |lo: &mut Vec<u32>, hi: &mut Vec<u32>, v: u32, p: u32| {
        let v = v as usize;
        lo[v] = lo[v].min(p);
        hi[v] = hi[v].max(p);
    };
    for (b, &(s, e)) in g.blocks.iter().enumerate() {
        let mut live = BitSet(live_out[b].0.clone());
        let mut open: [Option<u32>; FIXED as usize] = [None; FIXED as usize];
        let end_pos = 2 * e as u32 + 1;
        for v in live.iter() {
            if v >= FIRST_VIRT {
                touch(&mut lo, &mut hi, v, end_pos);
            } else if v < FIXED {
                open[v as usize] = Some(end_pos);
            }
        }
        for i in (s..=e).rev() {
            uses.clear();
            defs.clear();
            code[i].op.uses(&mut uses);
            code[i].op.defs(&mut defs);
            let (up, dp) = (2 * i as u32, 2 * i as u32 + 1);
            for d in &defs {
                if d.0 >= FIRST_VIRT {
                    touch(&mut lo, &mut hi, d.0, dp);
                } else if d.0 < FIXED {
                    let end = open[d.0 as usize].take().unwrap_or(dp);
                    fixed[d.0 as usize].push((dp, end));
                }
                if d.0 < nregs {
                    live.clear(d.0);
                }
            }
            for u in &uses {
                if u.0 >= FIRST_VIRT {
                    touch(&mut lo, &mut hi, u.0, up);
                } else if u.0 < FIXED && open[u.0 as usize].is_none() {
                    open[u.0 as usize] = Some(up);
                }
                if u.0 < nregs {
                    live.set(u.0);
                }
            }
        }
        let start_pos = 2 * s as u32;
        for v in live.iter() {
            if v >= FIRST_VIRT {
                touch(&mut lo, &mut hi, v, start_pos);
            }
        }
        for (p, o) in open.iter().enumerate() {
            if let Some(end) = o {
                fixed[p].push((start_pos, *end));
            }
        }
    }
    let mut intervals: Vec<Interval> = (FIRST_VIRT..nregs)
        .filter(|&v| lo[v as usize] != u32::MAX)
        .map(|v| Interval {
            v,
            start: lo[v as usize],
            end: hi[v as usize],
        })
        .collect();
    intervals.sort_by_key(|iv| (iv.start, iv.v));
    // Move hints: `mov d, s` where s dies there prefers s's register.
    let mut hints: HashMap<u32, u32> = HashMap::default();
    for ins in code {
        if let VOp::Alu {
            op: bpf_bridge::isa::AluOp::Mov,
            dst,
            src: VSrc::Reg(s),
        } = ins.op
        {
            if dst.0 >= FIRST_VIRT && s.0 >= FIRST_VIRT {
                hints.entry(dst.0).or_insert(s.0);
            }
        }
    }
    let conflicts_fixed = |r: u8, s: u32, e: u32| -> bool {
        (r as u32) < FIXED && fixed[r as usize].iter().any(|&(a, b)| a <= e && s <= b)
    };
    let mut locs: HashMap<u32, Loc> = HashMap::default();
    let mut active: Vec<Interval> = Vec::new();
    // Spill slots are reused once every interval in them has ended before the
    // new one starts (intervals arrive by increasing start).
    let mut slots: Vec<(i16, u32)> = Vec::new();
    let mut lowest = spill_base + 8;
    let mut spill = |locs: &mut HashMap<u32, Loc>, iv: &Interval| -> Result<(), String> {
        let slot = match slots.iter_mut().find(|(_, until)| *until < iv.start) {
            Some(s) => {
                s.1 = iv.end;
                s.0
            }
            None => {
                let off = spill_base - 8 * slots.len() as i16;
                if off < -512 {
                    return Err(
                        "too many values are live at once for the 512-byte eBPF stack".into(),
                    );
                }
                slots.push((off, iv.end));
                lowest = off;
                off
            }
        };
        locs.insert(iv.v, Loc::Stack(slot));
        Ok(())
    };
    for iv in intervals {
        active.retain(|a| a.end >= iv.start);
        let held: Vec<u8> = active
            .iter()
            .filter_map(|a| match locs.get(&a.v) {
                Some(Loc::Reg(r)) => Some(*r),
                _ => None,
            })
            .collect();
        let usable = |r: u8| !held.contains(&r) && !conflicts_fixed(r, iv.start, iv.end);
        let hint = hints.get(&iv.v).and_then(|s| match locs.get(s) {
            Some(Loc::Reg(r)) if usable(*r) => Some(*r),
            _ => None,
        });
        if let Some(r) = hint.or_else(|| ALLOCATABLE.iter().copied().find(|&r| usable(r))) {
            locs.insert(iv.v, Loc::Reg(r));
            active.push(iv);
            continue;
        }
        // Spill the interval that ends last among those whose register would do.
        let victim = active
            .iter()
            .enumerate()
            .filter(|(_, a)| match locs.get(&a.v) {
                Some(Loc::Reg(r)) => !conflicts_fixed(*r, iv.start, iv.end),
                _ => false,
            })
            .max_by_key(|(_, a)| a.end)
            .map(|(i, a)| (i, *a));
        match victim {
            Some((i, a)) if a.end > iv.end => {
                let r = match locs.get(&a.v) {
                    Some(Loc::Reg(r)) => *r,
                    _ => continue,
                };
                spill(&mut locs, &a)?;
                active.remove(i);
                locs.insert(iv.v, Loc::Reg(r));
                active.push(iv);
            }
            _ => spill(&mut locs, &iv)?,
        }
    }
    Ok(Allocation {
        locs,
        min_offset: lowest,
    })
}
