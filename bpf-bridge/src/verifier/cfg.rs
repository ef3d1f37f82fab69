//! Structure checks that need no abstract interpretation: decoding, immediates,
//! helper ids, functions and calls, reachability; plus register liveness and
//! the instructions where states are recorded for pruning.

use super::error::{fail, Rule, VerifyError};
use crate::isa::{decode_program, AluOp, Op, Src, Width};
use crate::program::{helper_id, MapKind, Program};
use alloc::vec;
use alloc::vec::Vec;

/// Most frames (main function included) a call chain may have.
pub const MAX_FRAMES: usize = 8;

/// The helpers every program type may call.
pub const HELPERS: [i32; 7] = [
    helper_id::MAP_LOOKUP_ELEM,
    helper_id::MAP_UPDATE_ELEM,
    helper_id::MAP_DELETE_ELEM,
    helper_id::KTIME_GET_NS,
    helper_id::TRACE_PRINTK,
    helper_id::GET_PRANDOM_U32,
    helper_id::GET_SMP_PROCESSOR_ID,
];

/// Number of argument registers a helper reads.
pub fn helper_args(id: i32) -> usize {
    match id {
        helper_id::MAP_LOOKUP_ELEM | helper_id::MAP_DELETE_ELEM => 2,
        helper_id::MAP_UPDATE_ELEM => 4,
        helper_id::TRACE_PRINTK => 5,
        // For `raw` programs the conformance helper 5 returns r1.
        helper_id::KTIME_GET_NS => 1,
        _ => 0,
    }
}

/// The checked structure of a program.
pub struct Cfg {
    /// One op per slot.
    pub ops: Vec<Op>,
    /// Whether states are recorded before this slot.
    pub prune_point: Vec<bool>,
    /// Registers (bit i = ri) whose value may be read before being written, from
    /// this slot on within its function.
    pub live: Vec<u16>,
    /// Stack slots of the current frame (bit i = slot i) that may be read
    /// before being overwritten, from this slot on.
    pub stack_live: Vec<u64>,
    /// No local calls and every jump goes forward: a path never reaches a
    /// slot twice.
    pub acyclic: bool,
    /// Some local call: paths may have more than one frame.
    pub calls: bool,
}

fn successors(ops: &[Op], pc: usize, out: &mut Vec<usize>) {
    let op = ops[pc];
    out.clear();
    if let Some(t) = op.target(pc) {
        if !matches!(op, Op::CallLocal { .. }) {
            out.push(t as usize);
        }
    }
    if op.falls_through() {
        let next = pc + op.slots().max(1);
        if next < ops.len() {
            out.push(next);
        }
    }
}

