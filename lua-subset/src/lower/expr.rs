//! Expressions: operators, packet and map access, calls, builtins, folding.

use super::{ident, ident_ref, sp, Binding, Lowerer};
use crate::diag::Span;
use crate::ir::*;
use crate::luaops;
use full_moon::ast;
use full_moon::tokenizer::{Symbol, TokenType};

/// An expression being lowered: a value, or a name that is not a value.
#[derive(Clone, Debug)]
pub(crate) enum LVal<'a> {
    Expr(Expr<'a>),
    Str(String, Span),
    Func(FuncId, Span),
    Map(usize, Span),
    Table(usize, Span),
    /// `math` or `map` (or another unbound global), not yet indexed.
    Global(String, Span),
    /// `math.min`, `math.max`, `math.abs`.
    MathFn(String, Span),
    /// `map.hash` / `map.array`.
    MapCtor(Span),
    /// Already reported.
    Error(Span),
}

/// Deepest expression tree the later (recursive) passes accept.
pub(crate) const MAX_EXPR_DEPTH: u32 = 128;

const METATABLE_FNS: &[&str] = &[
    "setmetatable",
    "getmetatable",
    "rawget",
    "rawset",
    "rawequal",
    "rawlen",
];
const LIBRARIES: &[&str] = &[
    "require",
    "load",
    "loadfile",
    "loadstring",
    "dofile",
    "io",
    "os",
    "string",
    "table",
    "debug",
    "coroutine",
    "collectgarbage",
    "print",
    "utf8",
    "package",
    "pairs",
    "ipairs",
    "next",
    "select",
    "type",
    "tostring",
    "tonumber",
    "error",
    "assert",
    "pcall",
    "xpcall",
    "_G",
    "_ENV",
    "unpack",
];

impl<'a> Lowerer<'a> {
    pub(crate) fn mk(&self, kind: ExprKind<'a>, span: Span) -> Expr<'a> {
        Expr { kind, span }
    }

    pub(crate) fn konst(&self, k: Konst, span: Span) -> Expr<'a> {
        Expr {
            kind: ExprKind::Const(k),
            span,
        }
    }

    /// Reports a use of an unbound name.
    pub(crate) fn global_error(&mut self, name: &str, span: Span) {
        if METATABLE_FNS.contains(&name) {
            self.err(
                span,
                format!("metatables are not supported (`{name}`)"),
                Some("filters use plain values and maps"),
            );
        } else if LIBRARIES.contains(&name) {
            self.err(
                span,
                format!("library function `{name}` is not available in filters"),
                Some("only `math.min`, `math.max`, `math.abs`, `math.maxinteger` and `math.mininteger` are built in"),
            );
        } else if name == "math" || name == "map" {
            self.err(
                span,
                format!(
                    "`{name}` must be indexed (e.g. `{name}.{}`)",
                    if name == "math" { "max" } else { "hash" }
                ),
                None,
            );
        } else {
            self.err(
                span,
                format!("unknown global `{name}`"),
                Some("declare it with `local` first"),
            );
        }
    }

