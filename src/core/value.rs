//! Plain Lua data that can cross from one computer to another.
//!
//! A [`Payload`] is a graph: every table is a node, referenced by index, so a
//! table reachable twice stays one table and cycles stay cycles. Strings are
//! bytes; integers and floats are kept apart.

#[cfg(doc)]
use super::limits::Limits;
use super::limits::PAYLOAD;

/// Index of a table node inside its [`Payload`].
pub type TableId = u32;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Nil,
    Boolean(bool),
    Integer(i64),
    Number(f64),
    String(Box<[u8]>),
    Table(TableId),
}

/// What every value and table costs on top of its string bytes.
const VALUE_COST: usize = 16;
const TABLE_COST: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    root: Value,
    tables: Vec<Vec<(Value, Value)>>,
    bytes: usize,
}

/// The payload would exceed its size limit ([`Limits::payload`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

impl Payload {
    /// A payload holding a single non-table value.
    #[cfg(test)]
    pub fn scalar(value: Value) -> Payload {
        debug_assert!(!matches!(value, Value::Table(_)));
        let bytes = cost(&value);
        Payload {
            root: value,
            tables: Vec::new(),
            bytes,
        }
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    pub fn table_count(&self) -> usize {
        self.tables.len()
    }

    /// The key/value pairs of table `id`, in no particular order.
    pub fn entries(&self, id: TableId) -> &[(Value, Value)] {
        &self.tables[id as usize]
    }

    /// The accounted size, compared against [`Limits::payload`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Builds a payload table by table, enforcing the size limit as it grows.
#[derive(Debug)]
pub struct PayloadBuilder {
    tables: Vec<Vec<(Value, Value)>>,
    bytes: usize,
    limit: usize,
}

impl Default for PayloadBuilder {
    /// A builder with the default size limit.
    fn default() -> Self {
        PayloadBuilder::with_limit(PAYLOAD.default)
    }
}

impl PayloadBuilder {
    pub fn new() -> PayloadBuilder {
        PayloadBuilder::default()
    }

    /// A builder refusing payloads of more than `limit` accounted bytes.
    pub fn with_limit(limit: usize) -> PayloadBuilder {
        PayloadBuilder {
            tables: Vec::new(),
            bytes: 0,
            limit,
        }
    }

    pub fn new_table(&mut self) -> Result<TableId, TooLarge> {
        self.charge(TABLE_COST)?;
        self.tables.push(Vec::new());
        Ok((self.tables.len() - 1) as TableId)
    }

    pub fn insert(&mut self, table: TableId, key: Value, value: Value) -> Result<(), TooLarge> {
        self.charge(cost(&key) + cost(&value))?;
        self.tables[table as usize].push((key, value));
        Ok(())
    }

    /// The payload with `root` as its value; the root is charged too.
    pub fn finish(mut self, root: Value) -> Result<Payload, TooLarge> {
        self.charge(cost(&root))?;
        Ok(Payload {
            root,
            tables: self.tables,
            bytes: self.bytes,
        })
    }

    fn charge(&mut self, bytes: usize) -> Result<(), TooLarge> {
        self.bytes += bytes;
        if self.bytes > self.limit {
            Err(TooLarge)
        } else {
            Ok(())
        }
    }
}

fn cost(value: &Value) -> usize {
    match value {
        Value::String(bytes) => VALUE_COST + bytes.len(),
        _ => VALUE_COST,
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
        b.insert(
            shared,
            Value::String(b"up".to_vec().into()),
            Value::Table(root),
        )
        .unwrap();
        let p = b.finish(Value::Table(root)).unwrap();
        assert_eq!(p.table_count(), 2);
        assert_eq!(p.entries(root).len(), 2);
        assert_eq!(p.entries(shared)[0].1, Value::Table(root));
    }

    #[test]
    fn size_limit_is_enforced_while_building() {
        let mut b = PayloadBuilder::new();
        let t = b.new_table().unwrap();
        let big = vec![b'x'; PAYLOAD.default / 2].into_boxed_slice();
        b.insert(t, Value::Integer(1), Value::String(big.clone()))
            .unwrap();
        assert_eq!(
            b.insert(t, Value::Integer(2), Value::String(big)),
            Err(TooLarge)
        );
    }

    #[test]
    fn a_scalar_root_is_charged_too() {
        let big = vec![b'x'; PAYLOAD.default].into_boxed_slice();
        assert_eq!(
            PayloadBuilder::new().finish(Value::String(big)),
            Err(TooLarge)
        );
    }

    #[test]
    fn a_smaller_limit_applies() {
        let mut b = PayloadBuilder::with_limit(100);
        let t = b.new_table().unwrap();
        let fits = vec![b'x'; 100 - TABLE_COST - 2 * VALUE_COST - VALUE_COST].into_boxed_slice();
        b.insert(t, Value::Integer(1), Value::String(fits)).unwrap();
        assert_eq!(b.finish(Value::Table(t)).map(|p| p.bytes()), Ok(100));
        let mut b = PayloadBuilder::with_limit(100);
        let t = b.new_table().unwrap();
        let too_big = vec![b'x'; 100 - TABLE_COST - 2 * VALUE_COST].into_boxed_slice();
        b.insert(t, Value::Integer(1), Value::String(too_big))
            .unwrap();
        assert_eq!(b.finish(Value::Table(t)), Err(TooLarge));
    }

    #[test]
    fn scalars_are_counted() {
        let p = Payload::scalar(Value::String(b"abc".to_vec().into()));
        assert_eq!(p.bytes(), VALUE_COST + 3);
        assert_eq!(p.table_count(), 0);
    }
}
