//! Counted loops whose counter exit can be folded into their packet guard.
//!
//! The shape C takes for the verifier: a pointer `p` advanced by `k` bytes an
//! iteration and checked against an end `e` at the top, and a counter `c`
//! bounding the trip count at the bottom:
//!
//! ```text
//! H:   t = p; t += k; if t > e goto X     (the guard)
//!      ... p = t ...                      (p advanced once, by the guard's t)
//!      c += 1
//! B:   if c < n goto H                    (the latch; X is B + 1)
//! ```
//!
//! When `c` and `t` are dead at the exits, both tests leave to the same state
//! at X, so one test can do both: on entry the loop computes the limit
//! `min(e, p + m * k)` once, `m` the iterations the counter allows (`n - c`
//! when `c < n`; `n + 1` when `c` is `u64::MAX`, its add wrapping to 0; else
//! 1), the guard compares `t` with it, and the counter's add and test
//! disappear (the latch becomes a jump). Iteration `i` starts with
//! `t = p0 + (i + 1) * k`: it passes the limit exactly when it passes `e` and
//! `i < m` (iteration 0 always gets to its guard).
//!
//! The sums must not wrap. Only verified mode uses this, and only when the
//! loop reads or writes through `p` on every path from the guard before any
//! other test: an iteration that passes the guard then proves `p` a pointer
//! into a region of user memory (below 2^48), and `m * k < 2^62`. An
//! iteration that fails it fails the limit too (which is at most `e`).
//! Nothing in the loop may clobber the limit's register (no call, no
//! division, no variable shift, no atomic, no access left to a run-time check).
//!
//! When nothing but the advance reads `t` (and nothing writes it), `t` need
//! not exist: the guard compares `p` itself with `limit - (k - 1)`
//! (saturating at 0; `p + k > limit` exactly when `p >= limit - (k - 1)`,
//! the sum not wrapping), the head's copy and add go, and the advance
//! becomes `p += k` ([`GuardLoop::by_pointer`]).

use crate::regflow::{bit, dead_from, effects, Regs};
use alloc::vec::Vec;
use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::isa::{decode_one, is_cond_jump_imm, AluOp, Insn, JmpOp, Op, Reg, Src, Width};

/// A loop whose counter test is folded into its guard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GuardLoop {
    /// The loop head H (the guard's copy `t = p`).
    pub head: usize,
    /// The latch B (`if c < n goto H`); `B - 1` is the counter's add.
    pub latch: usize,
    /// The advancing pointer.
    pub p: Reg,
    /// The counter.
    pub c: Reg,
    /// The end the guard compares with.
    pub e: Reg,
    /// The guard's bytes per iteration.
    pub k: i32,
    /// The counter's bound.
    pub n: i32,
    /// The guard's register (`t = p + k`).
    pub t: Reg,
    /// The advance `p = t`.
    pub advance: usize,
    /// Whether the advance alone reads `t`, nothing writes it and it is
    /// dead at every exit: the guard then tests `p` and `t` is never set.
    pub by_pointer: bool,
    /// With `by_pointer`, where `p += k` may go before the advance: slot
    /// `hoist_from + i` when bit `i` of `hoist_mask` is set (the adds of
    /// the packet loops ran 10-20% faster on Ice Lake right after the
    /// last read of `p` than just before the latch's compare).
    pub hoist_from: usize,
    pub hoist_mask: u64,
}

impl GuardLoop {
    /// The guard's conditional jump.
    pub fn guard(&self) -> usize {
        self.head + 2
    }
}

/// Loops looked at at most (each costs a pass over the program's jumps).
const MAX_CANDIDATES: usize = 8;

