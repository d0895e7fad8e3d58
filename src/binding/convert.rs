//! Lua values to and from the core's [`Payload`], and copies of tables within
//! one state. All three keep the shape of the data: a table reached twice is
//! copied once, cycles stay cycles. They walk with explicit stacks, so deep
//! nesting cannot overflow the native stack.

use std::collections::HashMap;
use std::ffi::c_void;

use mlua::{Lua, Table, Value as LuaValue};

use crate::core::value::{Payload, PayloadBuilder, TableId, TooLarge, Value};

#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// A function, coroutine or userdata, with the place it was found.
    Unsendable {
        kind: &'static str,
        place: String,
    },
    TooLarge,
    /// Lua itself failed while reading the value (out of memory).
    Lua(String),
}

impl SendError {
    pub fn message(&self) -> String {
        match self {
            SendError::Unsendable { kind, place } => format!(
                "cannot send {kind} to another computer (found at {place}); only nil, booleans, numbers, strings and tables can be sent"
            ),
            SendError::TooLarge => "payload too large".to_owned(),
            SendError::Lua(message) => message.clone(),
        }
    }
}

impl From<TooLarge> for SendError {
    fn from(_: TooLarge) -> Self {
        SendError::TooLarge
    }
}

/// The root of a sent value is called this in error messages.
const ROOT_NAME: &str = "params";

/// Converts `value` for another computer.
pub fn to_payload(value: &LuaValue) -> Result<Payload, SendError> {
    let mut walk = ToPayload::default();
    let root = walk.convert(value, Place::Root)?;
    while let Some((table, id)) = walk.pending.pop() {
        for pair in table.pairs::<LuaValue, LuaValue>() {
            let (key, value) = pair.map_err(|e| SendError::Lua(e.to_string()))?;
            let k = walk.convert(&key, Place::KeyIn(id))?;
            let v = walk.convert(&value, Place::ValueIn(id, &key))?;
            walk.builder.insert(id, k, v)?;
        }
    }
    Ok(walk.builder.finish(root)?)
}

/// Where a value was found; described in words only when needed (an error,
/// or a table's first sighting), so the common path allocates nothing.
#[derive(Clone, Copy)]
enum Place<'a> {
    Root,
    KeyIn(TableId),
    ValueIn(TableId, &'a LuaValue),
}

#[derive(Default)]
struct ToPayload {
    builder: PayloadBuilder,
    seen: HashMap<*const c_void, TableId>,
    pending: Vec<(Table, TableId)>,
    /// For each table: the table it was first found in, and under which key.
    parents: Vec<Option<(TableId, String)>>,
}

impl ToPayload {
    fn convert(&mut self, value: &LuaValue, place: Place) -> Result<Value, SendError> {
        Ok(match value {
            LuaValue::Nil => Value::Nil,
            LuaValue::Boolean(b) => Value::Boolean(*b),
            LuaValue::Integer(i) => Value::Integer(*i),
            LuaValue::Number(n) => Value::Number(*n),
            LuaValue::String(s) => Value::String(s.as_bytes().to_vec().into_boxed_slice()),
            LuaValue::Table(t) => Value::Table(self.table(t, place)?),
            other => {
                return Err(SendError::Unsendable {
                    kind: kind_of(other),
                    place: self.describe(place),
                })
            }
        })
    }

    fn table(&mut self, table: &Table, place: Place) -> Result<TableId, SendError> {
        let pointer = table.to_pointer();
        if let Some(&id) = self.seen.get(&pointer) {
            return Ok(id);
        }
        let id = self.builder.new_table()?;
        self.seen.insert(pointer, id);
        let parent = match place {
            Place::Root => None,
            Place::KeyIn(parent) => Some((parent, "[<table>]".to_owned())),
            Place::ValueIn(parent, key) => Some((parent, describe_key(key))),
        };
        self.parents.push(parent);
        self.pending.push((table.clone(), id));
        Ok(id)
    }

