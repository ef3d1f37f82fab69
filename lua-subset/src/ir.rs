//! The arena IR: names resolved, constants folded where the front end can, every
//! node with its [`Span`]. Built by [`crate::lower`], read by [`crate::types`] and
//! [`crate::codegen`].

use crate::diag::Span;

/// A local variable (parameters and loop variables included), unique per program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);

/// A local function; `FuncId(0)` is never used, the main function is last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FuncId(pub u32);

/// A compile-time constant value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Konst {
    Nil,
    Bool(bool),
    Int(i64),
}

/// Binary operators on values (not `and`/`or`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    IDiv,
    Mod,
    BAnd,
    BOr,
    BXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    BNot,
    Not,
}

/// An expression.
#[derive(Clone, Copy, Debug)]
pub struct Expr<'a> {
    pub kind: ExprKind<'a>,
    pub span: Span,
}

/// Expression forms.
#[derive(Clone, Copy, Debug)]
pub enum ExprKind<'a> {
    Const(Konst),
    Var(VarId),
    /// `x.len` where `x` holds the packet.
    PktLen(&'a Expr<'a>),
    /// `x:u8(off)` etc.; `size` is 1, 2 or 4.
    PktLoad {
        pkt: &'a Expr<'a>,
        size: u8,
        off: &'a Expr<'a>,
    },
    /// `m[k]`.
    MapGet {
        map: usize,
        key: &'a Expr<'a>,
    },
    /// A constant table indexed at run time.
    TableGet {
        table: usize,
        key: &'a Expr<'a>,
    },
    Unary(UnOp, &'a Expr<'a>),
    Binary(BinOp, &'a Expr<'a>, &'a Expr<'a>),
    And(&'a Expr<'a>, &'a Expr<'a>),
    Or(&'a Expr<'a>, &'a Expr<'a>),
    Call {
        func: FuncId,
        args: &'a [Expr<'a>],
    },
    /// `math.min`/`math.max`.
    MinMax {
        max: bool,
        args: &'a [Expr<'a>],
    },
    Abs(&'a Expr<'a>),
}

/// A statement.
#[derive(Clone, Copy, Debug)]
pub struct Stmt<'a> {
    pub kind: StmtKind<'a>,
    pub span: Span,
}

/// Assignment targets.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Var(VarId),
    Map { map: usize, key: &'a Expr<'a> },
}

/// A block of statements.
pub type Block<'a> = &'a [Stmt<'a>];

/// Statement forms.
#[derive(Clone, Copy, Debug)]
pub enum StmtKind<'a> {
    /// `local a, b = x, y`: a slot per name (`None` for folded constants).
    Local {
        vars: &'a [Option<VarId>],
        values: &'a [Expr<'a>],
    },
    Assign {
        targets: &'a [(Target<'a>, Span)],
        values: &'a [Expr<'a>],
    },
    /// An expression evaluated for its effects (a call).
    Eval(Expr<'a>),
    If {
        arms: &'a [(Expr<'a>, Block<'a>)],
        otherwise: Option<Block<'a>>,
    },
    NumFor {
        var: VarId,
        start: Expr<'a>,
        limit: Expr<'a>,
        step: i64,
        body: Block<'a>,
    },
    While {
        cond: Expr<'a>,
        body: Block<'a>,
    },
    Repeat {
        body: Block<'a>,
        cond: Expr<'a>,
    },
    Do(Block<'a>),
    Break,
    Return(Option<Expr<'a>>),
}

/// A local function (or the main one).
#[derive(Clone, Copy, Debug)]
pub struct Func<'a> {
    pub name: &'a str,
    pub params: &'a [VarId],
    pub body: Block<'a>,
    pub span: Span,
}

/// Map kinds of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapType {
    Hash,
    Array,
}

/// A top-level map declaration.
#[derive(Clone, Debug)]
pub struct MapDecl {
    pub name: String,
    pub kind: MapType,
    /// Key width in bytes (4 or 8; arrays 4).
    pub key_size: u32,
    /// Value width in bytes (4 or 8).
    pub value_size: u32,
    pub entries: u32,
    pub span: Span,
}

/// A top-level table of constants (integer keys only; name keys fold away).
#[derive(Clone, Debug)]
pub struct ConstTable {
    pub name: String,
    pub entries: Vec<(i64, Konst)>,
}

/// Facts about a variable that passes need.
#[derive(Clone, Debug, Default)]
pub struct VarInfo<'a> {
    /// The name declared (in the IR's arena).
    pub name: &'a str,
    /// Assigned after its declaration somewhere.
    pub mutated: bool,
    /// Declared by `local x` without a value (nil until assigned).
    pub span: Span,
}

/// A whole lowered program.
#[derive(Debug)]
pub struct Module<'a> {
    pub funcs: Vec<Func<'a>>,
    /// The function the chunk returns.
    pub main: FuncId,
    pub maps: Vec<MapDecl>,
    pub tables: Vec<ConstTable>,
    pub vars: Vec<VarInfo<'a>>,
}
