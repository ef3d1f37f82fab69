//! One line of tokens to a statement: an instruction (whose jump targets and map
//! names are resolved later, in [`super::assemble`]) or a `.map` directive.

use super::lexer::{Tok, Token};
use super::AsmError;
use crate::isa::{AluOp, AtomicOp, Endian, JmpOp, Op, Reg, Size, Src, Width};
use crate::program::{MapDef, MapKind};

/// Where a jump or local call goes.
#[derive(Clone, Copy, Debug)]
pub(super) enum Target<'a> {
    /// A label name and its column.
    Label(&'a str, usize),
    /// A literal `+N`/`-N` offset (relative to the next slot) and its column.
    Offset(i64, usize),
}

/// The kinds of jump-like instructions whose offset needs the label table.
#[derive(Clone, Copy, Debug)]
pub(super) enum JumpKind {
    /// `ja`: 16-bit offset.
    Ja,
    /// `ja32`/`gotol`: 32-bit offset in the immediate.
    Gotol,
    /// `may_goto`: 16-bit offset.
    MayGoto,
    /// `call local`: 32-bit offset in the immediate.
    CallLocal,
    /// A conditional jump: 16-bit offset.
    Cond {
        width: Width,
        op: JmpOp,
        dst: Reg,
        src: Src,
    },
}

/// How `lddw` names a map.
#[derive(Clone, Copy, Debug)]
pub(super) enum MapRef<'a> {
    /// By `.map` name.
    Name(&'a str),
    /// By index into the declared maps (what the disassembler prints for maps it has no name for).
    Index(u64),
}

/// An instruction, possibly waiting for labels or maps.
#[derive(Clone, Copy, Debug)]
pub(super) enum Item<'a> {
    /// Fully known.
    Op(Op),
    /// Needs its target resolved.
    Jump { kind: JumpKind, target: Target<'a> },
    /// `lddw dst, map:NAME` (`value_off` None) or `map_value:NAME+OFF`.
    Map {
        dst: Reg,
        map: MapRef<'a>,
        map_col: usize,
        value_off: Option<u32>,
    },
}

impl Item<'_> {
    /// Slots the instruction takes.
    pub(super) fn slots(&self) -> usize {
        match self {
            Item::Op(op) => op.slots(),
            Item::Jump { .. } => 1,
            Item::Map { .. } => 2,
        }
    }
}

/// What one line holds besides an optional label.
#[derive(Clone, Debug)]
pub(super) enum Stmt<'a> {
    /// An instruction and the column of its mnemonic.
    Insn(Item<'a>, usize),
    /// A `.map` directive and the column of the map name.
    Map(MapDef, usize),
}

/// A parsed line.
#[derive(Clone, Debug, Default)]
pub(super) struct Line<'a> {
    pub label: Option<(&'a str, usize)>,
    pub stmt: Option<Stmt<'a>>,
}

/// Parses the tokens of line `line` (whose text is `eol_col - 1` characters long).
pub(super) fn parse_line<'a>(
    toks: &[Token<'a>],
    line: usize,
    eol_col: usize,
) -> Result<Line<'a>, AsmError> {
    let mut c = Cursor {
        toks,
        pos: 0,
        line,
        eol_col,
    };
    let mut out = Line::default();
    if let (Some(Tok::Ident(name)), Some(Tok::Punct(':'))) = (c.peek(), c.peek_at(1)) {
        if !name.starts_with('.') {
            out.label = Some((name, c.col()));
            c.pos += 2;
        }
    }
    let Some(tok) = c.peek() else {
        return Ok(out);
    };
    let col = c.col();
    let Tok::Ident(word) = tok else {
        return Err(c.err(format!("expected a mnemonic, found {}", describe(tok))));
    };
    c.pos += 1;
    let stmt = if word == ".map" {
        let (def, name_col) = map_directive(&mut c)?;
        Stmt::Map(def, name_col)
    } else if word.starts_with('.') {
        return Err(AsmError::new(
            line,
            col,
            format!("unknown directive {word}"),
        ));
    } else {
        let item = instruction(word, col, &mut c)?;
        Stmt::Insn(item, col)
    };
    c.end()?;
    out.stmt = Some(stmt);
    Ok(out)
}

