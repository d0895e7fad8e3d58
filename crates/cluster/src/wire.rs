//! What nodes say to each other, as bytes on the broker.
//!
//! Subjects (`P` is the cluster's name):
//! - `P.to.<target node>.from.<sender node>`: events, signals and queue
//!   notices for one node, in [`NodeMessage`]'s binary form. The sender
//!   node is read from the subject, so broker permissions can bind each
//!   node's credentials to its own number;
//! - `P.dir.<node>`: a node's processes ([`Directory`], JSON), in full on
//!   every heartbeat and as changes in between, and its farewell;
//! - `P.hello.<node>`: a node (re)connected and asks for everyone's
//!   directory at once;
//! - the registry is the JetStream key-value bucket `P-names`.
//!
//! Invariants: decoding trusts nothing (other nodes' bytes may be damaged
//! or hostile); a message that does not decode is dropped.

use phoenix_events_core::cluster::Node;
use phoenix_events_core::{Pid, Ticket};

pub fn node_subject(prefix: &str, target: Node, sender: Node) -> String {
    format!("{prefix}.to.{target}.from.{sender}")
}

pub fn inbox_subject(prefix: &str, me: Node) -> String {
    format!("{prefix}.to.{me}.from.*")
}

pub fn dir_subject(prefix: &str, node: Node) -> String {
    format!("{prefix}.dir.{node}")
}

pub fn hello_subject(prefix: &str, node: Node) -> String {
    format!("{prefix}.hello.{node}")
}

/// The sender node of a subject `P.<kind>.…<node>` (its last token).
pub fn last_node(subject: &str) -> Option<Node> {
    subject.rsplit('.').next()?.parse().ok()
}

/// A message for one node.
#[derive(Debug, PartialEq)]
pub enum NodeMessage<'a> {
    /// `sendEvent` from computer `sender` to incarnation `target`; `seq`
    /// counts the sending node's events for that target (from 1).
    Event {
        sender: Pid,
        target: Ticket,
        seq: u64,
        name: &'a [u8],
        payload: &'a [u8],
    },
    /// `kill` from computer `sender`, running as `user`.
    Signal {
        sender: Pid,
        user: &'a str,
        target: Ticket,
        signal: i32,
    },
    /// The receiver's computer `target` refused an event: its queue is full.
    Full { target: Ticket },
    /// `target`'s queue has room again.
    Room { target: Ticket },
    /// The receiver has taken the sending node's events for `target` up
    /// to `seq` off the wire (queued or refused).
    Ack { target: Ticket, seq: u64 },
}

const EVENT: u8 = 1;
const SIGNAL: u8 = 2;
const FULL: u8 = 3;
const ROOM: u8 = 4;
const ACK: u8 = 5;

fn put_ticket(out: &mut Vec<u8>, t: Ticket) {
    out.extend_from_slice(&t.pid.to_le_bytes());
    out.extend_from_slice(&t.incarnation.to_le_bytes());
}

impl NodeMessage<'_> {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match *self {
            NodeMessage::Event {
                sender,
                target,
                seq,
                name,
                payload,
            } => {
                out.reserve(25 + name.len() + payload.len());
                out.push(EVENT);
                out.extend_from_slice(&sender.to_le_bytes());
                put_ticket(&mut out, target);
                out.extend_from_slice(&seq.to_le_bytes());
                out.extend_from_slice(&(name.len() as u32).to_le_bytes());
                out.extend_from_slice(name);
                out.extend_from_slice(payload);
            }
            NodeMessage::Signal {
                sender,
                user,
                target,
                signal,
            } => {
                out.push(SIGNAL);
                out.extend_from_slice(&sender.to_le_bytes());
                put_ticket(&mut out, target);
                out.extend_from_slice(&signal.to_le_bytes());
                out.extend_from_slice(user.as_bytes());
            }
            NodeMessage::Full { target } => {
                out.push(FULL);
                put_ticket(&mut out, target);
            }
            NodeMessage::Room { target } => {
                out.push(ROOM);
                put_ticket(&mut out, target);
            }
            NodeMessage::Ack { target, seq } => {
                out.push(ACK);
                put_ticket(&mut out, target);
                out.extend_from_slice(&seq.to_le_bytes());
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<NodeMessage<'_>> {
        let (&kind, rest) = bytes.split_first()?;
        let mut r = Reader(rest);
        let message = match kind {
            EVENT => {
                let sender = r.i32()?;
                let target = r.ticket()?;
                let seq = r.u64()?;
                let len = r.u32()? as usize;
                let name = r.take(len)?;
                NodeMessage::Event {
                    sender,
                    target,
                    seq,
                    name,
                    payload: std::mem::take(&mut r.0),
                }
            }
            SIGNAL => {
                let sender = r.i32()?;
                let target = r.ticket()?;
                let signal = r.i32()?;
                let user = std::str::from_utf8(std::mem::take(&mut r.0)).ok()?;
                NodeMessage::Signal {
                    sender,
                    user,
                    target,
                    signal,
                }
            }
            FULL => NodeMessage::Full {
                target: r.ticket()?,
            },
            ROOM => NodeMessage::Room {
                target: r.ticket()?,
            },
            ACK => NodeMessage::Ack {
                target: r.ticket()?,
                seq: r.u64()?,
            },
            _ => return None,
        };
        r.0.is_empty().then_some(message)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn ticket(&mut self) -> Option<Ticket> {
        Some(Ticket {
            pid: self.i32()?,
            incarnation: self.u32()?,
        })
    }
}

/// A process in a directory: its incarnation and user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub incarnation: u32,
    pub user: String,
}

