//! Loop nests whose bodies branch on packet data (reduced from generated
//! program 43): the code generator keeps the states at loop heads few enough
//! for both verifiers to prune — an integer's truthiness is read off its tag,
//! comparisons known ranges decide are folded, and a variable shift's count
//! is compared on an unlinked copy. Before, both verifiers walked past their
//! million-instruction budget.

use bpf_bridge::verifier::verify;
use lua_subset::oracle::Oracle;
use lua_subset::{compile, CompileOptions};

#[test]
fn branchy_loop_nest_converges_in_both_verifiers() {
    let name = "loop_nest.lua";
    let src = include_str!("data/loop_nest.lua");
    let prog =
        compile(name, src, &CompileOptions::default()).unwrap_or_else(|d| panic!("{}", d.render()));
    let v = verify(&prog).unwrap_or_else(|e| panic!("{name}: rejected: {e}"));
    // 43,300 today; more than 1,000,000 before.
    assert!(
        v.stats.processed < 200_000,
        "{name}: {} processed",
        v.stats.processed
    );
    let Some(mut k) = super::kernel::load(name, &prog) else {
        return;
    };
    let mut oracle = Oracle::new(name, src).unwrap();
    super::kernel::agree(name, &mut k, &mut oracle, &super::diff::packets());
}
