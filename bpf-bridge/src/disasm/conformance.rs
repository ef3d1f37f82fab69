//! The bpf_conformance syntax, as [`crate::asm`] reads it.

use super::map_name;
use crate::isa::{AluOp, AtomicOp, Endian, JmpOp, Op, Reg, Size, Src, Width};
use crate::program::{MapDef, MapKind};

/// `.map NAME KIND key=K value=V entries=N`.
pub(super) fn map_directive(m: &MapDef) -> String {
    let kind = match m.kind {
        MapKind::Hash => "hash",
        MapKind::Array => "array",
        MapKind::PercpuHash => "percpu_hash",
        MapKind::PercpuArray => "percpu_array",
    };
    format!(
        ".map {} {kind} key={} value={} entries={}",
        m.name, m.key_size, m.value_size, m.max_entries
    )
}

fn reg(r: Reg) -> String {
    format!("%r{}", r.num())
}

fn suffix(width: Width) -> &'static str {
    match width {
        Width::W32 => "32",
        Width::W64 => "",
    }
}

/// Small immediates in decimal, others as the hex of their 32 bits (which re-assemble
/// to the same bits).
fn imm(v: i32) -> String {
    if (-4096..=4096).contains(&v) {
        v.to_string()
    } else {
        format!("{:#x}", v as u32)
    }
}

fn src(s: Src) -> String {
    match s {
        Src::Reg(r) => reg(r),
        Src::Imm(v) => imm(v),
    }
}

fn mem(base: Reg, off: i16) -> String {
    if off < 0 {
        format!("[%r{}{off}]", base.num())
    } else {
        format!("[%r{}+{off}]", base.num())
    }
}

fn size(s: Size) -> &'static str {
    match s {
        Size::B => "b",
        Size::H => "h",
        Size::W => "w",
        Size::DW => "dw",
    }
}

fn label(pc: usize, off: i64) -> String {
    format!("L{}", pc as i64 + 1 + off)
}

fn alu_name(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Div => "div",
        AluOp::Sdiv => "sdiv",
        AluOp::Or => "or",
        AluOp::And => "and",
        AluOp::Lsh => "lsh",
        AluOp::Rsh => "rsh",
        AluOp::Mod => "mod",
        AluOp::Smod => "smod",
        AluOp::Xor => "xor",
        AluOp::Mov => "mov",
        AluOp::Arsh => "arsh",
        AluOp::Movsx8 => "movsx8",
        AluOp::Movsx16 => "movsx16",
        AluOp::Movsx32 => "movsx32",
    }
}

fn jmp_name(op: JmpOp) -> &'static str {
    match op {
        JmpOp::Eq => "jeq",
        JmpOp::Gt => "jgt",
        JmpOp::Ge => "jge",
        JmpOp::Set => "jset",
        JmpOp::Ne => "jne",
        JmpOp::Sgt => "jsgt",
        JmpOp::Sge => "jsge",
        JmpOp::Lt => "jlt",
        JmpOp::Le => "jle",
        JmpOp::Slt => "jslt",
        JmpOp::Sle => "jsle",
    }
}

fn atomic_name(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "add",
        AtomicOp::Or => "or",
        AtomicOp::And => "and",
        AtomicOp::Xor => "xor",
        AtomicOp::Xchg => "xchg",
        AtomicOp::Cmpxchg => "cmpxchg",
    }
}

/// One op; `long` selects `ja32` for a `ja` whose bytecode used the JMP32 form.
pub(super) fn format(op: &Op, pc: usize, maps: &[MapDef], long: bool) -> String {
    match *op {
        Op::Alu {
            width,
            op: op @ (AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32),
            dst,
            src: s,
        } => {
            let bits = if width == Width::W32 { "32" } else { "64" };
            format!("{}{bits} {}, {}", alu_name(op), reg(dst), src(s))
        }
        Op::Alu {
            width,
            op,
            dst,
            src: s,
        } => {
            format!("{}{} {}, {}", alu_name(op), suffix(width), reg(dst), src(s))
        }
        Op::Neg { width, dst } => format!("neg{} {}", suffix(width), reg(dst)),
        Op::Endian { kind, bits, dst } => {
            let name = match kind {
                Endian::Le => "le",
                Endian::Be => "be",
                Endian::Swap => "bswap",
            };
            format!("{name}{bits} {}", reg(dst))
        }
        Op::LoadImm64 { dst, value } => format!("lddw {}, {value:#x}", reg(dst)),
        Op::LoadMap { dst, map } => format!("lddw {}, map:{}", reg(dst), map_name(maps, map)),
        Op::LoadMapValue { dst, map, offset } => format!(
            "lddw {}, map_value:{}+{offset}",
            reg(dst),
            map_name(maps, map)
        ),
        Op::LddwHigh => String::new(),
        Op::Load {
            size: sz,
            signed,
            dst,
            base,
            off,
        } => {
            let s = if signed { "s" } else { "" };
            format!("ldx{s}{} {}, {}", size(sz), reg(dst), mem(base, off))
        }
        Op::Store {
            size: sz,
            base,
            off,
            src: s,
        } => {
            let x = if matches!(s, Src::Reg(_)) { "x" } else { "" };
            format!("st{x}{} {}, {}", size(sz), mem(base, off), src(s))
        }
        Op::Atomic {
            width,
            op,
            fetch,
            base,
            off,
            src: s,
        } => {
            let f = if fetch && !matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) {
                "fetch "
            } else {
                ""
            };
            format!(
                "lock {f}{}{} {}, {}",
                atomic_name(op),
                suffix(width),
                mem(base, off),
                reg(s)
            )
        }
        Op::Ja { off } => {
            let name = if long || i16::try_from(off).is_err() {
                "ja32"
            } else {
                "ja"
            };
            format!("{name} {}", label(pc, off as i64))
        }
        Op::Jmp {
            width,
            op,
            dst,
            src: s,
            off,
        } => format!(
            "{}{} {}, {}, {}",
            jmp_name(op),
            suffix(width),
            reg(dst),
            src(s),
            label(pc, off as i64)
        ),
        Op::MayGoto { off } => format!("may_goto {}", label(pc, off as i64)),
        Op::Call { helper } => format!("call {helper}"),
        Op::CallLocal { off } => format!("call local {}", label(pc, off as i64)),
        Op::CallReg { reg: r } => format!("call {}", reg(r)),
        Op::Exit => "exit".to_string(),
    }
}
