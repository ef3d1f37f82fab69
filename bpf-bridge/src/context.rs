//! Program contexts: what r1 points to at entry and how context loads convert.
//!
//! `raw`: r1 = the memory itself (writable), r2 = its length; there is no context
//! object. `xdp`: r1 = a 24-byte `struct xdp_md`; its 32-bit fields cannot hold
//! host pointers, so (as in the kernel) a whole-field load is *converted*: `data`,
//! `data_meta` and `data_end` yield the full 64-bit packet pointers, the others
//! their scalar. Any other context access faults.

use crate::engine::FaultKind;
use crate::facts::CtxField;
use crate::memory::Region;

/// `ingress_ifindex` seen by XDP programs.
pub const XDP_INGRESS_IFINDEX: u64 = 1;
/// `rx_queue_index` seen by XDP programs.
pub const XDP_RX_QUEUE_INDEX: u64 = 0;

/// The value a converted load of `field` yields for a packet occupying `packet`.
#[inline(always)]
pub fn ctx_field_value(field: CtxField, packet: Region) -> u64 {
    match field {
        CtxField::XdpData | CtxField::XdpDataMeta => packet.start,
        CtxField::XdpDataEnd => packet.end,
        CtxField::XdpIngressIfindex => XDP_INGRESS_IFINDEX,
        CtxField::XdpRxQueueIndex => XDP_RX_QUEUE_INDEX,
        CtxField::XdpEgressIfindex => 0,
    }
}

/// A checked load of `size` bytes at byte `off` of the XDP context.
#[inline]
pub fn xdp_load(off: u64, size: usize, packet: Region) -> Result<u64, FaultKind> {
    match CtxField::xdp(off as i64, size) {
        Some(field) if off < CtxField::XDP_MD_SIZE as u64 => Ok(ctx_field_value(field, packet)),
        _ => Err(FaultKind::BadCtxAccess {
            off,
            size: size as u8,
        }),
    }
}

/// The stable code of a field, for engines that store it in an immediate.
pub fn field_code(field: CtxField) -> u8 {
    match field {
        CtxField::XdpData => 0,
        CtxField::XdpDataEnd => 1,
        CtxField::XdpDataMeta => 2,
        CtxField::XdpIngressIfindex => 3,
        CtxField::XdpRxQueueIndex => 4,
        CtxField::XdpEgressIfindex => 5,
    }
}

/// The field with code `code` (inverse of [`field_code`]).
pub fn field_from_code(code: u8) -> Option<CtxField> {
    Some(match code {
        0 => CtxField::XdpData,
        1 => CtxField::XdpDataEnd,
        2 => CtxField::XdpDataMeta,
        3 => CtxField::XdpIngressIfindex,
        4 => CtxField::XdpRxQueueIndex,
        5 => CtxField::XdpEgressIfindex,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdp_fields_convert_and_partial_loads_fault() {
        let pkt = Region {
            start: 0x1000,
            end: 0x1040,
            writable: true,
        };
        assert_eq!(xdp_load(0, 4, pkt), Ok(0x1000));
        assert_eq!(xdp_load(4, 4, pkt), Ok(0x1040));
        assert_eq!(xdp_load(8, 4, pkt), Ok(0x1000));
        assert_eq!(xdp_load(12, 4, pkt), Ok(1));
        assert_eq!(xdp_load(16, 4, pkt), Ok(0));
        assert!(xdp_load(0, 8, pkt).is_err());
        assert!(xdp_load(2, 4, pkt).is_err());
        assert!(xdp_load(1, 1, pkt).is_err());
        for c in 0..6 {
            assert_eq!(field_from_code(c).map(field_code), Some(c));
        }
    }
}
