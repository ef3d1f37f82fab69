//! A load and a compare of the loaded register as one compare with memory:
//! when the compare of the zero-extended value with an immediate gives the
//! same answer as a compare at the access's own size.

use crate::masm::{MemCmp, VReg};
use bpf_bridge::isa::{JmpOp, Size, Src, Width};

/// The compare with memory that decides `load(size) op imm` at width `w`,
/// where the load zero-extends `size` bytes at `base + off`; None when no
/// single compare does (the immediate out of the value's range).
///
/// A load of the compare's width or wider compares its low bytes as they are.
/// A narrower value lies in `0..2^(8*size)`: against an immediate in that
/// range both sides are non-negative, so signed orders are the unsigned
/// ones; `jset` only sees the immediate's low bytes.
pub fn mem_compare(
    size: Size,
    w: Width,
    op: JmpOp,
    src: Src,
    base: VReg,
    off: i32,
) -> Option<MemCmp> {
    let Src::Imm(imm) = src else {
        return None;
    };
    let width = if w == Width::W64 { 8 } else { 4 };
    let bytes = size.bytes().min(width) as u8;
    let c = |op, imm| {
        Some(MemCmp {
            bytes,
            op,
            base,
            off,
            imm,
        })
    };
    if size.bytes() >= width {
        return c(op, imm);
    }
    let max = (1u64 << (8 * bytes)) - 1;
    if op == JmpOp::Set {
        return c(op, (imm as u64 & max) as i32);
    }
    if imm < 0 || imm as u64 > max {
        return None;
    }
    let op = match op {
        JmpOp::Sgt => JmpOp::Gt,
        JmpOp::Sge => JmpOp::Ge,
        JmpOp::Slt => JmpOp::Lt,
        JmpOp::Sle => JmpOp::Le,
        o => o,
    };
    c(op, imm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_bridge::isa::semantics;

    const OPS: [JmpOp; 11] = [
        JmpOp::Eq,
        JmpOp::Ne,
        JmpOp::Gt,
        JmpOp::Ge,
        JmpOp::Lt,
        JmpOp::Le,
        JmpOp::Set,
        JmpOp::Sgt,
        JmpOp::Sge,
        JmpOp::Slt,
        JmpOp::Sle,
    ];

    /// The compare at the memory's size, as the machine does it: at 4 and
    /// 8 bytes the eBPF compare of that width, below only unsigned orders
    /// (signed ones never reach a narrow compare) on the low bytes.
    fn at_size(c: MemCmp, v: u64) -> bool {
        let imm = semantics::imm_operand(c.imm);
        match c.bytes {
            8 => semantics::jmp_taken(Width::W64, c.op, v, imm),
            4 => semantics::jmp_taken(Width::W32, c.op, v, imm),
            n => {
                assert!(!matches!(
                    c.op,
                    JmpOp::Sgt | JmpOp::Sge | JmpOp::Slt | JmpOp::Sle
                ));
                let mask = (1u64 << (8 * n)) - 1;
                semantics::jmp_taken(Width::W64, c.op, v & mask, imm & mask)
            }
        }
    }

    /// Every folded compare agrees with load-then-compare ([`semantics`]) on
    /// values at the edges of each size and sign.
    #[test]
    fn folded_compares_agree_with_the_semantics() {
        let values: [u64; 12] = [
            0,
            1,
            0x7f,
            0x80,
            0xff,
            0x7fff,
            0x8000,
            0xffff,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x8000_0000_0000_0000,
        ];
        let imms = [
            0,
            1,
            10,
            0x7f,
            0x80,
            0xff,
            0x100,
            0xffff,
            -1,
            -128,
            i32::MAX,
            i32::MIN,
        ];
        let mut folded = 0;
        for size in [Size::B, Size::H, Size::W, Size::DW] {
            let mask = u64::MAX >> (64 - 8 * size.bytes() as u32);
            for w in [Width::W32, Width::W64] {
                for op in OPS {
                    for imm in imms {
                        let Some(c) = mem_compare(size, w, op, Src::Imm(imm), VReg(2), 0) else {
                            continue;
                        };
                        folded += 1;
                        for v in values.iter().flat_map(|v| [*v, v.wrapping_sub(1)]) {
                            let loaded = v & mask;
                            let b = semantics::imm_operand(imm);
                            let want = semantics::jmp_taken(w, op, loaded, b);
                            assert_eq!(at_size(c, v), want, "{size:?} {w:?} {op:?} {imm} {v:#x}");
                        }
                    }
                }
            }
        }
        assert!(folded > 200);
    }
}
