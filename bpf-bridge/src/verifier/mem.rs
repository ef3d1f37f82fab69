//! Memory accesses: which region a pointer reaches, whether the access stays
//! inside it, what a load yields, and per-byte stack bookkeeping.

use super::bounds::Scalar;
use super::check::Checker;
use super::error::{fail, Rule, VerifyError};
use super::state::{Byte, Kind, RegState, State, MAX_STACK};
use crate::facts::{Access, CtxField};
use crate::isa::{semantics, AtomicOp, Reg, Size, Src, Width};

/// Where a checked access lands.
enum Region {
    /// Frame `frame`, offset `off` (negative) from its frame pointer.
    Stack { frame: usize, off: i64 },
    /// Packet or map value: plain data.
    Data,
    /// A context field.
    Ctx(CtxField),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Read,
    Write,
    Atomic,
}

/// A scalar of `size` bytes as loaded (zero- or sign-extended).
fn loaded(size: Size, signed: bool) -> Scalar {
    let bits = size.bytes() as u32 * 8;
    match (size, signed) {
        (Size::DW, _) => Scalar::UNKNOWN,
        (_, false) => Scalar::low_bits(bits),
        (_, true) => Scalar::srange(-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1),
    }
}

impl Checker<'_> {
    fn record(&mut self, pc: usize, a: Access) -> Result<(), VerifyError> {
        match self.accesses[pc] {
            Some(prev) if prev != a => fail(
                pc,
                Rule::MemAccess,
                "the same instruction accesses the context and other memory",
            ),
            _ => {
                self.accesses[pc] = Some(a);
                Ok(())
            }
        }
    }

    /// Checks `size` bytes at `base + off` for `how`.
    fn region(
        &mut self,
        pc: usize,
        base: &RegState,
        breg: Reg,
        off: i16,
        size: usize,
        how: Use,
    ) -> Result<Region, VerifyError> {
        let off = off as i64;
        let size_i = size as i64;
        match base.kind {
            Kind::Ctx => {
                if how != Use::Read {
                    return fail(pc, Rule::MemAccess, "the context is read-only");
                }
                let o = base.off + off;
                match CtxField::xdp(o, size) {
                    Some(f) => Ok(Region::Ctx(f)),
                    None => fail(pc, Rule::MemAccess, format!("invalid context access off={o} size={size} (4-byte fields of xdp_md only)")),
                }
            }
            Kind::Stack => {
                let Some(v) = base.var.as_const() else {
                    return fail(
                        pc,
                        Rule::MemAccess,
                        format!("variable stack access through {breg}={base}"),
                    );
                };
                let o = base.off + v as i64 + off;
                if o < -MAX_STACK || o + size_i > 0 {
                    return fail(
                        pc,
                        Rule::MemAccess,
                        format!("invalid stack access off={o} size={size}"),
                    );
                }
                if o % size_i != 0 {
                    return fail(
                        pc,
                        Rule::MemAccess,
                        format!("misaligned stack access off={o} size={size}"),
                    );
                }
                self.max_stack = self.max_stack.max((-o) as u32);
                Ok(Region::Stack {
                    frame: base.aux as usize,
                    off: o,
                })
            }
            Kind::Packet => {
                if how == Use::Atomic {
                    return fail(pc, Rule::MemAccess, "atomic operation on packet memory");
                }
                let o = base.off + off;
                if base.var.smin < 0 {
                    return fail(
                        pc,
                        Rule::MemAccess,
                        format!("packet pointer {breg}={base} may be below the packet start"),
                    );
                }
                if o < 0 || o + size_i > base.range as i64 {
                    return fail(pc, Rule::MemAccess, format!("invalid packet access off={o} size={size}, proven range {} ({breg}={base})", base.range));
                }
                Ok(Region::Data)
            }
            Kind::MapValue => {
                let vs = self
                    .prog
                    .maps
                    .get(base.aux as usize)
                    .map_or(0, |m| m.value_size) as i128;
                let o = (base.off + off) as i128;
                let lo = base.var.smin as i128 + o;
                let hi = base.var.umax as i128 + o + size as i128;
                if base.var.smin < 0 || lo < 0 || hi > vs {
                    return fail(
                        pc,
                        Rule::MemAccess,
                        format!(
                            "map value access off={o} size={size} outside 0..{vs} ({breg}={base})"
                        ),
                    );
                }
                let align = size as u64 - 1;
                if (o as u64).wrapping_add(base.var.t.value) & align != 0
                    || base.var.t.mask & align != 0
                {
                    return fail(
                        pc,
                        Rule::MemAccess,
                        format!("misaligned map value access off={o} size={size}"),
                    );
                }
                Ok(Region::Data)
            }
            Kind::MapValueOrNull => fail(
                pc,
                Rule::MemAccess,
                format!("{breg}={base} may be null: check it first"),
            ),
            _ => fail(
                pc,
                Rule::MemAccess,
                format!("memory access through {breg}={base}, not a pointer to memory"),
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn load(
        &mut self,
        st: &mut State,
        pc: usize,
        size: Size,
        signed: bool,
        dst: Reg,
        base: Reg,
        off: i16,
    ) -> Result<(), VerifyError> {
        let b = self.reg(st, pc, base)?;
        let region = self.region(pc, &b, base, off, size.bytes(), Use::Read)?;
        let value = match region {
            Region::Ctx(f) => {
                if signed {
                    return fail(pc, Rule::MemAccess, "sign-extending load from the context");
                }
                self.record(pc, Access::Ctx(f))?;
                match f {
                    CtxField::XdpData | CtxField::XdpDataMeta => RegState::ptr(Kind::Packet, 0),
                    CtxField::XdpDataEnd => RegState::ptr(Kind::PacketEnd, 0),
                    _ => RegState::scalar(Scalar::low_bits(32)),
                }
            }
            Region::Data => {
                self.record(pc, Access::Proven)?;
                RegState::scalar(loaded(size, signed))
            }
            Region::Stack { frame, off } => {
                self.record(pc, Access::Proven)?;
                note_stack(st, frame, off);
                stack_read(st, pc, frame, off, size, signed)?
            }
        };
        st.frame_mut().regs[dst.idx()] = value;
        Ok(())
    }

    pub fn store(
        &mut self,
        st: &mut State,
        pc: usize,
        size: Size,
        base: Reg,
        off: i16,
        src: Src,
    ) -> Result<(), VerifyError> {
        let b = self.reg(st, pc, base)?;
        let mut v = match src {
            Src::Reg(r) => self.reg(st, pc, r)?,
            Src::Imm(i) => RegState::scalar(Scalar::konst(semantics::imm_operand(i))),
        };
        let region = self.region(pc, &b, base, off, size.bytes(), Use::Write)?;
        self.record(pc, Access::Proven)?;
        match region {
            Region::Stack { frame, off } => {
                note_stack(st, frame, off);
                // A full spill links the slot and the register like a `mov`
                // (the kernel's `assign_scalar_id_before_mov` on spills): a
                // bound later learnt on either, or on a fill of the slot,
                // holds for all of them.
                if let Src::Reg(r) = src {
                    if size.bytes() == 8
                        && v.kind == Kind::Scalar
                        && v.id == 0
                        && v.var.as_const().is_none()
                    {
                        v.id = self.fresh_id();
                        st.frame_mut().regs[r.idx()].id = v.id;
                    }
                }
                stack_write(st, pc, frame, off, size, v)
            }
            _ => {
                if v.kind.is_ptr() {
                    return fail(
                        pc,
                        Rule::PointerLeak,
                        format!("storing pointer {v} into packet or map memory"),
                    );
                }
                Ok(())
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn atomic(
        &mut self,
        st: &mut State,
        pc: usize,
        width: Width,
        op: AtomicOp,
        fetch: bool,
        base: Reg,
        off: i16,
        src: Reg,
    ) -> Result<(), VerifyError> {
        let b = self.reg(st, pc, base)?;
        let s = self.reg(st, pc, src)?;
        if s.kind != Kind::Scalar {
            return fail(
                pc,
                Rule::PointerLeak,
                format!("atomic operation with pointer {src}={s}"),
            );
        }
        if op == AtomicOp::Cmpxchg {
            let r0 = self.reg(st, pc, Reg::R0)?;
            if r0.kind != Kind::Scalar {
                return fail(
                    pc,
                    Rule::PointerLeak,
                    format!("cmpxchg compares with pointer r0={r0}"),
                );
            }
        }
        let size = if width == Width::W64 {
            Size::DW
        } else {
            Size::W
        };
        let region = self.region(pc, &b, base, off, size.bytes(), Use::Atomic)?;
        if let Region::Ctx(_) = region {
            return fail(pc, Rule::MemAccess, "atomic operation on the context");
        }
        self.record(pc, Access::Proven)?;
        if let Region::Stack { frame, off } = region {
            note_stack(st, frame, off);
            // Reads then writes: every byte must hold scalar data.
            stack_read(st, pc, frame, off, size, false)?;
            let fr = &mut st.frames[frame];
            let slot = fr.slot_mut(off);
            if slot.bytes[0] == Byte::Spill {
                slot.bytes = [Byte::Misc; 8];
                slot.spill = RegState::NOT_INIT;
            }
            let start = off.rem_euclid(8) as usize;
            for b in &mut slot.bytes[start..start + size.bytes()] {
                *b = Byte::Misc;
            }
        }
        let result = RegState::scalar(if width == Width::W64 {
            Scalar::UNKNOWN
        } else {
            Scalar::low_bits(32)
        });
        if op == AtomicOp::Cmpxchg {
            st.frame_mut().regs[0] = result;
        } else if fetch {
            st.frame_mut().regs[src.idx()] = result;
        }
        Ok(())
    }

    /// A helper argument pointing to `size` readable, initialised bytes.
    pub fn mem_arg(&mut self, st: &State, pc: usize, r: Reg, size: u64) -> Result<(), VerifyError> {
        let p = self.reg(st, pc, r)?;
        if size == 0 || size >= MAX_STACK as u64 * 128 {
            return fail(
                pc,
                Rule::HelperArg,
                format!("memory argument {r} of size {size}"),
            );
        }
        match p.kind {
            Kind::Stack => {
                let Some(v) = p.var.as_const() else {
                    return fail(
                        pc,
                        Rule::HelperArg,
                        format!("variable stack pointer {r}={p} as helper argument"),
                    );
                };
                let o = p.off + v as i64;
                let end = o + size as i64;
                if o < -MAX_STACK || end > 0 {
                    return fail(
                        pc,
                        Rule::HelperArg,
                        format!("{r}: stack range off={o} size={size} outside the frame"),
                    );
                }
                self.max_stack = self.max_stack.max((-o) as u32);
                let Some(fr) = st.frames.get(p.aux as usize) else {
                    return fail(
                        pc,
                        Rule::HelperArg,
                        "pointer into a stack frame that is gone",
                    );
                };
                for a in o..end {
                    match fr.byte(a) {
                        (Byte::Invalid, _) => {
                            return fail(
                                pc,
                                Rule::UninitStack,
                                format!("{r}: stack byte {a} passed to a helper is uninitialised"),
                            );
                        }
                        (Byte::Spill, Some(s)) if s.spill.kind != Kind::Scalar => {
                            return fail(
                                pc,
                                Rule::PointerLeak,
                                format!("{r}: stack byte {a} holds a spilled pointer"),
                            );
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            Kind::Packet | Kind::MapValue => {
                let size = size as usize;
                if size > i16::MAX as usize {
                    return fail(
                        pc,
                        Rule::HelperArg,
                        format!("memory argument {r} of size {size}"),
                    );
                }
                if p.kind == Kind::MapValue {
                    let vs = self
                        .prog
                        .maps
                        .get(p.aux as usize)
                        .map_or(0, |m| m.value_size) as i128;
                    let lo = p.var.smin as i128 + p.off as i128;
                    let hi = p.var.umax as i128 + p.off as i128 + size as i128;
                    if p.var.smin < 0 || lo < 0 || hi > vs {
                        return fail(
                            pc,
                            Rule::HelperArg,
                            format!("{r}: map value range size={size} outside 0..{vs}"),
                        );
                    }
                    return Ok(());
                }
                self.region(pc, &p, r, 0, size, Use::Read).map(|_| ())
            }
            _ => fail(
                pc,
                Rule::HelperArg,
                format!("{r}={p} is not a pointer to memory"),
            ),
        }
    }
}

/// Records the stack slot the current instruction accesses (for backtracking).
fn note_stack(st: &mut State, frame: usize, off: i64) {
    if let Some(h) = st.hist.last_mut() {
        h.set_stack(frame, off);
    }
}

fn stack_read(
    st: &State,
    pc: usize,
    frame: usize,
    off: i64,
    size: Size,
    signed: bool,
) -> Result<RegState, VerifyError> {
    let Some(fr) = st.frames.get(frame) else {
        return fail(
            pc,
            Rule::MemAccess,
            "pointer into a stack frame that is gone",
        );
    };
    let n = size.bytes();
    if let (Byte::Spill, Some(slot)) = fr.byte(off) {
        if n == 8 {
            return Ok(slot.spill);
        }
        if slot.spill.kind != Kind::Scalar {
            return fail(
                pc,
                Rule::MemAccess,
                format!("partial read of spilled pointer at stack off={off}"),
            );
        }
        let shift = off.rem_euclid(8) as u32 * 8;
        return Ok(RegState::scalar(match slot.spill.var.as_const() {
            Some(c) => Scalar::konst(semantics::extend_load(size, signed, c >> shift)),
            None => loaded(size, signed),
        }));
    }
    for a in off..off + n as i64 {
        match fr.byte(a) {
            (Byte::Invalid, _) => {
                return fail(
                    pc,
                    Rule::UninitStack,
                    format!("read of uninitialised stack byte off={a}"),
                );
            }
            (Byte::Spill, Some(s)) if s.spill.kind != Kind::Scalar => {
                return fail(
                    pc,
                    Rule::MemAccess,
                    format!("partial read of spilled pointer at stack off={a}"),
                );
            }
            _ => {}
        }
    }
    Ok(RegState::scalar(loaded(size, signed)))
}

fn stack_write(
    st: &mut State,
    pc: usize,
    frame: usize,
    off: i64,
    size: Size,
    v: RegState,
) -> Result<(), VerifyError> {
    let n = size.bytes();
    let Some(fr) = st.frames.get_mut(frame) else {
        return fail(
            pc,
            Rule::MemAccess,
            "pointer into a stack frame that is gone",
        );
    };
    let slot = fr.slot_mut(off);
    if n == 8 {
        slot.bytes = [Byte::Spill; 8];
        slot.spill = v;
        return Ok(());
    }
    if v.kind.is_ptr() {
        return fail(
            pc,
            Rule::PointerLeak,
            format!("spill of pointer {v} with a {n}-byte store"),
        );
    }
    if slot.bytes[0] == Byte::Spill {
        // Overwriting part of a spilled register: the other bytes of a spilled
        // pointer become unreadable, those of a scalar stay scalar data.
        let rest = if slot.spill.kind == Kind::Scalar {
            Byte::Misc
        } else {
            Byte::Invalid
        };
        slot.bytes = [rest; 8];
        slot.spill = RegState::NOT_INIT;
    }
    let start = off.rem_euclid(8) as usize;
    for b in &mut slot.bytes[start..start + n] {
        *b = Byte::Misc;
    }
    Ok(())
}
