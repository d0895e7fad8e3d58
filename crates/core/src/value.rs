//! Plain Lua data that can cross from one computer to another.
//!
//! A [`Payload`] is a graph: every table is a node, referenced by index, so a
//! table reachable twice stays one table and cycles stay cycles. Strings are
//! bytes; integers and floats are kept apart.
//!
//! A payload is three flat buffers, whatever its shape: one byte arena for
//! all its strings, one vector of entries (each table's entries side by
//! side) and one vector of table starts. Building, sending and dropping one
//! therefore costs a handful of allocations, not one per string.

#[cfg(doc)]
use super::limits::Limits;
use super::limits::PAYLOAD;

mod spare;
mod wire;

pub use wire::DecodeError;

/// Index of a table node inside its [`Payload`].
pub type TableId = u32;

/// A string of a payload: a range of its byte arena (see [`Payload::string`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Str {
    start: u32,
    len: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Nil,
    Boolean(bool),
    Integer(i64),
    Number(f64),
    String(Str),
    Table(TableId),
}

/// What every value and table costs on top of its string bytes.
const VALUE_COST: usize = 16;
const TABLE_COST: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    root: Value,
    strings: Vec<u8>,
    entries: Vec<(Value, Value)>,
    /// Table `t`'s entries are `entries[starts[t]..starts[t + 1]]`.
    starts: Vec<u32>,
    bytes: usize,
}

/// The payload would exceed its size limit ([`Limits::payload`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

impl Payload {
    /// A payload holding a single non-table, non-string value.
    #[cfg(test)]
    pub fn scalar(value: Value) -> Payload {
        debug_assert!(!matches!(value, Value::Table(_) | Value::String(_)));
        PayloadBuilder::new().finish(value).unwrap()
    }

    /// A payload holding a single string.
    #[cfg(test)]
    pub fn text(bytes: &[u8]) -> Payload {
        let mut builder = PayloadBuilder::new();
        let root = builder.string(bytes).unwrap();
        builder.finish(root).unwrap()
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    pub fn table_count(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// The key/value pairs of table `id`, in no particular order.
    pub fn entries(&self, id: TableId) -> &[(Value, Value)] {
        let id = id as usize;
        &self.entries[self.starts[id] as usize..self.starts[id + 1] as usize]
    }

    /// The bytes of string `s` of this payload.
    pub fn string(&self, s: Str) -> &[u8] {
        &self.strings[s.start as usize..][..s.len as usize]
    }

    /// The accounted size, compared against [`Limits::payload`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// How much room each of its buffers takes.
    pub fn shape(&self) -> Shape {
        Shape {
            string_bytes: self.strings.len(),
            entries: self.entries.len(),
            tables: self.table_count(),
        }
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        spare::give_back(std::mem::take(&mut self.strings));
    }
}

/// The sizes of a payload's buffers, to build the next one at its size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub string_bytes: usize,
    pub entries: usize,
    pub tables: usize,
}

impl Shape {
    /// Each size at most `limit`'s.
    pub fn min(self, limit: Shape) -> Shape {
        Shape {
            string_bytes: self.string_bytes.min(limit.string_bytes),
            entries: self.entries.min(limit.entries),
            tables: self.tables.min(limit.tables),
        }
    }
}

/// Builds a payload, enforcing the size limit as it grows.
///
/// Tables are filled one after another in the order of their IDs: once an
/// entry of table `t` is inserted, no entry of a table before `t` may follow
/// (a breadth-first walk does exactly this).
#[derive(Debug)]
pub struct PayloadBuilder {
    strings: Vec<u8>,
    entries: Vec<(Value, Value)>,
    starts: Vec<u32>,
    tables: u32,
    bytes: usize,
    /// The most accounted bytes the payload may take.
    limit: usize,
}

impl Default for PayloadBuilder {
    /// An empty builder with the default size limit.
    fn default() -> Self {
        PayloadBuilder {
            strings: Vec::new(),
            entries: Vec::new(),
            starts: Vec::new(),
            tables: 0,
            bytes: 0,
            limit: PAYLOAD.default,
        }
    }
}

impl PayloadBuilder {
    pub fn new() -> PayloadBuilder {
        PayloadBuilder::default()
    }

