//! The interpreter's internal form: one [`CInsn`] per slot, with a dense
//! `#[repr(u8)]` opcode ([`COp`]) that fixes width, operand kind, access size and
//! whether a memory access is checked, so the run loop dispatches once per
//! instruction and never re-decodes. Jump targets are absolute slot indices and
//! immediates are already sign-extended.

use crate::context::field_code;
use crate::facts::{Access, Facts};
use crate::isa::semantics::imm_operand;
use crate::isa::{AluOp, AtomicOp, Endian, JmpOp, Op, Size, Src, Width};
use crate::maps::map_handle;
use crate::program::{MapDef, ProgType};

use super::LoadError;

/// Passes the table of ALU and jump ops to `$cb`: one line per operation with
/// its four variants (64-bit immediate, 64-bit register, 32-bit immediate,
/// 32-bit register). The enum and the run loop are both generated from it.
macro_rules! with_op_table {
    ($cb:ident ! { $($args:tt)* }) => {
        $cb! { $($args)*
            alu {
                Add => AddI64 AddR64 AddI32 AddR32;
                Sub => SubI64 SubR64 SubI32 SubR32;
                Mul => MulI64 MulR64 MulI32 MulR32;
                Div => DivI64 DivR64 DivI32 DivR32;
                Sdiv => SdivI64 SdivR64 SdivI32 SdivR32;
                Or => OrI64 OrR64 OrI32 OrR32;
                And => AndI64 AndR64 AndI32 AndR32;
                Lsh => LshI64 LshR64 LshI32 LshR32;
                Rsh => RshI64 RshR64 RshI32 RshR32;
                Mod => ModI64 ModR64 ModI32 ModR32;
                Smod => SmodI64 SmodR64 SmodI32 SmodR32;
                Xor => XorI64 XorR64 XorI32 XorR32;
                Mov => MovI64 MovR64 MovI32 MovR32;
                Movsx8 => Movsx8I64 Movsx8R64 Movsx8I32 Movsx8R32;
                Movsx16 => Movsx16I64 Movsx16R64 Movsx16I32 Movsx16R32;
                Movsx32 => Movsx32I64 Movsx32R64 Movsx32I32 Movsx32R32;
                Arsh => ArshI64 ArshR64 ArshI32 ArshR32;
            }
            jmp {
                Eq => JeqI64 JeqR64 JeqI32 JeqR32;
                Gt => JgtI64 JgtR64 JgtI32 JgtR32;
                Ge => JgeI64 JgeR64 JgeI32 JgeR32;
                Set => JsetI64 JsetR64 JsetI32 JsetR32;
                Ne => JneI64 JneR64 JneI32 JneR32;
                Sgt => JsgtI64 JsgtR64 JsgtI32 JsgtR32;
                Sge => JsgeI64 JsgeR64 JsgeI32 JsgeR32;
                Lt => JltI64 JltR64 JltI32 JltR32;
                Le => JleI64 JleR64 JleI32 JleR32;
                Slt => JsltI64 JsltR64 JsltI32 JsltR32;
                Sle => JsleI64 JsleR64 JsleI32 JsleR32;
            }
        }
    };
}
pub(super) use with_op_table;

