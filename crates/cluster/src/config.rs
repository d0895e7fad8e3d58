//! The `"cluster"` object of `config/phoenix-events.json`: which broker,
//! which node this emulator is, how to authenticate, how fast to notice a
//! node that left, and which users each node may claim.
//!
//! Invariants: a missing `url` or `node` disables the cluster (with a
//! message); every other malformed value is reported and its default
//! applies, as for the limits. Nothing here connects to anything.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use phoenix_events_core::cluster::{Node, MAX_NODE};

/// How this node joins the cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The broker's URL(s), e.g. `nats://127.0.0.1:4222` (comma-separated
    /// for several servers of one NATS cluster).
    pub urls: Vec<String>,
    /// This emulator's node number.
    pub node: Node,
    /// The cluster's name: subjects start with it, and the registry's
    /// bucket is named after it.
    pub name: String,
    pub auth: Auth,
    pub tls: Tls,
    /// How often this node announces its processes.
    pub heartbeat: Duration,
    /// A node not heard of for this long has left.
    pub node_timeout: Duration,
    /// How long `register` waits for the broker's answer.
    pub register_timeout: Duration,
    /// Which users each node may claim for its signals; `None`: any.
    pub trust: Option<Trust>,
}

/// Authentication against the broker, as NATS offers it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Auth {
    pub credentials: Option<PathBuf>,
    pub user: Option<(String, String)>,
    pub token: Option<String>,
    pub nkey: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tls {
    pub ca: Option<PathBuf>,
    pub cert: Option<(PathBuf, PathBuf)>,
    pub required: bool,
    pub first: bool,
}

/// Node → the users its computers may act as; `*` for unlisted nodes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trust {
    pub by_node: HashMap<Node, HashSet<String>>,
    pub others: Option<HashSet<String>>,
}

impl Trust {
    /// Whether a signal from `node` claiming `user` is accepted.
    pub fn accepts(&self, node: Node, user: &str) -> bool {
        self.by_node
            .get(&node)
            .or(self.others.as_ref())
            .is_some_and(|users| users.contains(user))
    }
}

pub const DEFAULT_NAME: &str = "phoenix";
const HEARTBEAT_MS: (u64, u64, u64) = (1000, 50, 60_000);
const NODE_TIMEOUT_MS: (u64, u64, u64) = (3000, 100, 600_000);
const REGISTER_TIMEOUT_MS: (u64, u64, u64) = (2000, 10, 60_000);

