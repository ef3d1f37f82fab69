//! The bpf(2) system call: `union bpf_attr` members as `#[repr(C)]` structs
//! (uapi `linux/bpf.h` layout) and the one function that issues the call.
//! Each struct is passed with its own size; the kernel zero-fills the rest.
//! None may have implicit padding (the kernel checks unused bytes are zero):
//! `layouts_match_uapi` pins every size.

use std::ffi::c_void;
use std::os::fd::{FromRawFd, OwnedFd};

/// `enum bpf_cmd` values used here.
pub const BPF_MAP_CREATE: i32 = 0;
pub const BPF_MAP_LOOKUP_ELEM: i32 = 1;
pub const BPF_MAP_GET_NEXT_KEY: i32 = 4;
pub const BPF_PROG_LOAD: i32 = 5;
pub const BPF_PROG_TEST_RUN: i32 = 10;
pub const BPF_OBJ_GET_INFO_BY_FD: i32 = 15;
pub const BPF_BTF_LOAD: i32 = 18;

/// `BPF_PROG_TYPE_XDP`.
pub const BPF_PROG_TYPE_XDP: u32 = 6;
/// `BPF_XDP` attach type.
pub const BPF_XDP: u32 = 37;
/// `BPF_OBJ_NAME_LEN`.
pub const OBJ_NAME_LEN: usize = 16;

/// `BPF_MAP_CREATE`.
#[repr(C)]
#[derive(Default)]
pub struct MapCreateAttr {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: u32,
    pub numa_node: u32,
    pub map_name: [u8; OBJ_NAME_LEN],
}

/// `BPF_MAP_*_ELEM` and `BPF_MAP_GET_NEXT_KEY`.
#[repr(C)]
#[derive(Default)]
pub struct MapElemAttr {
    pub map_fd: u32,
    pub _pad: u32,
    pub key: u64,
    /// `value`, or `next_key` for `BPF_MAP_GET_NEXT_KEY`.
    pub value: u64,
    pub flags: u64,
}

/// `BPF_PROG_LOAD` (up to `core_relo_rec_size`, then `log_true_size`).
#[repr(C)]
#[derive(Default)]
pub struct ProgLoadAttr {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; OBJ_NAME_LEN],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    pub attach_prog_fd: u32,
    pub core_relo_cnt: u32,
    pub fd_array: u64,
    pub core_relos: u64,
    pub core_relo_rec_size: u32,
    pub log_true_size: u32,
}

/// `BPF_PROG_TEST_RUN`.
#[repr(C)]
#[derive(Default)]
pub struct TestRunAttr {
    pub prog_fd: u32,
    pub retval: u32,
    pub data_size_in: u32,
    pub data_size_out: u32,
    pub data_in: u64,
    pub data_out: u64,
    pub repeat: u32,
    pub duration: u32,
    pub ctx_size_in: u32,
    pub ctx_size_out: u32,
    pub ctx_in: u64,
    pub ctx_out: u64,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
    /// Explicit so it is zero: the kernel rejects (EINVAL) any nonzero byte
    /// after the last field it knows, and implicit padding is uninitialised.
    pub _pad: u32,
}

/// `BPF_BTF_LOAD`.
#[repr(C)]
#[derive(Default)]
pub struct BtfLoadAttr {
    pub btf: u64,
    pub btf_log_buf: u64,
    pub btf_size: u32,
    pub btf_log_size: u32,
    pub btf_log_level: u32,
    pub btf_log_true_size: u32,
}

/// `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Default)]
pub struct InfoByFdAttr {
    pub bpf_fd: u32,
    pub info_len: u32,
    pub info: u64,
}

/// `struct bpf_func_info`.
#[repr(C)]
pub struct FuncInfo {
    pub insn_off: u32,
    pub type_id: u32,
}

/// `struct bpf_line_info`.
#[repr(C)]
pub struct LineInfo {
    pub insn_off: u32,
    pub file_name_off: u32,
    pub line_off: u32,
    pub line_col: u32,
}

/// A user pointer as the kernel's `__aligned_u64`.
pub fn ptr<T>(p: *const T) -> u64 {
    p as usize as u64
}

/// Issues `bpf(cmd, attr, sizeof attr)`; the result or the errno.
///
/// # Safety
/// Every pointer inside `attr` must be valid for what `cmd` does with it
/// (reads of the stated sizes, writes into buffers of the stated sizes) for
/// the duration of the call.
pub unsafe fn bpf<A>(cmd: i32, attr: &mut A) -> Result<i64, i32> {
    // SAFETY: `attr` is a live, writable `#[repr(C)]` struct of the size passed;
    // the caller vouches for the pointers inside it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut A as *mut c_void,
            std::mem::size_of::<A>() as u32,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(r)
    }
}

/// Takes ownership of a file descriptor a bpf() command returned.
pub fn owned_fd(fd: i64) -> OwnedFd {
    // SAFETY: the kernel just created `fd` for us and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// A kernel object name: at most 15 bytes of `[A-Za-z0-9_.]`, NUL-padded.
pub fn obj_name(name: &str) -> [u8; OBJ_NAME_LEN] {
    let mut out = [0u8; OBJ_NAME_LEN];
    let valid = name.bytes().map(|b| {
        if b.is_ascii_alphanumeric() || b == b'.' {
            b
        } else {
            b'_'
        }
    });
    for (o, b) in out.iter_mut().zip(valid.take(OBJ_NAME_LEN - 1)) {
        *o = b;
    }
    out
}

/// Text of a NUL-terminated log buffer.
pub fn log_text(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layouts_match_uapi() {
        assert_eq!(offset_of!(ProgLoadAttr, prog_name), 48);
        assert_eq!(offset_of!(ProgLoadAttr, prog_btf_fd), 72);
        assert_eq!(offset_of!(ProgLoadAttr, func_info), 80);
        assert_eq!(offset_of!(ProgLoadAttr, line_info), 96);
        assert_eq!(offset_of!(ProgLoadAttr, fd_array), 120);
        assert_eq!(offset_of!(ProgLoadAttr, log_true_size), 140);
        assert_eq!(size_of::<ProgLoadAttr>(), 144);
        assert_eq!(offset_of!(TestRunAttr, repeat), 32);
        assert_eq!(offset_of!(TestRunAttr, ctx_in), 48);
        assert_eq!(size_of::<TestRunAttr>(), 80);
        assert_eq!(offset_of!(MapElemAttr, key), 8);
        assert_eq!(offset_of!(MapCreateAttr, map_name), 28);
        assert_eq!(size_of::<BtfLoadAttr>(), 32);
        assert_eq!(size_of::<MapCreateAttr>(), 44);
        assert_eq!(size_of::<MapElemAttr>(), 32);
        assert_eq!(size_of::<InfoByFdAttr>(), 16);
    }

    #[test]
    fn names() {
        assert_eq!(&obj_name("count-tcp")[..10], b"count_tcp\0");
        assert_eq!(obj_name("a_very_long_program_name")[15], 0);
    }
}