macro_rules! define_cop {
    (
        alu { $($aop:ident => $a64i:ident $a64r:ident $a32i:ident $a32r:ident;)* }
        jmp { $($jop:ident => $j64i:ident $j64r:ident $j32i:ident $j32r:ident;)* }
    ) => {
        /// Internal opcode. `I`/`R`: immediate or register operand; `64`/`32`: width.
        #[repr(u8)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum COp {
            $($a64i, $a64r, $a32i, $a32r,)*
            $($j64i, $j64r, $j32i, $j32r,)*
            Neg64, Neg32,
            Le16, Le32, Le64, Be16, Be32, Be64, Swap16, Swap32, Swap64,
            /// `dst = imm` (also map handles); skips the second slot.
            LdImm64,
            /// `dst = address of array map `off` value byte `imm``; skips the second slot.
            LdMapValue,
            /// Unchecked loads (proven by the verifier).
            LdxB, LdxH, LdxW, LdxDW, LdxSB, LdxSH, LdxSW,
            /// Checked load: `aux` = size in bytes | 0x80 if signed.
            LdxChk,
            /// Converted context load: `imm` = [`field_code`].
            LdxCtx,
            /// Unchecked stores.
            StB, StH, StW, StDW, StxB, StxH, StxW, StxDW,
            /// Checked store: `aux` = size in bytes | 0x40 if the value is `imm`.
            StChk,
            /// Atomic: `aux` = op (bits 0–2) | fetch 0x08 | 64-bit 0x10 | checked 0x20.
            Atomic,
            /// `pc = off`.
            Ja,
            /// Checked mode's backward `ja`: counts against the back-edge limit.
            JaBack,
            /// Checked mode's backward conditional jump: `aux` = [`JmpOp`] code |
            /// 0x40 if the operand is `imm` | 0x80 if 64-bit.
            JmpBack,
            /// `may_goto` to `off`.
            MayGoto,
            /// Helper `imm`.
            Call,
            /// Local call to `off`.
            CallLocal,
            /// Helper whose id `src` holds.
            CallX,
            Exit,
            /// The second slot of `lddw`; never reached.
            Invalid,
        }

        fn alu_cop(width: Width, op: AluOp, imm: bool) -> COp {
            match op {
                $(AluOp::$aop => match (width, imm) {
                    (Width::W64, true) => COp::$a64i,
                    (Width::W64, false) => COp::$a64r,
                    (Width::W32, true) => COp::$a32i,
                    (Width::W32, false) => COp::$a32r,
                },)*
            }
        }

        fn jmp_cop(width: Width, op: JmpOp, imm: bool) -> COp {
            match op {
                $(JmpOp::$jop => match (width, imm) {
                    (Width::W64, true) => COp::$j64i,
                    (Width::W64, false) => COp::$j64r,
                    (Width::W32, true) => COp::$j32i,
                    (Width::W32, false) => COp::$j32r,
                },)*
            }
        }
    };
}

with_op_table!(define_cop! {});

/// One translated slot (16 bytes).
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct CInsn {
    pub op: COp,
    pub dst: u8,
    pub src: u8,
    pub aux: u8,
    /// Memory offset, absolute jump target or map index.
    pub off: i32,
    /// Sign-extended immediate, 64-bit constant, helper id or context field.
    pub imm: u64,
}

pub(super) const AUX_SIGNED: u8 = 0x80;
pub(super) const AUX_IMM: u8 = 0x40;
pub(super) const AUX_FETCH: u8 = 0x08;
pub(super) const AUX_W64: u8 = 0x10;
pub(super) const AUX_CHECKED: u8 = 0x20;
pub(super) const AUX_JMP64: u8 = 0x80;

const JMP_OPS: [JmpOp; 11] = [
    JmpOp::Eq,
    JmpOp::Gt,
    JmpOp::Ge,
    JmpOp::Set,
    JmpOp::Ne,
    JmpOp::Sgt,
    JmpOp::Sge,
    JmpOp::Lt,
    JmpOp::Le,
    JmpOp::Slt,
    JmpOp::Sle,
];

/// The [`JmpOp`] coded in the low bits of a `JmpBack`'s `aux`.
#[inline(always)]
pub(super) fn jmp_op(aux: u8) -> JmpOp {
    JMP_OPS[(aux & 0xf) as usize % JMP_OPS.len()]
}

fn jmp_code(op: JmpOp) -> u8 {
    JMP_OPS.iter().position(|&o| o == op).unwrap_or(0) as u8
}

fn atomic_code(op: AtomicOp) -> u8 {
    match op {
        AtomicOp::Add => 0,
        AtomicOp::Or => 1,
        AtomicOp::And => 2,
        AtomicOp::Xor => 3,
        AtomicOp::Xchg => 4,
        AtomicOp::Cmpxchg => 5,
    }
}

/// Inverse of the atomic op code in `aux`.
#[inline(always)]
pub(super) fn atomic_op(aux: u8) -> AtomicOp {
    match aux & 7 {
        0 => AtomicOp::Add,
        1 => AtomicOp::Or,
        2 => AtomicOp::And,
        3 => AtomicOp::Xor,
        4 => AtomicOp::Xchg,
        _ => AtomicOp::Cmpxchg,
    }
}

fn insn(op: COp) -> CInsn {
    CInsn {
        op,
        dst: 0,
        src: 0,
        aux: 0,
        off: 0,
        imm: 0,
    }
}

fn invalid(insn: usize, reason: impl Into<String>) -> LoadError {
    LoadError::Invalid {
        insn,
        reason: reason.into(),
    }
}

