//! Loading a [`Program`] into the kernel: maps, BTF, then BPF_PROG_LOAD.

use super::maps::KernelMap;
use super::run::NotRunCounts;
use super::sys::{self, BtfLoadAttr, FuncInfo, LineInfo, ProgLoadAttr};
use super::KernelError;
use crate::btf;
use crate::isa::Insn;
use crate::program::Program;
use crate::report::MapContents;
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};

/// `BPF_LD | BPF_IMM | BPF_DW`.
const LDDW: u8 = 0x18;
/// `BPF_PSEUDO_MAP_FD` and `BPF_PSEUDO_MAP_VALUE`.
const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_MAP_VALUE: u8 = 2;
/// Verifier log levels: `BPF_LOG_LEVEL1` and `BPF_LOG_STATS`.
const LOG_LEVEL1: u32 = 1;
const LOG_STATS: u32 = 4;
/// Log buffer for a successful load (statistics only).
const STATS_LOG_SIZE: usize = 64 << 10;
/// Log buffer for the retry after a rejection; the kernel keeps the tail
/// (where the error is) when the log is longer.
const FULL_LOG_SIZE: usize = 16 << 20;

/// A program loaded into the kernel, with its maps. Dropping it closes the
/// file descriptors, which frees program and maps.
#[derive(Debug)]
pub struct KernelProgram {
    pub(super) name: String,
    pub(super) fd: OwnedFd,
    pub(super) maps: Vec<KernelMap>,
    /// Kept open for as long as the program: bpftool reads it by id.
    pub(super) _btf: Option<OwnedFd>,
    pub(super) log: String,
    pub(super) max_frame: Option<usize>,
    pub(super) not_run: NotRunCounts,
}

impl KernelProgram {
    /// Loads `prog` as `BPF_PROG_TYPE_XDP` (a `raw` program too: its r1 is then
    /// the `xdp_md` context, so only programs that ignore r1 and r2 mean the
    /// same). Creates its maps, swaps map indices in pseudo `lddw`s for map
    /// fds, and, when the program has a line table, loads BTF and passes
    /// `func_info`/`line_info`. On rejection the error carries the verifier log.
    pub fn load(prog: &Program) -> Result<KernelProgram, KernelError> {
        let maps = prog
            .maps
            .iter()
            .map(KernelMap::create)
            .collect::<Result<Vec<_>, _>>()?;
        let insns = patch_map_fds(&prog.insns, &maps)?;
        // `Insn` is not `repr(C)`: hand the kernel the encoded bytes.
        let code = crate::isa::insns_to_bytes(&insns);

        let with_lines = prog.source.as_ref().is_some_and(|s| !s.lines.is_empty());
        let mut btf_fd = None;
        let (mut funcs, mut lines) = (Vec::new(), Vec::new());
        if with_lines {
            let desc = btf::describe(prog, false);
            let blob = desc.builder.encode()?;
            btf_fd = Some(load_btf(&blob)?);
            funcs = desc
                .funcs
                .iter()
                .map(|f| FuncInfo {
                    insn_off: f.insn as u32,
                    type_id: f.type_id,
                })
                .collect();
            lines = desc
                .lines
                .iter()
                .map(|l| LineInfo {
                    insn_off: l.insn as u32,
                    file_name_off: l.file_name_off,
                    line_off: l.line_off,
                    line_col: l.line_col(),
                })
                .collect();
        }

        let license =
            std::ffi::CString::new(prog.license.replace('\0', "")).expect("NUL bytes were removed");
        let load = |log_level: u32, log: &mut Vec<u8>| {
            let mut attr = ProgLoadAttr {
                prog_type: sys::BPF_PROG_TYPE_XDP,
                insn_cnt: insns.len() as u32,
                insns: sys::ptr(code.as_ptr()),
                license: sys::ptr(license.as_ptr()),
                log_level,
                log_size: log.len() as u32,
                log_buf: sys::ptr(log.as_mut_ptr()),
                prog_name: sys::obj_name(&prog.name),
                expected_attach_type: sys::BPF_XDP,
                ..Default::default()
            };
            if let Some(fd) = &btf_fd {
                attr.prog_btf_fd = fd.as_raw_fd() as u32;
                attr.func_info_rec_size = std::mem::size_of::<FuncInfo>() as u32;
                attr.func_info = sys::ptr(funcs.as_ptr());
                attr.func_info_cnt = funcs.len() as u32;
                attr.line_info_rec_size = std::mem::size_of::<LineInfo>() as u32;
                attr.line_info = sys::ptr(lines.as_ptr());
                attr.line_info_cnt = lines.len() as u32;
            }
            // SAFETY: insns, license, log, func and line info outlive the call and
            // have the sizes and counts given in `attr`.
            unsafe { sys::bpf(sys::BPF_PROG_LOAD, &mut attr) }
        };

        let mut log = vec![0u8; STATS_LOG_SIZE];
        let fd = match load(LOG_STATS, &mut log) {
            Ok(fd) => fd,
            Err(errno) => {
                if let Some(e) = KernelError::from_errno("BPF_PROG_LOAD", errno) {
                    return Err(e);
                }
                log = vec![0u8; FULL_LOG_SIZE];
                match load(LOG_LEVEL1 | LOG_STATS, &mut log) {
                    Ok(fd) => fd,
                    Err(errno) => {
                        let log = sys::log_text(&log);
                        return Err(KernelError::Rejected { errno, log });
                    }
                }
            }
        };
        Ok(KernelProgram {
            name: prog.name.clone(),
            fd: sys::owned_fd(fd),
            maps,
            _btf: btf_fd,
            log: sys::log_text(&log),
            max_frame: None,
            not_run: NotRunCounts::default(),
        })
    }

