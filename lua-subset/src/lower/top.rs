//! The chunk: top-level constants, constant tables, maps, local functions and
//! the returned per-packet function.

use super::expr::LVal;
use super::{ident, ident_ref, sp, Binding, Lowerer};
use crate::diag::Span;
use crate::ir::*;
use full_moon::ast;
use full_moon::tokenizer::TokenType;

impl<'a> Lowerer<'a> {
    /// Lowers the chunk; returns the main function.
    pub(crate) fn chunk(&mut self, b: &ast::Block) -> Option<FuncId> {
        let mut sink = Vec::new();
        for s in b.stmts() {
            match s {
                ast::Stmt::LocalAssignment(_) | ast::Stmt::LocalFunction(_) => self.stmt(s, &mut sink),
                ast::Stmt::FunctionDeclaration(_) | ast::Stmt::Goto(_) | ast::Stmt::Label(_) => {
                    self.stmt(s, &mut sink)
                }
                other => self.err(
                    sp(other),
                    "only declarations are allowed at top level",
                    Some("top level holds constants, maps and local functions; the chunk returns the per-packet function"),
                ),
            }
        }
        let Some(ast::LastStmt::Return(r)) = b.last_stmt() else {
            let end = Span::new(self.src_len, self.src_len);
            self.err(
                end,
                "the chunk must return the per-packet function",
                Some("end the file with `return function(pkt) ... end`"),
            );
            return None;
        };
        let mut rets = r.returns().iter();
        let Some(e) = rets.next() else {
            self.err(sp(r), "the chunk must return the per-packet function", None);
            return None;
        };
        if let Some(extra) = rets.next() {
            self.err(sp(extra), "the chunk returns exactly one function", None);
        }
        match e {
            ast::Expression::Function(f) => {
                let fid = self.function("main", f.body(), sp(f.function_token()), sp(e));
                self.check_main(fid, sp(e));
                Some(fid)
            }
            _ => match self.lval(e) {
                LVal::Func(fid, span) => {
                    self.check_main(fid, span);
                    Some(fid)
                }
                LVal::Error(_) => None,
                _ => {
                    self.err(sp(e), "the chunk must return the per-packet function", None);
                    None
                }
            },
        }
    }

    fn check_main(&mut self, fid: FuncId, span: Span) {
        if let Some(Some(f)) = self.funcs.get(fid.0 as usize) {
            if f.params.len() > 1 {
                self.err(
                    span,
                    "the per-packet function takes one parameter, the packet",
                    None,
                );
            }
        }
    }

    pub(crate) fn top_local(&mut self, la: &ast::LocalAssignment, span: Span) {
        let names: Vec<_> = la.names().iter().collect();
        let exprs: Vec<_> = la.expressions().iter().collect();
        for a in la.attributes().flatten() {
            let n = ident(a.name());
            if n != "const" {
                self.err(
                    sp(a),
                    format!("unsupported attribute `<{n}>`"),
                    Some("only `<const>` is allowed"),
                );
            }
        }
        if exprs.len() > names.len() {
            self.err(sp(exprs[names.len()]), "more values than names", None);
        }
        let mut binds = Vec::new();
        for (i, name_tok) in names.iter().enumerate() {
            let name = self.name_of(name_tok);
            let Some(e) = exprs.get(i) else {
                self.err(
                    sp(*name_tok),
                    format!("top-level local `{name}` has no value"),
                    Some("top-level values are constants; state that outlives a packet belongs in a map"),
                );
                continue;
            };
            let b = self.top_value(name, e, span);
            if let Some(b) = b {
                binds.push((name, b));
            }
        }
        for (n, b) in binds {
            self.bind(n, b);
        }
    }

