//! Opcode fields of RFC 9669, spelled as in the RFC and Linux uapi.
//!
//! ```text
//!   7 6 5 4 3 2 1 0
//!  +-------+-+-----+
//!  |  op   |s|class|   ALU, ALU64, JMP, JMP32   (s = source: K or X)
//!  +-------+-+-----+
//!  | mode|sz |class|   LD, LDX, ST, STX
//!  +-----+---+-----+
//! ```
//! Only `isa` masks opcode bytes; everyone else works on [`super::Op`].

/// Instruction classes (low three bits).
pub const BPF_LD: u8 = 0x00;
pub const BPF_LDX: u8 = 0x01;
pub const BPF_ST: u8 = 0x02;
pub const BPF_STX: u8 = 0x03;
pub const BPF_ALU: u8 = 0x04;
pub const BPF_JMP: u8 = 0x05;
pub const BPF_JMP32: u8 = 0x06;
pub const BPF_ALU64: u8 = 0x07;

/// Source bit: immediate (K) or register (X).
pub const BPF_K: u8 = 0x00;
pub const BPF_X: u8 = 0x08;

/// Arithmetic operation codes (high four bits).
pub const BPF_ADD: u8 = 0x00;
pub const BPF_SUB: u8 = 0x10;
pub const BPF_MUL: u8 = 0x20;
pub const BPF_DIV: u8 = 0x30;
pub const BPF_OR: u8 = 0x40;
pub const BPF_AND: u8 = 0x50;
pub const BPF_LSH: u8 = 0x60;
pub const BPF_RSH: u8 = 0x70;
pub const BPF_NEG: u8 = 0x80;
pub const BPF_MOD: u8 = 0x90;
pub const BPF_XOR: u8 = 0xa0;
pub const BPF_MOV: u8 = 0xb0;
pub const BPF_ARSH: u8 = 0xc0;
pub const BPF_END: u8 = 0xd0;

/// Byte-swap direction in the source bit of `BPF_END` (ALU class).
pub const BPF_TO_LE: u8 = 0x00;
pub const BPF_TO_BE: u8 = 0x08;

/// Jump operation codes (high four bits).
pub const BPF_JA: u8 = 0x00;
pub const BPF_JEQ: u8 = 0x10;
pub const BPF_JGT: u8 = 0x20;
pub const BPF_JGE: u8 = 0x30;
pub const BPF_JSET: u8 = 0x40;
pub const BPF_JNE: u8 = 0x50;
pub const BPF_JSGT: u8 = 0x60;
pub const BPF_JSGE: u8 = 0x70;
pub const BPF_CALL: u8 = 0x80;
pub const BPF_EXIT: u8 = 0x90;
pub const BPF_JLT: u8 = 0xa0;
pub const BPF_JLE: u8 = 0xb0;
pub const BPF_JSLT: u8 = 0xc0;
pub const BPF_JSLE: u8 = 0xd0;
pub const BPF_JCOND: u8 = 0xe0;

/// Memory access sizes (bits 3–4).
pub const BPF_W: u8 = 0x00;
pub const BPF_H: u8 = 0x08;
pub const BPF_B: u8 = 0x10;
pub const BPF_DW: u8 = 0x18;

/// Memory modes (bits 5–7).
pub const BPF_IMM: u8 = 0x00;
pub const BPF_ABS: u8 = 0x20;
pub const BPF_IND: u8 = 0x40;
pub const BPF_MEM: u8 = 0x60;
pub const BPF_MEMSX: u8 = 0x80;
pub const BPF_ATOMIC: u8 = 0xc0;

/// Atomic operations, in the immediate of `BPF_ATOMIC` stores.
pub const BPF_FETCH: i32 = 0x01;
pub const BPF_XCHG: i32 = 0xe0 | BPF_FETCH;
pub const BPF_CMPXCHG: i32 = 0xf0 | BPF_FETCH;

/// `src` values of the 64-bit immediate load (`lddw`).
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
pub const BPF_PSEUDO_MAP_VALUE: u8 = 2;
/// `src` of a call to a local function (bpf-to-bpf).
pub const BPF_PSEUDO_CALL: u8 = 1;
/// `src` of `BPF_JCOND`: may_goto.
pub const BPF_MAY_GOTO: u8 = 0;

/// Masks.
pub const CLASS_MASK: u8 = 0x07;
pub const OP_MASK: u8 = 0xf0;
pub const SRC_MASK: u8 = 0x08;
pub const SIZE_MASK: u8 = 0x18;
pub const MODE_MASK: u8 = 0xe0;

/// Frequently needed whole opcodes.
pub const LDDW: u8 = BPF_LD | BPF_IMM | BPF_DW;
pub const CALL: u8 = BPF_JMP | BPF_CALL;
pub const CALLX: u8 = BPF_JMP | BPF_CALL | BPF_X;
pub const EXIT: u8 = BPF_JMP | BPF_EXIT;
