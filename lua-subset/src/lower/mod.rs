//! full_moon AST → arena IR: scopes, the subset rules, constant folding of
//! what is constant by construction (`<const>` locals, top-level constants).

pub(crate) mod expr;
mod span;
pub(crate) use expr::truthy;
mod top;

use crate::diag::{Sink, Span};
use crate::ir::*;
use bumpalo::Bump;
use full_moon::ast;
use full_moon::ast::punctuated::Punctuated;
use full_moon::node::Node;
use full_moon::tokenizer::{TokenReference, TokenType};

/// What a name is bound to.
#[derive(Clone, Debug)]
pub(crate) enum Binding {
    Var(VarId),
    Const(Konst),
    Str(String),
    Func(FuncId),
    /// The function whose body is being lowered: a reference is recursion.
    Recursing,
    Map(usize),
    Table(usize),
}

/// Per-variable facts used only while lowering.
struct VarCtx {
    /// Function nesting id of the declaring function.
    owner: u32,
    /// `<const>` with a run-time value: assignments are refused.
    readonly: bool,
    /// First use from another function (a capture).
    captured: Option<Span>,
    /// First assignment after the declaration.
    assigned: Option<Span>,
}

/// The lowering state.
pub(crate) struct Lowerer<'a> {
    pub(crate) arena: &'a Bump,
    pub(crate) sink: Sink,
    /// Names bound in each open scope (copied into the arena: a bump
    /// allocation, freed with it).
    scopes: Vec<Vec<(&'a str, Binding)>>,
    /// Storage of closed scopes and of finished blocks' statement lists
    /// (copied into the arena), kept for reuse: allocation and growth are
    /// a good part of lowering a small filter.
    spare_scopes: Vec<Vec<(&'a str, Binding)>>,
    spare_stmts: Vec<Vec<Stmt<'a>>>,
    /// The names a `local` statement declares, and their variables.
    spare_locals: Vec<(&'a str, Binding)>,
    spare_slots: Vec<Option<VarId>>,
    /// The values of a `local` statement or an assignment.
    spare_values: Vec<Expr<'a>>,
    pub(crate) vars: Vec<VarInfo<'a>>,
    var_ctx: Vec<VarCtx>,
    pub(crate) funcs: Vec<Option<Func<'a>>>,
    pub(crate) maps: Vec<MapDecl>,
    pub(crate) tables: Vec<ConstTable>,
    /// Name keys of constant tables, by table.
    pub(crate) table_names: Vec<Vec<(String, Konst)>>,
    fn_uid: u32,
    next_uid: u32,
    loop_depth: u32,
    /// At top level (outside every function).
    pub(crate) top: bool,
    /// Length of the source, for diagnostics at its end.
    pub(crate) src_len: usize,
    pub(crate) expr_depth: u32,
    pub(crate) depth_reported: bool,
}

/// Span of any full_moon node (empty at 0 if it has no tokens).
pub(crate) fn sp(n: &impl Node) -> Span {
    match n.range() {
        Some((a, b)) => Span::new(a.bytes(), b.bytes()),
        None => Span::default(),
    }
}

/// The identifier text of a token.
pub(crate) fn ident(t: &TokenReference) -> String {
    ident_ref(t).into_owned()
}

/// The identifier text of a token, borrowed from the syntax tree where it can
/// be: most names are only looked up, never stored.
pub(crate) fn ident_ref(t: &TokenReference) -> std::borrow::Cow<'_, str> {
    match t.token_type() {
        TokenType::Identifier { identifier } => std::borrow::Cow::Borrowed(identifier.as_str()),
        _ => std::borrow::Cow::Owned(t.token().to_string()),
    }
}

impl<'a> Lowerer<'a> {
    fn new(arena: &'a Bump) -> Self {
        Lowerer {
            arena,
            sink: Sink::default(),
            scopes: vec![Vec::new()],
            spare_scopes: Vec::new(),
            spare_stmts: Vec::new(),
            spare_locals: Vec::new(),
            spare_slots: Vec::new(),
            spare_values: Vec::new(),
            vars: Vec::new(),
            var_ctx: Vec::new(),
            funcs: Vec::new(),
            maps: Vec::new(),
            tables: Vec::new(),
            table_names: Vec::new(),
            fn_uid: 0,
            next_uid: 1,
            loop_depth: 0,
            top: true,
            src_len: 0,
            expr_depth: 0,
            depth_reported: false,
        }
    }

    pub(crate) fn err(&mut self, span: Span, msg: impl Into<String>, hint: Option<&str>) {
        self.sink.error(span, msg, hint);
    }

    /// The identifier text of a token, in the arena.
    pub(crate) fn name_of(&self, t: &TokenReference) -> &'a str {
        self.arena.alloc_str(&ident_ref(t))
    }

    pub(crate) fn bind(&mut self, name: &'a str, b: Binding) {
        if let Some(s) = self.scopes.last_mut() {
            s.push((name, b));
        }
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b)
    }

    pub(crate) fn new_var(&mut self, name: &'a str, span: Span, readonly: bool) -> VarId {
        let id = VarId(self.vars.len() as u32);
        self.vars.push(VarInfo {
            name,
            mutated: false,
            span,
        });
        self.var_ctx.push(VarCtx {
            owner: self.fn_uid,
            readonly,
            captured: None,
            assigned: None,
        });
        id
    }

    /// Records a read of `v` at `span` (captures are noted).
    pub(crate) fn use_var(&mut self, v: VarId, span: Span) {
        let uid = self.fn_uid;
        if let Some(c) = self.var_ctx.get_mut(v.0 as usize) {
            if c.owner != uid && c.captured.is_none() {
                c.captured = Some(span);
            }
        }
    }

    fn block(&mut self, b: &ast::Block) -> Block<'a> {
        self.open_scope();
        let out = self.block_in_scope(b, &mut |_| {});
        self.close_scope();
        out
    }

    /// Opens an empty innermost scope.
    fn open_scope(&mut self) {
        let scope = self.spare_scopes.pop().unwrap_or_default();
        self.scopes.push(scope);
    }

    /// Closes the innermost scope.
    fn close_scope(&mut self) {
        if let Some(mut scope) = self.scopes.pop() {
            scope.clear();
            self.spare_scopes.push(scope);
        }
    }

    /// Lowers the statements of `b` in the current scope; `extra` runs before
    /// the last statement is appended (used by `repeat ... until`).
    fn block_in_scope(&mut self, b: &ast::Block, extra: &mut dyn FnMut(&mut Self)) -> Block<'a> {
        let mut out = self.spare_stmts.pop().unwrap_or_default();
        for s in b.stmts() {
            self.stmt(s, &mut out);
        }
        if let Some(last) = b.last_stmt() {
            let span = span::last_stmt_span(last);
            debug_assert_eq!(
                span,
                sp(last),
                "fast statement span differs from full_moon's"
            );
            match last {
                ast::LastStmt::Break(_) => {
                    if self.loop_depth == 0 {
                        self.err(span, "`break` outside a loop", None);
                    }
                    out.push(Stmt {
                        kind: StmtKind::Break,
                        span,
                    });
                }
                ast::LastStmt::Return(r) => {
                    let mut vals = r.returns().iter();
                    let first = vals.next().map(|e| self.expr(e));
                    if let Some(extra) = vals.next() {
                        self.err(
                            sp(extra),
                            "a function returns at most one value",
                            Some("return a single value"),
                        );
                    }
                    out.push(Stmt {
                        kind: StmtKind::Return(first),
                        span,
                    });
                }
                _ => self.err(span, "statement outside the Lua subset", None),
            }
        }
        extra(self);
        let block = self.arena.alloc_slice_copy(&out);
        out.clear();
        self.spare_stmts.push(out);
        block
    }

    fn stmt(&mut self, s: &ast::Stmt, out: &mut Vec<Stmt<'a>>) {
        let span = span::stmt_span(s);
        debug_assert_eq!(span, sp(s), "fast statement span differs from full_moon's");
        let kind = match s {
            ast::Stmt::LocalAssignment(la) => return self.local(la, span, out),
            ast::Stmt::Assignment(a) => match self.assign(a) {
                Some(k) => k,
                None => return,
            },
            ast::Stmt::FunctionCall(c) => StmtKind::Eval(self.call_expr(c)),
            ast::Stmt::Do(d) => StmtKind::Do(self.block(d.block())),
            ast::Stmt::If(i) => {
                let mut arms = vec![(self.expr(i.condition()), self.block(i.block()))];
                for ei in i.else_if().into_iter().flatten() {
                    arms.push((self.expr(ei.condition()), self.block(ei.block())));
                }
                let otherwise = i.else_block().map(|b| self.block(b));
                StmtKind::If {
                    arms: self.arena.alloc_slice_copy(&arms),
                    otherwise,
                }
            }
            ast::Stmt::While(w) => {
                let cond = self.expr(w.condition());
                self.loop_depth += 1;
                let body = self.block(w.block());
                self.loop_depth -= 1;
                StmtKind::While { cond, body }
            }
            ast::Stmt::Repeat(r) => {
                self.loop_depth += 1;
                self.open_scope();
                let mut cond = None;
                let body = self.block_in_scope(r.block(), &mut |l: &mut Self| {
                    cond = Some(l.expr(r.until()));
                });
                self.close_scope();
                self.loop_depth -= 1;
                let cond = cond.unwrap_or(Expr {
                    kind: ExprKind::Const(Konst::Bool(true)),
                    span,
                });
                StmtKind::Repeat { body, cond }
            }
            ast::Stmt::NumericFor(f) => {
                let start = self.expr(f.start());
                let limit = self.expr(f.end());
                let step = match f.step() {
                    None => 1,
                    Some(e) => {
                        let se = self.expr(e);
                        match se.kind {
                            ExprKind::Const(Konst::Int(0)) => {
                                self.err(
                                    se.span,
                                    "the step of a `for` loop is zero",
                                    Some("use a non-zero constant step"),
                                );
                                1
                            }
                            ExprKind::Const(Konst::Int(n)) => n,
                            _ => {
                                self.err(
                                    se.span,
                                    "the step of a `for` loop must be an integer constant",
                                    Some("use a constant such as 1 or -1"),
                                );
                                1
                            }
                        }
                    }
                };
                self.open_scope();
                let name = self.name_of(f.index_variable());
                let var = self.new_var(name, sp(f.index_variable()), false);
                self.bind(name, Binding::Var(var));
                self.loop_depth += 1;
                let body = self.block(f.block());
                self.loop_depth -= 1;
                self.close_scope();
                StmtKind::NumFor {
                    var,
                    start,
                    limit,
                    step,
                    body,
                }
            }
            ast::Stmt::GenericFor(g) => {
                self.err(
                    sp(g.for_token()).to(sp(g.in_token())),
                    "generic `for` (pairs, ipairs, iterators) is not supported",
                    Some("use a numeric `for i = a, b do`"),
                );
                return;
            }
            ast::Stmt::LocalFunction(lf) => {
                let name = self.name_of(lf.name());
                let fid = self.function(name, lf.body(), sp(lf.name()), span);
                self.bind(name, Binding::Func(fid));
                return;
            }
            ast::Stmt::FunctionDeclaration(fd) => {
                let is_method = fd.name().method_name().is_some();
                let msg = if is_method {
                    "method definitions are not supported"
                } else {
                    "global functions are not supported"
                };
                self.err(
                    sp(fd.name()),
                    msg,
                    Some("declare it as `local function name(...)`"),
                );
                return;
            }
            ast::Stmt::Goto(g) => {
                self.err(
                    sp(g),
                    "`goto` is not supported",
                    Some("use structured control flow"),
                );
                return;
            }
            ast::Stmt::Label(l) => {
                self.err(
                    sp(l),
                    "labels are not supported",
                    Some("use structured control flow"),
                );
                return;
            }
            _ => {
                self.err(span, "statement outside the Lua subset", None);
                return;
            }
        };
        out.push(Stmt { kind, span });
    }

    fn local(&mut self, la: &ast::LocalAssignment, span: Span, out: &mut Vec<Stmt<'a>>) {
        if self.top {
            return self.top_local(la, span);
        }
        let values = self.values(la.expressions());
        // Bound once every name is declared (`local x = x` reads the outer
        // `x`); the buffers are kept for the next declaration.
        let mut vars = std::mem::take(&mut self.spare_locals);
        let mut slots = std::mem::take(&mut self.spare_slots);
        let mut attrs = la.attributes();
        for name_tok in la.names().iter() {
            let name = self.name_of(name_tok);
            let nspan = sp(name_tok);
            let attr = attrs.next().flatten().map(|a| ident_ref(a.name()));
            let is_const = match attr.as_deref() {
                None => false,
                Some("const") => true,
                Some(other) => {
                    let msg = if other == "close" {
                        "`<close>` variables are not supported".to_string()
                    } else {
                        format!("unknown attribute `<{other}>`")
                    };
                    self.err(nspan, msg, Some("only `<const>` is allowed"));
                    false
                }
            };
            let v = values.get(slots.len()).copied();
            if is_const {
                match v {
                    Some(Expr {
                        kind: ExprKind::Const(k),
                        ..
                    }) => {
                        vars.push((name, Binding::Const(k)));
                        slots.push(None);
                        continue;
                    }
                    None => {
                        vars.push((name, Binding::Const(Konst::Nil)));
                        slots.push(None);
                        continue;
                    }
                    _ => {}
                }
            }
            let id = self.new_var(name, nspan, is_const);
            vars.push((name, Binding::Var(id)));
            slots.push(Some(id));
        }
        out.push(Stmt {
            kind: StmtKind::Local {
                vars: self.arena.alloc_slice_copy(&slots),
                values: self.arena.alloc_slice_copy(&values),
            },
            span,
        });
        for (name, b) in vars.drain(..) {
            self.bind(name, b);
        }
        slots.clear();
        self.spare_locals = vars;
        self.spare_slots = slots;
        self.spare_values = values;
    }

    /// Lowers a statement's value list into the spare buffer (handed back
    /// through [`Lowerer::spare_values`] once copied into the arena).
    fn values(&mut self, list: &Punctuated<ast::Expression>) -> Vec<Expr<'a>> {
        let mut values = std::mem::take(&mut self.spare_values);
        values.clear();
        for e in list.iter() {
            let v = self.expr(e);
            values.push(v);
        }
        values
    }

    fn assign(&mut self, a: &ast::Assignment) -> Option<StmtKind<'a>> {
        let mut targets = Vec::new();
        for v in a.variables().iter() {
            let span = sp(v);
            match v {
                ast::Var::Name(t) => {
                    let name = ident_ref(t);
                    match self.lookup(&name).cloned() {
                        Some(Binding::Var(id)) => {
                            let ctx = &mut self.var_ctx[id.0 as usize];
                            if ctx.readonly {
                                self.err(
                                    span,
                                    format!("cannot assign to const variable `{name}`"),
                                    None,
                                );
                                continue;
                            }
                            if ctx.assigned.is_none() {
                                ctx.assigned = Some(span);
                            }
                            self.vars[id.0 as usize].mutated = true;
                            self.use_var(id, span);
                            targets.push((Target::Var(id), span));
                        }
                        Some(Binding::Const(_)) | Some(Binding::Str(_)) => {
                            let hint = if self.top_level_name(&name) {
                                "state that outlives a packet belongs in a map"
                            } else {
                                "declare it without `<const>`"
                            };
                            self.err(
                                span,
                                format!("cannot assign to constant `{name}`"),
                                Some(hint),
                            );
                        }
                        Some(Binding::Func(_)) | Some(Binding::Recursing) => {
                            self.err(span, format!("cannot assign to function `{name}`"), None)
                        }
                        Some(Binding::Map(_)) | Some(Binding::Table(_)) => self.err(
                            span,
                            format!("cannot assign to `{name}`"),
                            Some("assign to its elements: `name[key] = value`"),
                        ),
                        None => self.global_error(&name, span),
                    }
                }
                ast::Var::Expression(ve) => {
                    if let Some(t) = self.index_target(ve, span) {
                        targets.push((t, span));
                    }
                }
                _ => self.err(span, "assignment target outside the Lua subset", None),
            }
        }
        let values = self.values(a.expressions());
        let kind = (targets.len() == a.variables().len()).then(|| StmtKind::Assign {
            targets: self.arena.alloc_slice_copy(&targets),
            values: self.arena.alloc_slice_copy(&values),
        });
        self.spare_values = values;
        kind
    }

    fn top_level_name(&self, name: &str) -> bool {
        self.scopes
            .first()
            .is_some_and(|s| s.iter().any(|(n, _)| *n == name))
            && !self
                .scopes
                .iter()
                .skip(1)
                .any(|s| s.iter().any(|(n, _)| *n == name))
    }

    /// Lowers a local function (or the main one); returns its id.
    pub(crate) fn function(
        &mut self,
        name: &str,
        body: &ast::FunctionBody,
        name_span: Span,
        span: Span,
    ) -> FuncId {
        let fid = FuncId(self.funcs.len() as u32);
        self.funcs.push(None);
        let saved_uid = self.fn_uid;
        let saved_top = self.top;
        let saved_loop = self.loop_depth;
        self.fn_uid = self.next_uid;
        self.next_uid += 1;
        self.top = false;
        self.loop_depth = 0;
        self.open_scope();
        let name_here = self.arena.alloc_str(name);
        self.bind(name_here, Binding::Recursing);
        let mut params = Vec::new();
        for p in body.parameters().iter() {
            match p {
                ast::Parameter::Name(t) => {
                    let pname = self.name_of(t);
                    let id = self.new_var(pname, sp(t), false);
                    self.bind(pname, Binding::Var(id));
                    params.push(id);
                }
                other => self.err(
                    sp(other),
                    "varargs (`...`) are not supported",
                    Some("name each parameter"),
                ),
            }
        }
        if params.len() > 5 {
            self.err(name_span, "a function takes at most 5 parameters", None);
        }
        let b = self.block(body.block());
        self.close_scope();
        self.fn_uid = saved_uid;
        self.top = saved_top;
        self.loop_depth = saved_loop;
        self.funcs[fid.0 as usize] = Some(Func {
            name: self.arena.alloc_str(name),
            params: self.arena.alloc_slice_copy(&params),
            body: b,
            span,
        });
        fid
    }

    /// Captured locals must not be assigned after their declaration.
    fn check_captures(&mut self) {
        let mut errs = Vec::new();
        for (i, c) in self.var_ctx.iter().enumerate() {
            if let (Some(cap), Some(_)) = (c.captured, c.assigned) {
                errs.push((cap, self.vars[i].name));
            }
        }
        for (span, name) in errs {
            self.err(
                span,
                format!("this function captures `{name}`, which is assigned after its declaration"),
                Some("pass it as a parameter, or keep state that outlives a packet in a map"),
            );
        }
    }
}

