//! Reading captures: pcap and pcapng files to the frames they hold, as captured.
//!
//! Parsing works on the whole file in memory (slice parsers, no reader), so a
//! corrupt length field can never ask for a huge allocation.

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::{Block, PcapNgParser};

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Neither the pcap nor the pcapng magic number.
    #[error("not a pcap or pcapng capture (magic {0:02x?})")]
    BadMagic(Vec<u8>),
    /// A header or record that does not parse, with the record's index.
    #[error("corrupt capture at record {index}: {message}")]
    Corrupt {
        /// Zero-based index of the record (packet or block).
        index: usize,
        /// What the parser said.
        message: String,
    },
}

const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// The frames of a pcap or pcapng capture, in order, each as captured
/// (possibly shorter than on the wire).
pub fn read_frames(bytes: &[u8]) -> Result<Vec<Vec<u8>>, CaptureError> {
    let magic: Vec<u8> = bytes.iter().take(4).copied().collect();
    if magic == PCAPNG_MAGIC {
        read_pcapng(bytes)
    } else if PCAP_MAGICS.iter().any(|m| m[..] == magic[..]) {
        read_pcap(bytes)
    } else {
        Err(CaptureError::BadMagic(magic))
    }
}

fn corrupt(index: usize, e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Corrupt {
        index,
        message: e.to_string(),
    }
}

fn read_pcap(bytes: &[u8]) -> Result<Vec<Vec<u8>>, CaptureError> {
    let (mut rest, parser) =
        PcapParser::new(bytes).map_err(|e| corrupt(0, format!("file header: {e}")))?;
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let (next, packet) = parser
            .next_packet(rest)
            .map_err(|e| corrupt(frames.len(), e))?;
        frames.push(packet.data.into_owned());
        rest = next;
    }
    Ok(frames)
}

fn read_pcapng(bytes: &[u8]) -> Result<Vec<Vec<u8>>, CaptureError> {
    let (mut rest, mut parser) =
        PcapNgParser::new(bytes).map_err(|e| corrupt(0, format!("section header: {e}")))?;
    let mut frames = Vec::new();
    let mut index = 1;
    while !rest.is_empty() {
        let (next, block) = parser.next_block(rest).map_err(|e| corrupt(index, e))?;
        match block {
            Block::EnhancedPacket(p) => frames.push(p.data.into_owned()),
            Block::SimplePacket(p) => frames.push(p.data.into_owned()),
            Block::Packet(p) => frames.push(p.data.into_owned()),
            _ => {}
        }
        rest = next;
        index += 1;
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(records: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        out.extend([0u8; 8]);
        out.extend(65535u32.to_le_bytes());
        out.extend(1u32.to_le_bytes());
        for r in records {
            out.extend([0u8; 8]);
            out.extend((r.len() as u32).to_le_bytes());
            out.extend((r.len() as u32).to_le_bytes());
            out.extend_from_slice(r);
        }
        out
    }

    #[test]
    fn reads_frames_in_order() {
        let frames = read_frames(&pcap(&[b"abc", b"", b"defgh"])).unwrap();
        assert_eq!(frames, vec![b"abc".to_vec(), vec![], b"defgh".to_vec()]);
    }

    #[test]
    fn bad_magic_is_an_error() {
        let e = read_frames(b"GIF89a....").unwrap_err();
        assert!(matches!(e, CaptureError::BadMagic(_)), "{e}");
        assert!(matches!(read_frames(b""), Err(CaptureError::BadMagic(_))));
    }

    #[test]
    fn every_truncation_is_an_error_or_a_prefix_never_a_panic() {
        let whole = pcap(&[b"0123456789", b"abcdef"]);
        for len in 0..whole.len() {
            match read_frames(&whole[..len]) {
                Ok(frames) => assert!(frames.len() <= 2),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
        let e = read_frames(&whole[..whole.len() - 3]).unwrap_err();
        assert!(matches!(e, CaptureError::Corrupt { index: 1, .. }), "{e}");
    }

    #[test]
    fn huge_record_length_is_an_error() {
        let mut bytes = pcap(&[b"abc"]);
        bytes[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read_frames(&bytes).is_err());
    }

    #[test]
    fn shipped_captures_parse() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/captures/");
        let pcap = read_frames(&std::fs::read(format!("{root}mixed.pcap")).unwrap()).unwrap();
        let ng = read_frames(&std::fs::read(format!("{root}small.pcapng")).unwrap()).unwrap();
        assert_eq!(pcap.len(), 303);
        assert_eq!(ng[..], pcap[..40]);
    }
}