    /// Lowers an expression that must be a value.
    pub(crate) fn expr(&mut self, e: &ast::Expression) -> Expr<'a> {
        let lv = self.lval(e);
        self.value(lv)
    }

    /// Turns an [`LVal`] into a value, reporting names that are not values.
    pub(crate) fn value(&mut self, lv: LVal<'a>) -> Expr<'a> {
        match lv {
            LVal::Expr(e) => e,
            LVal::Str(_, span) => {
                self.err(
                    span,
                    "string values are not supported",
                    Some("strings may only name map types and constant-table fields"),
                );
                self.konst(Konst::Nil, span)
            }
            LVal::Func(_, span) => {
                self.err(
                    span,
                    "functions are not values here",
                    Some("call it: `name(args)`"),
                );
                self.konst(Konst::Nil, span)
            }
            LVal::Map(_, span) => {
                self.err(span, "a map is not a value", Some("index it: `name[key]`"));
                self.konst(Konst::Nil, span)
            }
            LVal::Table(_, span) => {
                self.err(
                    span,
                    "a constant table is not a value",
                    Some("index it: `name[key]`"),
                );
                self.konst(Konst::Nil, span)
            }
            LVal::Global(name, span) => {
                self.global_error(&name, span);
                self.konst(Konst::Nil, span)
            }
            LVal::MathFn(name, span) => {
                self.err(span, format!("`math.{name}` must be called"), None);
                self.konst(Konst::Nil, span)
            }
            LVal::MapCtor(span) => {
                self.err(
                    span,
                    "maps are declared only at top level: `local NAME = map.hash{...}`",
                    None,
                );
                self.konst(Konst::Nil, span)
            }
            LVal::Error(span) => self.konst(Konst::Nil, span),
        }
    }

    pub(crate) fn lval(&mut self, e: &ast::Expression) -> LVal<'a> {
        let span = super::span::expr_span(e);
        debug_assert_eq!(span, sp(e), "fast expression span differs from full_moon's");
        if self.expr_depth >= MAX_EXPR_DEPTH {
            if !self.depth_reported {
                self.depth_reported = true;
                self.err(
                    span,
                    "expression is nested too deeply",
                    Some("split it with local variables"),
                );
            }
            return LVal::Error(span);
        }
        self.expr_depth += 1;
        let r = self.lval_inner(e, span);
        self.expr_depth -= 1;
        r
    }

    fn lval_inner(&mut self, e: &ast::Expression, span: Span) -> LVal<'a> {
        match e {
            ast::Expression::Parentheses { expression, .. } => {
                // Parentheses keep a single value; nothing else changes here.
                match self.lval(expression) {
                    LVal::Expr(mut x) => {
                        x.span = span;
                        LVal::Expr(x)
                    }
                    other => other,
                }
            }
            ast::Expression::Number(t) => LVal::Expr(self.number(t, span)),
            ast::Expression::String(t) => match t.token_type() {
                TokenType::StringLiteral { literal, .. } => {
                    LVal::Str(literal.as_str().to_owned(), span)
                }
                _ => LVal::Error(span),
            },
            ast::Expression::Symbol(t) => match t.token_type() {
                TokenType::Symbol {
                    symbol: Symbol::True,
                } => LVal::Expr(self.konst(Konst::Bool(true), span)),
                TokenType::Symbol {
                    symbol: Symbol::False,
                } => LVal::Expr(self.konst(Konst::Bool(false), span)),
                TokenType::Symbol {
                    symbol: Symbol::Nil,
                } => LVal::Expr(self.konst(Konst::Nil, span)),
                TokenType::Symbol {
                    symbol: Symbol::Ellipsis,
                } => {
                    self.err(span, "varargs (`...`) are not supported", None);
                    LVal::Error(span)
                }
                _ => {
                    self.err(span, "expression outside the Lua subset", None);
                    LVal::Error(span)
                }
            },
            ast::Expression::Var(v) => match v {
                ast::Var::Name(t) => self.name(&ident_ref(t), span),
                ast::Var::Expression(ve) => {
                    let base = self.prefix(ve.prefix());
                    let mut cur = base;
                    for s in ve.suffixes() {
                        cur = self.suffix(cur, s);
                    }
                    cur
                }
                _ => {
                    self.err(span, "expression outside the Lua subset", None);
                    LVal::Error(span)
                }
            },
            ast::Expression::FunctionCall(c) => LVal::Expr(self.call_expr(c)),
            ast::Expression::Function(f) => {
                self.err(
                    sp(f.function_token()),
                    "anonymous functions (closures) are not supported",
                    Some("declare a `local function` at top level and call it directly"),
                );
                LVal::Error(span)
            }
            ast::Expression::TableConstructor(_) => {
                self.err(
                    span,
                    "tables built at run time are not supported",
                    Some("declare constant tables at top level; keep state in a map"),
                );
                LVal::Error(span)
            }
            ast::Expression::UnaryOperator { unop, expression } => {
                self.unary(unop, expression, span)
            }
            ast::Expression::BinaryOperator { lhs, binop, rhs } => {
                self.binary(lhs, binop, rhs, span)
            }
            _ => {
                self.err(span, "expression outside the Lua subset", None);
                LVal::Error(span)
            }
        }
    }

    fn number(&mut self, t: &full_moon::tokenizer::TokenReference, span: Span) -> Expr<'a> {
        let text = match t.token_type() {
            TokenType::Number { text } => text.as_str(),
            _ => "",
        };
        match parse_int(text) {
            Some(v) => self.konst(Konst::Int(v), span),
            None => {
                self.err(
                    span,
                    format!("float values are not supported (`{text}`)"),
                    Some("use integers"),
                );
                self.konst(Konst::Int(0), span)
            }
        }
    }

    pub(crate) fn name(&mut self, name: &str, span: Span) -> LVal<'a> {
        match self.lookup(name).cloned() {
            Some(Binding::Var(v)) => {
                self.use_var(v, span);
                LVal::Expr(self.mk(ExprKind::Var(v), span))
            }
            Some(Binding::Const(k)) => LVal::Expr(self.konst(k, span)),
            Some(Binding::Str(s)) => LVal::Str(s, span),
            Some(Binding::Func(f)) => LVal::Func(f, span),
            Some(Binding::Recursing) => {
                self.err(
                    span,
                    format!("recursion is not supported (`{name}` calls itself)"),
                    Some("rewrite it as a loop"),
                );
                LVal::Error(span)
            }
            Some(Binding::Map(m)) => LVal::Map(m, span),
            Some(Binding::Table(t)) => LVal::Table(t, span),
            None => LVal::Global(name.to_string(), span),
        }
    }

    fn prefix(&mut self, p: &ast::Prefix) -> LVal<'a> {
        match p {
            ast::Prefix::Name(t) => self.name(&ident_ref(t), sp(t)),
            ast::Prefix::Expression(e) => self.lval(e),
            _ => LVal::Error(sp(p)),
        }
    }

    pub(crate) fn call_expr(&mut self, c: &ast::FunctionCall) -> Expr<'a> {
        let mut cur = self.prefix(c.prefix());
        for s in c.suffixes() {
            cur = self.suffix(cur, s);
        }
        self.value(cur)
    }

    fn args(&mut self, a: &ast::FunctionArgs) -> Vec<Expr<'a>> {
        match a {
            ast::FunctionArgs::Parentheses { arguments, .. } => {
                arguments.iter().map(|e| self.expr(e)).collect()
            }
            other => {
                self.err(
                    sp(other),
                    "call arguments must be in parentheses here",
                    None,
                );
                Vec::new()
            }
        }
    }

    fn lval_span(lv: &LVal<'a>) -> Span {
        match lv {
            LVal::Expr(e) => e.span,
            LVal::Str(_, s)
            | LVal::Func(_, s)
            | LVal::Map(_, s)
            | LVal::Table(_, s)
            | LVal::Global(_, s)
            | LVal::MathFn(_, s)
            | LVal::MapCtor(s)
            | LVal::Error(s) => *s,
        }
    }

    fn suffix(&mut self, cur: LVal<'a>, s: &ast::Suffix) -> LVal<'a> {
        let base_span = Self::lval_span(&cur);
        let span = base_span.to(sp(s));
        match (cur, s) {
            (LVal::Error(_), _) => LVal::Error(span),
            (LVal::Global(g, gs), ast::Suffix::Index(ast::Index::Dot { name, .. })) => {
                let field = ident(name);
                match g.as_str() {
                    "math" => match field.as_str() {
                        "maxinteger" => LVal::Expr(self.konst(Konst::Int(i64::MAX), span)),
                        "mininteger" => LVal::Expr(self.konst(Konst::Int(i64::MIN), span)),
                        "min" | "max" | "abs" => LVal::MathFn(field, span),
                        "huge" | "pi" | "sqrt" | "floor" | "ceil" | "fmod" | "tointeger"
                        | "exp" | "log" | "sin" | "cos" | "tan" | "random" | "randomseed"
                        | "ult" | "type" | "modf" | "atan" | "asin" | "acos" => {
                            self.err(span, format!("`math.{field}` is not supported"), Some("built in: math.min, math.max, math.abs, math.maxinteger, math.mininteger"));
                            LVal::Error(span)
                        }
                        _ => {
                            self.err(span, format!("unknown field `math.{field}`"), None);
                            LVal::Error(span)
                        }
                    },
                    "map" if field == "hash" || field == "array" => LVal::MapCtor(span),
                    _ => {
                        self.global_error(&g, gs);
                        LVal::Error(span)
                    }
                }
            }
            (LVal::Global(g, gs), _) => {
                self.global_error(&g, gs);
                LVal::Error(span)
            }
            (LVal::MathFn(f, _), ast::Suffix::Call(ast::Call::AnonymousCall(a))) => {
                let args = self.args(a);
                if args.is_empty() {
                    self.err(
                        span,
                        format!("`math.{f}` needs at least one argument"),
                        None,
                    );
                    return LVal::Error(span);
                }
                if f == "abs" {
                    let x = args[0];
                    if let ExprKind::Const(Konst::Int(v)) = x.kind {
                        return LVal::Expr(self.konst(Konst::Int(v.wrapping_abs()), span));
                    }
                    let x = self.arena.alloc(x);
                    return LVal::Expr(self.mk(ExprKind::Abs(x), span));
                }
                let max = f == "max";
                // Lua returns a single argument as is, whatever its type.
                if args.len() == 1 {
                    let mut x = args[0];
                    x.span = span;
                    return LVal::Expr(x);
                }
                let consts: Option<Vec<i64>> = args
                    .iter()
                    .map(|a| match a.kind {
                        ExprKind::Const(Konst::Int(v)) => Some(v),
                        _ => None,
                    })
                    .collect();
                if let Some(c) = consts {
                    let v = if max { c.iter().max() } else { c.iter().min() };
                    if let Some(v) = v {
                        return LVal::Expr(self.konst(Konst::Int(*v), span));
                    }
                }
                let args = self.arena.alloc_slice_copy(&args);
                LVal::Expr(self.mk(ExprKind::MinMax { max, args }, span))
            }
            (LVal::Func(f, _), ast::Suffix::Call(ast::Call::AnonymousCall(a))) => {
                let args = self.args(a);
                let args = self.arena.alloc_slice_copy(&args);
                LVal::Expr(self.mk(ExprKind::Call { func: f, args }, span))
            }
            (LVal::Map(m, _), ast::Suffix::Index(ast::Index::Brackets { expression, .. })) => {
                let key = self.expr(expression);
                let key = self.arena.alloc(key);
                LVal::Expr(self.mk(ExprKind::MapGet { map: m, key }, span))
            }
            (LVal::Table(t, _), ast::Suffix::Index(ast::Index::Brackets { expression, .. })) => {
                let key = self.lval(expression);
                match key {
                    LVal::Str(s, _) => LVal::Expr(self.table_name(t, &s, span)),
                    other => {
                        let key = self.value(other);
                        if let ExprKind::Const(k) = key.kind {
                            let v = match k {
                                Konst::Int(i) => self.tables[t]
                                    .entries
                                    .iter()
                                    .find(|e| e.0 == i)
                                    .map(|e| e.1),
                                _ => None,
                            };
                            return LVal::Expr(self.konst(v.unwrap_or(Konst::Nil), span));
                        }
                        let key = self.arena.alloc(key);
                        LVal::Expr(self.mk(ExprKind::TableGet { table: t, key }, span))
                    }
                }
            }
            (LVal::Table(t, _), ast::Suffix::Index(ast::Index::Dot { name, .. })) => {
                LVal::Expr(self.table_name(t, &ident_ref(name), span))
            }
            (LVal::Expr(x), ast::Suffix::Index(ast::Index::Dot { name, .. })) => {
                let field = ident_ref(name);
                if field == "len" {
                    let x = self.arena.alloc(x);
                    LVal::Expr(self.mk(ExprKind::PktLen(x), span))
                } else {
                    self.err(
                        span,
                        format!("unknown field `{field}`"),
                        Some("the packet has `len`, `u8`, `u16`, `u32`"),
                    );
                    LVal::Error(span)
                }
            }
            (LVal::Expr(x), ast::Suffix::Call(ast::Call::MethodCall(mc))) => {
                let m = ident_ref(mc.name());
                let size = match &*m {
                    "u8" => 1,
                    "u16" => 2,
                    "u32" => 4,
                    _ => {
                        self.err(
                            sp(mc.name()),
                            format!("unknown method `{m}`"),
                            Some("the packet has `u8`, `u16` and `u32`"),
                        );
                        return LVal::Error(span);
                    }
                };
                let args = self.args(mc.args());
                if args.len() != 1 {
                    self.err(span, format!("`{m}` takes exactly one offset"), None);
                    return LVal::Error(span);
                }
                let pkt = self.arena.alloc(x);
                let off = self.arena.alloc(args[0]);
                LVal::Expr(self.mk(ExprKind::PktLoad { pkt, size, off }, span))
            }
            (LVal::Expr(_), ast::Suffix::Call(_)) => {
                self.err(
                    span,
                    "only local functions can be called",
                    Some("declare it with `local function`"),
                );
                LVal::Error(span)
            }
            (LVal::Expr(_), ast::Suffix::Index(_)) => {
                self.err(span, "only maps and constant tables can be indexed", None);
                LVal::Error(span)
            }
            (LVal::MapCtor(s), _) => {
                self.err(
                    s,
                    "maps are declared only at top level: `local NAME = map.hash{...}`",
                    None,
                );
                LVal::Error(span)
            }
            (LVal::Str(_, s), _) => {
                self.err(s, "string methods and values are not supported", None);
                LVal::Error(span)
            }
            (_, ast::Suffix::Call(ast::Call::MethodCall(mc))) => {
                self.err(
                    sp(mc),
                    "method calls are only supported on the packet",
                    None,
                );
                LVal::Error(span)
            }
            (_, _) => {
                self.err(span, "expression outside the Lua subset", None);
                LVal::Error(span)
            }
        }
    }

    fn table_name(&mut self, t: usize, name: &str, span: Span) -> Expr<'a> {
        let v = self.table_names[t]
            .iter()
            .find(|(n, _)| n == name)
            .map(|e| e.1);
        self.konst(v.unwrap_or(Konst::Nil), span)
    }

    fn unary(&mut self, op: &ast::UnOp, e: &ast::Expression, span: Span) -> LVal<'a> {
        if let ast::UnOp::Hash(_) = op {
            return match self.lval(e) {
                LVal::Table(t, _) => {
                    let entries = &self.tables[t].entries;
                    let mut n = 0i64;
                    while entries.iter().any(|e| e.0 == n + 1 && e.1 != Konst::Nil) {
                        n += 1;
                    }
                    LVal::Expr(self.konst(Konst::Int(n), span))
                }
                LVal::Error(s) => LVal::Error(s),
                _ => {
                    self.err(
                        span,
                        "the length operator `#` applies only to constant tables",
                        None,
                    );
                    LVal::Error(span)
                }
            };
        }
        let x = self.expr(e);
        let uop = match op {
            ast::UnOp::Minus(_) => UnOp::Neg,
            ast::UnOp::Not(_) => UnOp::Not,
            ast::UnOp::Tilde(_) => UnOp::BNot,
            _ => {
                self.err(span, "operator outside the Lua subset", None);
                return LVal::Error(span);
            }
        };
        if let ExprKind::Const(k) = x.kind {
            let folded = match (uop, k) {
                (UnOp::Not, k) => Some(Konst::Bool(!truthy(k))),
                (UnOp::Neg, Konst::Int(v)) => Some(Konst::Int(v.wrapping_neg())),
                (UnOp::BNot, Konst::Int(v)) => Some(Konst::Int(!v)),
                _ => None,
            };
            if let Some(k) = folded {
                return LVal::Expr(self.konst(k, span));
            }
        }
        let x = self.arena.alloc(x);
        LVal::Expr(self.mk(ExprKind::Unary(uop, x), span))
    }

    fn binary(
        &mut self,
        lhs: &ast::Expression,
        op: &ast::BinOp,
        rhs: &ast::Expression,
        span: Span,
    ) -> LVal<'a> {
        let op_span = sp(op.token());
        let bop = match op {
            ast::BinOp::Plus(_) => BinOp::Add,
            ast::BinOp::Minus(_) => BinOp::Sub,
            ast::BinOp::Star(_) => BinOp::Mul,
            ast::BinOp::DoubleSlash(_) => BinOp::IDiv,
            ast::BinOp::Percent(_) => BinOp::Mod,
            ast::BinOp::Ampersand(_) => BinOp::BAnd,
            ast::BinOp::Pipe(_) => BinOp::BOr,
            ast::BinOp::Tilde(_) => BinOp::BXor,
            ast::BinOp::DoubleLessThan(_) => BinOp::Shl,
            ast::BinOp::DoubleGreaterThan(_) => BinOp::Shr,
            ast::BinOp::TwoEqual(_) => BinOp::Eq,
            ast::BinOp::TildeEqual(_) => BinOp::Ne,
            ast::BinOp::LessThan(_) => BinOp::Lt,
            ast::BinOp::LessThanEqual(_) => BinOp::Le,
            ast::BinOp::GreaterThan(_) => BinOp::Gt,
            ast::BinOp::GreaterThanEqual(_) => BinOp::Ge,
            ast::BinOp::And(_) | ast::BinOp::Or(_) => {
                let is_and = matches!(op, ast::BinOp::And(_));
                let a = self.expr(lhs);
                let b = self.expr(rhs);
                if let ExprKind::Const(k) = a.kind {
                    let pick_b = truthy(k) == is_and;
                    let mut r = if pick_b { b } else { a };
                    r.span = span;
                    return LVal::Expr(r);
                }
                let (a, b) = (self.arena.alloc(a), self.arena.alloc(b));
                let kind = if is_and {
                    ExprKind::And(a, b)
                } else {
                    ExprKind::Or(a, b)
                };
                return LVal::Expr(self.mk(kind, span));
            }
            ast::BinOp::Slash(_) => {
                self.err(
                    op_span,
                    "float division `/` is not supported",
                    Some("use floor division `//`"),
                );
                return LVal::Error(span);
            }
            ast::BinOp::Caret(_) => {
                self.err(
                    op_span,
                    "exponentiation `^` is not supported (it yields floats)",
                    Some("multiply, or shift by a constant"),
                );
                return LVal::Error(span);
            }
            ast::BinOp::TwoDots(_) => {
                self.err(op_span, "string concatenation `..` is not supported", None);
                return LVal::Error(span);
            }
            _ => {
                self.err(op_span, "operator outside the Lua subset", None);
                return LVal::Error(span);
            }
        };
        let a = self.expr(lhs);
        let b = self.expr(rhs);
        if let (ExprKind::Const(x), ExprKind::Const(y)) = (a.kind, b.kind) {
            let folded = match (x, y) {
                (Konst::Int(x), Konst::Int(y)) => luaops::arith(bop, x, y)
                    .map(Konst::Int)
                    .or_else(|| luaops::compare(bop, x, y).map(Konst::Bool)),
                (x, y) if bop == BinOp::Eq => Some(Konst::Bool(x == y)),
                (x, y) if bop == BinOp::Ne => Some(Konst::Bool(x != y)),
                _ => None,
            };
            if let Some(k) = folded {
                return LVal::Expr(self.konst(k, span));
            }
        }
        let (a, b) = (self.arena.alloc(a), self.arena.alloc(b));
        LVal::Expr(self.mk(ExprKind::Binary(bop, a, b), span))
    }
}

/// Lua truthiness of a constant.
pub(crate) fn truthy(k: Konst) -> bool {
    !matches!(k, Konst::Nil | Konst::Bool(false))
}

/// Parses a Lua integer literal; `None` for floats (decimal overflow included).
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        // Hexadecimal integers wrap around modulo 2^64.
        let mut v: u64 = 0;
        for c in hex.bytes() {
            let d = (c as char).to_digit(16)? as u64;
            v = v.wrapping_mul(16).wrapping_add(d);
        }
        return Some(v as i64);
    }
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok()
}
