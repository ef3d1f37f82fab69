//! Integration tests of the Lua front end, the code generator and the oracle.

mod diff;
mod divmod;
mod examples;
mod fuzz;
mod fuzz_corpus;
mod gen;
mod hand;
mod kernel;
mod kernel_gen;
mod loop_states;
mod packets;
mod ui;
mod verifier_accepts;
