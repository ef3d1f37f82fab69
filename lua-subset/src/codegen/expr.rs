//! Expressions: values, conditions (jumps), comparisons and truthiness.

use super::vcode::*;
use super::{Gen, Opnd, Val, TAG_INT, TAG_NIL};
use crate::ir::*;
use crate::lower::truthy;
use crate::luaops;
use crate::types;
use bpf_bridge::isa::{AluOp, JmpOp};

/// Whether evaluating `e` may call a function (the only way an expression has
/// effects besides failing).
pub(crate) fn has_call(e: &Expr) -> bool {
    match e.kind {
        ExprKind::Call { .. } => true,
        ExprKind::Const(_) | ExprKind::Var(_) => false,
        ExprKind::PktLen(a) | ExprKind::Unary(_, a) | ExprKind::Abs(a) => has_call(a),
        ExprKind::PktLoad { pkt, off, .. } => has_call(pkt) || has_call(off),
        ExprKind::MapGet { key, .. } | ExprKind::TableGet { key, .. } => has_call(key),
        ExprKind::Binary(_, a, b) | ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            has_call(a) || has_call(b)
        }
        ExprKind::MinMax { args, .. } => args.iter().any(has_call),
    }
}

/// Whether two pure expressions always have the same value.
pub(crate) fn same_value(a: &Expr, b: &Expr) -> bool {
    match (a.kind, b.kind) {
        (ExprKind::Const(x), ExprKind::Const(y)) => x == y,
        (ExprKind::Var(x), ExprKind::Var(y)) => x == y,
        (ExprKind::PktLen(_), ExprKind::PktLen(_)) => true,
        (
            ExprKind::PktLoad {
                size: s1, off: o1, ..
            },
            ExprKind::PktLoad {
                size: s2, off: o2, ..
            },
        ) => s1 == s2 && same_value(o1, o2),
        (ExprKind::Unary(o1, x1), ExprKind::Unary(o2, x2)) => o1 == o2 && same_value(x1, x2),
        (ExprKind::Binary(o1, x1, y1), ExprKind::Binary(o2, x2, y2)) => {
            o1 == o2 && same_value(x1, x2) && same_value(y1, y2)
        }
        _ => false,
    }
}

/// Whether `e` reads `map` at a key with the same value as `key`.
pub(crate) fn reads_map(e: &Expr, map: usize, key: &Expr) -> bool {
    match e.kind {
        ExprKind::MapGet { map: m, key: k } => {
            (m == map && same_value(k, key)) || reads_map(k, map, key)
        }
        ExprKind::Const(_) | ExprKind::Var(_) | ExprKind::Call { .. } => false,
        ExprKind::PktLen(a) | ExprKind::Unary(_, a) | ExprKind::Abs(a) => reads_map(a, map, key),
        ExprKind::PktLoad { off, .. } => reads_map(off, map, key),
        ExprKind::TableGet { key: k, .. } => reads_map(k, map, key),
        ExprKind::Binary(_, a, b) | ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            reads_map(a, map, key) || reads_map(b, map, key)
        }
        ExprKind::MinMax { args, .. } => args.iter().any(|a| reads_map(a, map, key)),
    }
}

/// `b op a` ⇔ `a op' b`.
fn mirror(op: JmpOp) -> JmpOp {
    match op {
        JmpOp::Slt => JmpOp::Sgt,
        JmpOp::Sgt => JmpOp::Slt,
        JmpOp::Sle => JmpOp::Sge,
        JmpOp::Sge => JmpOp::Sle,
        JmpOp::Lt => JmpOp::Gt,
        JmpOp::Gt => JmpOp::Lt,
        JmpOp::Le => JmpOp::Ge,
        JmpOp::Ge => JmpOp::Le,
        o => o,
    }
}

fn fold_jmp(op: JmpOp, a: i64, b: i64) -> bool {
    match op {
        JmpOp::Eq => a == b,
        JmpOp::Ne => a != b,
        JmpOp::Slt => a < b,
        JmpOp::Sle => a <= b,
        JmpOp::Sgt => a > b,
        JmpOp::Sge => a >= b,
        JmpOp::Lt => (a as u64) < (b as u64),
        JmpOp::Le => (a as u64) <= (b as u64),
        JmpOp::Gt => (a as u64) > (b as u64),
        JmpOp::Ge => (a as u64) >= (b as u64),
        JmpOp::Set => a & b != 0,
    }
}

