//! Raw slots to typed [`Op`]s, rejecting every malformed instruction with its index.

use super::fast::{decode_fast, FastOut};
use super::opcode::*;
#[cfg(test)]
use super::shape::jump_targets;
use super::shape::{OpShape, Shape};
use super::{AluOp, AtomicOp, Endian, Insn, JmpOp, Op, Reg, Size, Src, Width};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// Why an instruction was rejected, with its slot index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("instruction {index}: {reason}")]
pub struct DecodeError {
    /// Slot index of the offending instruction.
    pub index: usize,
    /// What is wrong with it.
    pub reason: String,
}

fn err<T>(index: usize, reason: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError {
        index,
        reason: reason.into(),
    })
}

/// Decodes a whole program: one [`Op`] per slot. Besides each instruction's own
/// fields it checks what every engine relies on: jump and call targets inside the
/// program and never on the second half of `lddw`, `lddw` complete, and no fall-through
/// off the end.
pub fn decode_program(insns: &[Insn]) -> Result<Vec<Op>, DecodeError> {
    decode_program_shape(insns).map(|(ops, _)| ops)
}

/// [`decode_program`], plus the program's [`Shape`] gathered on the way.
///
/// One pass with one dispatch per slot: common well-formed instructions take
/// the fast path (`fast.rs`: a table look-up and a few field checks); anything else, and
/// every error, goes through the full decoder, inlined here so its `Result`
/// stays in registers (through memory it stalled on store forwarding). Jump
/// targets are marked as they come and checked without branching on the kind
/// of op; only a program with a bad target is walked again, to report the
/// first one as the full check would.
pub fn decode_program_shape(insns: &[Insn]) -> Result<(Vec<Op>, Shape), DecodeError> {
    if insns.is_empty() {
        return err(0, "empty program");
    }
    let n = insns.len();
    let mut ops = Vec::with_capacity(n);
    // The extra last entry is where ops that do not jump "go".
    let mut targets = vec![false; n + 1];
    let (mut regs, mut kinds, mut bad_target) = (0u16, 0u8, false);
    // What every decoded op adds to the shape; `targets[n]` takes the marks
    // of ops that do not jump, so no branch asks whether one does.
    let mut add = |ops: &mut Vec<Op>, pc: usize, op: Op, shape: OpShape| {
        regs |= shape.regs;
        kinds |= shape.kinds;
        let t = pc as i64 + 1 + shape.off as i64;
        let inside = (t as u64) < n as u64;
        bad_target |= shape.jumps & !inside;
        targets[if shape.jumps & inside { t as usize } else { n }] = true;
        ops.push(op);
    };
    let mut i = 0;
    while i < n {
        // Each fast form adds its op where it builds it: merging the forms'
        // ops into one value first went through memory and stalled.
        if decode_fast(insns[i], &mut |op, shape| add(&mut ops, i, op, shape)) {
            i += 1;
            continue;
        }
        let op = decode_at(insns, i)?;
        add(&mut ops, i, op, OpShape::of(&op));
        if op.slots() == 2 {
            ops.push(Op::LddwHigh);
            i += 2;
        } else {
            i += 1;
        }
    }
    targets.truncate(n);
    let lddw_target = kinds & Shape::LDDW != 0
        && ops
            .iter()
            .zip(&targets)
            .any(|(op, &t)| t && *op == Op::LddwHigh);
    if bad_target || lddw_target {
        first_bad_target(&ops)?;
    }
    let last = ops.len() - 1;
    let last = if ops[last] == Op::LddwHigh {
        last - 1
    } else {
        last
    };
    if ops[last].falls_through() {
        return err(last, "execution falls off the end of the program");
    }
    let shape = Shape { regs, kinds };
    Ok((ops, shape))
}

/// What [`decode_each`] hands each decoded op to.
pub trait OpSink {
    /// The op of slot `pc`. Implement it `#[inline(always)]`: it is inlined
    /// into each form the decoder tells apart, where `op`'s kind is known.
    fn op(&mut self, pc: usize, op: Op);
}

