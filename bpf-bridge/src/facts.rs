//! What the verifier proved about a program, in the form engines consume.
//!
//! Engines run in one of two modes. *Checked*: every memory access is checked at
//! run time against the run's regions, so even an unverified program cannot
//! touch anything else. *Verified*: the program passed the verifier, and only the
//! checks it did not discharge remain; [`Facts`] carries that, one entry per slot.

use alloc::vec::Vec;

/// A field of the program's context that a load reads. The context of an XDP
/// program is `struct xdp_md` with 32-bit fields; the pointers in it cannot be
/// 32-bit host values, so engines convert such loads (as the kernel does): the
/// load yields the field's full 64-bit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CtxField {
    /// `xdp_md.data` (+0): pointer to the first packet byte.
    XdpData,
    /// `xdp_md.data_end` (+4): pointer one past the last packet byte.
    XdpDataEnd,
    /// `xdp_md.data_meta` (+8): equal to data (no metadata area).
    XdpDataMeta,
    /// `xdp_md.ingress_ifindex` (+12).
    XdpIngressIfindex,
    /// `xdp_md.rx_queue_index` (+16).
    XdpRxQueueIndex,
    /// `xdp_md.egress_ifindex` (+20).
    XdpEgressIfindex,
}

impl CtxField {
    /// The XDP field read by a load of `size` bytes at offset `off` of `xdp_md`,
    /// if that access is a valid one (aligned, whole 4-byte field).
    pub fn xdp(off: i64, size: usize) -> Option<CtxField> {
        if size != 4 {
            return None;
        }
        Some(match off {
            0 => CtxField::XdpData,
            4 => CtxField::XdpDataEnd,
            8 => CtxField::XdpDataMeta,
            12 => CtxField::XdpIngressIfindex,
            16 => CtxField::XdpRxQueueIndex,
            20 => CtxField::XdpEgressIfindex,
            _ => return None,
        })
    }

    /// Size of `struct xdp_md` in bytes.
    pub const XDP_MD_SIZE: usize = 24;
}

/// The verifier's verdict on one slot's memory access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Access {
    /// Not a memory access, or one proven to stay inside its region: run unchecked.
    #[default]
    Proven,
    /// A load of a context field: convert it as [`CtxField`] says.
    Ctx(CtxField),
    /// Not proven (or the slot is unreachable): keep the run-time check.
    Check,
}

/// Per-slot facts from the verifier; `accesses.len()` equals the slot count.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Facts {
    /// One entry per instruction slot.
    pub accesses: Vec<Access>,
    /// Largest stack depth in bytes used by any frame.
    pub max_stack: u32,
}

impl Facts {
    /// Facts that prove nothing: every access checked (what checked mode uses).
    pub fn unproven(slots: usize) -> Facts {
        Facts {
            accesses: alloc::vec![Access::Check; slots],
            max_stack: 512,
        }
    }
}
