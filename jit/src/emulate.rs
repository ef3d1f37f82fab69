//! Running aarch64 and riscv64 code on this machine under the unicorn
//! emulator. Guest addresses equal host addresses: the run's memory (packet,
//! eBPF stack, context) is mapped into the guest where it lives in the host,
//! so pointers need no translation and helpers work on the same bytes. Host
//! functions are reached through magic addresses whose execution is hooked.

use crate::abi;
use crate::exec_mem::{Host, RunCtx};
use crate::{Arch, Compiled};
use unicorn_engine::{
    Arch as UcArch, HookType, MemType, Mode, Prot, RegisterARM64, RegisterRISCV, Unicorn,
};

const PAGE: u64 = 4096;
/// Where the code is mapped.
const CODE: u64 = 0x1000_0000;
/// The native (not eBPF) stack of the emulated code.
const STACK: u64 = 0x2000_0000;
const STACK_SIZE: u64 = 256 * 1024;
/// Magic addresses: the helper function, the check function, the return address.
const MAGIC: u64 = 0x3000_0000;
const MAGIC_HELPER: u64 = MAGIC;
const MAGIC_CHECK: u64 = MAGIC + 4;
const MAGIC_CALLX: u64 = MAGIC + 8;
const MAGIC_RETURN: u64 = MAGIC + 12;
/// Helpers with slots of their own ([`abi::HELPERS`]): id `i` at `MAGIC_SLOTS + 4 * (i - 1)`.
const MAGIC_SLOTS: u64 = MAGIC + 16;
/// End of the hooked magic addresses.
const MAGIC_END: u64 = MAGIC_SLOTS + 4 * abi::HELPER_SLOTS as u64;

/// Why an emulated run could not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmuError(pub String);

impl std::fmt::Display for EmuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "emulator: {}", self.0)
    }
}

impl std::error::Error for EmuError {}

fn err(what: &str, e: unicorn_engine::uc_error) -> EmuError {
    EmuError(format!("{what}: {e:?}"))
}

/// Register numbers the run needs, per architecture.
struct Regs {
    args: [i32; 6],
    ret: i32,
    lr: i32,
    sp: i32,
    pc: i32,
}

fn regs(arch: Arch) -> Regs {
    match arch {
        Arch::Riscv64 => Regs {
            args: [
                RegisterRISCV::X10 as i32,
                RegisterRISCV::X11 as i32,
                RegisterRISCV::X12 as i32,
                RegisterRISCV::X13 as i32,
                RegisterRISCV::X14 as i32,
                RegisterRISCV::X15 as i32,
            ],
            ret: RegisterRISCV::X10 as i32,
            lr: RegisterRISCV::X1 as i32,
            sp: RegisterRISCV::X2 as i32,
            pc: RegisterRISCV::PC as i32,
        },
        _ => Regs {
            args: [
                RegisterARM64::X0 as i32,
                RegisterARM64::X1 as i32,
                RegisterARM64::X2 as i32,
                RegisterARM64::X3 as i32,
                RegisterARM64::X4 as i32,
                RegisterARM64::X5 as i32,
            ],
            ret: RegisterARM64::X0 as i32,
            lr: RegisterARM64::X30 as i32,
            sp: RegisterARM64::SP as i32,
            pc: RegisterARM64::PC as i32,
        },
    }
}

/// The context block on a page of its own, so mapping it aliases nothing else.
#[repr(C, align(4096))]
struct CtxPage {
    ctx: RunCtx,
    _pad: [u8; PAGE as usize - abi::SIZE],
}

struct Data<'h> {
    host: &'h mut dyn Host,
    ctx_addr: u64,
    /// Pages mapped so far (start, end).
    mapped: Vec<(u64, u64)>,
    error: Option<EmuError>,
}

fn read_u64<D>(uc: &Unicorn<'_, D>, addr: u64) -> u64 {
    let mut b = [0u8; 8];
    let _ = uc.mem_read(addr, &mut b);
    u64::from_le_bytes(b)
}

fn write_u64<D>(uc: &mut Unicorn<'_, D>, addr: u64, v: u64) {
    let _ = uc.mem_write(addr, &v.to_le_bytes());
}

