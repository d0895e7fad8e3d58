//! Lua values to and from the core's [`Payload`], and copies of tables within
//! one state. All three keep the shape of the data: a table reached twice is
//! copied once, cycles stay cycles. They walk with explicit stacks, so deep
//! nesting cannot overflow the native stack.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{c_int, c_void};

use mlua::{ffi, Lua, Table, Value as LuaValue};

use phoenix_events_core::cluster::GlobalPid;
use phoenix_events_core::value::{Payload, PayloadBuilder, Shape, TableId, TooLarge, Value};

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
///
/// The walk reads the tables with the raw API (`lua_next`) inside one
/// protected call: going through mlua would create a handle for every key
/// and value.
/// (`sendEvent` itself uses [`table_payload`] and [`scalar_payload_at`];
/// this is for the value checks.)
#[cfg(any(test, feature = "fuzzing"))]
pub fn to_payload(lua: &Lua, value: &LuaValue, max_bytes: usize) -> Result<Payload, SendError> {
    let pushed = lua
        .create_registry_value(value)
        .map_err(|e| SendError::Lua(e.to_string()))?;
    let converted = walk_payload(lua, max_bytes, |own| {
        // SAFETY: `own` is inside the protected call with free slots.
        unsafe { ffi::lua_rawgeti(own, ffi::LUA_REGISTRYINDEX, pushed.id().into()) };
    });
    drop(lua.remove_registry_value(pushed));
    converted
}

/// Converts the plain value (not a table) at `index` of `state` for another
/// computer, as [`to_payload`] does.
///
/// # Safety
/// `index` is a valid index of `state`, a thread of this computer's state,
/// on its thread.
pub unsafe fn scalar_payload_at(
    state: *mut ffi::lua_State,
    index: c_int,
    max_bytes: usize,
) -> Result<Payload, SendError> {
    // SAFETY: as the caller guarantees. The walk's own scalar conversion
    // reads the value without converting anything in place and raises
    // nothing.
    unsafe {
        let mut walk = ToPayload {
            builder: PayloadBuilder::new().limited_to(max_bytes),
            ..ToPayload::default()
        };
        let root = walk.convert(state, index, Place::Root)?;
        Ok(walk.builder.finish(root)?)
    }
}

/// Converts the table at registry reference `reference` for another
/// computer, as [`to_payload`] does: walked in one protected call. (The
/// caller takes the reference: a stack index of its thread may mean nothing
/// in that call's frame, and `luaL_ref` may raise, which must not happen in
/// here.)
pub fn table_payload(lua: &Lua, reference: c_int, max_bytes: usize) -> Result<Payload, SendError> {
    walk_payload(lua, max_bytes, |own| {
        // SAFETY: `own` is inside the protected call with free slots; a raw
        // read of the registry raises nothing.
        unsafe { ffi::lua_rawgeti(own, ffi::LUA_REGISTRYINDEX, reference.into()) };
    })
}

/// The walk of [`to_payload`], with the value pushed by `push`.
fn walk_payload(
    lua: &Lua,
    max_bytes: usize,
    push: impl FnOnce(*mut ffi::lua_State),
) -> Result<Payload, SendError> {
    let mut walk = ToPayload {
        builder: PayloadBuilder::with_room_for(LAST_SHAPE.get()).limited_to(max_bytes),
        ..ToPayload::default()
    };
    // SAFETY: `exec_raw` runs the closure inside a protected call on a state
    // of this computer, on its thread; `push` leaves the value at index 1.
    // The closure borrows `walk` and owns nothing, so if Lua raises (out of
    // memory) nothing is leaked; `walk` is dropped here as usual.
    let ran = unsafe {
        lua.exec_raw::<()>((), |state| {
            push(state);
            walk.run(state)
        })
    };
    ran.map_err(|e| SendError::Lua(e.to_string()))?;
    let root = walk
        .result
        .take()
        .unwrap_or_else(|| Err(SendError::Lua("the payload walk did not run".to_owned())))?;
    let payload = walk.builder.finish(root)?;
    LAST_SHAPE.set(payload.shape().min(SHAPE_HINT_LIMIT));
    Ok(payload)
}

thread_local! {
    /// The shape of the last payload sent from this thread (one computer's):
    /// programs tend to send alike payloads, so the next one's buffers start
    /// at that size instead of growing step by step.
    static LAST_SHAPE: Cell<Shape> = const { Cell::new(Shape { string_bytes: 0, entries: 0, tables: 0 }) };
}

/// The most room reserved from a hint (a small payload after a big one
/// wastes at most this much).
const SHAPE_HINT_LIMIT: Shape = Shape {
    string_bytes: 4096,
    entries: 256,
    tables: 32,
};

