//! Partial output and options, the Kayako conventions (chatkitty-api-notes.md §5):
//! - `fields=a,b` keeps only these fields (plus `id` and `_links`); `fields=-a` drops one;
//!   dotted paths reach nested objects (`fields=user.displayName`). It applies to a single
//!   resource and to every item of a page. A name no resource of the API has is a 400 naming it.
//! - `_empty=true` (query) or `X-Options: empty` renders blank fields as `null` instead of
//!   leaving them out.
//!
//! Names are accepted in either casing, like every query parameter.

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use actix_web::HttpRequest;
use serde_json::{Map, Value};

use crate::casing::camel_name;
use crate::error::ApiError;

/// Fields kept in every object whatever `fields` says.
const ALWAYS_KEPT: [&str; 2] = ["id", "_links"];

/// Which fields an answer shows (`fields=`), as camelCase paths.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Fields {
    keep: Vec<Vec<String>>,
    drop: Vec<Vec<String>>,
}

/// What the request asks of the output beyond media type and casing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct OutputOptions {
    /// `fields=`, when given.
    pub fields: Option<Arc<Fields>>,
    /// Blank fields as `null` (`_empty=true`, `X-Options: empty`).
    pub empty: bool,
    /// The answer is a page: `fields` applies to each of its items.
    pub collection: bool,
}

/// Every field name any schema of the API document has, in both casings.
static KNOWN: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut names = HashSet::new();
    if let Ok(document) = serde_json::from_slice::<Value>(crate::openapi::openapi_json()) {
        collect_property_names(&document, &mut names);
    }
    names.extend(ALWAYS_KEPT.iter().map(|n| (*n).to_owned()));
    names.insert("_embedded".into());
    names.insert("page".into());
    names
});

fn collect_property_names(value: &Value, names: &mut HashSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "properties" {
                    if let Value::Object(properties) = child {
                        names.extend(properties.keys().map(|k| camel_name(k)));
                    }
                }
                collect_property_names(child, names);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_property_names(item, names)),
        _ => {}
    }
}

impl OutputOptions {
    /// Reads `fields`, `_empty` and `X-Options` from `req`; `collection` as its extractors
    /// marked it.
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let mut options = Self { collection: crate::conditional::is_collection(req), ..Self::default() };
        let query = req.query_string();
        if query.contains("fields=") || query.contains("_empty") {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
            for (name, value) in pairs {
                match name.as_str() {
                    "fields" => options.fields = Some(Arc::new(Fields::parse(&value)?)),
                    "_empty" => options.empty = parse_flag("_empty", &value)?,
                    _ => {}
                }
            }
        }
        let header = req.headers().get("x-options").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if header.split([',', ' ']).any(|o| o.trim().eq_ignore_ascii_case("empty")) {
            options.empty = true;
        }
        Ok(options)
    }

    /// Whether the output needs the tree form (anything but plain serialization).
    pub fn reshapes(&self) -> bool {
        self.fields.is_some()
    }

    /// Applies `fields` to a serialized answer.
    pub fn apply(&self, value: &mut Value) {
        let Some(fields) = &self.fields else { return };
        if self.collection {
            if let Some(Value::Object(embedded)) = value.get_mut("_embedded") {
                for items in embedded.values_mut() {
                    if let Value::Array(items) = items {
                        items.iter_mut().for_each(|item| fields.apply(item));
                    }
                }
            }
        } else {
            fields.apply(value);
        }
    }
}

fn parse_flag(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" | "" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(ApiError::BadRequest(format!("query parameter '{name}' must be true or false, got '{other}'"))),
    }
}

impl Fields {
    /// `a,b.c,-d`: names in either casing.
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        let mut fields = Self::default();
        for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (dropped, path) = match item.strip_prefix('-') {
                Some(path) => (true, path),
                None => (false, item),
            };
            let segments: Vec<String> = path.split('.').map(|s| camel_name(s.trim())).collect();
            if let Some(unknown) = segments.iter().find(|s| s.is_empty() || !KNOWN.contains(s.as_str())) {
                return Err(ApiError::BadRequest(format!(
                    "query parameter 'fields' names '{path}': no resource has a field '{unknown}'"
                )));
            }
            if dropped {
                fields.drop.push(segments);
            } else {
                fields.keep.push(segments);
            }
        }
        if fields.keep.is_empty() && fields.drop.is_empty() {
            return Err(ApiError::BadRequest("query parameter 'fields' names no field".into()));
        }
        Ok(fields)
    }

    /// `{keep: [paths], drop: [paths]}`, dotted, for the test resource's echo.
    pub fn describe(&self) -> Value {
        let dotted = |paths: &[Vec<String>]| paths.iter().map(|p| Value::String(p.join("."))).collect::<Vec<_>>();
        serde_json::json!({"keep": dotted(&self.keep), "drop": dotted(&self.drop)})
    }

    fn apply(&self, value: &mut Value) {
        if !self.keep.is_empty() {
            keep(value, &self.keep.iter().map(Vec::as_slice).collect::<Vec<_>>());
        }
        for path in &self.drop {
            drop_path(value, path);
        }
    }
}

