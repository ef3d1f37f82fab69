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

#[cfg(feature = "std")]
pub mod asm;
#[cfg(feature = "std")]
pub mod btf;
#[cfg(feature = "std")]
pub mod capture;
#[cfg(feature = "std")]
pub mod conformance;
#[cfg(feature = "std")]
pub mod context;
#[cfg(feature = "std")]
pub mod disasm;
#[cfg(feature = "std")]
pub mod elf;
#[cfg(feature = "std")]
pub mod engine;
pub mod facts;
#[cfg(feature = "std")]
pub mod helpers;
#[cfg(feature = "std")]
pub mod interp;
pub mod isa;
#[cfg(all(feature = "std", target_os = "linux"))]
pub mod kernel;
#[cfg(feature = "std")]
pub mod maps;
#[cfg(feature = "std")]
pub mod memory;
pub mod program;
#[cfg(feature = "std")]
pub mod report;
#[cfg(feature = "std")]
pub mod verifier;
