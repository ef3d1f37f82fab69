//! x86_64 encoders: one function per machine form, nothing else. They know
//! neither eBPF nor the register map.

use super::regs::Gpr;
use crate::buffer::{CodeBuffer, Label, LabelUse, ROOM};

/// A memory operand `[base + disp]`.
#[derive(Clone, Copy, Debug)]
pub struct Mem {
    pub base: Gpr,
    pub disp: i32,
}

/// Condition codes (the low nibble of `Jcc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cond {
    B = 0x2,
    Ae = 0x3,
    E = 0x4,
    Ne = 0x5,
    Be = 0x6,
    A = 0x7,
    L = 0xc,
    Ge = 0xd,
    Le = 0xe,
    G = 0xf,
}

impl Cond {
    /// The opposite condition.
    pub fn invert(self) -> Cond {
        match self {
            Cond::B => Cond::Ae,
            Cond::Ae => Cond::B,
            Cond::E => Cond::Ne,
            Cond::Ne => Cond::E,
            Cond::Be => Cond::A,
            Cond::A => Cond::Be,
            Cond::L => Cond::Ge,
            Cond::Ge => Cond::L,
            Cond::Le => Cond::G,
            Cond::G => Cond::Le,
        }
    }
}

/// Two-operand ALU forms `op r/m, r` (opcode byte) and their `/digit` for immediates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    Add,
    Or,
    /// Add with carry.
    Adc,
    /// Subtract with borrow.
    Sbb,
    And,
    Sub,
    Xor,
    Cmp,
}

impl Alu {
    fn opcode(self) -> u8 {
        match self {
            Alu::Add => 0x01,
            Alu::Or => 0x09,
            Alu::Adc => 0x11,
            Alu::Sbb => 0x19,
            Alu::And => 0x21,
            Alu::Sub => 0x29,
            Alu::Xor => 0x31,
            Alu::Cmp => 0x39,
        }
    }
    fn digit(self) -> u8 {
        match self {
            Alu::Add => 0,
            Alu::Or => 1,
            Alu::Adc => 2,
            Alu::Sbb => 3,
            Alu::And => 4,
            Alu::Sub => 5,
            Alu::Xor => 6,
            Alu::Cmp => 7,
        }
    }
}

/// Shift and rotate `/digit`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Rol = 0,
    Ror = 1,
    Shl = 4,
    Shr = 5,
    Sar = 7,
}

/// An immediate that fits a sign-extended byte.
#[derive(Clone, Copy, Debug)]
pub struct Imm8(pub i8);

impl TryFrom<i64> for Imm8 {
    type Error = ();
    fn try_from(v: i64) -> Result<Self, ()> {
        i8::try_from(v).map(Imm8).map_err(|_| ())
    }
}

/// An immediate that fits a sign-extended 32-bit field.
#[derive(Clone, Copy, Debug)]
pub struct Imm32(pub i32);

impl TryFrom<i64> for Imm32 {
    type Error = ();
    fn try_from(v: i64) -> Result<Self, ()> {
        i32::try_from(v).map(Imm32).map_err(|_| ())
    }
}

/// Label references: `jmp`, `jcc` (each with a rel8 short form) and `call`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Jmp,
    Jcc(Cond),
    Call,
}

impl LabelUse for Use {
    #[inline(always)]
    fn long_len(self) -> usize {
        match self {
            Use::Jmp | Use::Call => 5,
            Use::Jcc(_) => 6,
        }
    }
    #[inline(always)]
    fn short_len(self) -> Option<usize> {
        match self {
            Use::Jmp | Use::Jcc(_) => Some(2),
            Use::Call => None,
        }
    }
    #[inline(always)]
    fn short_fits(self, d: i64) -> bool {
        i8::try_from(d - 2).is_ok()
    }
    #[inline(always)]
    fn encode(self, out: &mut [u8; ROOM], d: i64, short: bool) -> bool {
        if short {
            let Ok(rel) = i8::try_from(d - 2) else {
                return false;
            };
            out[0] = match self {
                Use::Jmp => 0xeb,
                Use::Jcc(c) => 0x70 | c as u8,
                Use::Call => return false,
            };
            out[1] = rel as u8;
            return true;
        }
        let len = self.long_len();
        let Ok(rel) = i32::try_from(d - len as i64) else {
            return false;
        };
        match self {
            Use::Jmp => out[0] = 0xe9,
            Use::Call => out[0] = 0xe8,
            Use::Jcc(c) => {
                out[0] = 0x0f;
                out[1] = 0x80 | c as u8;
            }
        }
        out[len - 4..len].copy_from_slice(&rel.to_le_bytes());
        true
    }
}