/// The loops of `insns` that [`GuardLoop`] describes, by head. `exit_reads`
/// is what an `exit` reads ([`crate::regflow::exit_reads`]).
pub(crate) fn find(insns: &[Insn], facts: &Facts, exit_reads: Regs) -> Vec<GuardLoop> {
    let mut out: Vec<GuardLoop> = Vec::new();
    let mut candidates = 0;
    for (b, &insn) in insns.iter().enumerate() {
        if !is_cond_jump_imm(insn) || insn.off >= 0 {
            continue;
        }
        candidates += 1;
        if candidates > MAX_CANDIDATES {
            break;
        }
        if let Some(l) = at_latch(insns, facts, exit_reads, b) {
            // Loops may not overlap (nested ones are rejected below anyway).
            if out.last().is_none_or(|o| o.latch < l.head) {
                out.push(l);
            }
        }
    }
    out
}

/// Whether `op` is lowered with code that leaves the limit's register alone
/// and calls nothing.
fn keeps_limit(op: Op) -> bool {
    match op {
        Op::Alu { op, src, .. } => match op {
            AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod => false,
            AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => matches!(src, Src::Imm(_)),
            _ => true,
        },
        Op::Neg { .. }
        | Op::Endian { .. }
        | Op::LoadImm64 { .. }
        | Op::LoadMap { .. }
        | Op::LoadMapValue { .. }
        | Op::LddwHigh
        | Op::Load { .. }
        | Op::Store { .. }
        | Op::Jmp { .. }
        | Op::Ja { .. } => true,
        Op::Atomic { .. }
        | Op::MayGoto { .. }
        | Op::Call { .. }
        | Op::CallReg { .. }
        | Op::CallLocal { .. }
        | Op::Exit => false,
    }
}

fn alu64(op: Op) -> Option<(AluOp, Reg, Src)> {
    match op {
        Op::Alu {
            width: Width::W64,
            op,
            dst,
            src,
        } => Some((op, dst, src)),
        _ => None,
    }
}

/// The loop whose latch is slot `b`, if it has the shape.
fn at_latch(insns: &[Insn], facts: &Facts, exit_reads: Regs, b: usize) -> Option<GuardLoop> {
    let Ok(Op::Jmp {
        width: Width::W64,
        op: JmpOp::Lt,
        dst: c,
        src: Src::Imm(n),
        off,
    }) = decode_one(insns, b)
    else {
        return None;
    };
    let h = (b as i64 + 1 + off as i64).try_into().ok()?;
    // Room for the guard, one slot of body and the add; H - 1 falls through.
    if n <= 0 || h == 0 || h + 4 > b || b + 1 >= insns.len() {
        return None;
    }
    let (AluOp::Mov, t, Src::Reg(p)) = alu64(decode_one(insns, h).ok()?)? else {
        return None;
    };
    let (AluOp::Add, t2, Src::Imm(k)) = alu64(decode_one(insns, h + 1).ok()?)? else {
        return None;
    };
    let Ok(Op::Jmp {
        width: Width::W64,
        op: JmpOp::Gt,
        dst: t3,
        src: Src::Reg(e),
        off: goff,
    }) = decode_one(insns, h + 2)
    else {
        return None;
    };
    let (AluOp::Add, c2, Src::Imm(1)) = alu64(decode_one(insns, b - 1).ok()?)? else {
        return None;
    };
    let regs = bit(p) | bit(t) | bit(e) | bit(c);
    if t2 != t || t3 != t || c2 != c || k <= 0 || regs.count_ones() != 4 {
        return None;
    }
    if goff < 0 || h + 3 + goff as usize != b + 1 {
        return None;
    }
    // The entry falls through from H - 1 (no jump waits there to be fused).
    if matches!(
        decode_one(insns, h - 1),
        Ok(Op::Jmp { .. } | Op::Ja { .. } | Op::MayGoto { .. } | Op::Exit) | Err(_)
    ) || !jumps_ok(insns, h, b)
    {
        return None;
    }
    let (advance, by_pointer) = body(insns, facts, exit_reads, h, b, [p, t, e, c])?;
    let (hoist_from, hoist_mask) = if by_pointer {
        hoists(insns, h + 3, advance, b, p)
    } else {
        (advance, 0)
    };
    Some(GuardLoop {
        head: h,
        latch: b,
        p,
        c,
        e,
        k,
        n,
        t,
        advance,
        by_pointer,
        hoist_from,
        hoist_mask,
    })
}

