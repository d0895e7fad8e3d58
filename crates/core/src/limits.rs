//! The bounds on what one process may have waiting, set by whoever runs the
//! emulator under `"limits"` in `config/phoenix-events.json`.

use std::ops::RangeInclusive;

/// Per-process bounds. Every value is within its [`Limit::range`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `queueEvent`/`sendEvent` events waiting: queued, or handed to the
    /// emulator and not yet received.
    pub queue: usize,
    /// Accounted bytes of one sent payload (strings plus a fixed cost per
    /// value and table).
    pub payload: usize,
    /// Timers and alarms pending.
    pub timers: usize,
    /// Microseconds a computer that sent an event watches its mailbox for
    /// the reply before sleeping (see `reply_wait`); 0: never.
    pub reply_wait_us: usize,
}

/// One configurable limit: its key, default and accepted range.
pub struct Limit {
    pub key: &'static str,
    pub default: usize,
    pub range: RangeInclusive<usize>,
}

pub const QUEUE: Limit = Limit {
    key: "queue",
    default: 1024,
    range: 1..=1 << 20,
};
pub const PAYLOAD: Limit = Limit {
    key: "payload",
    default: 1 << 20,
    range: 64..=64 << 20,
};
pub const TIMERS: Limit = Limit {
    key: "timers",
    default: 4096,
    range: 1..=1 << 20,
};
pub const REPLY_WAIT_US: Limit = Limit {
    key: "reply_wait_us",
    default: 50,
    range: 0..=1000,
};

/// Items of any kind (signals, stop gates, …) a queue always has room for;
/// with a larger event limit, four items per event.
const MIN_QUEUED_ITEMS: usize = 4096;
/// Payload bytes a queue may hold: this many payloads of the largest size.
const QUEUED_PAYLOADS: usize = 16;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            queue: QUEUE.default,
            payload: PAYLOAD.default,
            timers: TIMERS.default,
            reply_wait_us: REPLY_WAIT_US.default,
        }
    }
}

impl Limits {
    /// Items of any kind one queue may hold.
    pub fn queued_items(&self) -> usize {
        (self.queue * 4).max(MIN_QUEUED_ITEMS)
    }

    /// Payload bytes one queue may hold (16 MiB by default).
    pub fn queued_bytes(&self) -> usize {
        self.payload * QUEUED_PAYLOADS
    }

    /// Reads the `"limits"` object (absent: all defaults). Every malformed
    /// or out-of-range value gives its default and a warning; `source`
    /// names the file in the warnings.
    pub fn from_json(json: Option<&serde_json::Value>, source: &str) -> (Limits, Vec<String>) {
        let mut limits = Limits::default();
        let Some(json) = json else {
            return (limits, Vec::new());
        };
        let Some(object) = json.as_object() else {
            let warning = format!(
                "phoenix-events: \"limits\" in {source} must be an object, got {json}; using the default limits (queue {}, payload {}, timers {}, reply_wait_us {})",
                QUEUE.default, PAYLOAD.default, TIMERS.default, REPLY_WAIT_US.default
            );
            return (limits, vec![warning]);
        };
        let mut warnings = Vec::new();
        for (key, value) in object {
            let field = match key.as_str() {
                "queue" => (&mut limits.queue, &QUEUE),
                "payload" => (&mut limits.payload, &PAYLOAD),
                "timers" => (&mut limits.timers, &TIMERS),
                "reply_wait_us" => (&mut limits.reply_wait_us, &REPLY_WAIT_US),
                _ => {
                    warnings.push(format!(
                        "phoenix-events: ignoring unknown limit \"{key}\" in {source} (known: queue, payload, timers, reply_wait_us)"
                    ));
                    continue;
                }
            };
            let (slot, limit) = field;
            match limit.read(value) {
                Some(n) => *slot = n,
                None => warnings.push(format!(
                    "phoenix-events: limits.{} = {value} in {source} is not an integer from {} to {}; using the default {}",
                    limit.key,
                    limit.range.start(),
                    limit.range.end(),
                    limit.default
                )),
            }
        }
        (limits, warnings)
    }
}