fn describe(tok: Tok<'_>) -> String {
    match tok {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Reg(n) => format!("register %r{n}"),
        Tok::Num(n) => format!("number {n}"),
        Tok::Punct(p) => format!("`{p}`"),
    }
}

struct Cursor<'t, 'a> {
    toks: &'t [Token<'a>],
    pos: usize,
    line: usize,
    eol_col: usize,
}

impl<'a> Cursor<'_, 'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> Option<Tok<'a>> {
        self.toks.get(self.pos + n).map(|t| t.tok)
    }

    /// Column of the current token, or just past the end of the line.
    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.eol_col, |t| t.col)
    }

    fn err(&self, message: impl Into<String>) -> AsmError {
        AsmError::new(self.line, self.col(), message)
    }

    fn expected(&self, what: &str) -> AsmError {
        match self.peek() {
            Some(t) => self.err(format!("expected {what}, found {}", describe(t))),
            None => self.err(format!("expected {what} at the end of the line")),
        }
    }

    fn end(&self) -> Result<(), AsmError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(self.err(format!("unexpected {} after the instruction", describe(t)))),
        }
    }

    fn eat_punct(&mut self, p: char) -> bool {
        if self.peek() == Some(Tok::Punct(p)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn punct(&mut self, p: char) -> Result<(), AsmError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{p}`")))
        }
    }

    fn comma(&mut self) -> Result<(), AsmError> {
        self.punct(',')
    }

    fn eat_ident(&mut self, word: &str) -> bool {
        if self.peek() == Some(Tok::Ident(word)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self, what: &str) -> Result<(&'a str, usize), AsmError> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let col = self.col();
                self.pos += 1;
                Ok((s, col))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn reg(&mut self) -> Result<Reg, AsmError> {
        match self.peek() {
            Some(Tok::Reg(n)) => {
                self.pos += 1;
                Reg::new(n).ok_or_else(|| self.err("bad register"))
            }
            _ => Err(self.expected("a register")),
        }
    }

    /// An optionally signed number, with the column of its first token.
    fn signed(&mut self, what: &str) -> Result<(i128, usize), AsmError> {
        let col = self.col();
        let neg = if self.eat_punct('-') {
            true
        } else {
            self.eat_punct('+');
            false
        };
        match self.peek() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                let v = n as i128;
                Ok((if neg { -v } else { v }, col))
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A number that fits the 32-bit immediate: signed, or unsigned up to `0xffffffff`
    /// (stored as its two's complement bits).
    fn imm32(&mut self) -> Result<i32, AsmError> {
        let (v, col) = self.signed("an immediate")?;
        if !(i32::MIN as i128..=u32::MAX as i128).contains(&v) {
            return Err(AsmError::new(
                self.line,
                col,
                format!("immediate {v} does not fit in 32 bits"),
            ));
        }
        Ok(v as u32 as i32)
    }

    fn reg_or_imm(&mut self) -> Result<Src, AsmError> {
        if let Some(Tok::Reg(_)) = self.peek() {
            Ok(Src::Reg(self.reg()?))
        } else if matches!(self.peek(), Some(Tok::Num(_) | Tok::Punct('-' | '+'))) {
            Ok(Src::Imm(self.imm32()?))
        } else {
            Err(self.expected("a register or an immediate"))
        }
    }

    /// `[%rN]`, `[%rN+off]` or `[%rN-off]`.
    fn mem(&mut self) -> Result<(Reg, i16), AsmError> {
        self.punct('[')?;
        let base = self.reg()?;
        let off = if matches!(self.peek(), Some(Tok::Punct('+' | '-'))) {
            let (v, col) = self.signed("an offset")?;
            i16::try_from(v).map_err(|_| {
                AsmError::new(
                    self.line,
                    col,
                    format!("offset {v} out of range (-32768..=32767)"),
                )
            })?
        } else {
            0
        };
        self.punct(']')?;
        Ok((base, off))
    }

    fn target(&mut self) -> Result<Target<'a>, AsmError> {
        let col = self.col();
        match self.peek() {
            Some(Tok::Ident(s)) => {
                self.pos += 1;
                Ok(Target::Label(s, col))
            }
            Some(Tok::Num(_) | Tok::Punct('+' | '-')) => {
                let (v, col) = self.signed("a jump offset")?;
                let v = i64::try_from(v)
                    .map_err(|_| AsmError::new(self.line, col, "jump offset out of range"))?;
                Ok(Target::Offset(v, col))
            }
            _ => Err(self.expected("a label or a +N/-N offset")),
        }
    }
}

/// `.map NAME KIND key=K value=V entries=N`
fn map_directive(c: &mut Cursor<'_, '_>) -> Result<(MapDef, usize), AsmError> {
    let (name, name_col) = c.ident("a map name")?;
    let kind_col = c.col();
    let (kind, _) = c.ident("a map kind (hash, array, percpu_hash, percpu_array)")?;
    let kind = match kind {
        "hash" => MapKind::Hash,
        "array" => MapKind::Array,
        "percpu_hash" => MapKind::PercpuHash,
        "percpu_array" => MapKind::PercpuArray,
        k => {
            return Err(AsmError::new(
                c.line,
                kind_col,
                format!("unknown map kind {k} (hash, array, percpu_hash, percpu_array)"),
            ))
        }
    };
    let (mut key, mut value, mut entries) = (None, None, None);
    while c.peek().is_some() {
        let (field, col) = c.ident("key=, value= or entries=")?;
        c.punct('=')?;
        let (v, vcol) = c.signed("a size")?;
        let slot = match field {
            "key" => &mut key,
            "value" => &mut value,
            "entries" => &mut entries,
            f => {
                return Err(AsmError::new(
                    c.line,
                    col,
                    format!("unknown map attribute {f} (key, value, entries)"),
                ))
            }
        };
        if slot.is_some() {
            return Err(AsmError::new(c.line, col, format!("{field} given twice")));
        }
        let v = u32::try_from(v).ok().filter(|&v| v > 0).ok_or_else(|| {
            AsmError::new(
                c.line,
                vcol,
                format!("{field} must be between 1 and 2^32-1"),
            )
        })?;
        *slot = Some((v, vcol));
    }
    let missing = |f: &str| c.err(format!("missing {f}=N"));
    let (key_size, key_col) = key.ok_or_else(|| missing("key"))?;
    let (value_size, _) = value.ok_or_else(|| missing("value"))?;
    let (max_entries, _) = entries.ok_or_else(|| missing("entries"))?;
    if kind.is_array() && key_size != 4 {
        return Err(AsmError::new(
            c.line,
            key_col,
            "array maps have 4-byte keys (key=4)",
        ));
    }
    let def = MapDef {
        name: name.to_string(),
        kind,
        key_size,
        value_size,
        max_entries,
    };
    Ok((def, name_col))
}

const ALU_OPS: &[(&str, AluOp)] = &[
    ("add", AluOp::Add),
    ("sub", AluOp::Sub),
    ("mul", AluOp::Mul),
    ("div", AluOp::Div),
    ("sdiv", AluOp::Sdiv),
    ("or", AluOp::Or),
    ("and", AluOp::And),
    ("lsh", AluOp::Lsh),
    ("rsh", AluOp::Rsh),
    ("mod", AluOp::Mod),
    ("smod", AluOp::Smod),
    ("xor", AluOp::Xor),
    ("mov", AluOp::Mov),
    ("arsh", AluOp::Arsh),
];

const JMP_OPS: &[(&str, JmpOp)] = &[
    ("jeq", JmpOp::Eq),
    ("jgt", JmpOp::Gt),
    ("jge", JmpOp::Ge),
    ("jset", JmpOp::Set),
    ("jne", JmpOp::Ne),
    ("jsgt", JmpOp::Sgt),
    ("jsge", JmpOp::Sge),
    ("jlt", JmpOp::Lt),
    ("jle", JmpOp::Le),
    ("jslt", JmpOp::Slt),
    ("jsle", JmpOp::Sle),
];

const SIZES: &[(&str, Size)] = &[
    ("b", Size::B),
    ("h", Size::H),
    ("w", Size::W),
    ("dw", Size::DW),
];

const ATOMIC_OPS: &[(&str, AtomicOp)] = &[
    ("add", AtomicOp::Add),
    ("or", AtomicOp::Or),
    ("and", AtomicOp::And),
    ("xor", AtomicOp::Xor),
    ("xchg", AtomicOp::Xchg),
    ("cmpxchg", AtomicOp::Cmpxchg),
];

fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
}

/// `add32` → (`add`, 32-bit); `add` → (`add`, 64-bit).
fn split_width(m: &str) -> (&str, Width) {
    match m.strip_suffix("32") {
        Some(base) if !base.is_empty() => (base, Width::W32),
        _ => (m, Width::W64),
    }
}

fn instruction<'a>(m: &'a str, col: usize, c: &mut Cursor<'_, 'a>) -> Result<Item<'a>, AsmError> {
    let op = match m {
        "exit" => Op::Exit,
        "ja" => return jump(c, JumpKind::Ja),
        "ja32" | "gotol" => return jump(c, JumpKind::Gotol),
        "may_goto" => return jump(c, JumpKind::MayGoto),
        "call" => return call(c),
        "callx" => Op::CallReg { reg: c.reg()? },
        "lddw" => return lddw(c),
        "lock" => atomic(c)?,
        "neg" | "neg32" => Op::Neg {
            width: split_width(m).1,
            dst: c.reg()?,
        },
        _ => {
            if let Some(op) = endian(m, c)? {
                op
            } else if let Some(op) = movsx(m, c)? {
                op
            } else if let Some(op) = memory(m, c)? {
                op
            } else {
                return alu_or_jmp(m, col, c);
            }
        }
    };
    Ok(Item::Op(op))
}

fn alu_or_jmp<'a>(m: &'a str, col: usize, c: &mut Cursor<'_, 'a>) -> Result<Item<'a>, AsmError> {
    let (base, width) = split_width(m);
    if let Some(op) = lookup(ALU_OPS, base) {
        let dst = c.reg()?;
        c.comma()?;
        let src = c.reg_or_imm()?;
        Ok(Item::Op(Op::Alu {
            width,
            op,
            dst,
            src,
        }))
    } else if let Some(op) = lookup(JMP_OPS, base) {
        let dst = c.reg()?;
        c.comma()?;
        let src = c.reg_or_imm()?;
        c.comma()?;
        jump(
            c,
            JumpKind::Cond {
                width,
                op,
                dst,
                src,
            },
        )
    } else {
        Err(AsmError::new(c.line, col, format!("unknown mnemonic {m}")))
    }
}

fn jump<'a>(c: &mut Cursor<'_, 'a>, kind: JumpKind) -> Result<Item<'a>, AsmError> {
    let target = c.target()?;
    Ok(Item::Jump { kind, target })
}

/// `call N`, `call helper N`, `call local TARGET`, `call %rN`.
fn call<'a>(c: &mut Cursor<'_, 'a>) -> Result<Item<'a>, AsmError> {
    if c.eat_ident("local") {
        return jump(c, JumpKind::CallLocal);
    }
    if let Some(Tok::Reg(_)) = c.peek() {
        return Ok(Item::Op(Op::CallReg { reg: c.reg()? }));
    }
    c.eat_ident("helper");
    Ok(Item::Op(Op::Call { helper: c.imm32()? }))
}

/// `lddw %rN, IMM64`, `lddw %rN, map:NAME`, `lddw %rN, map_value:NAME+OFF`.
fn lddw<'a>(c: &mut Cursor<'_, 'a>) -> Result<Item<'a>, AsmError> {
    let dst = c.reg()?;
    c.comma()?;
    let value = c.eat_ident("map_value");
    if value || c.eat_ident("map") {
        c.punct(':')?;
        let map_col = c.col();
        let map = match c.peek() {
            Some(Tok::Ident(name)) => MapRef::Name(name),
            Some(Tok::Num(n)) => MapRef::Index(n),
            _ => return Err(c.expected("a map name")),
        };
        c.pos += 1;
        let value_off = if value {
            let off = if c.peek().is_some() {
                let (v, col) = c.signed("an offset into the map value")?;
                Some(u32::try_from(v).map_err(|_| {
                    AsmError::new(c.line, col, format!("map value offset {v} out of range"))
                })?)
            } else {
                None
            };
            Some(off.unwrap_or(0))
        } else {
            None
        };
        return Ok(Item::Map {
            dst,
            map,
            map_col,
            value_off,
        });
    }
    let (v, col) = c.signed("a 64-bit immediate or map:NAME")?;
    if !(i64::MIN as i128..=u64::MAX as i128).contains(&v) {
        return Err(AsmError::new(
            c.line,
            col,
            format!("immediate {v} does not fit in 64 bits"),
        ));
    }
    Ok(Item::Op(Op::LoadImm64 {
        dst,
        value: v as u64,
    }))
}

/// `lock [fetch] OP[32] [%rN+off], %rM` (also `fetch_OP`).
fn atomic(c: &mut Cursor<'_, '_>) -> Result<Op, AsmError> {
    let mut fetch = c.eat_ident("fetch");
    let (word, col) = c.ident("an atomic operation (add, or, and, xor, xchg, cmpxchg)")?;
    let (base, width) = split_width(word);
    let base = match base.strip_prefix("fetch_") {
        Some(b) if !fetch => {
            fetch = true;
            b
        }
        _ => base,
    };
    let op = lookup(ATOMIC_OPS, base)
        .ok_or_else(|| AsmError::new(c.line, col, format!("unknown atomic operation {word}")))?;
    if matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) {
        fetch = true;
    }
    let (base, off) = c.mem()?;
    c.comma()?;
    let src = c.reg()?;
    Ok(Op::Atomic {
        width,
        op,
        fetch,
        base,
        off,
        src,
    })
}

/// `le16`…`be64`, `swap16`…, `bswap16`….
fn endian(m: &str, c: &mut Cursor<'_, '_>) -> Result<Option<Op>, AsmError> {
    let (kind, bits) = if let Some(b) = m.strip_prefix("le") {
        (Endian::Le, b)
    } else if let Some(b) = m.strip_prefix("be") {
        (Endian::Be, b)
    } else if let Some(b) = m.strip_prefix("bswap").or_else(|| m.strip_prefix("swap")) {
        (Endian::Swap, b)
    } else {
        return Ok(None);
    };
    let bits = match bits {
        "16" => 16,
        "32" => 32,
        "64" => 64,
        _ => return Ok(None),
    };
    Ok(Some(Op::Endian {
        kind,
        bits,
        dst: c.reg()?,
    }))
}

/// `movsx832`, `movsx864`, `movsx1632`, `movsx1664`, `movsx3264`: from-bits then width.
fn movsx(m: &str, c: &mut Cursor<'_, '_>) -> Result<Option<Op>, AsmError> {
    let Some(rest) = m.strip_prefix("movsx") else {
        return Ok(None);
    };
    let (op, width) = match rest {
        "832" => (AluOp::Movsx8, Width::W32),
        "864" => (AluOp::Movsx8, Width::W64),
        "1632" => (AluOp::Movsx16, Width::W32),
        "1664" => (AluOp::Movsx16, Width::W64),
        "3264" => (AluOp::Movsx32, Width::W64),
        _ => return Ok(None),
    };
    let dst = c.reg()?;
    c.comma()?;
    let src = Src::Reg(c.reg()?);
    Ok(Some(Op::Alu {
        width,
        op,
        dst,
        src,
    }))
}

/// `ldx{b,h,w,dw}`, `ldxs{b,h,w}`, `st{b,h,w,dw}`, `stx{b,h,w,dw}`.
fn memory(m: &str, c: &mut Cursor<'_, '_>) -> Result<Option<Op>, AsmError> {
    if let Some(sz) = m.strip_prefix("ldx") {
        let (signed, sz) = match sz.strip_prefix('s') {
            Some(s) if s != "dw" => (true, s),
            _ => (false, sz),
        };
        let Some(size) = lookup(SIZES, sz) else {
            return Ok(None);
        };
        let dst = c.reg()?;
        c.comma()?;
        let (base, off) = c.mem()?;
        return Ok(Some(Op::Load {
            size,
            signed,
            dst,
            base,
            off,
        }));
    }
    let (by_reg, sz) = match m.strip_prefix("stx") {
        Some(sz) => (true, sz),
        None => match m.strip_prefix("st") {
            Some(sz) => (false, sz),
            None => return Ok(None),
        },
    };
    let Some(size) = lookup(SIZES, sz) else {
        return Ok(None);
    };
    let (base, off) = c.mem()?;
    c.comma()?;
    let src = if by_reg {
        Src::Reg(c.reg()?)
    } else {
        Src::Imm(c.imm32()?)
    };
    Ok(Some(Op::Store {
        size,
        base,
        off,
        src,
    }))
}
