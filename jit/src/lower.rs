//! eBPF ops to [`MacroAssembler`] calls: the only match on eBPF operations in
//! the JIT. Register map, frame policy and checked/verified modes are decided
//! here once for every architecture.

use crate::abi;
use crate::buffer::{BufferError, Label};
use crate::masm::{BinOp, DivOp, Frame, HostFn, MacroAssembler, Operand, VReg};
use crate::{FaultKind, JitError, Options};
use alloc::vec::Vec;
use bpf_bridge::facts::{Access, CtxField, Facts};
use bpf_bridge::isa::{semantics, AluOp, Endian, JmpOp, Op, Reg, Shape, Size, Src, Width};
use bpf_bridge::program::MapDef;

/// Bytes of eBPF stack per frame.
pub const FRAME_SIZE: i32 = 512;

/// What lowering produced.
pub struct Lowered {
    /// Machine code.
    pub code: Vec<u8>,
    /// Native offset of each slot's code.
    pub offsets: Vec<u32>,
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
    ops: &'a [Op],
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
}

/// Lowers a decoded program (`shape` from the same decoding) with `m`.
/// `facts` selects verified mode; `xdp` says the context is an `xdp_md`
/// (whose checked loads may be converted).
pub fn lower<M: MacroAssembler>(
    mut m: M,
    ops: &[Op],
    shape: &Shape,
    maps: &[MapDef],
    xdp: bool,
    facts: Option<&Facts>,
    opts: &Options,
) -> Result<Lowered, JitError> {
    if let Some(f) = facts {
        if f.accesses.len() != ops.len() {
            return Err(JitError::FactsMismatch {
                slots: ops.len(),
                facts: f.accesses.len(),
            });
        }
    }
    if shape.targets.len() != ops.len() {
        return Err(JitError::Internal("shape of another program"));
    }
    let frame = plan(ops, shape, maps.len(), facts, opts)?;
    let is_target = &shape.targets;
    let mut saved_on_call = Vec::new();
    for r in 6..=9u8 {
        if frame.uses(VReg(r)) {
            saved_on_call.push(VReg(r));
        }
    }
    let first = m.new_labels(ops.len());
    let fault_exit = m.new_label();
    let check = m.new_label();
    let mut l = Lowering {
        m,
        ops,
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
    };
    let exit = l.m.new_label();
    l.m.entry(&frame, first);
    l.m.bind(exit);
    l.m.leave(&frame);
    if frame.ctx {
        l.m.bind(l.fault_exit);
        l.m.unwind_to(exit);
    }
    // A slot's offset is where its label is bound.
    let mut pc = 0;
    while pc < ops.len() {
        l.m.bind(first.nth(pc));
        let n = l.op(pc, is_target);
        // A fused slot has no code of its own: it starts where the next does.
        for fused in pc + 1..pc + n {
            l.m.bind(first.nth(fused));
        }
        pc += n;
    }
    l.tail();
    let shrink = opts.shrink_branches;
    let (code, offsets) = l.m.finish(shrink, first, ops.len()).map_err(|e| match e {
        BufferError::OutOfRange => JitError::TooLarge,
        BufferError::Unbound => JitError::Internal("unbound label"),
    })?;
    Ok(Lowered { code, offsets })
}

