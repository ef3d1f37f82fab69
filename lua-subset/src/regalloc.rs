//! Linear-scan register allocation of virtual registers onto r1–r4 and r6–r9
//! (r0 and r5 are kept as scratch for spill code; r0 also carries results).
//! Intervals come from block-level liveness; helper calls clobber r0–r5, so
//! values live across a call land in r6–r9 or on the stack.

use crate::codegen::vcode::*;

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

/// Basic blocks: `(first, last)` instruction indices, and successors (at
/// most two: the jump target and the fall-through).
pub(crate) struct Cfg {
    pub blocks: Vec<(usize, usize)>,
    pub succs: Vec<[u32; 2]>,
}

/// No successor in a [`Cfg::succs`] pair.
const NONE: u32 = u32::MAX;

pub(crate) fn cfg(code: &[VInsn]) -> Cfg {
    // Blocks end at jumps, exits and labels: a fraction of the code.
    let mut blocks = Vec::with_capacity(code.len() / 2 + 1);
    // Block of each label (labels are dense small numbers, fewer than the
    // instructions as a rule: the capacity spares regrowing).
    let mut label_block: Vec<u32> = Vec::with_capacity(code.len());
    let mut start = 0;
    for (i, ins) in code.iter().enumerate() {
        if let VOp::Label(l) = ins.op {
            if start < i {
                blocks.push((start, i - 1));
                start = i;
            }
            let l = l.0 as usize;
            if l >= label_block.len() {
                label_block.resize(l + 1, NONE);
            }
            label_block[l] = blocks.len() as u32;
        }
        if ins.op.target().is_some() || !ins.op.falls_through() {
            blocks.push((start, i));
            start = i + 1;
        }
    }
    if start < code.len() {
        blocks.push((start, code.len() - 1));
    }
    let succs = blocks
        .iter()
        .enumerate()
        .map(|(b, &(_, e))| {
            let last = code[e].op;
            let mut s = [NONE; 2];
            if let Some(t) = last.target() {
                s[0] = label_block.get(t.0 as usize).copied().unwrap_or(NONE);
            }
            if last.falls_through() && b + 1 < blocks.len() {
                s[1] = b as u32 + 1;
            }
            s
        })
        .collect();
    Cfg { blocks, succs }
}

/// One bit set per block, stored flat (`words` u64 per block).
struct BlockSets {
    words: usize,
    bits: Vec<u64>,
}

impl BlockSets {
    fn new(blocks: usize, n: usize) -> BlockSets {
        let words = n.div_ceil(64);
        BlockSets {
            words,
            bits: vec![0; blocks * words],
        }
    }
    fn of(&self, b: usize) -> &[u64] {
        &self.bits[b * self.words..(b + 1) * self.words]
    }
    fn of_mut(&mut self, b: usize) -> &mut [u64] {
        &mut self.bits[b * self.words..(b + 1) * self.words]
    }
}

fn set(bits: &mut [u64], i: u32) {
    bits[(i / 64) as usize] |= 1 << (i % 64);
}

fn get(bits: &[u64], i: u32) -> bool {
    bits[(i / 64) as usize] & (1 << (i % 64)) != 0
}

/// Calls `f` for every set bit.
fn each(bits: &[u64], mut f: impl FnMut(u32)) {
    for (w, &word) in bits.iter().enumerate() {
        let mut x = word;
        while x != 0 {
            f(w as u32 * 64 + x.trailing_zeros());
            x &= x - 1;
        }
    }
}

/// Allocation result: a location per virtual register and the stack bytes used.
pub struct Allocation {
    /// Location of each register, indexed by its number (`None` for
    /// physical registers and virtual ones never used).
    pub locs: Vec<Option<Loc>>,
    /// Lowest spill offset used (0 when nothing spilled).
    pub min_offset: i16,
    /// Positions of the first and last mention of each virtual register
    /// (`2i` read by instruction `i`, `2i + 1` written; `u32::MAX` and 0
    /// for those never named), for [`crate::copyprop`].
    pub(crate) first: Vec<u32>,
    pub(crate) last: Vec<u32>,
}

impl Allocation {
    /// Where `v` lives (physical registers are themselves).
    pub fn loc(&self, v: V) -> Loc {
        if v.is_phys() {
            Loc::Reg(v.0 as u8)
        } else {
            self.locs
                .get(v.0 as usize)
                .copied()
                .flatten()
                .unwrap_or(Loc::Reg(0))
        }
    }
}

