//! IR → virtual-register eBPF. Functions are inlined at every call (they are
//! non-recursive), values live in registers chosen from their inferred kinds,
//! constants fold as code is generated, packet bounds checks are merged and
//! hoisted per straight-line region.

mod divconst;
mod expr;
mod ops;
mod stmt;
pub mod vcode;

use crate::diag::{Sink, Span};
use crate::ir::*;
use crate::types::{self, Types};
use crate::{CompileOptions, Cpu};
use bpf_bridge::isa::{AluOp, JmpOp, Size};
use vcode::*;

/// Stack slot of map keys passed to helpers.
pub const KEY_OFF: i16 = -8;
/// Stack slot of map values passed to helpers.
pub const VAL_OFF: i16 = -16;
/// Stack slot of the loop budget counter (when not using may_goto).
pub const BUDGET_OFF: i16 = -24;
/// First spill slot (growing down).
pub const SPILL_BASE: i16 = -32;

/// Largest packet offset (plus access size) the code accepts; the Linux
/// verifier tracks packet ranges only below 0xffff.
pub const MAX_PKT_END: i64 = 0xfff0;

/// A value during code generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    K(Konst),
    Int(V),
    Bool(V),
    /// Tag (0 nil, 1 boolean, 2 integer, 3 packet) and payload (0 for nil).
    Dyn(V, V),
    Pkt,
}

pub const TAG_NIL: i32 = 0;
pub const TAG_BOOL: i32 = 1;
pub const TAG_INT: i32 = 2;
pub const TAG_PKT: i32 = 3;

/// An integer operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opnd {
    Imm(i64),
    Reg(V),
}

struct Inline {
    result: Val,
    end: Label,
}

/// Code generator state.
pub struct Gen<'m, 'a> {
    pub(crate) m: &'m Module<'a>,
    pub(crate) types: Types,
    pub(crate) opts: CompileOptions,
    pub(crate) code: Vec<VInsn>,
    next_v: u32,
    next_label: u32,
    pub(crate) span: Span,
    pub(crate) locs: Vec<Option<Val>>,
    pub(crate) sink: Sink,
    pub(crate) err: Label,
    pub(crate) data: V,
    pub(crate) data_end: V,
    /// Bytes of packet proven present on the current path.
    pub(crate) checked: i64,
    pub(crate) loops: Vec<Label>,
    inlines: Vec<Inline>,
    /// Functions being inlined (a guard against runaway expansion).
    depth: u32,
    pub(crate) uses_counter_budget: bool,
    /// Known value ranges of temporaries (never of variables' own registers),
    /// used to prove loop bounds the way the Linux verifier will see them.
    pub(crate) ranges: crate::fastmap::FastMap<V, (i64, i64)>,
    /// While the value of `m[k] = f(m[k])` is evaluated: the map, the key
    /// expression and the register holding the looked-up value pointer.
    pub(crate) map_hint: Option<(usize, &'a Expr<'a>, V)>,
}

impl<'m, 'a> Gen<'m, 'a> {
    pub(crate) fn new_v(&mut self) -> V {
        let v = V(self.next_v);
        self.next_v += 1;
        v
    }

    pub(crate) fn label(&mut self) -> Label {
        let l = Label(self.next_label);
        self.next_label += 1;
        l
    }

    pub(crate) fn emit(&mut self, op: VOp) {
        self.code.push(VInsn {
            op,
            span: self.span,
        });
    }

    pub(crate) fn place(&mut self, l: Label) {
        self.emit(VOp::Label(l));
    }

    /// `dst = |src|`, wrapping (the minimum integer stays itself, as in Lua).
    pub(crate) fn abs_into(&mut self, dst: V, src: V) {
        let done = self.label();
        self.copy_unlinked(dst, src);
        self.emit(VOp::Jmp {
            op: JmpOp::Sge,
            a: dst,
            b: VSrc::Imm(0),
            target: done,
        });
        self.emit(VOp::Neg { dst });
        self.place(done);
    }

