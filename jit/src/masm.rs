//! The interface between [`crate::lower`] and the architectures: one method per
//! operation, on virtual registers. Implementations pick machine forms and call
//! their encoders; they never see an eBPF opcode.

use crate::abi;
use crate::buffer::{BufferError, Label, Offsets};
use bpf_bridge::isa::{AtomicOp, JmpOp, Reg, Size, Width};

/// A virtual register: eBPF r0..=r10, the run context, two scratch registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VReg(pub u8);

impl VReg {
    /// The run context ([`crate::abi`]).
    pub const CTX: VReg = VReg(11);
    /// Scratch register 0 (addresses of checked accesses, blinded constants).
    pub const T0: VReg = VReg(12);
    /// Scratch register 1.
    pub const T1: VReg = VReg(13);
    /// Number of virtual registers.
    pub const COUNT: usize = 14;

    /// The virtual register of an eBPF register.
    #[inline]
    pub fn bpf(r: Reg) -> VReg {
        VReg(r.num())
    }

    /// Index into a register table.
    #[inline]
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// A table of every virtual register's native register padded to 16
/// entries (the last ones unused), so that a look-up masked to four bits
/// needs no bounds check.
pub(crate) const fn pad_map<T: Copy>(map: [T; VReg::COUNT]) -> [T; 16] {
    let mut t = [map[0]; 16];
    let mut i = 0;
    while i < VReg::COUNT {
        t[i] = map[i];
        i += 1;
    }
    t
}

/// A register or a sign-extended 32-bit immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    Reg(VReg),
    Imm(i32),
}

/// Binary operations without special cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Or,
    And,
    Xor,
    Lsh,
    Rsh,
    Arsh,
}

/// Division and modulo (eBPF rules: /0 gives 0, %0 leaves dst).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DivOp {
    Div,
    Sdiv,
    Mod,
    Smod,
}

/// A comparison `a op b` at width `w`, as a conditional jump makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmp {
    pub w: Width,
    pub op: JmpOp,
    pub a: VReg,
    pub b: Operand,
}

/// A comparison of memory with an immediate, `[base + off] op imm` at the
/// access's own size: a load and a compare of the loaded register in one,
/// when nothing reads the register afterwards ([`crate::fold::mem_compare`]
/// says when the two agree).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemCmp {
    /// Bytes compared (1, 2, 4, 8).
    pub bytes: u8,
    pub op: JmpOp,
    pub base: VReg,
    pub off: i32,
    /// Compared as `bytes` bytes: sign-extended at 8, its low bytes below.
    pub imm: i32,
}

/// Functions of the host the code calls through the run context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostFn {
    /// The helper whose id is in `abi::HELPER_ID`; args r1..r5, result in r0.
    Helper,
    /// `callx` of the value in `abi::HELPER_ID`.
    Callx,
    /// The helper with its own slot at this context offset ([`abi::helper_slot`]).
    Slot(i32),
}

impl HostFn {
    /// Offset of the function's address in the run context.
    pub fn ctx_offset(self) -> i32 {
        match self {
            HostFn::Helper => abi::HOST_HELPER,
            HostFn::Callx => abi::HOST_CALLX,
            HostFn::Slot(off) => off,
        }
    }
}

/// What the entry sequence must set up and save.
#[derive(Clone, Copy, Debug, Default)]
pub struct Frame {
    /// Bitmask of virtual registers used anywhere (bit = `VReg::idx`).
    pub used: u16,
    /// Whether the context register is needed (checks, helpers, budgets, maps).
    pub ctx: bool,
    /// Whether the code calls the host or may fault (implies `ctx`): then it
    /// needs r10, the saved stack pointer of the fault exit and, for host
    /// calls, the ABI's stack alignment.
    pub host: bool,
    /// eBPF argument registers (bit = `VReg::idx`) whose entry value nothing
    /// reads: the entry sequence may skip loading them.
    pub dead_in: u16,
}

impl Frame {
    /// Whether `v` is used.
    pub fn uses(&self, v: VReg) -> bool {
        self.used & (1 << v.0) != 0
    }

    /// Whether the entry sequence must load `v` (r1, r2) from the context.
    pub fn loads_arg(&self, v: VReg) -> bool {
        self.uses(v) && self.dead_in & (1 << v.0) == 0
    }
}

/// Operations the lowering needs from an architecture.
pub trait MacroAssembler {
    /// A fresh label.
    fn new_label(&mut self) -> Label;
    /// `n` fresh labels: the first, the others its [`Label::nth`].
    fn new_labels(&mut self, n: usize) -> Label;
    /// Binds a label here.
    fn bind(&mut self, l: Label);
    /// Current code offset.
    fn pos(&self) -> usize;

    /// Entry: save what `frame` needs, load r1, r2, r10 and the context from
    /// the context argument, call `body`; then falls into `exit`'s code.
    fn entry(&mut self, frame: &Frame, body: Label);
    /// Restore saved registers and return r0 to the host.
    fn leave(&mut self, frame: &Frame);
    /// Fault exit: unwind the native stack to the body call (`abi::SAVED_SP`), go to `exit`.
    fn unwind_to(&mut self, exit: Label);
    /// The body's code starts here; labels bound before it are exits, never
    /// loop heads (for backends that align loops).
    fn body_start(&mut self) {}
    /// Out-of-line code starts here; its branches back into the body are not
    /// loop back edges (for backends that align loops).
    fn cold_start(&mut self) {}

