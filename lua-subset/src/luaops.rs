//! Lua 5.4 integer semantics, for constant folding (the code generator emits the
//! same operations as eBPF; the oracle runs real Lua).

use crate::ir::BinOp;

/// Floored division; `None` when `b == 0` (a runtime error in Lua).
pub fn idiv(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    let q = a.wrapping_div(b);
    let r = a.wrapping_rem(b);
    Some(if r != 0 && (r ^ b) < 0 { q - 1 } else { q })
}

/// Floored modulo; `None` when `b == 0`.
pub fn imod(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    let r = a.wrapping_rem(b);
    Some(if r != 0 && (r ^ b) < 0 {
        r.wrapping_add(b)
    } else {
        r
    })
}

/// `a << n` with Lua's rules (counts of 64 or more give 0; negative shift right).
pub fn shl(a: i64, n: i64) -> i64 {
    if n <= -64 || n >= 64 {
        0
    } else if n >= 0 {
        ((a as u64) << n) as i64
    } else {
        ((a as u64) >> (-n)) as i64
    }
}

/// `a >> n`: logical, the mirror of [`shl`].
pub fn shr(a: i64, n: i64) -> i64 {
    shl(a, n.wrapping_neg())
}

/// Folds an arithmetic or bitwise operator on two integers; `None` for errors
/// and for comparisons.
pub fn arith(op: BinOp, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::IDiv => idiv(a, b)?,
        BinOp::Mod => imod(a, b)?,
        BinOp::BAnd => a & b,
        BinOp::BOr => a | b,
        BinOp::BXor => a ^ b,
        BinOp::Shl => shl(a, b),
        BinOp::Shr => shr(a, b),
        _ => return None,
    })
}

/// Folds an ordering comparison on integers.
pub fn compare(op: BinOp, a: i64, b: i64) -> Option<bool> {
    Some(match op {
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        BinOp::Ge => a >= b,
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floored() {
        assert_eq!(idiv(7, 2), Some(3));
        assert_eq!(idiv(-7, 2), Some(-4));
        assert_eq!(idiv(7, -2), Some(-4));
        assert_eq!(imod(-7, 2), Some(1));
        assert_eq!(imod(7, -2), Some(-1));
        assert_eq!(idiv(i64::MIN, -1), Some(i64::MIN));
        assert_eq!(imod(i64::MIN, -1), Some(0));
        assert_eq!(idiv(1, 0), None);
    }

    #[test]
    fn shifts() {
        assert_eq!(shl(1, 64), 0);
        assert_eq!(shl(1, 63), i64::MIN);
        assert_eq!(shl(-1, -60), 0xf);
        assert_eq!(shr(-1, 60), 0xf);
        assert_eq!(shr(1, -3), 8);
        assert_eq!(shr(5, i64::MIN), 0);
    }
}