    /// `dst = src`, unlinked in the verifiers: a `mov` gives both one id, and
    /// a branch on either then refines both (and every spill of the value),
    /// so a comparison an operation makes on its own copy (a shift's count,
    /// `math.abs`, `math.min`) would split the source's variable into ranges
    /// that never prune each other at the next loop head. `|= 0` makes the
    /// copy a value of its own.
    pub(crate) fn copy_unlinked(&mut self, dst: V, src: V) {
        self.mov(dst, src);
        self.emit(VOp::Alu {
            op: AluOp::Or,
            dst,
            src: VSrc::Imm(0),
        });
    }

    pub(crate) fn mov(&mut self, dst: V, src: V) {
        if dst != src {
            self.emit(VOp::Alu {
                op: AluOp::Mov,
                dst,
                src: VSrc::Reg(src),
            });
        }
    }

    /// `dst = imm` for any 64-bit value.
    pub(crate) fn mov_imm(&mut self, dst: V, v: i64) {
        if let Ok(i) = i32::try_from(v) {
            self.emit(VOp::Alu {
                op: AluOp::Mov,
                dst,
                src: VSrc::Imm(i),
            });
        } else {
            self.emit(VOp::LoadImm {
                dst,
                value: v as u64,
            });
        }
    }

    /// A register holding the operand (a fresh one for immediates).
    pub(crate) fn reg_of(&mut self, o: Opnd) -> V {
        match o {
            Opnd::Reg(r) => r,
            Opnd::Imm(v) => {
                let r = self.new_v();
                self.mov_imm(r, v);
                r
            }
        }
    }

    /// The operand as an eBPF source (immediate when it fits 32 bits).
    pub(crate) fn src_of(&mut self, o: Opnd) -> VSrc {
        match o {
            Opnd::Imm(v) if i32::try_from(v).is_ok() => VSrc::Imm(v as i32),
            _ => VSrc::Reg(self.reg_of(o)),
        }
    }

    pub(crate) fn error(&mut self, span: Span, msg: impl Into<String>, hint: Option<&str>) {
        self.sink.error(span, msg, hint);
    }

    /// Representation of a mutable variable or result of kinds `k`.
    pub(crate) fn alloc_repr(&mut self, k: u8, span: Span) -> Val {
        match k {
            0 | types::NIL => Val::K(Konst::Nil),
            types::INT => Val::Int(self.new_v()),
            types::BOOL => Val::Bool(self.new_v()),
            types::PKT => Val::Pkt,
            k if k & types::PKT != 0 => {
                self.error(
                    span,
                    "the packet cannot be mixed with other values here",
                    Some("keep the packet in its own variable"),
                );
                Val::K(Konst::Nil)
            }
            _ => Val::Dyn(self.new_v(), self.new_v()),
        }
    }

    /// Stores `v` into the representation `dst` (which owns its registers).
    pub(crate) fn coerce(&mut self, v: Val, dst: Val) {
        match dst {
            Val::K(_) | Val::Pkt => {}
            Val::Int(r) | Val::Bool(r) => {
                self.ranges.remove(&r);
                match v {
                    Val::Int(s) | Val::Bool(s) | Val::Dyn(_, s) => self.mov(r, s),
                    Val::K(Konst::Int(i)) => self.mov_imm(r, i),
                    Val::K(Konst::Bool(b)) => self.mov_imm(r, b as i64),
                    Val::K(Konst::Nil) | Val::Pkt => self.mov_imm(r, 0),
                }
            }
            Val::Dyn(t, p) => {
                self.ranges.remove(&p);
                let (tag, payload) = self.tag_payload(v);
                match tag {
                    Opnd::Imm(i) => self.mov_imm(t, i),
                    Opnd::Reg(r) => self.mov(t, r),
                }
                match payload {
                    Opnd::Imm(i) => self.mov_imm(p, i),
                    Opnd::Reg(r) => self.mov(p, r),
                }
            }
        }
    }

