//! Limits on what a request may carry, checked when it is decoded, before it costs the
//! cluster anything (issue 13). Refusing here keeps `apply` free of these checks, and a
//! refused request changes nothing.
//!
//! The check walks the decoded message as JSON, so it sees exactly the fields the message
//! type has (unknown keys were dropped by the decoder) and knows each by its wire name.

use colonies_client::messages::Message;
use colonies_statemachine::ApiError;
use serde_json::Value;

/// Default of `--max-body`: the largest `/api` request body, and the largest first frame
/// of a `/pubsub` subscription.
pub const DEFAULT_MAX_BODY: usize = 2 << 20;
/// Longest long-poll a caller may ask for (`assignprocessmsg`, subscriptions), in seconds;
/// longer ones are cut to this. A client simply polls again.
pub const MAX_LONG_POLL_SECS: i64 = 3_600;
/// Names: colonies, executors, executor types, functions, users, locations, labels.
pub const MAX_NAME_BYTES: usize = 256;
/// Any other string of a message that is not free-form data (descriptions, e-mail, ...).
pub const MAX_FIELD_BYTES: usize = 4_096;
/// Items of any list or map of a message: args, kwargs, env, outputs, errors, executor
/// names, dependencies, the function specs of a workflow.
pub const MAX_LIST_ITEMS: usize = 1_024;
/// One log line (`addlogmsg`, `addexecutorlogmsg`).
pub const MAX_LOG_BYTES: usize = 64 << 10;

/// Fields that name things: they must be short and printable, and must not look like paths.
const NAMES: &[&str] = &[
    "colonyname",
    "targetcolonyname",
    "executorname",
    "executortype",
    "funcname",
    "nodename",
    "locationname",
    "initiatorname",
];
/// Printable and short, but free to contain `/` (labels and keys are often path-like).
/// Channel names are labels both where a spec declares them and in the `name` of an append
/// or read, so every declared channel can be used.
const LABELS: &[&str] = &["label", "key", "executornames", "dependencies", "channels"];
/// Fields that hold a 64-hex-digit id when set.
const IDS: &[&str] = &[
    "colonyid",
    "executorid",
    "processid",
    "userid",
    "functionid",
    "attributeid",
    "processgraphid",
    "serverid",
    "targetid",
    "targetprocessgraphid",
    "parentprocessid",
    "childprocessid",
    "initiatorid",
    "assignedexecutorid",
];
/// Free-form data: any content, bounded only in item count (and by the body limit).
const DATA: &[&str] = &["args", "kwargs", "env", "in", "out", "errors", "value", "text", "description", "payload"];
/// Log lines.
const LOGS: &[&str] = &["message"];

fn invalid(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(colonies_statemachine::texts::invalid_field(field, &why.to_string()))
}

/// Characters that make a name print as something it is not: controls (NUL, escape codes,
/// CR/LF) and bidirectional overrides such as U+202E.
fn deceptive(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn check_printable(field: &str, text: &str, max: usize) -> Result<(), ApiError> {
    if text.len() > max {
        return Err(invalid(field, format!("{} bytes, at most {max} are allowed", text.len())));
    }
    if let Some(c) = text.chars().find(|c| deceptive(*c)) {
        return Err(invalid(field, format!("contains the character U+{:04X}, which is not allowed", c as u32)));
    }
    Ok(())
}

/// A name: printable, at most `MAX_NAME_BYTES`, no `/`, `\` or `..` (names end up in paths
/// and URLs of clients and executors).
pub fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    check_printable(field, name, MAX_NAME_BYTES)?;
    if name.contains(['/', '\\']) || name.contains("..") {
        return Err(invalid(field, "names may not contain '/', '\\' or '..'"));
    }
    Ok(())
}

/// An id: empty (not given) or 64 hexadecimal digits.
pub fn check_id(field: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() || (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
        Ok(())
    } else {
        let shown: String = id.chars().take(16).filter(|c| !deceptive(*c)).collect();
        Err(invalid(field, format!("{shown:?}... is not 64 hexadecimal digits")))
    }
}

