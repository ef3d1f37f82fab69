//! Conformance runner tests.
