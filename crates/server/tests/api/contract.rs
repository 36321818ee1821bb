//! The OpenAPI document as a contract every test enforces: `helpers::TestApp` hands each
//! response it receives to [`check`], which finds the operation (method and path template),
//! and fails the test unless the status is documented for it, the content type is the one
//! documented, and the body validates against the documented schema (JSON Schema 2020-12,
//! formats included).
//!
//! Validation is stricter than the document says in one way: an object may carry no property
//! its schema does not name (`unevaluatedProperties: false` is added wherever an object schema
//! is used), so a field the server sends but the document omits is caught too.

use jsonschema::Validator;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub struct Contract {
    doc: Value,
    /// `components` made strict (see the module note), shared by every validator.
    strict_components: Value,
    operations: Vec<Operation>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

struct Operation {
    method: String,
    template: String,
    /// Literal segments, `None` for a parameter.
    segments: Vec<Option<String>>,
}

/// The served document, loaded once per test binary.
pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| Contract::new(rolecall::http::openapi()))
}

/// Checks one exchange against the document; panics with what broke it.
pub fn check(method: &str, path: &str, status: u16, content_type: Option<&str>, body: &str) {
    if let Err(e) = contract().verify(method, path, status, content_type, body) {
        panic!(
            "contract broken by {method} {path} → {status} ({}):\n  {e}\n  body: {}",
            content_type.unwrap_or("no content type"),
            body.chars().take(600).collect::<String>()
        );
    }
}

impl Contract {
    pub fn new(doc: Value) -> Contract {
        let mut operations = Vec::new();
        for (template, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in ["get", "put", "post", "patch", "delete"] {
                if item.get(method).is_some() {
                    operations.push(Operation {
                        method: method.to_string(),
                        template: template.clone(),
                        segments: template
                            .split('/')
                            .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                            .collect(),
                    });
                }
            }
        }
        let mut strict_components = doc["components"].clone();
        make_strict(&mut strict_components, false);
        Contract {
            doc,
            strict_components,
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    }

    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// The path templates `path` (without query) matches, most literal first.
    fn templates_for(&self, path: &str) -> Vec<&Operation> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let mut found: Vec<&Operation> = self
            .operations
            .iter()
            .filter(|op| {
                op.segments.len() == segments.len()
                    && op.segments.iter().zip(&segments).all(|(t, s)| match t {
                        Some(lit) => lit == s,
                        None => !s.is_empty(),
                    })
            })
            .collect();
        found.sort_by_key(|op| std::cmp::Reverse(op.segments.iter().flatten().count()));
        found
    }

    /// The `(method, template)` operation a request reaches, if the document has one.
    pub fn operation(&self, method: &str, path: &str) -> Option<(String, String)> {
        let method = method.to_ascii_lowercase();
        let matches = self.templates_for(path);
        let best = matches.first()?.segments.iter().flatten().count();
        matches
            .iter()
            .filter(|op| op.segments.iter().flatten().count() == best)
            .find(|op| op.method == method)
            .map(|op| (op.method.clone(), op.template.clone()))
    }

    pub fn verify(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<(), String> {
        let Some((method, template)) = self.operation(method, path) else {
            // Not an operation: the server's fallback answers 404, or 405 when the path
            // exists with other methods; both as problems.
            let expected = if self.templates_for(path).is_empty() {
                404
            } else {
                405
            };
            if status != expected {
                return Err(format!(
                    "no documented operation; expected the {expected} fallback"
                ));
            }
            return self.body_matches(
                &json!({ "$ref": "#/components/schemas/Problem" }),
                "application/problem+json",
                content_type,
                body,
            );
        };
        let op = &self.doc["paths"][&template][&method];
        let responses = &op["responses"];
        let Some(response) = responses.get(status.to_string()) else {
            let documented: Vec<&String> = responses
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .collect();
            return Err(format!(
                "status {status} is not documented for {} {template} (documented: {documented:?})",
                method.to_uppercase()
            ));
        };
        let response = self.resolve(response);
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return if body.is_empty() {
                Ok(())
            } else {
                Err("the document says no content, the server sent a body".into())
            };
        };
        let media = content_type
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or(ct)
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let Some(spec) = content.get(&media) else {
            return Err(format!(
                "content type {media:?} is not documented (documented: {:?})",
                content.keys().collect::<Vec<_>>()
            ));
        };
        match spec.get("schema") {
            Some(schema) => self.body_matches(schema, &media, content_type, body),
            None => Ok(()),
        }
    }

    fn body_matches(
        &self,
        schema: &Value,
        media: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<(), String> {
        let sent = content_type
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or(ct)
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if sent != media {
            return Err(format!("content type {sent:?}, expected {media:?}"));
        }
        let instance = if media == "application/json" || media.ends_with("+json") {
            serde_json::from_str::<Value>(body).map_err(|e| format!("body is not JSON: {e}"))?
        } else {
            Value::String(body.to_string())
        };
        let validator = self.validator(schema)?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("at {}: {e}", e.instance_path))
            .take(5)
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "body does not match the schema {schema}:\n    {}",
                errors.join("\n    ")
            ))
        }
    }

    /// Follows a `$ref` to `components` (responses are shared there).
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix('#')
                .and_then(|ptr| self.doc.pointer(ptr))
                .unwrap_or(v),
            None => v,
        }
    }

    fn validator(&self, schema: &Value) -> Result<Arc<Validator>, String> {
        let key = schema.to_string();
        if let Some(v) = self.validators.lock().unwrap().get(&key) {
            return Ok(v.clone());
        }
        let mut root = schema.clone();
        make_strict(&mut root, false);
        let mut root = match root {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("allOf".into(), json!([other]));
                m
            }
        };
        root.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        root.insert("components".into(), self.strict_components.clone());
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&Value::Object(root))
            .map_err(|e| format!("the documented schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        self.validators
            .lock()
            .unwrap()
            .insert(key, validator.clone());
        Ok(validator)
    }
}

/// Adds `unevaluatedProperties: false` where an object schema is used: to inline schemas with
/// `properties` and to `$ref`s — except directly inside `allOf`, `oneOf` or `anyOf`, whose
/// parent (reached through a `$ref`, or itself inline) sees the properties every member that
/// applies evaluated, and is made strict instead.
/// `components.schemas` entries themselves stay open, so `#[serde(flatten)]` compositions work.
pub fn make_strict(node: &mut Value, in_all_of: bool) {
    match node {
        Value::Object(map) => {
            let open = !map.contains_key("additionalProperties")
                && !map.contains_key("unevaluatedProperties");
            let object_use = ["properties", "$ref", "allOf", "oneOf", "anyOf"]
                .iter()
                .any(|k| map.contains_key(*k));
            if open && !in_all_of && object_use {
                map.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "allOf" | "oneOf" | "anyOf" => {
                        for member in child.as_array_mut().into_iter().flatten() {
                            make_strict(member, true);
                        }
                    }
                    // Names of properties and schemas, not schemas in themselves.
                    "properties" | "patternProperties" => {
                        for member in child.as_object_mut().into_iter().flatten() {
                            make_strict(member.1, false);
                        }
                    }
                    // Definitions stay open at their top (their users are strict).
                    "schemas" | "$defs" => {
                        for member in child.as_object_mut().into_iter().flatten() {
                            make_strict(member.1, true);
                        }
                    }
                    // Values, not schemas.
                    "enum" | "const" | "example" | "examples" | "default" | "required" => {}
                    _ => make_strict(child, false),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                make_strict(item, false);
            }
        }
        _ => {}
    }
}
