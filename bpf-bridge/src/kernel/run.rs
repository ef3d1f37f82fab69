//! Running loaded programs with BPF_PROG_TEST_RUN: one frame at a time for
//! verdicts, or the kernel's repeat loop for timing.
//!
//! XDP test runs show the program at most one page minus headroom and
//! `skb_shared_info` of a frame (3,520 bytes with 4 KiB pages) as packet
//! data; longer frames are cut (the rest goes to fragments the program does
//! not see) without an error. A verdict on a cut frame would be a verdict on
//! another packet, so such frames are not run. Frames shorter than an
//! Ethernet header are refused by the kernel (EINVAL) and not run either.

use super::load::KernelProgram;
use super::sys::{self, TestRunAttr};
use super::KernelError;
use crate::isa::Insn;
use crate::program::{ProgType, Program};
use std::time::Duration;

/// `ETH_HLEN`: the kernel refuses XDP test runs on shorter frames.
pub const ETH_HLEN: usize = 14;
/// `XDP_PACKET_HEADROOM`.
const XDP_HEADROOM: usize = 256;
/// `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` on 64-bit kernels.
const SHARED_INFO: usize = 320;

/// Why a frame was not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotRunCause {
    /// Longer than the kernel shows an XDP program whole.
    #[error("{len}-byte frame is over the {max} bytes the kernel shows an XDP program")]
    TooLong {
        /// Frame length.
        len: usize,
        /// The kernel's limit.
        max: usize,
    },
    /// Shorter than an Ethernet header.
    #[error("{len}-byte frame is shorter than an Ethernet header ({ETH_HLEN} bytes)")]
    TooShort {
        /// Frame length.
        len: usize,
    },
}

impl NotRunCause {
    /// The cause as a fixed text, the key of [`crate::engine::FaultSummary::not_run`].
    pub fn reason(&self) -> &'static str {
        match self {
            NotRunCause::TooShort { .. } => {
                "frame shorter than an Ethernet header (14 bytes): the kernel refuses it"
            }
            // The usual limit (4 KiB pages); other page sizes give another.
            NotRunCause::TooLong { max: 3520, .. } => {
                "frame over the 3,520 bytes the kernel shows an XDP program whole"
            }
            NotRunCause::TooLong { .. } => {
                "frame longer than the kernel shows an XDP program whole"
            }
        }
    }
}

/// Frames not run, by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotRunCounts {
    /// Over the kernel's XDP limit.
    pub too_long: u64,
    /// Under [`ETH_HLEN`].
    pub too_short: u64,
}

impl NotRunCounts {
    /// All frames not run.
    pub fn total(&self) -> u64 {
        self.too_long + self.too_short
    }
}

/// What one BPF_PROG_TEST_RUN returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestRun {
    /// r0 as the kernel reports it (32 bits).
    pub retval: u32,
    /// The kernel's mean time per repetition.
    pub duration: Duration,
}

/// Kernel timing of a program on one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Mean time per run of the program, as the kernel measured it.
    pub per_run: Duration,
    /// Same for the empty program (`r0 = XDP_PASS; exit`): the test-run overhead.
    pub empty: Duration,
}

impl Timing {
    /// The program's own time: `per_run - empty`, at least zero.
    pub fn net(&self) -> Duration {
        self.per_run.saturating_sub(self.empty)
    }
}

impl KernelProgram {
    /// Runs the program on `frame` (maps keep their contents across calls) and
    /// returns r0 as the kernel reports it: 32 bits, zero-extended. Frames the
    /// kernel cannot show whole are not run: `Ok(None)`, counted in [`Self::not_run`].
    pub fn run(&mut self, frame: &[u8]) -> Result<Option<u32>, KernelError> {
        match self.check_frame(frame) {
            Ok(()) => Ok(Some(self.test_run(frame, 1)?.retval)),
            Err(NotRunCause::TooLong { .. }) => {
                self.not_run.too_long += 1;
                Ok(None)
            }
            Err(NotRunCause::TooShort { .. }) => {
                self.not_run.too_short += 1;
                Ok(None)
            }
        }
    }

    /// Frames [`Self::run`] did not run, by cause.
    pub fn not_run(&self) -> NotRunCounts {
        self.not_run
    }

    /// Whether the kernel would show `frame` to the program whole.
    pub fn check_frame(&mut self, frame: &[u8]) -> Result<(), NotRunCause> {
        let len = frame.len();
        if len < ETH_HLEN {
            return Err(NotRunCause::TooShort { len });
        }
        let max = self.max_frame();
        if len > max {
            return Err(NotRunCause::TooLong { len, max });
        }
        Ok(())
    }