/// The x86_64 assembler: a [`CodeBuffer`] plus one method per machine form.
///
/// Each form writes its whole instruction into the buffer's
/// [`CodeBuffer::room`] and keeps as many bytes as it has: optional parts (a
/// REX prefix, a SIB byte, 8- or 32-bit displacements and immediates) are
/// always written and only counted when present, so the length, not the
/// control flow, depends on the operands.
#[derive(Default)]
pub struct Asm {
    pub buf: CodeBuffer<Use>,
}

/// A REX prefix for `w`, the ModRM reg field `reg` and the rm/base `base`,
/// written at `r[at]`; returns where the next byte goes (after it only when
/// it is needed: any bit set, or `force`d for byte registers spl..dil).
#[inline(always)]
fn rex(r: &mut [u8; ROOM], at: usize, w: bool, reg: u8, base: u8, force: bool) -> usize {
    // (Register numbers are below 16: bit 3 is the extension bit.)
    let ext = (reg & 8) >> 1 | (base & 8) >> 3;
    r[at] = 0x40 | (w as u8) << 3 | ext;
    at + ((w as u8 | ext) != 0 || force) as usize
}

/// Register-direct ModRM at `r[at]`; returns the next position.
#[inline(always)]
fn modrm_rr(r: &mut [u8; ROOM], at: usize, reg: u8, rm: Gpr) -> usize {
    r[at] = 0xc0 | (reg & 7) << 3 | rm.low();
    at + 1
}

/// ModRM (plus SIB for rsp/r12 bases) and displacement of `[base + disp]` at
/// `r[at]`, with the shortest displacement; returns the next position.
#[inline(always)]
fn modrm_mem(r: &mut [u8; ROOM], at: usize, reg: u8, m: Mem) -> usize {
    let base = m.base.low();
    let sib = (base == 4) as usize;
    // rbp/r13 as a base always take a displacement.
    let some = m.disp != 0 || base == 5;
    let long = Imm8::try_from(m.disp as i64).is_err();
    // mod 00 (none), 01 (disp8) or 10 (disp32).
    let md = ((some as u8) << 6) << long as u8;
    r[at] = md | (reg & 7) << 3 | base;
    r[at + 1] = 0x24;
    let d = at + 1 + sib;
    r[d..d + 4].copy_from_slice(&m.disp.to_le_bytes());
    d + some as usize * (1 + 3 * long as usize)
}

/// Operand-size prefix: 16-bit operands.
const P16: u8 = 0x66;
/// `lock` prefix.
const LOCK: u8 = 0xf0;

/// Writes an 8- or 32-bit immediate at `r[at]`: its low byte is the 8-bit one.
/// Returns the next position.
#[inline(always)]
fn imm(r: &mut [u8; ROOM], at: usize, imm: i32, short: bool) -> usize {
    r[at..at + 4].copy_from_slice(&imm.to_le_bytes());
    at + if short { 1 } else { 4 }
}

/// Whether `imm` fits a sign-extended byte.
#[inline(always)]
fn fits8(imm: i32) -> bool {
    imm as i8 as i32 == imm
}

impl Asm {
    /// Keeps `n` bytes of what was written into the room.
    #[inline(always)]
    fn done(&mut self, n: usize) {
        self.buf.advance(n);
    }

    /// `prefix? REX? opcode ModRM(reg, rm)` for the register forms.
    #[inline(always)]
    fn op_rr(&mut self, w: bool, opcode: &[u8], reg: u8, rm: Gpr, force: bool) {
        let r = self.buf.room();
        let mut p = rex(r, 0, w, reg, rm.0, force);
        r[p..p + opcode.len()].copy_from_slice(opcode);
        p += opcode.len();
        let n = modrm_rr(r, p, reg, rm);
        self.done(n);
    }

