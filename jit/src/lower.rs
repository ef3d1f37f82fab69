//! eBPF ops to [`MacroAssembler`] calls: the only match on eBPF operations in
//! the JIT. Register map, frame policy and checked/verified modes are decided
//! here once for every architecture.

use crate::abi;
use crate::buffer::{BufferError, Label, Offsets};
use crate::guard_loop::GuardLoop;
use crate::masm::{BinOp, DivOp, HostFn, MacroAssembler, Operand, VReg};
use crate::peephole;
use crate::targets::Targets;
use crate::{FaultKind, JitError, Options};
use alloc::vec::Vec;
use bpf_bridge::facts::{Access, CtxField, Facts};
use bpf_bridge::isa::{
    alu_op_of, byte_swap_of, decode_alu, decode_each, decode_one, decode_program, peek, semantics,
    AluOp, Endian, Insn, JmpOp, Op, OpSink, Peek, Reg, Shape, Size, Src, Width,
};
use bpf_bridge::program::{helper_id, MapDef};

mod combine;
mod guarded;
mod invert;
mod unroll;

/// Bytes of eBPF stack per frame.
pub const FRAME_SIZE: i32 = 512;

/// What lowering produced.
pub struct Lowered {
    /// Machine code.
    pub code: Vec<u8>,
    /// Native offset of each slot's code.
    pub offsets: Offsets,
}

struct FaultStub {
    label: Label,
    pc: usize,
    kind: FaultKind,
}

/// A checked load of an XDP program that may hit the context: its out-of-line
/// path moves the converted value (in T0) into `dst`.
struct CtxPath {
    label: Label,
    done: Label,
    dst: VReg,
    swap: Option<u8>,
}

struct Lowering<'a, M: MacroAssembler> {
    m: M,
    insns: &'a [Insn],
    /// Where jumps go, learnt as they are lowered.
    targets: Targets<'a>,
    maps: &'a [MapDef],
    xdp: bool,
    ctx_paths: Vec<CtxPath>,
    facts: Option<&'a Facts>,
    opts: &'a Options,
    /// Label of slot 0; slot `pc`'s is its `nth(pc)`.
    first: Label,
    stubs: Vec<FaultStub>,
    /// Backward conditional branches in checked mode: (trampoline, target, pc).
    back_edges: Vec<(Label, usize, usize)>,
    fault_exit: Label,
    check: Label,
    uses_check: bool,
    /// Callee-saved eBPF registers used anywhere (saved around local calls).
    saved_on_call: Vec<VReg>,
    key: u64,
    /// Slots before this one are lowered already: fused into an earlier
    /// slot's code (emitted with it).
    fused: usize,
    /// A conditional jump over one op, not lowered yet: the op after it may
    /// be lowered with it ([`Lowering::after_waiting`]).
    waiting: Option<(usize, Op)>,
    /// The last pseudo `lddw` of a map into r1: (slot, map).
    r1_map: Option<(usize, u32)>,
    /// Registers an `exit` reads ([`crate::regflow::exit_reads`]).
    exit_reads: u16,
    /// The first pseudo `lddw` naming a map the program does not have.
    bad_map: Option<JitError>,
    /// Loops whose counter test goes into the guard, by head; the first is
    /// being lowered or next ([`crate::guard_loop`]).
    guard_loops: Vec<GuardLoop>,
    /// The next slot of the first of `guard_loops` (`usize::MAX`: none).
    next_guard: usize,
    /// Whether that loop's limit is set (its slots are then lowered as
    /// `lower/guarded.rs` says).
    guard_armed: bool,
    /// Whether that loop's `p += k` was emitted before its advance.
    guard_hoisted: bool,
    /// What that loop's advance adds to `p` (`k`, but for the copies of an
    /// unrolled body: `lower/unroll.rs`).
    guard_step: i32,
    /// Whether that loop is unrolled (its latch then has no code).
    guard_unrolled: bool,
}