/// The value to send is at stack slot 1; every table found is kept in the
/// slot after it, table `id` at `FIRST_TABLE_SLOT + id`, until the walk ends.
/// (So a payload has at most as many tables as a C function may have stack
/// slots: LuaJIT allows 8000, Lua 5.2 a million. Beyond, it is too large.)
const ROOT_SLOT: c_int = 1;
const FIRST_TABLE_SLOT: c_int = 2;
/// Up to this many tables, finding a table again is a scan of a short
/// vector; beyond, a hash map is built.
const LINEAR_SEEN: usize = 16;
/// During `lua_next`, the key and the value are the top two slots; tables
/// found meanwhile are inserted below them, so these stay right.
const KEY_INDEX: c_int = -2;
const VALUE_INDEX: c_int = -1;

/// Where a value was found; described in words only when needed (an error,
/// or a table's first sighting), so the common path allocates nothing.
#[derive(Clone, Copy)]
enum Place {
    Root,
    KeyIn(TableId),
    /// In table `TableId`, under the key at [`KEY_INDEX`].
    ValueIn(TableId),
}

#[derive(Default)]
struct ToPayload {
    builder: PayloadBuilder,
    /// Every table found so far, by ID (its address in the Lua state).
    found: Vec<*const c_void>,
    /// The same, by address; built only when there are many tables.
    by_address: HashMap<*const c_void, TableId>,
    /// For each table: the table it was first found in, and under which key.
    parents: Vec<Option<(TableId, String)>>,
    result: Option<Result<Value, SendError>>,
}

impl ToPayload {
    /// # Safety
    /// `state` is inside a protected call with the value to send at index 1.
    unsafe fn run(&mut self, state: *mut ffi::lua_State) {
        // SAFETY: as the caller guarantees; the slots used are reserved here
        // and, for each table found, in `table`.
        unsafe {
            ffi::luaL_checkstack(state, 4, c"payload walk".as_ptr());
            ffi::lua_settop(state, ROOT_SLOT);
            self.result = Some(self.walk(state));
        }
    }

    /// # Safety
    /// As for [`ToPayload::run`], with the slots set up.
    unsafe fn walk(&mut self, state: *mut ffi::lua_State) -> Result<Value, SendError> {
        // SAFETY: as the caller guarantees. lua_next is given a key that it
        // produced itself and a table that is not modified meanwhile; the
        // key and value are pushed above every table slot.
        unsafe {
            let root = self.convert(state, ROOT_SLOT, Place::Root)?;
            let mut id: TableId = 0;
            while (id as usize) < self.found.len() {
                let table = FIRST_TABLE_SLOT + id as c_int;
                ffi::lua_pushnil(state);
                while ffi::lua_next(state, table) != 0 {
                    let key = self.convert(state, KEY_INDEX, Place::KeyIn(id))?;
                    let value = self.convert(state, VALUE_INDEX, Place::ValueIn(id))?;
                    self.builder.insert(id, key, value)?;
                    ffi::lua_settop(state, -2); // keep the key for lua_next
                }
                id += 1;
            }
            Ok(root)
        }
    }

    /// Scalars here, inlined into the walk; tables and errors out of line.
    ///
    /// # Safety
    /// As for [`ToPayload::walk`]; `index` is a valid stack index.
    #[inline(always)]
    unsafe fn convert(
        &mut self,
        state: *mut ffi::lua_State,
        index: c_int,
        place: Place,
    ) -> Result<Value, SendError> {
        // SAFETY: as the caller guarantees; each accessor matches the type
        // just read, so none of them converts (or allocates) in place.
        unsafe {
            match ffi::lua_type(state, index) {
                ffi::LUA_TNIL => Ok(Value::Nil),
                ffi::LUA_TBOOLEAN => Ok(Value::Boolean(ffi::lua_toboolean(state, index) != 0)),
                ffi::LUA_TNUMBER => Ok(number(ffi::lua_tonumber(state, index))),
                ffi::LUA_TSTRING => Ok(self.builder.string(string_at(state, index))?),
                kind => self.convert_other(state, index, kind, place),
            }
        }
    }

    /// # Safety
    /// As for [`ToPayload::convert`]; `kind` is the type at `index`.
    #[inline(never)]
    unsafe fn convert_other(
        &mut self,
        state: *mut ffi::lua_State,
        index: c_int,
        kind: c_int,
        place: Place,
    ) -> Result<Value, SendError> {
        // SAFETY: as the caller guarantees.
        unsafe {
            if kind == ffi::LUA_TTABLE {
                return Ok(Value::Table(self.table(state, index, place)?));
            }
            Err(SendError::Unsendable {
                kind: kind_name(kind),
                place: self.describe(state, place),
            })
        }
    }

