//! Real Lua 5.4 (the mlua oracle) as one more engine.

use crate::Failure;
use bpf_bridge::engine::{Engine, Fault, FaultKind};
use bpf_bridge::report::MapContents;
use lua_subset::oracle::Oracle;
use std::collections::BTreeMap;

/// The oracle behind the [`Engine`] trait, so `run --engine lua` reports like the others.
pub struct OracleEngine {
    oracle: Oracle,
}

impl OracleEngine {
    /// Loads `source` (named `file` in messages) into a fresh Lua state.
    pub fn new(file: &str, source: &str) -> Result<OracleEngine, Failure> {
        let oracle =
            Oracle::new(file, source).map_err(|e| Failure::rejected(format!("{file}: {e}")))?;
        Ok(OracleEngine { oracle })
    }
}

impl Engine for OracleEngine {
    fn name(&self) -> &str {
        "lua"
    }

    fn run_packet(&mut self, pkt: &mut [u8]) -> Result<u64, Fault> {
        match self.oracle.run_packet(pkt) {
            Ok(Some(verdict)) => Ok(verdict as u64),
            // Real Lua has no loop budget: such packets have no comparable verdict.
            Ok(None) => Err(Fault {
                insn: 0,
                kind: FaultKind::NotRun("loop budget exhausted under real Lua"),
            }),
            Err(_) => Err(Fault {
                insn: 0,
                kind: FaultKind::Engine("the Lua state failed"),
            }),
        }
    }

    fn maps(&self) -> BTreeMap<String, MapContents> {
        self.oracle.maps()
    }
}