/// Parses and lowers `source`; diagnostics in the sink on failure.
pub(crate) fn lower<'a>(arena: &'a Bump, source: &str) -> Result<Module<'a>, Sink> {
    let mut sink = Sink::default();
    match crate::syntax::precheck(source) {
        Some((span, crate::syntax::Problem::TooDeep)) => {
            sink.error(
                span,
                "nesting or operator chain is too deep",
                Some("split the expression or the code into smaller functions"),
            );
            return Err(sink);
        }
        Some((span, crate::syntax::Problem::Backtick)) => {
            sink.error(span, "syntax error: unexpected character '`'", None);
            return Err(sink);
        }
        None => {}
    }
    // The guards above keep full_moon away from inputs known to crash it; a
    // panic that still escapes becomes a diagnostic, never an abort.
    let parsed = std::panic::catch_unwind(|| {
        full_moon::parse_fallible(source, full_moon::LuaVersion::lua54())
    });
    let Ok(result) = parsed else {
        sink.error(
            Span::new(0, 0),
            "syntax error: the parser could not read this file",
            None,
        );
        return Err(sink);
    };
    if !result.errors().is_empty() {
        for e in result.errors() {
            let (a, b) = e.range();
            let msg = e.error_message().to_string();
            sink.error(
                Span::new(a.bytes(), b.bytes()),
                format!("syntax error: {msg}"),
                None,
            );
        }
        return Err(sink);
    }
    let ast = result.ast();
    let mut l = Lowerer::new(arena);
    l.src_len = source.trim_end().len();
    let main = l.chunk(ast.nodes());
    l.check_captures();
    if !l.sink.is_empty() {
        return Err(l.sink);
    }
    let Some(main) = main else {
        l.err(Span::default(), "internal: no main function", None);
        return Err(l.sink);
    };
    let funcs: Vec<Func<'a>> = l.funcs.into_iter().flatten().collect();
    Ok(Module {
        funcs,
        main,
        maps: l.maps,
        tables: l.tables,
        vars: l.vars,
    })
}
