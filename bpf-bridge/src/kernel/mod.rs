//! The Linux kernel as one more engine: programs are loaded with bpf(2) as
//! XDP programs, run with `BPF_PROG_TEST_RUN` once per frame, and their maps
//! read back. The kernel's verifier is the authority on what eBPF is valid,
//! so this is also how luabpf checks its own verifier and objects.
//!
//! The only module that makes bpf() system calls (all of them in `sys.rs`).
//! Where bpf() is not permitted every entry point returns
//! [`KernelError::Unavailable`], which callers turn into a visible skip (or a
//! failure when [`kernel_required`]).
//!
//! - [`KernelProgram::load`] creates the maps, patches `lddw` map indices to
//!   map fds, loads BTF with func/line info when the program has a source
//!   (so the verifier log and `bpftool … linum` name source lines), and
//!   returns the verifier log on rejection.
//! - [`KernelProgram::run`] runs one frame; frames the kernel cannot present
//!   whole to XDP are not run and counted ([`NotRunCause`]).
//! - [`time_run`] times a program with the kernel's own repeat loop.
//! - [`KernelProgram`] implements [`crate::engine::Engine`] (`--engine kernel`).

mod engine;
mod load;
mod maps;
mod run;
mod sys;

pub use load::KernelProgram;
pub use maps::{possible_cpus, KernelMap};
pub use run::{empty_program, time_run, NotRunCause, NotRunCounts, TestRun, Timing, ETH_HLEN};

use crate::btf::BtfError;

/// Whether the environment demands the kernel engine (`LUABPF_REQUIRE_KERNEL=1`):
/// then tests fail instead of skipping when bpf() is unavailable.
pub fn kernel_required() -> bool {
    std::env::var("LUABPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1")
}

/// bpf() is not permitted here (not root, no CAP_BPF/CAP_NET_ADMIN, or the
/// system call is missing or disabled).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bpf({op}) failed: {}; the kernel engine needs Linux with bpf() enabled and root (or CAP_BPF and CAP_NET_ADMIN)",
    errno_text(*errno)
)]
pub struct KernelUnavailable {
    /// The bpf() command that was refused.
    pub op: &'static str,
    /// Its errno.
    pub errno: i32,
}

/// Errors of the kernel engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    /// bpf() is not permitted here.
    #[error(transparent)]
    Unavailable(#[from] KernelUnavailable),
    /// The kernel verifier rejected the program; `log` is its log.
    #[error("the kernel verifier rejected the program ({}):\n{log}", errno_text(*errno))]
    Rejected {
        /// BPF_PROG_LOAD's errno.
        errno: i32,
        /// The verifier log (the tail of it if it outgrew the buffer).
        log: String,
    },
    /// The kernel refused the program's BTF (luabpf bug or old kernel).
    #[error("the kernel rejected the program's BTF ({}):\n{log}", errno_text(*errno))]
    BtfRejected {
        /// BPF_BTF_LOAD's errno.
        errno: i32,
        /// The BTF verifier's log.
        log: String,
    },
    /// A map could not be created.
    #[error("creating map `{map}`: {}", errno_text(*errno))]
    MapCreate {
        /// The map's name.
        map: String,
        /// BPF_MAP_CREATE's errno.
        errno: i32,
    },
    /// A pseudo `lddw` names a map the program does not declare.
    #[error("instruction {insn}: map index {map} out of range ({count} maps)")]
    MapIndex {
        /// Slot of the `lddw`.
        insn: usize,
        /// The index it carries.
        map: u32,
        /// Number of maps declared.
        count: usize,
    },
    /// Building BTF failed.
    #[error(transparent)]
    Btf(#[from] BtfError),
    /// A frame the kernel cannot run whole (see [`NotRunCause`]).
    #[error("frame not run: {0}")]
    FrameNotRunnable(NotRunCause),
    /// Another bpf() failure.
    #[error("bpf({op}) failed: {}", errno_text(*errno))]
    Syscall {
        /// The command.
        op: &'static str,
        /// Its errno.
        errno: i32,
    },
    /// Reading system information failed.
    #[error("{0}")]
    Io(String),
}

impl KernelError {
    /// [`KernelError::Unavailable`] when `errno` says bpf() is not permitted.
    fn from_errno(op: &'static str, errno: i32) -> Option<KernelError> {
        matches!(errno, libc::EPERM | libc::ENOSYS)
            .then_some(KernelError::Unavailable(KernelUnavailable { op, errno }))
    }

    /// A failed command: unavailable, or a plain [`KernelError::Syscall`].
    fn sys(op: &'static str, errno: i32) -> KernelError {
        Self::from_errno(op, errno).unwrap_or(KernelError::Syscall { op, errno })
    }
}

/// `strerror` text with the number: `Permission denied (os error 13)`.
fn errno_text(errno: i32) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

/// The slot the verifier stopped at in a rejection log: the last
/// instruction it printed (`N: (op) …`) before the error message.
pub fn failing_insn(log: &str) -> Option<usize> {
    log.lines().rev().find_map(|l| {
        let (n, rest) = l.split_once(": (")?;
        rest.get(..2)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))?;
        n.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn failing_insn_is_the_last_printed_instruction() {
        let log = "0: R1=ctx() R10=fp0\n; a @ f.lua:1\n0: (61) r2 = *(u32 *)(r1 +0)\n\
                   ; b @ f.lua:2\n1: (71) r0 = *(u8 *)(r2 +23)\n\
                   invalid access to packet, off=23 size=1, R2(id=0,off=23,r=0)\n";
        assert_eq!(super::failing_insn(log), Some(1));
        assert_eq!(
            super::failing_insn("last insn is not an exit or jmp\n"),
            None
        );
    }
}
