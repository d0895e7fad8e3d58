//! The host's configuration file, `config/phoenix-events.json` of the
//! emulator's data folder: users and limits, read once when the plugin starts.
//!
//! The file lives outside every computer's file system, so no computer can
//! raise its own rights or limits.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use super::limits::Limits;
use super::users::{UserTable, DEFAULT_USER};

/// The configuration file's name inside the emulator's `config/` folder.
pub const CONFIG_FILE_NAME: &str = "phoenix-events.json";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    pub users: UserTable,
    pub limits: Limits,
    /// The `"cluster"` object as written, for the cluster adapter to read
    /// (the core has no use for it); `None` when absent.
    pub cluster: Option<serde_json::Value>,
}

impl Config {
    /// Reads `config_dir/phoenix-events.json`. A missing file means all
    /// defaults. Whatever is malformed gives its defaults plus a warning for
    /// the emulator's stderr; the users and the limits stand apart, so a bad
    /// one never discards the other.
    pub fn load(config_dir: &Path) -> (Config, Vec<String>) {
        let path = config_dir.join(CONFIG_FILE_NAME);
        let source = path.display().to_string();
        match fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &source),
            Err(e) if e.kind() == ErrorKind::NotFound => (Config::default(), Vec::new()),
            Err(e) => (
                Config::default(),
                vec![format!(
                    "phoenix-events: cannot read {source}: {e}; every computer runs as \"{DEFAULT_USER}\" with the default limits"
                )],
            ),
        }
    }

    /// Parses the file's text; `source` names it in the warnings.
    pub fn parse(text: &str, source: &str) -> (Config, Vec<String>) {
        let json = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => json,
            Err(e) => {
                return (
                    Config::default(),
                    vec![malformed(source, &format!("invalid JSON ({e})"))],
                )
            }
        };
        let Some(object) = json.as_object() else {
            return (
                Config::default(),
                vec![malformed(source, "the top level must be an object")],
            );
        };
        let (limits, mut warnings) = Limits::from_json(object.get("limits"), source);
        let users = UserTable::from_json(object).unwrap_or_else(|reason| {
            warnings.push(format!(
                "phoenix-events: ignoring malformed users in {source}: {reason}; every computer runs as \"{DEFAULT_USER}\""
            ));
            UserTable::default()
        });
        let cluster = object.get("cluster").cloned();
        (
            Config {
                users,
                limits,
                cluster,
            },
            warnings,
        )
    }
}

fn malformed(source: &str, reason: &str) -> String {
    format!(
        "phoenix-events: ignoring malformed {source}: {reason}; every computer runs as \"{DEFAULT_USER}\" with the default limits"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_falls_back_to_defaults() {
        let dir = std::env::temp_dir().join(format!("phoenix-config-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(Config::load(&dir), (Config::default(), Vec::new()));
        fs::write(dir.join(CONFIG_FILE_NAME), "not json").unwrap();
        let (config, warnings) = Config::load(&dir);
        assert_eq!(config, Config::default());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("ignoring malformed"), "{warnings:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn users_and_limits_load_together() {
        let (config, warnings) = Config::parse(
            r#"{"users": {"0": "root"}, "limits": {"queue": 4, "payload": 100, "timers": 3}}"#,
            "f",
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.users.user_of(0), "root");
        assert_eq!(
            (
                config.limits.queue,
                config.limits.payload,
                config.limits.timers
            ),
            (4, 100, 3)
        );
    }

    #[test]
    fn bad_users_keep_the_limits_and_bad_limits_keep_the_users() {
        let (config, warnings) =
            Config::parse(r#"{"users": {"x": "root"}, "limits": {"queue": 4}}"#, "f");
        assert_eq!(config.users, UserTable::default());
        assert_eq!(config.limits.queue, 4);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("malformed users"), "{warnings:?}");

        let (config, warnings) = Config::parse(
            r#"{"users": {"0": "root"}, "limits": {"queue": -1, "timers": 3}}"#,
            "f",
        );
        assert_eq!(config.users.user_of(0), "root");
        assert_eq!((config.limits.queue, config.limits.timers), (1024, 3));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("limits.queue = -1"), "{warnings:?}");
    }
}