    /// The longest frame the kernel shows an XDP program whole: measured once
    /// per program with a probe that returns `data_end - data` for a frame of
    /// two pages, else computed from the page size.
    pub fn max_frame(&mut self) -> usize {
        *self.max_frame.get_or_insert_with(|| {
            let page = page_size();
            probe_max_frame(2 * page).unwrap_or(page - XDP_HEADROOM - SHARED_INFO)
        })
    }

    /// One raw BPF_PROG_TEST_RUN of `frame`, `repeat` times, without the frame
    /// checks of [`Self::run`].
    pub fn test_run(&self, frame: &[u8], repeat: u32) -> Result<TestRun, KernelError> {
        // SAFETY: `frame` is readable for its length; no output buffer.
        unsafe { self.test_run_raw(frame.as_ptr(), frame.len(), None, repeat) }
    }

    /// Runs the program once on `pkt` and writes the packet as the program
    /// left it back into `pkt` (XDP programs may rewrite packets). Frames the
    /// kernel cannot show whole are not run, as in [`Self::run`].
    pub fn run_in_place(&mut self, pkt: &mut [u8]) -> Result<Option<u32>, KernelError> {
        if self.check_frame(pkt).is_err() {
            // Counted by `run`, which does not touch the frame either.
            return self.run(pkt);
        }
        let len = pkt.len();
        let out = pkt.as_mut_ptr();
        // SAFETY: the kernel copies `data_in` before the run and writes at most
        // `len` bytes to `data_out` after it, so one buffer serves both.
        let r = unsafe { self.test_run_raw(out, len, Some(out), 1) }?;
        Ok(Some(r.retval))
    }

    /// # Safety
    /// `data` must be readable for `len` bytes and `out`, if any, writable for `len` bytes.
    unsafe fn test_run_raw(
        &self,
        data: *const u8,
        len: usize,
        out: Option<*mut u8>,
        repeat: u32,
    ) -> Result<TestRun, KernelError> {
        let mut attr = TestRunAttr {
            prog_fd: self.raw_fd() as u32,
            data_size_in: len as u32,
            data_in: sys::ptr(data),
            data_out: out.map_or(0, |p| sys::ptr(p)),
            data_size_out: if out.is_some() { len as u32 } else { 0 },
            repeat,
            ..Default::default()
        };
        // SAFETY: the caller vouches for the buffers and their sizes.
        unsafe { sys::bpf(sys::BPF_PROG_TEST_RUN, &mut attr) }
            .map_err(|errno| KernelError::sys("BPF_PROG_TEST_RUN", errno))?;
        Ok(TestRun {
            retval: attr.retval,
            duration: Duration::from_nanos(attr.duration as u64),
        })
    }
}

/// Times `prog` on `frame` with the kernel's repeat loop (`repeat` runs; maps
/// keep what the runs store), and the empty program the same way.
pub fn time_run(
    prog: &mut KernelProgram,
    frame: &[u8],
    repeat: u32,
) -> Result<Timing, KernelError> {
    prog.check_frame(frame)
        .map_err(KernelError::FrameNotRunnable)?;
    let per_run = prog.test_run(frame, repeat)?.duration;
    let empty = KernelProgram::load(&empty_program())?
        .test_run(frame, repeat)?
        .duration;
    Ok(Timing { per_run, empty })
}

/// `r0 = XDP_PASS; exit`: the baseline [`time_run`] subtracts.
pub fn empty_program() -> Program {
    let insns = vec![Insn::new(0xb7, 0, 0, 0, 2), Insn::new(0x95, 0, 0, 0, 0)];
    Program::new("luabpf_empty", ProgType::Xdp, insns)
}

/// Runs `r0 = data_end - data` on a `len`-byte frame.
fn probe_max_frame(len: usize) -> Option<usize> {
    let insns = vec![
        Insn::new(0x61, 2, 1, 0, 0), // r2 = *(u32 *)(r1 + 0): data
        Insn::new(0x61, 3, 1, 4, 0), // r3 = *(u32 *)(r1 + 4): data_end
        Insn::new(0xbf, 0, 3, 0, 0), // r0 = r3
        Insn::new(0x1f, 0, 2, 0, 0), // r0 -= r2
        Insn::new(0x95, 0, 0, 0, 0), // exit
    ];
    let probe = KernelProgram::load(&Program::new("luabpf_probe", ProgType::Xdp, insns)).ok()?;
    let frame = vec![0u8; len];
    let seen = probe.test_run(&frame, 1).ok()?.retval as usize;
    (ETH_HLEN..=len).contains(&seen).then_some(seen)
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}
