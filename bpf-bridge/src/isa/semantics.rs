//! What each operation computes, defined once. The interpreter, the verifier's
//! constant folding and the JIT tests all call these.

use super::{AluOp, AtomicOp, Endian, JmpOp, Size, Width};

/// Value of an immediate operand: sign-extended to 64 bits (ALU32 and JMP32 then
/// look only at the low half).
#[inline(always)]
pub const fn imm_operand(imm: i32) -> u64 {
    imm as i64 as u64
}

/// `dst op src` at the given width; 32-bit results are zero-extended.
#[inline(always)]
pub fn alu(width: Width, op: AluOp, dst: u64, src: u64) -> u64 {
    match width {
        Width::W64 => alu64(op, dst, src),
        Width::W32 => alu32(op, dst as u32, src as u32) as u64,
    }
}

/// 64-bit ALU: division by zero gives 0, modulo by zero leaves `dst`,
/// `INT_MIN / -1` wraps, shift counts are masked to 6 bits.
#[inline(always)]
pub fn alu64(op: AluOp, dst: u64, src: u64) -> u64 {
    match op {
        AluOp::Add => dst.wrapping_add(src),
        AluOp::Sub => dst.wrapping_sub(src),
        AluOp::Mul => dst.wrapping_mul(src),
        AluOp::Div => dst.checked_div(src).unwrap_or(0),
        AluOp::Sdiv => {
            if src == 0 {
                0
            } else {
                (dst as i64).wrapping_div(src as i64) as u64
            }
        }
        AluOp::Mod => dst.checked_rem(src).unwrap_or(dst),
        AluOp::Smod => {
            if src == 0 {
                dst
            } else {
                (dst as i64).wrapping_rem(src as i64) as u64
            }
        }
        AluOp::Or => dst | src,
        AluOp::And => dst & src,
        AluOp::Xor => dst ^ src,
        AluOp::Lsh => dst << (src & 63),
        AluOp::Rsh => dst >> (src & 63),
        AluOp::Arsh => ((dst as i64) >> (src & 63)) as u64,
        AluOp::Mov => src,
        AluOp::Movsx8 => src as i8 as i64 as u64,
        AluOp::Movsx16 => src as i16 as i64 as u64,
        AluOp::Movsx32 => src as i32 as i64 as u64,
    }
}

/// 32-bit ALU with the same rules as [`alu64`] on the low halves.
#[inline(always)]
pub fn alu32(op: AluOp, dst: u32, src: u32) -> u32 {
    match op {
        AluOp::Add => dst.wrapping_add(src),
        AluOp::Sub => dst.wrapping_sub(src),
        AluOp::Mul => dst.wrapping_mul(src),
        AluOp::Div => dst.checked_div(src).unwrap_or(0),
        AluOp::Sdiv => {
            if src == 0 {
                0
            } else {
                (dst as i32).wrapping_div(src as i32) as u32
            }
        }
        AluOp::Mod => dst.checked_rem(src).unwrap_or(dst),
        AluOp::Smod => {
            if src == 0 {
                dst
            } else {
                (dst as i32).wrapping_rem(src as i32) as u32
            }
        }
        AluOp::Or => dst | src,
        AluOp::And => dst & src,
        AluOp::Xor => dst ^ src,
        AluOp::Lsh => dst << (src & 31),
        AluOp::Rsh => dst >> (src & 31),
        AluOp::Arsh => ((dst as i32) >> (src & 31)) as u32,
        AluOp::Mov => src,
        AluOp::Movsx8 => src as i8 as i32 as u32,
        AluOp::Movsx16 => src as i16 as i32 as u32,
        // Not encodable at 32 bits (the decoder refuses it); a plain move keeps this total.
        AluOp::Movsx32 => src,
    }
}

/// `-dst` at the given width.
#[inline(always)]
pub fn neg(width: Width, dst: u64) -> u64 {
    match width {
        Width::W64 => dst.wrapping_neg(),
        Width::W32 => (dst as u32).wrapping_neg() as u64,
    }
}