    /// The program's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier's log of the load: its statistics (`processed N insns …`),
    /// or the full log if the first attempt failed and the retry passed.
    pub fn verifier_log(&self) -> &str {
        &self.log
    }

    /// The program's file descriptor (valid while `self` lives).
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// The kernel's id of the program (what `bpftool prog … id N` takes).
    pub fn id(&self) -> Result<u32, KernelError> {
        // The first two fields of `struct bpf_prog_info`: type and id.
        let mut info = [0u32; 2];
        let mut attr = sys::InfoByFdAttr {
            bpf_fd: self.raw_fd() as u32,
            info_len: std::mem::size_of_val(&info) as u32,
            info: sys::ptr(info.as_mut_ptr()),
        };
        // SAFETY: `info` outlives the call and is `info_len` bytes.
        unsafe { sys::bpf(sys::BPF_OBJ_GET_INFO_BY_FD, &mut attr) }
            .map_err(|errno| KernelError::sys("BPF_OBJ_GET_INFO_BY_FD", errno))?;
        Ok(info[1])
    }

    /// The maps, in [`Program::maps`] order.
    pub fn maps(&self) -> &[KernelMap] {
        &self.maps
    }

    /// Every map's contents by name (see [`KernelMap::dump`]).
    pub fn dump_maps(&self) -> Result<BTreeMap<String, MapContents>, KernelError> {
        self.maps
            .iter()
            .map(|m| Ok((m.def.name.clone(), m.dump()?)))
            .collect()
    }
}

/// Copies `insns` with the map index of every pseudo `lddw` replaced by that
/// map's fd (the value offset of `BPF_PSEUDO_MAP_VALUE` stays in the second slot).
fn patch_map_fds(insns: &[Insn], maps: &[KernelMap]) -> Result<Vec<Insn>, KernelError> {
    let mut out = insns.to_vec();
    let mut i = 0;
    while i < out.len() {
        let insn = out[i];
        if insn.code == LDDW {
            if matches!(insn.src(), PSEUDO_MAP_FD | PSEUDO_MAP_VALUE) {
                let map = insn.imm as u32;
                let m = maps.get(map as usize).ok_or(KernelError::MapIndex {
                    insn: i,
                    map,
                    count: maps.len(),
                })?;
                out[i].imm = m.raw_fd();
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    Ok(out)
}

/// BPF_BTF_LOAD; on failure the BTF verifier's log is in the error.
fn load_btf(blob: &[u8]) -> Result<OwnedFd, KernelError> {
    let attempt = |log: &mut Vec<u8>, level: u32| {
        let mut attr = BtfLoadAttr {
            btf: sys::ptr(blob.as_ptr()),
            btf_size: blob.len() as u32,
            btf_log_buf: if level > 0 {
                sys::ptr(log.as_mut_ptr())
            } else {
                0
            },
            btf_log_size: if level > 0 { log.len() as u32 } else { 0 },
            btf_log_level: level,
            ..Default::default()
        };
        // SAFETY: `blob` and `log` outlive the call and have the sizes given.
        unsafe { sys::bpf(sys::BPF_BTF_LOAD, &mut attr) }
    };
    let mut log = Vec::new();
    match attempt(&mut log, 0) {
        Ok(fd) => Ok(sys::owned_fd(fd)),
        Err(errno) => {
            if let Some(e) = KernelError::from_errno("BPF_BTF_LOAD", errno) {
                return Err(e);
            }
            log = vec![0u8; 1 << 20];
            let errno = match attempt(&mut log, 1) {
                Ok(fd) => return Ok(sys::owned_fd(fd)),
                Err(errno) => errno,
            };
            Err(KernelError::BtfRejected {
                errno,
                log: sys::log_text(&log),
            })
        }
    }
}
