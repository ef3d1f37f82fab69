//! Maps in the kernel: creation from a [`MapDef`] and dumping their contents.

use super::sys::{self, MapCreateAttr, MapElemAttr};
use super::KernelError;
use crate::program::MapDef;
use crate::report::MapContents;
use std::os::fd::{AsRawFd, OwnedFd};

/// A map created in the kernel for a loaded program.
#[derive(Debug)]
pub struct KernelMap {
    /// Its declaration.
    pub def: MapDef,
    fd: OwnedFd,
}

impl KernelMap {
    /// `BPF_MAP_CREATE` for `def`.
    pub fn create(def: &MapDef) -> Result<KernelMap, KernelError> {
        let mut attr = MapCreateAttr {
            map_type: def.kind.kernel_type(),
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
            map_name: sys::obj_name(&def.name),
            ..Default::default()
        };
        // SAFETY: the attr holds no pointers.
        let fd = unsafe { sys::bpf(sys::BPF_MAP_CREATE, &mut attr) }.map_err(|errno| {
            KernelError::from_errno("BPF_MAP_CREATE", errno).unwrap_or_else(|| {
                KernelError::MapCreate {
                    map: def.name.clone(),
                    errno,
                }
            })
        })?;
        Ok(KernelMap {
            def: def.clone(),
            fd: sys::owned_fd(fd),
        })
    }

    /// The map's file descriptor (valid while `self` lives).
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Every entry as `(key, value)`, sorted by key bytes; arrays list only the
    /// indices whose value is not all zero (as the interpreter does). Per-CPU
    /// values are summed over the possible CPUs (as little-endian unsigned
    /// integers of the value's size, wrapping).
    pub fn dump(&self) -> Result<MapContents, KernelError> {
        let key_size = self.def.key_size as usize;
        let value_size = self.def.value_size as usize;
        let per_cpu = matches!(
            self.def.kind,
            crate::program::MapKind::PercpuHash | crate::program::MapKind::PercpuArray
        );
        let cpus = if per_cpu { possible_cpus()? } else { 1 };
        // Per-CPU lookups return one 8-byte-aligned slot per possible CPU.
        let stride = if per_cpu {
            value_size.div_ceil(8) * 8
        } else {
            value_size
        };
        let mut out = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        loop {
            let mut next = vec![0u8; key_size];
            let mut attr = MapElemAttr {
                map_fd: self.raw_fd() as u32,
                key: key.as_ref().map_or(0, |k| sys::ptr(k.as_ptr())),
                value: sys::ptr(next.as_mut_ptr()),
                ..Default::default()
            };
            // SAFETY: `key` (if any) and `next` are `key_size` bytes long.
            match unsafe { sys::bpf(sys::BPF_MAP_GET_NEXT_KEY, &mut attr) } {
                Ok(_) => {}
                Err(libc::ENOENT) => break,
                Err(errno) => return Err(KernelError::sys("BPF_MAP_GET_NEXT_KEY", errno)),
            }
            let mut raw = vec![0u8; stride * cpus];
            let mut attr = MapElemAttr {
                map_fd: self.raw_fd() as u32,
                key: sys::ptr(next.as_ptr()),
                value: sys::ptr(raw.as_mut_ptr()),
                ..Default::default()
            };
            // SAFETY: `next` is `key_size` bytes, `raw` holds the value for every CPU.
            match unsafe { sys::bpf(sys::BPF_MAP_LOOKUP_ELEM, &mut attr) } {
                Ok(_) => {
                    let mut value = vec![0u8; value_size];
                    for cpu in raw.chunks(stride) {
                        add_le(&mut value, &cpu[..value_size]);
                    }
                    if !self.def.kind.is_array() || value.iter().any(|&b| b != 0) {
                        out.push((next.clone(), value));
                    }
                }
                // Deleted between the two calls: nothing to report.
                Err(libc::ENOENT) => {}
                Err(errno) => return Err(KernelError::sys("BPF_MAP_LOOKUP_ELEM", errno)),
            }
            key = Some(next);
        }
        out.sort();
        Ok(out)
    }
}

/// `acc += v` as little-endian unsigned integers of `acc.len()` bytes, wrapping.
fn add_le(acc: &mut [u8], v: &[u8]) {
    let mut carry = 0u16;
    for (a, b) in acc.iter_mut().zip(v) {
        let s = *a as u16 + *b as u16 + carry;
        *a = s as u8;
        carry = s >> 8;
    }
}

/// Number of possible CPUs (`/sys/devices/system/cpu/possible`, e.g. `0-3,5`):
/// the number of slots a per-CPU lookup fills.
pub fn possible_cpus() -> Result<usize, KernelError> {
    let path = "/sys/devices/system/cpu/possible";
    let text = std::fs::read_to_string(path)
        .map_err(|e| KernelError::Io(format!("reading {path}: {e}")))?;
    parse_cpu_list(text.trim())
        .ok_or_else(|| KernelError::Io(format!("{path}: cannot parse {text:?}")))
}

fn parse_cpu_list(s: &str) -> Option<usize> {
    let mut n = 0;
    for part in s.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let a = part.parse::<usize>().ok()?;
                (a, a)
            }
        };
        n += b.checked_sub(a)? + 1;
    }
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1"), Some(2));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0-3,5"), Some(5));
        assert_eq!(parse_cpu_list("x"), None);
    }

    #[test]
    fn little_endian_sum_wraps() {
        let mut acc = vec![0xff, 0x00];
        add_le(&mut acc, &[0x01, 0x00]);
        assert_eq!(acc, vec![0x00, 0x01]);
        let mut acc = vec![0xff];
        add_le(&mut acc, &[0x02]);
        assert_eq!(acc, vec![0x01]);
    }
}
