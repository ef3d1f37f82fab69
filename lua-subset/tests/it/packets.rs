//! Synthetic frames: Ethernet + IPv4/IPv6 + TCP/UDP/ICMP, ARP, truncations.

fn eth(ethertype: u16) -> Vec<u8> {
    let mut v = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
    v.extend_from_slice(&ethertype.to_be_bytes());
    v
}

fn csum(h: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in h.chunks(2) {
        s += u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32;
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// IPv4 with `opts` option bytes (multiple of 4), protocol and payload.
pub fn ipv4(proto: u8, src: [u8; 4], opts: usize, payload: &[u8], good_csum: bool) -> Vec<u8> {
    let ihl = 5 + opts / 4;
    let total = (ihl * 4 + payload.len()) as u16;
    let mut h = vec![0x40 | ihl as u8, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&[10, 0, 0, 2]);
    h.extend(std::iter::repeat_n(1u8, opts));
    let c = csum(&h);
    let c = if good_csum { c } else { c ^ 0x5a5a };
    h[10..12].copy_from_slice(&c.to_be_bytes());
    let mut v = eth(0x0800);
    v.extend(h);
    v.extend_from_slice(payload);
    v
}

pub fn tcp(sport: u16, dport: u16, flags: u8, options: &[u8]) -> Vec<u8> {
    let doff = (20 + options.len()).div_ceil(4);
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        0,
        (doff as u8) << 4,
        flags,
        0xff,
        0xff,
        0,
        0,
        0,
        0,
    ]);
    t.extend_from_slice(options);
    t.resize(doff * 4, 0);
    t
}

pub fn udp(sport: u16, dport: u16, len: usize) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + len) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend(std::iter::repeat_n(0xabu8, len));
    u
}

pub fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = eth(0x86DD);
    v.extend_from_slice(&[0x60, 0, 0, 0]);
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.extend_from_slice(&[next, 64]);
    v.extend(std::iter::repeat_n(0x20u8, 32));
    v.extend_from_slice(payload);
    v
}

/// A deterministic set of frames covering the examples' paths.
pub fn synthetic() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mss = |m: u16| {
        let b = m.to_be_bytes();
        vec![1, 1, 2, 4, b[0], b[1], 4, 2, 0]
    };
    for (i, src) in [[10, 0, 0, 1], [10, 0, 0, 7], [192, 168, 1, 9]]
        .iter()
        .enumerate()
    {
        out.push(ipv4(
            6,
            *src,
            0,
            &tcp(1000 + i as u16, 80, 0x02, &mss(1460)),
            true,
        ));
        out.push(ipv4(6, *src, 4, &tcp(1000, 23, 0x02, &mss(400)), true));
        out.push(ipv4(6, *src, 0, &tcp(1000, 445, 0x12, &[]), true));
        out.push(ipv4(6, *src, 8, &tcp(2000, 3389, 0x10, &[]), i != 1));
        out.push(ipv4(17, *src, 0, &udp(53, 53, 20), true));
        out.push(ipv4(17, *src, 0, &udp(5353, 137, 4), i == 0));
        out.push(ipv4(1, *src, 0, &[8, 0, 0, 0, 0, 0, 0, 0], true));
        out.push(ipv4(1, *src, 0, &[8u8; 1200], true));
    }
    out.push(ipv4(
        6,
        [1, 2, 3, 4],
        0,
        &tcp(1, 2, 0x02, &[2, 1, 1, 1, 1, 0]),
        true,
    ));
    out.push(ipv4(6, [1, 2, 3, 4], 0, &tcp(1, 2, 0x02, &[8, 0]), true));
    out.push(ipv6(17, &udp(100, 53, 10)));
    out.push(ipv6(58, &[128u8; 1100]));
    out.push(ipv6(6, &tcp(5, 6, 2, &[])));
    let mut arp = eth(0x0806);
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend(std::iter::repeat_n(0u8, 20));
    out.push(arp);
    // Truncations of a TCP SYN at every length.
    let full = ipv4(6, [9, 9, 9, 9], 4, &tcp(7, 23, 0x02, &mss(100)), true);
    for n in 0..full.len() {
        out.push(full[..n].to_vec());
    }
    out.push(vec![]);
    out
}