/// Runs every structure check and computes liveness.
pub fn build(prog: &Program) -> Result<Cfg, VerifyError> {
    let ops = decode_program(&prog.insns)
        .map_err(|e| VerifyError::new(e.index, Rule::Structure, e.reason))?;
    let n = ops.len();
    let mut prune_point = vec![false; n];
    let mut calls = false;
    // Every jump within a function goes forward (see [`jumps_forward`]).
    let mut forward = true;
    // Reachability in the same pass, right when every jump goes forward and
    // there is no call (a slot is final when the walk gets to it): the first
    // unreachable slot.
    let mut seen = vec![false; n];
    seen[0] = true;
    let mut unseen = None;
    for (pc, op) in ops.iter().enumerate() {
        check_op(prog, pc, op)?;
        if seen[pc] {
            if let Some(t) = op.target(pc) {
                seen[t as usize] = true;
            }
            if op.falls_through() {
                if let Some(s) = seen.get_mut(pc + op.slots().max(1)) {
                    *s = true;
                }
            }
        } else if unseen.is_none() && !matches!(op, Op::LddwHigh) {
            unseen = Some(pc);
        }
        if let Some(t) = op.target(pc) {
            prune_point[t as usize] = true;
            if matches!(op, Op::CallLocal { .. }) {
                calls = true;
            } else {
                forward &= t as usize > pc;
            }
        }
        match op {
            Op::Jmp { .. } | Op::CallLocal { .. } | Op::Call { .. } | Op::CallReg { .. }
                if pc + 1 < n =>
            {
                prune_point[pc + 1] = true
            }
            Op::MayGoto { .. } => prune_point[pc] = true,
            _ => {}
        }
    }
    if calls {
        check_functions(&ops)?;
    } else {
        // One function: it only has to end in exit or a jump.
        let mut last = n - 1;
        if ops[last] == Op::LddwHigh && last > 0 {
            last -= 1;
        }
        if ops[last].falls_through() {
            return fail(last, Rule::Calls, "function ends without exit or jump");
        }
    }
    if calls || !forward {
        let seen = reachable(&ops);
        unseen = (0..n).find(|&pc| !seen[pc] && !matches!(ops[pc], Op::LddwHigh));
    }
    if let Some(pc) = unseen {
        return fail(pc, Rule::Unreachable, "unreachable instruction");
    }
    let live = liveness(&ops, forward);
    let raw = prog.prog_type == crate::program::ProgType::Raw;
    let stack_live = super::stack_live::stack_liveness(&ops, raw, forward);
    Ok(Cfg {
        ops,
        prune_point,
        live,
        stack_live,
        acyclic: !calls && forward,
        calls,
    })
}