/// Maps host pages `[start, end)` into the guest at the same addresses,
/// skipping pages already mapped.
fn map_host(uc: &mut Unicorn<'_, Data<'_>>, start: u64, end: u64) -> Result<(), EmuError> {
    let mut page = start & !(PAGE - 1);
    while page < end {
        let taken = uc
            .get_data()
            .mapped
            .iter()
            .any(|&(s, e)| page >= s && page < e);
        if !taken {
            // SAFETY: the page belongs to memory the caller keeps alive and does
            // not touch for the whole emulation (the run's regions, borrowed by
            // `run`); the guest reaches it only through accesses the host check
            // allowed (checked mode) or the verifier proved (verified mode).
            unsafe {
                uc.mem_map_ptr(
                    page,
                    PAGE,
                    Prot::READ | Prot::WRITE,
                    page as *mut std::ffi::c_void,
                )
            }
            .map_err(|e| err("map host memory", e))?;
            uc.get_data_mut().mapped.push((page, page + PAGE));
        }
        page += PAGE;
    }
    Ok(())
}

/// Runs `compiled` (aarch64 or riscv64) with the context `ctx`, the host
/// memory `regions` (start, length) mapped in, and `host` answering helper
/// calls and checks. Returns r0; faults are left in `ctx` as natively.
pub fn run(
    compiled: &Compiled,
    ctx: &mut RunCtx,
    regions: &[(u64, u64)],
    host: &mut dyn Host,
) -> Result<u64, EmuError> {
    let (arch, mode) = match compiled.arch {
        Arch::Aarch64 => (UcArch::ARM64, Mode::ARM),
        Arch::Riscv64 => (UcArch::RISCV, Mode::RISCV64),
        Arch::X86_64 => return Err(EmuError("x86_64 code runs natively".into())),
    };
    let r = regs(compiled.arch);
    let mut page = Box::new(CtxPage {
        ctx: ctx.clone(),
        _pad: [0; PAGE as usize - abi::SIZE],
    });
    page.ctx.set(abi::HOST_HELPER, MAGIC_HELPER);
    page.ctx.set(abi::HOST_CHECK, MAGIC_CHECK);
    page.ctx.set(abi::HOST_CALLX, MAGIC_CALLX);
    for i in 0..abi::HELPER_SLOTS {
        page.ctx
            .set(abi::HELPERS + 8 * i as i32, MAGIC_SLOTS + 4 * i as u64);
    }
    page.ctx.set(abi::FAULT_KIND, 0);
    let ctx_addr = &mut page.ctx as *mut RunCtx as u64;
    let data = Data {
        host,
        ctx_addr,
        mapped: Vec::new(),
        error: None,
    };
    let mut uc = Unicorn::new_with_data(arch, mode, data).map_err(|e| err("create", e))?;
    let code_len = (compiled.code.len() as u64).div_ceil(PAGE).max(1) * PAGE;
    for (addr, len) in [(CODE, code_len), (STACK, STACK_SIZE), (MAGIC, PAGE)] {
        if regions.iter().any(|&(s, l)| s < addr + len && addr < s + l)
            || (ctx_addr < addr + len && addr <= ctx_addr)
        {
            return Err(EmuError(format!(
                "host memory at {addr:#x} collides with the emulator's layout"
            )));
        }
        uc.mem_map(addr, len, Prot::ALL)
            .map_err(|e| err("map", e))?;
    }
    uc.mem_write(CODE, &compiled.code)
        .map_err(|e| err("write code", e))?;
    // Host functions return at once (the hook below has done their work).
    let ret_insn: u32 = if compiled.arch == Arch::Aarch64 {
        0xd65f_03c0
    } else {
        0x0000_8067
    };
    let fill: Vec<u8> = (0..PAGE / 4).flat_map(|_| ret_insn.to_le_bytes()).collect();
    uc.mem_write(MAGIC, &fill).map_err(|e| err("write", e))?;
    map_host(&mut uc, ctx_addr, ctx_addr + PAGE)?;
    for &(s, l) in regions {
        if l > 0 {
            map_host(&mut uc, s, s + l)?;
        }
    }
    let args = r.args;
    let (ret, ret2, lr, pc) = (r.ret, r.args[1], r.lr, r.pc);
    uc.add_code_hook(MAGIC, MAGIC_END - 1, move |uc, addr, _| {
        let a: Vec<u64> = args.iter().map(|&x| uc.reg_read(x).unwrap_or(0)).collect();
        let ctx_addr = uc.get_data().ctx_addr;
        // The context is host memory mapped into the guest; work on a copy.
        let mut ctx = RunCtx::default();
        for (i, w) in ctx.words.iter_mut().enumerate() {
            *w = read_u64(uc, ctx_addr + 8 * i as u64);
        }
        let (r0, r1) = if addr == MAGIC_CHECK {
            let c = crate::exec_mem::check_with(&mut ctx, uc.get_data_mut().host, a[1], a[2]);
            (c.status, c.value)
        } else if addr == MAGIC_RETURN {
            // The end of the run: `emu_start` stops here before the hook matters.
            return;
        } else {
            let (id, callx) = if addr >= MAGIC_SLOTS {
                ((addr - MAGIC_SLOTS) / 4 + 1, false)
            } else {
                (ctx.get(abi::HELPER_ID), addr == MAGIC_CALLX)
            };
            let v = crate::exec_mem::helper_with(
                &mut ctx,
                uc.get_data_mut().host,
                id,
                callx,
                [a[0], a[1], a[2], a[3], a[4]],
            );
            (v, 0)
        };
        for off in [abi::FAULT_KIND, abi::FAULT_PC] {
            write_u64(uc, ctx_addr + off as u64, ctx.get(off));
        }
        let back = uc.reg_read(lr).unwrap_or(0);
        let _ = uc.reg_write(ret, r0);
        let _ = uc.reg_write(ret2, r1);
        let _ = uc.reg_write(pc, back);
    })
    .map_err(|e| err("hook", e))?;
    // Memory the host hands out during the run (map values) is mapped on first touch.
    uc.add_mem_hook(
        HookType::MEM_READ_UNMAPPED | HookType::MEM_WRITE_UNMAPPED,
        1,
        0,
        |uc, kind, addr, size, _| {
            let write = if kind == MemType::WRITE_UNMAPPED {
                abi::ACCESS_WRITE
            } else {
                0
            };
            let fp = read_u64(uc, uc.get_data().ctx_addr + abi::CUR_FP as u64);
            let packed = abi::pack_check(0, write, size);
            if uc.get_data_mut().host.check(addr, packed, fp) != Ok(crate::exec_mem::Checked::Plain)
            {
                let at = uc.pc_read().unwrap_or(0).wrapping_sub(CODE);
                uc.get_data_mut().error = Some(EmuError(format!(
                    "unmapped access at {addr:#x} ({size} bytes) from code offset {at:#x}"
                )));
                return false;
            }
            match map_host(uc, addr, addr + size as u64) {
                Ok(()) => true,
                Err(e) => {
                    uc.get_data_mut().error = Some(e);
                    false
                }
            }
        },
    )
    .map_err(|e| err("hook", e))?;
    uc.reg_write(r.args[0], ctx_addr)
        .map_err(|e| err("reg", e))?;
    uc.reg_write(r.sp, STACK + STACK_SIZE)
        .map_err(|e| err("reg", e))?;
    uc.reg_write(r.lr, MAGIC_RETURN)
        .map_err(|e| err("reg", e))?;
    let res = uc.emu_start(CODE, MAGIC_RETURN, 0, 0);
    if let Some(e) = uc.get_data_mut().error.take() {
        return Err(e);
    }
    res.map_err(|e| {
        let pc = uc.reg_read(r.pc).unwrap_or(0);
        EmuError(format!("{e:?} at code offset {:#x}", pc.wrapping_sub(CODE)))
    })?;
    let r0 = uc.reg_read(r.ret).map_err(|e| err("reg", e))?;
    drop(uc);
    ctx.words.copy_from_slice(&page.ctx.words);
    Ok(r0)
}
