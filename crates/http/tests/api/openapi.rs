//! The OpenAPI document (`GET /v1/openapi.json`) against the routes and the responses:
//! - it lists exactly the API's routes (not the probes, `/metrics`, the docs or itself);
//! - it is an OpenAPI 3.1 document with relative servers and the OAuth 2.0 client-credentials
//!   scheme every `/v1` operation uses;
//! - [`check_response`], called by `TestApp::send` for every response of every HTTP test,
//!   validates the body against the document's schema for its operation and status.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// Routes the document leaves out: the probes, the server's own page, metrics, the docs and the
/// document itself.
fn undocumented(path: &str) -> bool {
    matches!(path, "/" | "/healthz" | "/readyz" | "/metrics" | "/v1/openapi.json") || path.starts_with("/docs")
}

static DOCUMENT: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_slice(roost_http::openapi_json()).expect("the document is JSON"));

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every `(METHOD, path)` operation of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                found.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[test]
fn the_document_lists_exactly_the_api_routes() {
    let routes: BTreeSet<(String, String)> = roost_http::api_routes()
        .into_iter()
        .filter(|(_, path)| !undocumented(path))
        .map(|(method, path)| (method.to_string(), path))
        .collect();
    let documented = operations(&DOCUMENT);
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");
    let phantom: Vec<_> = documented.difference(&routes).collect();
    assert!(phantom.is_empty(), "operations of the OpenAPI document that no route serves: {phantom:?}");
    for (method, path) in roost_http::api_routes() {
        if undocumented(&path) {
            assert!(
                DOCUMENT["paths"].get(&path).is_none(),
                "{method} {path} is not part of the API but is in the document"
            );
        }
    }
}