/// The checks of one op on its own: immediates, helper ids, map references.
fn check_op(prog: &Program, pc: usize, op: &Op) -> Result<(), VerifyError> {
    match *op {
        Op::Alu {
            op: alu,
            src: Src::Imm(imm),
            width,
            ..
        } => {
            if matches!(alu, AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod) && imm == 0 {
                return fail(pc, Rule::DivByZero, "division or modulo by immediate 0");
            }
            let bits = if width == Width::W64 { 64 } else { 32 };
            if matches!(alu, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) && !(0..bits).contains(&imm) {
                return fail(
                    pc,
                    Rule::ShiftRange,
                    format!("shift by {imm} on a {bits}-bit operand"),
                );
            }
        }
        Op::Call { helper } if !HELPERS.contains(&helper) => {
            return fail(
                pc,
                Rule::UnknownHelper,
                format!(
                    "unknown helper {helper} for {} programs",
                    prog.prog_type.name()
                ),
            );
        }
        Op::LoadMap { map, .. } | Op::LoadMapValue { map, .. } => {
            let Some(def) = prog.maps.get(map as usize) else {
                return fail(
                    pc,
                    Rule::BadMap,
                    format!(
                        "map index {map} but the program has {} maps",
                        prog.maps.len()
                    ),
                );
            };
            if let Op::LoadMapValue { offset, .. } = *op {
                if def.kind != MapKind::Array || def.max_entries != 1 {
                    return fail(
                        pc,
                        Rule::BadMap,
                        format!(
                            "direct value access needs an array map of one entry, {} is not",
                            def.name
                        ),
                    );
                }
                if offset >= def.value_size {
                    return fail(
                        pc,
                        Rule::BadMap,
                        format!(
                            "direct value offset {offset} beyond value size {}",
                            def.value_size
                        ),
                    );
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks a program with local calls: jumps stay inside their function, which
/// ends in exit or an unconditional jump, and the call graph is acyclic and
/// shallow enough.
fn check_functions(ops: &[Op]) -> Result<(), VerifyError> {
    let n = ops.len();
    let mut func_start = vec![false; n];
    func_start[0] = true;
    for (pc, op) in ops.iter().enumerate() {
        if let (Op::CallLocal { .. }, Some(t)) = (op, op.target(pc)) {
            func_start[t as usize] = true;
        }
    }
    // Function of each slot.
    let mut func = vec![0usize; n];
    let mut starts = Vec::new();
    for pc in 0..n {
        if func_start[pc] {
            starts.push(pc);
        }
        func[pc] = starts.len() - 1;
    }
    for (f, &s) in starts.iter().enumerate() {
        let end = starts.get(f + 1).copied().unwrap_or(n);
        let mut last = end - 1;
        if ops[last] == Op::LddwHigh && last > s {
            last -= 1;
        }
        if ops[last].falls_through() {
            return fail(last, Rule::Calls, "function ends without exit or jump");
        }
    }
    for (pc, op) in ops.iter().enumerate() {
        if matches!(op, Op::CallLocal { .. }) {
            continue;
        }
        if let Some(t) = op.target(pc) {
            if func[t as usize] != func[pc] {
                return fail(
                    pc,
                    Rule::Calls,
                    format!(
                        "jump from function at {} into another at {}",
                        starts[func[pc]], starts[func[t as usize]]
                    ),
                );
            }
        }
    }
    check_call_graph(ops, &func, &starts)
}

/// Slots reachable from slot 0 through jumps and calls, by a walk of the
/// graph (without loops or calls, [`build`] finds them in its first sweep).
fn reachable(ops: &[Op]) -> Vec<bool> {
    let n = ops.len();
    let mut seen = vec![false; n];
    seen[0] = true;
    let mut succ = Vec::new();
    let mut work = vec![0usize];
    while let Some(pc) = work.pop() {
        successors(ops, pc, &mut succ);
        if let (Op::CallLocal { .. }, Some(t)) = (ops[pc], ops[pc].target(pc)) {
            succ.push(t as usize);
        }
        for &s in &succ {
            if !seen[s] {
                seen[s] = true;
                work.push(s);
            }
        }
    }
    seen
}

/// No recursion, and call chains of at most [`MAX_FRAMES`] frames.
fn check_call_graph(ops: &[Op], func: &[usize], starts: &[usize]) -> Result<(), VerifyError> {
    let nf = starts.len();
    let mut callees: Vec<Vec<(usize, usize)>> = vec![Vec::new(); nf];
    for (pc, op) in ops.iter().enumerate() {
        if let (Op::CallLocal { .. }, Some(t)) = (op, op.target(pc)) {
            callees[func[pc]].push((func[t as usize], pc));
        }
    }
    // Longest chain by memoised DFS; colour 1 = on the DFS path (a cycle).
    let mut colour = vec![0u8; nf];
    let mut height = vec![0usize; nf];
    fn dfs(
        f: usize,
        callees: &[Vec<(usize, usize)>],
        colour: &mut [u8],
        height: &mut [usize],
    ) -> Result<(), VerifyError> {
        colour[f] = 1;
        let mut h = 1;
        for &(g, pc) in &callees[f] {
            match colour[g] {
                1 => return fail(pc, Rule::Calls, "recursive call"),
                0 => dfs(g, callees, colour, height)?,
                _ => {}
            }
            h = h.max(height[g] + 1);
        }
        height[f] = h;
        colour[f] = 2;
        Ok(())
    }
    dfs(0, &callees, &mut colour, &mut height)?;
    if height[0] > MAX_FRAMES {
        let pc = callees[0].first().map(|c| c.1).unwrap_or(0);
        return fail(
            pc,
            Rule::Calls,
            format!("call chain of {} frames, at most {MAX_FRAMES}", height[0]),
        );
    }
    Ok(())
}

fn uses_defs(op: &Op) -> (u16, u16) {
    let bit = |r: crate::isa::Reg| 1u16 << r.num();
    let src_bit = |s: &Src| match s {
        Src::Reg(r) => bit(*r),
        Src::Imm(_) => 0,
    };
    const ARGS: u16 = 0b11_1110;
    const CALLER_SAVED: u16 = 0b11_1111;
    match op {
        Op::Alu {
            op: AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32,
            dst,
            src,
            ..
        } => (src_bit(src), bit(*dst)),
        Op::Alu { dst, src, .. } => (bit(*dst) | src_bit(src), bit(*dst)),
        Op::Neg { dst, .. } | Op::Endian { dst, .. } => (bit(*dst), bit(*dst)),
        Op::LoadImm64 { dst, .. } | Op::LoadMap { dst, .. } | Op::LoadMapValue { dst, .. } => {
            (0, bit(*dst))
        }
        Op::Load { dst, base, .. } => (bit(*base), bit(*dst)),
        Op::Store { base, src, .. } => (bit(*base) | src_bit(src), 0),
        Op::Atomic {
            op,
            fetch,
            base,
            src,
            ..
        } => {
            let mut u = bit(*base) | bit(*src);
            let mut d = 0;
            if *op == crate::isa::AtomicOp::Cmpxchg {
                u |= 1;
                d = 1;
            } else if *fetch {
                d = bit(*src);
            }
            (u, d)
        }
        Op::Jmp { dst, src, .. } => (bit(*dst) | src_bit(src), 0),
        Op::Call { helper } => {
            let n = helper_args(*helper);
            (((1u16 << (n + 1)) - 1) & ARGS, CALLER_SAVED)
        }
        Op::CallReg { reg } => (bit(*reg) | ARGS, CALLER_SAVED),
        Op::CallLocal { .. } => (ARGS, CALLER_SAVED),
        Op::Exit => (1, 0),
        Op::Ja { .. } | Op::MayGoto { .. } | Op::LddwHigh => (0, 0),
    }
}

/// Whether every jump within a function goes forward: then one backward pass
/// over the slots computes liveness (each slot's successors are final before
/// it is reached), and one forward pass what flows into each slot.
#[cfg(test)]
fn jumps_forward(ops: &[Op]) -> bool {
    ops.iter().enumerate().all(|(pc, op)| {
        matches!(op, Op::CallLocal { .. }) || op.target(pc).is_none_or(|t| t as usize > pc)
    })
}

/// Backward may-liveness of registers within functions (calls are opaque: they
/// read r1–r5 and clobber r0–r5).
fn liveness(ops: &[Op], forward: bool) -> Vec<u16> {
    let n = ops.len();
    let mut live = vec![0u16; n];
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (0..n).rev() {
            let op = &ops[pc];
            if matches!(op, Op::LddwHigh) {
                continue;
            }
            let mut out = 0;
            if let (Some(t), false) = (op.target(pc), matches!(op, Op::CallLocal { .. })) {
                out |= live[t as usize];
            }
            if op.falls_through() {
                out |= live.get(pc + op.slots().max(1)).copied().unwrap_or(0);
            }
            let (u, d) = uses_defs(op);
            let v = u | (out & !d) | (1 << 10);
            if v != live[pc] {
                live[pc] = v;
                changed = true;
            }
        }
        changed &= !forward;
    }
    live
}

#[cfg(test)]
mod tests {
    use super::{jumps_forward, liveness};
    use crate::asm::assemble;
    use crate::isa::decode_program;
    use crate::program::ProgType;
    use crate::verifier::stack_live::stack_liveness;

    /// With only forward jumps, one pass finds what passes to a fixpoint
    /// find: checked on every program of the verifier corpus.
    #[test]
    fn one_pass_when_jumps_go_forward() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/verifier");
        let mut checked = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            let Ok(asm) = assemble(&text) else { continue };
            let prog = asm.into_program("t", ProgType::Xdp);
            let Ok(ops) = decode_program(&prog.insns) else {
                continue;
            };
            if !jumps_forward(&ops) {
                continue;
            }
            assert_eq!(liveness(&ops, true), liveness(&ops, false));
            for raw in [false, true] {
                let one = stack_liveness(&ops, raw, true);
                assert_eq!(one, stack_liveness(&ops, raw, false));
            }
            checked += 1;
        }
        assert!(checked > 50, "{checked}");
    }
}
