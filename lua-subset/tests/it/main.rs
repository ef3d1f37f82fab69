//! Integration tests of the Lua front end, the code generator and the oracle.

mod diff;
mod examples;
mod gen;
mod kernel;
mod packets;
mod ui;
