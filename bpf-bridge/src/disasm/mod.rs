//! Bytecode to text.
