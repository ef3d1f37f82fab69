//! The semantics reference: the same Lua file run by real Lua 5.4 (mlua,
//! vendored), with a host-side packet and maps implementing the contract.

use bpf_bridge::report::MapContents;
use mlua::{
    HookTriggers, Lua, MetaMethod, UserData, UserDataFields, UserDataMethods, Value, VmState,
};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::rc::Rc;

/// A failure of the oracle itself (not of the filter, whose errors give verdict 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleError(pub String);

impl fmt::Display for OracleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OracleError {}

impl From<mlua::Error> for OracleError {
    fn from(e: mlua::Error) -> Self {
        OracleError(e.to_string())
    }
}

#[derive(Debug)]
struct MapState {
    array: bool,
    key_mask: u64,
    key_size: usize,
    value_mask: u64,
    value_size: usize,
    entries: u64,
    data: HashMap<u64, u64>,
}

type Maps = Rc<RefCell<Vec<MapState>>>;

struct MapHandle {
    idx: usize,
    maps: Maps,
}

fn int_arg(v: &Value, what: &str) -> mlua::Result<i64> {
    match v {
        Value::Integer(i) => Ok(*i),
        _ => Err(mlua::Error::runtime(format!("{what} must be an integer"))),
    }
}

impl UserData for MapHandle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |_, this, key: Value| {
            let k = int_arg(&key, "map key")? as u64;
            let maps = this.maps.borrow();
            let m = &maps[this.idx];
            let k = k & m.key_mask;
            if m.array {
                if k >= m.entries {
                    return Ok(Value::Nil);
                }
                return Ok(Value::Integer(m.data.get(&k).copied().unwrap_or(0) as i64));
            }
            Ok(m.data
                .get(&k)
                .map_or(Value::Nil, |v| Value::Integer(*v as i64)))
        });
        methods.add_meta_method(
            MetaMethod::NewIndex,
            |_, this, (key, val): (Value, Value)| {
                let k = int_arg(&key, "map key")? as u64;
                let mut maps = this.maps.borrow_mut();
                let m = &mut maps[this.idx];
                let k = k & m.key_mask;
                match val {
                    Value::Nil => {
                        if m.array {
                            return Err(mlua::Error::runtime("cannot delete from an array map"));
                        }
                        m.data.remove(&k);
                    }
                    Value::Integer(v) => {
                        let v = v as u64 & m.value_mask;
                        if m.array {
                            if k < m.entries {
                                m.data.insert(k, v);
                            }
                        } else if m.data.contains_key(&k) || (m.data.len() as u64) < m.entries {
                            m.data.insert(k, v);
                        }
                    }
                    _ => return Err(mlua::Error::runtime("map values must be integers")),
                }
                Ok(())
            },
        );
    }
}

struct Pkt(Vec<u8>);

impl Pkt {
    fn load(&self, off: &Value, size: usize) -> mlua::Result<i64> {
        let off = int_arg(off, "packet offset")?;
        if off < 0 || (off as u64).saturating_add(size as u64) > self.0.len() as u64 {
            return Err(mlua::Error::runtime("packet read out of range"));
        }
        let o = off as usize;
        Ok(self.0[o..o + size]
            .iter()
            .fold(0i64, |acc, b| (acc << 8) | *b as i64))
    }
}

impl UserData for Pkt {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("len", |_, this| Ok(this.0.len() as i64));
    }
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("u8", |_, this, off: Value| this.load(&off, 1));
        methods.add_method("u16", |_, this, off: Value| this.load(&off, 2));
        methods.add_method("u32", |_, this, off: Value| this.load(&off, 4));
    }
}

/// Real Lua 5.4 running a filter file.
pub struct Oracle {
    lua: Lua,
    func: mlua::Function,
    maps: Maps,
    names: Vec<String>,
    steps: Rc<Cell<u64>>,
    runaway: Rc<Cell<bool>>,
    /// VM instructions (in thousands) after which a packet is abandoned.
    #[allow(dead_code)]
    limit_k: u64,
    packets: u64,
}

