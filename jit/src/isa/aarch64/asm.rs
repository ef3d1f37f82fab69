//! AArch64 encoders: one function per machine form; immediates are typed and
//! only built through `try_from`, so an unencodable value cannot reach them.

use super::regs::XReg;
use crate::buffer::{CodeBuffer, Label, LabelUse, ROOM};

/// Condition codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cond {
    Eq = 0,
    Ne = 1,
    Hs = 2,
    Lo = 3,
    Hi = 8,
    Ls = 9,
    Ge = 10,
    Lt = 11,
    Gt = 12,
    Le = 13,
}

/// Unsigned 12-bit immediate of add/sub.
#[derive(Clone, Copy, Debug)]
pub struct Imm12(u32);

impl TryFrom<i64> for Imm12 {
    type Error = ();
    fn try_from(v: i64) -> Result<Self, ()> {
        if (0..4096).contains(&v) {
            Ok(Imm12(v as u32))
        } else {
            Err(())
        }
    }
}

/// Signed 9-bit byte offset of unscaled loads and stores.
#[derive(Clone, Copy, Debug)]
pub struct SImm9(i32);

impl TryFrom<i64> for SImm9 {
    type Error = ();
    fn try_from(v: i64) -> Result<Self, ()> {
        if (-256..256).contains(&v) {
            Ok(SImm9(v as i32))
        } else {
            Err(())
        }
    }
}

/// Unsigned 12-bit offset scaled by the access size.
#[derive(Clone, Copy, Debug)]
pub struct UImm12Scaled(u32);

impl UImm12Scaled {
    /// `off` for an access of `bytes`, if aligned and in range.
    pub fn new(off: i64, bytes: u8) -> Option<UImm12Scaled> {
        let b = bytes as i64;
        if off >= 0 && off % b == 0 && off / b < 4096 {
            Some(UImm12Scaled((off / b) as u32))
        } else {
            None
        }
    }
}

/// Label references.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    B,
    Bl,
    BCond(Cond),
    Cbz { sf: bool, rt: XReg, nz: bool },
}

impl LabelUse for Use {
    #[inline(always)]
    fn long_len(self) -> usize {
        4
    }
    #[inline(always)]
    fn short_len(self) -> Option<usize> {
        None
    }
    #[inline(always)]
    fn short_fits(self, _d: i64) -> bool {
        false
    }
    #[inline(always)]
    fn encode(self, out: &mut [u8; ROOM], d: i64, _short: bool) -> bool {
        let w = d / 4;
        let word = match self {
            Use::B | Use::Bl => {
                if !(-(1 << 25)..(1 << 25)).contains(&w) {
                    return false;
                }
                let op = if self == Use::B {
                    0x1400_0000
                } else {
                    0x9400_0000
                };
                op | (w as u32 & 0x03ff_ffff)
            }
            Use::BCond(c) => {
                if !(-(1 << 18)..(1 << 18)).contains(&w) {
                    return false;
                }
                0x5400_0000 | (w as u32 & 0x7ffff) << 5 | c as u32
            }
            Use::Cbz { sf, rt, nz } => {
                if !(-(1 << 18)..(1 << 18)).contains(&w) {
                    return false;
                }
                0x3400_0000
                    | (sf as u32) << 31
                    | (nz as u32) << 24
                    | (w as u32 & 0x7ffff) << 5
                    | rt.0 as u32
            }
        };
        out[..4].copy_from_slice(&word.to_le_bytes());
        true
    }
}

/// Memory access kinds, by their unsigned-offset opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemOp {
    base: u32,
    bytes: u8,
}

impl MemOp {
    /// Zero-extending load of `bytes`.
    pub fn load(bytes: u8) -> MemOp {
        let base = match bytes {
            1 => 0x3940_0000,
            2 => 0x7940_0000,
            4 => 0xb940_0000,
            _ => 0xf940_0000,
        };
        MemOp { base, bytes }
    }
    /// Sign-extending load of `bytes` (1, 2, 4) into a 64-bit register.
    pub fn load_signed(bytes: u8) -> MemOp {
        let base = match bytes {
            1 => 0x3980_0000,
            2 => 0x7980_0000,
            _ => 0xb980_0000,
        };
        MemOp { base, bytes }
    }
    /// Store of `bytes`.
    pub fn store(bytes: u8) -> MemOp {
        let base = match bytes {
            1 => 0x3900_0000,
            2 => 0x7900_0000,
            4 => 0xb900_0000,
            _ => 0xf900_0000,
        };
        MemOp { base, bytes }
    }
}