/// Where `p += k` may go before the advance `a` (the body from `from`):
/// after the last read of `p`, at a slot `s` that no jump from before it
/// lands in or past (up to `a`) and with no exit between it and `a` — each
/// path then runs it once, where `p` is not read again. Bit `i` of the mask
/// says slot `start + i` is such a slot (the returned start).
fn hoists(insns: &[Insn], from: usize, a: usize, b: usize, p: Reg) -> (usize, u64) {
    let mut ops: Vec<(usize, Op)> = Vec::new();
    let mut start = from;
    let mut pc = from;
    while pc < a {
        let Ok(op) = decode_one(insns, pc) else {
            return (a, 0);
        };
        if effects(op).reads & bit(p) != 0 {
            start = pc + 1;
        }
        ops.push((pc, op));
        pc += op.slots().max(1);
    }
    let mut mask = 0;
    for s in start..a.min(start + 64) {
        let ok = ops.iter().all(|&(pc, op)| {
            let Some(t) = op.target(pc) else {
                return true;
            };
            if pc < s {
                t < s as i64 || t > a as i64
            } else {
                t <= b as i64
            }
        });
        mask |= (ok as u64) << (s - start);
    }
    (start, mask)
}

/// Whether the only ways into `[h, b]` are falling into `h` and the latch
/// `b`'s jump back to it; inside, jumps go forward and skip no part of the
/// latch (none lands on `b`, which would skip the counter's add).
fn jumps_ok(insns: &[Insn], h: usize, b: usize) -> bool {
    let mut pc = 0;
    while pc < insns.len() {
        let Ok(op) = decode_one(insns, pc) else {
            return false;
        };
        if let Some(t) = op.target(pc) {
            let inside = (h..=b).contains(&pc);
            let lands = t >= h as i64 && t <= b as i64;
            // (The latch itself jumps back to `h`.)
            let bad = if inside {
                t <= pc as i64 || t == b as i64
            } else {
                lands
            };
            if pc != b && bad {
                return false;
            }
        }
        pc += op.slots().max(1);
    }
    true
}

/// Whether the body `h + 3 .. b - 1` fits [`GuardLoop`] (`regs`: p, t, e,
/// c): if so, the advance and [`GuardLoop::by_pointer`].
fn body(
    insns: &[Insn],
    facts: &Facts,
    exit_reads: Regs,
    h: usize,
    b: usize,
    regs: [Reg; 4],
) -> Option<(usize, bool)> {
    let [p, t, e, c] = regs;
    let mut advance = None;
    // Whether an op other than the advance reads or writes `t`.
    let mut t_used = false;
    // Whether an access through `p` came before any jump.
    let mut proven = false;
    let mut jumped = false;
    // The furthest in-loop target of a jump before the advance.
    let mut inner_before_advance = 0i64;
    let mut exits: Vec<usize> = Vec::new();
    exits.push(b + 1);
    let mut pc = h + 3;
    while pc < b - 1 {
        let op = decode_one(insns, pc).ok()?;
        if !keeps_limit(op) || facts.accesses.get(pc) == Some(&Access::Check) {
            return None;
        }
        let fx = effects(op);
        // Exact for every op `keeps_limit` lets in (calls and atomics, whose
        // writes `kills` leaves out, are not).
        let w = fx.kills;
        if (fx.reads | w) & bit(c) != 0 || w & bit(e) != 0 {
            return None;
        }
        let reads_t = (fx.reads | w) & bit(t) != 0;
        if w & bit(p) != 0 {
            let is_advance = matches!(
                op,
                Op::Alu {
                    width: Width::W64,
                    op: AluOp::Mov,
                    src: Src::Reg(s),
                    ..
                } if s == t
            );
            if !is_advance || advance.is_some() {
                return None;
            }
            advance = Some(pc);
        } else {
            t_used |= reads_t;
        }
        if w & bit(t) != 0 && advance.is_none() {
            return None;
        }
        if !jumped && advance.is_none() {
            let base = match op {
                Op::Load { base, .. } | Op::Store { base, .. } => Some(base),
                _ => None,
            };
            if base == Some(p) && facts.accesses.get(pc) == Some(&Access::Proven) {
                proven = true;
            }
        }
        if let Some(tg) = op.target(pc) {
            jumped = true;
            if tg > b as i64 {
                exits.push(tg as usize);
            } else if advance.is_none() {
                inner_before_advance = inner_before_advance.max(tg);
            }
        }
        pc += op.slots().max(1);
    }
    // Every iteration that stays in the loop advances `p` by `k`: a jump
    // before the advance may not land past it (the limit would then count
    // iterations that do not advance, and such a loop would never end).
    let a = advance?;
    let ok = inner_before_advance <= a as i64
        && proven
        && dead_from(insns, &[b + 1], t, exit_reads)
        && dead_from(insns, &exits, c, exit_reads);
    let by_pointer = !t_used && dead_from(insns, &exits, t, exit_reads);
    ok.then_some((a, by_pointer))
}