/// Decodes and lowers a program in one pass with `m`; `shape` is
/// [`Shape::scan`] of `insns`. `facts` selects verified mode; `xdp` says the
/// context is an `xdp_md` (whose checked loads may be converted).
pub fn lower<M: MacroAssembler>(
    mut m: M,
    insns: &[Insn],
    shape: &Shape,
    maps: &[MapDef],
    xdp: bool,
    facts: Option<&Facts>,
    opts: &Options,
) -> Result<Lowered, JitError> {
    let n = insns.len();
    if let Some(f) = facts {
        if f.accesses.len() != n {
            // A malformed program is reported as such first.
            decode_program(insns).map_err(JitError::Decode)?;
            return Err(JitError::FactsMismatch {
                slots: n,
                facts: f.accesses.len(),
            });
        }
    }
    let frame = crate::plan::plan(insns, shape, facts, opts);
    let mut saved_on_call = Vec::new();
    for r in 6..=9u8 {
        if frame.uses(VReg(r)) {
            saved_on_call.push(VReg(r));
        }
    }
    let first = m.new_labels(n);
    let exit_reads = crate::regflow::exit_reads(shape.has(Shape::LOCAL_CALL));
    let guard_loops = match facts {
        Some(f) if M::LOOP_LIMIT && opts.blind.is_none() && shape.has(Shape::BACK_JUMP) => {
            crate::guard_loop::find(insns, f, exit_reads)
        }
        _ => Vec::new(),
    };
    let fault_exit = m.new_label();
    let check = m.new_label();
    let mut l = Lowering {
        m,
        insns,
        targets: Targets::new(insns, shape),
        maps,
        xdp,
        ctx_paths: Vec::new(),
        facts,
        opts,
        first,
        stubs: Vec::new(),
        back_edges: Vec::new(),
        fault_exit,
        check,
        uses_check: false,
        saved_on_call,
        key: opts.blind.unwrap_or(0) | 1,
        fused: 0,
        waiting: None,
        r1_map: None,
        exit_reads,
        bad_map: None,
        next_guard: guard_loops.first().map_or(usize::MAX, |l| l.head),
        guard_loops,
        guard_armed: false,
        guard_hoisted: false,
        guard_step: 0,
        guard_unrolled: false,
    };
    let exit = l.m.new_label();
    l.m.entry(&frame, first);
    l.m.bind(exit);
    l.m.leave(&frame);
    if frame.host {
        l.m.bind(l.fault_exit);
        l.m.unwind_to(exit);
    }
    l.m.body_start();
    if l.guard_loops.is_empty() {
        decode_each(insns, &mut l)
    } else {
        decode_each(insns, &mut guarded::Sink(&mut l))
    }
    .map_err(JitError::Decode)?;
    // A jump still waiting would be the last op, jumping past the end, which
    // the decoder rejects above; lowering it anyway keeps `waiting` honest.
    l.lower_waiting();
    if let Some(e) = l.bad_map {
        return Err(e);
    }
    l.tail();
    let shrink = opts.shrink_branches;
    let (code, offsets) = l.m.finish(shrink, first, n).map_err(|e| match e {
        BufferError::OutOfRange => JitError::TooLarge,
        BufferError::Unbound => JitError::Internal("unbound label"),
    })?;
    Ok(Lowered { code, offsets })
}

impl<M: MacroAssembler> OpSink for Lowering<'_, M> {
    /// A slot's offset is where its label is bound; a fused slot has no code
    /// of its own: it starts where the next does.
    #[inline(always)]
    fn op(&mut self, pc: usize, op: Op) {
        if M::ALU_UNLESS && self.waiting.is_some() && self.after_waiting(pc) {
            return;
        }
        self.m.bind(self.first.nth(pc));
        if pc < self.fused {
            return;
        }
        if let Op::Jmp { off: 1, .. } = op {
            if M::ALU_UNLESS && self.opts.blind.is_none() && self.may_pair(pc + 1) {
                // Decided with the next op, which the decoder hands on next.
                self.waiting = Some((pc, op));
                return;
            }
        }
        self.lower_op(pc, op);
    }
}

