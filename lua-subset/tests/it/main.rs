//! Integration tests of the Lua front end, the code generator and the oracle.

mod examples;
