//! Packet-processing loops over a whole 1500-byte frame, written once as
//! eBPF (`bench/loops/*.s`, v3 ops only so rbpf 0.4 runs them too) and once
//! in Rust. Each is the shape a C loop takes for the kernel's verifier: a
//! bounded counter, every load checked against `data_end` first.
//!
//! - `inet_csum`: the RFC 1071 Internet checksum of the frame (16-bit loads,
//!   `be16`, 64-bit adds, two folds): the most common whole-packet loop.
//! - `fnv1a`: 32-bit FNV-1a over the payload bytes (byte loads, `xor32`,
//!   `mul32`): a payload hash, as for flow or content fingerprints.
//! - `byte_count`: counts the newline bytes of the payload, a compare-branch
//!   per byte: a delimiter scan.

use bpf_bridge::program::{ProgType, Program};

/// Length of [`frame`]: a full Ethernet MTU frame.
pub const FRAME_LEN: usize = 1500;
/// Ethernet (14) and IPv6 (40) headers: where `fnv1a` and `byte_count` start.
pub const PAYLOAD_OFF: usize = 54;
/// Bytes the eBPF loops read at most (`fnv1a`, `byte_count`; `inet_csum`
/// reads 1024 16-bit words).
pub const MAX_BYTES: usize = 2048;

/// A Rust version of a workload: the r0 its program returns on a frame.
pub type Native = fn(&[u8]) -> u64;

/// One workload: its eBPF program and the same algorithm in Rust.
pub struct PacketLoop {
    /// Short name (the `.s` file stem).
    pub name: &'static str,
    /// The program, `ProgType::Xdp`.
    pub program: Program,
    /// The Rust version: the r0 the program returns on the frame.
    pub native: Native,
}

/// The three workloads, assembled from `bench/loops/`.
///
/// # Panics
/// If a source file is missing or does not assemble (a bench set-up error).
pub fn workloads() -> Vec<PacketLoop> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/loops");
    let list: [(&'static str, Native); 3] = [
        ("inet_csum", native_inet_csum),
        ("fnv1a", native_fnv1a),
        ("byte_count", native_byte_count),
    ];
    list.into_iter()
        .map(|(name, native)| {
            let path = format!("{dir}/{name}.s");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let program = bpf_bridge::asm::assemble(&text)
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .into_program(name, ProgType::Xdp);
            PacketLoop {
                name,
                program,
                native,
            }
        })
        .collect()
}

/// A 1500-byte Ethernet/IPv6/UDP frame (port 40000 to 53) whose 1438-byte
/// payload is xorshift bytes: a fixed, realistic-looking input.
pub fn frame() -> Vec<u8> {
    let mut f = vec![0u8; FRAME_LEN];
    f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes()); // ETH_P_IPV6
    f[14] = 0x60; // version 6
    let ip_payload = (FRAME_LEN - PAYLOAD_OFF) as u16;
    f[18..20].copy_from_slice(&ip_payload.to_be_bytes());
    f[20] = 17; // UDP
    f[21] = 64; // hop limit
    f[22..26].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]); // 2001:db8::1
    f[37] = 1;
    f[38..42].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]); // 2001:db8::2
    f[53] = 2;
    f[54..56].copy_from_slice(&40000u16.to_be_bytes());
    f[56..58].copy_from_slice(&53u16.to_be_bytes());
    f[58..60].copy_from_slice(&ip_payload.to_be_bytes());
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for b in &mut f[62..] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    f
}

/// `inet_csum` in Rust.
pub fn native_inet_csum(pkt: &[u8]) -> u64 {
    let mut sum = pkt
        .chunks_exact(2)
        .take(MAX_BYTES / 2)
        .map(|w| u16::from_be_bytes([w[0], w[1]]) as u64)
        .sum::<u64>();
    for _ in 0..2 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum ^ 0xffff
}

/// `fnv1a` in Rust.
pub fn native_fnv1a(pkt: &[u8]) -> u64 {
    let payload = pkt.get(PAYLOAD_OFF..).unwrap_or_default();
    payload
        .iter()
        .take(MAX_BYTES)
        .fold(0x811c_9dc5u32, |h, &b| {
            (h ^ b as u32).wrapping_mul(0x0100_0193)
        }) as u64
}

/// `byte_count` in Rust.
pub fn native_byte_count(pkt: &[u8]) -> u64 {
    let payload = pkt.get(PAYLOAD_OFF..).unwrap_or_default();
    payload
        .iter()
        .take(MAX_BYTES)
        .filter(|&&b| b == b'\n')
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interpreter (the reference engine) agrees with the Rust versions.
    #[test]
    fn programs_match_native() {
        let f = frame();
        for w in workloads() {
            let want = (w.native)(&f);
            let mode = bpf_bridge::interp::Mode::Checked;
            let mut e = bpf_bridge::interp::InterpEngine::new(&w.program, mode).expect("interp");
            let mut pkt = f.clone();
            let got = bpf_bridge::engine::Engine::run_packet(&mut e, &mut pkt).expect("run");
            assert_eq!(got, want, "{}", w.name);
        }
    }
}
