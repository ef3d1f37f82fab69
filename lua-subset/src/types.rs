//! Flow-insensitive type inference: for each variable and function result, the
//! set of kinds of value it can hold. The code generator picks a representation
//! from it (one register for integers or booleans, tag + payload for mixtures).

use crate::ir::*;

/// May be nil.
pub const NIL: u8 = 1;
/// May be a boolean.
pub const BOOL: u8 = 2;
/// May be an integer.
pub const INT: u8 = 4;
/// May be the packet.
pub const PKT: u8 = 8;

/// Inferred kinds.
#[derive(Debug, Clone)]
pub struct Types {
    /// Per [`VarId`].
    pub vars: Vec<u8>,
    /// Per [`FuncId`]: what a call returns.
    pub rets: Vec<u8>,
    /// Per constant table: kinds of its values, plus nil.
    pub tables: Vec<u8>,
}

impl Types {
    /// Kinds an expression can produce.
    pub fn expr(&self, e: &Expr) -> u8 {
        match e.kind {
            ExprKind::Const(Konst::Nil) => NIL,
            ExprKind::Const(Konst::Bool(_)) => BOOL,
            ExprKind::Const(Konst::Int(_)) => INT,
            ExprKind::Var(v) => self.vars.get(v.0 as usize).copied().unwrap_or(NIL),
            ExprKind::PktLen(_) | ExprKind::PktLoad { .. } => INT,
            ExprKind::MapGet { .. } => INT | NIL,
            ExprKind::TableGet { table, .. } => {
                self.tables.get(table).copied().unwrap_or(NIL) | NIL
            }
            ExprKind::Unary(UnOp::Not, _) => BOOL,
            ExprKind::Unary(..) => INT,
            ExprKind::Binary(op, _, _) => match op {
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => BOOL,
                _ => INT,
            },
            ExprKind::And(a, b) => {
                let ta = self.expr(a);
                if ta & (NIL | BOOL) == 0 {
                    self.expr(b)
                } else {
                    (ta & (NIL | BOOL)) | self.expr(b)
                }
            }
            ExprKind::Or(a, b) => {
                let ta = self.expr(a);
                if ta & (NIL | BOOL) == 0 {
                    ta
                } else {
                    (ta & (INT | PKT | BOOL)) | self.expr(b)
                }
            }
            ExprKind::Call { func, .. } => self.rets.get(func.0 as usize).copied().unwrap_or(NIL),
            ExprKind::MinMax { .. } | ExprKind::Abs(_) => INT,
        }
    }
}

struct Infer<'t> {
    t: &'t mut Types,
    changed: bool,
}

impl Infer<'_> {
    fn join_var(&mut self, v: VarId, k: u8) {
        if let Some(slot) = self.t.vars.get_mut(v.0 as usize) {
            if *slot | k != *slot {
                *slot |= k;
                self.changed = true;
            }
        }
    }

    fn join_ret(&mut self, f: FuncId, k: u8) {
        if let Some(slot) = self.t.rets.get_mut(f.0 as usize) {
            if *slot | k != *slot {
                *slot |= k;
                self.changed = true;
            }
        }
    }

    fn expr(&mut self, m: &Module, e: &Expr) {
        match e.kind {
            ExprKind::Call { func, args } => {
                for a in args {
                    self.expr(m, a);
                }
                if let Some(f) = m.funcs.get(func.0 as usize) {
                    for (i, p) in f.params.iter().enumerate() {
                        let k = args.get(i).map_or(NIL, |a| self.t.expr(a));
                        self.join_var(*p, k);
                    }
                }
            }
            ExprKind::PktLen(p) => self.expr(m, p),
            ExprKind::PktLoad { pkt, off, .. } => {
                self.expr(m, pkt);
                self.expr(m, off)
            }
            ExprKind::MapGet { key, .. } | ExprKind::TableGet { key, .. } => self.expr(m, key),
            ExprKind::Unary(_, a) | ExprKind::Abs(a) => self.expr(m, a),
            ExprKind::Binary(_, a, b) | ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.expr(m, a);
                self.expr(m, b)
            }
            ExprKind::MinMax { args, .. } => {
                for a in args {
                    self.expr(m, a);
                }
            }
            ExprKind::Const(_) | ExprKind::Var(_) => {}
        }
    }

    fn block(&mut self, m: &Module, f: FuncId, b: Block) {
        for s in b {
            match s.kind {
                StmtKind::Local { vars, values } => {
                    for v in values {
                        self.expr(m, v);
                    }
                    for (i, slot) in vars.iter().enumerate() {
                        if let Some(v) = slot {
                            let k = values.get(i).map_or(NIL, |e| self.t.expr(e));
                            self.join_var(*v, k);
                        }
                    }
                }
                StmtKind::Assign { targets, values } => {
                    for (t, _) in targets {
                        if let Target::Map { key, .. } = t {
                            self.expr(m, key);
                        }
                    }
                    for v in values {
                        self.expr(m, v);
                    }
                    for (i, (t, _)) in targets.iter().enumerate() {
                        if let Target::Var(v) = t {
                            let k = values.get(i).map_or(NIL, |e| self.t.expr(e));
                            self.join_var(*v, k);
                        }
                    }
                }
                StmtKind::Eval(e) => self.expr(m, &e),
                StmtKind::If { arms, otherwise } => {
                    for (c, body) in arms {
                        self.expr(m, c);
                        self.block(m, f, body);
                    }
                    if let Some(o) = otherwise {
                        self.block(m, f, o);
                    }
                }
                StmtKind::NumFor {
                    var,
                    start,
                    limit,
                    body,
                    ..
                } => {
                    self.expr(m, &start);
                    self.expr(m, &limit);
                    self.join_var(var, INT);
                    self.block(m, f, body);
                }
                StmtKind::While { cond, body } | StmtKind::Repeat { body, cond } => {
                    self.expr(m, &cond);
                    self.block(m, f, body);
                }
                StmtKind::Do(b) => self.block(m, f, b),
                StmtKind::Break => {}
                StmtKind::Return(e) => {
                    if let Some(e) = e {
                        self.expr(m, &e);
                    }
                    let k = e.map_or(NIL, |e| self.t.expr(&e));
                    self.join_ret(f, k);
                }
            }
        }
    }
}

/// Infers kinds for a whole module (a fixed point over a finite lattice).
pub fn infer(m: &Module) -> Types {
    let mut t = Types {
        vars: vec![0; m.vars.len()],
        rets: vec![0; m.funcs.len()],
        tables: m
            .tables
            .iter()
            .map(|t| {
                t.entries.iter().fold(NIL, |acc, (_, v)| {
                    acc | match v {
                        Konst::Nil => NIL,
                        Konst::Bool(_) => BOOL,
                        Konst::Int(_) => INT,
                    }
                })
            })
            .collect(),
    };
    if let Some(p) = m
        .funcs
        .get(m.main.0 as usize)
        .and_then(|f| f.params.first())
    {
        t.vars[p.0 as usize] |= PKT;
    }
    // A function may end without `return`: its result may be nil.
    for (i, f) in m.funcs.iter().enumerate() {
        if !matches!(f.body.last().map(|s| s.kind), Some(StmtKind::Return(_))) {
            t.rets[i] |= NIL;
        }
    }
    for _ in 0..(4 * (m.vars.len() + m.funcs.len()) + 2) {
        let mut inf = Infer {
            t: &mut t,
            changed: false,
        };
        for (i, f) in m.funcs.iter().enumerate() {
            inf.block(m, FuncId(i as u32), f.body);
        }
        if !inf.changed {
            break;
        }
    }
    t
}