    /// `dst = src` (32-bit zero-extends; immediates sign-extend at 64).
    fn mov(&mut self, w: Width, dst: VReg, src: Operand);
    /// `dst = imm64`.
    fn mov_imm64(&mut self, dst: VReg, v: u64);
    /// `dst = sign-extend(low `bits` of src)` at width `w` (32: then zero-extended).
    fn movsx(&mut self, w: Width, bits: u8, dst: VReg, src: VReg);
    /// `dst = dst op src` (shift counts masked, 32-bit results zero-extended).
    fn alu(&mut self, w: Width, op: BinOp, dst: VReg, src: Operand);
    /// Division and modulo with eBPF's rules.
    fn divmod(&mut self, w: Width, op: DivOp, dst: VReg, src: Operand);
    /// `dst = -dst`.
    fn neg(&mut self, w: Width, dst: VReg);
    /// Keeps the low `bits` (16, 32) of `dst`, zeroing the rest.
    fn zext(&mut self, bits: u8, dst: VReg);
    /// Byte-swaps the low `bits` (16, 32, 64) of `dst`, zeroing the rest.
    fn bswap(&mut self, bits: u8, dst: VReg);

    /// `dst = *(base + off)` extended to 64 bits.
    fn load(&mut self, size: Size, signed: bool, dst: VReg, base: VReg, off: i32);
    /// `dst = bswap(*(base + off))`, zero-extended: a load fused with `be16/32/64`.
    fn load_swapped(&mut self, size: Size, dst: VReg, base: VReg, off: i32);
    /// `*(base + off) = src`.
    fn store(&mut self, size: Size, base: VReg, off: i32, src: Operand);
    /// Atomic read-modify-write (and `cmpxchg`, which uses r0).
    fn atomic(&mut self, w: Width, op: AtomicOp, fetch: bool, base: VReg, off: i32, src: VReg);
    /// `dst = base + off`.
    fn lea(&mut self, dst: VReg, base: VReg, off: i32);
    /// `dst = *(u64 *)(ctx + off)`.
    fn load_ctx(&mut self, dst: VReg, off: i32);
    /// `*(u64 *)(ctx + off) = src`.
    fn store_ctx(&mut self, off: i32, src: Operand);

