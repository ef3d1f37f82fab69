//! Replays the committed `lua` fuzz corpus (`fuzz/corpus/lua/`) under stable Rust
//! with the fuzz target's own check (`fuzz/src/lua.rs`, included by path).

#[path = "../../../fuzz/src/lua.rs"]
mod lua;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn lua_corpus() {
    replay::replay("lua", lua::check);
}
