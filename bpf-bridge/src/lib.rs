//! The eBPF program model shared by every luabpf engine.
//!
//! Data flows one way: a [`program::Program`] (from assembly, raw bytecode, an
//! ELF object or the Lua front end) is decoded once into [`isa::Op`]s and then
//! run by an engine (the interpreter here, the JIT and the kernel elsewhere).

pub mod isa;
pub mod program;
