//! The AArch64 backend: registers, encoders and the macro-assembler.

pub mod asm;
pub mod masm;
pub mod regs;