#[cfg(all(test, feature = "std"))]
pub(crate) mod tests {
    use super::*;
    use bpf_bridge::asm::assemble;

    /// The loops [`find`] sees in the loop of `bench/loops/byte_count.s`
    /// with `body` after the load and `tail` after the loop.
    fn loops(body: &str, tail: &str) -> Vec<GuardLoop> {
        strided(1, body, tail).1
    }

    /// The same loop with a stride of `k` bytes: its slots and the loops.
    pub(crate) fn strided(k: i32, body: &str, tail: &str) -> (Vec<Insn>, Vec<GuardLoop>) {
        let text = format!(
            "    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    mov %r0, 0
    mov %r4, 0
loop:
    mov %r5, %r2
    add %r5, {k}
    jgt %r5, %r3, done
{body}
    mov %r2, %r5
    add %r4, 1
    jlt %r4, 2048, loop
done:
{tail}
    exit
"
        );
        let insns = assemble(&text).expect("assembles").insns;
        let facts = Facts {
            accesses: alloc::vec![Access::Proven; insns.len()],
            max_stack: 0,
        };
        let loops = find(&insns, &facts, 1);
        (insns, loops)
    }

    fn found(body: &str, tail: &str) -> usize {
        loops(body, tail).len()
    }

    const LOAD: &str = "    ldxb %r6, [%r2+0]\n    add %r0, %r6";

    #[test]
    fn the_bench_shape_is_found() {
        assert_eq!(found(LOAD, ""), 1);
        // Internal forward jumps and a later read through p are fine.
        let body = format!("{LOAD}\n    jne %r6, 10, +1\n    add %r0, 1\n    ldxb %r7, [%r2+0]");
        assert_eq!(found(&body, ""), 1);
    }

    #[test]
    fn the_guard_tests_p_when_nothing_else_reads_t() {
        let by_pointer = |body: &str| loops(body, "")[0].by_pointer;
        assert!(by_pointer(LOAD));
        assert!(!by_pointer(&format!("{LOAD}\n    ldxb %r7, [%r5-1]")));
        assert!(!by_pointer(&format!("{LOAD}\n    mov %r7, %r5")));
    }

    #[test]
    fn the_advance_goes_after_the_last_read_of_p_on_every_path() {
        let hoist = |body: &str| {
            let l = loops(body, "")[0];
            (l.hoist_from, l.hoist_mask)
        };
        // The load at 7, the advance at 9 (or later).
        assert_eq!(hoist(LOAD), (8, 0b1));
        // Up to a jump to the advance (the count of `byte_count.s`), not
        // between it and where it lands.
        let count = format!("{LOAD}\n    jne %r6, 10, +1\n    add %r0, 1");
        assert_eq!(hoist(&count), (8, 0b11));
        // Not before an exit (at 9, to `done`), nor between a jump and
        // where it lands.
        let exit = format!("{LOAD}\n    jeq %r6, 0x7f, +4\n    add %r0, 1");
        assert_eq!(hoist(&exit), (8, 0b100));
        let over = format!("{LOAD}\n    jeq %r6, 0x7f, +1\n    add %r0, 1\n    add %r0, 2");
        assert_eq!(hoist(&over), (8, 0b11));
        // After the last read of p (here the slot before the advance).
        assert_eq!(hoist(&format!("{LOAD}\n    ldxb %r7, [%r2+1]")), (10, 0));
        let late = format!("{LOAD}\n    mov %r7, %r2\n    add %r0, %r7");
        assert_eq!(hoist(&late), (10, 0b1));
    }