/// The outcome of `a op b` for every `a` in range `x` and `b` in range `y`,
/// when it is the same for all (signed comparisons, and unsigned ones of
/// non-negative ranges).
fn decided(op: JmpOp, x: (i64, i64), y: (i64, i64)) -> Option<bool> {
    let unsigned = matches!(op, JmpOp::Lt | JmpOp::Le | JmpOp::Gt | JmpOp::Ge);
    if unsigned && (x.0 < 0 || y.0 < 0) {
        return None;
    }
    let (lt, le, gt, ge) = (x.1 < y.0, x.1 <= y.0, x.0 > y.1, x.0 >= y.1);
    let apart = lt || gt;
    match op {
        JmpOp::Slt | JmpOp::Lt if lt || ge => Some(lt),
        JmpOp::Sle | JmpOp::Le if le || gt => Some(le),
        JmpOp::Sgt | JmpOp::Gt if gt || le => Some(gt),
        JmpOp::Sge | JmpOp::Ge if ge || lt => Some(ge),
        JmpOp::Eq if apart => Some(false),
        JmpOp::Ne if apart => Some(true),
        _ => None,
    }
}

impl<'m, 'a> Gen<'m, 'a> {
    /// Jumps to `target` when `a op b`; folds constants, and comparisons
    /// that known ranges decide.
    pub(crate) fn jump_if(&mut self, op: JmpOp, a: Opnd, b: Opnd, target: Label) {
        match (a, b) {
            (Opnd::Imm(x), Opnd::Imm(y)) => {
                if fold_jmp(op, x, y) {
                    self.emit(VOp::Ja { target });
                }
            }
            (Opnd::Imm(_), Opnd::Reg(_)) => self.jump_if(mirror(op), b, a, target),
            (Opnd::Reg(r), b) => {
                // Decided by known ranges (`pkt.len > math.mininteger`): no
                // branch, or the verifier (to which `pkt.len` is any 64-bit
                // value) would explore a path that cannot run.
                let range = |o: Opnd| match o {
                    Opnd::Imm(i) => Some((i, i)),
                    Opnd::Reg(r) => self.ranges.get(&r).copied(),
                };
                if let Some(taken) = range(a).zip(range(b)).and_then(|(x, y)| decided(op, x, y)) {
                    if taken {
                        self.emit(VOp::Ja { target });
                    }
                    return;
                }
                let src = self.src_of(b);
                self.emit(VOp::Jmp {
                    op,
                    a: r,
                    b: src,
                    target,
                });
            }
        }
    }

    /// Integer operand of a value; non-integers are a runtime error.
    pub(crate) fn int_of(&mut self, v: Val) -> Opnd {
        match v {
            Val::K(Konst::Int(i)) => Opnd::Imm(i),
            Val::Int(r) => Opnd::Reg(r),
            Val::Dyn(t, p) => {
                self.fail_if(JmpOp::Ne, t, VSrc::Imm(TAG_INT));
                Opnd::Reg(p)
            }
            _ => {
                self.fail();
                Opnd::Imm(0)
            }
        }
    }

