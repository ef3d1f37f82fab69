//! The eBPF instruction set (RFC 9669, v4): raw slots, typed ops, their
//! decoding, encoding and semantics. Nobody outside this module masks opcode bytes.

mod decode;
mod encode;
mod fast;
mod insn;
mod op;
pub mod opcode;
pub mod semantics;
mod shape;

pub use decode::{
    byte_swap_of, decode_each, decode_one, decode_program, decode_program_shape, DecodeError,
    OpSink,
};
pub use encode::{encode_program, gotol, is_gotol};
pub use fast::{alu_op_of, decode_alu};
pub use insn::{insns_from_bytes, insns_to_bytes, Insn, TruncatedBytecode, INSN_SIZE};
pub use op::{AluOp, AtomicOp, Endian, JmpOp, Op, Reg, Size, Src, Width};
pub use shape::{is_add_sub_imm, is_cond_jump_imm, is_load, jump_targets, peek, Peek, Shape};
