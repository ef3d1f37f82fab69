//! The run loop: one dense `match` over [`COp`] per instruction, registers in a
//! local array, and memory checks only where the op says so.

use super::code::{
    atomic_op, jmp_op, with_op_table, CInsn, COp, AUX_CHECKED, AUX_FETCH, AUX_IMM, AUX_JMP64,
    AUX_SIGNED, AUX_W64,
};
use super::State;
use crate::context::{ctx_field_value, field_from_code, xdp_load};
use crate::engine::{Fault, FaultKind};
use crate::helpers::{self, HelperEnv};
use crate::isa::semantics::{
    alu, atomic_rmw, cmpxchg, endian, extend_load, jmp_taken, neg, truncate,
};
use crate::isa::{AluOp, AtomicOp, Endian, JmpOp, Size, Width};
use crate::maps::MapSet;
use crate::memory::{Hit, Memory, MAX_FRAMES, STACK_FRAME_SIZE};
use crate::program::ProgType;

/// Taken may_goto budget per run (CONTRACTS.md).
pub const MAY_GOTO_BUDGET: u32 = 65_536;

/// Default number of backward jumps allowed per run in checked mode, where no
/// verifier proved termination: the bound that keeps an unverified loop from
/// hanging (see [`super::Interpreter::set_back_edge_limit`]).
pub const CHECKED_BACK_EDGE_LIMIT: u64 = 1 << 24;

#[inline(always)]
fn size_of(bytes: u8) -> Size {
    match bytes & 0xf {
        1 => Size::B,
        2 => Size::H,
        4 => Size::W,
        _ => Size::DW,
    }
}

/// Reads `bytes` little-endian bytes at `addr`.
///
/// # Safety
/// `[addr, addr + bytes)` must be readable.
#[inline(always)]
unsafe fn read(addr: u64, bytes: u8) -> u64 {
    match bytes & 0xf {
        1 => *(addr as *const u8) as u64,
        2 => (addr as *const u16).read_unaligned() as u64,
        4 => (addr as *const u32).read_unaligned() as u64,
        _ => (addr as *const u64).read_unaligned(),
    }
}

/// Writes the low `bytes` of `v` at `addr`.
///
/// # Safety
/// `[addr, addr + bytes)` must be writable.
#[inline(always)]
unsafe fn write(addr: u64, bytes: u8, v: u64) {
    match bytes & 0xf {
        1 => *(addr as *mut u8) = v as u8,
        2 => (addr as *mut u16).write_unaligned(v as u16),
        4 => (addr as *mut u32).write_unaligned(v as u32),
        _ => (addr as *mut u64).write_unaligned(v),
    }
}

macro_rules! run_loop {
    (
        $code:ident, $pc:ident, $r:ident, $i:ident, $fault:ident, { $($arms:tt)* }
        alu { $($aop:ident => $a64i:ident $a64r:ident $a32i:ident $a32r:ident;)* }
        jmp { $($jop:ident => $j64i:ident $j64r:ident $j32i:ident $j32r:ident;)* }
    ) => {
        loop {
            // SAFETY: `translate` guarantees that every jump target is a slot index,
            // that no executable slot but the last falls through, and that the last
            // does not; so `pc` is always in bounds here.
            let $i: &CInsn = unsafe { $code.get_unchecked($pc) };
            $pc += 1;
            match $i.op {
                $(
                    COp::$a64i => {
                        let d = ($i.dst & 15) as usize;
                        $r[d] = alu(Width::W64, AluOp::$aop, $r[d], $i.imm);
                    }
                    COp::$a64r => {
                        let d = ($i.dst & 15) as usize;
                        $r[d] = alu(Width::W64, AluOp::$aop, $r[d], $r[($i.src & 15) as usize]);
                    }
                    COp::$a32i => {
                        let d = ($i.dst & 15) as usize;
                        $r[d] = alu(Width::W32, AluOp::$aop, $r[d], $i.imm);
                    }
                    COp::$a32r => {
                        let d = ($i.dst & 15) as usize;
                        $r[d] = alu(Width::W32, AluOp::$aop, $r[d], $r[($i.src & 15) as usize]);
                    }
                )*
                $(
                    COp::$j64i => {
                        if jmp_taken(Width::W64, JmpOp::$jop, $r[($i.dst & 15) as usize], $i.imm) {
                            jump!($i.off);
                        }
                    }
                    COp::$j64r => {
                        if jmp_taken(Width::W64, JmpOp::$jop, $r[($i.dst & 15) as usize], $r[($i.src & 15) as usize]) {
                            jump!($i.off);
                        }
                    }
                    COp::$j32i => {
                        if jmp_taken(Width::W32, JmpOp::$jop, $r[($i.dst & 15) as usize], $i.imm) {
                            jump!($i.off);
                        }
                    }
                    COp::$j32r => {
                        if jmp_taken(Width::W32, JmpOp::$jop, $r[($i.dst & 15) as usize], $r[($i.src & 15) as usize]) {
                            jump!($i.off);
                        }
                    }
                )*
                $($arms)*
            }
        }
    };
}

