//! Native code generation for eBPF.
//!
//! [`compile`] turns a [`Program`] into machine code for an [`Arch`]:
//! [`lower`] walks the eBPF ops once and drives an architecture's
//! [`masm::MacroAssembler`], whose encoders write into a [`buffer::CodeBuffer`].
//! Two modes, as in the interpreter: *checked* (no facts: every memory access is
//! bounds-checked at run time, backward jumps draw on a budget) and *verified*
//! (the verifier's [`Facts`] say which checks remain).
//!
//! Without the default `std` feature the crate is `no_std` + `alloc` and only
//! generates code; `std` adds executable memory and running it.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod abi;
pub mod buffer;
pub mod fold;
mod guard_loop;
pub mod isa;
pub mod lower;
pub mod masm;
pub mod peephole;
mod plan;
mod regflow;
mod targets;

#[cfg(feature = "std")]
mod disasm;
#[cfg(feature = "emulate")]
pub mod emulate;
#[cfg(feature = "std")]
pub mod engine;
#[cfg(feature = "std")]
pub mod exec_mem;
#[cfg(feature = "std")]
pub mod run;

use alloc::string::String;
use alloc::vec::Vec;
use bpf_bridge::facts::Facts;
use bpf_bridge::isa::{DecodeError, Shape};
use bpf_bridge::program::{ProgType, Program};

/// Target architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
    Riscv64,
}

impl Arch {
    /// The `--arch` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
        }
    }

    /// Parses an `--arch` value.
    pub fn from_name(s: &str) -> Option<Arch> {
        match s {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Aarch64),
            "riscv64" => Some(Arch::Riscv64),
            _ => None,
        }
    }

    /// The architecture of this machine, if it is one of ours.
    pub fn host() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else if cfg!(target_arch = "riscv64") {
            Some(Arch::Riscv64)
        } else {
            None
        }
    }
}

/// Code generation options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Constant blinding: immediates are emitted XORed with this key (made odd)
    /// and unblinded at run time, so a program cannot plant chosen machine code.
    pub blind: Option<u64>,
    /// Use short branch encodings where they reach (x86_64).
    pub shrink_branches: bool,
    /// x86_64: the CPU has `movbe` (fused big-endian loads).
    pub movbe: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            blind: None,
            shrink_branches: true,
            movbe: false,
        }
    }
}

impl Options {
    /// Defaults plus the features of the CPU this runs on.
    #[cfg(feature = "std")]
    pub fn for_host() -> Options {
        Options {
            #[cfg(target_arch = "x86_64")]
            movbe: std::is_x86_feature_detected!("movbe"),
            ..Options::default()
        }
    }
}

/// Why a run stopped early; the code in `abi::FAULT_KIND`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum FaultKind {
    /// The host refused an access or a helper call and recorded why.
    Host = 1,
    /// More than the allowed nesting of local calls.
    CallDepth = 2,
    /// The backward-jump budget of checked mode ran out.
    BackEdgeLimit = 3,
    /// `lddw` of a map value address of a map without one.
    BadMapValue = 4,
}

impl FaultKind {
    /// From the code stored in the run context.
    pub fn from_code(c: u64) -> Option<FaultKind> {
        Some(match c {
            1 => FaultKind::Host,
            2 => FaultKind::CallDepth,
            3 => FaultKind::BackEdgeLimit,
            4 => FaultKind::BadMapValue,
            _ => return None,
        })
    }
}

/// Why a program could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JitError {
    /// The bytecode is malformed.
    Decode(DecodeError),
    /// Facts for a different number of slots.
    FactsMismatch { slots: usize, facts: usize },
    /// A pseudo `lddw` names a map the program does not have.
    BadMap { pc: usize, map: u32 },
    /// Branches do not reach (program too large for the architecture).
    TooLarge,
    /// No backend for this architecture in this build.
    Unsupported(Arch),
    /// A bug in the JIT.
    Internal(&'static str),
}

impl core::fmt::Display for JitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            JitError::Decode(e) => write!(f, "{e}"),
            JitError::FactsMismatch { slots, facts } => {
                write!(
                    f,
                    "verifier facts cover {facts} slots, the program has {slots}"
                )
            }
            JitError::BadMap { pc, map } => {
                write!(f, "instruction {pc}: map index {map} out of range")
            }
            JitError::TooLarge => write!(f, "program too large for the target's branches"),
            JitError::Unsupported(a) => write!(f, "no JIT backend for {}", a.name()),
            JitError::Internal(s) => write!(f, "internal JIT error: {s}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for JitError {}

/// Compiled code and what is needed to run and inspect it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// Target architecture.
    pub arch: Arch,
    /// Machine code; the entry point is at offset 0:
    /// `extern "C" fn(ctx: *mut [u64; abi::SIZE / 8]) -> u64` (r0).
    pub code: Vec<u8>,
    /// Native offset of each eBPF slot ([`buffer::Offsets::to_vec`]).
    pub offsets: buffer::Offsets,
    /// Compiled for verified mode (with facts).
    pub verified: bool,
    /// Name of the program.
    pub name: String,
}

/// Compiles `prog` for `arch`; with `facts` in verified mode, else checked.
pub fn compile(
    prog: &Program,
    facts: Option<&Facts>,
    arch: Arch,
    opts: Options,
) -> Result<Compiled, JitError> {
    let shape = Shape::scan(&prog.insns);
    // Room for the code of most programs (checked loads and stores take
    // more), so that the buffer rarely moves as it grows.
    let per_slot = if facts.is_some() { 8 } else { 24 };
    let cap = 64 + prog.insns.len() * per_slot;
    let lowered = match arch {
        Arch::X86_64 => {
            let m = isa::x86_64::masm::X64Masm::new(cap, opts.movbe);
            lower::lower(
                m,
                &prog.insns,
                &shape,
                &prog.maps,
                prog.prog_type == ProgType::Xdp,
                facts,
                &opts,
            )?
        }
        Arch::Aarch64 => {
            let m = isa::aarch64::masm::A64Masm::new(cap);
            lower::lower(
                m,
                &prog.insns,
                &shape,
                &prog.maps,
                prog.prog_type == ProgType::Xdp,
                facts,
                &opts,
            )?
        }
        Arch::Riscv64 => {
            let m = isa::riscv64::masm::Rv64Masm::new(cap);
            lower::lower(
                m,
                &prog.insns,
                &shape,
                &prog.maps,
                prog.prog_type == ProgType::Xdp,
                facts,
                &opts,
            )?
        }
    };
    Ok(Compiled {
        arch,
        code: lowered.code,
        offsets: lowered.offsets,
        verified: facts.is_some(),
        name: prog.name.clone(),
    })
}

impl Compiled {
    /// Bytes to fill unused code space with: traps of the architecture.
    pub fn trap_fill(&self) -> &'static [u8] {
        trap_fill(self.arch)
    }
}

/// Trap instruction bytes of `arch`.
pub fn trap_fill(arch: Arch) -> &'static [u8] {
    match arch {
        Arch::X86_64 => isa::x86_64::TRAP_FILL,
        Arch::Aarch64 => &[0x00, 0x00, 0x20, 0xd4], // brk #0
        Arch::Riscv64 => &[0x73, 0x00, 0x10, 0x00], // ebreak
    }
}
