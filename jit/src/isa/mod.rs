//! One folder per architecture, each holding only registers and encodings and
//! its [`crate::masm::MacroAssembler`].

pub mod aarch64;
pub mod riscv64;
pub mod x86_64;