/// Runs translated code until the main frame exits. `BOUNDED` adds the
/// back-edge limit of checked mode.
#[inline(never)]
pub(super) fn execute<const BOUNDED: bool>(
    code: &[CInsn],
    st: &mut State,
    maps: &mut MapSet,
    prog_type: ProgType,
    packet: &mut [u8],
) -> Result<u64, Fault> {
    let mut r = [0u64; 16];
    let stack_top = st.stack.as_ptr() as u64 + st.stack.len() as u64;
    let packet_region = if packet.is_empty() {
        crate::memory::Region::EMPTY
    } else {
        crate::memory::Region::new(packet.as_mut_ptr(), packet.len(), true)
    };
    let mut mem = Memory {
        ctx: crate::memory::Region::EMPTY,
        stack: crate::memory::Region {
            start: stack_top - STACK_FRAME_SIZE as u64,
            end: stack_top,
            writable: true,
        },
        packet: packet_region,
    };
    match prog_type {
        ProgType::Raw => {
            r[1] = packet_region.start;
            r[2] = packet.len() as u64;
        }
        ProgType::Xdp => {
            mem.ctx = crate::memory::Region::new(st.ctx.as_ptr(), st.ctx.len(), false);
            r[1] = mem.ctx.start;
        }
    }
    r[10] = stack_top;
    let mut pc: usize = 0;
    let mut depth: usize = 0;
    let mut budget = MAY_GOTO_BUDGET;
    let mut back_edges: u64 = 0;
    let back_edge_limit = st.back_edge_limit;

    macro_rules! fault {
        ($kind:expr) => {
            return Err(Fault {
                insn: pc - 1,
                kind: $kind,
            })
        };
    }
    macro_rules! jump {
        ($target:expr) => {
            pc = $target as usize
        };
    }
    // Backward jumps of checked mode (`JaBack`, `JmpBack`, may_goto) count here.
    macro_rules! jump_back {
        ($target:expr) => {{
            back_edges += 1;
            if BOUNDED && back_edges > back_edge_limit {
                fault!(FaultKind::BackEdgeLimit);
            }
            pc = $target as usize;
        }};
    }
    macro_rules! reg {
        ($n:expr) => {
            r[($n & 15) as usize]
        };
    }
    macro_rules! helper {
        ($id:expr) => {{
            let mut env = HelperEnv {
                maps: &mut *maps,
                mem: &mem,
                prog_type,
                prng: &mut st.prng,
                epoch: st.epoch,
                trace: &mut *st.trace,
            };
            match helpers::call(&mut env, $id, [r[1], r[2], r[3], r[4], r[5]]) {
                Ok(v) => r[0] = v,
                Err(kind) => fault!(kind),
            }
        }};
    }

    with_op_table!(run_loop! { code, pc, r, i, fault, {
        COp::Neg64 => reg!(i.dst) = neg(Width::W64, reg!(i.dst)),
        COp::Neg32 => reg!(i.dst) = neg(Width::W32, reg!(i.dst)),
        COp::Le16 => reg!(i.dst) = endian(Endian::Le, 16, reg!(i.dst)),
        COp::Le32 => reg!(i.dst) = endian(Endian::Le, 32, reg!(i.dst)),
        COp::Le64 => reg!(i.dst) = endian(Endian::Le, 64, reg!(i.dst)),
        COp::Be16 => reg!(i.dst) = endian(Endian::Be, 16, reg!(i.dst)),
        COp::Be32 => reg!(i.dst) = endian(Endian::Be, 32, reg!(i.dst)),
        COp::Be64 => reg!(i.dst) = endian(Endian::Be, 64, reg!(i.dst)),
        COp::Swap16 => reg!(i.dst) = endian(Endian::Swap, 16, reg!(i.dst)),
        COp::Swap32 => reg!(i.dst) = endian(Endian::Swap, 32, reg!(i.dst)),
        COp::Swap64 => reg!(i.dst) = endian(Endian::Swap, 64, reg!(i.dst)),
        COp::LdImm64 => {
            reg!(i.dst) = i.imm;
            pc += 1;
        }
        COp::LdMapValue => {
            match maps.array_value_addr(i.off as usize, i.imm as u32) {
                Some(a) => reg!(i.dst) = a,
                None => fault!(FaultKind::Engine("map set does not match the program")),
            }
            pc += 1;
        }
        // SAFETY (all unchecked accesses): the verifier proved the access inside a
        // region of this run (`Access::Proven`).
        COp::LdxB => reg!(i.dst) = extend_load(Size::B, false, unsafe { read(reg!(i.src).wrapping_add(i.off as i64 as u64), 1) }),
        COp::LdxH => reg!(i.dst) = extend_load(Size::H, false, unsafe { read(reg!(i.src).wrapping_add(i.off as i64 as u64), 2) }),
        COp::LdxW => reg!(i.dst) = extend_load(Size::W, false, unsafe { read(reg!(i.src).wrapping_add(i.off as i64 as u64), 4) }),
        COp::LdxDW => reg!(i.dst) = unsafe { read(reg!(i.src).wrapping_add(i.off as i64 as u64), 8) },
        COp::LdxSB => reg!(i.dst) = extend_load(Size::B, true, unsafe { read(reg!(i.src).wrapping_add(i.off as i64 as u64), 1) }),
        COp::LdxSH => reg!(i.dst) = extend_load(Size::H, true, unsafe { read(reg!(i.src).wrapping_add(i.off as i64 as u64), 2) }),
        COp::LdxSW => reg!(i.dst) = extend_load(Size::W, true, unsafe { read(reg!(i.src).wrapping_add(i.off as i64 as u64), 4) }),
        COp::LdxChk => {
            let addr = reg!(i.src).wrapping_add(i.off as i64 as u64);
            let bytes = i.aux & 0xf;
            match mem.check(maps.regions(), addr, bytes as u64, false) {
                Some(Hit::Plain) => {
                    // SAFETY: checked inside a region of this run.
                    let raw = unsafe { read(addr, bytes) };
                    reg!(i.dst) = extend_load(size_of(bytes), i.aux & AUX_SIGNED != 0, raw);
                }
                Some(Hit::Ctx(off)) if prog_type == ProgType::Xdp && i.aux & AUX_SIGNED == 0 => {
                    match xdp_load(off, bytes as usize, mem.packet) {
                        Ok(v) => reg!(i.dst) = v,
                        Err(kind) => fault!(kind),
                    }
                }
                Some(Hit::Ctx(off)) => fault!(FaultKind::BadCtxAccess { off, size: bytes }),
                None => fault!(FaultKind::OutOfBounds { addr, size: bytes, write: false }),
            }
        }
        COp::LdxCtx => {
            reg!(i.dst) = match field_from_code(i.imm as u8) {
                Some(f) => ctx_field_value(f, mem.packet),
                None => fault!(FaultKind::InvalidInsn),
            };
        }
        COp::StB => unsafe { write(reg!(i.dst).wrapping_add(i.off as i64 as u64), 1, i.imm) },
        COp::StH => unsafe { write(reg!(i.dst).wrapping_add(i.off as i64 as u64), 2, i.imm) },
        COp::StW => unsafe { write(reg!(i.dst).wrapping_add(i.off as i64 as u64), 4, i.imm) },
        COp::StDW => unsafe { write(reg!(i.dst).wrapping_add(i.off as i64 as u64), 8, i.imm) },
        COp::StxB => unsafe { write(reg!(i.dst).wrapping_add(i.off as i64 as u64), 1, reg!(i.src)) },
        COp::StxH => unsafe { write(reg!(i.dst).wrapping_add(i.off as i64 as u64), 2, reg!(i.src)) },
        COp::StxW => unsafe { write(reg!(i.dst).wrapping_add(i.off as i64 as u64), 4, reg!(i.src)) },
        COp::StxDW => unsafe { write(reg!(i.dst).wrapping_add(i.off as i64 as u64), 8, reg!(i.src)) },
        COp::StChk => {
            let addr = reg!(i.dst).wrapping_add(i.off as i64 as u64);
            let bytes = i.aux & 0xf;
            let v = if i.aux & AUX_IMM != 0 { i.imm } else { reg!(i.src) };
            match mem.check(maps.regions(), addr, bytes as u64, true) {
                // SAFETY: checked inside a writable region of this run.
                Some(Hit::Plain) => unsafe { write(addr, bytes, v) },
                _ if mem.ctx.contains(addr, 1) => {
                    fault!(FaultKind::BadCtxAccess { off: addr - mem.ctx.start, size: bytes })
                }
                _ => fault!(FaultKind::OutOfBounds { addr, size: bytes, write: true }),
            }
        }
        COp::Atomic => {
            let addr = reg!(i.dst).wrapping_add(i.off as i64 as u64);
            let (width, bytes) = if i.aux & AUX_W64 != 0 { (Width::W64, 8) } else { (Width::W32, 4) };
            if i.aux & AUX_CHECKED != 0
                && mem.check(maps.regions(), addr, bytes as u64, true) != Some(Hit::Plain)
            {
                fault!(FaultKind::OutOfBounds { addr, size: bytes, write: true });
            }
            // SAFETY: checked above, or proven by the verifier.
            let old = unsafe { read(addr, bytes) };
            let src = reg!(i.src);
            match atomic_op(i.aux) {
                AtomicOp::Cmpxchg => {
                    let (store, r0) = cmpxchg(width, old, r[0], src);
                    // SAFETY: as above.
                    unsafe { write(addr, bytes, store) };
                    r[0] = r0;
                }
                op => {
                    // SAFETY: as above.
                    unsafe { write(addr, bytes, atomic_rmw(width, op, old, src)) };
                    if i.aux & AUX_FETCH != 0 {
                        reg!(i.src) = truncate(width, old);
                    }
                }
            }
        }
        COp::Ja => jump!(i.off),
        COp::JaBack => jump_back!(i.off),
        COp::JmpBack => {
            let width = if i.aux & AUX_JMP64 != 0 { Width::W64 } else { Width::W32 };
            let b = if i.aux & AUX_IMM != 0 { i.imm } else { reg!(i.src) };
            if jmp_taken(width, jmp_op(i.aux), reg!(i.dst), b) {
                jump_back!(i.off);
            }
        }
        COp::MayGoto => {
            if budget == 0 {
                if (i.off as usize) < pc {
                    jump_back!(i.off);
                } else {
                    jump!(i.off);
                }
            } else {
                budget -= 1;
            }
        }
        COp::Call => helper!(i.imm as i32),
        COp::CallX => {
            let v = reg!(i.src);
            match i32::try_from(v) {
                Ok(id) if helpers::is_known(id) => helper!(id),
                _ => fault!(FaultKind::BadCallx(v)),
            }
        }
        COp::CallLocal => {
            if depth + 1 >= MAX_FRAMES {
                fault!(FaultKind::CallDepth);
            }
            st.frames[depth & (MAX_FRAMES - 1)] = super::Frame {
                ret: pc,
                saved: [r[6], r[7], r[8], r[9]],
            };
            depth += 1;
            r[10] -= STACK_FRAME_SIZE as u64;
            mem.stack.start -= STACK_FRAME_SIZE as u64;
            pc = i.off as usize;
        }
        COp::Exit => {
            if depth == 0 {
                return Ok(r[0]);
            }
            depth -= 1;
            let f = &st.frames[depth & (MAX_FRAMES - 1)];
            r[6..10].copy_from_slice(&f.saved);
            r[10] += STACK_FRAME_SIZE as u64;
            mem.stack.start += STACK_FRAME_SIZE as u64;
            pc = f.ret;
        }
        COp::Invalid => fault!(FaultKind::InvalidInsn),
    }})
}