impl Settings {
    /// Reads the `cluster` value of the file named `source`. `Ok(None)`: no
    /// cluster configured. `Err`: the cluster cannot start (the reason).
    /// Warnings are for the emulator's stderr.
    pub fn from_json(
        value: Option<&serde_json::Value>,
        source: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Option<Settings>, String> {
        let Some(value) = value else {
            return Ok(None);
        };
        let object = value
            .as_object()
            .ok_or_else(|| format!("\"cluster\" in {source} must be an object"))?;
        let mut warn = |key: &str, what: &str| {
            warnings.push(format!(
                "phoenix-events: cluster.{key} in {source} {what}; using the default"
            ))
        };
        let urls: Vec<String> = match object.get("url").and_then(|u| u.as_str()) {
            Some(text) => text
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect(),
            None => Vec::new(),
        };
        if urls.is_empty() {
            return Err(format!(
                "cluster.url in {source} must be the broker's URL, e.g. \"nats://127.0.0.1:4222\""
            ));
        }
        let node = object
            .get("node")
            .and_then(|n| n.as_f64())
            .filter(|n| n.fract() == 0.0 && (1.0..=f64::from(MAX_NODE)).contains(n))
            .ok_or_else(|| {
                format!("cluster.node in {source} must be an integer from 1 to {MAX_NODE}")
            })? as Node;
        let name = match object.get("name") {
            None => DEFAULT_NAME.to_owned(),
            Some(v) => match v.as_str().filter(|n| valid_name(n)) {
                Some(n) => n.to_owned(),
                None => {
                    warn(
                        "name",
                        "is not 1 to 32 letters, digits, '-' or '_' (\"phoenix\")",
                    );
                    DEFAULT_NAME.to_owned()
                }
            },
        };
        let mut millis = |key: &str, (default, min, max): (u64, u64, u64)| -> Duration {
            let ms = match object.get(key) {
                None => default,
                Some(v) => match v.as_f64() {
                    Some(n) if n.fract() == 0.0 && (min as f64..=max as f64).contains(&n) => {
                        n as u64
                    }
                    _ => {
                        warn(key, &format!("is not an integer from {min} to {max}"));
                        default
                    }
                },
            };
            Duration::from_millis(ms)
        };
        let heartbeat = millis("heartbeat_ms", HEARTBEAT_MS);
        let mut node_timeout = millis("node_timeout_ms", NODE_TIMEOUT_MS);
        let register_timeout = millis("register_timeout_ms", REGISTER_TIMEOUT_MS);
        if node_timeout < heartbeat * 2 {
            warnings.push(format!(
                "phoenix-events: cluster.node_timeout_ms in {source} is under twice heartbeat_ms; using {} ms",
                (heartbeat * 2).as_millis()
            ));
            node_timeout = heartbeat * 2;
        }
        let text = |key: &str, warnings: &mut Vec<String>| -> Option<String> {
            let v = object.get(key)?;
            match v.as_str().filter(|s| !s.is_empty()) {
                Some(s) => Some(s.to_owned()),
                None => {
                    warnings.push(format!(
                        "phoenix-events: cluster.{key} in {source} must be a non-empty string; ignored"
                    ));
                    None
                }
            }
        };
        let mut auth = Auth {
            credentials: text("credentials", warnings).map(PathBuf::from),
            token: text("token", warnings),
            nkey: text("nkey", warnings),
            user: None,
        };
        match (text("user", warnings), text("password", warnings)) {
            (Some(user), Some(password)) => auth.user = Some((user, password)),
            (None, None) => {}
            _ => warnings.push(format!(
                "phoenix-events: cluster.user and cluster.password in {source} go together; both ignored"
            )),
        }
        let tls = match object.get("tls") {
            None => Tls::default(),
            Some(t) => tls_of(t, source, warnings),
        };
        let trust = match object.get("trust") {
            None => None,
            Some(t) => Some(trust_of(t, source)?),
        };
        Ok(Some(Settings {
            urls,
            node,
            name,
            auth,
            tls,
            heartbeat,
            node_timeout,
            register_timeout,
            trust,
        }))
    }
}

fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn tls_of(value: &serde_json::Value, source: &str, warnings: &mut Vec<String>) -> Tls {
    let mut tls = Tls::default();
    let Some(object) = value.as_object() else {
        warnings.push(format!(
            "phoenix-events: cluster.tls in {source} must be an object; ignored"
        ));
        return tls;
    };
    let path = |key: &str| object.get(key).and_then(|v| v.as_str()).map(PathBuf::from);
    tls.ca = path("ca");
    match (path("cert"), path("key")) {
        (Some(cert), Some(key)) => tls.cert = Some((cert, key)),
        (None, None) => {}
        _ => warnings.push(format!(
            "phoenix-events: cluster.tls.cert and cluster.tls.key in {source} go together; both ignored"
        )),
    }
    tls.required = object.get("required").and_then(|v| v.as_bool()) == Some(true);
    tls.first = object.get("first").and_then(|v| v.as_bool()) == Some(true);
    tls
}

fn trust_of(value: &serde_json::Value, source: &str) -> Result<Trust, String> {
    let bad = || {
        format!("cluster.trust in {source} must map node numbers (or \"*\") to lists of user names")
    };
    let object = value.as_object().ok_or_else(bad)?;
    let mut trust = Trust::default();
    for (key, users) in object {
        let users: HashSet<String> = users
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|u| u.as_str().map(str::to_owned).ok_or_else(bad))
            .collect::<Result<_, _>>()?;
        if key == "*" {
            trust.others = Some(users);
        } else {
            let node: Node = key.trim().parse().map_err(|_| bad())?;
            trust.by_node.insert(node, users);
        }
    }
    Ok(trust)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Result<Option<Settings>, String>, Vec<String>) {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut warnings = Vec::new();
        let settings = Settings::from_json(json.get("cluster"), "f", &mut warnings);
        (settings, warnings)
    }

    #[test]
    fn no_cluster_key_means_no_cluster() {
        assert_eq!(parse("{}").0, Ok(None));
    }

    #[test]
    fn a_minimal_cluster_gets_the_defaults() {
        let (settings, warnings) =
            parse(r#"{"cluster": {"url": "nats://127.0.0.1:4222", "node": 2}}"#);
        let settings = settings.unwrap().unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(settings.urls, ["nats://127.0.0.1:4222"]);
        assert_eq!(settings.node, 2);
        assert_eq!(settings.name, "phoenix");
        assert_eq!(settings.heartbeat, Duration::from_secs(1));
        assert_eq!(settings.node_timeout, Duration::from_secs(3));
        assert_eq!(settings.trust, None);
    }

    #[test]
    fn url_and_node_are_required() {
        for text in [
            r#"{"cluster": {"node": 1}}"#,
            r#"{"cluster": {"url": "nats://h", "node": 0}}"#,
            r#"{"cluster": {"url": "nats://h", "node": 1.5}}"#,
            r#"{"cluster": {"url": "nats://h", "node": 10000}}"#,
            r#"{"cluster": {"url": "", "node": 1}}"#,
            r#"{"cluster": 5}"#,
        ] {
            assert!(parse(text).0.is_err(), "{text}");
        }
    }

    #[test]
    fn bad_optional_values_are_reported_and_defaulted() {
        let (settings, warnings) = parse(
            r#"{"cluster": {"url": "nats://h", "node": 1, "name": "a.b", "heartbeat_ms": -1,
                "node_timeout_ms": 100, "user": "u", "tls": {"cert": "c"}}}"#,
        );
        let settings = settings.unwrap().unwrap();
        assert_eq!(settings.name, "phoenix");
        assert_eq!(settings.heartbeat, Duration::from_secs(1));
        assert_eq!(settings.node_timeout, Duration::from_secs(2));
        assert_eq!(settings.auth.user, None);
        assert_eq!(settings.tls.cert, None);
        assert_eq!(warnings.len(), 5, "{warnings:?}");
    }

    #[test]
    fn trust_lists_users_per_node_with_a_default() {
        let (settings, _) = parse(
            r#"{"cluster": {"url": "nats://h", "node": 1,
                "trust": {"2": ["alice", "root"], "*": ["user"]}}}"#,
        );
        let trust = settings.unwrap().unwrap().trust.unwrap();
        assert!(trust.accepts(2, "root"));
        assert!(!trust.accepts(2, "user"));
        assert!(trust.accepts(3, "user"));
        assert!(!trust.accepts(3, "root"));
        let (settings, _) =
            parse(r#"{"cluster": {"url": "nats://h", "node": 1, "trust": {"2": ["a"]}}}"#);
        assert!(!settings.unwrap().unwrap().trust.unwrap().accepts(3, "a"));
        assert!(
            parse(r#"{"cluster": {"url": "nats://h", "node": 1, "trust": {"x": []}}}"#)
                .0
                .is_err()
        );
    }
}
