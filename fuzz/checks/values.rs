//! The value copy: a random graph of Lua data (cycles, shared tables, deep
//! nesting, binary strings, special numbers) is built in one Lua state,
//! converted to a payload and rebuilt in another state as a `remote_event`'s
//! data by the plugin's own code, and the copy must be isomorphic to the
//! original.

use std::collections::HashMap;
use std::ffi::c_void;

use mlua::{Lua, Table, Value};

use super::Choices;
use crate::convert::{remote_params, to_payload};

/// Large enough that no generated graph hits the payload limit.
const NO_LIMIT: usize = 1 << 30;
/// Registry keys under which the root holds every shared table, so that each
/// can also be reached through a plain key (tables used as keys then have a
/// known counterpart in the copy).
const REGISTRY_BASE: f64 = -1_000_000.0;
const SPECIAL_NUMBERS: [f64; 18] = [
    0.0,
    -0.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    9_007_199_254_740_992.0,     // 2^53
    9_007_199_254_740_993.0,     // rounds to 2^53
    9_223_372_036_854_775_808.0, // 2^63
    -9_223_372_036_854_775_808.0,
    1e308,
    5e-324,
    3.0,
    0.5,
    1.0 / 3.0,
    2_147_483_648.0,
    -2_147_483_648.0,
    4_294_967_295.0,
    -1.0,
];

/// Builds a graph from `input`, copies it across and compares.
pub fn check_value_round_trip(input: &[u8]) -> Result<(), String> {
    let source = Lua::new();
    let target = Lua::new();
    let original = build_graph(&source, &mut Choices::new(input)).map_err(|e| e.to_string())?;
    let payload = to_payload(&source, &original, NO_LIMIT)
        .map_err(|e| format!("to_payload failed: {}", e.message()))?;
    let params = remote_params(&target, 0, b"fuzz", &payload)
        .map_err(|e| format!("remote_params failed: {e}"))?;
    let copy: Value = params.raw_get("data").map_err(|e| e.to_string())?;
    Isomorphism::new(&target).check(&original, &copy)
}

fn build_graph(lua: &Lua, c: &mut Choices) -> mlua::Result<Value> {
    if c.byte().is_multiple_of(8) {
        return scalar(lua, c);
    }
    let tables: Vec<Table> = (0..1 + c.below(8))
        .map(|_| lua.create_table())
        .collect::<mlua::Result<_>>()?;
    let root = tables[0].clone();
    for (i, table) in tables.iter().enumerate().skip(1) {
        root.raw_set(REGISTRY_BASE - i as f64, table)?;
    }
    for _ in 0..c.below(96) {
        if c.is_empty() {
            break;
        }
        let table = &tables[c.below(tables.len())];
        let Some(key) = key(lua, c, &tables)? else {
            continue;
        };
        let value = match c.byte() % 8 {
            0..=2 => Value::Table(tables[c.below(tables.len())].clone()),
            3 => Value::Table(chain(lua, c, &tables)?),
            4 => Value::Nil, // removes the key
            _ => scalar(lua, c)?,
        };
        table.raw_set(key, value)?;
    }
    Ok(Value::Table(root))
}

/// A key: any scalar but nil and NaN, or one of the registered tables.
fn key(lua: &Lua, c: &mut Choices, tables: &[Table]) -> mlua::Result<Option<Value>> {
    if c.byte().is_multiple_of(6) {
        return Ok(Some(Value::Table(tables[c.below(tables.len())].clone())));
    }
    Ok(match scalar(lua, c)? {
        Value::Nil => None,
        Value::Number(n) if n.is_nan() || (n <= REGISTRY_BASE && n > REGISTRY_BASE - 9.0) => None,
        key => Some(key),
    })
}

fn scalar(lua: &Lua, c: &mut Choices) -> mlua::Result<Value> {
    Ok(match c.byte() % 9 {
        0 => Value::Nil,
        1 => Value::Boolean(c.byte().is_multiple_of(2)),
        2 | 3 => Value::Number(f64::from(c.byte()) - 8.0),
        4 => Value::Number(SPECIAL_NUMBERS[c.below(SPECIAL_NUMBERS.len())]),
        5 => Value::Number(f64::from_bits(c.u64())),
        6 | 7 => {
            let len = c.below(24);
            Value::String(lua.create_string(c.take(len))?)
        }
        _ => {
            let len = c.below(5000);
            Value::String(lua.create_string(vec![c.byte(); len])?)
        }
    })
}

/// A fresh chain of nested tables, up to 2000 deep, ending in a scalar or
/// pointing back at a registered table.
fn chain(lua: &Lua, c: &mut Choices, tables: &[Table]) -> mlua::Result<Table> {
    let head = lua.create_table()?;
    let mut link = head.clone();
    for _ in 0..c.below(2000) {
        let next = lua.create_table()?;
        link.raw_set("next", &next)?;
        link = next;
    }
    if c.byte().is_multiple_of(2) {
        link.raw_set("back", &tables[c.below(tables.len())])?;
    } else {
        link.raw_set("end", scalar(lua, c)?)?;
    }
    Ok(head)
}

/// Compares an original graph with its copy (in state `copy_lua`): the same
/// values, and a one-to-one map between their tables that every entry respects.
struct Isomorphism<'l> {
    copy_lua: &'l Lua,
    copies: HashMap<*const c_void, Table>,
    originals: HashMap<*const c_void, *const c_void>,
    work: Vec<(Table, Table)>,
    /// Entries keyed by a table whose counterpart is not known yet.
    deferred: Vec<(Table, Table, Table, Value)>,
}

