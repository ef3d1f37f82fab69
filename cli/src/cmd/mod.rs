//! One module per subcommand; each returns the exit code or a [`luabpf::Failure`].

pub mod asm;
pub mod compile;
pub mod conformance;
pub mod jit;

pub mod run;
pub mod verify;
