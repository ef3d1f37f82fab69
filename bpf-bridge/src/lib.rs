//! The eBPF program model shared by every luabpf engine.
//!
//! Data flows one way: a [`program::Program`] (from assembly, raw bytecode, an
//! ELF object or the Lua front end) is decoded once into [`isa::Op`]s, checked by
//! the verifier, and run by an engine (the interpreter here, the JIT and the
//! kernel elsewhere).
//!
//! Without the default `std` feature only [`isa`], [`program`] and [`facts`]
//! are built (`no_std` + `alloc`), so a JIT hosted in an OS kernel can use them.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod facts;
pub mod isa;
pub mod program;
#[cfg(feature = "std")]
pub mod report;
#[cfg(feature = "std")]
pub mod verifier;