    /// `prefix? REX? opcode ModRM(reg, [m])` for the memory forms (`prefix`:
    /// 0 for none, else 0x66 for 16-bit operands or 0xf0 for `lock`).
    #[inline(always)]
    fn op_rm(&mut self, prefix: u8, w: bool, opcode: &[u8], reg: u8, m: Mem, force: bool) {
        let r = self.buf.room();
        r[0] = prefix;
        let p = rex(r, (prefix != 0) as usize, w, reg, m.base.0, force);
        r[p..p + opcode.len()].copy_from_slice(opcode);
        let n = modrm_mem(r, p + opcode.len(), reg, m);
        self.done(n);
    }

    /// `op dst, src` (register forms of add/or/and/sub/xor/cmp).
    #[inline(always)]
    pub fn alu_rr(&mut self, op: Alu, w: bool, dst: Gpr, src: Gpr) {
        self.op_rr(w, &[op.opcode()], src.0, dst, false);
    }

    /// `op dst, imm` with the shortest immediate.
    #[inline(always)]
    pub fn alu_ri(&mut self, op: Alu, w: bool, dst: Gpr, i: i32) {
        let short = fits8(i);
        let r = self.buf.room();
        let p = rex(r, 0, w, 0, dst.0, false);
        // 0x83: imm8, 0x81: imm32.
        r[p] = 0x81 | (short as u8) << 1;
        let p = modrm_rr(r, p + 1, op.digit(), dst);
        let n = imm(r, p, i, short);
        self.done(n);
    }

    /// `op reg, [mem]` (add/or/and/sub/xor/cmp with a memory source).
    pub fn alu_rm(&mut self, op: Alu, w: bool, reg: Gpr, m: Mem) {
        self.op_rm(0, w, &[op.opcode() + 2], reg.0, m, false);
    }

    /// `op qword/dword [mem], imm`.
    pub fn alu_mi(&mut self, op: Alu, w: bool, m: Mem, i: i32) {
        let short = fits8(i);
        let r = self.buf.room();
        let p = rex(r, 0, w, 0, m.base.0, false);
        r[p] = 0x81 | (short as u8) << 1;
        let p = modrm_mem(r, p + 1, op.digit(), m);
        let n = imm(r, p, i, short);
        self.done(n);
    }

    /// `test a, b`.
    #[inline(always)]
    pub fn test_rr(&mut self, w: bool, a: Gpr, b: Gpr) {
        self.op_rr(w, &[0x85], b.0, a, false);
    }

    /// `test dst, imm32`.
    pub fn test_ri(&mut self, w: bool, dst: Gpr, i: i32) {
        let r = self.buf.room();
        let p = rex(r, 0, w, 0, dst.0, false);
        r[p] = 0xf7;
        let p = modrm_rr(r, p + 1, 0, dst);
        let n = imm(r, p, i, false);
        self.done(n);
    }

    /// `mov dst, src` (32-bit form zero-extends).
    #[inline(always)]
    pub fn mov_rr(&mut self, w: bool, dst: Gpr, src: Gpr) {
        self.op_rr(w, &[0x89], src.0, dst, false);
    }

    /// `mov dst32, imm32` (zero-extends to 64 bits).
    #[inline(always)]
    pub fn mov_ri32(&mut self, dst: Gpr, i: u32) {
        let r = self.buf.room();
        let p = rex(r, 0, false, 0, dst.0, false);
        r[p] = 0xb8 | dst.low();
        let n = imm(r, p + 1, i as i32, false);
        self.done(n);
    }

    /// `mov dst, imm32` sign-extended to 64 bits.
    #[inline(always)]
    pub fn mov_ri_sx(&mut self, dst: Gpr, i: Imm32) {
        let r = self.buf.room();
        let p = rex(r, 0, true, 0, dst.0, false);
        r[p] = 0xc7;
        let p = modrm_rr(r, p + 1, 0, dst);
        let n = imm(r, p, i.0, false);
        self.done(n);
    }

    /// `movabs dst, imm64`.
    pub fn movabs(&mut self, dst: Gpr, i: u64) {
        let r = self.buf.room();
        let p = rex(r, 0, true, 0, dst.0, false);
        r[p] = 0xb8 | dst.low();
        r[p + 1..p + 9].copy_from_slice(&i.to_le_bytes());
        self.done(p + 9);
    }

    /// `imul dst, src`.
    #[inline(always)]
    pub fn imul_rr(&mut self, w: bool, dst: Gpr, src: Gpr) {
        self.op_rr(w, &[0x0f, 0xaf], dst.0, src, false);
    }

