//! The crate's integration tests (one binary).

mod conformance;
mod interp;