impl<F: FnMut(usize, Op)> OpSink for F {
    #[inline(always)]
    fn op(&mut self, pc: usize, op: Op) {
        self(pc, op)
    }
}

/// Decodes a whole program as [`decode_program`] does (the same checks, the
/// same first error), handing each op to `f` with its slot index in slot order
/// (`lddw` as its op, then [`Op::LddwHigh`]) instead of collecting them: a
/// consumer inlined into `f` gets each common form already told apart, with
/// no second dispatch on the op. Ops before an error have been handed on by
/// the time it is returned.
#[inline(always)]
pub fn decode_each<S: OpSink>(insns: &[Insn], f: &mut S) -> Result<(), DecodeError> {
    let n = insns.len();
    if n == 0 {
        return err(0, "empty program");
    }
    let mut bad_target = false;
    let mut i = 0;
    while i < n {
        let mut out = EachOut {
            sink: &mut *f,
            insns,
            pc: i,
            bad_target: &mut bad_target,
        };
        let fast = decode_fast(insns[i], &mut out);
        if fast {
            i += 1;
            continue;
        }
        let op = slow_each(insns, i)?;
        bad_target |= bad_jump(insns, i, OpShape::of(&op));
        f.op(i, op);
        if op.slots() == 2 {
            f.op(i + 1, Op::LddwHigh);
            i += 2;
        } else {
            i += 1;
        }
    }
    if bad_target {
        // Walk once more to report the first bad target as the full check does.
        decode_program(insns)?;
    }
    // The last slot is `exit` or `ja` (fast forms), or the second half of an
    // `lddw` (which falls through), or something else that falls through.
    let last = if n >= 2 && is_lddw(insns[n - 2]) && insns[n - 1].code == 0 {
        n - 2
    } else {
        n - 1
    };
    if decode_at(insns, last)?.falls_through() {
        return err(last, "execution falls off the end of the program");
    }
    Ok(())
}

/// [`decode_each`]'s handler of fast forms, inlined into each.
struct EachOut<'a, S> {
    sink: &'a mut S,
    insns: &'a [Insn],
    pc: usize,
    bad_target: &'a mut bool,
}

impl<S: OpSink> FastOut for EachOut<'_, S> {
    #[inline(always)]
    fn out(&mut self, op: Op, s: OpShape) {
        *self.bad_target |= bad_jump(self.insns, self.pc, s);
        self.sink.op(self.pc, op);
    }
}

/// Whether the op at `pc` jumps outside the program or onto the second half
/// of an `lddw`. In a program whose every slot decodes that half is exactly
/// a slot after one with the `lddw` opcode (second halves have opcode 0), so
/// the check needs no decoded ops; in one that does not, the decoder's error
/// comes first anyway.
#[inline(always)]
fn bad_jump(insns: &[Insn], pc: usize, s: OpShape) -> bool {
    if !s.jumps {
        return false;
    }
    let t = pc as i64 + 1 + s.off as i64;
    match insns.get(t as usize) {
        Some(_) if t >= 0 => t > 0 && is_lddw(insns[t as usize - 1]),
        _ => true,
    }
}

/// The full decoder, kept out of line so [`decode_each`]'s consumer is
/// inlined once per fast form and once here rather than into every error path.
#[inline(never)]
fn slow_each(insns: &[Insn], i: usize) -> Result<Op, DecodeError> {
    decode_at(insns, i)
}

/// Whether the slot starts an `lddw` (of any kind).
fn is_lddw(insn: Insn) -> bool {
    insn.code == LDDW
}

/// The byte swap to big-endian (`be16/32/64`) or unconditional one
/// (`bswap16/32/64`) the slot holds, as `(bits, dst)`, if it holds one of
/// those; looks at nothing else (a malformed slot is the decoder's business).
/// (Inlined: it is asked after every load, and the opcode alone mostly answers.)
#[inline(always)]
pub fn byte_swap_of(insn: Insn) -> Option<(u8, Reg)> {
    if insn.code != BPF_ALU | BPF_END | BPF_TO_BE && insn.code != BPF_ALU64 | BPF_END {
        return None;
    }
    match insn.imm {
        16 | 32 | 64 => Some((insn.imm as u8, Reg::new(insn.dst())?)),
        _ => None,
    }
}