impl Limit {
    /// The value, if it is an integer within range (`2.0` counts, `2.5` not).
    fn read(&self, value: &serde_json::Value) -> Option<usize> {
        let n = match value.as_u64() {
            Some(n) => n,
            None => {
                let f = value.as_f64()?;
                if f.fract() != 0.0 || !(0.0..=u64::MAX as f64).contains(&f) {
                    return None;
                }
                f as u64
            }
        };
        usize::try_from(n).ok().filter(|n| self.range.contains(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Limits, Vec<String>) {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        Limits::from_json(Some(&json), "test.json")
    }

    #[test]
    fn absent_limits_are_the_documented_defaults() {
        let (limits, warnings) = Limits::from_json(None, "test.json");
        assert!(warnings.is_empty());
        assert_eq!(
            limits,
            Limits {
                queue: 1024,
                payload: 1 << 20,
                timers: 4096,
                reply_wait_us: 50
            }
        );
        assert_eq!(limits.queued_items(), 4096);
        assert_eq!(limits.queued_bytes(), 16 << 20);
    }

    #[test]
    fn valid_values_apply() {
        let (limits, warnings) =
            parse(r#"{"queue": 4, "payload": 100, "timers": 3.0, "reply_wait_us": 0}"#);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            limits,
            Limits {
                queue: 4,
                payload: 100,
                timers: 3,
                reply_wait_us: 0
            }
        );
        let (limits, _) = parse(r#"{"queue": 1048576, "payload": 64, "timers": 1}"#);
        assert_eq!(
            (limits.queue, limits.payload, limits.timers),
            (1 << 20, 64, 1)
        );
        assert_eq!(limits.queued_items(), 4 << 20);
    }

    #[test]
    fn each_bad_value_is_reported_and_its_default_applies() {
        for (text, key, shown) in [
            (r#"{"queue": 0}"#, "queue", "0"),
            (r#"{"queue": -5}"#, "queue", "-5"),
            (r#"{"queue": 1048577}"#, "queue", "1048577"),
            (r#"{"queue": "10"}"#, "queue", "\"10\""),
            (r#"{"payload": 2.5}"#, "payload", "2.5"),
            (r#"{"payload": 63}"#, "payload", "63"),
            (r#"{"payload": 1e300}"#, "payload", "1e+300"),
            (r#"{"timers": null}"#, "timers", "null"),
            (r#"{"timers": [1]}"#, "timers", "[1]"),
            (r#"{"timers": 99999999999999999999}"#, "timers", "1e+20"),
            (r#"{"reply_wait_us": 1001}"#, "reply_wait_us", "1001"),
            (r#"{"reply_wait_us": -1}"#, "reply_wait_us", "-1"),
        ] {
            let (limits, warnings) = parse(text);
            assert_eq!(limits, Limits::default(), "{text}");
            assert_eq!(warnings.len(), 1, "{text}: {warnings:?}");
            let warning = &warnings[0];
            assert!(
                warning.starts_with("phoenix-events: ")
                    && warning.contains(&format!("limits.{key} = {shown}"))
                    && warning.contains("test.json")
                    && warning.contains("using the default"),
                "{text}: {warning}"
            );
        }
    }

    #[test]
    fn good_values_survive_a_bad_neighbour() {
        let (limits, warnings) = parse(r#"{"queue": "x", "payload": 100, "timers": 3, "quue": 1}"#);
        assert_eq!(
            (limits.queue, limits.payload, limits.timers),
            (1024, 100, 3)
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("using the default 1024"));
        assert!(warnings[1].contains("unknown limit \"quue\""));
    }

    #[test]
    fn limits_that_are_not_an_object_give_every_default() {
        let (limits, warnings) = parse("[1, 2]");
        assert_eq!(limits, Limits::default());
        assert!(warnings[0].contains("must be an object"), "{warnings:?}");
    }
}