impl<'l> Isomorphism<'l> {
    fn new(copy_lua: &'l Lua) -> Self {
        Isomorphism {
            copy_lua,
            copies: HashMap::new(),
            originals: HashMap::new(),
            work: Vec::new(),
            deferred: Vec::new(),
        }
    }

    fn check(mut self, original: &Value, copy: &Value) -> Result<(), String> {
        self.same(original, copy, "root")?;
        loop {
            while let Some((a, b)) = self.work.pop() {
                self.compare_tables(&a, &b)?;
            }
            let before = self.deferred.len();
            for (a, b, key, value) in std::mem::take(&mut self.deferred) {
                self.compare_entry(&a, &b, Value::Table(key), &value)?;
            }
            if self.work.is_empty() && self.deferred.len() == before {
                break;
            }
        }
        match self.deferred.len() {
            0 => Ok(()),
            n => Err(format!("{n} table keys have no counterpart in the copy")),
        }
    }

    fn compare_tables(&mut self, a: &Table, b: &Table) -> Result<(), String> {
        let entries: Vec<(Value, Value)> = a
            .pairs::<Value, Value>()
            .collect::<mlua::Result<_>>()
            .map_err(|e| e.to_string())?;
        let copied = b.pairs::<Value, Value>().count();
        if entries.len() != copied {
            return Err(format!(
                "a table of {} entries was copied with {copied}",
                entries.len()
            ));
        }
        for (key, value) in entries {
            self.compare_entry(a, b, key, &value)?;
        }
        Ok(())
    }

    fn compare_entry(
        &mut self,
        a: &Table,
        b: &Table,
        key: Value,
        value: &Value,
    ) -> Result<(), String> {
        let copy_key = match &key {
            Value::Table(k) => match self.copies.get(&k.to_pointer()) {
                Some(copy) => Value::Table(copy.clone()),
                None => {
                    self.deferred
                        .push((a.clone(), b.clone(), k.clone(), value.clone()));
                    return Ok(());
                }
            },
            Value::String(s) => Value::String(
                self.copy_lua
                    .create_string(s.as_bytes())
                    .map_err(|e| e.to_string())?,
            ),
            other => other.clone(),
        };
        let copied: Value = b.raw_get(copy_key).map_err(|e| e.to_string())?;
        if matches!(copied, Value::Nil) {
            return Err(format!("key {} is missing from the copy", show(&key)));
        }
        self.same(value, &copied, &show(&key))
    }

    fn same(&mut self, a: &Value, b: &Value, place: &str) -> Result<(), String> {
        let equal = match (a, b) {
            (Value::Nil, Value::Nil) => true,
            (Value::Boolean(x), Value::Boolean(y)) => x == y,
            (Value::String(x), Value::String(y)) => x.as_bytes() == y.as_bytes(),
            (Value::Table(x), Value::Table(y)) => return self.pair(x, y, place),
            _ => match (number(a), number(b)) {
                (Some(x), Some(y)) => (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
                _ => false,
            },
        };
        if equal {
            Ok(())
        } else {
            Err(format!("at {place}: {} became {}", show(a), show(b)))
        }
    }

    fn pair(&mut self, a: &Table, b: &Table, place: &str) -> Result<(), String> {
        let (pa, pb) = (a.to_pointer(), b.to_pointer());
        if let Some(known) = self.copies.get(&pa) {
            return if known.to_pointer() == pb {
                Ok(())
            } else {
                Err(format!("at {place}: a shared table became two tables"))
            };
        }
        if self.originals.insert(pb, pa).is_some() {
            return Err(format!("at {place}: two tables became one"));
        }
        self.copies.insert(pa, b.clone());
        self.work.push((a.clone(), b.clone()));
        Ok(())
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", String::from_utf8_lossy(&s.as_bytes())),
        Value::Table(_) => "a table".to_owned(),
        other => match number(other) {
            Some(n) => format!("{n:?} ({:#x})", n.to_bits()),
            None => format!("{other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(lua: &Lua, a: Value, b: Value) -> Result<(), String> {
        Isomorphism::new(lua).check(&a, &b)
    }

    #[test]
    fn the_checker_tells_different_graphs_apart() {
        let lua = Lua::new();
        let table = || lua.create_table().unwrap();
        let shared = table();
        let twice = lua.create_sequence_from([shared.clone(), shared]).unwrap();
        let two = lua.create_sequence_from([table(), table()]).unwrap();
        assert!(check(&lua, Value::Table(twice.clone()), Value::Table(two.clone())).is_err());
        assert!(check(&lua, Value::Table(two), Value::Table(twice.clone())).is_err());
        assert!(check(&lua, Value::Table(twice.clone()), Value::Table(twice)).is_ok());
        assert!(check(&lua, Value::Number(0.0), Value::Number(-0.0)).is_err());
        assert!(check(&lua, Value::Number(f64::NAN), Value::Number(f64::NAN)).is_ok());
        let cycle = table();
        cycle.raw_set("self", &cycle).unwrap();
        let open = table();
        open.raw_set("self", table()).unwrap();
        assert!(check(&lua, Value::Table(cycle), Value::Table(open)).is_err());
        let keyed = table();
        keyed.raw_set("k", 1).unwrap();
        let other = table();
        other.raw_set("j", 1).unwrap();
        assert!(check(&lua, Value::Table(keyed), Value::Table(other)).is_err());
    }
}
