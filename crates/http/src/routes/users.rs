//! `/v1/users…`: list, create, exists, get, merge-patch, delete, and user secrets.

use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::page::PageRequest;
use roost_domain::user::{self, NewUser, UserFilter, UserPatch};
use roost_domain::{now, DomainError, FieldError, FieldErrorCode, Properties};
use roost_hal::PageLinks;
use serde::Deserialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{blocking, Authenticated, QueryPairs, UserIdPath};
use crate::negotiate::Hal;
use crate::repr;
use crate::state::AppState;
use crate::urls::Urls;

pub async fn list(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    urls: Urls,
    req: HttpRequest,
    query: QueryPairs,
) -> Result<impl Responder, ApiError> {
    let page = PageRequest::parse(query.int("page")?, query.int("size")?, &query.all("sort"))?;
    let filter = UserFilter { name: query.get("name").map(str::to_owned), properties: properties_filter(&query)? };
    let users =
        blocking(move || Ok(user::list_users(state.ports.users.as_ref(), principal.application_id, &filter, &page)?))
            .await?;
    let links = PageLinks::new(urls.root(req.path()), query.without(&["page", "size"]));
    Ok(Hal(repr::user::user_page(&users, &urls, &links)))
}

/// `properties=` filter: a JSON object whose top-level pairs must all match.
fn properties_filter(query: &QueryPairs) -> Result<Option<Properties>, ApiError> {
    query
        .get("properties")
        .map(|raw| match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(ApiError::BadRequest(format!(
                "query parameter 'properties' must be a JSON object, e.g. {{\"team\":\"red\"}}; got '{raw}'"
            ))),
        })
        .transpose()
}

/// `CreatePersonChatUserResource` (snake_case spellings accepted too).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserBody {
    name: Option<String>,
    #[serde(alias = "display_name")]
    display_name: Option<String>,
    #[serde(alias = "is_guest", alias = "guest")]
    is_guest: Option<bool>,
    properties: Option<Properties>,
}

pub async fn create(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    urls: Urls,
    body: web::Json<CreateUserBody>,
) -> Result<impl Responder, ApiError> {
    let body = body.into_inner();
    let input = NewUser {
        name: body.name,
        display_name: body.display_name,
        is_guest: body.is_guest,
        properties: body.properties,
    };
    let created = blocking(move || {
        Ok(user::create_user(state.ports.users.as_ref(), &state.ids, principal.application_id, input, now())?)
    })
    .await?;
    Ok(Hal(repr::user::user(&created, &urls)))
}

/// `HEAD /v1/users?name=`: 200 when the username exists, 404 otherwise.
pub async fn exists(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    query: QueryPairs,
) -> Result<HttpResponse, ApiError> {
    let name = query
        .get("name")
        .map(str::to_owned)
        .ok_or_else(|| ApiError::BadRequest("query parameter 'name' is required".into()))?;
    blocking(move || Ok(user::find_user_by_name(state.ports.users.as_ref(), principal.application_id, &name)?)).await?;
    Ok(HttpResponse::Ok().finish())
}

pub async fn get(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = blocking(move || Ok(user::get_user(state.ports.users.as_ref(), principal.application_id, id)?)).await?;
    Ok(Hal(repr::user::user(&found, &urls)))
}

pub async fn patch(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
    body: web::Json<Value>,
) -> Result<impl Responder, ApiError> {
    let patch = user_patch(body.into_inner())?;
    let patched =
        blocking(move || Ok(user::patch_user(state.ports.users.as_ref(), principal.application_id, id, patch, now())?))
            .await?;
    Ok(Hal(repr::user::user(&patched, &urls)))
}

