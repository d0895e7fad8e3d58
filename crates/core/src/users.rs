//! Which user each computer runs as, from the host's configuration file.
//!
//! The file lives outside every computer's file system (the emulator's
//! `config/` folder), so no computer can raise its own rights.

use std::collections::HashMap;

use super::Pid;

/// The superuser: may signal any process.
pub const ROOT: &str = "root";
/// The user of unlisted computers when the file names none.
pub const DEFAULT_USER: &str = "user";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTable {
    default_user: String,
    by_computer: HashMap<Pid, String>,
}

impl Default for UserTable {
    fn default() -> Self {
        UserTable {
            default_user: DEFAULT_USER.to_owned(),
            by_computer: HashMap::new(),
        }
    }
}

impl UserTable {
    /// Parses `{"default_user": "user", "users": {"0": "root", "3": "alice"}}`.
    pub fn parse(text: &str) -> Result<UserTable, String> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid JSON ({e})"))?;
        let object = json.as_object().ok_or("the top level must be an object")?;
        UserTable::from_json(object)
    }

    /// The users part of the configuration's top-level object.
    pub fn from_json(
        object: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<UserTable, String> {
        let mut table = UserTable::default();
        if let Some(default) = object.get("default_user") {
            table.default_user = user_name(default, "\"default_user\"")?;
        }
        if let Some(users) = object.get("users") {
            let users = users.as_object().ok_or("\"users\" must be an object")?;
            for (id, name) in users {
                let pid: Pid = id
                    .trim()
                    .parse()
                    .map_err(|_| format!("\"users\" key {id:?} is not a computer ID"))?;
                table
                    .by_computer
                    .insert(pid, user_name(name, &format!("user of computer {id}"))?);
            }
        }
        Ok(table)
    }

    pub fn user_of(&self, pid: Pid) -> &str {
        self.by_computer
            .get(&pid)
            .map_or(self.default_user.as_str(), String::as_str)
    }
}

fn user_name(value: &serde_json::Value, what: &str) -> Result<String, String> {
    match value.as_str() {
        Some(name) if !name.is_empty() => Ok(name.to_owned()),
        _ => Err(format!("{what} must be a non-empty string")),
    }
}

/// The permission rule of `kill`: same user, or the sender is root.
pub fn may_signal(sender_user: &str, target_user: &str) -> bool {
    sender_user == target_user || sender_user == ROOT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_computers_get_their_user_and_others_the_default() {
        let table =
            UserTable::parse(r#"{"default_user": "guest", "users": {"0": "root", "3": "alice"}}"#)
                .unwrap();
        assert_eq!(table.user_of(0), "root");
        assert_eq!(table.user_of(3), "alice");
        assert_eq!(table.user_of(7), "guest");
    }

    #[test]
    fn default_user_is_user_when_absent() {
        let table = UserTable::parse(r#"{"users": {"1": "bob"}}"#).unwrap();
        assert_eq!(table.user_of(2), "user");
        assert_eq!(UserTable::default().user_of(0), "user");
    }

    #[test]
    fn malformed_files_are_rejected_with_a_reason() {
        for (text, needle) in [
            ("{", "invalid JSON"),
            ("[]", "top level"),
            (r#"{"users": []}"#, "\"users\" must be an object"),
            (r#"{"users": {"x": "a"}}"#, "not a computer ID"),
            (r#"{"users": {"1": 5}}"#, "non-empty string"),
            (r#"{"default_user": ""}"#, "non-empty string"),
        ] {
            let err = UserTable::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn only_same_user_or_root_may_signal() {
        assert!(may_signal("alice", "alice"));
        assert!(may_signal("root", "alice"));
        assert!(!may_signal("alice", "bob"));
        assert!(!may_signal("alice", "root"));
    }
}
