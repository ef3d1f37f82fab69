//! lua-subset