    /// The ID of the table at `pointer`, if it was found before.
    fn seen(&mut self, pointer: *const c_void) -> Option<TableId> {
        if self.found.len() <= LINEAR_SEEN {
            return self
                .found
                .iter()
                .position(|&p| p == pointer)
                .map(|id| id as TableId);
        }
        if self.by_address.is_empty() {
            let ids = (0..).zip(self.found.iter().copied());
            self.by_address = ids.map(|(id, p)| (p, id)).collect();
        }
        self.by_address.get(&pointer).copied()
    }

    /// # Safety
    /// As for [`ToPayload::convert`]; the value at `index` is a table.
    unsafe fn table(
        &mut self,
        state: *mut ffi::lua_State,
        index: c_int,
        place: Place,
    ) -> Result<TableId, SendError> {
        // SAFETY: as the caller guarantees. The new table's slot is the one
        // just above the last table's when the walk is still discovering
        // (the root), or is inserted there below the walk's key and value.
        unsafe {
            let pointer = ffi::lua_topointer(state, index);
            if let Some(id) = self.seen(pointer) {
                return Ok(id);
            }
            // Every table found keeps a stack slot until the walk ends: a
            // payload of more tables than a C function may have slots
            // (LuaJIT: about 8000; Lua 5.2: a million) is too large.
            if ffi::lua_checkstack(state, 4) == 0 {
                return Err(SendError::TooLarge);
            }
            let id = self.builder.new_table()?;
            let parent = match place {
                Place::Root => None,
                Place::KeyIn(parent) => Some((parent, "[<table>]".to_owned())),
                Place::ValueIn(parent) => Some((parent, describe_key(state, KEY_INDEX))),
            };
            ffi::lua_pushvalue(state, index);
            ffi::lua_insert(state, FIRST_TABLE_SLOT + id as c_int);
            self.found.push(pointer);
            if !self.by_address.is_empty() {
                self.by_address.insert(pointer, id);
            }
            self.parents.push(parent);
            Ok(id)
        }
    }
    /// # Safety
    /// As for [`ToPayload::convert`].
    unsafe fn describe(&self, state: *mut ffi::lua_State, place: Place) -> String {
        match place {
            Place::Root => ROOT_NAME.to_owned(),
            Place::KeyIn(id) => format!("a key of {}", walk_place(&self.parents, id)),
            Place::ValueIn(id) => {
                // SAFETY: the key is at KEY_INDEX while a value is converted.
                let key = unsafe { describe_key(state, KEY_INDEX) };
                format!("{}{key}", walk_place(&self.parents, id))
            }
        }
    }
}

/// Lua 5.2 has one number type; integral values travel as integers, the
/// others (and -0.0, whose sign an integer would lose) as floats.
fn number(n: f64) -> Value {
    let i = n as i64;
    if (i as f64).to_bits() == n.to_bits() {
        Value::Integer(i)
    } else {
        Value::Number(n)
    }
}