/// Keeps, in `value` (an object), the fields the paths name, with `id` and `_links`.
fn keep(value: &mut Value, paths: &[&[String]]) {
    let Value::Object(map) = value else { return };
    let old = std::mem::take(map);
    let mut kept = Map::new();
    for (key, mut child) in old {
        let here: Vec<&[String]> =
            paths.iter().filter(|p| p.first().is_some_and(|first| *first == key)).map(|p| &p[1..]).collect();
        if here.iter().any(|rest| rest.is_empty()) {
            kept.insert(key, child);
        } else if !here.is_empty() {
            match &mut child {
                Value::Array(items) => items.iter_mut().for_each(|item| keep(item, &here)),
                other => keep(other, &here),
            }
            kept.insert(key, child);
        } else if ALWAYS_KEPT.contains(&key.as_str()) {
            kept.insert(key, child);
        }
    }
    *map = kept;
}

fn drop_path(value: &mut Value, path: &[String]) {
    match (value, path) {
        (Value::Object(map), [last]) => {
            map.remove(last);
        }
        (Value::Object(map), [first, rest @ ..]) => {
            if let Some(child) = map.get_mut(first) {
                drop_path(child, rest);
            }
        }
        (Value::Array(items), path) => items.iter_mut().for_each(|item| drop_path(item, path)),
        _ => {}
    }
}

thread_local! {
    /// Set while an answer that asked for `_empty` is serialized on this thread.
    static EMPTY: Cell<bool> = const { Cell::new(false) };
}

/// For `#[serde(skip_serializing_if = "crate::output::omitted")]`: a blank field is left out,
/// unless the answer being serialized asked for blank fields as `null`.
pub fn omitted<T>(value: &Option<T>) -> bool {
    value.is_none() && !EMPTY.with(Cell::get)
}

/// For lists: an empty one is left out, unless blank fields were asked for (then `[]`).
pub fn omitted_list<T>(value: &[T]) -> bool {
    value.is_empty() && !EMPTY.with(Cell::get)
}

/// Runs `serialize` with blank fields shown as `null` when `empty`, and puts the flag back as
/// it was afterwards, even if `serialize` panics.
pub fn with_blanks<R>(empty: bool, serialize: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            EMPTY.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(EMPTY.with(|flag| flag.replace(empty)));
    serialize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(fields: &str, value: Value, collection: bool) -> Value {
        let options =
            OutputOptions { fields: Some(Arc::new(Fields::parse(fields).unwrap())), empty: false, collection };
        let mut value = value;
        options.apply(&mut value);
        value
    }

    fn message() -> Value {
        json!({"id": 1, "type": "TEXT", "body": "hi", "user": {"id": 2, "name": "jane", "displayName": "Jane", "_links": {}},
               "_links": {"self": {"href": "/v1/messages/1"}}})
    }

    #[test]
    fn keeps_named_fields_with_id_and_links() {
        assert_eq!(
            apply("body", message(), false),
            json!({"id": 1, "body": "hi", "_links": {"self": {"href": "/v1/messages/1"}}})
        );
    }

    #[test]
    fn dotted_paths_reach_nested_objects_in_either_casing() {
        let kept = apply("user.display_name", message(), false);
        assert_eq!(kept["user"], json!({"id": 2, "displayName": "Jane", "_links": {}}));
        assert!(kept.get("body").is_none());
    }

    #[test]
    fn minus_drops_a_field() {
        let dropped = apply("-body,-user.name", message(), false);
        assert!(dropped.get("body").is_none());
        assert_eq!(dropped["type"], "TEXT");
        assert!(dropped["user"].get("name").is_none());
    }

    #[test]
    fn applies_to_every_item_of_a_page() {
        let page = json!({"_embedded": {"messages": [message(), message()]}, "page": {"size": 2}, "_links": {}});
        let kept = apply("type", page, true);
        assert_eq!(
            kept["_embedded"]["messages"][1],
            json!({"id": 1, "type": "TEXT", "_links": {"self": {"href": "/v1/messages/1"}}})
        );
        assert_eq!(kept["page"]["size"], 2);
    }

    #[test]
    fn unknown_names_are_refused_by_name() {
        let error = Fields::parse("body,colour").unwrap_err().to_string();
        assert!(error.contains("'colour'"), "{error}");
        assert!(Fields::parse(",").is_err());
    }

    #[test]
    fn blanks_show_only_while_asked() {
        assert!(omitted::<u8>(&None));
        assert!(!with_blanks(true, || omitted::<u8>(&None)));
        assert!(omitted::<u8>(&None));
        assert!(!omitted(&Some(1)));
    }
}
