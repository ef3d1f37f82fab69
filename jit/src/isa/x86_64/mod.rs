//! The x86_64 backend: registers, encoders and the macro-assembler.

pub mod asm;
mod carry;
pub mod masm;
pub mod regs;

#[cfg(test)]
mod tests;

/// Fill byte for unused code space: `int3`.
pub const TRAP_FILL: &[u8] = &[0xcc];