/// The bytes of the string at `index`, without copying them.
///
/// # Safety
/// The value at `index` of `state` is a string and stays in that slot for
/// `'a` (Lua neither moves nor collects a string that is on the stack).
unsafe fn string_at<'a>(state: *mut ffi::lua_State, index: c_int) -> &'a [u8] {
    let mut length = 0;
    // SAFETY: as the caller guarantees: for a string, lua_tolstring returns
    // its own bytes without converting anything.
    unsafe {
        let data = ffi::lua_tolstring(state, index, &mut length);
        std::slice::from_raw_parts(data.cast::<u8>(), length)
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

/// `.name`, `["a b"]`, `[3]`, `[true]`, `[<table>]` for the key at `index`.
///
/// # Safety
/// `index` is a valid index of `state`, inside a protected call.
unsafe fn describe_key(state: *mut ffi::lua_State, index: c_int) -> String {
    // SAFETY: as the caller guarantees; each accessor matches the type read.
    unsafe {
        match ffi::lua_type(state, index) {
            ffi::LUA_TSTRING => {
                let bytes = string_at(state, index);
                match std::str::from_utf8(bytes) {
                    Ok(text) if is_identifier(text) => format!(".{text}"),
                    Ok(text) => format!("[{text:?}]"),
                    Err(_) => "[<binary string>]".to_owned(),
                }
            }
            ffi::LUA_TNUMBER => match number(ffi::lua_tonumber(state, index)) {
                Value::Integer(i) => format!("[{i}]"),
                _ => format!("[{}]", ffi::lua_tonumber(state, index)),
            },
            ffi::LUA_TBOOLEAN => format!("[{}]", ffi::lua_toboolean(state, index) != 0),
            kind => format!("[<{}>]", type_name(kind)),
        }
    }
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn kind_name(kind: c_int) -> &'static str {
    match kind {
        ffi::LUA_TFUNCTION => "a function",
        ffi::LUA_TTHREAD => "a coroutine",
        #[cfg(feature = "luajit")]
        ffi::LUA_TCDATA => "a cdata",
        _ => "a userdata",
    }
}

fn type_name(kind: c_int) -> &'static str {
    match kind {
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TTHREAD => "coroutine",
        #[cfg(feature = "luajit")]
        ffi::LUA_TCDATA => "cdata",
        _ => "userdata",
    }
}

/// The parameters of a `remote_event`, `{sender = sender, type = name,
/// data = <the payload rebuilt in this computer's Lua state>}`.
///
/// All of it is built in one protected call with the raw API: going through
/// mlua per value costs a protected call for every string and field.
pub fn remote_params(
    lua: &Lua,
    sender: GlobalPid,
    name: &[u8],
    payload: &Payload,
) -> mlua::Result<Table> {
    // SAFETY: `exec_raw` runs the closure inside a protected call on a state
    // of this computer, on its thread, with an empty stack; a Lua error (out
    // of memory) unwinds to that protection. The closure owns nothing that
    // needs dropping (it borrows `name` and `payload`), so such an unwind
    // leaks nothing.
    unsafe {
        lua.exec_raw::<Table>((), |state| {
            push_payload(state, payload);
            ffi::lua_createtable(state, 0, 3);
            // A number, exact: a remote pid is below 10^14.
            ffi::lua_pushnumber(state, sender as ffi::lua_Number);
            ffi::lua_setfield(state, -2, c"sender".as_ptr());
            ffi::lua_pushlstring(state, name.as_ptr().cast(), name.len());
            ffi::lua_setfield(state, -2, c"type".as_ptr());
            ffi::lua_pushvalue(state, 1);
            ffi::lua_setfield(state, -2, c"data".as_ptr());
            ffi::lua_replace(state, 1); // the params table alone stays
        })
    }
}

/// Leaves exactly the payload's root value on `state`'s (empty) stack.
///
/// # Safety
/// `state` is a live Lua state used on its own thread, inside a protected
/// call (errors raised here must have somewhere to go).
unsafe fn push_payload(state: *mut ffi::lua_State, payload: &Payload) {
    // Slots 1..=n hold the tables while they are filled.
    let count = payload.table_count() as TableId;
    // SAFETY: as the caller guarantees; luaL_checkstack raises (into the
    // protection) if the stack cannot grow, and every index used below is
    // one of the slots reserved here.
    unsafe {
        ffi::luaL_checkstack(state, count as c_int + 3, c"payload too large".as_ptr());
        for id in 0..count {
            let (array, hash) = table_shape(payload.entries(id));
            ffi::lua_createtable(state, array, hash);
        }
        for id in 0..count {
            for (key, value) in payload.entries(id) {
                push_value(state, payload, key);
                push_value(state, payload, value);
                ffi::lua_rawset(state, table_slot(id));
            }
        }
        push_value(state, payload, payload.root());
        if count > 0 {
            // The root (possibly table 1 itself) goes to slot 1; the rest go.
            ffi::lua_replace(state, 1);
            ffi::lua_settop(state, 1);
        }
    }
}

/// The stack slot of table `id` while a payload is being rebuilt.
fn table_slot(id: TableId) -> c_int {
    id as c_int + 1
}

/// How many of `entries` go to a Lua table's array part (keys 1..=n, as
/// far as their count allows) and how many to its hash part, so that the
/// table is allocated once at its final size.
fn table_shape(entries: &[(Value, Value)]) -> (c_int, c_int) {
    let n = entries.len() as i64;
    let array = entries
        .iter()
        .filter(|(key, _)| matches!(*key, Value::Integer(i) if (1..=n).contains(&i)))
        .count();
    (array as c_int, (entries.len() - array) as c_int)
}

/// # Safety
/// As for [`push_payload`], with one free stack slot; `value` is `payload`'s.
unsafe fn push_value(state: *mut ffi::lua_State, payload: &Payload, value: &Value) {
    // SAFETY: as the caller guarantees.
    unsafe {
        match value {
            Value::Nil => ffi::lua_pushnil(state),
            Value::Boolean(b) => ffi::lua_pushboolean(state, c_int::from(*b)),
            Value::Integer(i) => ffi::lua_pushinteger(state, *i as ffi::lua_Integer),
            Value::Number(n) => ffi::lua_pushnumber(state, *n),
            Value::String(s) => {
                let bytes = payload.string(*s);
                ffi::lua_pushlstring(state, bytes.as_ptr().cast(), bytes.len());
            }
            Value::Table(id) => ffi::lua_pushvalue(state, table_slot(*id)),
        }
    }
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