/// The first op, in slot order, whose target is outside the program or the
/// second half of `lddw`.
#[cold]
fn first_bad_target(ops: &[Op]) -> Result<(), DecodeError> {
    for (pc, op) in ops.iter().enumerate() {
        if let Some(t) = op.target(pc) {
            if t < 0 || t >= ops.len() as i64 {
                return err(
                    pc,
                    format!("jump target {t} outside the program (0..{})", ops.len()),
                );
            }
            if ops[t as usize] == Op::LddwHigh {
                return err(pc, format!("jump target {t} is the second half of lddw"));
            }
        }
    }
    Ok(())
}

/// Decodes the instruction at `i` (reading `i + 1` too for `lddw`).
pub fn decode_one(insns: &[Insn], i: usize) -> Result<Op, DecodeError> {
    decode_at(insns, i)
}

#[inline(always)]
fn decode_at(insns: &[Insn], i: usize) -> Result<Op, DecodeError> {
    let insn = insns[i];
    let code = insn.code;
    let class = code & CLASS_MASK;
    let dst = reg(i, insn.dst(), "destination")?;
    let src_n = insn.src();
    match class {
        BPF_ALU | BPF_ALU64 => decode_alu(i, insn, dst),
        BPF_JMP | BPF_JMP32 => decode_jmp(i, insn, dst),
        BPF_LD => decode_ld(insns, i, dst, src_n),
        BPF_LDX => {
            let size = size_of(code);
            let signed = match code & MODE_MASK {
                BPF_MEM => false,
                BPF_MEMSX if size != Size::DW => true,
                BPF_MEMSX => return err(i, "sign-extending load of 8 bytes does not exist"),
                _ => return err(i, format!("bad mode in LDX opcode {code:#04x}")),
            };
            zero(i, insn.imm as i64, "immediate")?;
            writable(i, dst)?;
            let base = reg(i, src_n, "source")?;
            Ok(Op::Load { size, signed, dst, base, off: insn.off })
        }
        BPF_ST => {
            if code & MODE_MASK != BPF_MEM {
                return err(i, format!("bad mode in ST opcode {code:#04x}"));
            }
            zero(i, src_n as i64, "source register")?;
            Ok(Op::Store { size: size_of(code), base: dst, off: insn.off, src: Src::Imm(insn.imm) })
        }
        _ /* BPF_STX */ => {
            let src = reg(i, src_n, "source")?;
            match code & MODE_MASK {
                BPF_MEM => {
                    zero(i, insn.imm as i64, "immediate")?;
                    Ok(Op::Store { size: size_of(code), base: dst, off: insn.off, src: Src::Reg(src) })
                }
                BPF_ATOMIC => {
                    let width = match size_of(code) {
                        Size::W => Width::W32,
                        Size::DW => Width::W64,
                        _ => return err(i, "atomic operations take only 4 or 8 bytes"),
                    };
                    let (op, fetch) = match insn.imm {
                        BPF_XCHG => (AtomicOp::Xchg, true),
                        BPF_CMPXCHG => (AtomicOp::Cmpxchg, true),
                        imm => {
                            let op = match imm & !BPF_FETCH {
                                0x00 => AtomicOp::Add,
                                0x40 => AtomicOp::Or,
                                0x50 => AtomicOp::And,
                                0xa0 => AtomicOp::Xor,
                                _ => return err(i, format!("unknown atomic operation {imm:#x}")),
                            };
                            (op, imm & BPF_FETCH != 0)
                        }
                    };
                    Ok(Op::Atomic { width, op, fetch, base: dst, off: insn.off, src })
                }
                _ => err(i, format!("bad mode in STX opcode {code:#04x}")),
            }
        }
    }
}