    fn describe(&self, place: Place) -> String {
        match place {
            Place::Root => ROOT_NAME.to_owned(),
            Place::KeyIn(id) => format!("a key of {}", walk_place(&self.parents, id)),
            Place::ValueIn(id, key) => {
                format!("{}{}", walk_place(&self.parents, id), describe_key(key))
            }
        }
    }
}

/// `params.a[3]` for table `id`, following the first place each table was found.
fn walk_place(parents: &[Option<(TableId, String)>], id: TableId) -> String {
    let mut keys = Vec::new();
    let mut current = id;
    while let Some(Some((parent, key))) = parents.get(current as usize) {
        keys.push(key.as_str());
        current = *parent;
    }
    keys.reverse();
    format!("{ROOT_NAME}{}", keys.concat())
}

fn describe_key(key: &LuaValue) -> String {
    match key {
        LuaValue::String(s) => {
            let bytes = s.as_bytes();
            match std::str::from_utf8(&bytes) {
                Ok(text) if is_identifier(text) => format!(".{text}"),
                Ok(text) => format!("[{text:?}]"),
                Err(_) => "[<binary string>]".to_owned(),
            }
        }
        LuaValue::Integer(i) => format!("[{i}]"),
        LuaValue::Number(n) => format!("[{n}]"),
        LuaValue::Boolean(b) => format!("[{b}]"),
        other => format!("[<{}>]", other.type_name()),
    }
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn kind_of(value: &LuaValue) -> &'static str {
    match value {
        LuaValue::Function(_) => "a function",
        LuaValue::Thread(_) => "a coroutine",
        _ => "a userdata",
    }
}

/// Rebuilds a payload in this computer's Lua state.
pub fn from_payload(lua: &Lua, payload: &Payload) -> mlua::Result<LuaValue> {
    let tables = (0..payload.table_count() as TableId)
        .map(|id| lua.create_table_with_capacity(0, payload.entries(id).len()))
        .collect::<mlua::Result<Vec<Table>>>()?;
    for (id, table) in tables.iter().enumerate() {
        for (key, value) in payload.entries(id as TableId) {
            table.raw_set(to_lua(lua, key, &tables)?, to_lua(lua, value, &tables)?)?;
        }
    }
    to_lua(lua, payload.root(), &tables)
}

fn to_lua(lua: &Lua, value: &Value, tables: &[Table]) -> mlua::Result<LuaValue> {
    Ok(match value {
        Value::Nil => LuaValue::Nil,
        Value::Boolean(b) => LuaValue::Boolean(*b),
        Value::Integer(i) => LuaValue::Integer(*i),
        Value::Number(n) => LuaValue::Number(*n),
        Value::String(bytes) => LuaValue::String(lua.create_string(bytes)?),
        Value::Table(id) => LuaValue::Table(tables[*id as usize].clone()),
    })
}

/// A copy of `table` and every table inside it, within the same state.
/// Functions and other non-table values are shared, not copied.
pub fn copy_table(lua: &Lua, table: &Table) -> mlua::Result<Table> {
    let mut copies: HashMap<*const c_void, Table> = HashMap::new();
    let mut pending = vec![table.clone()];
    let root = lua.create_table()?;
    copies.insert(table.to_pointer(), root.clone());
    while let Some(original) = pending.pop() {
        let copy = copies[&original.to_pointer()].clone();
        for pair in original.pairs::<LuaValue, LuaValue>() {
            let (key, value) = pair?;
            let key = copy_value(lua, key, &mut copies, &mut pending)?;
            let value = copy_value(lua, value, &mut copies, &mut pending)?;
            copy.raw_set(key, value)?;
        }
    }
    Ok(root)
}

fn copy_value(
    lua: &Lua,
    value: LuaValue,
    copies: &mut HashMap<*const c_void, Table>,
    pending: &mut Vec<Table>,
) -> mlua::Result<LuaValue> {
    let LuaValue::Table(table) = value else {
        return Ok(value);
    };
    let pointer = table.to_pointer();
    if let Some(copy) = copies.get(&pointer) {
        return Ok(LuaValue::Table(copy.clone()));
    }
    let copy = lua.create_table()?;
    copies.insert(pointer, copy.clone());
    pending.push(table);
    Ok(LuaValue::Table(copy))
}
