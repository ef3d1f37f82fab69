//! Integration tests of the Lua front end, the code generator and the oracle.

mod diff;
mod examples;
mod gen;
mod mini_vm;
mod packets;
mod ui;