    /// A value's (tag, payload) pair.
    pub(crate) fn tag_payload(&mut self, v: Val) -> (Opnd, Opnd) {
        match v {
            Val::K(Konst::Nil) => (Opnd::Imm(TAG_NIL as i64), Opnd::Imm(0)),
            Val::K(Konst::Bool(b)) => (Opnd::Imm(TAG_BOOL as i64), Opnd::Imm(b as i64)),
            Val::K(Konst::Int(i)) => (Opnd::Imm(TAG_INT as i64), Opnd::Imm(i)),
            Val::Int(r) => (Opnd::Imm(TAG_INT as i64), Opnd::Reg(r)),
            Val::Bool(r) => (Opnd::Imm(TAG_BOOL as i64), Opnd::Reg(r)),
            Val::Dyn(t, p) => (Opnd::Reg(t), Opnd::Reg(p)),
            Val::Pkt => (Opnd::Imm(TAG_PKT as i64), Opnd::Imm(0)),
        }
    }

    /// A copy of `v` in fresh registers (constants stay constants).
    pub(crate) fn copy(&mut self, v: Val) -> Val {
        match v {
            Val::Int(_) | Val::Bool(_) | Val::Dyn(..) => {
                let k = match v {
                    Val::Int(_) => types::INT,
                    Val::Bool(_) => types::BOOL,
                    _ => types::NIL | types::INT | types::BOOL,
                };
                let d = self.alloc_repr(k, self.span);
                self.coerce(v, d);
                d
            }
            other => other,
        }
    }

    /// Draws one back-edge from the loop budget.
    pub(crate) fn budget_draw(&mut self) {
        if self.opts.cpu == Cpu::V4 && self.opts.loop_budget == 65_536 {
            let err = self.err;
            self.emit(VOp::MayGoto { target: err });
        } else {
            self.uses_counter_budget = true;
            let c = self.new_v();
            self.emit(VOp::Load {
                size: Size::DW,
                dst: c,
                base: FP,
                off: BUDGET_OFF,
            });
            self.fail_if(bpf_bridge::isa::JmpOp::Eq, c, VSrc::Imm(0));
            self.emit(VOp::Alu {
                op: AluOp::Sub,
                dst: c,
                src: VSrc::Imm(1),
            });
            self.emit(VOp::Store {
                size: Size::DW,
                base: FP,
                off: BUDGET_OFF,
                src: VSrc::Reg(c),
            });
        }
    }

