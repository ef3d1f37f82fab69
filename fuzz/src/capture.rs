//! `capture`: arbitrary bytes as a pcap or pcapng file. Reading never panics, and
//! the frames returned are slices of the input, so they never add up to more bytes
//! than it has (a corrupt length cannot make the reader allocate more).

use bpf_bridge::capture::read_frames;

/// Runs the check on one input.
pub fn check(data: &[u8]) {
    if let Ok(frames) = read_frames(data) {
        let total: usize = frames.iter().map(Vec::len).sum();
        assert!(
            total <= data.len(),
            "{} frames of {total} bytes from a {}-byte capture",
            frames.len(),
            data.len()
        );
    }
}
