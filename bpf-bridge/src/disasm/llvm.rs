//! llvm-objdump's BPF syntax (`r0 = 1`, `w0 += 1`, `if r1 s> r2 goto -4`).

use super::{map_name, signed_off};
use crate::isa::{AluOp, AtomicOp, Endian, JmpOp, Op, Reg, Size, Src, Width};
use crate::program::MapDef;

/// `r3` or `w3`.
fn reg(r: Reg, width: Width) -> String {
    match width {
        Width::W64 => format!("r{}", r.num()),
        Width::W32 => format!("w{}", r.num()),
    }
}

/// Immediates up to 255 in magnitude in decimal, larger ones in hex.
fn imm(v: i64) -> String {
    if v.unsigned_abs() <= 255 {
        v.to_string()
    } else if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("{v:#x}")
    }
}

fn src(s: Src, width: Width) -> String {
    match s {
        Src::Reg(r) => reg(r, width),
        Src::Imm(v) => imm(v as i64),
    }
}

/// `(r10 - 8)`, `(r1 + 12)`.
fn addr(base: Reg, off: i16) -> String {
    if off < 0 {
        format!("(r{} - {})", base.num(), (off as i32).unsigned_abs())
    } else {
        format!("(r{} + {off})", base.num())
    }
}

fn ty(size: Size, signed: bool) -> String {
    let s = if signed { 's' } else { 'u' };
    format!("{s}{}", size.bytes() * 8)
}

fn alu_sym(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "+=",
        AluOp::Sub => "-=",
        AluOp::Mul => "*=",
        AluOp::Div => "/=",
        AluOp::Sdiv => "s/=",
        AluOp::Or => "|=",
        AluOp::And => "&=",
        AluOp::Lsh => "<<=",
        AluOp::Rsh => ">>=",
        AluOp::Mod => "%=",
        AluOp::Smod => "s%=",
        AluOp::Xor => "^=",
        AluOp::Arsh => "s>>=",
        AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32 => "=",
    }
}

fn jmp_sym(op: JmpOp) -> &'static str {
    match op {
        JmpOp::Eq => "==",
        JmpOp::Gt => ">",
        JmpOp::Ge => ">=",
        JmpOp::Set => "&",
        JmpOp::Ne => "!=",
        JmpOp::Sgt => "s>",
        JmpOp::Sge => "s>=",
        JmpOp::Lt => "<",
        JmpOp::Le => "<=",
        JmpOp::Slt => "s<",
        JmpOp::Sle => "s<=",
    }
}

fn width_of(w: Width) -> Size {
    match w {
        Width::W32 => Size::W,
        Width::W64 => Size::DW,
    }
}

/// One op; `long` selects `gotol` for a `ja` whose bytecode used the JMP32 form.
pub(super) fn format(op: &Op, maps: &[MapDef], long: bool) -> String {
    match *op {
        Op::Alu {
            width,
            op,
            dst,
            src: s,
        } => {
            let cast = match op {
                AluOp::Movsx8 => "(s8)",
                AluOp::Movsx16 => "(s16)",
                AluOp::Movsx32 => "(s32)",
                _ => "",
            };
            format!(
                "{} {} {cast}{}",
                reg(dst, width),
                alu_sym(op),
                src(s, width)
            )
        }
        Op::Neg { width, dst } => format!("{0} = -{0}", reg(dst, width)),
        Op::Endian { kind, bits, dst } => {
            let name = match kind {
                Endian::Le => "le",
                Endian::Be => "be",
                Endian::Swap => "bswap",
            };
            format!("{0} = {name}{bits} {0}", reg(dst, Width::W64))
        }
        Op::LoadImm64 { dst, value } => format!("r{} = {value:#x} ll", dst.num()),
        Op::LoadMap { dst, map } => format!("r{} = map[{}] ll", dst.num(), map_name(maps, map)),
        Op::LoadMapValue { dst, map, offset } => format!(
            "r{} = map_value[{}] + {offset} ll",
            dst.num(),
            map_name(maps, map)
        ),
        Op::LddwHigh => String::new(),
        Op::Load {
            size,
            signed,
            dst,
            base,
            off,
        } => format!(
            "r{} = *({} *){}",
            dst.num(),
            ty(size, signed),
            addr(base, off)
        ),
        Op::Store {
            size,
            base,
            off,
            src: s,
        } => format!(
            "*({} *){} = {}",
            ty(size, false),
            addr(base, off),
            src(s, Width::W64)
        ),
        Op::Atomic {
            width,
            op,
            fetch,
            base,
            off,
            src: s,
        } => atomic(width, op, fetch, base, off, s),
        Op::Ja { off } => {
            let name = if long || i16::try_from(off).is_err() {
                "gotol"
            } else {
                "goto"
            };
            format!("{name} {}", signed_off(off as i64))
        }
        Op::Jmp {
            width,
            op,
            dst,
            src: s,
            off,
        } => format!(
            "if {} {} {} goto {}",
            reg(dst, width),
            jmp_sym(op),
            src(s, width),
            signed_off(off as i64)
        ),
        Op::MayGoto { off } => format!("may_goto {}", signed_off(off as i64)),
        Op::Call { helper } => format!("call {helper}"),
        Op::CallLocal { off } => format!("call pc{}", signed_off(off as i64)),
        Op::CallReg { reg: r } => format!("callx r{}", r.num()),
        Op::Exit => "exit".to_string(),
    }
}

fn atomic(width: Width, op: AtomicOp, fetch: bool, base: Reg, off: i16, s: Reg) -> String {
    let t = ty(width_of(width), false);
    let a = addr(base, off);
    let v = reg(s, width);
    let bits = match width {
        Width::W32 => "32_32",
        Width::W64 => "_64",
    };
    match op {
        AtomicOp::Xchg => format!("{v} = xchg{bits}({}, {v})", &a[1..a.len() - 1]),
        AtomicOp::Cmpxchg => format!(
            "{} = cmpxchg{bits}({}, {}, {v})",
            reg(Reg::R0, width),
            &a[1..a.len() - 1],
            reg(Reg::R0, width)
        ),
        _ => {
            let name = match op {
                AtomicOp::Add => "add",
                AtomicOp::Or => "or",
                AtomicOp::And => "and",
                _ => "xor",
            };
            if fetch {
                format!("{v} = atomic_fetch_{name}(({t} *){a}, {v})")
            } else {
                let sym = match op {
                    AtomicOp::Add => "+=",
                    AtomicOp::Or => "|=",
                    AtomicOp::And => "&=",
                    _ => "^=",
                };
                format!("lock *({t} *){a} {sym} {v}")
            }
        }
    }
}