/// A node's directory message.
#[derive(Clone, Debug, PartialEq)]
pub struct Directory {
    /// Which run of the node (random per start): a restarted node is new.
    pub epoch: u64,
    /// Counts up with every message of this run.
    pub seq: u64,
    /// `true`: `up` is every process of the node; `false`: changes.
    pub full: bool,
    pub up: Vec<(Pid, Proc)>,
    pub down: Vec<Ticket>,
    /// The node is leaving.
    pub bye: bool,
    /// Its `limits.queue`: other nodes keep at most a quarter of it on
    /// their way to one of its computers (see `WINDOW`).
    pub queue: usize,
}

impl Directory {
    pub fn encode(&self) -> Vec<u8> {
        let up: Vec<serde_json::Value> = self
            .up
            .iter()
            .map(|(pid, p)| serde_json::json!([pid, p.incarnation, p.user]))
            .collect();
        let down: Vec<serde_json::Value> = self
            .down
            .iter()
            .map(|t| serde_json::json!([t.pid, t.incarnation]))
            .collect();
        serde_json::json!({
            // As a string: JSON numbers lose bits beyond 2^53 in many readers.
            "epoch": format!("{:016x}", self.epoch),
            "seq": self.seq,
            "full": self.full,
            "up": up,
            "down": down,
            "bye": self.bye,
            "queue": self.queue,
        })
        .to_string()
        .into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Option<Directory> {
        let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        let epoch = u64::from_str_radix(json.get("epoch")?.as_str()?, 16).ok()?;
        let int = |v: &serde_json::Value| v.as_i64();
        let mut up = Vec::new();
        for entry in json.get("up")?.as_array()? {
            let pid = Pid::try_from(int(entry.get(0)?)?).ok()?;
            let incarnation = u32::try_from(int(entry.get(1)?)?).ok()?;
            let user = entry.get(2)?.as_str()?.to_owned();
            up.push((pid, Proc { incarnation, user }));
        }
        let mut down = Vec::new();
        for entry in json.get("down")?.as_array()? {
            down.push(Ticket {
                pid: Pid::try_from(int(entry.get(0)?)?).ok()?,
                incarnation: u32::try_from(int(entry.get(1)?)?).ok()?,
            });
        }
        Some(Directory {
            epoch,
            seq: json.get("seq")?.as_u64()?,
            full: json.get("full")?.as_bool()?,
            up,
            down,
            bye: json.get("bye")?.as_bool()?,
            queue: usize::try_from(json.get("queue")?.as_u64()?).ok()?,
        })
    }
}

/// A registry entry: who owns a name (the bucket's value, JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub node: Node,
    pub epoch: u64,
    pub ticket: Ticket,
}

impl Owner {
    pub fn encode(&self, name: &[u8]) -> Vec<u8> {
        serde_json::json!({
            "node": self.node,
            "epoch": format!("{:016x}", self.epoch),
            "pid": self.ticket.pid,
            "incarnation": self.ticket.incarnation,
            // For people reading the bucket; not used.
            "name": String::from_utf8_lossy(name),
        })
        .to_string()
        .into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Option<Owner> {
        let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        Some(Owner {
            node: Node::try_from(json.get("node")?.as_u64()?).ok()?,
            epoch: u64::from_str_radix(json.get("epoch")?.as_str()?, 16).ok()?,
            ticket: Ticket {
                pid: Pid::try_from(json.get("pid")?.as_i64()?).ok()?,
                incarnation: u32::try_from(json.get("incarnation")?.as_u64()?).ok()?,
            },
        })
    }
}

/// The registry key of a service name: the SHA-256 of its bytes in hex
/// (names are any bytes up to 4 KiB; keys allow few characters).
pub fn name_key(name: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, name);
    let mut key = String::with_capacity(64);
    for byte in digest.as_ref() {
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_messages_round_trip_and_damage_is_refused() {
        let target = Ticket {
            pid: 3,
            incarnation: 9,
        };
        let messages = [
            NodeMessage::Event {
                sender: 1,
                target,
                seq: 3,
                name: b"chat\0",
                payload: b"\x01\x00",
            },
            NodeMessage::Signal {
                sender: 2,
                user: "alice",
                target,
                signal: 15,
            },
            NodeMessage::Full { target },
            NodeMessage::Room { target },
            NodeMessage::Ack { target, seq: 99 },
        ];
        for m in &messages {
            let bytes = m.encode();
            assert_eq!(NodeMessage::decode(&bytes).as_ref(), Some(m));
            for end in 0..bytes.len() {
                // A truncated event may still decode (its payload is the
                // rest); the payload's own decoding then refuses it.
                if !matches!(m, NodeMessage::Event { .. } | NodeMessage::Signal { .. }) {
                    assert_eq!(NodeMessage::decode(&bytes[..end]), None);
                }
            }
        }
        assert_eq!(NodeMessage::decode(&[9]), None);
    }

    #[test]
    fn directories_and_owners_round_trip() {
        let d = Directory {
            epoch: u64::MAX - 5,
            seq: 7,
            full: true,
            up: vec![(
                0,
                Proc {
                    incarnation: 4,
                    user: "root".into(),
                },
            )],
            down: vec![Ticket {
                pid: 2,
                incarnation: 3,
            }],
            bye: false,
            queue: 1024,
        };
        assert_eq!(Directory::decode(&d.encode()), Some(d));
        let o = Owner {
            node: 5,
            epoch: 1 << 60,
            ticket: Ticket {
                pid: 1,
                incarnation: 2,
            },
        };
        assert_eq!(Owner::decode(&o.encode(b"db\xff")), Some(o));
        assert_eq!(Directory::decode(b"{}"), None);
        assert_eq!(last_node("phoenix.to.2.from.17"), Some(17));
        assert_eq!(name_key(b"db").len(), 64);
    }
}
