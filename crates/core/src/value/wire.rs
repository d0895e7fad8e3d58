//! A payload as bytes, to cross from one emulator to another.
//!
//! Layout (little-endian): a version byte, the root value, the table count
//! (u32), then each table in ID order as its entry count (u32) and its
//! entries (key, value). A value is a tag byte and its data: nil, false,
//! true; an integer (i64); a float (f64 bits); a string (u32 length, bytes);
//! a table (u32 ID).
//!
//! Invariants: decoding trusts nothing. It rebuilds the payload through
//! [`PayloadBuilder`], so the receiver's own size limit applies, and it
//! refuses truncated input, unknown tags, trailing bytes and table IDs
//! beyond the table count, so a decoded payload is as well formed as one
//! built from a Lua table.

use super::{Payload, PayloadBuilder, Value};

const VERSION: u8 = 1;

const NIL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INTEGER: u8 = 3;
const NUMBER: u8 = 4;
const STRING: u8 = 5;
const TABLE: u8 = 6;

/// Why bytes did not decode into a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Not a payload of this version, or damaged.
    Malformed,
    /// Over the receiver's payload limit.
    TooLarge,
}

impl Payload {
    /// The payload as bytes (see the module's layout), appended to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(
            1 + 9 + 4 + 4 * self.table_count() + self.entries.len() * 18 + self.strings.len(),
        );
        out.push(VERSION);
        self.put(out, &self.root);
        put_u32(out, self.table_count() as u32);
        for table in 0..self.table_count() as u32 {
            let entries = self.entries(table);
            put_u32(out, entries.len() as u32);
            for (key, value) in entries {
                self.put(out, key);
                self.put(out, value);
            }
        }
    }

    fn put(&self, out: &mut Vec<u8>, value: &Value) {
        match *value {
            Value::Nil => out.push(NIL),
            Value::Boolean(false) => out.push(FALSE),
            Value::Boolean(true) => out.push(TRUE),
            Value::Integer(i) => {
                out.push(INTEGER);
                out.extend_from_slice(&i.to_le_bytes());
            }
            Value::Number(n) => {
                out.push(NUMBER);
                out.extend_from_slice(&n.to_bits().to_le_bytes());
            }
            Value::String(s) => {
                let bytes = self.string(s);
                out.push(STRING);
                put_u32(out, bytes.len() as u32);
                out.extend_from_slice(bytes);
            }
            Value::Table(t) => {
                out.push(TABLE);
                put_u32(out, t);
            }
        }
    }

    /// Rebuilds a payload from [`Payload::encode_into`]'s bytes, refusing one
    /// of more than `limit` accounted bytes.
    pub fn decode(bytes: &[u8], limit: usize) -> Result<Payload, DecodeError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.byte()? != VERSION {
            return Err(DecodeError::Malformed);
        }
        let mut builder = PayloadBuilder::new().limited_to(limit);
        // The root's table ID is checked once the count is known.
        let root = reader.value(&mut builder, u32::MAX)?;
        let tables = reader.u32()?;
        // Each table costs at least its 4-byte count: a count beyond what
        // the input can hold is damage, not a reason to allocate.
        if tables as usize > bytes.len() / 4 {
            return Err(DecodeError::Malformed);
        }
        for _ in 0..tables {
            builder.new_table().map_err(|_| DecodeError::TooLarge)?;
        }
        if let Value::Table(t) = root {
            if t >= tables {
                return Err(DecodeError::Malformed);
            }
        }
        for table in 0..tables {
            for _ in 0..reader.u32()? {
                let key = reader.value(&mut builder, tables)?;
                let value = reader.value(&mut builder, tables)?;
                builder
                    .insert(table, key, value)
                    .map_err(|_| DecodeError::TooLarge)?;
            }
        }
        if reader.at != bytes.len() {
            return Err(DecodeError::Malformed);
        }
        builder.finish(root).map_err(|_| DecodeError::TooLarge)
    }
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.at.checked_add(n).ok_or(DecodeError::Malformed)?;
        let slice = self.bytes.get(self.at..end).ok_or(DecodeError::Malformed)?;
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    /// One value; a table ID must be below `tables` (checked by the caller
    /// for the root, read before the count).
    fn value(&mut self, builder: &mut PayloadBuilder, tables: u32) -> Result<Value, DecodeError> {
        Ok(match self.byte()? {
            NIL => Value::Nil,
            FALSE => Value::Boolean(false),
            TRUE => Value::Boolean(true),
            INTEGER => Value::Integer(self.u64()? as i64),
            NUMBER => Value::Number(f64::from_bits(self.u64()?)),
            STRING => {
                let len = self.u32()? as usize;
                let bytes = self.take(len)?;
                builder.string(bytes).map_err(|_| DecodeError::TooLarge)?
            }
            TABLE => {
                let t = self.u32()?;
                if tables != u32::MAX && t >= tables {
                    return Err(DecodeError::Malformed);
                }
                Value::Table(t)
            }
            _ => return Err(DecodeError::Malformed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::PAYLOAD;

    const DEFAULT: usize = PAYLOAD.default;

    fn sample() -> Payload {
        let mut b = PayloadBuilder::new();
        let root = b.new_table().unwrap();
        let shared = b.new_table().unwrap();
        let key = b.string(b"up\0\xff").unwrap();
        b.insert(root, Value::Integer(1), Value::Table(shared))
            .unwrap();
        b.insert(root, Value::Integer(2), Value::Table(shared))
            .unwrap();
        b.insert(root, Value::Number(0.5), Value::Boolean(true))
            .unwrap();
        b.insert(root, Value::Boolean(false), Value::Integer(i64::MIN))
            .unwrap();
        b.insert(shared, key, Value::Table(root)).unwrap();
        b.insert(shared, Value::Integer(3), Value::Number(f64::NAN))
            .unwrap();
        b.finish(Value::Table(root)).unwrap()
    }

    fn bytes_of(p: &Payload) -> Vec<u8> {
        let mut out = Vec::new();
        p.encode_into(&mut out);
        out
    }

    #[test]
    fn a_graph_with_cycles_and_shared_tables_round_trips() {
        let p = sample();
        let back = Payload::decode(&bytes_of(&p), DEFAULT).unwrap();
        assert_eq!(back.table_count(), 2);
        assert_eq!(back.bytes(), p.bytes());
        assert_eq!(bytes_of(&back), bytes_of(&p));
        for scalar in [
            Payload::text(b"plain"),
            Payload::scalar(Value::Nil),
            Payload::scalar(Value::Integer(-7)),
        ] {
            assert_eq!(
                bytes_of(&Payload::decode(&bytes_of(&scalar), DEFAULT).unwrap()),
                bytes_of(&scalar)
            );
        }
    }

    #[test]
    fn the_receivers_limit_applies() {
        let p = sample();
        assert_eq!(
            Payload::decode(&bytes_of(&p), p.bytes() - 1).map(|_| ()),
            Err(DecodeError::TooLarge)
        );
    }

    #[test]
    fn damaged_input_is_refused_never_trusted() {
        let good = bytes_of(&sample());
        // Every truncation and every single-byte change decodes or is
        // refused; none panics.
        for end in 0..good.len() {
            assert!(Payload::decode(&good[..end], DEFAULT).is_err(), "{end}");
        }
        for at in 0..good.len() {
            for byte in [0, 1, 6, 7, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[at] = byte;
                let _ = Payload::decode(&bad, DEFAULT);
            }
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            Payload::decode(&trailing, DEFAULT).map(|_| ()),
            Err(DecodeError::Malformed)
        );
        // A table ID beyond the count.
        let mut out = vec![VERSION, TABLE];
        out.extend_from_slice(&5u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            Payload::decode(&out, DEFAULT).map(|_| ()),
            Err(DecodeError::Malformed)
        );
        // A huge table count is refused before anything is allocated.
        let mut out = vec![VERSION, NIL];
        out.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Payload::decode(&out, DEFAULT).map(|_| ()),
            Err(DecodeError::Malformed)
        );
    }
}
