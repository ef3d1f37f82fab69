//! The result of running a program over a capture, and its `run --json` form
//! (see CONTRACTS.md): shared by every engine so they print identically.

use std::collections::BTreeMap;

/// Contents of one map after a run: `(key bytes, value bytes)` sorted by key.
pub type MapContents = Vec<(Vec<u8>, Vec<u8>)>;

/// What a run over a capture produced.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RunReport {
    /// `--engine` value: lua, interp, jit, kernel.
    pub engine: String,
    /// Architecture, for the JIT.
    pub arch: Option<String>,
    /// r0 per packet as signed 64-bit, `None` where there is no verdict.
    pub verdicts: Vec<Option<i64>>,
    /// Maps by name.
    pub maps: BTreeMap<String, MapContents>,
}

/// A key or value of 1–8 bytes as the signed little-endian integer it holds;
/// longer (or empty) ones as `0x` + hex bytes.
pub fn bytes_to_json(bytes: &[u8]) -> serde_json::Value {
    if (1..=8).contains(&bytes.len()) {
        let mut b = [0u8; 8];
        b[..bytes.len()].copy_from_slice(bytes);
        serde_json::Value::from(i64::from_le_bytes(b))
    } else {
        serde_json::Value::String(hex(bytes))
    }
}

/// The JSON object key for map key bytes (always a string).
pub fn key_to_json(bytes: &[u8]) -> String {
    match bytes_to_json(bytes) {
        serde_json::Value::String(s) => s,
        v => v.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl RunReport {
    /// The `run --json` object.
    pub fn to_json(&self) -> serde_json::Value {
        let mut obj = serde_json::Map::new();
        obj.insert("engine".into(), self.engine.clone().into());
        if let Some(arch) = &self.arch {
            obj.insert("arch".into(), arch.clone().into());
        }
        obj.insert("packets".into(), self.verdicts.len().into());
        let verdicts = self
            .verdicts
            .iter()
            .map(|v| v.map_or(serde_json::Value::Null, Into::into));
        obj.insert("verdicts".into(), verdicts.collect::<Vec<_>>().into());
        let mut maps = serde_json::Map::new();
        for (name, contents) in &self.maps {
            let mut m = serde_json::Map::new();
            for (k, v) in contents {
                m.insert(key_to_json(k), bytes_to_json(v));
            }
            maps.insert(name.clone(), m.into());
        }
        obj.insert("maps".into(), maps.into());
        serde_json::Value::Object(obj)
    }
}