/// The frame from the program's shape: registers used, whether the context
/// register is needed; rejects map indices the program does not have. Walks
/// the ops only for what the shape cannot say (maps, unproven accesses).
fn plan(
    ops: &[Op],
    shape: &Shape,
    maps: usize,
    facts: Option<&Facts>,
    opts: &Options,
) -> Result<Frame, JitError> {
    // r0 is the result, r1 always loaded.
    let mut used = shape.regs | 1 << 0 | 1 << 1;
    let mut ctx = shape.has(Shape::HELPER_CALL | Shape::LOCAL_CALL | Shape::MAPS | Shape::MAY_GOTO);
    if shape.has(Shape::LOCAL_CALL) {
        used |= 1 << 10;
    }
    if shape.has(Shape::MAPS) {
        for (pc, op) in ops.iter().enumerate() {
            if let Op::LoadMap { map, .. } | Op::LoadMapValue { map, .. } = *op {
                if map as usize >= maps {
                    return Err(JitError::BadMap { pc, map });
                }
            }
        }
    }
    match facts {
        // Checked mode: every access is checked, backward jumps count down.
        None => ctx |= shape.has(Shape::MEMORY | Shape::BACK_JUMP),
        Some(f) if shape.has(Shape::MEMORY) => {
            ctx |= f.accesses.iter().zip(ops).any(|(&a, op)| {
                a != Access::Proven
                    && matches!(op, Op::Load { .. } | Op::Store { .. } | Op::Atomic { .. })
            })
        }
        Some(_) => {}
    }
    if ctx {
        // Host calls receive the current r10 (the stack in use).
        used |= 1 << 10;
    }
    if opts.blind.is_some() {
        used |= 1 << VReg::T0.0 | 1 << VReg::T1.0;
    }
    Ok(Frame { used, ctx })
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
    fn imm(&mut self, i: i32, scratch: VReg) -> Operand {
        if self.opts.blind.is_none() {
            return Operand::Imm(i);
        }
        let k = self.key as i32;
        self.m.mov(Width::W64, scratch, Operand::Imm(i ^ k));
        self.m.alu(Width::W64, BinOp::Xor, scratch, Operand::Imm(k));
        Operand::Reg(scratch)
    }

    fn src(&mut self, s: Src, scratch: VReg) -> Operand {
        match s {
            Src::Reg(r) => Operand::Reg(VReg::bpf(r)),
            Src::Imm(i) => self.imm(i, scratch),
        }
    }

    /// Address for an access at `pc`: the base register itself when proven,
    /// else T0 after the run-time check.
    fn address(&mut self, pc: usize, base: Reg, off: i16, bytes: usize, kind: u64) -> (VReg, i32) {
        if self.access(pc) == Access::Proven {
            return (VReg::bpf(base), off as i32);
        }
        self.uses_check = true;
        self.m.lea(VReg::T0, VReg::bpf(base), off as i32);
        self.m.mov_imm64(VReg::T1, abi::pack_check(pc, kind, bytes));
        self.m.call_check(self.check);
        (VReg::T0, 0)
    }

    /// After a checked load's check: a converted context value goes out of line.
    fn ctx_path(&mut self, dst: Reg, swap: Option<u8>) -> Option<Label> {
        if !self.xdp {
            return None;
        }
        let label = self.m.new_label();
        let done = self.m.new_label();
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

    /// Lowers the op at `pc`; returns how many slots it consumed.
    fn op(&mut self, pc: usize, is_target: &[bool]) -> usize {
        let op = self.ops[pc];
        match op {
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
                let d = VReg::bpf(dst);
                self.m.load_ctx(d, abi::MAPS);
                self.m.load(Size::DW, false, d, d, 8 * map as i32);
            }
            Op::LoadMapValue { dst, map, offset } => {
                let d = VReg::bpf(dst);
                let def = &self.maps[map as usize];
                if !def.kind.is_array() || offset >= def.value_size {
                    // As the interpreter: only array values have an address.
                    let f = self.fault(pc, FaultKind::BadMapValue);
                    self.m.jump(f);
                    return 1;
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
            } => {
                if let Access::Ctx(field) = self.access(pc) {
                    self.m
                        .load_ctx(VReg::bpf(dst), abi::XDP_FIELDS + 8 * ctx_index(field));
                    return 1;
                }
                let kind = if signed { abi::ACCESS_SIGNED } else { 0 };
                let (b, o) = self.address(pc, base, off, size.bytes(), kind);
                let checked = b == VReg::T0;
                // Fuse with a following byte swap of the loaded register.
                if let Some(Op::Endian {
                    kind: Endian::Be | Endian::Swap,
                    bits,
                    dst: d2,
                }) = self.ops.get(pc + 1)
                {
                    if !signed
                        && *d2 == dst
                        && *bits as usize == size.bytes() * 8
                        && !is_target[pc + 1]
                    {
                        let done = if checked {
                            self.ctx_path(dst, Some(*bits))
                        } else {
                            None
                        };
                        self.m.load_swapped(size, VReg::bpf(dst), b, o);
                        if let Some(d) = done {
                            self.m.bind(d);
                        }
                        return 2;
                    }
                }
                let done = if checked {
                    self.ctx_path(dst, None)
                } else {
                    None
                };
                self.m.load(size, signed, VReg::bpf(dst), b, o);
                if let Some(d) = done {
                    self.m.bind(d);
                }
            }
            Op::Store {
                size,
                base,
                off,
                src,
            } => {
                let (b, o) = self.address(pc, base, off, size.bytes(), abi::ACCESS_WRITE);
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
                let (b, o) =
                    self.address(pc, base, off, bytes, abi::ACCESS_WRITE | abi::ACCESS_ATOMIC);
                self.m.atomic(width, op, fetch, b, o, VReg::bpf(src));
            }
            Op::Ja { off } => {
                let t = (pc as i64 + 1 + off as i64) as usize;
                if self.facts.is_none() && t <= pc {
                    let f = self.fault(pc, FaultKind::BackEdgeLimit);
                    self.m.count_down(abi::LOOPS, f);
                }
                self.m.jump(self.first.nth(t));
            }
            Op::Jmp {
                width,
                op,
                dst,
                src,
                off,
            } => {
                let t = (pc as i64 + 1 + off as i64) as usize;
                let b = self.src(src, VReg::T0);
                let target = self.edge(pc, t);
                self.m.branch(width, op, VReg::bpf(dst), b, target);
            }
            Op::MayGoto { off } => {
                let t = (pc as i64 + 1 + off as i64) as usize;
                let target = self.edge(pc, t);
                self.m.count_down(abi::BUDGET, target);
            }
            Op::Call { helper } => {
                self.m.store_ctx(abi::HELPER_ID, Operand::Imm(helper));
                self.helper_call(pc, HostFn::Helper);
            }
            Op::CallReg { reg } => {
                self.m
                    .store_ctx(abi::HELPER_ID, Operand::Reg(VReg::bpf(reg)));
                self.helper_call(pc, HostFn::Callx);
            }
            Op::CallLocal { off } => {
                let t = (pc as i64 + 1 + off as i64) as usize;
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
        1
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
