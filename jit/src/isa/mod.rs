//! One folder per architecture, each holding only registers and encodings and
//! its [`crate::masm::MacroAssembler`].

pub mod x86_64;
