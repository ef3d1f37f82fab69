//! Multi-instruction operations: floored division, Lua shifts, packet loads
//! and map helpers.

use super::vcode::*;
use super::{Gen, Opnd, Val, KEY_OFF, MAX_PKT_END, TAG_INT, TAG_NIL, VAL_OFF};
use crate::ir::{Konst, MapType};
use crate::Cpu;
use bpf_bridge::isa::{AluOp, JmpOp, Size};
use bpf_bridge::program::helper_id;

fn size_of(bytes: u32) -> Size {
    if bytes == 8 {
        Size::DW
    } else {
        Size::W
    }
}

impl<'m, 'a> Gen<'m, 'a> {
    pub(crate) fn alu(&mut self, op: AluOp, dst: V, src: VSrc) {
        self.emit(VOp::Alu { op, dst, src });
    }

    /// Ends the filter with a runtime error (verdict 0) when `a op b`.
    pub(crate) fn fail_if(&mut self, op: JmpOp, a: V, b: VSrc) {
        let target = self.err;
        self.emit(VOp::Jmp { op, a, b, target });
    }

    /// Ends the filter with a runtime error (verdict 0).
    pub(crate) fn fail(&mut self) {
        let target = self.err;
        self.emit(VOp::Ja { target });
    }

    /// Lua `//` and `%` (floored; by zero is a runtime error).
    pub(crate) fn divmod(&mut self, is_mod: bool, a: Opnd, b: Opnd) -> Opnd {
        match b {
            Opnd::Imm(0) => {
                self.fail();
                Opnd::Imm(0)
            }
            Opnd::Imm(d) => Opnd::Reg(self.divmod_const(is_mod, a, d)),
            Opnd::Reg(br) => {
                let ar = self.reg_of(a);
                self.fail_if(JmpOp::Eq, br, VSrc::Imm(0));
                Opnd::Reg(self.floored(is_mod, ar, b))
            }
        }
    }

    /// Floored `ar // b` or `ar % b` for a non-zero `b`: truncating
    /// division, then the floor correction.
    pub(crate) fn floored(&mut self, is_mod: bool, ar: V, b: Opnd) -> V {
        let q = self.new_v();
        let r = self.new_v();
        let done = self.label();
        let bs = self.src_of(b);
        if self.opts.cpu == Cpu::V4 {
            // Truncating signed ops; the quotient only when it is the result.
            if !is_mod {
                self.mov(q, ar);
                self.alu(AluOp::Sdiv, q, bs);
            }
            self.mov(r, ar);
            self.alu(AluOp::Smod, r, bs);
        } else {
            // Unsigned ops on magnitudes; signs restored after.
            let ua = self.new_v();
            let ub = self.new_v();
            self.abs_into(ua, ar);
            match b {
                Opnd::Imm(d) => self.mov_imm(ub, d.unsigned_abs() as i64),
                Opnd::Reg(br) => self.abs_into(ub, br),
            }
            if !is_mod {
                self.mov(q, ua);
                self.alu(AluOp::Div, q, VSrc::Reg(ub));
            }
            self.mov(r, ua);
            self.alu(AluOp::Mod, r, VSrc::Reg(ub));
            // Truncated quotient is negative when the signs differ; remainder takes a's sign.
            if !is_mod {
                let s = self.new_v();
                let l3 = self.label();
                self.mov(s, ar);
                self.alu(AluOp::Xor, s, bs);
                self.emit(VOp::Jmp {
                    op: JmpOp::Sge,
                    a: s,
                    b: VSrc::Imm(0),
                    target: l3,
                });
                self.emit(VOp::Neg { dst: q });
                self.place(l3);
            }
            let l4 = self.label();
            self.emit(VOp::Jmp {
                op: JmpOp::Sge,
                a: ar,
                b: VSrc::Imm(0),
                target: l4,
            });
            self.emit(VOp::Neg { dst: r });
            self.place(l4);
        }
        // Floor: when the remainder is non-zero and its sign differs from b's.
        self.emit(VOp::Jmp {
            op: JmpOp::Eq,
            a: r,
            b: VSrc::Imm(0),
            target: done,
        });
        let t = self.new_v();
        self.mov(t, r);
        self.alu(AluOp::Xor, t, bs);
        self.emit(VOp::Jmp {
            op: JmpOp::Sge,
            a: t,
            b: VSrc::Imm(0),
            target: done,
        });
        if is_mod {
            self.alu(AluOp::Add, r, bs);
        } else {
            self.alu(AluOp::Sub, q, VSrc::Imm(1));
        }
        self.place(done);
        if is_mod {
            r
        } else {
            q
        }
    }

