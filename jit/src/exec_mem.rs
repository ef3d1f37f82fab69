//! Executable memory, and the only `unsafe` of the crate.
//!
//! Code is copied into read-write pages, the rest of the last page is filled
//! with trap instructions, and the pages are then sealed read+execute: no page
//! is ever writable and executable at once. Programs that fit one page take it
//! from an [`ExecPool`], so compiling a small program costs two `mprotect`s
//! rather than an `mmap`/`munmap` pair; larger ones get their own mapping.
//! The pool is an explicit object (no global state): clones share it.

use crate::abi;
use std::sync::{Arc, Mutex};

/// Pages mapped at once when the pool runs dry.
const CHUNK_PAGES: usize = 16;

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

#[derive(Default)]
struct PoolInner {
    /// Addresses of free single pages (mapped, read+execute or read-write).
    free: Vec<usize>,
    /// Whole chunks, unmapped when the last user goes.
    chunks: Vec<(usize, usize)>,
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        for &(addr, len) in &self.chunks {
            // SAFETY: each chunk was mapped by `mmap` with this length, and no
            // code in it can still run: every `ExecCode` holds the pool alive.
            unsafe { libc::munmap(addr as *mut libc::c_void, len) };
        }
    }
}

/// A pool of single executable pages for small programs.
#[derive(Clone, Default)]
pub struct ExecPool {
    inner: Arc<Mutex<PoolInner>>,
}

/// Failure to get or protect memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecMemError(pub String);

impl std::fmt::Display for ExecMemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "executable memory: {}", self.0)
    }
}

impl std::error::Error for ExecMemError {}

fn map(len: usize) -> Result<usize, ExecMemError> {
    // SAFETY: an anonymous private mapping at an address of the kernel's choice
    // aliases nothing.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(ExecMemError(format!(
            "mmap of {len} bytes failed: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(p as usize)
}