    /// Jumps to `target` when the truthiness of `v` is `when`.
    pub(crate) fn truth_jump(&mut self, v: Val, when: bool, target: Label) {
        match v {
            Val::K(k) => {
                if truthy(k) == when {
                    self.emit(VOp::Ja { target });
                }
            }
            Val::Int(_) | Val::Pkt => {
                if when {
                    self.emit(VOp::Ja { target });
                }
            }
            Val::Bool(r) => {
                let op = if when { JmpOp::Ne } else { JmpOp::Eq };
                self.emit(VOp::Jmp {
                    op,
                    a: r,
                    b: VSrc::Imm(0),
                    target,
                });
            }
            Val::Dyn(t, p) => {
                // Falsy exactly when the tag is nil or boolean and the payload
                // is 0. The tag is tested first so that an integer's payload is
                // never compared with 0: the verifier would otherwise split
                // it into 0 and non-zero, two states that never prune each
                // other where the paths join.
                if when {
                    self.emit(VOp::Jmp {
                        op: JmpOp::Sge,
                        a: t,
                        b: VSrc::Imm(TAG_INT),
                        target,
                    });
                    self.emit(VOp::Jmp {
                        op: JmpOp::Ne,
                        a: p,
                        b: VSrc::Imm(0),
                        target,
                    });
                } else {
                    let skip = self.label();
                    self.emit(VOp::Jmp {
                        op: JmpOp::Sge,
                        a: t,
                        b: VSrc::Imm(TAG_INT),
                        target: skip,
                    });
                    self.emit(VOp::Jmp {
                        op: JmpOp::Eq,
                        a: p,
                        b: VSrc::Imm(0),
                        target,
                    });
                    self.place(skip);
                }
            }
        }
    }