    /// Inlines a call of `f`.
    pub(crate) fn call(&mut self, func: FuncId, args: &[Expr<'a>], span: Span) -> Val {
        let m = self.m;
        let Some(f) = m.funcs.get(func.0 as usize) else {
            return Val::K(Konst::Nil);
        };
        if self.depth > 32 {
            self.error(span, "calls are nested too deeply", None);
            return Val::K(Konst::Nil);
        }
        let mut vals = Vec::new();
        for a in args {
            let v = self.eval(a);
            // A mutable variable's registers would change under the callee.
            let v = if self.aliases_mutable(a) {
                self.copy(v)
            } else {
                v
            };
            vals.push(v);
        }
        for (i, p) in f.params.iter().enumerate() {
            let v = vals.get(i).copied().unwrap_or(Val::K(Konst::Nil));
            self.bind_var(*p, v, span);
        }
        let rk = self
            .types
            .rets
            .get(func.0 as usize)
            .copied()
            .unwrap_or(types::NIL);
        let result = self.alloc_repr(rk, span);
        let end = self.label();
        self.inlines.push(Inline { result, end });
        self.depth += 1;
        let saved_loops = std::mem::take(&mut self.loops);
        let before = self.checked;
        self.block(f.body);
        self.coerce(Val::K(Konst::Nil), result);
        self.loops = saved_loops;
        self.depth -= 1;
        self.inlines.pop();
        self.place(end);
        self.checked = before;
        self.span = span;
        result
    }

    /// Whether evaluating `e` yields a mutable variable's own registers.
    pub(crate) fn aliases_mutable(&self, e: &Expr) -> bool {
        matches!(e.kind, ExprKind::Var(v) if self.m.vars.get(v.0 as usize).is_some_and(|i| i.mutated))
    }

    /// Binds a variable at its declaration.
    pub(crate) fn bind_var(&mut self, var: VarId, v: Val, span: Span) {
        let info = &self.m.vars[var.0 as usize];
        let loc = if info.mutated {
            let k = self
                .types
                .vars
                .get(var.0 as usize)
                .copied()
                .unwrap_or(types::NIL);
            let d = self.alloc_repr(k, span);
            self.coerce(v, d);
            d
        } else {
            v
        };
        if let Some(slot) = self.locs.get_mut(var.0 as usize) {
            *slot = Some(loc);
        }
    }

    /// `return e` in the current function.
    pub(crate) fn ret(&mut self, v: Val) {
        if let Some(inl) = self.inlines.last() {
            let (result, end) = (inl.result, inl.end);
            self.coerce(v, result);
            self.emit(VOp::Ja { target: end });
            return;
        }
        // The verdict: an integer as is, true → 1, false/nil → 0 (the payload).
        let r0 = V::phys(0);
        match v {
            Val::K(Konst::Int(i)) => self.mov_imm(r0, i),
            Val::K(Konst::Bool(b)) => self.mov_imm(r0, b as i64),
            Val::K(Konst::Nil) | Val::Pkt => self.mov_imm(r0, 0),
            Val::Int(r) | Val::Bool(r) | Val::Dyn(_, r) => self.mov(r0, r),
        }
        self.emit(VOp::Exit);
    }
}

/// Virtual code as [`generate`] leaves it.
pub struct Generated {
    pub code: Vec<VInsn>,
    /// One past the largest register number used.
    pub nregs: u32,
    /// One past the largest label number used.
    pub nlabels: u32,
}

/// Generates virtual code for a module.
pub fn generate(m: &Module, opts: &CompileOptions) -> Result<Generated, Sink> {
    let types = types::infer(m);
    let mut g = Gen {
        m,
        types,
        opts: *opts,
        // Room for a typical filter's code: growing it copies it each time.
        code: Vec::with_capacity(256),
        next_v: FIRST_VIRT,
        next_label: 0,
        span: Span::default(),
        locs: vec![None; m.vars.len()],
        sink: Sink::default(),
        err: Label(0),
        data: V(0),
        data_end: V(0),
        checked: 0,
        loops: Vec::new(),
        inlines: Vec::new(),
        depth: 0,
        uses_counter_budget: false,
        ranges: Default::default(),
        map_hint: None,
    };
    g.err = g.label();
    let Some(main) = m.funcs.get(m.main.0 as usize) else {
        return Err(g.sink);
    };
    g.span = main.span;
    g.data = g.new_v();
    g.data_end = g.new_v();
    let (data, data_end) = (g.data, g.data_end);
    g.emit(VOp::Load {
        size: Size::W,
        dst: data,
        base: V::phys(1),
        off: 0,
    });
    g.emit(VOp::Load {
        size: Size::W,
        dst: data_end,
        base: V::phys(1),
        off: 4,
    });
    let prologue_end = g.code.len();
    if let Some(p) = main.params.first() {
        g.bind_var(*p, Val::Pkt, main.span);
    }
    g.block(main.body);
    g.span = main.span;
    g.ret(Val::K(Konst::Nil));
    let err = g.err;
    g.place(err);
    g.mov_imm(V::phys(0), 0);
    g.emit(VOp::Exit);
    if g.uses_counter_budget {
        let budget = i32::try_from(opts.loop_budget).unwrap_or(i32::MAX);
        g.code.insert(
            prologue_end,
            VInsn {
                op: VOp::Store {
                    size: Size::DW,
                    base: FP,
                    off: BUDGET_OFF,
                    src: VSrc::Imm(budget),
                },
                span: main.span,
            },
        );
    }
    if !g.sink.is_empty() {
        return Err(g.sink);
    }
    Ok(Generated {
        code: g.code,
        nregs: g.next_v,
        nlabels: g.next_label,
    })
}