    fn top_value(&mut self, name: &str, e: &ast::Expression, _stmt: Span) -> Option<Binding> {
        if let ast::Expression::TableConstructor(t) = e {
            return self.const_table(name, t);
        }
        if let ast::Expression::FunctionCall(c) = e {
            if let Some(b) = self.map_decl(name, c) {
                return b;
            }
        }
        match self.lval(e) {
            LVal::Expr(x) => match x.kind {
                ExprKind::Const(k) => Some(Binding::Const(k)),
                _ => {
                    self.err(
                        x.span,
                        format!("top-level value of `{name}` is not a compile-time constant"),
                        Some("state that outlives a packet belongs in a map"),
                    );
                    None
                }
            },
            LVal::Str(s, _) => Some(Binding::Str(s)),
            LVal::Func(f, _) => Some(Binding::Func(f)),
            LVal::Map(_, s) | LVal::Table(_, s) => {
                self.err(
                    s,
                    "maps and tables cannot be aliased",
                    Some("use the original name"),
                );
                None
            }
            LVal::Error(_) => None,
            other => {
                let _ = self.value(other);
                None
            }
        }
    }

    /// `map.hash{...}` / `map.array{...}`; `None` when `c` is not a map constructor.
    fn map_decl(&mut self, name: &str, c: &ast::FunctionCall) -> Option<Option<Binding>> {
        let ast::Prefix::Name(p) = c.prefix() else {
            return None;
        };
        if ident(p) != "map" || self.lookup("map").is_some() {
            return None;
        }
        let sufs: Vec<_> = c.suffixes().collect();
        let span = sp(c);
        let kind = match sufs.first() {
            Some(ast::Suffix::Index(ast::Index::Dot { name, .. })) => {
                match ident_ref(name).as_ref() {
                    "hash" => MapType::Hash,
                    "array" => MapType::Array,
                    other => {
                        self.err(
                            sp(name),
                            format!("unknown map kind `{other}`"),
                            Some("use `map.hash` or `map.array`"),
                        );
                        return Some(None);
                    }
                }
            }
            _ => return None,
        };
        let table = match sufs.get(1) {
            Some(ast::Suffix::Call(ast::Call::AnonymousCall(a))) => match &**a {
                ast::FunctionArgs::TableConstructor(t) => Some(&**t),
                ast::FunctionArgs::Parentheses { arguments, .. } if arguments.len() == 1 => {
                    match arguments.iter().next() {
                        Some(ast::Expression::TableConstructor(t)) => Some(&**t),
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        };
        let Some(table) = table.filter(|_| sufs.len() == 2) else {
            self.err(
                span,
                "a map is declared as `map.hash { key = T, value = T, entries = N }`",
                None,
            );
            return Some(None);
        };
        let mut key = None;
        let mut value = None;
        let mut entries = None;
        let mut bad = false;
        for f in table.fields().iter() {
            let ast::Field::NameKey {
                key: k, value: v, ..
            } = f
            else {
                self.err(sp(f), "map options are `key`, `value` and `entries`", None);
                continue;
            };
            let field = ident(k);
            let vspan = sp(&**v);
            match field.as_str() {
                "key" | "value" => {
                    let ty = match self.lval(v) {
                        LVal::Str(s, _) => s,
                        _ => String::new(),
                    };
                    let size = match ty.as_str() {
                        "u32" => 4,
                        "u64" => 8,
                        _ => {
                            self.err(
                                vspan,
                                format!("map {field} type must be \"u32\" or \"u64\""),
                                None,
                            );
                            bad = true;
                            continue;
                        }
                    };
                    if field == "key" {
                        key = Some((size, vspan));
                    } else {
                        value = Some(size);
                    }
                }
                "entries" => match self.expr(v).kind {
                    ExprKind::Const(Konst::Int(n)) if (1..=(1 << 24)).contains(&n) => {
                        entries = Some(n as u32)
                    }
                    _ => self.err(
                        vspan,
                        "`entries` must be an integer constant between 1 and 16777216",
                        None,
                    ),
                },
                other => self.err(
                    sp(k),
                    format!("unknown map option `{other}`"),
                    Some("map options are `key`, `value` and `entries`"),
                ),
            }
        }
        let key_size = match (kind, key) {
            (MapType::Array, Some((8, s))) => {
                self.err(s, "array maps are indexed by u32", None);
                4
            }
            (MapType::Array, _) => 4,
            (MapType::Hash, Some((k, _))) => k,
            (MapType::Hash, None) => {
                if !bad {
                    self.err(
                        span,
                        "a hash map needs `key = \"u32\"` or `key = \"u64\"`",
                        None,
                    );
                }
                4
            }
        };
        if bad {
            return Some(None);
        }
        let Some(value_size) = value else {
            self.err(
                span,
                "a map needs `value = \"u32\"` or `value = \"u64\"`",
                None,
            );
            return Some(None);
        };
        let Some(entries) = entries else {
            self.err(span, "a map needs `entries = N`", None);
            return Some(None);
        };
        self.maps.push(MapDecl {
            name: name.to_string(),
            kind,
            key_size,
            value_size,
            entries,
            span,
        });
        Some(Some(Binding::Map(self.maps.len() - 1)))
    }

    fn const_table(&mut self, name: &str, t: &ast::TableConstructor) -> Option<Binding> {
        let mut entries: Vec<(i64, Konst)> = Vec::new();
        let mut names: Vec<(String, Konst)> = Vec::new();
        let mut next = 1i64;
        let mut ok = true;
        for f in t.fields().iter() {
            let (key, v) = match f {
                ast::Field::NoKey(v) => {
                    let k = next;
                    next += 1;
                    (Ok(k), v)
                }
                ast::Field::NameKey { key, value, .. } => (Err(ident(key)), &**value),
                ast::Field::ExpressionKey { key, value, .. } => match self.lval(key) {
                    LVal::Str(s, _) => (Err(s), &**value),
                    LVal::Expr(Expr {
                        kind: ExprKind::Const(Konst::Int(k)),
                        ..
                    }) => (Ok(k), &**value),
                    _ => {
                        self.err(
                            sp(&**key),
                            "constant-table keys must be integer or string constants",
                            None,
                        );
                        ok = false;
                        continue;
                    }
                },
                other => {
                    self.err(sp(other), "table field outside the Lua subset", None);
                    ok = false;
                    continue;
                }
            };
            let val = match self.lval(v) {
                LVal::Expr(Expr {
                    kind: ExprKind::Const(k),
                    ..
                }) => k,
                LVal::Error(_) => {
                    ok = false;
                    continue;
                }
                _ => {
                    self.err(
                        sp(v),
                        "constant-table values must be integer or boolean constants",
                        Some("tables are built at compile time"),
                    );
                    ok = false;
                    continue;
                }
            };
            // Later fields overwrite earlier ones, as in Lua constructors.
            match key {
                Ok(k) => {
                    entries.retain(|e| e.0 != k);
                    if val != Konst::Nil {
                        entries.push((k, val));
                    }
                }
                Err(n) => {
                    names.retain(|e| e.0 != n);
                    if val != Konst::Nil {
                        names.push((n, val));
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        entries.sort_by_key(|e| e.0);
        if let Some(TokenType::StringLiteral { .. }) = None::<TokenType> {}
        self.tables.push(ConstTable {
            name: name.to_string(),
            entries,
        });
        self.table_names.push(names);
        Some(Binding::Table(self.tables.len() - 1))
    }

    /// `m[k]` as an assignment target.
    pub(crate) fn index_target(
        &mut self,
        ve: &ast::VarExpression,
        span: Span,
    ) -> Option<Target<'a>> {
        let base = match ve.prefix() {
            ast::Prefix::Name(t) => self.name(&ident_ref(t), sp(t)),
            _ => {
                self.err(span, "only map elements can be assigned", None);
                return None;
            }
        };
        let sufs: Vec<_> = ve.suffixes().collect();
        match (base, sufs.as_slice()) {
            (LVal::Map(m, _), [ast::Suffix::Index(ast::Index::Brackets { expression, .. })]) => {
                let key = self.expr(expression);
                Some(Target::Map {
                    map: m,
                    key: self.arena.alloc(key),
                })
            }
            (LVal::Table(..), _) => {
                self.err(
                    span,
                    "constant tables are read-only",
                    Some("keep state that changes in a map"),
                );
                None
            }
            (LVal::Global(g, s), _) => {
                self.global_error(&g, s);
                None
            }
            (LVal::Error(_), _) => None,
            _ => {
                self.err(
                    span,
                    "only map elements can be assigned through an index",
                    Some("tables built at run time are not supported"),
                );
                None
            }
        }
    }
}