    /// `imul dst, src, imm`.
    #[inline(always)]
    pub fn imul_rri(&mut self, w: bool, dst: Gpr, src: Gpr, i: i32) {
        let short = fits8(i);
        let r = self.buf.room();
        let p = rex(r, 0, w, dst.0, src.0, false);
        // 0x6b: imm8, 0x69: imm32.
        r[p] = 0x69 | (short as u8) << 1;
        let p = modrm_rr(r, p + 1, dst.0, src);
        let n = imm(r, p, i, short);
        self.done(n);
    }

    /// Shift or rotate by an immediate count.
    #[inline(always)]
    pub fn shift_ri(&mut self, op: Shift, w: bool, dst: Gpr, n: u8) {
        let one = n == 1;
        let r = self.buf.room();
        let p = rex(r, 0, w, 0, dst.0, false);
        // 0xd1: by one, 0xc1: by imm8.
        r[p] = 0xc1 | (one as u8) << 4;
        let p = modrm_rr(r, p + 1, op as u8, dst);
        r[p] = n;
        self.done(p + !one as usize);
    }

    /// Shift by `cl`.
    pub fn shift_cl(&mut self, op: Shift, w: bool, dst: Gpr) {
        self.op_rr(w, &[0xd3], op as u8, dst, false);
    }

    /// `rol dst16, 8`: swaps the two low bytes.
    pub fn rol16_8(&mut self, dst: Gpr) {
        let r = self.buf.room();
        r[0] = P16;
        let p = rex(r, 1, false, 0, dst.0, false);
        r[p] = 0xc1;
        let p = modrm_rr(r, p + 1, Shift::Rol as u8, dst);
        r[p] = 8;
        self.done(p + 1);
    }

    /// `cmovcc dst, src`: `dst = src` if `c` holds (the 32-bit form zero-extends
    /// `dst` whether or not it does).
    pub fn cmov_rr(&mut self, c: Cond, w: bool, dst: Gpr, src: Gpr) {
        self.op_rr(w, &[0x0f, 0x40 | c as u8], dst.0, src, false);
    }

    /// `setcc dst8`: the low byte of `dst` = whether `c` holds.
    pub fn setcc(&mut self, c: Cond, dst: Gpr) {
        self.op_rr(
            false,
            &[0x0f, 0x90 | c as u8],
            0,
            dst,
            (4..8).contains(&dst.0),
        );
    }

    /// `neg dst`.
    pub fn neg(&mut self, w: bool, dst: Gpr) {
        self.op_rr(w, &[0xf7], 3, dst, false);
    }

    /// `div src` (unsigned) or `idiv src` (signed): rdx:rax / src.
    pub fn div(&mut self, w: bool, signed: bool, src: Gpr) {
        self.op_rr(w, &[0xf7], 6 | signed as u8, src, false);
    }

    /// `cqo` (64-bit) or `cdq` (32-bit): sign-extends rax into rdx.
    pub fn cqo(&mut self, w: bool) {
        if w {
            self.buf.put1(0x48);
        }
        self.buf.put1(0x99);
    }

    /// `bswap dst`.
    pub fn bswap(&mut self, w: bool, dst: Gpr) {
        let r = self.buf.room();
        let p = rex(r, 0, w, 0, dst.0, false);
        r[p] = 0x0f;
        r[p + 1] = 0xc8 | dst.low();
        self.done(p + 2);
    }

    /// `movzx dst32, src8/src16` (`bytes` 1 or 2).
    pub fn movzx_rr(&mut self, bytes: u8, dst: Gpr, src: Gpr) {
        let byte = bytes == 1;
        let force = byte && (4..8).contains(&src.0);
        // 0xb6: from a byte, 0xb7: from a word.
        self.op_rr(false, &[0x0f, 0xb7 - byte as u8], dst.0, src, force);
    }

    /// `movsx dst, src8/16` or `movsxd dst, src32` at width `w`.
    pub fn movsx_rr(&mut self, w: bool, bytes: u8, dst: Gpr, src: Gpr) {
        let force = bytes == 1 && (4..8).contains(&src.0);
        match bytes {
            1 => self.op_rr(w, &[0x0f, 0xbe], dst.0, src, force),
            2 => self.op_rr(w, &[0x0f, 0xbf], dst.0, src, force),
            _ => self.op_rr(w, &[0x63], dst.0, src, force),
        }
    }

