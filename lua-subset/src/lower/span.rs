//! Spans of expressions (and statements ending in one) without full_moon's quadratic walk.
//!
//! The derived `Node::start_position` of an expression computes the node's
//! whole range (start *and* end) of every child on the way down, so one
//! [`super::sp`] visits the whole subtree, and lowering, which takes the span
//! of every expression, pays for each subtree once per level. Here the start
//! follows only the left spine and the end only the right one; the other node
//! kinds, whose range is cheap, still ask full_moon.

use crate::diag::Span;
use full_moon::ast::punctuated::{Pair, Punctuated};
use full_moon::ast::{self, Expression};
use full_moon::node::Node;
use full_moon::tokenizer::TokenReference;

/// The span of `e`: the same as [`super::sp`]`(e)` for every expression full_moon
/// parses (each has a first and a last token).
pub(crate) fn expr_span(e: &Expression) -> Span {
    match (start(e), end(e)) {
        (Some(a), Some(b)) => Span::new(a, b),
        _ => Span::default(),
    }
}

/// The token an expression consists of, if it is a single one.
fn leaf(e: &Expression) -> Option<&TokenReference> {
    match e {
        Expression::Number(t) | Expression::String(t) | Expression::Symbol(t) => Some(t),
        Expression::Var(ast::Var::Name(t)) => Some(t),
        _ => None,
    }
}

/// Byte offset where `e` starts.
fn start(e: &Expression) -> Option<usize> {
    if let Some(t) = leaf(e) {
        return Some(token_start(t));
    }
    match e {
        Expression::BinaryOperator { lhs, .. } => start(lhs),
        Expression::FunctionCall(c) => prefix_start(c.prefix()),
        Expression::Var(ast::Var::Expression(v)) => prefix_start(v.prefix()),
        Expression::UnaryOperator { unop, .. } => Some(token_start(unop.token())),
        Expression::Parentheses { contained, .. } => {
            Some(contained.tokens().0.token().start_position().bytes())
        }
        _ => e.start_position().map(|p| p.bytes()),
    }
}

/// Byte offset where `e` ends.
fn end(e: &Expression) -> Option<usize> {
    if let Some(t) = leaf(e) {
        return Some(t.token().end_position().bytes());
    }
    match e {
        Expression::BinaryOperator { rhs, .. } => end(rhs),
        Expression::FunctionCall(c) => suffixed_end(c.prefix(), c.suffixes()),
        Expression::Var(ast::Var::Expression(v)) => suffixed_end(v.prefix(), v.suffixes()),
        Expression::UnaryOperator { expression, .. } => end(expression),
        Expression::Parentheses { contained, .. } => {
            Some(contained.tokens().1.token().end_position().bytes())
        }
        _ => e.end_position().map(|p| p.bytes()),
    }
}

/// Byte offset where a call's or an indexing's prefix starts.
fn prefix_start(p: &ast::Prefix) -> Option<usize> {
    match p {
        ast::Prefix::Name(t) => Some(token_start(t)),
        ast::Prefix::Expression(e) => start(e),
        _ => p.start_position().map(|p| p.bytes()),
    }
}

/// Byte offset where a prefix with suffixes ends: the last suffix ends with
/// a token (a bracket, a name or the arguments' parenthesis).
fn suffixed_end<'s>(
    p: &ast::Prefix,
    suffixes: impl Iterator<Item = &'s ast::Suffix>,
) -> Option<usize> {
    match suffixes.last() {
        Some(s) => s.end_position().map(|p| p.bytes()),
        None => match p {
            ast::Prefix::Name(t) => Some(t.token().end_position().bytes()),
            ast::Prefix::Expression(e) => end(e),
            _ => p.end_position().map(|p| p.bytes()),
        },
    }
}

/// The span of a statement, the same as [`super::sp`]`(s)`: assignments end
/// with an expression, whose end [`expr_span`]'s walk finds; other statements
/// end with a token and ask full_moon.
pub(crate) fn stmt_span(s: &ast::Stmt) -> Span {
    let fast = match s {
        ast::Stmt::LocalAssignment(la) => {
            through_last(Some(token_start(la.local_token())), la.expressions())
        }
        ast::Stmt::Assignment(a) => {
            let first = a.variables().iter().next().and_then(Node::start_position);
            through_last(first.map(|p| p.bytes()), a.expressions())
        }
        _ => None,
    };
    fast.unwrap_or_else(|| super::sp(s))
}

/// The span of a last statement, as [`stmt_span`].
pub(crate) fn last_stmt_span(s: &ast::LastStmt) -> Span {
    let fast = match s {
        ast::LastStmt::Return(r) => through_last(Some(token_start(r.token())), r.returns()),
        _ => None,
    };
    fast.unwrap_or_else(|| super::sp(s))
}

/// From `start` through the last expression of `list`; `None` when the list
/// is empty or ends with a separator (full_moon's range then ends elsewhere).
fn through_last(start: Option<usize>, list: &Punctuated<Expression>) -> Option<Span> {
    let Some(Pair::End(last)) = list.last() else {
        return None;
    };
    Some(Span::new(start?, end(last)?))
}

fn token_start(t: &TokenReference) -> usize {
    t.token().start_position().bytes()
}
