//! How responses are shown: tables and field/value details built from the server's JSON, and
//! small text helpers every resource's command uses.

use comfy_table::{presets, ContentArrangement, Table};
use serde_json::{Map, Value};

pub(crate) fn put_opt(body: &mut Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value {
        body.insert(key.into(), v.into());
    }
}

/// The `items` array of a list response (empty when absent).
pub(crate) fn items(body: &Value) -> &[Value] {
    body["items"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// A field as display text: strings bare, null and absent empty, anything else as JSON.
pub(crate) fn text(v: &Value, key: &str) -> String {
    text_of(&v[key])
}

pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn list(v: &Value, sep: &str) -> String {
    v.as_array()
        .map(|a| a.iter().map(text_of).collect::<Vec<_>>().join(sep))
        .unwrap_or_default()
}

pub(crate) fn or_none(s: String) -> String {
    if s.is_empty() {
        "(none)".into()
    } else {
        s
    }
}

pub(crate) fn yes_no(v: &Value, key: &str) -> String {
    if v[key].as_bool().unwrap_or(false) {
        "yes".into()
    } else {
        "no".into()
    }
}

/// A role's scopes; an empty list means the role applies everywhere.
pub(crate) fn scopes(role: &Value) -> String {
    let s = list(&role["scopes"], ", ");
    if s.is_empty() {
        "(all)".into()
    } else {
        s
    }
}

pub(crate) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    t
}

/// A two-column field/value table for one object.
pub(crate) fn details(rows: Vec<(&str, String)>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    t
}

pub(crate) fn full_name(u: &Value) -> String {
    format!("{} {}", text(u, "first_name"), text(u, "last_name"))
        .trim()
        .to_string()
}

pub(crate) fn print_users(users: &[Value]) {
    let mut t = table(&["id", "username", "email", "name", "status"]);
    for u in users {
        t.add_row(vec![
            text(u, "id"),
            text(u, "username"),
            text(u, "email"),
            full_name(u),
            text(u, "status"),
        ]);
    }
    println!("{t}");
}

/// An admin right as text: its kind, then what it covers (`product commerce-admin`).
pub(crate) fn admin_right(right: &Value) -> String {
    let mut out = text(right, "kind");
    for (key, value) in right.as_object().into_iter().flatten() {
        let value = text_of(value);
        if key != "kind" && !value.is_empty() {
            out.push(' ');
            out.push_str(&value);
        }
    }
    out
}