    /// A builder with room for a payload of `shape` without growing.
    pub fn with_room_for(shape: Shape) -> PayloadBuilder {
        PayloadBuilder {
            strings: Vec::with_capacity(shape.string_bytes),
            entries: Vec::with_capacity(shape.entries),
            starts: Vec::with_capacity(shape.tables + 1),
            ..PayloadBuilder::default()
        }
    }

    /// The same builder, refusing payloads of more than `limit` bytes.
    pub fn limited_to(self, limit: usize) -> PayloadBuilder {
        PayloadBuilder { limit, ..self }
    }

    pub fn new_table(&mut self) -> Result<TableId, TooLarge> {
        self.charge(TABLE_COST)?;
        self.tables += 1;
        Ok(self.tables - 1)
    }

    /// Copies `bytes` into the payload; the value refers to the copy.
    /// Charged here, before copying, so an oversized string is never copied.
    #[inline]
    pub fn string(&mut self, bytes: &[u8]) -> Result<Value, TooLarge> {
        self.charge(bytes.len())?;
        let start = self.strings.len() as u32;
        if self.strings.capacity() - self.strings.len() < bytes.len() {
            spare::grow(&mut self.strings, bytes.len());
        }
        self.strings.extend_from_slice(bytes);
        Ok(Value::String(Str {
            start,
            len: bytes.len() as u32,
        }))
    }

    /// Adds an entry to `table` (see the filling order above).
    #[inline]
    pub fn insert(&mut self, table: TableId, key: Value, value: Value) -> Result<(), TooLarge> {
        self.charge(2 * VALUE_COST)?;
        debug_assert!(
            table as usize + 1 >= self.starts.len(),
            "tables filled out of order"
        );
        self.open_tables_through(table as usize);
        self.entries.push((key, value));
        Ok(())
    }

    /// The payload with `root` as its value; the root is charged too.
    pub fn finish(mut self, root: Value) -> Result<Payload, TooLarge> {
        self.charge(VALUE_COST)?;
        self.open_tables_through(self.tables as usize);
        Ok(Payload {
            root,
            strings: self.strings,
            entries: self.entries,
            starts: self.starts,
            bytes: self.bytes,
        })
    }

    /// Starts every table up to `last` that has not started yet, here.
    #[inline]
    fn open_tables_through(&mut self, last: usize) {
        let here = self.entries.len() as u32;
        while self.starts.len() <= last {
            self.starts.push(here);
        }
    }