/// Byte-order conversion of the low `bits` of `v`; the rest is cleared.
#[inline(always)]
pub fn endian(kind: Endian, bits: u8, v: u64) -> u64 {
    let swap = match kind {
        Endian::Le => cfg!(target_endian = "big"),
        Endian::Be => cfg!(target_endian = "little"),
        Endian::Swap => true,
    };
    match (bits, swap) {
        (16, false) => v as u16 as u64,
        (16, true) => (v as u16).swap_bytes() as u64,
        (32, false) => v as u32 as u64,
        (32, true) => (v as u32).swap_bytes() as u64,
        (_, false) => v,
        (_, true) => v.swap_bytes(),
    }
}

/// Whether a conditional jump is taken.
#[inline(always)]
pub fn jmp_taken(width: Width, op: JmpOp, a: u64, b: u64) -> bool {
    match width {
        Width::W64 => cmp64(op, a, b),
        Width::W32 => cmp32(op, a as u32, b as u32),
    }
}

#[inline(always)]
fn cmp64(op: JmpOp, a: u64, b: u64) -> bool {
    match op {
        JmpOp::Eq => a == b,
        JmpOp::Ne => a != b,
        JmpOp::Gt => a > b,
        JmpOp::Ge => a >= b,
        JmpOp::Lt => a < b,
        JmpOp::Le => a <= b,
        JmpOp::Set => a & b != 0,
        JmpOp::Sgt => (a as i64) > (b as i64),
        JmpOp::Sge => (a as i64) >= (b as i64),
        JmpOp::Slt => (a as i64) < (b as i64),
        JmpOp::Sle => (a as i64) <= (b as i64),
    }
}

#[inline(always)]
fn cmp32(op: JmpOp, a: u32, b: u32) -> bool {
    match op {
        JmpOp::Eq => a == b,
        JmpOp::Ne => a != b,
        JmpOp::Gt => a > b,
        JmpOp::Ge => a >= b,
        JmpOp::Lt => a < b,
        JmpOp::Le => a <= b,
        JmpOp::Set => a & b != 0,
        JmpOp::Sgt => (a as i32) > (b as i32),
        JmpOp::Sge => (a as i32) >= (b as i32),
        JmpOp::Slt => (a as i32) < (b as i32),
        JmpOp::Sle => (a as i32) <= (b as i32),
    }
}

/// The value stored back by a read-modify-write atomic (not `Cmpxchg`, see
/// [`cmpxchg`]), at the given width.
#[inline(always)]
pub fn atomic_rmw(width: Width, op: AtomicOp, old: u64, src: u64) -> u64 {
    let new = match op {
        AtomicOp::Add => old.wrapping_add(src),
        AtomicOp::Or => old | src,
        AtomicOp::And => old & src,
        AtomicOp::Xor => old ^ src,
        AtomicOp::Xchg | AtomicOp::Cmpxchg => src,
    };
    truncate(width, new)
}

/// Compare-and-exchange: returns `(value to store, new r0)`. r0 receives the old
/// value (zero-extended at 32 bits); memory gets `src` only when it equals r0.
#[inline(always)]
pub fn cmpxchg(width: Width, old: u64, r0: u64, src: u64) -> (u64, u64) {
    let old = truncate(width, old);
    let store = if old == truncate(width, r0) {
        truncate(width, src)
    } else {
        old
    };
    (store, old)
}

/// Low 32 bits at `W32`, all 64 at `W64`.
#[inline(always)]
pub fn truncate(width: Width, v: u64) -> u64 {
    match width {
        Width::W32 => v as u32 as u64,
        Width::W64 => v,
    }
}

/// Widens a loaded little-endian value of `size` to a register value.
#[inline(always)]
pub fn extend_load(size: Size, signed: bool, raw: u64) -> u64 {
    match (size, signed) {
        (Size::B, false) => raw as u8 as u64,
        (Size::H, false) => raw as u16 as u64,
        (Size::W, false) => raw as u32 as u64,
        (Size::B, true) => raw as i8 as i64 as u64,
        (Size::H, true) => raw as i16 as i64 as u64,
        (Size::W, true) => raw as i32 as i64 as u64,
        (Size::DW, _) => raw,
    }
}