/// Allocates registers for `code` (virtual registers below `nregs`).
pub fn allocate(code: &[VInsn], nregs: u32, spill_base: i16) -> Result<Allocation, String> {
    let n = nregs as usize;
    let g = cfg(code);
    let nb = g.blocks.len();
    // One forward pass: block-level use/def; the first and last instruction
    // naming each virtual register, and its interval's hull over them
    // (reads at `2i`, writes at `2i + 1`); move hints: `mov d, s` where s
    // dies there prefers s's register (the first such move of `d` counts).
    let mut buse = BlockSets::new(nb, n);
    let mut bdef = BlockSets::new(nb, n);
    let mut lo = vec![u32::MAX; n];
    let mut hi = vec![0u32; n];
    let mut hints: Vec<u32> = vec![NONE; n];
    // The instructions naming a fixed register, in order (calls, exits,
    // argument and result moves: a few).
    let mut at_fixed: Vec<u32> = Vec::with_capacity(code.len() / 4 + 4);
    for (b, &(s, e)) in g.blocks.iter().enumerate() {
        let (buse, bdef) = (buse.of_mut(b), bdef.of_mut(b));
        for (i, ins) in code[s..=e].iter().enumerate() {
            let i = (s + i) as u32;
            let mut names_fixed = false;
            let mut mention = |v: u32, p: u32| {
                if v >= FIRST_VIRT && v < nregs {
                    let v = v as usize;
                    // Positions only grow along the pass.
                    if lo[v] == u32::MAX {
                        lo[v] = p;
                    }
                    hi[v] = p;
                } else if v < FIXED {
                    names_fixed = true;
                }
            };
            ins.op.each_use(|u| {
                if u.0 < nregs && !get(bdef, u.0) {
                    set(buse, u.0);
                }
                mention(u.0, 2 * i);
            });
            ins.op.each_def(|d| {
                if d.0 < nregs {
                    set(bdef, d.0);
                }
                mention(d.0, 2 * i + 1);
            });
            if names_fixed {
                at_fixed.push(i);
            }
            if let VOp::Alu {
                op: bpf_bridge::isa::AluOp::Mov,
                dst,
                src: VSrc::Reg(s),
            } = ins.op
            {
                if dst.0 >= FIRST_VIRT
                    && dst.0 < nregs
                    && s.0 >= FIRST_VIRT
                    && hints[dst.0 as usize] == NONE
                {
                    hints[dst.0 as usize] = s.0;
                }
            }
        }
    }
    let words = buse.words;
    let mut live_in = BlockSets::new(nb, n);
    let mut live_out = BlockSets::new(nb, n);
    // Without a jump back (a loop), one backward sweep sees every block's
    // successors final already: the sweep that would confirm it is skipped.
    let forward_only = g
        .succs
        .iter()
        .enumerate()
        .all(|(b, s)| s.iter().all(|&t| t == NONE || t as usize > b));
    let mut changed = true;
    while changed {
        changed = false;
        for b in (0..nb).rev() {
            for w in 0..words {
                let mut x = 0;
                for &s in &g.succs[b] {
                    if s != NONE {
                        x |= live_in.bits[s as usize * words + w];
                    }
                }
                live_out.bits[b * words + w] = x;
                let inn = buse.bits[b * words + w] | (x & !bdef.bits[b * words + w]);
                if inn != live_in.bits[b * words + w] {
                    live_in.bits[b * words + w] = inn;
                    changed = true;
                }
            }
        }
        if forward_only {
            break;
        }
    }
    let (first, last) = (lo.clone(), hi.clone());
    // Virtual registers' hulls grow to the block ends they are live across.
    // Blocks come in code order, so the first block a register is live into
    // gives the least start and the last one it is live out of the greatest
    // end (a register live into a block is read in it or live out of it, one
    // live out of a block is written in it or live into it: the other ends
    // add nothing).
    let mut seen = vec![0u64; words];
    for (b, &(s, _)) in g.blocks.iter().enumerate() {
        for (w, seen) in seen.iter_mut().enumerate() {
            let new = live_in.of(b)[w] & !*seen;
            *seen |= new;
            each(&[new], |v| {
                let v = w * 64 + v as usize;
                if v >= FIRST_VIRT as usize {
                    lo[v] = lo[v].min(2 * s as u32);
                }
            });
        }
    }
    seen.fill(0);
    for (b, &(_, e)) in g.blocks.iter().enumerate().rev() {
        for (w, seen) in seen.iter_mut().enumerate() {
            let new = live_out.of(b)[w] & !*seen;
            *seen |= new;
            each(&[new], |v| {
                let v = w * 64 + v as usize;
                if v >= FIRST_VIRT as usize {
                    hi[v] = hi[v].max(2 * e as u32 + 1);
                }
            });
        }
    }
    // Exact segments for fixed registers, walking back.
    let mut fixed: [Vec<(u32, u32)>; FIXED as usize] =
        std::array::from_fn(|_| Vec::with_capacity(16));
    // The instructions of each block that name one, walking the list along.
    let mut next_fixed = 0;
    for (b, &(s, e)) in g.blocks.iter().enumerate() {
        let mut open: [Option<u32>; FIXED as usize] = [None; FIXED as usize];
        let end_pos = 2 * e as u32 + 1;
        let low = live_out.of(b).first().copied().unwrap_or(0);
        each(&[low], |v| {
            if v < FIXED {
                open[v as usize] = Some(end_pos);
            }
        });
        let first = next_fixed;
        while at_fixed.get(next_fixed).is_some_and(|&i| i as usize <= e) {
            next_fixed += 1;
        }
        for &i in at_fixed[first..next_fixed].iter().rev() {
            let i = i as usize;
            let op = code[i].op;
            let (up, dp) = (2 * i as u32, 2 * i as u32 + 1);
            op.each_def(|d| {
                if d.0 < FIXED {
                    let end = open[d.0 as usize].take().unwrap_or(dp);
                    fixed[d.0 as usize].push((dp, end));
                }
            });
            op.each_use(|u| {
                if u.0 < FIXED && open[u.0 as usize].is_none() {
                    open[u.0 as usize] = Some(up);
                }
            });
        }
        let start_pos = 2 * s as u32;
        for (p, o) in open.iter().enumerate() {
            if let Some(end) = o {
                fixed[p].push((start_pos, *end));
            }
        }
    }
    let mut intervals: Vec<Interval> = Vec::with_capacity(n.saturating_sub(FIRST_VIRT as usize));
    intervals.extend(
        (FIRST_VIRT..nregs)
            .filter(|&v| lo[v as usize] != u32::MAX)
            .map(|v| Interval {
                v,
                start: lo[v as usize],
                end: hi[v as usize],
            }),
    );
    intervals.sort_unstable_by_key(|iv| (iv.start, iv.v));
    let conflicts_fixed = |r: u8, s: u32, e: u32| -> bool {
        (r as u32) < FIXED && fixed[r as usize].iter().any(|&(a, b)| a <= e && s <= b)
    };
    let mut locs: Vec<Option<Loc>> = vec![None; n];
    let reg_of = |locs: &[Option<Loc>], v: u32| match locs[v as usize] {
        Some(Loc::Reg(r)) => Some(r),
        _ => None,
    };
    let mut active: Vec<Interval> = Vec::with_capacity(ALLOCATABLE.len() + 1);
    // Spill slots are reused once every interval in them has ended before the
    // new one starts (intervals arrive by increasing start).
    let mut slots: Vec<(i16, u32)> = Vec::new();
    let mut lowest = spill_base + 8;
    let mut spill = |locs: &mut [Option<Loc>], iv: &Interval| -> Result<(), String> {
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
        locs[iv.v as usize] = Some(Loc::Stack(slot));
        Ok(())
    };
    for iv in intervals {
        active.retain(|a| a.end >= iv.start);
        // Registers held by active intervals, as a bit mask.
        let held: u16 = active
            .iter()
            .filter_map(|a| reg_of(&locs, a.v))
            .fold(0, |m, r| m | 1 << r);
        let usable = |r: u8| held & (1 << r) == 0 && !conflicts_fixed(r, iv.start, iv.end);
        let hint = match hints[iv.v as usize] {
            NONE => None,
            s => reg_of(&locs, s).filter(|&r| usable(r)),
        };
        if let Some(r) = hint.or_else(|| ALLOCATABLE.iter().copied().find(|&r| usable(r))) {
            locs[iv.v as usize] = Some(Loc::Reg(r));
            active.push(iv);
            continue;
        }
        // Spill the interval that ends last among those whose register would do.
        let victim = active
            .iter()
            .enumerate()
            .filter(|(_, a)| match reg_of(&locs, a.v) {
                Some(r) => !conflicts_fixed(r, iv.start, iv.end),
                None => false,
            })
            .max_by_key(|(_, a)| a.end)
            .map(|(i, a)| (i, *a));
        match victim {
            Some((i, a)) if a.end > iv.end => {
                let Some(r) = reg_of(&locs, a.v) else {
                    continue;
                };
                spill(&mut locs, &a)?;
                active.remove(i);
                locs[iv.v as usize] = Some(Loc::Reg(r));
                active.push(iv);
            }
            _ => spill(&mut locs, &iv)?,
        }
    }
    Ok(Allocation {
        locs,
        min_offset: lowest,
        first,
        last,
    })
}