/// Translates decoded ops (one per slot) using the verifier's facts. With
/// `bounded` (checked mode), backward jumps become `JaBack`/`JmpBack`, which count
/// against the back-edge limit; forward jumps stay free of that cost.
///
/// Establishes what the run loop relies on to fetch without bounds checks: every
/// jump and call target is a slot index, `lddw` is followed by its second slot, and
/// the last executable slot does not fall through.
pub(super) fn translate(
    ops: &[Op],
    facts: &Facts,
    prog_type: ProgType,
    maps: &[MapDef],
    bounded: bool,
) -> Result<Vec<CInsn>, LoadError> {
    if facts.accesses.len() != ops.len() {
        return Err(LoadError::FactsLength {
            facts: facts.accesses.len(),
            slots: ops.len(),
        });
    }
    let n = ops.len();
    let mut code = Vec::with_capacity(n);
    for (pc, op) in ops.iter().enumerate() {
        let access = facts.accesses[pc];
        let target = || -> Result<i32, LoadError> {
            match op.target(pc) {
                Some(t) if (0..n as i64).contains(&t) && ops[t as usize] != Op::LddwHigh => {
                    Ok(t as i32)
                }
                _ => Err(invalid(pc, "jump target outside the program")),
            }
        };
        let c = match *op {
            Op::Alu {
                width,
                op,
                dst,
                src,
            } => {
                let mut c = match src {
                    Src::Imm(i) => CInsn {
                        imm: imm_operand(i),
                        ..insn(alu_cop(width, op, true))
                    },
                    Src::Reg(r) => CInsn {
                        src: r.num(),
                        ..insn(alu_cop(width, op, false))
                    },
                };
                c.dst = dst.num();
                c
            }
            Op::Neg { width, dst } => CInsn {
                dst: dst.num(),
                ..insn(match width {
                    Width::W64 => COp::Neg64,
                    Width::W32 => COp::Neg32,
                })
            },
            Op::Endian { kind, bits, dst } => {
                let op = match (kind, bits) {
                    (Endian::Le, 16) => COp::Le16,
                    (Endian::Le, 32) => COp::Le32,
                    (Endian::Le, _) => COp::Le64,
                    (Endian::Be, 16) => COp::Be16,
                    (Endian::Be, 32) => COp::Be32,
                    (Endian::Be, _) => COp::Be64,
                    (Endian::Swap, 16) => COp::Swap16,
                    (Endian::Swap, 32) => COp::Swap32,
                    (Endian::Swap, _) => COp::Swap64,
                };
                CInsn {
                    dst: dst.num(),
                    ..insn(op)
                }
            }
            Op::LoadImm64 { .. } | Op::LoadMap { .. } | Op::LoadMapValue { .. }
                if ops.get(pc + 1) != Some(&Op::LddwHigh) =>
            {
                return Err(invalid(pc, "incomplete lddw"));
            }
            Op::LoadImm64 { dst, value } => CInsn {
                dst: dst.num(),
                imm: value,
                ..insn(COp::LdImm64)
            },
            Op::LoadMap { dst, map } => {
                if map as usize >= maps.len() {
                    return Err(invalid(pc, format!("map index {map} out of range")));
                }
                CInsn {
                    dst: dst.num(),
                    imm: map_handle(map),
                    ..insn(COp::LdImm64)
                }
            }
            Op::LoadMapValue { dst, map, offset } => {
                match maps.get(map as usize) {
                    Some(d) if d.kind.is_array() && offset < d.value_size => {}
                    _ => {
                        return Err(invalid(
                            pc,
                            format!(
                                "map value {map}+{offset}: not an array map or offset out of range"
                            ),
                        ))
                    }
                }
                CInsn {
                    dst: dst.num(),
                    off: map as i32,
                    imm: offset as u64,
                    ..insn(COp::LdMapValue)
                }
            }
            Op::LddwHigh => insn(COp::Invalid),
            Op::Load {
                size,
                signed,
                dst,
                base,
                off,
            } => {
                let op = match access {
                    Access::Proven => match (size, signed) {
                        (Size::B, false) => COp::LdxB,
                        (Size::H, false) => COp::LdxH,
                        (Size::W, false) => COp::LdxW,
                        (Size::DW, _) => COp::LdxDW,
                        (Size::B, true) => COp::LdxSB,
                        (Size::H, true) => COp::LdxSH,
                        (Size::W, true) => COp::LdxSW,
                    },
                    Access::Ctx(field) => {
                        if prog_type != ProgType::Xdp || size != Size::W || signed {
                            return Err(invalid(
                                pc,
                                "context fact on a load that cannot read the context",
                            ));
                        }
                        let _ = field;
                        COp::LdxCtx
                    }
                    Access::Check => COp::LdxChk,
                };
                let imm = match access {
                    Access::Ctx(field) => field_code(field) as u64,
                    _ => 0,
                };
                CInsn {
                    op,
                    dst: dst.num(),
                    src: base.num(),
                    aux: size.bytes() as u8 | if signed { AUX_SIGNED } else { 0 },
                    off: off as i32,
                    imm,
                }
            }
            Op::Store {
                size,
                base,
                off,
                src,
            } => {
                let (src_reg, imm, is_imm) = match src {
                    Src::Imm(i) => (0, imm_operand(i), true),
                    Src::Reg(r) => (r.num(), 0, false),
                };
                let op = match (access, size, is_imm) {
                    (Access::Ctx(_), ..) => return Err(invalid(pc, "context fact on a store")),
                    (Access::Check, ..) => COp::StChk,
                    (Access::Proven, Size::B, true) => COp::StB,
                    (Access::Proven, Size::H, true) => COp::StH,
                    (Access::Proven, Size::W, true) => COp::StW,
                    (Access::Proven, Size::DW, true) => COp::StDW,
                    (Access::Proven, Size::B, false) => COp::StxB,
                    (Access::Proven, Size::H, false) => COp::StxH,
                    (Access::Proven, Size::W, false) => COp::StxW,
                    (Access::Proven, Size::DW, false) => COp::StxDW,
                };
                CInsn {
                    op,
                    dst: base.num(),
                    src: src_reg,
                    aux: size.bytes() as u8 | if is_imm { AUX_IMM } else { 0 },
                    off: off as i32,
                    imm,
                }
            }
            Op::Atomic {
                width,
                op,
                fetch,
                base,
                off,
                src,
            } => {
                let checked = match access {
                    Access::Ctx(_) => return Err(invalid(pc, "context fact on an atomic")),
                    Access::Check => AUX_CHECKED,
                    Access::Proven => 0,
                };
                let fetch = fetch || matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg);
                CInsn {
                    dst: base.num(),
                    src: src.num(),
                    aux: atomic_code(op)
                        | if fetch { AUX_FETCH } else { 0 }
                        | if width == Width::W64 { AUX_W64 } else { 0 }
                        | checked,
                    off: off as i32,
                    ..insn(COp::Atomic)
                }
            }
            Op::Ja { .. } => {
                let t = target()?;
                let back = bounded && t as usize <= pc;
                CInsn {
                    off: t,
                    ..insn(if back { COp::JaBack } else { COp::Ja })
                }
            }
            Op::Jmp {
                width,
                op,
                dst,
                src,
                ..
            } if bounded && target()? as usize <= pc => {
                let (src, imm, is_imm) = match src {
                    Src::Imm(i) => (0, imm_operand(i), AUX_IMM),
                    Src::Reg(r) => (r.num(), 0, 0),
                };
                CInsn {
                    op: COp::JmpBack,
                    dst: dst.num(),
                    src,
                    aux: jmp_code(op) | is_imm | if width == Width::W64 { AUX_JMP64 } else { 0 },
                    off: target()?,
                    imm,
                }
            }
            Op::Jmp {
                width,
                op,
                dst,
                src,
                ..
            } => {
                let mut c = match src {
                    Src::Imm(i) => CInsn {
                        imm: imm_operand(i),
                        ..insn(jmp_cop(width, op, true))
                    },
                    Src::Reg(r) => CInsn {
                        src: r.num(),
                        ..insn(jmp_cop(width, op, false))
                    },
                };
                c.dst = dst.num();
                c.off = target()?;
                c
            }
            Op::MayGoto { .. } => CInsn {
                off: target()?,
                ..insn(COp::MayGoto)
            },
            Op::Call { helper } => CInsn {
                imm: helper as i64 as u64,
                ..insn(COp::Call)
            },
            Op::CallLocal { .. } => CInsn {
                off: target()?,
                ..insn(COp::CallLocal)
            },
            Op::CallReg { reg } => CInsn {
                src: reg.num(),
                ..insn(COp::CallX)
            },
            Op::Exit => insn(COp::Exit),
        };
        code.push(c);
    }
    let last = match ops.last() {
        Some(Op::LddwHigh) => n.checked_sub(2),
        Some(_) => n.checked_sub(1),
        None => None,
    };
    match last.map(|i| ops[i]) {
        Some(op) if !op.falls_through() => Ok(code),
        _ => Err(invalid(
            n.saturating_sub(1),
            "execution falls off the end of the program",
        )),
    }
}