fn map_ctor(lua: &Lua, maps: &Maps, array: bool) -> mlua::Result<mlua::Function> {
    let maps = maps.clone();
    lua.create_function(move |_, t: mlua::Table| {
        let width = |field: &str, default: &str| -> mlua::Result<(u64, usize)> {
            let s: Option<String> = t.get(field)?;
            match s.as_deref().unwrap_or(default) {
                "u32" => Ok((0xffff_ffff, 4)),
                "u64" => Ok((u64::MAX, 8)),
                other => Err(mlua::Error::runtime(format!("bad map type {other}"))),
            }
        };
        let (key_mask, key_size) = width("key", "u32")?;
        let (value_mask, value_size) = width("value", "u64")?;
        let entries: i64 = t.get("entries")?;
        let mut m = maps.borrow_mut();
        m.push(MapState {
            array,
            key_mask: if array { 0xffff_ffff } else { key_mask },
            key_size: if array { 4 } else { key_size },
            value_mask,
            value_size,
            entries: entries.max(0) as u64,
            data: HashMap::new(),
        });
        Ok(MapHandle {
            idx: m.len() - 1,
            maps: maps.clone(),
        })
    })
}

impl Oracle {
    /// Loads `source` and runs its chunk (which declares maps and returns the filter).
    pub fn new(file: &str, source: &str) -> Result<Oracle, OracleError> {
        let lua = Lua::new();
        lua.gc_stop();
        let maps: Maps = Rc::new(RefCell::new(Vec::new()));
        let env = lua.create_table()?;
        let map = lua.create_table()?;
        map.set("hash", map_ctor(&lua, &maps, false)?)?;
        map.set("array", map_ctor(&lua, &maps, true)?)?;
        env.set("map", map)?;
        let real_math: mlua::Table = lua.globals().get("math")?;
        let math = lua.create_table()?;
        for f in ["min", "max", "abs", "maxinteger", "mininteger"] {
            math.set(f, real_math.get::<Value>(f)?)?;
        }
        env.set("math", math)?;
        let steps = Rc::new(Cell::new(0u64));
        let runaway = Rc::new(Cell::new(false));
        let limit_k = 200_000;
        Self::install_hook(&lua, &steps, &runaway, limit_k)?;
        let chunk = lua
            .load(source)
            .set_name(format!("@{file}"))
            .set_environment(env);
        let func = match chunk.call::<Value>(())? {
            Value::Function(f) => f,
            other => {
                return Err(OracleError(format!(
                    "the chunk returned a {}, not a function",
                    other.type_name()
                )))
            }
        };
        Ok(Oracle {
            lua,
            func,
            maps,
            names: crate::map_names(source),
            steps,
            runaway,
            limit_k,
            packets: 0,
        })
    }

    fn install_hook(
        lua: &Lua,
        steps: &Rc<Cell<u64>>,
        runaway: &Rc<Cell<bool>>,
        limit: u64,
    ) -> Result<(), OracleError> {
        let (steps, runaway) = (steps.clone(), runaway.clone());
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(1000),
            move |_, _| {
                steps.set(steps.get() + 1);
                if steps.get() > limit {
                    runaway.set(true);
                    return Err(mlua::Error::runtime("instruction limit"));
                }
                Ok(VmState::Continue)
            },
        )?;
        Ok(())
    }

    /// Runs the filter on one packet: `Some(verdict)`, or `None` when the
    /// packet ran past the instruction limit (left out of comparisons).
    pub fn run_packet(&mut self, pkt: &[u8]) -> Result<Option<i64>, OracleError> {
        self.steps.set(0);
        self.runaway.set(false);
        self.packets += 1;
        if self.packets.is_multiple_of(1024) {
            self.lua.gc_collect()?;
        }
        let ud = self.lua.create_userdata(Pkt(pkt.to_vec()))?;
        let r = self.func.call::<mlua::MultiValue>(ud);
        if self.runaway.get() {
            return Ok(None);
        }
        Ok(Some(match r {
            Ok(vals) => match vals.into_iter().next() {
                Some(Value::Integer(i)) => i,
                Some(Value::Boolean(b)) => b as i64,
                _ => 0,
            },
            Err(_) => 0,
        }))
    }

    /// Map contents by local name: `(key bytes LE, value bytes LE)` sorted by
    /// key bytes; arrays list only non-zero elements.
    pub fn maps(&self) -> BTreeMap<String, MapContents> {
        let mut out = BTreeMap::new();
        for (i, m) in self.maps.borrow().iter().enumerate() {
            let name = self
                .names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("map{i}"));
            let mut c: MapContents = m
                .data
                .iter()
                .filter(|(_, v)| !m.array || **v != 0)
                .map(|(k, v)| {
                    (
                        k.to_le_bytes()[..m.key_size].to_vec(),
                        v.to_le_bytes()[..m.value_size].to_vec(),
                    )
                })
                .collect();
            c.sort();
            out.insert(name, c);
        }
        out
    }
}