    /// Lua `<<` / `>>` (logical; 64 or more gives 0; negative counts reverse).
    pub(crate) fn shift(&mut self, left: bool, a: Opnd, n: Opnd) -> Opnd {
        if let Opnd::Imm(k) = n {
            let k = if left { k } else { k.wrapping_neg() };
            if k <= -64 || k >= 64 {
                return Opnd::Imm(0);
            }
            let r = self.new_v();
            match a {
                Opnd::Imm(i) => self.mov_imm(r, i),
                Opnd::Reg(s) => self.mov(r, s),
            }
            if k > 0 {
                self.alu(AluOp::Lsh, r, VSrc::Imm(k as i32));
            } else if k < 0 {
                self.alu(AluOp::Rsh, r, VSrc::Imm((-k) as i32));
            }
            return Opnd::Reg(r);
        }
        let Opnd::Reg(nr) = n else {
            return Opnd::Imm(0);
        };
        let ar = self.reg_of(a);
        let r = self.new_v();
        let c = self.new_v();
        let done = self.label();
        let other = self.label();
        self.mov_imm(r, 0);
        // Compared on a copy of its own: the count's variable is not split
        // into `< -63`, `-63..-1`, `0..63` and `> 63`.
        self.copy_unlinked(c, nr);
        self.emit(VOp::Jmp {
            op: JmpOp::Sge,
            a: c,
            b: VSrc::Imm(64),
            target: done,
        });
        self.emit(VOp::Jmp {
            op: JmpOp::Sle,
            a: c,
            b: VSrc::Imm(-64),
            target: done,
        });
        self.mov(r, ar);
        self.emit(VOp::Jmp {
            op: JmpOp::Slt,
            a: c,
            b: VSrc::Imm(0),
            target: other,
        });
        let (pos, neg) = if left {
            (AluOp::Lsh, AluOp::Rsh)
        } else {
            (AluOp::Rsh, AluOp::Lsh)
        };
        self.alu(pos, r, VSrc::Reg(c));
        self.emit(VOp::Ja { target: done });
        self.place(other);
        self.emit(VOp::Neg { dst: c });
        self.alu(neg, r, VSrc::Reg(c));
        self.place(done);
        Opnd::Reg(r)
    }

