//! Conditional jumps: both outcomes refined on scalars (with every scalar
//! linked by id), pointer comparisons (null checks, packet bounds), and the
//! links a refinement reaches, recorded for precision backtracking.

use super::bounds::Scalar;
use super::check::{Checker, MAX_VAR_OFF};
use super::error::{fail, Rule, VerifyError};
use super::marks::Demand;
use super::precise::{Marks, LINK_FAR};
use super::state::{Kind, RegState, State};
use crate::isa::{JmpOp, Reg, Src, Width};
use crate::program::ProgType;

/// Largest packet offset a comparison with the end may prove (`MAX_PACKET_OFF`).
const MAX_PACKET_OFF: u64 = 0xffff;

/// Which outcomes of a conditional jump are possible. The state the path
/// goes on with is the one given, changed in place (moving states of a few
/// hundred bytes in and out would cost more than refining them).
pub(super) enum Outcome {
    /// Only falling through.
    Fall,
    /// Only jumping.
    Taken,
    /// Both: the given state falls through, this one jumps.
    Both(State),
    /// Neither: the path is impossible.
    Neither,
}

impl Checker<'_> {
    /// Refines `st` for the outcomes of a conditional jump (see [`Outcome`]).
    pub(super) fn jump(
        &mut self,
        st: &mut State,
        pc: usize,
        width: Width,
        op: JmpOp,
        dst: Reg,
        src: Src,
    ) -> Result<Outcome, VerifyError> {
        let a = self.reg(st, pc, dst)?;
        let b = self.operand(st, pc, src)?;
        if a.kind == Kind::Scalar && b.kind == Kind::Scalar {
            let raw = self.prog.prog_type == ProgType::Raw;
            let apply = |s: &mut State, (ra, rb): (Scalar, Scalar)| {
                set_scalar(s, dst, a.id, ra);
                if let Src::Reg(r) = src {
                    set_scalar(s, r, b.id, rb);
                }
                if raw {
                    propagate_len(s);
                }
            };
            let t = Scalar::refine(width, op, &a.var, &b.var, true);
            let f = Scalar::refine(width, op, &a.var, &b.var, false);
            self.note_links(st, a.id, if matches!(src, Src::Reg(_)) { b.id } else { 0 });
            // A decided outcome (or, in `raw` programs, one that may prove
            // memory through the length) relies on the operands' values.
            if t.is_none() || f.is_none() || (raw && (a.len || b.len)) {
                let fr = st.frames.len() - 1;
                let mut m = Marks::reg(fr, dst);
                if let Src::Reg(r) = src {
                    m.set_reg(fr, r.idx());
                }
                self.demand(st, m);
            }
            // Copy only when both outcomes are possible.
            return Ok(match (t, f) {
                (Some(t), Some(f)) => {
                    let mut taken = self.copy_state(st);
                    apply(&mut taken, t);
                    apply(st, f);
                    Outcome::Both(taken)
                }
                (Some(t), None) => {
                    apply(st, t);
                    Outcome::Taken
                }
                (None, Some(f)) => {
                    apply(st, f);
                    Outcome::Fall
                }
                (None, None) => Outcome::Neither,
            });
        }
        if width == Width::W32 {
            return fail(
                pc,
                Rule::PointerArith,
                "32-bit comparison of a pointer prohibited",
            );
        }
        let (p, q, op) = if a.kind == Kind::Scalar {
            (b, a, mirror(op))
        } else {
            (a, b, op)
        };
        if q.kind == Kind::Scalar {
            if q.var.as_const() != Some(0) || !matches!(op, JmpOp::Eq | JmpOp::Ne) {
                return fail(
                    pc,
                    Rule::PointerArith,
                    format!("comparison of pointer {p} with number {q} prohibited"),
                );
            }
            // The number must be exactly 0.
            match (a.kind == Kind::Scalar, src) {
                (true, _) => self.demand_reg(st, dst),
                (false, Src::Reg(r)) => self.demand_reg(st, r),
                _ => {}
            }
            if p.kind == Kind::MapValueOrNull {
                let null = |s: &mut State| {
                    s.for_each_reg(|r| {
                        if r.kind == Kind::MapValueOrNull && r.id == p.id {
                            *r = RegState::scalar(Scalar::konst(0));
                        }
                    })
                };
                let some = |s: &mut State| {
                    s.for_each_reg(|r| {
                        if r.kind == Kind::MapValueOrNull && r.id == p.id {
                            r.kind = Kind::MapValue;
                            r.id = 0;
                        }
                    })
                };
                let mut taken = self.copy_state(st);
                if op == JmpOp::Eq {
                    null(&mut taken);
                    some(st);
                } else {
                    some(&mut taken);
                    null(st);
                }
                return Ok(Outcome::Both(taken));
            }
            // Any other pointer is never null.
            return Ok(if op == JmpOp::Eq {
                Outcome::Fall
            } else {
                Outcome::Taken
            });
        }
        let pkt = matches!(a.kind, Kind::Packet | Kind::PacketEnd)
            && matches!(b.kind, Kind::Packet | Kind::PacketEnd);
        let same =
            a.kind == b.kind && a.aux == b.aux && matches!(a.kind, Kind::Stack | Kind::MapValue);
        if !pkt && !same {
            return fail(
                pc,
                Rule::PointerArith,
                format!("comparison of pointers {a} and {b} prohibited"),
            );
        }
        let mut t = self.copy_state(st);
        let f = st;
        match (a.kind, b.kind) {
            (Kind::Packet, Kind::PacketEnd) => match op {
                JmpOp::Gt => good_pkt(f, &a, false),
                JmpOp::Lt => good_pkt(&mut t, &a, true),
                JmpOp::Ge => good_pkt(f, &a, true),
                JmpOp::Le => good_pkt(&mut t, &a, false),
                _ => {}
            },
            (Kind::PacketEnd, Kind::Packet) => match op {
                JmpOp::Gt => good_pkt(&mut t, &b, true),
                JmpOp::Lt => good_pkt(f, &b, false),
                JmpOp::Ge => good_pkt(&mut t, &b, false),
                JmpOp::Le => good_pkt(f, &b, true),
                _ => {}
            },
            _ => {}
        }
        Ok(Outcome::Both(t))
    }

    /// Records in the current history entry which scalars of the frame share
    /// an id with a jump operand (a refinement reaches them all).
    fn note_links(&self, st: &mut State, a: u32, b: u32) {
        if a == 0 && b == 0 {
            return;
        }
        let linked = |x: &RegState| x.kind == Kind::Scalar && x.id != 0 && (x.id == a || x.id == b);
        let top = st.frames.len() - 1;
        let (mut regs, mut slots, mut far) = (0u16, 0u64, false);
        for (f, fr) in st.frames.iter().enumerate() {
            for (r, x) in fr.regs.iter().enumerate() {
                if linked(x) {
                    if f == top {
                        regs |= 1 << r;
                    } else {
                        far = true;
                    }
                }
            }
            for (i, sl) in fr.stack.iter().enumerate() {
                if sl.bytes[0] == super::state::Byte::Spill && linked(&sl.spill) {
                    if f == top && i < 64 {
                        slots |= 1 << i;
                    } else {
                        far = true;
                    }
                }
            }
        }
        if let Some(h) = st.hist.last_mut() {
            h.links = regs;
            h.link_slots = slots;
            if far {
                h.stack = LINK_FAR;
            }
        }
    }
}

