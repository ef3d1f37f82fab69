//! Statements, loops and the hoisting of packet bounds checks.

use super::expr::{has_call, reads_map};
use super::vcode::*;
use super::{Gen, Opnd, Val, MAX_PKT_END};
use crate::ir::*;
use bpf_bridge::isa::{AluOp, JmpOp};

/// Largest packet end (offset + size) that the statements surely access,
/// before any effect (map write, call, return, branch) could intervene.
fn region_need(stmts: &[Stmt]) -> i64 {
    let mut need = 0;
    for s in stmts {
        let mut stop = false;
        stmt_need(s, &mut need, &mut stop);
        if stop {
            break;
        }
    }
    need
}

fn stmt_need(s: &Stmt, need: &mut i64, stop: &mut bool) {
    match s.kind {
        StmtKind::Local { values, .. } => {
            for v in values {
                expr_need(v, true, need, stop);
            }
        }
        StmtKind::Assign { targets, values } => {
            for (t, _) in targets {
                if let Target::Map { key, .. } = t {
                    expr_need(key, true, need, stop);
                    *stop = true;
                }
            }
            for v in values {
                expr_need(v, true, need, stop);
            }
        }
        StmtKind::Eval(e) => expr_need(&e, true, need, stop),
        StmtKind::If { arms, .. } => {
            if let Some((c, _)) = arms.first() {
                expr_need(c, true, need, stop);
            }
            *stop = true;
        }
        StmtKind::Return(e) => {
            if let Some(e) = e {
                expr_need(&e, true, need, stop);
            }
            *stop = true;
        }
        StmtKind::While { cond, .. } => {
            expr_need(&cond, true, need, stop);
            *stop = true;
        }
        StmtKind::NumFor { start, limit, .. } => {
            expr_need(&start, true, need, stop);
            expr_need(&limit, true, need, stop);
            *stop = true;
        }
        StmtKind::Do(b) => {
            for s in b {
                stmt_need(s, need, stop);
                if *stop {
                    break;
                }
            }
        }
        StmtKind::Repeat { .. } | StmtKind::Break => *stop = true,
    }
}

/// Walks `e` in evaluation order; `sure` says whether it surely runs.
fn expr_need(e: &Expr, sure: bool, need: &mut i64, stop: &mut bool) {
    if *stop {
        return;
    }
    match e.kind {
        ExprKind::PktLoad { off, size, .. } => {
            if let ExprKind::Const(Konst::Int(k)) = off.kind {
                let end = k.saturating_add(size as i64);
                if sure && k >= 0 && end <= MAX_PKT_END {
                    *need = (*need).max(end);
                }
            } else {
                expr_need(off, sure, need, stop);
            }
        }
        ExprKind::Call { args, .. } => {
            for a in args {
                expr_need(a, sure, need, stop);
            }
            *stop = true;
        }
        ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            expr_need(a, sure, need, stop);
            expr_need(b, false, need, stop);
        }
        ExprKind::Binary(_, a, b) => {
            expr_need(a, sure, need, stop);
            expr_need(b, sure, need, stop);
        }
        ExprKind::Unary(_, a) | ExprKind::Abs(a) | ExprKind::PktLen(a) => {
            expr_need(a, sure, need, stop)
        }
        ExprKind::MapGet { key, .. } | ExprKind::TableGet { key, .. } => {
            expr_need(key, sure, need, stop)
        }
        ExprKind::MinMax { args, .. } => {
            for a in args {
                expr_need(a, sure, need, stop);
            }
        }
        ExprKind::Const(_) | ExprKind::Var(_) => {}
    }
}

/// Whether a statement ends a hoisting region.
fn ends_region(s: &Stmt) -> bool {
    let mut need = 0;
    let mut stop = false;
    stmt_need(s, &mut need, &mut stop);
    stop
}