impl<M: MacroAssembler> Lowering<'_, M> {
    fn access(&self, pc: usize) -> Access {
        self.facts.map_or(Access::Check, |f| f.accesses[pc])
    }

    fn fault(&mut self, pc: usize, kind: FaultKind) -> Label {
        let label = self.m.new_label();
        self.stubs.push(FaultStub { label, pc, kind });
        label
    }

    /// The immediate as an operand, blinded into T0 when asked.
    #[inline(always)]
    fn imm(&mut self, i: i32, scratch: VReg) -> Operand {
        if self.opts.blind.is_none() {
            return Operand::Imm(i);
        }
        self.blinded(i, scratch)
    }

    /// The immediate blinded into `scratch`.
    #[inline(never)]
    fn blinded(&mut self, i: i32, scratch: VReg) -> Operand {
        let k = self.key as i32;
        self.m.mov(Width::W64, scratch, Operand::Imm(i ^ k));
        self.m.alu(Width::W64, BinOp::Xor, scratch, Operand::Imm(k));
        Operand::Reg(scratch)
    }

    #[inline(always)]
    fn src(&mut self, s: Src, scratch: VReg) -> Operand {
        match s {
            Src::Reg(r) => Operand::Reg(VReg::bpf(r)),
            Src::Imm(i) => self.imm(i, scratch),
        }
    }

    /// Address for an access at `pc`: the base register itself when proven,
    /// else T0 after the run-time check (inline for the current stack frame
    /// and the packet, else by the host). For a checked load of an XDP program,
    /// `load` names its destination: a converted context load goes out of line
    /// and rejoins at the returned label, to bind after the load.
    #[inline(always)]
    fn address(
        &mut self,
        pc: usize,
        base: Reg,
        off: i16,
        bytes: usize,
        kind: u64,
        load: Option<(Reg, Option<u8>)>,
    ) -> (VReg, i32, Option<Label>) {
        if self.access(pc) == Access::Proven {
            return (VReg::bpf(base), off as i32, None);
        }
        self.checked_address(pc, base, off, bytes, kind, load)
    }

    /// [`Lowering::address`] of an access not proven.
    #[inline(never)]
    fn checked_address(
        &mut self,
        pc: usize,
        base: Reg,
        off: i16,
        bytes: usize,
        kind: u64,
        load: Option<(Reg, Option<u8>)>,
    ) -> (VReg, i32, Option<Label>) {
        self.uses_check = true;
        let a = VReg::T0;
        self.m.lea(a, VReg::bpf(base), off as i32);
        let ok = self.m.new_label();
        self.m.branch_if_in_frame(a, bytes, ok);
        self.m.branch_if_in_region(a, bytes, abi::PKT_REGION, ok);
        for i in 0..self.maps.len().min(abi::MAP_REGIONS_MAX) {
            let block = abi::MAP_REGIONS + 8 * abi::REGION_WORDS * i as i32;
            self.m.branch_if_in_region(a, bytes, block, ok);
        }
        let mut done = None;
        if let Some((dst, swap)) = load.filter(|_| self.xdp && bytes == 4 && kind == 0) {
            done = Some(self.ctx_field_load(VReg::bpf(dst), swap));
        }
        self.m.mov_imm64(VReg::T1, abi::pack_check(pc, kind, bytes));
        self.m.call_check(self.check);
        if let Some((dst, swap)) = load {
            done = self.ctx_path(dst, swap, done);
        }
        self.m.bind(ok);
        (a, 0, done)
    }

    /// Inline the checked 4-byte load of an `xdp_md` field at T0 (as the host
    /// check converts it: the field's full value from `abi::XDP_FIELDS`);
    /// falls through when T0 is not a field. Returns the label to bind after the load.
    fn ctx_field_load(&mut self, dst: VReg, swap: Option<u8>) -> Label {
        let (t, w) = (VReg::T1, Width::W64);
        let done = self.m.new_label();
        let other = self.m.new_label();
        // t = T0 - ctx start (r1 at entry is the context of XDP programs).
        self.m.load_ctx(t, abi::R1);
        self.m.alu(w, BinOp::Sub, t, Operand::Reg(VReg::T0));
        self.m.neg(w, t);
        let last = CtxField::XDP_MD_SIZE as i32 - 4;
        self.m.branch(w, JmpOp::Gt, t, Operand::Imm(last), other);
        self.m.branch(w, JmpOp::Set, t, Operand::Imm(3), other);
        // Fields are 4 bytes apart in `xdp_md`, 8 in the run context.
        self.m.alu(w, BinOp::Lsh, t, Operand::Imm(1));
        self.m.alu(w, BinOp::Add, t, Operand::Reg(VReg::CTX));
        self.m.load(Size::DW, false, dst, t, abi::XDP_FIELDS);
        if let Some(bits) = swap {
            self.m.bswap(bits, dst);
        }
        self.m.jump(done);
        self.m.bind(other);
        done
    }

    /// After a checked load's check: a converted context value goes out of line.
    /// `done` is the label to rejoin at, if one exists already.
    fn ctx_path(&mut self, dst: Reg, swap: Option<u8>, done: Option<Label>) -> Option<Label> {
        if !self.xdp {
            return None;
        }
        let label = self.m.new_label();
        let done = done.unwrap_or_else(|| self.m.new_label());
        self.m
            .branch(Width::W64, JmpOp::Ne, VReg::T1, Operand::Imm(0), label);
        self.ctx_paths.push(CtxPath {
            label,
            done,
            dst: VReg::bpf(dst),
            swap,
        });
        Some(done)
    }

    /// Lowers the op at `pc`. Inlined into each form [`decode_each`] tells
    /// apart, where `op`'s kind is a constant.
    #[inline(always)]
    fn lower_op(&mut self, pc: usize, op: Op) {
        match op {
            // (The guarded arms lower the op with its neighbours, `combine`.)
            Op::Alu {
                op: AluOp::Mov,
                src: Src::Reg(_),
                ..
            } if self.mov_reg(pc, op) => {}
            Op::Alu {
                width,
                op,
                dst,
                src,
            } => self.alu(width, op, VReg::bpf(dst), src),
            Op::Neg { width, dst } => self.m.neg(width, VReg::bpf(dst)),
            Op::Endian { kind, bits, dst } => match kind {
                // Every supported target is little-endian.
                Endian::Le => self.m.zext(bits, VReg::bpf(dst)),
                Endian::Be | Endian::Swap => self.m.bswap(bits, VReg::bpf(dst)),
            },
            Op::LoadImm64 { dst, value } => self.load_imm64(VReg::bpf(dst), value),
            Op::LoadMap { dst, map } => {
                if !self.map_exists(pc, map) {
                    return;
                }
                if dst == Reg::R1 {
                    self.r1_map = Some((pc, map));
                }
                let d = VReg::bpf(dst);
                self.m.load_ctx(d, abi::MAPS);
                self.m.load(Size::DW, false, d, d, 8 * map as i32);
            }
            Op::LoadMapValue { dst, map, offset } => {
                if !self.map_exists(pc, map) {
                    return;
                }
                let d = VReg::bpf(dst);
                let def = &self.maps[map as usize];
                if !def.kind.is_array() || offset >= def.value_size {
                    // As the interpreter: only array values have an address.
                    let f = self.fault(pc, FaultKind::BadMapValue);
                    self.m.jump(f);
                    return;
                }
                self.m.load_ctx(d, abi::MAP_VALUES);
                self.m.load(Size::DW, false, d, d, 8 * map as i32);
                if offset != 0 {
                    self.m.mov_imm64(VReg::T0, offset as u64);
                    self.m
                        .alu(Width::W64, BinOp::Add, d, Operand::Reg(VReg::T0));
                }
            }
            Op::LddwHigh => {}
            Op::Load {
                size,
                signed,
                dst,
                base,
                off,
            } => self.load(pc, size, signed, dst, base, off),
            Op::Store {
                size,
                base,
                off,
                src,
            } => {
                let (b, o, _) = self.address(pc, base, off, size.bytes(), abi::ACCESS_WRITE, None);
                let s = self.src(src, VReg::T1);
                self.m.store(size, b, o, s);
            }
            Op::Atomic {
                width,
                op,
                fetch,
                base,
                off,
                src,
            } => {
                let bytes = if width == Width::W64 { 8 } else { 4 };
                let kind = abi::ACCESS_WRITE | abi::ACCESS_ATOMIC;
                let (b, o, _) = self.address(pc, base, off, bytes, kind, None);
                self.m.atomic(width, op, fetch, b, o, VReg::bpf(src));
            }
            Op::Ja { off } => {
                let t = self.target(pc, off as i64);
                if self.facts.is_none() && t <= pc {
                    let f = self.fault(pc, FaultKind::BackEdgeLimit);
                    self.m.count_down(abi::LOOPS, f);
                }
                if t <= pc && self.inverted_back_edge(pc, t) {
                    return;
                }
                self.m.jump(self.first.nth(t));
            }
            Op::Jmp { .. } => self.branch(pc, op),
            Op::MayGoto { off } => {
                let t = self.target(pc, off as i64);
                let target = self.edge(pc, t);
                self.m.count_down(abi::BUDGET, target);
            }
            Op::Call { helper }
                if helper == helper_id::MAP_LOOKUP_ELEM && self.inline_array_lookup(pc) => {}
            Op::Call { helper } => match abi::helper_slot(helper) {
                Some(slot) => self.helper_call(pc, HostFn::Slot(slot)),
                None => {
                    self.m.store_ctx(abi::HELPER_ID, Operand::Imm(helper));
                    self.helper_call(pc, HostFn::Helper);
                }
            },
            Op::CallReg { reg } => {
                self.m
                    .store_ctx(abi::HELPER_ID, Operand::Reg(VReg::bpf(reg)));
                self.helper_call(pc, HostFn::Callx);
            }
            Op::CallLocal { off } => {
                let t = self.target(pc, off as i64);
                let saved = core::mem::take(&mut self.saved_on_call);
                self.m.push_regs(&saved);
                let fp = VReg::bpf(Reg::R10);
                self.m
                    .alu(Width::W64, BinOp::Sub, fp, Operand::Imm(FRAME_SIZE));
                self.m.load_ctx(VReg::T0, abi::STACK_LIMIT);
                let f = self.fault(pc, FaultKind::CallDepth);
                self.m.branch(
                    Width::W64,
                    bpf_bridge::isa::JmpOp::Lt,
                    fp,
                    Operand::Reg(VReg::T0),
                    f,
                );
                self.m.call(self.first.nth(t));
                self.m
                    .alu(Width::W64, BinOp::Add, fp, Operand::Imm(FRAME_SIZE));
                self.m.pop_regs(&saved);
                self.saved_on_call = saved;
            }
            Op::Exit => self.m.ret(),
        }
    }

    /// A load: a proven one here, with the slot after it peeked once for
    /// the patterns that take it (a compare with memory, a fused byte
    /// swap); any other in [`Lowering::other_load`]. (Its fields one by
    /// one: an `Op` handed on whole was kept in memory.)
    #[inline(always)]
    fn load(&mut self, pc: usize, size: Size, signed: bool, dst: Reg, base: Reg, off: i16) {
        if self.access(pc) != Access::Proven {
            return self.other_load(pc, size, signed, dst, base, off);
        }
        let next = self.insns.get(pc + 1).copied().unwrap_or_default();
        let peeked = peek(next);
        // (Non-short-circuit `&`: one branch, rarely taken, where each test
        // alone would be data-dependent.)
        if (peeked != Peek::Other) & (next.dst() == dst.num()) & !signed {
            match peeked {
                Peek::CondJumpImm if self.load_compare(pc, size, dst, base, off) => return,
                Peek::ByteSwap if self.swap_after(pc, size, signed, dst).is_some() => {
                    let (d, b) = (VReg::bpf(dst), VReg::bpf(base));
                    self.m.load_swapped(size, d, b, off as i32);
                    self.fused = pc + 2;
                    return;
                }
                _ => {}
            }
        }
        let (d, b) = (VReg::bpf(dst), VReg::bpf(base));
        self.m.load(size, signed, d, b, off as i32);
    }

    /// The byte swap of the slot after a load at `pc` that can be fused
    /// with it, as its width in bits.
    #[inline(always)]
    fn swap_after(&mut self, pc: usize, size: Size, signed: bool, dst: Reg) -> Option<u8> {
        match self.insns.get(pc + 1).and_then(|&i| byte_swap_of(i)) {
            Some((bits, d2))
                if !signed
                    && d2 == dst
                    && bits as usize == size.bytes() * 8
                    && !self.is_target(pc + 1) =>
            {
                Some(bits)
            }
            _ => None,
        }
    }

    /// A load the verifier did not prove: converted from the context, or
    /// checked at run time.
    #[inline(never)]
    fn other_load(&mut self, pc: usize, size: Size, signed: bool, dst: Reg, base: Reg, off: i16) {
        let access = self.access(pc);
        if let Access::Ctx(field) = access {
            self.m
                .load_ctx(VReg::bpf(dst), abi::XDP_FIELDS + 8 * ctx_index(field));
            return;
        }
        let kind = if signed { abi::ACCESS_SIGNED } else { 0 };
        // Fuse with a following byte swap of the loaded register.
        let swap = self.swap_after(pc, size, signed, dst);
        let load = Some((dst, swap));
        let (b, o, done) = self.checked_address(pc, base, off, size.bytes(), kind, load);
        if swap.is_some() {
            self.m.load_swapped(size, VReg::bpf(dst), b, o);
        } else {
            self.m.load(size, signed, VReg::bpf(dst), b, o);
        }
        if let Some(d) = done {
            self.m.bind(d);
        }
        if swap.is_some() {
            self.fused = pc + 2;
        }
    }

    /// The slot a jump at `pc` by `off` goes to. Lowering runs ahead of the
    /// decoder's check of targets: one outside the program (which the decoder
    /// then rejects) stands in as `pc`, so no label past the slots is named.
    #[inline(always)]
    fn target(&mut self, pc: usize, off: i64) -> usize {
        let t = pc as i64 + 1 + off;
        let t = if (t as u64) < self.insns.len() as u64 {
            t as usize
        } else {
            pc
        };
        self.targets.mark(t);
        t
    }

    /// Lowers the jump waiting for the op at `pc`: with it as one piece
    /// ([`crate::peephole`]) when they form a pattern and nothing else
    /// reaches the op (constants are not blinded: nothing waits then), else
    /// alone. Returns whether the op was lowered too. (The op is decoded
    /// again here: handing it over made every op's caller keep it in memory.)
    #[inline(never)]
    fn after_waiting(&mut self, pc: usize) -> bool {
        // (Only ALU ops pair with a jump.)
        let (Some((at, jump)), Some(op)) = (self.waiting, decode_alu(self.insns[pc])) else {
            self.lower_waiting();
            return false;
        };
        if let Some(pair) = peephole::pair(jump, op) {
            if !self.is_target(pc) && peephole::lower(&mut self.m, pair) {
                self.waiting = None;
                // The jump's target, as if it had been lowered.
                self.target(at, 1);
                self.m.bind(self.first.nth(pc));
                return true;
            }
        }
        self.lower_waiting();
        false
    }

    /// Whether the op at `k` may pair with a jump over it, by its opcode
    /// alone: a jump waits for it only then ([`Lowering::after_waiting`]).
    #[inline(always)]
    fn may_pair(&self, k: usize) -> bool {
        let op = self.insns.get(k).and_then(|&i| alu_op_of(i));
        // (One test of a mask, not a branch on each part of the answer.)
        op.map_or(0, |op| 1 << op as u32) & peephole::SKIPS != 0
    }

    /// Lowers the jump waiting, if one is, alone.
    #[inline(always)]
    fn lower_waiting(&mut self) {
        if let Some((at, jump)) = self.waiting.take() {
            self.branch(at, jump);
        }
    }

    /// The conditional jump `jump` at `pc` (other ops: nothing).
    #[inline(always)]
    fn branch(&mut self, pc: usize, jump: Op) {
        let Op::Jmp {
            width: w,
            op,
            dst,
            src,
            off,
        } = jump
        else {
            return;
        };
        let t = self.target(pc, off as i64);
        let b = self.src(src, VReg::T0);
        let target = self.edge(pc, t);
        self.m.branch(w, op, VReg::bpf(dst), b, target);
    }

    /// Whether a jump goes to slot `k`; every jump before `k` must have had its
    /// target taken ([`Lowering::target`]), as [`crate::targets`] explains.
    fn is_target(&mut self, k: usize) -> bool {
        self.targets.is_target(k)
    }

    /// Whether the program has map `map`; records the error if not.
    #[cold]
    fn map_exists(&mut self, pc: usize, map: u32) -> bool {
        if (map as usize) < self.maps.len() {
            return true;
        }
        if self.bad_map.is_none() {
            self.bad_map = Some(JitError::BadMap { pc, map });
        }
        false
    }

    /// The label a taken branch from `pc` to `t` goes to: in checked mode a
    /// backward one first draws on the back-edge budget.
    fn edge(&mut self, pc: usize, t: usize) -> Label {
        if self.facts.is_none() && t <= pc {
            let tramp = self.m.new_label();
            self.back_edges.push((tramp, t, pc));
            tramp
        } else {
            self.first.nth(t)
        }
    }

    /// The map r1 holds at the call at `pc`, when a pseudo `lddw` loaded it
    /// earlier in the same straight-line code: nothing after it (decoded again
    /// here, they are few) writes r1 or leaves, and no jump lands in between.
    fn map_in_r1(&mut self, pc: usize) -> Option<u32> {
        let (at, map) = self.r1_map?;
        if (at + 1..=pc).any(|k| self.is_target(k)) {
            return None;
        }
        let mut k = at + 2;
        while k < pc {
            let op = decode_one(self.insns, k).ok()?;
            match op {
                Op::Store { .. } | Op::Jmp { .. } | Op::Ja { .. } | Op::MayGoto { .. } => {}
                Op::Alu { dst, .. }
                | Op::Neg { dst, .. }
                | Op::Endian { dst, .. }
                | Op::LoadImm64 { dst, .. }
                | Op::LoadMap { dst, .. }
                | Op::LoadMapValue { dst, .. }
                | Op::Load { dst, .. }
                    if dst != Reg::R1 => {}
                Op::Atomic { src, .. } if src != Reg::R1 => {}
                _ => return None,
            }
            k += op.slots();
        }
        Some(map)
    }

    /// `bpf_map_lookup_elem` of an array map known at the call, in verified
    /// mode (the verifier proved r2 points at a readable key), as the kernel
    /// inlines it: r0 = index < max_entries ? values + index * stride : 0.
    /// Returns false to leave the call to the helper.
    fn inline_array_lookup(&mut self, pc: usize) -> bool {
        if self.facts.is_none() || self.opts.blind.is_some() {
            return false;
        }
        let Some(map) = self.map_in_r1(pc) else {
            return false;
        };
        let def = &self.maps[map as usize];
        let stride = (def.value_size as u64).div_ceil(8) * 8;
        let (Ok(entries), Ok(stride)) = (i32::try_from(def.max_entries), i32::try_from(stride))
        else {
            return false;
        };
        if !def.kind.is_array() {
            return false;
        }
        let (r0, w) = (VReg::bpf(Reg::R0), Width::W64);
        let null = self.m.new_label();
        let done = self.m.new_label();
        self.m.load(Size::W, false, r0, VReg::bpf(Reg::R2), 0);
        self.m.branch(w, JmpOp::Ge, r0, Operand::Imm(entries), null);
        if stride.count_ones() == 1 {
            let shift = stride.trailing_zeros() as i32;
            self.m.alu(w, BinOp::Lsh, r0, Operand::Imm(shift));
        } else {
            self.m.alu(w, BinOp::Mul, r0, Operand::Imm(stride));
        }
        self.m.load_ctx(VReg::T0, abi::MAP_VALUES);
        self.m
            .load(Size::DW, false, VReg::T0, VReg::T0, 8 * map as i32);
        self.m.alu(w, BinOp::Add, r0, Operand::Reg(VReg::T0));
        self.m.jump(done);
        self.m.bind(null);
        self.m.mov(w, r0, Operand::Imm(0));
        self.m.bind(done);
        true
    }

    fn helper_call(&mut self, pc: usize, f: HostFn) {
        self.m
            .store_ctx(abi::CUR_FP, Operand::Reg(VReg::bpf(Reg::R10)));
        self.m.call_host(f);
        let f = self.fault(pc, FaultKind::Host);
        self.m.branch_ctx_nonzero(abi::FAULT_KIND, f);
    }

    fn load_imm64(&mut self, d: VReg, v: u64) {
        if self.opts.blind.is_some() {
            self.m.mov_imm64(d, v ^ self.key);
            self.m.mov_imm64(VReg::T0, self.key);
            self.m
                .alu(Width::W64, BinOp::Xor, d, Operand::Reg(VReg::T0));
        } else {
            self.m.mov_imm64(d, v);
        }
    }

    /// `dst = dst op src` for the plain binary operations. Each caller passes
    /// its own constant `op`, so the architecture's `alu`, inlined, has no
    /// second dispatch on it.
    #[inline(always)]
    fn bin(&mut self, w: Width, op: BinOp, dst: VReg, src: Src) {
        let s = self.src(src, VReg::T0);
        self.m.alu(w, op, dst, s);
    }

    /// A shift: counts are not worth blinding (they are masked to 6 bits).
    #[inline(always)]
    fn shift(&mut self, w: Width, op: BinOp, dst: VReg, src: Src) {
        let s = match src {
            Src::Reg(r) => Operand::Reg(VReg::bpf(r)),
            Src::Imm(i) => Operand::Imm(i),
        };
        self.m.alu(w, op, dst, s);
    }

    #[inline(always)]
    fn alu(&mut self, w: Width, op: AluOp, dst: VReg, src: Src) {
        match op {
            AluOp::Add => self.bin(w, BinOp::Add, dst, src),
            AluOp::Sub => self.bin(w, BinOp::Sub, dst, src),
            AluOp::Mul => self.bin(w, BinOp::Mul, dst, src),
            AluOp::Or => self.bin(w, BinOp::Or, dst, src),
            AluOp::And => self.bin(w, BinOp::And, dst, src),
            AluOp::Xor => self.bin(w, BinOp::Xor, dst, src),
            AluOp::Lsh => self.shift(w, BinOp::Lsh, dst, src),
            AluOp::Rsh => self.shift(w, BinOp::Rsh, dst, src),
            AluOp::Arsh => self.shift(w, BinOp::Arsh, dst, src),
            AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod => {
                let d = match op {
                    AluOp::Div => DivOp::Div,
                    AluOp::Sdiv => DivOp::Sdiv,
                    AluOp::Mod => DivOp::Mod,
                    _ => DivOp::Smod,
                };
                let s = self.src(src, VReg::T0);
                self.m.divmod(w, d, dst, s);
            }
            AluOp::Mov => match src {
                Src::Imm(i) if self.opts.blind.is_some() => {
                    let k = self.key as i32;
                    self.m.mov(w, dst, Operand::Imm(i ^ k));
                    self.m.alu(w, BinOp::Xor, dst, Operand::Imm(k));
                }
                Src::Imm(i) => self.m.mov(w, dst, Operand::Imm(i)),
                Src::Reg(r) => self.m.mov(w, dst, Operand::Reg(VReg::bpf(r))),
            },
            AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32 => {
                let bits = match op {
                    AluOp::Movsx8 => 8,
                    AluOp::Movsx16 => 16,
                    _ => 32,
                };
                match src {
                    Src::Reg(r) => self.m.movsx(w, bits, dst, VReg::bpf(r)),
                    Src::Imm(i) => {
                        let v = semantics::alu(w, op, 0, semantics::imm_operand(i));
                        self.load_imm64(dst, v)
                    }
                }
            }
        }
    }

    /// Out-of-line code after the body: back-edge counters, fault stubs, the check routine.
    fn tail(&mut self) {
        for (tramp, t, pc) in core::mem::take(&mut self.back_edges) {
            self.m.bind(tramp);
            let f = self.fault(pc, FaultKind::BackEdgeLimit);
            self.m.count_down(abi::LOOPS, f);
            self.m.jump(self.first.nth(t));
        }
        // Trampolines above are back edges; what follows only returns.
        self.m.cold_start();
        for c in core::mem::take(&mut self.ctx_paths) {
            self.m.bind(c.label);
            self.m.mov(Width::W64, c.dst, Operand::Reg(VReg::T0));
            if let Some(bits) = c.swap {
                self.m.bswap(bits, c.dst);
            }
            self.m.jump(c.done);
        }
        for s in core::mem::take(&mut self.stubs) {
            self.m.bind(s.label);
            if s.kind != FaultKind::Host {
                self.m
                    .store_ctx(abi::FAULT_KIND, Operand::Imm(s.kind as i32));
            }
            self.m.store_ctx(abi::FAULT_PC, Operand::Imm(s.pc as i32));
            self.m.jump(self.fault_exit);
        }
        if self.uses_check {
            self.m.bind(self.check);
            self.m.check_routine(self.fault_exit);
        }
        self.m.trap();
    }
}

