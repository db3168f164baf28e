//! `/v1/tests[/{id}]`, Kayako's test resource: any method, no token, and the answer says how
//! Roost read the request (method, path parameters, query arguments, content type, body fields),
//! so a client developer can check what their client sends.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::extract::QueryPairs;

/// The body as Roost reads it: JSON as is, a form as an object of its fields (a repeated key
/// as an array), nothing as `null`.
fn parsed_body(req: &HttpRequest, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if body.is_empty() {
        return Ok(Value::Null);
    }
    if essence == "application/json" || essence.ends_with("+json") || essence == "application/json+merge-patch" {
        return serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("malformed JSON body: {e}")));
    }
    if essence == "application/x-www-form-urlencoded" {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| ApiError::BadRequest(format!("malformed form body: {e}")))?;
        let mut fields = Map::new();
        for (name, value) in pairs {
            match fields.get_mut(&name) {
                Some(Value::Array(values)) => values.push(Value::String(value)),
                Some(first) => *first = json!([first.take(), value]),
                None => {
                    fields.insert(name, Value::String(value));
                }
            }
        }
        return Ok(Value::Object(fields));
    }
    Err(ApiError::UnsupportedMediaType(format!(
        "expected application/json or application/x-www-form-urlencoded, got content type '{content_type}'"
    )))
}

fn echo(req: &HttpRequest, query: &QueryPairs, body: &[u8]) -> Result<HttpResponse, ApiError> {
    let mut arguments = Map::new();
    for (name, value) in &query.0 {
        match arguments.get_mut(name) {
            Some(Value::Array(values)) => values.push(Value::String(value.clone())),
            Some(first) => *first = json!([first.take(), value]),
            None => {
                arguments.insert(name.clone(), Value::String(value.clone()));
            }
        }
    }
    let parameters: Map<String, Value> =
        req.match_info().iter().map(|(name, value)| (name.to_owned(), Value::String(value.to_owned()))).collect();
    let header = |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // The output options are read as every resource reads them (an unknown field is a 400),
    // and echoed rather than applied.
    let output = crate::output::OutputOptions::of(req)?;
    let casing = match crate::casing::requested(req) {
        crate::casing::Casing::Camel => "camel",
        crate::casing::Casing::Snake => "snake",
    };
    Ok(HttpResponse::Ok().json(json!({
        "method": req.method().as_str(),
        "path": crate::urls::Urls::public_path(req),
        "pathParameters": parameters,
        "query": arguments,
        "contentType": header(header::CONTENT_TYPE),
        "accept": header(header::ACCEPT),
        "options": header(header::HeaderName::from_static("x-options")),
        "body": parsed_body(req, body)?,
        "casing": casing,
        "fields": output.fields.map(|fields| fields.describe()),
        "empty": output.empty,
    })))
}

/// One handler per method and path: the OpenAPI document needs an operation (and an id) each.
macro_rules! echo_handlers {
    ($($name:ident: $method:ident $path:literal $id:literal [$($params:tt)*];)*) => {$(
        #[doc = concat!("`", stringify!($method), " ", $path, "`.")]
        #[utoipa::path(
            $method,
            path = $path,
            operation_id = $id,
            tag = "tests",
            summary = "Echo how Roost reads a request (no token needed)",
            params($($params)*),
            responses((status = 200, description = "How the request was read", body = crate::openapi::TestEcho, content_type = "application/json")),
        )]
        pub async fn $name(req: HttpRequest, query: QueryPairs, body: web::Bytes) -> Result<HttpResponse, ApiError> {
            echo(&req, &query, &body)
        }
    )*};
}

echo_handlers! {
    get_all: get "/v1/tests" "test-get" [];
    post_all: post "/v1/tests" "test-post" [];
    put_all: put "/v1/tests" "test-put" [];
    patch_all: patch "/v1/tests" "test-patch" [];
    delete_all: delete "/v1/tests" "test-delete" [];
    get_one: get "/v1/tests/{id}" "test-get-item" [("id" = String, Path, description = "Any value: it is echoed")];
    post_one: post "/v1/tests/{id}" "test-post-item" [("id" = String, Path, description = "Any value: it is echoed")];
    put_one: put "/v1/tests/{id}" "test-put-item" [("id" = String, Path, description = "Any value: it is echoed")];
    patch_one: patch "/v1/tests/{id}" "test-patch-item" [("id" = String, Path, description = "Any value: it is echoed")];
    delete_one: delete "/v1/tests/{id}" "test-delete-item" [("id" = String, Path, description = "Any value: it is echoed")];
}