    #[test]
    fn what_the_fold_would_change_is_declined() {
        // The counter or the guard's register read after the loop.
        assert_eq!(found(LOAD, "    add %r0, %r4"), 0);
        assert_eq!(found(LOAD, "    add %r0, %r5"), 0);
        // The counter read or written in the body.
        assert_eq!(found(&format!("{LOAD}\n    add %r0, %r4"), ""), 0);
        assert_eq!(found(&format!("{LOAD}\n    add %r4, 1"), ""), 0);
        // The end or the pointer written.
        assert_eq!(found(&format!("{LOAD}\n    add %r3, 1"), ""), 0);
        assert_eq!(found(&format!("{LOAD}\n    add %r2, 1"), ""), 0);
        // The guard's register written before the pointer takes it.
        assert_eq!(found(&format!("{LOAD}\n    add %r5, 1"), ""), 0);
        // No access through p before a jump: nothing proves it a pointer.
        assert_eq!(found("    add %r0, 1", ""), 0);
        assert_eq!(
            found(&format!("    jeq %r0, 5, +0\n{LOAD}"), ""),
            0,
            "access after a jump"
        );
        // Ops whose code uses the limit's register, or calls.
        assert_eq!(found(&format!("{LOAD}\n    div %r0, %r6"), ""), 0);
        assert_eq!(found(&format!("{LOAD}\n    lsh %r0, %r6"), ""), 0);
        assert_eq!(found(&format!("{LOAD}\n    call 5"), ""), 0);
        // A jump to the latch would skip the counter's add.
        assert_eq!(found(&format!("{LOAD}\n    jeq %r6, 1, +2"), ""), 0);
        // A jump back inside the loop.
        assert_eq!(found(&format!("{LOAD}\n    jeq %r6, 1, -2"), ""), 0);
        // A jump over the advance: an iteration that keeps p would not
        // count towards the limit (and the loop might never end).
        assert_eq!(found(&format!("{LOAD}\n    jne %r6, 10, +1"), ""), 0);
        // One onto the advance is fine.
        assert_eq!(found(&format!("{LOAD}\n    jne %r6, 10, +0"), ""), 1);
        // A guard that jumps back (to before the program: no panic either).
        let text = "    mov %r4, 0\n    mov %r5, %r2\n    add %r5, 1\n    jgt %r5, %r3, -9\n    ldxb %r6, [%r2+0]\n    mov %r2, %r5\n    add %r4, 1\n    jlt %r4, 9, -7\n    exit\n";
        let insns = assemble(text).expect("assembles").insns;
        let facts = Facts {
            accesses: alloc::vec![Access::Proven; insns.len()],
            max_stack: 0,
        };
        assert!(find(&insns, &facts, 1).is_empty());
    }

    #[test]
    fn unproven_accesses_are_declined() {
        let text = "    mov %r4, 0
loop:
    mov %r5, %r2
    add %r5, 1
    jgt %r5, %r3, +4
    ldxb %r6, [%r2+0]
    mov %r2, %r5
    add %r4, 1
    jlt %r4, 9, loop
    exit
";
        let insns = assemble(text).expect("assembles").insns;
        let mut facts = Facts {
            accesses: alloc::vec![Access::Proven; insns.len()],
            max_stack: 0,
        };
        assert_eq!(find(&insns, &facts, 1).len(), 1);
        facts.accesses[4] = Access::Check;
        assert!(find(&insns, &facts, 1).is_empty());
    }
}
