//! Helper functions by kernel id, shared by every in-process engine.
//!
//! [`call`] is the single entry point: the interpreter calls it directly and a
//! JIT through an `extern "C"` trampoline that builds a [`HelperEnv`]. Pointer
//! arguments (keys, values, format strings) are always checked against the run's
//! regions, in every mode: a bad pointer faults instead of touching host memory.

use crate::engine::FaultKind;
use crate::maps::{MapSet, MAX_KEY_SIZE};
use crate::memory::Memory;
use crate::program::{helper_id, ProgType};
use std::io::Write;
use std::time::Instant;

/// Seed of [`Prng`] used by engines unless told otherwise.
pub const DEFAULT_PRNG_SEED: u64 = 0x6c75_6162_7066_0001;

/// The deterministic generator behind `bpf_get_prandom_u32` (SplitMix64), seeded
/// once per engine so that engines fed the same packets return the same numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prng(u64);

impl Prng {
    /// A generator with the given seed.
    pub fn new(seed: u64) -> Prng {
        Prng(seed)
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

impl Default for Prng {
    fn default() -> Prng {
        Prng::new(DEFAULT_PRNG_SEED)
    }
}

/// Everything a helper may use during one call.
pub struct HelperEnv<'a> {
    /// The program's maps.
    pub maps: &'a mut MapSet,
    /// The run's regions (the stack region covering only the frames in use).
    pub mem: &'a Memory,
    /// Selects `ktime_get_ns` behaviour (see [`helper_id::KTIME_GET_NS`]).
    pub prog_type: ProgType,
    /// State of `get_prandom_u32`.
    pub prng: &'a mut Prng,
    /// `ktime_get_ns` counts from this instant.
    pub epoch: Instant,
    /// Where `trace_printk` writes (stderr in the CLI).
    pub trace: &'a mut dyn Write,
}

/// The pointer `addr` if `len` bytes there are plain memory of the run (the
/// stack in use, the packet, a map value), else the fault of `helper`.
#[inline(always)]
fn readable(
    maps: &MapSet,
    mem: &Memory,
    helper: i32,
    addr: u64,
    len: u64,
) -> Result<*const u8, FaultKind> {
    if mem.check_plain(maps.regions(), addr, len, false) {
        Ok(addr as *const u8)
    } else {
        Err(FaultKind::BadHelperPointer { helper, addr, len })
    }
}

/// The map a helper's handle names, or the fault.
#[inline(always)]
fn map_of(maps: &MapSet, handle: u64) -> Result<usize, FaultKind> {
    maps.resolve(handle).ok_or(FaultKind::BadMapHandle(handle))
}

/// Copies the `len`-byte key at `src` out of the run's memory (which a map
/// update may write) and calls `f` with it.
///
/// # Safety
/// `src` must be readable for `len <= MAX_KEY_SIZE` bytes.
#[inline(always)]
unsafe fn with_key<R>(src: *const u8, len: usize, f: impl FnOnce(&[u8]) -> R) -> R {
    if len <= 16 {
        let mut buf = [0u8; 16];
        // SAFETY: per the contract; `buf` has room for `len` bytes.
        unsafe { core::ptr::copy(src, buf.as_mut_ptr(), len) };
        f(&buf[..len])
    } else {
        let mut buf = [0u8; MAX_KEY_SIZE as usize];
        // SAFETY: as above, `len <= MAX_KEY_SIZE` (checked when the map was created).
        unsafe { core::ptr::copy(src, buf.as_mut_ptr(), len) };
        f(&buf[..len])
    }
}

/// `bpf_map_lookup_elem(handle, key)`: the value's address or 0. Engines
/// call this directly (a JIT from generated code); [`call`] reaches it too.
#[inline]
pub fn map_lookup(maps: &MapSet, mem: &Memory, handle: u64, key: u64) -> Result<u64, FaultKind> {
    let m = map_of(maps, handle)?;
    let map = maps.get(m).ok_or(FaultKind::BadMapHandle(handle))?;
    let len = map.def().key_size as usize;
    let src = readable(maps, mem, helper_id::MAP_LOOKUP_ELEM, key, len as u64)?;
    // SAFETY: `readable` proved `len` bytes at `src` inside a region this run
    // owns; nothing writes them while the lookup reads.
    let key = unsafe { core::slice::from_raw_parts(src, len) };
    Ok(map.lookup(key).map_or(0, |p| p as u64))
}

/// `bpf_map_update_elem(handle, key, value, flags)`: 0 or a negative errno.
#[inline]
pub fn map_update(maps: &mut MapSet, mem: &Memory, args: [u64; 5]) -> Result<u64, FaultKind> {
    let id = helper_id::MAP_UPDATE_ELEM;
    let m = map_of(maps, args[0])?;
    let def = maps.get(m).ok_or(FaultKind::BadMapHandle(args[0]))?.def();
    let (klen, vlen) = (def.key_size as usize, def.value_size as u64);
    let key = readable(maps, mem, id, args[1], klen as u64)?;
    let value = readable(maps, mem, id, args[2], vlen)?;
    let map = maps.get_mut(m).ok_or(FaultKind::BadMapHandle(args[0]))?;
    // SAFETY: `key` and `value` were checked readable for their sizes above;
    // the key is copied out before the update writes any map memory.
    let r = unsafe { with_key(key, klen, |k| map.update_raw(k, value, args[3])) };
    Ok(r.map_or_else(errno_ret, |()| 0))
}

/// `bpf_map_delete_elem(handle, key)`: 0 or a negative errno.
#[inline]
pub fn map_delete(
    maps: &mut MapSet,
    mem: &Memory,
    handle: u64,
    key: u64,
) -> Result<u64, FaultKind> {
    let m = map_of(maps, handle)?;
    let len = maps.get(m).map_or(0, |map| map.def().key_size as usize);
    let src = readable(maps, mem, helper_id::MAP_DELETE_ELEM, key, len as u64)?;
    let map = maps.get_mut(m).ok_or(FaultKind::BadMapHandle(handle))?;
    // SAFETY: checked readable above; copied out before the slot is zeroed.
    let r = unsafe { with_key(src, len, |k| map.delete(k)) };
    Ok(r.map_or_else(errno_ret, |()| 0))
}

/// Whether luabpf implements helper `id`.
pub fn is_known(id: i32) -> bool {
    (1..=8).contains(&id) && id != 4
}

fn errno_ret(e: i64) -> u64 {
    (-e) as u64
}

/// Calls helper `id` with r1–r5 and returns r0, or the fault that ends the run.
pub fn call(env: &mut HelperEnv<'_>, id: i32, args: [u64; 5]) -> Result<u64, FaultKind> {
    match id {
        helper_id::MAP_LOOKUP_ELEM => map_lookup(env.maps, env.mem, args[0], args[1]),
        helper_id::MAP_UPDATE_ELEM => map_update(env.maps, env.mem, args),
        helper_id::MAP_DELETE_ELEM => map_delete(env.maps, env.mem, args[0], args[1]),
        helper_id::KTIME_GET_NS => Ok(match env.prog_type {
            // The bpf_conformance convention for helper 5.
            ProgType::Raw => args[0],
            ProgType::Xdp => env.epoch.elapsed().as_nanos() as u64,
        }),
        helper_id::TRACE_PRINTK => trace_printk(env, args),
        helper_id::GET_PRANDOM_U32 => Ok(env.prng.next_u32() as u64),
        helper_id::GET_SMP_PROCESSOR_ID => Ok(0),
        _ => Err(FaultKind::UnknownHelper(id)),
    }
}

/// Longest format string read.
const MAX_FMT: u64 = 1024;

fn trace_printk(env: &mut HelperEnv<'_>, args: [u64; 5]) -> Result<u64, FaultKind> {
    let len = args[1].min(MAX_FMT);
    let ptr = readable(env.maps, env.mem, helper_id::TRACE_PRINTK, args[0], len)?;
    // SAFETY: checked readable above; copied out before anything else runs.
    let fmt = unsafe { core::slice::from_raw_parts(ptr, len as usize) }.to_vec();
    let fmt = fmt.split(|&b| b == 0).next().unwrap_or(&[]);
    match format_printk(fmt, &args[2..]) {
        Some(out) => {
            // Tracing is best effort: a closed stderr must not end the run.
            let _ = env.trace.write_all(&out);
            Ok(out.len() as u64)
        }
        None => Ok(errno_ret(crate::maps::errno::EINVAL)),
    }
}

/// Formats a `trace_printk` string: `%d %i %u %x` (32-bit), with `l`/`ll` (64-bit),
/// and `%%`; at most three arguments. `None` for anything else, as the kernel refuses it.
pub fn format_printk(fmt: &[u8], args: &[u64]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(fmt.len() + 16);
    let mut next = args.iter().take(3);
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let mut longs = 0;
        while fmt.get(i) == Some(&b'l') && longs < 2 {
            longs += 1;
            i += 1;
        }
        let conv = *fmt.get(i)?;
        i += 1;
        if conv == b'%' && longs == 0 {
            out.push(b'%');
            continue;
        }
        let v = *next.next()?;
        let s = match (conv, longs > 0) {
            (b'd' | b'i', false) => (v as i32).to_string(),
            (b'u', false) => (v as u32).to_string(),
            (b'x', false) => format!("{:x}", v as u32),
            (b'd' | b'i', true) => (v as i64).to_string(),
            (b'u', true) => v.to_string(),
            (b'x', true) => format!("{v:x}"),
            _ => return None,
        };
        out.extend_from_slice(s.as_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printk_formats() {
        let f = |s: &str, a: &[u64]| {
            format_printk(s.as_bytes(), a).map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(f("a %d b\n", &[-5i64 as u64]).as_deref(), Some("a -5 b\n"));
        assert_eq!(
            f("%u %x %%", &[u64::MAX, 255]).as_deref(),
            Some("4294967295 ff %")
        );
        assert_eq!(
            f("%lld %llu %llx", &[-1i64 as u64, u64::MAX, 0xabc]).as_deref(),
            Some(&*format!("-1 {} abc", u64::MAX))
        );
        assert_eq!(f("%i %ld", &[7, 8]).as_deref(), Some("7 8"));
        assert_eq!(f("%s", &[0]), None);
        assert_eq!(f("%d %d %d %d", &[1, 2, 3, 4]), None);
        assert_eq!(f("%d", &[]), None);
    }

    #[test]
    fn prng_is_deterministic() {
        let mut a = Prng::default();
        let mut b = Prng::default();
        let xs: Vec<u32> = (0..4).map(|_| a.next_u32()).collect();
        assert_eq!(xs, (0..4).map(|_| b.next_u32()).collect::<Vec<_>>());
        assert_ne!(xs[0], xs[1]);
    }
}
