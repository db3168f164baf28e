//! Custom `properties` objects: their size bound and RFC 7396 merge patches of them.

use serde_json::Value;

use super::Properties;
use crate::error::{FieldError, FieldErrorCode};

/// Largest serialized `properties` object accepted, in bytes.
pub const MAX_PROPERTIES_BYTES: usize = 64 * 1024;

/// Validates a `properties` object's size.
pub fn validate_properties(resource: &'static str, properties: &Properties) -> Result<(), FieldError> {
    let size = serde_json::to_vec(properties).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_PROPERTIES_BYTES {
        return Err(FieldError::new(
            resource,
            "properties",
            FieldErrorCode::Invalid,
            format!("properties must serialize to at most {MAX_PROPERTIES_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Applies an RFC 7396 merge patch to a properties object. `null` removes every property (the
/// member itself is required, so it becomes `{}`); any other non-object patch is refused, since
/// it would replace the object with a scalar.
pub fn merge_properties(resource: &'static str, current: &Properties, patch: &Value) -> Result<Properties, FieldError> {
    let not_an_object =
        || FieldError::new(resource, "properties", FieldErrorCode::Invalid, "properties must be a JSON object");
    if patch.is_null() {
        return Ok(Properties::new());
    }
    if !patch.is_object() {
        return Err(not_an_object());
    }
    let mut merged = Value::Object(current.clone());
    json_patch::merge(&mut merged, patch);
    match merged {
        Value::Object(map) => Ok(map),
        _ => Err(not_an_object()),
    }
}

/// [`merge_properties`], then [`validate_properties`] on the result.
pub fn patch_properties(resource: &'static str, current: &Properties, patch: &Value) -> Result<Properties, FieldError> {
    let merged = merge_properties(resource, current, patch)?;
    validate_properties(resource, &merged)?;
    Ok(merged)
}

/// A merge patch's members: a JSON object, or a 400 naming what was patched.
pub fn patch_members(body: Value, what: &str) -> Result<serde_json::Map<String, Value>, crate::DomainError> {
    match body {
        Value::Object(members) => Ok(members),
        _ => Err(crate::DomainError::InvalidArgument(format!("a merge patch of a {what} must be a JSON object"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Properties {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn merge_patch_null_removes_and_nested_objects_merge() {
        let current = props(json!({"a": 1, "b": {"x": 1, "y": 2}, "c": true}));
        let merged =
            merge_properties("user", &current, &json!({"a": null, "b": {"y": null, "z": 3}, "d": "new"})).unwrap();
        assert_eq!(Value::Object(merged), json!({"b": {"x": 1, "z": 3}, "c": true, "d": "new"}));
    }

    #[test]
    fn properties_patch_must_be_an_object() {
        let err = merge_properties("channel", &Properties::new(), &json!([1])).unwrap_err();
        assert_eq!((err.code, err.resource), (FieldErrorCode::Invalid, "channel"));
        assert!(merge_properties("user", &props(json!({"a": 1})), &Value::Null).unwrap().is_empty());
    }

    #[test]
    fn patched_properties_stay_bounded() {
        let big = json!({"x": "y".repeat(MAX_PROPERTIES_BYTES)});
        assert!(patch_properties("user", &Properties::new(), &big).is_err());
    }
}