fn mirror(op: JmpOp) -> JmpOp {
    use JmpOp::*;
    match op {
        Gt => Lt,
        Lt => Gt,
        Ge => Le,
        Le => Ge,
        Sgt => Slt,
        Slt => Sgt,
        Sge => Sle,
        Sle => Sge,
        o => o,
    }
}

/// Sets register `r` to `v`, and every scalar linked to it by `id`.
fn set_scalar(st: &mut State, r: Reg, id: u32, v: Scalar) {
    st.frame_mut().regs[r.idx()].var = v;
    if id != 0 {
        st.for_each_reg(|x| {
            if x.kind == Kind::Scalar && x.id == id {
                x.var = v;
            }
        });
    }
}

/// `raw` programs: a lower bound on the length register proves that many
/// bytes of the memory block.
fn propagate_len(st: &mut State) {
    let mut len = 0u64;
    st.for_each_reg(|r| {
        if r.kind == Kind::Scalar && r.len {
            len = len.max(r.var.umin);
        }
    });
    let len = len.min(MAX_VAR_OFF as u64) as u32;
    if len > 0 {
        st.for_each_reg(|r| {
            if r.kind == Kind::Packet && r.id == 0 {
                r.range = r.range.max(len);
            }
        });
    }
}

/// After `pkt + off` is proven at most (or, `open`, below) the packet end:
/// every pointer with the same id gets the range (the kernel's `find_good_pkt_pointers`).
fn good_pkt(st: &mut State, p: &RegState, open: bool) {
    if p.off < 0 || (p.off == 0 && open) {
        return;
    }
    if p.var.umax > MAX_PACKET_OFF || p.var.umax + p.off as u64 > MAX_PACKET_OFF {
        return;
    }
    let range = (p.off + open as i64) as u32;
    let id = p.id;
    st.for_each_reg(|r| {
        if r.kind == Kind::Packet && r.id == id {
            r.range = r.range.max(range);
        }
    });
}