/// Splits an RFC 7396 merge patch of `ChatUserPropertiesPatch` into a [`UserPatch`]. Members
/// that are read-only or unknown are refused rather than silently ignored.
fn user_patch(body: Value) -> Result<UserPatch, ApiError> {
    let Value::Object(members) = body else {
        return Err(ApiError::BadRequest("a merge patch of a user must be a JSON object".into()));
    };
    let mut patch = UserPatch::default();
    let mut errors = Vec::new();
    let invalid = |field: &str, message: &str| FieldError::new("user", field, FieldErrorCode::Invalid, message);
    for (key, value) in members {
        match (key.as_str(), value) {
            ("displayName" | "display_name", Value::String(s)) => patch.display_name = Some(s),
            ("displayName" | "display_name", Value::Null) => errors.push(FieldError::new(
                "user",
                "displayName",
                FieldErrorCode::MissingField,
                "displayName cannot be removed",
            )),
            ("displayName" | "display_name", _) => errors.push(invalid("displayName", "displayName must be a string")),
            ("isGuest" | "is_guest", Value::Bool(b)) => patch.is_guest = Some(b),
            ("isGuest" | "is_guest", _) => errors.push(invalid("isGuest", "isGuest must be true or false")),
            ("presence", Value::Object(presence)) => {
                for (field, value) in presence {
                    match (field.as_str(), value) {
                        ("status", Value::String(s)) => patch.presence_status = Some(s),
                        ("status", _) => errors.push(invalid("presence.status", "presence.status must be a string")),
                        (other, _) => {
                            errors.push(invalid(&format!("presence.{other}"), "this presence field cannot be changed"))
                        }
                    }
                }
            }
            ("presence", _) => errors.push(invalid("presence", "presence must be an object")),
            ("properties", value @ (Value::Object(_) | Value::Null)) => patch.properties = Some(value),
            ("properties", _) => errors.push(invalid("properties", "properties must be a JSON object or null")),
            (other, _) => errors.push(invalid(other, "this field cannot be changed with PATCH")),
        }
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(DomainError::Validation(errors).into())
    }
}

/// `DELETE /v1/users/{id}` answers with the application (spec 2.41.9).
pub async fn delete(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = blocking(move || {
        user::delete_user(state.ports.users.as_ref(), principal.application_id, id)?;
        Ok(roost_domain::application::get_application(state.ports.applications.as_ref(), principal.application_id)?)
    })
    .await?;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

fn secret_name(req: &HttpRequest) -> String {
    req.match_info().get("name").unwrap_or_default().to_owned()
}

/// `SecretResource`.
#[derive(serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    #[serde(default)]
    secret: Value,
}

pub async fn get_secret(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let secret =
        blocking(move || Ok(user::get_secret(state.ports.users.as_ref(), principal.application_id, id, &name)?))
            .await?;
    Ok(Hal(SecretBody { secret }))
}

pub async fn put_secret(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
    urls: Urls,
    body: web::Json<SecretBody>,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let secret = body.into_inner().secret;
    let owner = blocking(move || {
        Ok(user::put_secret(state.ports.users.as_ref(), principal.application_id, id, &name, secret, now())?)
    })
    .await?;
    Ok(Hal(repr::user::user(&owner, &urls)))
}

pub async fn delete_secret(
    state: web::Data<AppState>,
    Authenticated(principal): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let owner =
        blocking(move || Ok(user::delete_secret(state.ports.users.as_ref(), principal.application_id, id, &name)?))
            .await?;
    Ok(Hal(repr::user::user(&owner, &urls)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_split_by_field() {
        let patch =
            user_patch(json!({"displayName": "J", "presence": {"status": "BUSY"}, "properties": {"a": null}})).unwrap();
        assert_eq!(patch.display_name.as_deref(), Some("J"));
        assert_eq!(patch.presence_status.as_deref(), Some("BUSY"));
        assert_eq!(patch.properties, Some(json!({"a": null})));
        assert_eq!(user_patch(json!({"properties": null})).unwrap().properties, Some(Value::Null));
    }

    #[test]
    fn read_only_and_null_required_fields_are_refused() {
        for body in [json!({"name": "x"}), json!({"displayName": null}), json!({"isGuest": "yes"}), json!([1])] {
            assert!(user_patch(body.clone()).is_err(), "{body}");
        }
    }
}