    /// Load of `bytes` (1, 2, 4, 8) into `dst`, zero- or sign-extended to 64 bits.
    #[inline(always)]
    pub fn load(&mut self, bytes: u8, signed: bool, dst: Gpr, m: Mem) {
        let w = signed || bytes == 8;
        // By size (1, 2, 4, 8) and signedness: the opcode (one byte when
        // the second is 0).
        const OPCODES: [[[u8; 2]; 4]; 2] = [
            [[0x0f, 0xb6], [0x0f, 0xb7], [0x8b, 0], [0x8b, 0]],
            [[0x0f, 0xbe], [0x0f, 0xbf], [0x63, 0], [0x8b, 0]],
        ];
        let opcode = OPCODES[signed as usize][(bytes.trailing_zeros() & 3) as usize];
        // (Derived rather than stored: a length known to be 1 or 2 keeps
        // every later position provably inside the room, unchecked.)
        let len = 1 + (opcode[1] != 0) as usize;
        let r = self.buf.room();
        let p = rex(r, 0, w, dst.0, m.base.0, false);
        r[p..p + 2].copy_from_slice(&opcode);
        let n = modrm_mem(r, p + len, dst.0, m);
        self.done(n);
    }

    /// `movbe dst, [mem]` of 2, 4 or 8 bytes (2 writes only the low 16 bits).
    pub fn movbe_load(&mut self, bytes: u8, dst: Gpr, m: Mem) {
        self.op_rm(
            if bytes == 2 { P16 } else { 0 },
            bytes == 8,
            &[0x0f, 0x38, 0xf0],
            dst.0,
            m,
            false,
        );
    }

    /// Store of the low `bytes` of `src`.
    #[inline(always)]
    pub fn store(&mut self, bytes: u8, m: Mem, src: Gpr) {
        let byte = bytes == 1;
        let force = byte && (4..8).contains(&src.0);
        // 0x88: byte, 0x89: the others.
        let opcode = 0x89 - byte as u8;
        self.op_rm(
            if bytes == 2 { P16 } else { 0 },
            bytes == 8,
            &[opcode],
            src.0,
            m,
            force,
        );
    }

    /// Store of an immediate (8 bytes: sign-extended 32-bit immediate).
    #[inline(always)]
    pub fn store_i(&mut self, bytes: u8, m: Mem, i: i32) {
        let r = self.buf.room();
        r[0] = P16;
        let p = rex(r, (bytes == 2) as usize, bytes == 8, 0, m.base.0, false);
        // 0xc6: byte, 0xc7: the others.
        r[p] = 0xc7 - (bytes == 1) as u8;
        let p = modrm_mem(r, p + 1, 0, m);
        r[p..p + 4].copy_from_slice(&i.to_le_bytes());
        self.done(p + (bytes as usize).min(4));
    }

    /// `lea dst, [mem]`.
    pub fn lea(&mut self, dst: Gpr, m: Mem) {
        self.op_rm(0, true, &[0x8d], dst.0, m, false);
    }

    /// `lock op [mem], src` for add/or/and/xor.
    pub fn lock_alu_mr(&mut self, op: Alu, w: bool, m: Mem, src: Gpr) {
        self.op_rm(LOCK, w, &[op.opcode()], src.0, m, false);
    }

    /// `lock xadd [mem], src`.
    pub fn lock_xadd(&mut self, w: bool, m: Mem, src: Gpr) {
        self.op_rm(LOCK, w, &[0x0f, 0xc1], src.0, m, false);
    }

    /// `xchg [mem], src` (implicitly locked).
    pub fn xchg_mr(&mut self, w: bool, m: Mem, src: Gpr) {
        self.op_rm(0, w, &[0x87], src.0, m, false);
    }

    /// `lock cmpxchg [mem], src` (compares with rax).
    pub fn lock_cmpxchg(&mut self, w: bool, m: Mem, src: Gpr) {
        self.op_rm(LOCK, w, &[0x0f, 0xb1], src.0, m, false);
    }