fn check_items(field: &str, count: usize) -> Result<(), ApiError> {
    if count > MAX_LIST_ITEMS {
        return Err(invalid(field, format!("{count} items, at most {MAX_LIST_ITEMS} are allowed")));
    }
    Ok(())
}

/// Checks every field of a decoded message against the limits above.
pub fn check_message(message: &Message) -> Result<(), ApiError> {
    let json: Value = serde_json::from_slice(&message.to_payload_json())
        .map_err(|e| ApiError::internal(colonies_statemachine::texts::reencode_failed(&e.to_string())))?;
    check_value("message", None, &json)
}

/// `field` is the key `value` sits under; `parent` the key of the object holding it.
fn check_value(field: &str, parent: Option<&str>, value: &Value) -> Result<(), ApiError> {
    if DATA.contains(&field) {
        return match value {
            Value::Array(items) => check_items(field, items.len()),
            Value::Object(items) => check_items(field, items.len()),
            _ => Ok(()),
        };
    }
    match value {
        Value::String(text) if IDS.contains(&field) => check_id(field, text),
        Value::String(text) if NAMES.contains(&field) => check_name(field, text),
        // A colony's or a user's own name is an identity name; other `name`s (software,
        // GPUs, function arguments) are labels.
        Value::String(text) if field == "name" && matches!(parent, None | Some("colony" | "user")) => {
            check_name(field, text)
        }
        Value::String(text) if field == "name" || LABELS.contains(&field) => {
            check_printable(field, text, MAX_NAME_BYTES)
        }
        Value::String(text) if LOGS.contains(&field) => check_printable_log(field, text),
        Value::String(text) => {
            if text.len() > MAX_FIELD_BYTES {
                return Err(invalid(field, format!("{} bytes, at most {MAX_FIELD_BYTES} are allowed", text.len())));
            }
            Ok(())
        }
        Value::Array(items) => {
            check_items(field, items.len())?;
            items.iter().try_for_each(|item| check_value(field, parent, item))
        }
        Value::Object(fields) => {
            check_items(field, fields.len())?;
            fields.iter().try_for_each(|(key, item)| check_value(key, Some(field), item))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// A log line may hold newlines and tabs (multi-line output), but is bounded in size.
fn check_printable_log(field: &str, text: &str) -> Result<(), ApiError> {
    if text.len() > MAX_LOG_BYTES {
        return Err(invalid(field, format!("{} bytes, at most {MAX_LOG_BYTES} are allowed", text.len())));
    }
    Ok(())
}

/// A long-poll timeout cut to `MAX_LONG_POLL_SECS`; zero and negative values keep their
/// meaning (§5.2).
pub fn clamp_long_poll(timeout: i64) -> i64 {
    timeout.min(MAX_LONG_POLL_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use colonies_client::messages::{AddColonyMsg, AddLogMsg, GetProcessMsg, SubmitFunctionSpecMsg};
    use colonies_statemachine::json::Json;
    use colonies_statemachine::model::{Colony, FunctionSpec};

    fn colony(name: &str) -> Message {
        AddColonyMsg { colony: Some(Colony { colonyid: "a".repeat(64), name: name.into() }) }.into()
    }

    #[test]
    fn hostile_names_are_refused_with_a_reason() {
        assert!(check_message(&colony("dev")).is_ok());
        for (name, why) in [
            ("x".repeat(MAX_NAME_BYTES + 1), "at most 256"),
            ("a\0b".into(), "U+0000"),
            ("a\u{1b}[31mb".into(), "U+001B"),
            ("a\r\nb".into(), "U+000D"),
            ("evil\u{202e}gpj.exe".into(), "U+202E"),
            ("../etc".into(), "'..'"),
            ("a/b".into(), "'/'"),
        ] {
            let e = check_message(&colony(&name)).unwrap_err();
            assert_eq!(e.status, 400);
            assert!(e.message.contains(why), "{name:?}: {}", e.message);
            assert!(e.message.starts_with("Invalid name:"), "{}", e.message);
        }
    }

    #[test]
    fn ids_are_64_hex_digits_or_absent() {
        let get = |id: &str| check_message(&GetProcessMsg { processid: id.into() }.into());
        assert!(get(&"0123456789abcdef".repeat(4)).is_ok());
        assert!(get("").is_ok());
        assert!(get(&"z".repeat(64)).unwrap_err().message.contains("not 64 hexadecimal"));
        assert!(get(&"a".repeat(63)).is_err());
        assert!(get(&"a".repeat(1 << 20)).is_err());
    }

    #[test]
    fn specs_are_bounded_in_list_sizes_and_names_but_not_in_data_content() {
        let mut spec = FunctionSpec { funcname: "echo".into(), ..Default::default() };
        spec.args = vec![Json(serde_json::json!("any\0thing/../")); 3];
        spec.env.insert("PATH".into(), "/bin:/usr/bin".into());
        spec.label = "team/a".into();
        let submit = |spec: &FunctionSpec| check_message(&SubmitFunctionSpecMsg { spec: Some(spec.clone()) }.into());
        assert!(submit(&spec).is_ok(), "{:?}", submit(&spec));
        let mut long = spec.clone();
        long.args = vec![Json(serde_json::json!(1)); MAX_LIST_ITEMS + 1];
        assert!(submit(&long).unwrap_err().message.starts_with("Invalid args: 1025 items"));
        let mut env = spec.clone();
        env.env = (0..=MAX_LIST_ITEMS).map(|i| (format!("K{i}"), String::new())).collect();
        assert!(submit(&env).unwrap_err().message.starts_with("Invalid env"));
        let mut label = spec.clone();
        label.label = "l".repeat(1 << 20);
        assert!(submit(&label).unwrap_err().message.starts_with("Invalid label"));
        let mut names = spec.clone();
        names.conditions.executornames = Some(vec!["ok".into(), "bad\u{7}".into()]);
        assert!(submit(&names).unwrap_err().message.starts_with("Invalid executornames"));
        let mut channels = spec.clone();
        channels.channels = vec!["chat".into(), "team/a".into()];
        assert!(submit(&channels).is_ok());
        channels.channels.push("bad\u{7}".into());
        assert!(submit(&channels).unwrap_err().message.starts_with("Invalid channels"));
        let mut func = spec;
        func.funcname = "../../bin/sh".into();
        assert!(submit(&func).unwrap_err().message.starts_with("Invalid funcname"));
    }

    #[test]
    fn channel_payloads_are_data_bounded_by_the_body_only() {
        use colonies_client::messages::ChannelAppendMsg;
        let payload = colonies_statemachine::channels::Bytes(vec![0; MAX_FIELD_BYTES * 4]);
        let append = ChannelAppendMsg { name: "chat".into(), payload, ..Default::default() };
        assert!(check_message(&append.clone().into()).is_ok());
        let path_like = ChannelAppendMsg { name: "team/a".into(), ..append.clone() };
        assert!(check_message(&path_like.into()).is_ok(), "as in spec.channels");
        let bad_name = ChannelAppendMsg { name: "bad\u{7}".into(), ..append };
        assert!(check_message(&bad_name.into()).unwrap_err().message.starts_with("Invalid name"));
    }

    #[test]
    fn log_lines_keep_newlines_but_are_bounded() {
        let log = |message: String| check_message(&AddLogMsg { processid: String::new(), message }.into());
        assert!(log("line 1\nline 2\ttab".into()).is_ok());
        assert!(log("x".repeat(MAX_LOG_BYTES + 1)).unwrap_err().message.starts_with("Invalid message"));
    }

    #[test]
    fn long_polls_are_cut_but_keep_their_sign() {
        assert_eq!(clamp_long_poll(i64::MAX), MAX_LONG_POLL_SECS);
        assert_eq!(clamp_long_poll(10), 10);
        assert_eq!(clamp_long_poll(-1), -1);
    }
}
