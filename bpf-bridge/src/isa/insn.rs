//! The raw 8-byte instruction, exactly as the kernel takes it.

use alloc::vec::Vec;

/// One eBPF instruction slot (`struct bpf_insn`). `lddw` takes two.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Insn {
    /// The opcode byte.
    pub code: u8,
    /// Destination register in the low nibble, source in the high nibble.
    pub regs: u8,
    /// Signed offset (jumps, memory).
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

/// Size of one instruction slot in bytes.
pub const INSN_SIZE: usize = 8;

impl Insn {
    /// Builds an instruction from its fields; registers are masked to four bits.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            regs: (dst & 0x0f) | ((src & 0x0f) << 4),
            off,
            imm,
        }
    }

    /// The destination register field.
    pub const fn dst(self) -> u8 {
        self.regs & 0x0f
    }

    /// The source register field.
    pub const fn src(self) -> u8 {
        self.regs >> 4
    }

    /// Little-endian encoding, as in a `.bin` file and the kernel's `bpf_attr`.
    pub fn to_bytes(self) -> [u8; INSN_SIZE] {
        let mut b = [0u8; INSN_SIZE];
        b[0] = self.code;
        b[1] = self.regs;
        b[2..4].copy_from_slice(&self.off.to_le_bytes());
        b[4..8].copy_from_slice(&self.imm.to_le_bytes());
        b
    }

    /// Decodes the little-endian encoding of one slot.
    pub fn from_bytes(b: [u8; INSN_SIZE]) -> Insn {
        Insn {
            code: b[0],
            regs: b[1],
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// The slot as one little-endian `u64`, the form of the conformance `-- raw` section.
    pub fn to_u64(self) -> u64 {
        u64::from_le_bytes(self.to_bytes())
    }

    /// Inverse of [`Insn::to_u64`].
    pub fn from_u64(v: u64) -> Insn {
        Insn::from_bytes(v.to_le_bytes())
    }
}

impl core::fmt::Debug for Insn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Insn {{ code: {:#04x}, dst: {}, src: {}, off: {}, imm: {} }}",
            self.code,
            self.dst(),
            self.src(),
            self.off,
            self.imm
        )
    }
}

/// Error for a byte string that is not a whole number of instructions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bytecode is {len} bytes, not a multiple of 8 (instruction {index} is truncated)")]
pub struct TruncatedBytecode {
    /// Length of the input in bytes.
    pub len: usize,
    /// Index of the incomplete instruction.
    pub index: usize,
}

/// Splits raw little-endian bytecode into slots.
pub fn insns_from_bytes(bytes: &[u8]) -> Result<Vec<Insn>, TruncatedBytecode> {
    if !bytes.len().is_multiple_of(INSN_SIZE) {
        return Err(TruncatedBytecode {
            len: bytes.len(),
            index: bytes.len() / INSN_SIZE,
        });
    }
    Ok(bytes
        .chunks_exact(INSN_SIZE)
        .map(|c| Insn::from_bytes(c.try_into().expect("chunk of 8")))
        .collect())
}

/// Joins slots into raw little-endian bytecode.
pub fn insns_to_bytes(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}