#[inline(always)]
fn reg(i: usize, n: u8, what: &str) -> Result<Reg, DecodeError> {
    Reg::new(n).ok_or_else(|| DecodeError {
        index: i,
        reason: format!("bad {what} register r{n}"),
    })
}

#[inline(always)]
fn writable(i: usize, r: Reg) -> Result<(), DecodeError> {
    if r == Reg::R10 {
        return err(i, "r10 is the read-only frame pointer");
    }
    Ok(())
}

#[inline(always)]
fn zero(i: usize, v: i64, field: &str) -> Result<(), DecodeError> {
    if v != 0 {
        return err(i, format!("reserved field {field} is {v}, must be 0"));
    }
    Ok(())
}

#[inline(always)]
fn size_of(code: u8) -> Size {
    match code & SIZE_MASK {
        BPF_W => Size::W,
        BPF_H => Size::H,
        BPF_B => Size::B,
        _ => Size::DW,
    }
}

#[inline(always)]
fn decode_alu(i: usize, insn: Insn, dst: Reg) -> Result<Op, DecodeError> {
    let code = insn.code;
    let width = if code & CLASS_MASK == BPF_ALU64 {
        Width::W64
    } else {
        Width::W32
    };
    let by_reg = code & SRC_MASK == BPF_X;
    writable(i, dst)?;
    let opc = code & OP_MASK;
    if opc == BPF_END {
        zero(i, insn.src() as i64, "source register")?;
        zero(i, insn.off as i64, "offset")?;
        let kind = match (width, by_reg) {
            (Width::W32, false) => Endian::Le,
            (Width::W32, true) => Endian::Be,
            (Width::W64, false) => Endian::Swap,
            (Width::W64, true) => {
                return err(i, "byte swap with the source bit set does not exist")
            }
        };
        return match insn.imm {
            16 | 32 | 64 => Ok(Op::Endian {
                kind,
                bits: insn.imm as u8,
                dst,
            }),
            n => err(i, format!("byte swap width {n} is not 16, 32 or 64")),
        };
    }
    if opc == BPF_NEG {
        if by_reg {
            return err(i, "neg has no register form");
        }
        zero(i, insn.src() as i64, "source register")?;
        zero(i, insn.off as i64, "offset")?;
        zero(i, insn.imm as i64, "immediate")?;
        return Ok(Op::Neg { width, dst });
    }
    let signed_off = |plain: AluOp, signed: AluOp| match insn.off {
        0 => Ok(plain),
        1 => Ok(signed),
        o => err(i, format!("offset {o} of a division must be 0 or 1")),
    };
    let op = match opc {
        BPF_ADD => AluOp::Add,
        BPF_SUB => AluOp::Sub,
        BPF_MUL => AluOp::Mul,
        BPF_DIV => signed_off(AluOp::Div, AluOp::Sdiv)?,
        BPF_MOD => signed_off(AluOp::Mod, AluOp::Smod)?,
        BPF_OR => AluOp::Or,
        BPF_AND => AluOp::And,
        BPF_LSH => AluOp::Lsh,
        BPF_RSH => AluOp::Rsh,
        BPF_XOR => AluOp::Xor,
        BPF_ARSH => AluOp::Arsh,
        BPF_MOV => match (insn.off, width, by_reg) {
            (0, _, _) => AluOp::Mov,
            (8, _, true) => AluOp::Movsx8,
            (16, _, true) => AluOp::Movsx16,
            (32, Width::W64, true) => AluOp::Movsx32,
            (o, _, _) => return err(i, format!("bad offset {o} for mov")),
        },
        _ => return err(i, format!("unknown ALU opcode {code:#04x}")),
    };
    if !matches!(
        op,
        AluOp::Sdiv | AluOp::Smod | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32
    ) {
        zero(i, insn.off as i64, "offset")?;
    }
    let src = if by_reg {
        zero(i, insn.imm as i64, "immediate")?;
        Src::Reg(reg(i, insn.src(), "source")?)
    } else {
        zero(i, insn.src() as i64, "source register")?;
        Src::Imm(insn.imm)
    };
    Ok(Op::Alu {
        width,
        op,
        dst,
        src,
    })
}