    /// Emits a jump to `target` taken when the truthiness of `e` is `when`.
    pub(crate) fn cond(&mut self, e: &Expr<'a>, when: bool, target: Label) {
        match e.kind {
            ExprKind::Unary(UnOp::Not, x) => self.cond(x, !when, target),
            // Checks made on only some paths must not count where paths merge:
            // a label reached by jumps from inside `a` keeps what held before it.
            ExprKind::And(a, b) => {
                if when {
                    let skip = self.label();
                    let saved = self.checked;
                    self.cond(a, false, skip);
                    self.cond(b, true, target);
                    self.place(skip);
                    self.checked = saved;
                } else {
                    self.cond(a, false, target);
                    self.cond(b, false, target);
                }
            }
            ExprKind::Or(a, b) => {
                if when {
                    self.cond(a, true, target);
                    self.cond(b, true, target);
                } else {
                    let skip = self.label();
                    let saved = self.checked;
                    self.cond(a, true, skip);
                    self.cond(b, false, target);
                    self.place(skip);
                    self.checked = saved;
                }
            }
            ExprKind::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
                // Lua evaluates both operands before it checks their types.
                let (va, vb) = self.int_pair(a, b);
                self.span = e.span;
                let jop = match op {
                    BinOp::Lt => JmpOp::Slt,
                    BinOp::Le => JmpOp::Sle,
                    BinOp::Gt => JmpOp::Sgt,
                    _ => JmpOp::Sge,
                };
                // Signed comparisons always have an inverse.
                let jop = if when {
                    jop
                } else {
                    jop.inverse().unwrap_or(jop)
                };
                self.jump_if(jop, va, vb, target);
            }
            ExprKind::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b) => {
                let va = self.eval(a);
                let vb = self.eval(b);
                self.span = e.span;
                let jump_on_equal = (op == BinOp::Eq) == when;
                self.equality(va, vb, jump_on_equal, target);
            }
            ExprKind::TableGet { table, key } => {
                let k = self.eval(key);
                self.span = e.span;
                self.table_truth_jump(table, k, when, target);
            }
            _ => {
                let v = self.eval(e);
                self.span = e.span;
                self.truth_jump(v, when, target);
            }
        }
    }

    /// Jumps on the truthiness of `table[k]` without building the value: it
    /// is truthy exactly when `k` is an integer among the keys whose values
    /// are (a missing key reads nil).
    fn table_truth_jump(&mut self, table: usize, k: Val, when: bool, target: Label) {
        let m = self.m;
        let Some(t) = m.tables.get(table) else {
            return self.truth_jump(Val::K(Konst::Nil), when, target);
        };
        let key = match k {
            Val::K(Konst::Int(i)) => {
                let v = t
                    .entries
                    .iter()
                    .find(|e| e.0 == i)
                    .map_or(Konst::Nil, |e| e.1);
                return self.truth_jump(Val::K(v), when, target);
            }
            Val::K(_) | Val::Bool(_) | Val::Pkt => {
                return self.truth_jump(Val::K(Konst::Nil), when, target);
            }
            Val::Int(r) => r,
            Val::Dyn(tag, p) => {
                // A key that is not an integer reads nil.
                let skip = self.label();
                let not_int = if when { skip } else { target };
                self.emit(VOp::Jmp {
                    op: JmpOp::Ne,
                    a: tag,
                    b: VSrc::Imm(TAG_INT),
                    target: not_int,
                });
                self.int_key_truth_jump(t, p, when, target);
                self.place(skip);
                return;
            }
        };
        self.int_key_truth_jump(t, key, when, target);
    }

    /// [`Self::table_truth_jump`] for a key known to be an integer.
    fn int_key_truth_jump(&mut self, t: &ConstTable, key: V, when: bool, target: Label) {
        let hit = if when { target } else { self.label() };
        for (k, v) in &t.entries {
            if truthy(*v) {
                self.jump_if(JmpOp::Eq, Opnd::Reg(key), Opnd::Imm(*k), hit);
            }
        }
        if !when {
            self.emit(VOp::Ja { target });
            self.place(hit);
        }
    }

    /// Lua `==`: same kind and same payload.
    fn equality(&mut self, a: Val, b: Val, jump_on_equal: bool, target: Label) {
        let (ta, pa) = self.tag_payload(a);
        let (tb, pb) = self.tag_payload(b);
        if let (Opnd::Imm(x), Opnd::Imm(y)) = (ta, tb) {
            if x != y {
                if !jump_on_equal {
                    self.emit(VOp::Ja { target });
                }
                return;
            }
            if x == TAG_NIL as i64 {
                if jump_on_equal {
                    self.emit(VOp::Ja { target });
                }
                return;
            }
            let op = if jump_on_equal { JmpOp::Eq } else { JmpOp::Ne };
            self.jump_if(op, pa, pb, target);
            return;
        }
        if jump_on_equal {
            let skip = self.label();
            self.jump_if(JmpOp::Ne, ta, tb, skip);
            self.jump_if(JmpOp::Eq, pa, pb, target);
            self.place(skip);
        } else {
            self.jump_if(JmpOp::Ne, ta, tb, target);
            self.jump_if(JmpOp::Ne, pa, pb, target);
        }
    }

    /// Evaluates a boolean-valued condition into a register.
    fn bool_of(&mut self, e: &Expr<'a>) -> Val {
        let r = self.new_v();
        let done = self.label();
        let saved = self.checked;
        self.mov_imm(r, 1);
        self.cond(e, true, done);
        self.mov_imm(r, 0);
        self.place(done);
        self.checked = saved;
        Val::Bool(r)
    }

    /// Evaluates an expression to a value.
    pub(crate) fn eval(&mut self, e: &Expr<'a>) -> Val {
        let saved_span = self.span;
        self.span = e.span;
        let v = self.eval_inner(e);
        self.span = saved_span;
        v
    }

    fn eval_inner(&mut self, e: &Expr<'a>) -> Val {
        match e.kind {
            ExprKind::Const(k) => Val::K(k),
            ExprKind::Var(v) => self
                .locs
                .get(v.0 as usize)
                .copied()
                .flatten()
                .unwrap_or(Val::K(Konst::Nil)),
            ExprKind::PktLen(p) => {
                self.expect_pkt(p);
                let r = self.new_v();
                let (data, end) = (self.data, self.data_end);
                self.mov(r, end);
                self.emit(VOp::Alu {
                    op: AluOp::Sub,
                    dst: r,
                    src: VSrc::Reg(data),
                });
                // `data` and `data_end` are 32-bit fields, `data <= data_end`.
                self.ranges.insert(r, (0, u32::MAX as i64));
                Val::Int(r)
            }
            ExprKind::PktLoad { pkt, size, off } => {
                self.expect_pkt(pkt);
                let o = self.eval(off);
                let o = self.int_of(o);
                self.span = e.span;
                Val::Int(self.pkt_load(size, o))
            }
            ExprKind::MapGet { map, key } => {
                if let Some(p) = self.hinted(map, key) {
                    return self.map_deref(map, p);
                }
                let k = self.eval(key);
                let k = self.int_of(k);
                self.span = e.span;
                self.map_lookup(map, k)
            }
            ExprKind::TableGet { table, key } => {
                let k = self.eval(key);
                self.span = e.span;
                self.table_get(table, k)
            }
            ExprKind::Unary(UnOp::Not, _)
            | ExprKind::Binary(
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge,
                ..,
            ) => {
                // Fold when both sides are known.
                self.bool_of(e)
            }
            ExprKind::Unary(op, x) => {
                let v = self.eval(x);
                let o = self.int_of(v);
                match o {
                    Opnd::Imm(i) => Val::K(Konst::Int(if op == UnOp::Neg {
                        i.wrapping_neg()
                    } else {
                        !i
                    })),
                    Opnd::Reg(s) => {
                        let r = self.new_v();
                        self.mov(r, s);
                        if op == UnOp::Neg {
                            self.emit(VOp::Neg { dst: r });
                        } else {
                            self.emit(VOp::Alu {
                                op: AluOp::Xor,
                                dst: r,
                                src: VSrc::Imm(-1),
                            });
                        }
                        Val::Int(r)
                    }
                }
            }
            ExprKind::Binary(op, a, b) => {
                let (oa, ob) = self.int_pair(a, b);
                self.finish_arith(op, oa, ob, e)
            }
            ExprKind::Or(a, b) if matches!(a.kind, ExprKind::MapGet { .. }) => {
                // `m[k] or d`: the pointer decides, no tagged value needed.
                let ExprKind::MapGet { map, key } = a.kind else {
                    unreachable!("matched")
                };
                let p = match self.hinted(map, key) {
                    Some(p) => p,
                    None => {
                        let k = self.eval(key);
                        let k = self.int_of(k);
                        self.span = e.span;
                        self.map_lookup_ptr(map, k)
                    }
                };
                let res = self.alloc_repr(self.types.expr(e), e.span);
                let miss = self.label();
                let done = self.label();
                self.emit(VOp::Jmp {
                    op: JmpOp::Eq,
                    a: p,
                    b: VSrc::Imm(0),
                    target: miss,
                });
                let v = self.map_value(map, p);
                self.coerce(Val::Int(v), res);
                self.emit(VOp::Ja { target: done });
                self.place(miss);
                let saved = self.checked;
                let vb = self.eval(b);
                self.coerce(vb, res);
                self.checked = saved;
                self.place(done);
                res
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let is_and = matches!(e.kind, ExprKind::And(..));
                let k = self.types.expr(e);
                let va = self.eval(a);
                if let Val::K(c) = va {
                    return if truthy(c) == is_and {
                        self.eval(b)
                    } else {
                        va
                    };
                }
                let res = self.alloc_repr(k, e.span);
                let short = self.label();
                let done = self.label();
                self.span = e.span;
                self.truth_jump(va, !is_and, short);
                let saved = self.checked;
                let vb = self.eval(b);
                self.coerce(vb, res);
                self.checked = saved;
                self.emit(VOp::Ja { target: done });
                self.place(short);
                self.coerce(va, res);
                self.place(done);
                res
            }
            ExprKind::Call { func, args } => self.call(func, args, e.span),
            ExprKind::MinMax { max, args } => {
                let vals: Vec<Val> = args.iter().map(|a| self.eval(a)).collect();
                let ops: Vec<Opnd> = vals.into_iter().map(|v| self.int_of(v)).collect();
                self.span = e.span;
                let r = self.new_v();
                let first = ops.first().copied().unwrap_or(Opnd::Imm(0));
                match first {
                    Opnd::Imm(i) => self.mov_imm(r, i),
                    Opnd::Reg(s) => self.mov(r, s),
                }
                for o in ops.into_iter().skip(1) {
                    let keep = self.label();
                    let op = if max { JmpOp::Sge } else { JmpOp::Sle };
                    self.jump_if(op, Opnd::Reg(r), o, keep);
                    match o {
                        Opnd::Imm(i) => self.mov_imm(r, i),
                        Opnd::Reg(s) => self.mov(r, s),
                    }
                    self.place(keep);
                }
                Val::Int(r)
            }
            ExprKind::Abs(x) => {
                let v = self.eval(x);
                match self.int_of(v) {
                    Opnd::Imm(i) => Val::K(Konst::Int(i.wrapping_abs())),
                    Opnd::Reg(s) => {
                        let r = self.new_v();
                        self.abs_into(r, s);
                        Val::Int(r)
                    }
                }
            }
        }
    }

    /// Both operands of an arithmetic or ordering operator, as integers, in
    /// Lua's order (both evaluated, then checked). A map read whose miss would
    /// be the error skips the tagged value; the left one may fail early only
    /// when the right one has no effects (every error ends in verdict 0).
    fn int_pair(&mut self, a: &Expr<'a>, b: &Expr<'a>) -> (Opnd, Opnd) {
        let early = match a.kind {
            ExprKind::MapGet { map, key } if !has_call(b) => Ok(self.eval_map_int(map, key)),
            _ => Err(self.eval(a)),
        };
        let ob = match b.kind {
            ExprKind::MapGet { map, key } => Ok(self.eval_map_int(map, key)),
            _ => Err(self.eval(b)),
        };
        let oa = match early {
            Ok(o) => o,
            Err(v) => self.int_of(v),
        };
        let ob = match ob {
            Ok(o) => o,
            Err(v) => self.int_of(v),
        };
        (oa, ob)
    }

    /// The pointer of an enclosing `m[k] = f(m[k])` for this read, if it is one.
    fn hinted(&self, map: usize, key: &Expr<'a>) -> Option<V> {
        self.map_hint
            .filter(|(m, k, _)| *m == map && same_value(k, key))
            .map(|(_, _, p)| p)
    }

    fn eval_map_int(&mut self, map: usize, key: &Expr<'a>) -> Opnd {
        if let Some(p) = self.hinted(map, key) {
            self.fail_if(JmpOp::Eq, p, VSrc::Imm(0));
            return Opnd::Reg(self.map_value(map, p));
        }
        let k = self.eval(key);
        let k = self.int_of(k);
        self.map_get_int(map, k)
    }

    fn finish_arith(&mut self, op: BinOp, oa: Opnd, ob: Opnd, e: &Expr<'a>) -> Val {
        self.span = e.span;
        match self.arith(op, oa, ob) {
            Opnd::Imm(i) => Val::K(Konst::Int(i)),
            Opnd::Reg(r) => Val::Int(r),
        }
    }

    /// Reports packet operations on something that is not the packet.
    fn expect_pkt(&mut self, p: &Expr<'a>) {
        let v = self.eval(p);
        if v != Val::Pkt {
            let k = self.types.expr(p);
            if k != types::PKT {
                self.error(
                    p.span,
                    "only the packet has `len`, `u8`, `u16` and `u32`",
                    Some("call them on the per-packet function's parameter"),
                );
            }
        }
    }

    /// A constant table indexed at run time: a chain of comparisons.
    fn table_get(&mut self, table: usize, k: Val) -> Val {
        let m = self.m;
        let Some(t) = m.tables.get(table) else {
            return Val::K(Konst::Nil);
        };
        let key = match k {
            Val::K(Konst::Int(i)) => {
                let v = t
                    .entries
                    .iter()
                    .find(|e| e.0 == i)
                    .map_or(Konst::Nil, |e| e.1);
                return Val::K(v);
            }
            Val::K(_) | Val::Bool(_) | Val::Pkt => return Val::K(Konst::Nil),
            Val::Int(r) => r,
            Val::Dyn(_, p) => p,
        };
        let kinds = self.types.tables.get(table).copied().unwrap_or(types::NIL) | types::NIL;
        let res = self.alloc_repr(kinds, self.span);
        let done = self.label();
        self.coerce(Val::K(Konst::Nil), res);
        if let Val::Dyn(tag, _) = k {
            self.emit(VOp::Jmp {
                op: JmpOp::Ne,
                a: tag,
                b: VSrc::Imm(TAG_INT),
                target: done,
            });
        }
        // Group keys by value so equal values share one store.
        let mut groups: Vec<(Konst, Vec<i64>)> = Vec::new();
        for (key, v) in &t.entries {
            match groups.iter_mut().find(|g| g.0 == *v) {
                Some(g) => g.1.push(*key),
                None => groups.push((*v, vec![*key])),
            }
        }
        for (v, keys) in groups {
            let hit = self.label();
            let next = self.label();
            // A contiguous run of keys is one range test.
            let contiguous = keys.windows(2).all(|w| w[1] == w[0] + 1) && keys.len() > 2;
            if contiguous {
                let (lo, hi) = (keys[0], keys[keys.len() - 1]);
                self.jump_if(JmpOp::Slt, Opnd::Reg(key), Opnd::Imm(lo), next);
                self.jump_if(JmpOp::Sle, Opnd::Reg(key), Opnd::Imm(hi), hit);
            } else {
                for k in &keys {
                    self.jump_if(JmpOp::Eq, Opnd::Reg(key), Opnd::Imm(*k), hit);
                }
            }
            self.emit(VOp::Ja { target: next });
            self.place(hit);
            self.coerce(Val::K(v), res);
            self.emit(VOp::Ja { target: done });
            self.place(next);
        }
        self.place(done);
        res
    }

    /// Folds or emits an arithmetic operator.
    pub(crate) fn arith(&mut self, op: BinOp, a: Opnd, b: Opnd) -> Opnd {
        if let (Opnd::Imm(x), Opnd::Imm(y)) = (a, b) {
            if let Some(v) = luaops::arith(op, x, y) {
                return Opnd::Imm(v);
            }
        }
        let alu = match op {
            BinOp::Add => AluOp::Add,
            BinOp::Sub => AluOp::Sub,
            BinOp::Mul => AluOp::Mul,
            BinOp::BAnd => AluOp::And,
            BinOp::BOr => AluOp::Or,
            BinOp::BXor => AluOp::Xor,
            BinOp::IDiv | BinOp::Mod => return self.divmod(op == BinOp::Mod, a, b),
            BinOp::Shl | BinOp::Shr => return self.shift(op == BinOp::Shl, a, b),
            _ => return Opnd::Imm(0),
        };
        // Commutative operators take the constant as the immediate.
        let (a, b) = match (a, b, alu) {
            (
                Opnd::Imm(_),
                Opnd::Reg(_),
                AluOp::Add | AluOp::Mul | AluOp::And | AluOp::Or | AluOp::Xor,
            ) => (b, a),
            _ => (a, b),
        };
        let r = self.new_v();
        match a {
            Opnd::Imm(i) => self.mov_imm(r, i),
            Opnd::Reg(s) => self.mov(r, s),
        }
        let src = self.src_of(b);
        self.emit(VOp::Alu {
            op: alu,
            dst: r,
            src,
        });
        if let Some(range) = self.range_of(alu, a, b) {
            self.ranges.insert(r, range);
        }
        Opnd::Reg(r)
    }

    /// The range of `a op b` when it is known without overflow.
    fn range_of(&self, op: AluOp, a: Opnd, b: Opnd) -> Option<(i64, i64)> {
        let get = |o: Opnd| match o {
            Opnd::Imm(i) => Some((i, i)),
            Opnd::Reg(r) => self.ranges.get(&r).copied(),
        };
        if op == AluOp::And {
            if let Opnd::Imm(c) = b {
                if c >= 0 {
                    let hi = get(a).filter(|r| r.0 >= 0).map_or(c, |r| r.1.min(c));
                    return Some((0, hi));
                }
            }
        }
        let (x, y) = (get(a)?, get(b)?);
        let f = |p: i64, q: i64| -> Option<i128> {
            let (p, q) = (p as i128, q as i128);
            Some(match op {
                AluOp::Add => p + q,
                AluOp::Sub => p - q,
                AluOp::Mul => p * q,
                _ => return None,
            })
        };
        let c = [f(x.0, y.0)?, f(x.0, y.1)?, f(x.1, y.0)?, f(x.1, y.1)?];
        let lo = *c.iter().min()?;
        let hi = *c.iter().max()?;
        let ok = |v: i128| (-(1i128 << 40)..(1i128 << 40)).contains(&v);
        (ok(lo) && ok(hi)).then_some((lo as i64, hi as i64))
    }
}