impl<'m, 'a> Gen<'m, 'a> {
    /// Proves `need` bytes of packet on this path (one check for the region).
    pub(crate) fn ensure(&mut self, need: i64) {
        if need <= self.checked {
            return;
        }
        let t = self.new_v();
        let (data, data_end) = (self.data, self.data_end);
        self.mov(t, data);
        self.emit(VOp::Alu {
            op: AluOp::Add,
            dst: t,
            src: VSrc::Imm(need as i32),
        });
        self.fail_if(JmpOp::Gt, t, VSrc::Reg(data_end));
        self.checked = need;
    }

    pub(crate) fn block(&mut self, stmts: &[Stmt<'a>]) {
        let mut region_start = true;
        for (i, s) in stmts.iter().enumerate() {
            if region_start {
                self.span = s.span;
                let need = region_need(&stmts[i..]);
                self.ensure(need);
            }
            region_start = ends_region(s);
            self.stmt(s);
            if matches!(s.kind, StmtKind::Return(_) | StmtKind::Break) {
                // Anything after is unreachable.
                break;
            }
        }
    }

    fn stmt(&mut self, s: &Stmt<'a>) {
        self.span = s.span;
        match s.kind {
            StmtKind::Local { vars, values } => {
                let mut vals = Vec::new();
                for e in values {
                    let v = self.eval(e);
                    let v = if self.aliases_mutable(e) {
                        self.copy(v)
                    } else {
                        v
                    };
                    vals.push(v);
                }
                for (i, slot) in vars.iter().enumerate() {
                    if let Some(var) = slot {
                        let v = vals.get(i).copied().unwrap_or(Val::K(Konst::Nil));
                        self.bind_var(*var, v, s.span);
                    }
                }
            }
            StmtKind::Assign { targets, values } if self.in_place_update(targets, values) => {}
            StmtKind::Assign { targets, values } => {
                let mut keys = Vec::new();
                for (t, _) in targets {
                    if let Target::Map { key, .. } = t {
                        // Checked when the store happens, after the values.
                        let k = self.eval(key);
                        let k = if targets.len() > 1 && self.aliases_mutable(key) {
                            self.copy(k)
                        } else {
                            k
                        };
                        keys.push(Some(k));
                    } else {
                        keys.push(None);
                    }
                }
                let mut vals = Vec::new();
                for e in values {
                    let v = self.eval(e);
                    let v = if targets.len() > 1 && self.aliases_mutable(e) {
                        self.copy(v)
                    } else {
                        v
                    };
                    vals.push(v);
                }
                for (i, (t, tspan)) in targets.iter().enumerate() {
                    self.span = *tspan;
                    let v = vals.get(i).copied().unwrap_or(Val::K(Konst::Nil));
                    match t {
                        Target::Var(var) => {
                            let dst = self.locs.get(var.0 as usize).copied().flatten();
                            if let Some(dst) = dst {
                                self.coerce(v, dst);
                            }
                        }
                        Target::Map { map, .. } => {
                            let k = keys[i].unwrap_or(Val::K(Konst::Nil));
                            let k = self.int_of(k);
                            self.map_store(*map, k, v);
                        }
                    }
                }
            }
            StmtKind::Eval(e) => {
                self.eval(&e);
            }
            StmtKind::Do(b) => self.block(b),
            StmtKind::If { arms, otherwise } => self.if_stmt(arms, otherwise),
            StmtKind::While { cond, body } => {
                let before = self.checked;
                let head = self.label();
                let exit = self.label();
                self.place(head);
                self.cond(&cond, false, exit);
                self.loops.push(exit);
                self.block(body);
                self.loops.pop();
                self.span = s.span;
                self.budget_draw();
                self.emit(VOp::Ja { target: head });
                self.place(exit);
                self.checked = before;
            }
            StmtKind::Repeat { body, cond } => {
                let before = self.checked;
                let head = self.label();
                let exit = self.label();
                self.place(head);
                self.loops.push(exit);
                self.block(body);
                self.loops.pop();
                self.span = cond.span;
                self.cond(&cond, true, exit);
                self.budget_draw();
                self.emit(VOp::Ja { target: head });
                self.place(exit);
                self.checked = before;
            }
            StmtKind::NumFor {
                var,
                start,
                limit,
                step,
                body,
            } => self.num_for(var, &start, &limit, step, body, s),
            StmtKind::Break => {
                if let Some(&exit) = self.loops.last() {
                    self.emit(VOp::Ja { target: exit });
                }
            }
            StmtKind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(&e),
                    None => Val::K(Konst::Nil),
                };
                self.span = s.span;
                self.ret(v);
            }
        }
    }

    /// `m[k] = f(m[k])` without calls: one lookup, the value computed from its
    /// pointer, stored in place when the key exists (nothing else can run
    /// between the read and the write). Returns false when the pattern does not apply.
    fn in_place_update(
        &mut self,
        targets: &[(Target<'a>, crate::diag::Span)],
        values: &[Expr<'a>],
    ) -> bool {
        let ([(Target::Map { map, key }, tspan)], [value]) = (targets, values) else {
            return false;
        };
        if has_call(key) || has_call(value) || !reads_map(value, *map, key) {
            return false;
        }
        let k = self.eval(key);
        let k = self.int_of(k);
        self.span = *tspan;
        let p = self.map_lookup_ptr(*map, k);
        self.map_hint = Some((*map, *key, p));
        let v = self.eval(value);
        self.map_hint = None;
        self.span = *tspan;
        self.map_store_at(*map, k, p, v);
        true
    }

    fn if_stmt(&mut self, arms: &[(Expr<'a>, Block<'a>)], otherwise: Option<Block<'a>>) {
        let end = self.label();
        let mut after_first = None;
        for (c, body) in arms {
            // Known conditions select their arm at compile time.
            let next = self.label();
            self.span = c.span;
            let base = *after_first.get_or_insert(self.checked);
            self.cond(c, false, next);
            self.block(body);
            self.emit(VOp::Ja { target: end });
            self.place(next);
            self.checked = base;
        }
        if let Some(o) = otherwise {
            self.block(o);
        }
        self.place(end);
        if let Some(b) = after_first {
            self.checked = b;
        }
    }

    /// `dst *= k` (wrapping, 64-bit).
    fn mul_imm(&mut self, dst: V, k: i64) {
        if k == 1 {
            return;
        }
        let src = self.src_of(Opnd::Imm(k));
        self.emit(VOp::Alu {
            op: AluOp::Mul,
            dst,
            src,
        });
    }

    fn num_for(
        &mut self,
        var: VarId,
        start: &Expr<'a>,
        limit: &Expr<'a>,
        step: i64,
        body: Block<'a>,
        s: &Stmt<'a>,
    ) {
        let before = self.checked;
        let a = self.eval(start);
        let l = self.eval(limit);
        let a = self.int_of(a);
        let l = self.int_of(l);
        self.span = s.span;
        let exit = self.label();
        let head = self.label();
        let i = self.new_v();
        let cnt = self.new_v();
        let proven;
        match (a, l) {
            (Opnd::Imm(a0), Opnd::Imm(l0)) => {
                if (step > 0 && a0 > l0) || (step < 0 && a0 < l0) {
                    return;
                }
                let span_len = if step > 0 {
                    (l0 as u64).wrapping_sub(a0 as u64)
                } else {
                    (a0 as u64).wrapping_sub(l0 as u64)
                };
                let count = span_len / step.unsigned_abs();
                proven = count < 1024;
                self.mov_imm(i, a0);
                self.mov_imm(cnt, count as i64);
            }
            _ => {
                // A bound the verifier can see too: a constant start and a
                // limit of known range (or the mirror for negative steps).
                let range = |o: Opnd, g: &Self| match o {
                    Opnd::Imm(i) => Some((i, i)),
                    Opnd::Reg(r) => g.ranges.get(&r).copied(),
                };
                let most = match (range(a, self), range(l, self)) {
                    (Some(ar), Some(lr)) if step > 0 && ar.0 == ar.1 => {
                        Some((lr.1 as i128 - ar.0 as i128) / step as i128 + 1)
                    }
                    (Some(ar), Some(lr)) if step < 0 && lr.0 == lr.1 => {
                        Some((ar.1 as i128 - lr.0 as i128) / (-(step as i128)) + 1)
                    }
                    _ => None,
                };
                proven = most.is_some_and(|n| n <= 1024);
                let ar = self.reg_of(a);
                self.mov(i, ar);
                let ls = self.src_of(l);
                let skip = if step > 0 { JmpOp::Sgt } else { JmpOp::Slt };
                self.emit(VOp::Jmp {
                    op: skip,
                    a: i,
                    b: ls,
                    target: exit,
                });
                let lr = self.reg_of(l);
                if step > 0 {
                    self.mov(cnt, lr);
                    self.emit(VOp::Alu {
                        op: AluOp::Sub,
                        dst: cnt,
                        src: VSrc::Reg(i),
                    });
                } else {
                    self.mov(cnt, i);
                    self.emit(VOp::Alu {
                        op: AluOp::Sub,
                        dst: cnt,
                        src: VSrc::Reg(lr),
                    });
                }
                let abs = step.unsigned_abs();
                if abs != 1 {
                    let src = if abs <= i32::MAX as u64 {
                        VSrc::Imm(abs as i32)
                    } else {
                        let r = self.new_v();
                        self.mov_imm(r, abs as i64);
                        VSrc::Reg(r)
                    };
                    self.emit(VOp::Alu {
                        op: AluOp::Div,
                        dst: cnt,
                        src,
                    });
                    // Linux keeps no bounds through `div`: it learns the
                    // count's from a jump that never runs.
                    if let Some(n) = most.filter(|_| proven) {
                        self.clamp(cnt, 0, n as i64 - 1);
                    }
                }
            }
        }
        // In a loop the verifier cannot bound, an index stepped by `i += step`
        // from an exact (or narrow) start takes a new exact value each
        // iteration, so Linux's verifier never finds a state it has seen and
        // walks until its complexity limit. Deriving the index from the
        // counter, `i = last - cnt * step`, leaves it unknown to the verifier
        // (`last` depends on the unknown count) and the loop state converges.
        let exact = matches!((a, l), (Opnd::Imm(_), Opnd::Imm(_)));
        let last = (!proven && !exact).then(|| {
            let last = self.new_v();
            self.mov(last, cnt);
            self.mul_imm(last, step);
            self.emit(VOp::Alu {
                op: AluOp::Add,
                dst: last,
                src: VSrc::Reg(i),
            });
            last
        });
        self.place(head);
        self.bind_var(var, Val::Int(i), s.span);
        self.loops.push(exit);
        self.block(body);
        self.loops.pop();
        self.span = s.span;
        self.emit(VOp::Jmp {
            op: JmpOp::Eq,
            a: cnt,
            b: VSrc::Imm(0),
            target: exit,
        });
        self.emit(VOp::Alu {
            op: AluOp::Sub,
            dst: cnt,
            src: VSrc::Imm(1),
        });
        if let Some(last) = last {
            if step == 1 {
                self.mov(i, last);
                self.emit(VOp::Alu {
                    op: AluOp::Sub,
                    dst: i,
                    src: VSrc::Reg(cnt),
                });
            } else {
                self.mov(i, cnt);
                self.mul_imm(i, step.wrapping_neg());
                self.emit(VOp::Alu {
                    op: AluOp::Add,
                    dst: i,
                    src: VSrc::Reg(last),
                });
            }
        } else {
            let st = self.src_of(Opnd::Imm(step));
            self.emit(VOp::Alu {
                op: AluOp::Add,
                dst: i,
                src: st,
            });
        }
        if !proven {
            self.budget_draw();
        }
        self.emit(VOp::Ja { target: head });
        self.place(exit);
        self.checked = before;
    }
}