#[test]
fn the_document_is_openapi_3_1_with_oauth2_client_credentials() {
    let doc = &*DOCUMENT;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert_eq!(doc["info"]["title"], "Roost");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["info"]["description"].as_str().unwrap().contains("ChatKitty Platform API 2.41.9"));
    let servers = doc["servers"].as_array().unwrap();
    assert!(!servers.is_empty());
    for server in servers {
        let url = server["url"].as_str().unwrap();
        assert!(url.starts_with('/') && !url.starts_with("//"), "servers must be relative: {url}");
    }
    let scheme = &doc["components"]["securitySchemes"]["oauth2"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(scheme["flows"]["clientCredentials"]["tokenUrl"], "/oauth/token");
    assert!(scheme["flows"]["clientCredentials"]["scopes"].is_object());
    // Public: the generated pictures, hosted files (their key is the secret), the test resource,
    // and end users' calls made before they have a session (the application's public key, or a
    // mailed single-use token, names who they are).
    let public = [
        "/v1/picture/{name}",
        "/v1/files/{key}",
        "/v1/tests",
        "/v1/tests/{id}",
        "/v1/accounts",
        "/v1/accounts/activate",
        "/v1/accounts/activate/{token}",
        "/v1/sessions",
        "/v1/accounts/password-reset",
        "/v1/accounts/password-reset/{token}",
    ];
    for (method, path) in operations(doc) {
        let operation = &doc["paths"][&path][method.to_ascii_lowercase()];
        assert!(operation["operationId"].is_string(), "{method} {path} has no operationId");
        assert!(operation["responses"]["default"].is_object(), "{method} {path} has no default (error) response");
        let security = operation["security"].as_array().cloned().unwrap_or_default();
        let uses_oauth2 = security.iter().any(|requirement| requirement.get("oauth2").is_some());
        if path.starts_with("/v1") && !public.contains(&path.as_str()) {
            assert!(uses_oauth2, "{method} {path} does not require the oauth2 scheme");
        } else {
            assert!(!uses_oauth2, "{method} {path} should not require a bearer token");
        }
    }
    let ids: Vec<&str> = operations(doc)
        .iter()
        .map(|(method, path)| doc["paths"][path][method.to_ascii_lowercase()]["operationId"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "operation ids must be unique");
}

/// The document is served without a token, as JSON, with an ETag; the legacy application
/// paths are in it with their `app_id` parameter.
#[actix_web::test]
async fn the_document_is_served() {
    for t in TestApp::each().await {
        let reply = t.send(TestRequest::get().uri("/v1/openapi.json")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.raw, roost_http::openapi_json());
        let etag = reply.header("etag").unwrap().to_owned();
        let again = t.send(TestRequest::get().uri("/v1/openapi.json").insert_header(("if-none-match", etag))).await;
        assert_eq!(again.status, 304);
        let legacy = &reply.body["paths"]["/v1/applications/{app_id}/users/{user_id}"]["get"];
        assert_eq!(legacy["parameters"][0]["name"], "app_id");
        assert_eq!(legacy["deprecated"], true);
    }
}

// ---- Response validation ---------------------------------------------------------------------

/// Closes every object schema that names its properties (`additionalProperties: false` unless
/// it says otherwise), so a response field the document does not describe fails validation.
/// The served document stays open, so clients tolerate fields added later.
fn closed(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    if map.contains_key("properties") && !map.contains_key("additionalProperties") {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (keyword, value) in map.iter_mut() {
        match (keyword.as_str(), value) {
            ("properties", Value::Object(properties)) => properties.values_mut().for_each(closed),
            ("items" | "additionalProperties" | "not", value) => closed(value),
            ("allOf" | "anyOf" | "oneOf" | "prefixItems", Value::Array(schemas)) => schemas.iter_mut().for_each(closed),
            _ => {}
        }
    }
}

type Validators = HashMap<String, Arc<jsonschema::Validator>>;

static VALIDATORS: LazyLock<Mutex<Validators>> = LazyLock::new(|| Mutex::new(HashMap::new()));

static COMPONENTS: LazyLock<Value> = LazyLock::new(|| {
    let mut components = DOCUMENT["components"].clone();
    if let Some(schemas) = components["schemas"].as_object_mut() {
        schemas.values_mut().for_each(closed);
    }
    components
});

fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
    let mut cache = VALIDATORS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(validator) = cache.get(key) {
        return validator.clone();
    }
    let mut root = schema.clone();
    closed(&mut root);
    root.as_object_mut().expect("a schema object").insert("components".into(), COMPONENTS.clone());
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the document's schema for {key} does not compile: {e}"));
    let validator = Arc::new(validator);
    cache.insert(key.to_owned(), validator.clone());
    validator
}

/// Checks one recorded response against the document: its status is documented (or, for an
/// error, covered by `default`), its media type is one the response lists, and a JSON body
/// validates against the schema. Responses of routes the document does not describe (the
/// probes, the document itself, HEADs implied by GETs, 405s, unknown paths) are not checked.
pub fn check_response(
    method: &Method,
    route: &str,
    status: StatusCode,
    content_type: Option<&str>,
    snake: bool,
    body: &[u8],
) {
    let Some(operation) = DOCUMENT["paths"].get(route).and_then(|item| item.get(method.as_str().to_ascii_lowercase()))
    else {
        return;
    };
    let responses = &operation["responses"];
    let code = status.as_u16().to_string();
    let (key, response) = match responses.get(&code) {
        Some(response) => (code, response),
        None if status.as_u16() < 400 => {
            panic!("{method} {route} answered {status}, which the OpenAPI document does not list")
        }
        None => ("default".to_owned(), &responses["default"]),
    };
    // A HEAD answer has no content on the wire (the test service keeps what a GET would send).
    if body.is_empty() || method == Method::HEAD {
        return;
    }
    let media_type = content_type.unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let Some(content) = response["content"].get(&media_type) else {
        panic!(
            "{method} {route} answered {status} as '{media_type}', which the OpenAPI document does not list for it: {}",
            response["content"]
        )
    };
    if !media_type.ends_with("json") {
        return;
    }
    let mut instance: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{method} {route} answered {status} with malformed JSON ({e})"));
    // The vendor type (and `_case=snake`) has the schema's names in snake_case: checked against
    // the schema with the names read back, so an unknown or missing field still fails.
    if snake {
        instance = roost_http::casing::to_camel(instance);
    }
    let validator = validator(&format!("{method} {route} {key} {media_type}"), &content["schema"]);
    let errors: Vec<String> =
        validator.iter_errors(&instance).map(|e| format!("  at '{}': {e}", e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{method} {route} answered {status} with a body the OpenAPI document does not describe:\n{}\nbody: {}",
        errors.join("\n"),
        serde_json::to_string_pretty(&instance).unwrap_or_default()
    );
}

#[test]
fn the_validation_rejects_what_the_document_does_not_describe() {
    let user = json!({
        "id": 1, "type": "PERSON", "name": "jane", "displayName": "Jane", "displayPictureUrl": "/p",
        "isGuest": false, "presence": {"status": "UNAVAILABLE", "online": false}, "properties": {},
        "_links": {"self": {"href": "/v1/users/1"}}
    });
    let check = |body: &Value| {
        let bytes = serde_json::to_vec(body).unwrap();
        std::panic::catch_unwind(|| {
            check_response(
                &Method::GET,
                "/v1/users/{user_id}",
                StatusCode::OK,
                Some("application/hal+json"),
                false,
                &bytes,
            )
        })
    };
    assert!(check(&user).is_ok());
    let mut extra = user.clone();
    extra["nickname"] = json!("jj");
    assert!(check(&extra).is_err(), "an undocumented field");
    let mut missing = user.clone();
    missing.as_object_mut().unwrap().remove("name");
    assert!(check(&missing).is_err(), "a missing required field");
    let mut wrong = user.clone();
    wrong["type"] = json!("ROBOT");
    assert!(check(&wrong).is_err(), "a value outside the enum");
    let undocumented_status = std::panic::catch_unwind(|| {
        check_response(&Method::GET, "/v1/users/{user_id}", StatusCode::CREATED, Some("application/json"), false, b"{}")
    });
    assert!(undocumented_status.is_err(), "a success status the document does not list");
    let error =
        json!({"error": "ResourceNotFoundError", "message": "Resource not found", "timestamp": "2024-01-01T00:00:00Z"});
    let bytes = serde_json::to_vec(&error).unwrap();
    check_response(&Method::GET, "/v1/users/{user_id}", StatusCode::NOT_FOUND, Some("application/json"), false, &bytes);
}