    /// `pkt:uN(off)`: bounds-checked big-endian load.
    pub(crate) fn pkt_load(&mut self, size: u8, off: Opnd) -> V {
        let sz = match size {
            1 => Size::B,
            2 => Size::H,
            _ => Size::W,
        };
        let r = self.new_v();
        let (data, data_end) = (self.data, self.data_end);
        match off {
            Opnd::Imm(k) => {
                let end = k.saturating_add(size as i64);
                if k < 0 || end > MAX_PKT_END {
                    self.fail();
                    self.mov_imm(r, 0);
                    return r;
                }
                self.ensure(end);
                if k <= i16::MAX as i64 {
                    self.emit(VOp::Load {
                        size: sz,
                        dst: r,
                        base: data,
                        off: k as i16,
                    });
                } else {
                    let p = self.new_v();
                    self.mov(p, data);
                    self.alu(AluOp::Add, p, VSrc::Imm(k as i32));
                    self.emit(VOp::Load {
                        size: sz,
                        dst: r,
                        base: p,
                        off: 0,
                    });
                }
            }
            Opnd::Reg(o) => {
                // Unsigned: negative offsets fail too.
                self.fail_if(JmpOp::Gt, o, VSrc::Imm((MAX_PKT_END - size as i64) as i32));
                let p = self.new_v();
                self.mov(p, data);
                self.alu(AluOp::Add, p, VSrc::Reg(o));
                let t = self.new_v();
                self.mov(t, p);
                self.alu(AluOp::Add, t, VSrc::Imm(size as i32));
                self.fail_if(JmpOp::Gt, t, VSrc::Reg(data_end));
                self.emit(VOp::Load {
                    size: sz,
                    dst: r,
                    base: p,
                    off: 0,
                });
            }
        }
        if size > 1 {
            self.emit(VOp::Be {
                bits: size * 8,
                dst: r,
            });
        }
        self.ranges.insert(r, (0, (1i64 << (8 * size as u32)) - 1));
        r
    }

    fn store_slot(&mut self, bytes: u32, off: i16, v: Opnd) {
        let size = size_of(bytes);
        let src = match v {
            // A 32-bit store truncates; a 64-bit store sign-extends the immediate.
            Opnd::Imm(i) if bytes == 4 => VSrc::Imm(i as i32),
            o => self.src_of(o),
        };
        self.emit(VOp::Store {
            size,
            base: FP,
            off,
            src,
        });
    }

    fn key_args(&mut self, map: usize, key: Opnd) {
        let ks = self.m.maps.get(map).map_or(4, |d| d.key_size);
        self.store_slot(ks, KEY_OFF, key);
        self.emit(VOp::LoadMap {
            dst: V::phys(1),
            map: map as u32,
        });
        self.mov(V::phys(2), FP);
        self.alu(AluOp::Add, V::phys(2), VSrc::Imm(KEY_OFF as i32));
    }

    /// `m[k]`: the value, or nil on a miss.
    /// Looks `key` up; returns the register holding the value pointer (or 0).
    pub(crate) fn map_lookup_ptr(&mut self, map: usize, key: Opnd) -> V {
        self.key_args(map, key);
        self.emit(VOp::Call {
            helper: helper_id::MAP_LOOKUP_ELEM,
            nargs: 2,
        });
        let p = self.new_v();
        self.mov(p, V::phys(0));
        p
    }

    /// Loads the value a non-null lookup pointer points at.
    pub(crate) fn map_value(&mut self, map: usize, p: V) -> V {
        let vs = self.m.maps.get(map).map_or(8, |d| d.value_size);
        let val = self.new_v();
        self.emit(VOp::Load {
            size: size_of(vs),
            dst: val,
            base: p,
            off: 0,
        });
        if vs == 4 {
            self.ranges.insert(val, (0, u32::MAX as i64));
        }
        val
    }

    /// `m[k]`: the value, or nil on a miss.
    pub(crate) fn map_lookup(&mut self, map: usize, key: Opnd) -> Val {
        let p = self.map_lookup_ptr(map, key);
        self.map_deref(map, p)
    }

    /// The value a lookup pointer designates, or nil when it is null.
    pub(crate) fn map_deref(&mut self, map: usize, p: V) -> Val {
        let vs = self.m.maps.get(map).map_or(8, |d| d.value_size);
        let tag = self.new_v();
        let val = self.new_v();
        let done = self.label();
        self.mov_imm(tag, TAG_NIL as i64);
        self.mov_imm(val, 0);
        self.emit(VOp::Jmp {
            op: JmpOp::Eq,
            a: p,
            b: VSrc::Imm(0),
            target: done,
        });
        self.emit(VOp::Load {
            size: size_of(vs),
            dst: val,
            base: p,
            off: 0,
        });
        self.mov_imm(tag, TAG_INT as i64);
        self.place(done);
        Val::Dyn(tag, val)
    }