    /// `push r`.
    pub fn push(&mut self, r: Gpr) {
        let b = self.buf.room();
        let p = rex(b, 0, false, 0, r.0, false);
        b[p] = 0x50 | r.low();
        self.done(p + 1);
    }

    /// `pop r`.
    pub fn pop(&mut self, r: Gpr) {
        let b = self.buf.room();
        let p = rex(b, 0, false, 0, r.0, false);
        b[p] = 0x58 | r.low();
        self.done(p + 1);
    }

    /// `call [mem]`.
    pub fn call_m(&mut self, m: Mem) {
        self.op_rm(0, false, &[0xff], 2, m, false);
    }

    /// `ret`.
    pub fn ret(&mut self) {
        self.buf.put1(0xc3);
    }

    /// `int3`.
    pub fn int3(&mut self) {
        self.buf.put1(0xcc);
    }

    /// `jmp label`.
    #[inline(always)]
    pub fn jmp(&mut self, l: Label) {
        self.buf.use_label(l, Use::Jmp);
    }

    /// `jcc label`.
    #[inline(always)]
    pub fn jcc(&mut self, c: Cond, l: Label) {
        self.buf.use_label(l, Use::Jcc(c));
    }

    /// `call label`.
    pub fn call(&mut self, l: Label) {
        self.buf.use_label(l, Use::Call);
    }

    /// `lea dst, [mem]` at either width (the 32-bit form zero-extends).
    pub fn lea_w(&mut self, w: bool, dst: Gpr, m: Mem) {
        self.op_rm(0, w, &[0x8d], dst.0, m, false);
    }

    /// `cmp size ptr [mem], imm` for 1, 4 or 8 bytes (8: the immediate
    /// sign-extended), and 2 bytes with an immediate that fits a
    /// sign-extended byte (the 16-bit immediate form stalls the decoders).
    /// Returns false, having emitted nothing, for a 16-bit one that does not.
    pub fn cmp_mi(&mut self, bytes: u8, m: Mem, i: i32) -> bool {
        if bytes != 1 {
            if bytes == 2 && !fits8(i) {
                return false;
            }
            self.alu_mi_p(if bytes == 2 { P16 } else { 0 }, bytes == 8, m, i);
            return true;
        }
        let r = self.buf.room();
        let p = rex(r, 0, false, 0, m.base.0, false);
        r[p] = 0x80;
        let p = modrm_mem(r, p + 1, Alu::Cmp.digit(), m);
        r[p] = i as u8;
        self.done(p + 1);
        true
    }

    /// `cmp [mem], imm` at 16 (prefix 0x66), 32 or 64 bits.
    fn alu_mi_p(&mut self, prefix: u8, w: bool, m: Mem, i: i32) {
        let short = fits8(i);
        let r = self.buf.room();
        r[0] = prefix;
        let p = rex(r, (prefix != 0) as usize, w, 0, m.base.0, false);
        r[p] = 0x81 | (short as u8) << 1;
        let p = modrm_mem(r, p + 1, Alu::Cmp.digit(), m);
        let n = imm(r, p, i, short);
        self.done(n);
    }

    /// `test size ptr [mem], imm` for 1, 4 or 8 bytes (8: the immediate
    /// sign-extended). Returns false, having emitted nothing, for 2 bytes.
    pub fn test_mi(&mut self, bytes: u8, m: Mem, i: i32) -> bool {
        if bytes == 2 {
            return false;
        }
        let byte = bytes == 1;
        let r = self.buf.room();
        let p = rex(r, 0, bytes == 8, 0, m.base.0, false);
        // 0xf6: byte, 0xf7: the others.
        r[p] = 0xf7 - byte as u8;
        let p = modrm_mem(r, p + 1, 0, m);
        let n = imm(r, p, i, byte);
        self.done(n);
        true
    }
}

/// Appends `n` bytes of no-ops: the recommended multi-byte `nop` forms, at
/// most 9 bytes each.
pub fn nops(out: &mut alloc::vec::Vec<u8>, mut n: usize) {
    const FORMS: [&[u8]; 9] = [
        &[0x90],
        &[0x66, 0x90],
        &[0x0f, 0x1f, 0x00],
        &[0x0f, 0x1f, 0x40, 0x00],
        &[0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
        &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ];
    while n > 0 {
        let k = n.min(FORMS.len());
        out.extend_from_slice(FORMS[k - 1]);
        n -= k;
    }
}
