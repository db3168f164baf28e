//! Field-name casing, one mechanism for every resource. The ChatKitty Platform API 2.41.9 and its
//! clients use camelCase; the newest official client (npm `chatkitty` 2.106.x, from a newer spec)
//! reads and writes snake_case, and announces itself with `Accept: application/vnd.chatkitty+json`.
//!
//! Output: `_case=snake|camel` (query) or `X-Options: snake|camel` wins; otherwise an `Accept`
//! naming the vnd type selects snake_case; otherwise camelCase. Input: bodies and query parameters
//! are read in either casing. Only Roost's own names change: never what is inside user data
//! (`properties`, a secret's value), never HAL's own keys (`_links`, `_embedded`) or link
//! relation names, and never the names the newer spec itself keeps in camelCase (`isGuest`).

use actix_web::http::header;
use actix_web::HttpRequest;
use serde_json::{Map, Value};

/// The vendor media type the newest official client sends and reads.
pub const VND_CHATKITTY_JSON: &str = "application/vnd.chatkitty+json";

/// Names whose values are user data: their keys are never renamed.
const OPAQUE: [&str; 3] = ["properties", "secret", "_links"];

/// Names the newer spec keeps in camelCase in its snake_case representations.
const KEPT_CAMEL: [&str; 1] = ["isGuest"];

/// The casing of an answer's field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Casing {
    /// `displayName` (ChatKitty 2.41.9, the default).
    Camel,
    /// `display_name` (ChatKitty's newer spec).
    Snake,
}

/// The casing `value` names in `_case` or `X-Options`, if any.
fn named(value: &str) -> Option<Casing> {
    value.split([',', ' ']).map(str::trim).find_map(|option| match option.to_ascii_lowercase().as_str() {
        "snake" | "snake_case" => Some(Casing::Snake),
        "camel" | "camelcase" | "camel_case" => Some(Casing::Camel),
        _ => None,
    })
}

/// Whether `req`'s `Accept` names the vendor type (with a non-zero quality).
pub fn accepts_vnd(req: &HttpRequest) -> bool {
    req.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|part| {
        let mut params = part.split(';');
        let media = params.next().unwrap_or_default().trim();
        // `q=0` means "not acceptable" (RFC 9110 §12.4.2).
        let refused = params
            .any(|p| p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q == 0.0));
        media.eq_ignore_ascii_case(VND_CHATKITTY_JSON) && !refused
    })
}

/// The casing `req` asks for (see the module docs).
pub fn requested(req: &HttpRequest) -> Casing {
    let query = req.query_string();
    if query.contains("_case=") {
        let chosen = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .ok()
            .and_then(|pairs| pairs.into_iter().rev().find(|(k, _)| k == "_case").and_then(|(_, v)| named(&v)));
        if let Some(casing) = chosen {
            return casing;
        }
    }
    let options = req.headers().get("x-options").and_then(|v| v.to_str().ok()).and_then(named);
    if let Some(casing) = options {
        return casing;
    }
    if accepts_vnd(req) {
        Casing::Snake
    } else {
        Casing::Camel
    }
}

/// `displayName` → `display_name`.
pub fn snake_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `display_name` → `displayName`; names without an inner `_` (and `_links`) unchanged.
pub fn camel_name(name: &str) -> String {
    if name.starts_with('_') || !name.contains('_') {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn rename_keys(value: Value, rename: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(fields) => {
            let mut renamed = Map::with_capacity(fields.len());
            for (name, value) in fields {
                let value = match name.as_str() {
                    n if OPAQUE.contains(&n) => value,
                    // HAL's embedded relation names are kept like link relations; their items not.
                    "_embedded" => match value {
                        Value::Object(relations) => Value::Object(
                            relations
                                .into_iter()
                                .map(|(relation, items)| (relation, rename_keys(items, rename)))
                                .collect(),
                        ),
                        other => other,
                    },
                    _ => rename_keys(value, rename),
                };
                let name =
                    if name.starts_with('_') || KEPT_CAMEL.contains(&name.as_str()) { name } else { rename(&name) };
                renamed.insert(name, value);
            }
            Value::Object(renamed)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|item| rename_keys(item, rename)).collect()),
        other => other,
    }
}

/// An answer's JSON with Roost's own field names in snake_case.
pub fn to_snake(value: Value) -> Value {
    rename_keys(value, &snake_name)
}

/// A request body's JSON with snake_case field names read as camelCase (user data untouched).
pub fn to_camel(value: Value) -> Value {
    rename_keys(value, &camel_name)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde_json::json;

    use super::*;

    #[test]
    fn names_convert_both_ways() {
        assert_eq!(snake_name("displayPictureUrl"), "display_picture_url");
        assert_eq!(snake_name("id"), "id");
        assert_eq!(camel_name("display_picture_url"), "displayPictureUrl");
        assert_eq!(camel_name("displayName"), "displayName");
        assert_eq!(camel_name("_links"), "_links");
    }

    #[test]
    fn user_data_and_hal_keys_keep_their_names() {
        let user = json!({
            "displayName": "Jane", "isGuest": false,
            "properties": {"favoriteColor": "red", "nested": {"someKey": 1}},
            "presence": {"lastSeen": 1},
            "_links": {"displayPicture": {"href": "x"}},
            "_embedded": {"channelMembers": [{"displayName": "Bob"}]}
        });
        assert_eq!(
            to_snake(user),
            json!({
                "display_name": "Jane", "isGuest": false,
                "properties": {"favoriteColor": "red", "nested": {"someKey": 1}},
                "presence": {"last_seen": 1},
                "_links": {"displayPicture": {"href": "x"}},
                "_embedded": {"channelMembers": [{"display_name": "Bob"}]}
            })
        );
        let body = json!({"display_name": "Jane", "properties": {"favorite_color": "red"}, "is_guest": true});
        assert_eq!(
            to_camel(body),
            json!({"displayName": "Jane", "properties": {"favorite_color": "red"}, "isGuest": true})
        );
    }

    #[test]
    fn the_request_chooses_the_casing() {
        let casing = |req: TestRequest| requested(&req.to_http_request());
        assert_eq!(casing(TestRequest::default()), Casing::Camel);
        let vnd = || TestRequest::default().insert_header(("accept", "application/vnd.chatkitty+json, */*;q=0.8"));
        assert_eq!(casing(vnd()), Casing::Snake);
        assert_eq!(casing(vnd().uri("/v1/users?_case=camel")), Casing::Camel, "the query wins");
        assert_eq!(casing(vnd().insert_header(("x-options", "camel"))), Casing::Camel, "X-Options wins");
        assert_eq!(casing(TestRequest::default().insert_header(("x-options", "empty, snake"))), Casing::Snake);
        assert_eq!(casing(TestRequest::default().uri("/v1/users?_case=snake")), Casing::Snake);
        let refused = TestRequest::default().insert_header(("accept", "application/vnd.chatkitty+json;q=0, */*"));
        assert_eq!(casing(refused), Casing::Camel);
    }
}