fn protect(addr: usize, len: usize, prot: libc::c_int) -> Result<(), ExecMemError> {
    // SAFETY: [addr, addr + len) is a page-aligned range of a mapping we own
    // and no other reference to it is live while its protection changes.
    let r = unsafe { libc::mprotect(addr as *mut libc::c_void, len, prot) };
    if r != 0 {
        return Err(ExecMemError(format!(
            "mprotect failed: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Copies `code` and fills the rest of `[addr, addr + len)` with `trap` (RW pages).
fn fill(addr: usize, len: usize, code: &[u8], trap: &[u8]) {
    // SAFETY: the range is mapped read-write, owned by the caller and not yet
    // executable, so no one else reads or runs it.
    let dst = unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, len) };
    dst[..code.len()].copy_from_slice(code);
    // The pattern stays aligned to the start; no division per byte.
    let phase = code.len() % trap.len();
    let pattern = trap.iter().cycle().skip(phase);
    for (b, &t) in dst[code.len()..].iter_mut().zip(pattern) {
        *b = t;
    }
}

impl ExecPool {
    /// An empty pool.
    pub fn new() -> ExecPool {
        ExecPool::default()
    }

    /// Copies `code` into sealed executable memory.
    pub fn load(&self, code: &[u8], trap: &[u8]) -> Result<ExecCode, ExecMemError> {
        let page = page_size();
        if code.len() > page {
            let len = code.len().div_ceil(page) * page;
            let addr = map(len)?;
            fill(addr, len, code, trap);
            protect(addr, len, libc::PROT_READ | libc::PROT_EXEC)?;
            return Ok(ExecCode {
                addr,
                len,
                pool: None,
            });
        }
        let addr = {
            let mut inner = self
                .inner
                .lock()
                .map_err(|_| ExecMemError("pool poisoned".into()))?;
            if inner.free.is_empty() {
                let len = page * CHUNK_PAGES;
                let base = map(len)?;
                inner.chunks.push((base, len));
                inner
                    .free
                    .extend((0..CHUNK_PAGES).rev().map(|i| base + i * page));
            }
            inner.free.pop().expect("refilled above")
        };
        protect(addr, page, libc::PROT_READ | libc::PROT_WRITE)?;
        fill(addr, page, code, trap);
        protect(addr, page, libc::PROT_READ | libc::PROT_EXEC)?;
        Ok(ExecCode {
            addr,
            len: page,
            pool: Some(self.inner.clone()),
        })
    }
}

/// Sealed machine code; freed (or returned to its pool) on drop.
pub struct ExecCode {
    addr: usize,
    len: usize,
    pool: Option<Arc<Mutex<PoolInner>>>,
}

impl std::fmt::Debug for ExecCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExecCode({:#x}, {} bytes)", self.addr, self.len)
    }
}

impl Drop for ExecCode {
    fn drop(&mut self) {
        match &self.pool {
            Some(p) => {
                if let Ok(mut inner) = p.lock() {
                    inner.free.push(self.addr);
                }
            }
            // SAFETY: the mapping is ours and nothing runs in it once dropped.
            None => unsafe {
                libc::munmap(self.addr as *mut libc::c_void, self.len);
            },
        }
    }
}

/// The host refused an access or a call; it keeps the details (the code
/// only learns that the run ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFault;

/// An allowed access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Plain memory: the code accesses it.
    Plain,
    /// A converted context load: this is the loaded value.
    Value(u64),
}

/// What generated code calls back into: memory checks and helpers. `fp` is
/// the current r10 (the frames in use end there).
pub trait Host {
    /// Checks an access; `packed` is [`abi::pack_check`]'s (size and kind bits).
    fn check(&mut self, addr: u64, packed: u64, fp: u64) -> Result<Checked, HostFault>;
    /// Runs helper `id` (`call`), or the helper whose id `id` holds (`callx`).
    fn helper(&mut self, id: u64, callx: bool, args: [u64; 5], fp: u64) -> Result<u64, HostFault>;
}

/// The run context block the code addresses through `abi` offsets.
#[repr(C, align(16))]
#[derive(Clone, Debug)]
pub struct RunCtx {
    pub words: [u64; abi::SIZE / 8],
}

impl Default for RunCtx {
    fn default() -> Self {
        RunCtx {
            words: [0; abi::SIZE / 8],
        }
    }
}

impl RunCtx {
    /// The field at byte offset `off`.
    pub fn get(&self, off: i32) -> u64 {
        self.words[off as usize / 8]
    }

    /// Sets the field at byte offset `off`.
    pub fn set(&mut self, off: i32, v: u64) {
        self.words[off as usize / 8] = v;
    }
}

/// Host state reachable from the callbacks.
struct Env<'a> {
    host: &'a mut dyn Host,
}

extern "C" fn host_check(ctx: *mut RunCtx, addr: u64, packed: u64) -> abi::CheckRet {
    // SAFETY: generated code passes the context it was entered with; `run`
    // holds it (and the `Env` it points to) exclusively for the whole call.
    let ctx = unsafe { &mut *ctx };
    let env = unsafe { &mut *(ctx.get(abi::ENV) as *mut Env<'_>) };
    check_with(ctx, env.host, addr, packed)
}

/// The check protocol shared with the emulator: status and value, fault fields set.
pub(crate) fn check_with(
    ctx: &mut RunCtx,
    host: &mut dyn Host,
    addr: u64,
    packed: u64,
) -> abi::CheckRet {
    match host.check(addr, packed, ctx.get(abi::CUR_FP)) {
        Ok(Checked::Plain) => abi::CheckRet {
            status: abi::CHECK_PLAIN,
            value: addr,
        },
        Ok(Checked::Value(v)) => abi::CheckRet {
            status: abi::CHECK_VALUE,
            value: v,
        },
        Err(HostFault) => {
            ctx.set(abi::FAULT_KIND, crate::FaultKind::Host as u64);
            ctx.set(abi::FAULT_PC, packed >> 8);
            abi::CheckRet {
                status: abi::CHECK_FAULT,
                value: 0,
            }
        }
    }
}

/// The helper protocol shared with the emulator: r0, or the fault field set.
/// `id` is the helper id (`call`) or the register value (`callx`).
pub(crate) fn helper_with(
    ctx: &mut RunCtx,
    host: &mut dyn Host,
    id: u64,
    callx: bool,
    args: [u64; 5],
) -> u64 {
    match host.helper(id, callx, args, ctx.get(abi::CUR_FP)) {
        Ok(v) => v,
        Err(HostFault) => {
            ctx.set(abi::FAULT_KIND, crate::FaultKind::Host as u64);
            0
        }
    }
}

extern "C" fn host_helper(r1: u64, r2: u64, r3: u64, r4: u64, r5: u64, ctx: *mut RunCtx) -> u64 {
    // SAFETY: as in `host_check`.
    let ctx = unsafe { &mut *ctx };
    let env = unsafe { &mut *(ctx.get(abi::ENV) as *mut Env<'_>) };
    let id = ctx.get(abi::HELPER_ID);
    helper_with(ctx, env.host, id, false, [r1, r2, r3, r4, r5])
}

/// Helper `ID` through its own slot ([`abi::HELPERS`]).
extern "C" fn host_helper_slot<const ID: u64>(
    r1: u64,
    r2: u64,
    r3: u64,
    r4: u64,
    r5: u64,
    ctx: *mut RunCtx,
) -> u64 {
    // SAFETY: as in `host_check`.
    let ctx = unsafe { &mut *ctx };
    let env = unsafe { &mut *(ctx.get(abi::ENV) as *mut Env<'_>) };
    helper_with(ctx, env.host, ID, false, [r1, r2, r3, r4, r5])
}

/// The signature of helper functions ([`abi::HOST_HELPER`], [`abi::HELPERS`]).
pub type HelperFn = extern "C" fn(u64, u64, u64, u64, u64, *mut RunCtx) -> u64;

/// What [`ExecCode::run`] installs in the helper slots.
const SLOT_FNS: [HelperFn; abi::HELPER_SLOTS] = [
    host_helper_slot::<1>,
    host_helper_slot::<2>,
    host_helper_slot::<3>,
    host_helper_slot::<4>,
    host_helper_slot::<5>,
    host_helper_slot::<6>,
    host_helper_slot::<7>,
    host_helper_slot::<8>,
];

extern "C" fn host_callx(r1: u64, r2: u64, r3: u64, r4: u64, r5: u64, ctx: *mut RunCtx) -> u64 {
    // SAFETY: as in `host_check`.
    let ctx = unsafe { &mut *ctx };
    let env = unsafe { &mut *(ctx.get(abi::ENV) as *mut Env<'_>) };
    let id = ctx.get(abi::HELPER_ID);
    helper_with(ctx, env.host, id, true, [r1, r2, r3, r4, r5])
}

impl ExecCode {
    /// Start address of the code.
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// Runs code compiled by this crate for this machine's architecture
    /// (only loaded so by [`crate::run::JitProgram`]). `ctx` must be
    /// filled as `abi` describes (r1, r2, frame pointer, budgets, maps); the
    /// host functions are set here. Returns r0; faults are left in `ctx`.
    pub fn run(&self, ctx: &mut RunCtx, host: &mut dyn Host) -> u64 {
        let mut env = Env { host };
        ctx.set(abi::ENV, &mut env as *mut Env<'_> as u64);
        ctx.set(abi::HOST_CHECK, host_check as *const () as u64);
        ctx.set(abi::HOST_HELPER, host_helper as *const () as u64);
        ctx.set(abi::HOST_CALLX, host_callx as *const () as u64);
        for (i, f) in SLOT_FNS.iter().enumerate() {
            ctx.set(abi::HELPERS + 8 * i as i32, *f as *const () as u64);
        }
        ctx.set(abi::FAULT_KIND, 0);
        // SAFETY: the code was produced by `compile` for this architecture and
        // sealed executable by `ExecPool::load`; it follows the C ABI, touches
        // only the context and the memory the host's check allows (checked
        // mode) or the verifier proved (verified mode), and calls back only the
        // functions installed above while `env` is alive.
        let f: extern "C" fn(*mut RunCtx) -> u64 = unsafe { std::mem::transmute(self.addr) };
        let r = f(ctx);
        ctx.set(abi::ENV, 0);
        r
    }

    /// The entry point, for [`CodeEntry::run_installed`].
    pub fn entry(&self) -> CodeEntry {
        CodeEntry(self.addr)
    }
}

/// The entry point of an [`ExecCode`], copyable apart from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeEntry(usize);

impl CodeEntry {
    /// Runs the code with the host functions and the `abi::ENV` value the
    /// caller installed in `ctx` (the engine's own, without `dyn Host`).
    /// Returns r0; faults are left in `ctx`.
    ///
    /// # Safety
    /// The [`ExecCode`] this came from must be alive; `ctx` must be filled as
    /// `abi` describes, and every `abi::HOST_*` and `abi::HELPERS` slot must
    /// hold a function of the documented signature that is sound to call
    /// with `ctx` (and the `abi::ENV` in it) for the whole run.
    #[inline(always)]
    pub unsafe fn run_installed(self, ctx: &mut RunCtx) -> u64 {
        // SAFETY: as in `ExecCode::run`, with the code kept alive and the host
        // functions vouched for by the caller.
        let f: extern "C" fn(*mut RunCtx) -> u64 = unsafe { std::mem::transmute(self.0) };
        f(ctx)
    }
}