    /// `m[k]` where nil would be a runtime error anyway (an arithmetic operand).
    pub(crate) fn map_get_int(&mut self, map: usize, key: Opnd) -> Opnd {
        let p = self.map_lookup_ptr(map, key);
        self.fail_if(JmpOp::Eq, p, VSrc::Imm(0));
        Opnd::Reg(self.map_value(map, p))
    }

    fn map_update(&mut self, map: usize, key: Opnd, val: Opnd) {
        let vs = self.m.maps.get(map).map_or(8, |d| d.value_size);
        self.store_slot(vs, VAL_OFF, val);
        self.key_args(map, key);
        self.mov(V::phys(3), FP);
        self.alu(AluOp::Add, V::phys(3), VSrc::Imm(VAL_OFF as i32));
        self.mov_imm(V::phys(4), 0);
        self.emit(VOp::Call {
            helper: helper_id::MAP_UPDATE_ELEM,
            nargs: 4,
        });
    }

    fn map_delete(&mut self, map: usize, key: Opnd) {
        if self.m.maps.get(map).map(|d| d.kind) == Some(MapType::Array) {
            self.fail();
            return;
        }
        self.key_args(map, key);
        self.emit(VOp::Call {
            helper: helper_id::MAP_DELETE_ELEM,
            nargs: 2,
        });
    }

    /// `m[k] = v` where the value was computed with `p`, the pointer `m[k]`
    /// looked up: an integer is stored in place when the key exists.
    pub(crate) fn map_store_at(&mut self, map: usize, key: Opnd, p: V, v: Val) {
        let vs = self.m.maps.get(map).map_or(8, |d| d.value_size);
        let src = match v {
            Val::K(Konst::Int(i)) if i32::try_from(i).is_ok() || vs == 4 => VSrc::Imm(i as i32),
            Val::K(Konst::Int(i)) => VSrc::Reg(self.reg_of(Opnd::Imm(i))),
            Val::Int(r) => VSrc::Reg(r),
            other => return self.map_store(map, key, other),
        };
        let slow = self.label();
        let done = self.label();
        self.emit(VOp::Jmp {
            op: JmpOp::Eq,
            a: p,
            b: VSrc::Imm(0),
            target: slow,
        });
        self.emit(VOp::Store {
            size: size_of(vs),
            base: p,
            off: 0,
            src,
        });
        self.emit(VOp::Ja { target: done });
        self.place(slow);
        self.map_store(map, key, v);
        self.place(done);
    }

    /// `m[k] = v` (nil deletes from a hash map; errors on an array).
    pub(crate) fn map_store(&mut self, map: usize, key: Opnd, v: Val) {
        match v {
            Val::K(Konst::Int(i)) => self.map_update(map, key, Opnd::Imm(i)),
            Val::Int(r) => self.map_update(map, key, Opnd::Reg(r)),
            Val::K(Konst::Nil) => self.map_delete(map, key),
            Val::K(Konst::Bool(_)) | Val::Bool(_) | Val::Pkt => self.fail(),
            Val::Dyn(t, p) => {
                let upd = self.label();
                let del = self.label();
                let done = self.label();
                self.emit(VOp::Jmp {
                    op: JmpOp::Eq,
                    a: t,
                    b: VSrc::Imm(TAG_INT),
                    target: upd,
                });
                self.emit(VOp::Jmp {
                    op: JmpOp::Eq,
                    a: t,
                    b: VSrc::Imm(TAG_NIL),
                    target: del,
                });
                self.fail();
                self.place(upd);
                self.map_update(map, key, Opnd::Reg(p));
                self.emit(VOp::Ja { target: done });
                self.place(del);
                self.map_delete(map, key);
                self.place(done);
            }
        }
    }
}