/// The AArch64 assembler.
#[derive(Default)]
pub struct Asm {
    pub buf: CodeBuffer<Use>,
}

#[inline]
fn sf(wide: bool) -> u32 {
    (wide as u32) << 31
}

#[inline]
fn rrr(rd: XReg, rn: XReg, rm: XReg) -> u32 {
    (rm.0 as u32) << 16 | (rn.0 as u32) << 5 | rd.0 as u32
}

impl Asm {
    #[inline]
    pub fn emit(&mut self, w: u32) {
        self.buf.put4(w);
    }

    pub fn add_rr(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x0b00_0000 | sf(wide) | rrr(rd, rn, rm));
    }
    pub fn sub_rr(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x4b00_0000 | sf(wide) | rrr(rd, rn, rm));
    }
    /// `cmp rn, rm` (subs zr).
    pub fn cmp_rr(&mut self, wide: bool, rn: XReg, rm: XReg) {
        self.emit(0x6b00_0000 | sf(wide) | rrr(XReg::ZR, rn, rm));
    }
    /// `add rd, rn, #imm` (register 31 is sp here).
    pub fn add_ri(&mut self, wide: bool, rd: XReg, rn: XReg, imm: Imm12) {
        self.emit(0x1100_0000 | sf(wide) | imm.0 << 10 | (rn.0 as u32) << 5 | rd.0 as u32);
    }
    pub fn sub_ri(&mut self, wide: bool, rd: XReg, rn: XReg, imm: Imm12) {
        self.emit(0x5100_0000 | sf(wide) | imm.0 << 10 | (rn.0 as u32) << 5 | rd.0 as u32);
    }
    /// `cmp rn, #imm`.
    pub fn cmp_ri(&mut self, wide: bool, rn: XReg, imm: Imm12) {
        self.emit(0x7100_0000 | sf(wide) | imm.0 << 10 | (rn.0 as u32) << 5 | 31);
    }
    /// `cmn rn, #imm`.
    pub fn cmn_ri(&mut self, wide: bool, rn: XReg, imm: Imm12) {
        self.emit(0x3100_0000 | sf(wide) | imm.0 << 10 | (rn.0 as u32) << 5 | 31);
    }
    pub fn and_rr(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x0a00_0000 | sf(wide) | rrr(rd, rn, rm));
    }
    pub fn orr_rr(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x2a00_0000 | sf(wide) | rrr(rd, rn, rm));
    }
    pub fn eor_rr(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x4a00_0000 | sf(wide) | rrr(rd, rn, rm));
    }
    /// `tst rn, rm`.
    pub fn tst_rr(&mut self, wide: bool, rn: XReg, rm: XReg) {
        self.emit(0x6a00_0000 | sf(wide) | rrr(XReg::ZR, rn, rm));
    }
    /// `csel rd, rn, rm, c`: `rd = c ? rn : rm`.
    pub fn csel(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg, c: Cond) {
        self.emit(0x1a80_0000 | sf(wide) | rrr(rd, rn, rm) | (c as u32) << 12);
    }
    /// `csinc rd, rn, rm, c`: `rd = c ? rn : rm + 1`.
    pub fn csinc(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg, c: Cond) {
        self.emit(0x1a80_0400 | sf(wide) | rrr(rd, rn, rm) | (c as u32) << 12);
    }
    /// `mov rd, rm` (32-bit form zero-extends).
    pub fn mov_rr(&mut self, wide: bool, rd: XReg, rm: XReg) {
        self.orr_rr(wide, rd, XReg::ZR, rm);
    }
    /// `mov rd, sp` / `mov sp, rn`.
    pub fn mov_sp(&mut self, rd: XReg, rn: XReg) {
        self.add_ri(true, rd, rn, Imm12(0));
    }
    pub fn movz(&mut self, wide: bool, rd: XReg, imm16: u16, hw: u8) {
        self.emit(0x5280_0000 | sf(wide) | (hw as u32) << 21 | (imm16 as u32) << 5 | rd.0 as u32);
    }
    pub fn movn(&mut self, wide: bool, rd: XReg, imm16: u16, hw: u8) {
        self.emit(0x1280_0000 | sf(wide) | (hw as u32) << 21 | (imm16 as u32) << 5 | rd.0 as u32);
    }
    pub fn movk(&mut self, wide: bool, rd: XReg, imm16: u16, hw: u8) {
        self.emit(0x7280_0000 | sf(wide) | (hw as u32) << 21 | (imm16 as u32) << 5 | rd.0 as u32);
    }
    /// `madd rd, rn, rm, ra` (`mul` with ra = zr).
    pub fn madd(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg, ra: XReg) {
        self.emit(0x1b00_0000 | sf(wide) | rrr(rd, rn, rm) | (ra.0 as u32) << 10);
    }
    /// `msub rd, rn, rm, ra`: ra − rn × rm.
    pub fn msub(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg, ra: XReg) {
        self.emit(0x1b00_8000 | sf(wide) | rrr(rd, rn, rm) | (ra.0 as u32) << 10);
    }
    pub fn udiv(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x1ac0_0800 | sf(wide) | rrr(rd, rn, rm));
    }
    pub fn sdiv(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x1ac0_0c00 | sf(wide) | rrr(rd, rn, rm));
    }
    pub fn lslv(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x1ac0_2000 | sf(wide) | rrr(rd, rn, rm));
    }
    pub fn lsrv(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x1ac0_2400 | sf(wide) | rrr(rd, rn, rm));
    }
    pub fn asrv(&mut self, wide: bool, rd: XReg, rn: XReg, rm: XReg) {
        self.emit(0x1ac0_2800 | sf(wide) | rrr(rd, rn, rm));
    }
    /// `ubfm rd, rn, #immr, #imms` (lsl, lsr, uxt*).
    pub fn ubfm(&mut self, wide: bool, rd: XReg, rn: XReg, immr: u8, imms: u8) {
        self.emit(
            0x5300_0000
                | sf(wide)
                | (wide as u32) << 22
                | (immr as u32) << 16
                | (imms as u32) << 10
                | (rn.0 as u32) << 5
                | rd.0 as u32,
        );
    }
    /// `sbfm rd, rn, #immr, #imms` (asr, sxt*).
    pub fn sbfm(&mut self, wide: bool, rd: XReg, rn: XReg, immr: u8, imms: u8) {
        self.emit(
            0x1300_0000
                | sf(wide)
                | (wide as u32) << 22
                | (immr as u32) << 16
                | (imms as u32) << 10
                | (rn.0 as u32) << 5
                | rd.0 as u32,
        );
    }
    /// `rev16 wd, wn`.
    pub fn rev16(&mut self, rd: XReg, rn: XReg) {
        self.emit(0x5ac0_0400 | (rn.0 as u32) << 5 | rd.0 as u32);
    }
    /// `rev wd, wn` (32) or `rev xd, xn` (64).
    pub fn rev(&mut self, wide: bool, rd: XReg, rn: XReg) {
        let op = if wide { 0xdac0_0c00 } else { 0x5ac0_0800 };
        self.emit(op | (rn.0 as u32) << 5 | rd.0 as u32);
    }
    /// Load/store with a scaled unsigned offset.
    pub fn mem_scaled(&mut self, op: MemOp, rt: XReg, rn: XReg, off: UImm12Scaled) {
        self.emit(op.base | off.0 << 10 | (rn.0 as u32) << 5 | rt.0 as u32);
    }
    /// Load/store with an unscaled signed offset (`ldur`/`stur`).
    pub fn mem_unscaled(&mut self, op: MemOp, rt: XReg, rn: XReg, off: SImm9) {
        self.emit(
            (op.base - 0x0100_0000)
                | (off.0 as u32 & 0x1ff) << 12
                | (rn.0 as u32) << 5
                | rt.0 as u32,
        );
    }
    /// Load/store `[rn, rm]`.
    pub fn mem_reg(&mut self, op: MemOp, rt: XReg, rn: XReg, rm: XReg) {
        self.emit((op.base - 0x0100_0000) | 0x0020_6800 | rrr(rt, rn, rm));
    }
    /// Bytes of a memory op.
    pub fn mem_bytes(op: MemOp) -> u8 {
        op.bytes
    }
    /// `ldaxr rt, [rn]`.
    pub fn ldaxr(&mut self, wide: bool, rt: XReg, rn: XReg) {
        let op = if wide { 0xc85f_fc00 } else { 0x885f_fc00 };
        self.emit(op | (rn.0 as u32) << 5 | rt.0 as u32);
    }
    /// `stlxr ws, rt, [rn]`.
    pub fn stlxr(&mut self, wide: bool, rs: XReg, rt: XReg, rn: XReg) {
        let op = if wide { 0xc800_fc00 } else { 0x8800_fc00 };
        self.emit(op | (rs.0 as u32) << 16 | (rn.0 as u32) << 5 | rt.0 as u32);
    }
    /// `stp rt, rt2, [sp, #-16]!`.
    pub fn push_pair(&mut self, rt: XReg, rt2: XReg) {
        self.emit(0xa980_0000 | (0x7e << 15) | (rt2.0 as u32) << 10 | 31 << 5 | rt.0 as u32);
    }
    /// `ldp rt, rt2, [sp], #16`.
    pub fn pop_pair(&mut self, rt: XReg, rt2: XReg) {
        self.emit(0xa8c0_0000 | (2 << 15) | (rt2.0 as u32) << 10 | 31 << 5 | rt.0 as u32);
    }
    /// `str rt, [sp, #-16]!`.
    pub fn push1(&mut self, rt: XReg) {
        self.emit(0xf800_0c00 | (0x1f0 << 12) | 31 << 5 | rt.0 as u32);
    }
    /// `ldr rt, [sp], #16`.
    pub fn pop1(&mut self, rt: XReg) {
        self.emit(0xf840_0400 | (16 << 12) | 31 << 5 | rt.0 as u32);
    }
    /// `blr rn`.
    pub fn blr(&mut self, rn: XReg) {
        self.emit(0xd63f_0000 | (rn.0 as u32) << 5);
    }
    /// `ret`.
    pub fn ret(&mut self) {
        self.emit(0xd65f_03c0);
    }
    /// `brk #0`.
    pub fn brk(&mut self) {
        self.emit(0xd420_0000);
    }
    pub fn b(&mut self, l: Label) {
        self.buf.use_label(l, Use::B);
    }
    pub fn bl(&mut self, l: Label) {
        self.buf.use_label(l, Use::Bl);
    }
    pub fn bcond(&mut self, c: Cond, l: Label) {
        self.buf.use_label(l, Use::BCond(c));
    }
    /// `cbz`/`cbnz rt, label`.
    pub fn cbz(&mut self, wide: bool, nz: bool, rt: XReg, l: Label) {
        self.buf.use_label(l, Use::Cbz { sf: wide, rt, nz });
    }

    /// Loads `v` with the fewest movz/movn/movk.
    pub fn mov_imm(&mut self, rd: XReg, v: u64) {
        if v >> 32 == 0 && v as u16 != 0 && (v >> 16) as u16 != 0 {
            // The common 32-bit case of the search below, without the search.
            self.movz(true, rd, v as u16, 0);
            return self.movk(true, rd, (v >> 16) as u16, 1);
        }
        let halves = [
            v as u16,
            (v >> 16) as u16,
            (v >> 32) as u16,
            (v >> 48) as u16,
        ];
        let zeros = halves.iter().filter(|&&h| h == 0).count();
        let ones = halves.iter().filter(|&&h| h == 0xffff).count();
        if v >> 32 == 0 && (v as u32 >> 16 == 0 || v as u16 == 0) {
            let hw = if v as u16 == 0 && v != 0 { 1 } else { 0 };
            return self.movz(false, rd, halves[hw as usize], hw);
        }
        let mut first = true;
        if ones > zeros {
            for (i, &h) in halves.iter().enumerate() {
                if h != 0xffff {
                    if first {
                        self.movn(true, rd, !h, i as u8);
                        first = false;
                    } else {
                        self.movk(true, rd, h, i as u8);
                    }
                }
            }
            if first {
                self.movn(true, rd, 0, 0);
            }
        } else {
            for (i, &h) in halves.iter().enumerate() {
                if h != 0 {
                    if first {
                        self.movz(true, rd, h, i as u8);
                        first = false;
                    } else {
                        self.movk(true, rd, h, i as u8);
                    }
                }
            }
            if first {
                self.movz(true, rd, 0, 0);
            }
        }
    }
}