#[inline(always)]
fn decode_jmp(i: usize, insn: Insn, dst: Reg) -> Result<Op, DecodeError> {
    let code = insn.code;
    let width = if code & CLASS_MASK == BPF_JMP {
        Width::W64
    } else {
        Width::W32
    };
    let by_reg = code & SRC_MASK == BPF_X;
    let opc = code & OP_MASK;
    let no_operands = |what: &str| -> Result<(), DecodeError> {
        if by_reg {
            return err(i, format!("{what} has no register form"));
        }
        zero(i, insn.dst() as i64, "destination register")
    };
    let op = match opc {
        BPF_JA => {
            no_operands("ja")?;
            zero(i, insn.src() as i64, "source register")?;
            return match width {
                Width::W64 => {
                    zero(i, insn.imm as i64, "immediate")?;
                    Ok(Op::Ja {
                        off: insn.off as i32,
                    })
                }
                Width::W32 => {
                    zero(i, insn.off as i64, "offset")?;
                    Ok(Op::Ja { off: insn.imm })
                }
            };
        }
        BPF_CALL if width == Width::W64 => {
            zero(i, insn.off as i64, "offset")?;
            if by_reg {
                zero(i, insn.src() as i64, "source register")?;
                zero(i, insn.imm as i64, "immediate")?;
                return Ok(Op::CallReg { reg: dst });
            }
            zero(i, insn.dst() as i64, "destination register")?;
            return match insn.src() {
                0 => Ok(Op::Call { helper: insn.imm }),
                BPF_PSEUDO_CALL => Ok(Op::CallLocal { off: insn.imm }),
                s => err(i, format!("unsupported call kind (source {s})")),
            };
        }
        BPF_EXIT if width == Width::W64 => {
            no_operands("exit")?;
            zero(i, insn.src() as i64, "source register")?;
            zero(i, insn.off as i64, "offset")?;
            zero(i, insn.imm as i64, "immediate")?;
            return Ok(Op::Exit);
        }
        BPF_JCOND if width == Width::W64 => {
            no_operands("may_goto")?;
            if insn.src() != BPF_MAY_GOTO {
                return err(i, format!("unknown conditional pseudo-jump {}", insn.src()));
            }
            zero(i, insn.imm as i64, "immediate")?;
            return Ok(Op::MayGoto { off: insn.off });
        }
        o => match cond_jmp(o) {
            Some(op) => op,
            None => return err(i, format!("unknown jump opcode {code:#04x}")),
        },
    };
    let src = if by_reg {
        zero(i, insn.imm as i64, "immediate")?;
        Src::Reg(reg(i, insn.src(), "source")?)
    } else {
        zero(i, insn.src() as i64, "source register")?;
        Src::Imm(insn.imm)
    };
    Ok(Op::Jmp {
        width,
        op,
        dst,
        src,
        off: insn.off,
    })
}

#[inline(always)]
fn decode_ld(insns: &[Insn], i: usize, dst: Reg, src: u8) -> Result<Op, DecodeError> {
    let code = insns[i].code;
    match code & MODE_MASK {
        BPF_IMM if code & SIZE_MASK == BPF_DW => {}
        BPF_ABS | BPF_IND => {
            return err(i, "legacy packet access (BPF_ABS/BPF_IND) is not supported")
        }
        _ => return err(i, format!("bad LD opcode {code:#04x}")),
    }
    writable(i, dst)?;
    zero(i, insns[i].off as i64, "offset")?;
    let Some(hi) = insns.get(i + 1) else {
        return err(i, "lddw is missing its second half");
    };
    if hi.code != 0 || hi.regs != 0 || hi.off != 0 {
        return err(
            i + 1,
            "second half of lddw must have zero opcode, registers and offset",
        );
    }
    let lo = insns[i].imm as u32;
    match src {
        0 => Ok(Op::LoadImm64 {
            dst,
            value: (lo as u64) | ((hi.imm as u32 as u64) << 32),
        }),
        BPF_PSEUDO_MAP_FD => {
            zero(i + 1, hi.imm as i64, "immediate")?;
            Ok(Op::LoadMap { dst, map: lo })
        }
        BPF_PSEUDO_MAP_VALUE => Ok(Op::LoadMapValue {
            dst,
            map: lo,
            offset: hi.imm as u32,
        }),
        s => err(i, format!("unsupported lddw pseudo source {s}")),
    }
}