    #[inline]
    fn charge(&mut self, bytes: usize) -> Result<(), TooLarge> {
        self.bytes += bytes;
        if self.bytes > self.limit {
            Err(TooLarge)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_tables_and_cycles_are_one_node() {
        let mut b = PayloadBuilder::new();
        let root = b.new_table().unwrap();
        let shared = b.new_table().unwrap();
        b.insert(root, Value::Integer(1), Value::Table(shared))
            .unwrap();
        b.insert(root, Value::Integer(2), Value::Table(shared))
            .unwrap();
        let up = b.string(b"up").unwrap();
        b.insert(shared, up, Value::Table(root)).unwrap();
        let p = b.finish(Value::Table(root)).unwrap();
        assert_eq!(p.table_count(), 2);
        assert_eq!(p.entries(root).len(), 2);
        assert_eq!(p.entries(shared)[0].1, Value::Table(root));
        let Value::String(key) = p.entries(shared)[0].0 else {
            panic!("the key is not a string");
        };
        assert_eq!(p.string(key), b"up");
    }

    #[test]
    fn strings_share_one_arena_and_keep_their_bytes() {
        let mut b = PayloadBuilder::new();
        let t = b.new_table().unwrap();
        let texts: [&[u8]; 4] = [b"", b"a", b"\0\xff binary", &[7; 300]];
        for (i, text) in texts.iter().enumerate() {
            let s = b.string(text).unwrap();
            b.insert(t, Value::Integer(i as i64), s).unwrap();
        }
        let p = b.finish(Value::Table(t)).unwrap();
        for (i, (key, value)) in p.entries(t).iter().enumerate() {
            assert_eq!(*key, Value::Integer(i as i64));
            let Value::String(s) = *value else {
                panic!("entry {i} is not a string");
            };
            assert_eq!(p.string(s), texts[i]);
        }
    }

    #[test]
    fn tables_filled_in_order_keep_their_own_entries() {
        let mut b = PayloadBuilder::new();
        let ids: Vec<TableId> = (0..4).map(|_| b.new_table().unwrap()).collect();
        // Table 1 stays empty; the others get 3, 1 and 2 entries.
        for (table, n) in [(ids[0], 3), (ids[2], 1), (ids[3], 2)] {
            for k in 0..n {
                b.insert(table, Value::Integer(k), Value::Boolean(true))
                    .unwrap();
            }
        }
        let p = b.finish(Value::Table(ids[0])).unwrap();
        let lengths: Vec<usize> = ids.iter().map(|&t| p.entries(t).len()).collect();
        assert_eq!(lengths, vec![3, 0, 1, 2]);
        assert_eq!(p.entries(ids[3])[1].0, Value::Integer(1));
    }

    #[test]
    fn an_empty_table_at_the_end_has_no_entries() {
        let mut b = PayloadBuilder::new();
        let root = b.new_table().unwrap();
        let last = b.new_table().unwrap();
        b.insert(root, Value::Integer(1), Value::Table(last))
            .unwrap();
        let p = b.finish(Value::Table(root)).unwrap();
        assert_eq!(p.table_count(), 2);
        assert!(p.entries(last).is_empty());
    }

    #[test]
    fn a_builder_with_room_builds_the_same_payload() {
        let build = |mut b: PayloadBuilder| {
            let t = b.new_table().unwrap();
            let s = b.string(b"some text").unwrap();
            b.insert(t, s, Value::Number(0.5)).unwrap();
            b.finish(Value::Table(t)).unwrap()
        };
        let plain = build(PayloadBuilder::new());
        let shape = plain.shape();
        assert_eq!(
            shape,
            Shape {
                string_bytes: 9,
                entries: 1,
                tables: 1
            }
        );
        assert_eq!(build(PayloadBuilder::with_room_for(shape)), plain);
    }

    #[test]
    fn size_limit_is_enforced_while_building() {
        let mut b = PayloadBuilder::new();
        let t = b.new_table().unwrap();
        let big = vec![b'x'; PAYLOAD.default / 2];
        let s = b.string(&big).unwrap();
        b.insert(t, Value::Integer(1), s).unwrap();
        assert_eq!(b.string(&big), Err(TooLarge));
    }

    #[test]
    fn a_smaller_limit_applies() {
        let text = |len: usize| {
            let mut b = PayloadBuilder::new().limited_to(100);
            let s = b.string(&vec![b'x'; len])?;
            b.finish(s)
        };
        assert_eq!(text(100 - VALUE_COST).map(|p| p.bytes()), Ok(100));
        assert_eq!(text(101 - VALUE_COST), Err(TooLarge));
    }

    #[test]
    fn a_scalar_root_is_charged_too() {
        let mut b = PayloadBuilder::new();
        let big = b.string(&vec![b'x'; PAYLOAD.default]).unwrap();
        assert_eq!(b.finish(big), Err(TooLarge));
    }

    #[test]
    fn values_and_string_bytes_are_counted() {
        let p = Payload::text(b"abc");
        assert_eq!(p.bytes(), VALUE_COST + 3);
        assert_eq!(p.table_count(), 0);
        let mut b = PayloadBuilder::new();
        let t = b.new_table().unwrap();
        let s = b.string(b"xy").unwrap();
        b.insert(t, s, Value::Nil).unwrap();
        let p = b.finish(Value::Table(t)).unwrap();
        assert_eq!(p.bytes(), TABLE_COST + 2 * VALUE_COST + 2 + VALUE_COST);
    }
}