    /// Unconditional jump.
    fn jump(&mut self, l: Label);
    /// Jump if `a op b` at width `w` (compare fused with the branch).
    fn branch(&mut self, w: Width, op: JmpOp, a: VReg, b: Operand, l: Label);
    /// If the counter at `ctx + off` is zero jump to `l`, else decrement it.
    fn count_down(&mut self, off: i32, l: Label);
    /// Whether [`MacroAssembler::alu_unless`] has any form here (lowering
    /// looks for the pattern only then).
    const ALU_UNLESS: bool = false;
    /// A conditional jump over one ALU op, without the jump: `dst = dst op src`
    /// at width `w` (`op` None: `dst = src`) only when `c` is false (the jump
    /// not taken); when `c` holds `dst` keeps its whole 64-bit value. May
    /// clobber T0 and T1. Returns false, having emitted nothing, when the
    /// architecture has no branch-free form for it (the default).
    fn alu_unless(&mut self, c: Cmp, w: Width, op: Option<BinOp>, dst: VReg, src: Operand) -> bool {
        let _ = (c, w, op, dst, src);
        false
    }
    /// Jump if `c` holds. Returns false, having emitted nothing, when the
    /// architecture has no compare with memory for it (the default).
    fn branch_mem(&mut self, c: MemCmp, l: Label) -> bool {
        let _ = (c, l);
        false
    }
    /// Whether [`MacroAssembler::branch_mem`] has a form for `c` (asked before
    /// the lowering looks for the facts it needs to use them).
    fn compares_mem(&self, c: MemCmp) -> bool {
        let _ = c;
        false
    }
    /// `dst = src + imm` in one instruction at width `w` (what `mov dst, src;
    /// add dst, imm` compute). Returns false, having emitted nothing, when
    /// the architecture has no such form (the default).
    fn add_copy(&mut self, w: Width, dst: VReg, src: VReg, imm: i32) -> bool {
        let _ = (w, dst, src, imm);
        false
    }
    /// Whether [`MacroAssembler::add_copy`] has a form (the default: no).
    /// A constant, so lowering for an architecture without it has no trace
    /// of the pattern.
    const ADDS_COPIES: bool = false;
    /// Whether [`MacroAssembler::branch_mem`] has forms at all (the default: no).
    const COMPARES_MEM: bool = false;
    /// Whether [`MacroAssembler::loop_limit`] has a form (the default: no;
    /// lowering then looks for no [`crate::guard_loop`]).
    const LOOP_LIMIT: bool = false;
    /// Sets the loop-limit register, which nothing else uses, to
    /// `min(e, p + m * k)` (unsigned; `n`, `k` > 0, and the sum must not
    /// wrap: see [`crate::guard_loop`]), `m` the iterations a counter `c`
    /// allows: `n - c` when `c < n`, `n + 1` when `c` is `u64::MAX`, else 1.
    /// `by_pointer`: less `k - 1`, saturating at 0 (for tests of `p` itself).
    /// May clobber T0. The default computes it in T0 with the other methods
    /// (branches where x86_64 has `cmov`), then [`MacroAssembler::limit_from_t0`].
    fn loop_limit(&mut self, p: VReg, c: VReg, e: VReg, n: i32, k: i32, by_pointer: bool) {
        let (t, w) = (VReg::T0, Width::W64);
        // Iterations less one: n - 1 - c (wrapping), 0 when above n.
        self.mov(w, t, Operand::Imm(n - 1));
        self.alu(w, BinOp::Sub, t, Operand::Reg(c));
        let fits = self.new_label();
        self.branch(w, JmpOp::Le, t, Operand::Imm(n), fits);
        self.mov(w, t, Operand::Imm(0));
        self.bind(fits);
        if k != 1 {
            self.alu(w, BinOp::Mul, t, Operand::Imm(k));
        }
        self.alu(w, BinOp::Add, t, Operand::Reg(p));
        self.alu(w, BinOp::Add, t, Operand::Imm(k));
        let below = self.new_label();
        self.branch(w, JmpOp::Le, t, Operand::Reg(e), below);
        self.mov(w, t, Operand::Reg(e));
        self.bind(below);
        if by_pointer && k > 1 {
            let (zero, done) = (self.new_label(), self.new_label());
            self.branch(w, JmpOp::Lt, t, Operand::Imm(k - 1), zero);
            self.alu(w, BinOp::Sub, t, Operand::Imm(k - 1));
            self.jump(done);
            self.bind(zero);
            self.mov(w, t, Operand::Imm(0));
            self.bind(done);
        }
        self.limit_from_t0();
    }
    /// Copies T0 into the loop-limit register (the default: nothing, for
    /// backends without [`MacroAssembler::LOOP_LIMIT`]).
    fn limit_from_t0(&mut self) {}
    /// Jump if `a op limit` (an unsigned `op`: `Gt`, `Ge`, `Lt`, `Le`), the
    /// loop-limit register. Only called after [`MacroAssembler::loop_limit`].
    fn branch_limit(&mut self, op: JmpOp, a: VReg, l: Label) {
        let _ = (op, a, l);
    }
    /// Adds `k` to the loop-limit register (the 2x unrolled loops of
    /// `lower/unroll.rs` test against the limit less a stride). Only called
    /// after [`MacroAssembler::loop_limit`], with a sum that does not wrap.
    fn limit_add(&mut self, k: i32) {
        let _ = k;
    }
    /// Jump if the u64 at `ctx + off` is not zero.
    fn branch_ctx_nonzero(&mut self, off: i32, l: Label);

    /// Saves `regs` around a local call (keeping the native stack aligned).
    fn push_regs(&mut self, regs: &[VReg]);
    /// Restores what [`MacroAssembler::push_regs`] saved.
    fn pop_regs(&mut self, regs: &[VReg]);
    /// Native call of a label (eBPF local call).
    fn call(&mut self, l: Label);
    /// Native return (eBPF `exit`).
    fn ret(&mut self);
    /// Calls a host function.
    fn call_host(&mut self, f: HostFn);
    /// Calls the bounds-check routine at `check` (address in T0, packed argument
    /// in T1). On return T1 holds the status (`abi::CHECK_PLAIN` or
    /// `CHECK_VALUE`) and T0 the address or the converted value.
    fn call_check(&mut self, check: Label);
    /// Inline fast path of a checked access of `bytes` bytes at `addr`: jumps
    /// to `ok` when it lies in the current stack frame. May clobber T1. The
    /// default emits nothing (the access then goes on to the next check, which
    /// is as correct and only slower); likewise for the next method.
    fn branch_if_in_frame(&mut self, addr: VReg, bytes: usize, ok: Label) {
        let _ = (addr, bytes, ok);
    }
    /// Jumps to `ok` when `bytes` bytes at `addr` lie in the region described
    /// by the block at context offset `block` (`abi::REGION_WORDS`). May clobber T1.
    fn branch_if_in_region(&mut self, addr: VReg, bytes: usize, block: i32, ok: Label) {
        let _ = (addr, bytes, block, ok);
    }
    /// The bounds-check routine: saves caller-saved registers, stores r10 to
    /// `abi::CUR_FP`, calls the host's check, restores; on a fault goes to `fault`.
    fn check_routine(&mut self, fault: Label);
    /// A trapping instruction (unreachable code).
    fn trap(&mut self);

    /// Shrinks branches and patches labels; returns the code and the final
    /// offsets of the `n` labels made at once from `first`, all bound.
    fn finish(
        self,
        shrink: bool,
        first: Label,
        n: usize,
    ) -> Result<(alloc::vec::Vec<u8>, Offsets), BufferError>;
}