/// The conditional jump named by a jump opcode's operation bits.
pub(super) const fn cond_jmp(op: u8) -> Option<JmpOp> {
    Some(match op {
        BPF_JEQ => JmpOp::Eq,
        BPF_JGT => JmpOp::Gt,
        BPF_JGE => JmpOp::Ge,
        BPF_JSET => JmpOp::Set,
        BPF_JNE => JmpOp::Ne,
        BPF_JSGT => JmpOp::Sgt,
        BPF_JSGE => JmpOp::Sge,
        BPF_JLT => JmpOp::Lt,
        BPF_JLE => JmpOp::Le,
        BPF_JSLT => JmpOp::Slt,
        BPF_JSLE => JmpOp::Sle,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain two-pass algorithm: decode every slot, then check targets.
    fn reference(insns: &[Insn]) -> Result<(Vec<Op>, Shape), DecodeError> {
        if insns.is_empty() {
            return err(0, "empty program");
        }
        let mut ops = Vec::new();
        let mut i = 0;
        while i < insns.len() {
            let op = decode_one(insns, i)?;
            ops.push(op);
            if op.slots() == 2 {
                ops.push(Op::LddwHigh);
            }
            i += op.slots();
        }
        first_bad_target(&ops)?;
        let last = if ops[ops.len() - 1] == Op::LddwHigh {
            ops.len() - 2
        } else {
            ops.len() - 1
        };
        if ops[last].falls_through() {
            return err(last, "execution falls off the end of the program");
        }
        let mut shape = Shape::default();
        for op in &ops {
            let s = OpShape::of(op);
            shape.regs |= s.regs;
            shape.kinds |= s.kinds;
        }
        Ok((ops, shape))
    }

    /// Random short programs full of near misses (bad registers, targets just
    /// outside or on an `lddw` half, reserved fields set) decode exactly as
    /// the two-pass reference does, errors and shape included.
    #[test]
    fn one_pass_matches_two_pass_reference() {
        const CODES: [u8; 24] = [
            0x07, 0x0f, 0xbf, 0xb4, 0x61, 0x73, 0x62, 0x15, 0x2d, 0x05, 0x06, 0x85, 0x95, 0x18,
            0x84, 0xe5, 0x8d, 0xdc, 0xd4, 0xd7, 0xdb, 0xc3, 0x3f, 0x91,
        ];
        let mut x = 0x1234_5678u32;
        let mut next = |m: u32| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 8) % m
        };
        let mut errors = 0;
        for _ in 0..50_000 {
            let n = 1 + next(8) as usize;
            let mut insns: Vec<Insn> = (0..n)
                .map(|_| {
                    // Mostly well-formed fields, sometimes not.
                    let code = CODES[next(CODES.len() as u32) as usize];
                    let regs = if next(20) == 0 {
                        next(256) as u8
                    } else if next(3) == 0 {
                        0
                    } else {
                        (next(10) | next(2) << 4) as u8
                    };
                    let jump = matches!(code, 0x15 | 0x2d | 0x05 | 0xe5);
                    let by_imm = matches!(code, 0x06 | 0x85);
                    let off = if jump {
                        next(2 * n as u32 + 3) as i16 - n as i16 - 1
                    } else {
                        (next(20) == 0) as i16
                    };
                    let imm = if by_imm && next(2) == 0 {
                        next(2 * n as u32 + 3) as i32 - n as i32 - 1
                    } else if matches!(code, 0xdc | 0xd4 | 0xd7) && next(4) != 0 {
                        [16, 32, 64][next(3) as usize]
                    } else if code == 0xdb && next(2) == 0 {
                        [0x01, 0x40, 0xe1, 0xf1][next(4) as usize]
                    } else if next(8) == 0 {
                        next(5) as i32 - 2
                    } else {
                        0
                    };
                    Insn {
                        code,
                        regs,
                        off,
                        imm,
                    }
                })
                .collect();
            if next(5) != 0 {
                insns.push(Insn::new(0x95, 0, 0, 0, 0));
            }
            for i in 1..insns.len() {
                if insns[i - 1].code == 0x18 && next(4) != 0 {
                    insns[i] = Insn::new(0, 0, 0, 0, next(3) as i32);
                }
            }
            let got = decode_program_shape(&insns);
            errors += got.is_err() as usize;
            assert_eq!(got, reference(&insns), "{insns:?}");
            // The streaming decoder: same ops, same error; the scans: same
            // shape, the jumps' targets.
            let mut each = Vec::new();
            let streamed = decode_each(&insns, &mut |pc, op| each.push((pc, op)));
            match &got {
                Ok((ops, shape)) => {
                    assert_eq!(streamed, Ok(()), "{insns:?}");
                    let indexed: Vec<_> = ops.iter().copied().enumerate().collect();
                    assert_eq!(each, indexed, "{insns:?}");
                    assert_eq!(&Shape::scan(&insns), shape, "{insns:?}");
                    let mut targets = vec![false; ops.len()];
                    for (pc, op) in ops.iter().enumerate() {
                        if let Some(t) = op.target(pc) {
                            targets[t as usize] = true;
                        }
                    }
                    assert_eq!(jump_targets(&insns), targets, "{insns:?}");
                }
                Err(e) => assert_eq!(streamed, Err(e.clone()), "{insns:?}"),
            }
        }
        assert!(errors > 5_000 && errors < 45_000, "{errors} errors");
    }

    /// The opcode peeks of `shape` agree with the decoder on every
    /// well-formed slot (an immediate of 16 is one for every kind peeked).
    #[test]
    fn opcode_peeks_match_decoder() {
        use super::super::{is_add_sub_imm, is_cond_jump_imm, peek, Peek};
        for code in 0..=255u8 {
            let insn = Insn {
                code,
                regs: 0x01,
                off: 0,
                imm: 16,
            };
            let Ok(op) = decode_one(&[insn, Insn::default()], 0) else {
                continue;
            };
            let jump = matches!(
                op,
                Op::Jmp {
                    src: Src::Imm(_),
                    ..
                }
            );
            let add = matches!(
                op,
                Op::Alu {
                    op: AluOp::Add | AluOp::Sub,
                    src: Src::Imm(_),
                    ..
                }
            );
            assert_eq!(is_cond_jump_imm(insn), jump, "{insn:?}");
            assert_eq!(is_add_sub_imm(insn), add, "{insn:?}");
            let peeked = match (jump, add, byte_swap_of(insn)) {
                (true, _, _) => Peek::CondJumpImm,
                (_, true, _) => Peek::AddSubImm,
                (_, _, Some(_)) => Peek::ByteSwap,
                _ => Peek::Other,
            };
            assert_eq!(peek(insn), peeked, "{insn:?}");
        }
    }

    /// The byte-swap peek agrees with the decoder on every well-formed slot.
    #[test]
    fn byte_swap_of_matches_decoder() {
        for code in 0..=255u8 {
            for regs in 0..=255u8 {
                for imm in [0, 8, 16, 32, 64, 1] {
                    let insn = Insn {
                        code,
                        regs,
                        off: 0,
                        imm,
                    };
                    let Ok(op) = decode_one(&[insn, Insn::default()], 0) else {
                        continue;
                    };
                    let want = match op {
                        Op::Endian {
                            kind: Endian::Be | Endian::Swap,
                            bits,
                            dst,
                        } => Some((bits, dst)),
                        _ => None,
                    };
                    assert_eq!(byte_swap_of(insn), want, "{insn:?}");
                }
            }
        }
    }
}