/// Position of an `xdp_md` field among [`abi::XDP_FIELDS`].
pub fn ctx_index(f: CtxField) -> i32 {
    match f {
        CtxField::XdpData => 0,
        CtxField::XdpDataEnd => 1,
        CtxField::XdpDataMeta => 2,
        CtxField::XdpIngressIfindex => 3,
        CtxField::XdpRxQueueIndex => 4,
        CtxField::XdpEgressIfindex => 5,
    }
}

#[cfg(test)]
mod tests {
    use crate::{compile, Arch, JitError, Options};
    use bpf_bridge::facts::Facts;
    use bpf_bridge::isa::{decode_program, Insn};
    use bpf_bridge::program::{MapDef, MapKind, ProgType, Program};

    /// Lowering runs as the decoder goes: malformed programs (jumps outside
    /// or onto an `lddw` half, bad fields after good code, bad maps) still get
    /// the decoder's error, first, and nothing panics.
    #[test]
    fn malformed_programs_get_the_decoders_error() {
        let exit = Insn::new(0x95, 0, 0, 0, 0);
        let mov = Insn::new(0xb7, 0, 0, 0, 1);
        let lddw_map = [Insn::new(0x18, 1, 1, 0, 7), Insn::new(0, 0, 0, 0, 0)];
        let cases: Vec<Vec<Insn>> = vec![
            vec![Insn::new(0x05, 0, 0, -5, 0), exit],
            vec![Insn::new(0x05, 0, 0, 0x7fff, 0), exit],
            vec![Insn::new(0x15, 1, 0, -3, 0), mov, exit],
            vec![Insn::new(0xe5, 0, 0, -9, 0), exit],
            vec![Insn::new(0x85, 0, 1, -4, 0), exit],
            vec![Insn::new(0x06, 0, 0, 0, -100), exit],
            vec![Insn::new(0x05, 0, 0, 1, 0), lddw_map[0], lddw_map[1], exit],
            vec![
                lddw_map[0],
                lddw_map[1],
                mov,
                Insn::new(0xb7, 12, 0, 0, 0),
                exit,
            ],
            vec![lddw_map[0], lddw_map[1], exit, Insn::new(0x05, 0, 0, -4, 0)],
            vec![mov],
            vec![],
        ];
        let maps = vec![MapDef {
            name: "m".into(),
            kind: MapKind::Array,
            key_size: 4,
            value_size: 8,
            max_entries: 1,
        }];
        for insns in cases {
            let want = decode_program(&insns).err().map(JitError::Decode);
            for arch in [Arch::X86_64, Arch::Aarch64, Arch::Riscv64] {
                let mut p = Program::new("t", ProgType::Raw, insns.clone());
                let got = compile(&p, None, arch, Options::default()).err();
                let want = want.clone().unwrap_or(JitError::BadMap { pc: 0, map: 7 });
                assert_eq!(got, Some(want.clone()), "{insns:?}");
                p.maps = maps.clone();
                let facts = Facts::unproven(insns.len() + 1);
                let got = compile(&p, Some(&facts), arch, Options::default()).err();
                let mismatch = JitError::FactsMismatch {
                    slots: insns.len(),
                    facts: insns.len() + 1,
                };
                let want = match want {
                    JitError::Decode(e) => JitError::Decode(e),
                    _ => mismatch,
                };
                assert_eq!(got, Some(want), "{insns:?}");
            }
        }
    }
}
