//! `/v1/users…`: list, create, exists, get, merge-patch, delete, and user secrets.

use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::model::user::{NewUser, UserFilter};
use roost_domain::Properties;
use serde::Deserialize;
use serde_json::Value;

use super::endpoint;
use crate::error::ApiError;
use crate::extract::{Authenticated, Domain, ListRequest, QueryPairs, UserIdPath};
use crate::negotiate::{negotiate, Hal};
use crate::repr;
use crate::urls::Urls;

/// Routes under `/v1/users` (and the legacy `/v1/applications/{app_id}/users`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("").get(list).post(create).head(exists))
        .service(endpoint("/{user_id}").get(get).patch(patch).delete(delete))
        .service(endpoint("/{user_id}/channels").get(super::channels::of_user))
        .service(endpoint("/{user_id}/messages").get(super::messages::of_user))
        .service(endpoint("/{user_id}/notifications").get(super::notifications::of_user))
        .service(endpoint("/{user_id}/secrets/{name}").get(get_secret).put(put_secret).delete(delete_secret));
}

pub async fn list(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let page = list.page()?;
    let filter = UserFilter { name: list.query.get("name").map(str::to_owned), properties: list.properties()? };
    let users = domain.run(move |s| s.list_users(&p, &filter, &page)).await?;
    Ok(Hal(repr::user::user_page(&users, &list.urls, &list.page_links())))
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
    domain: Domain,
    Authenticated(p): Authenticated,
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
    let created = domain.run(move |s| s.create_user(&p, input)).await?;
    Ok(Hal(repr::user::user(&created, &urls)))
}

/// `HEAD /v1/users?name=`: 200 when the username exists, 404 otherwise.
/// `HEAD /v1/users?name=` (`checkUserExists`): 200 or 404, with the headers a `GET` would have.
pub async fn exists(
    domain: Domain,
    Authenticated(p): Authenticated,
    query: QueryPairs,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let content_type = negotiate(&req)?;
    let name = query
        .get("name")
        .map(str::to_owned)
        .ok_or_else(|| ApiError::BadRequest("query parameter 'name' is required".into()))?;
    domain.run(move |s| s.find_user_by_name(&p, &name)).await?;
    Ok(HttpResponse::Ok().content_type(content_type).finish())
}

pub async fn get(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = domain.run(move |s| s.get_user(&p, id)).await?;
    Ok(Hal(repr::user::user(&found, &urls)))
}

pub async fn patch(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
    body: web::Json<Value>,
) -> Result<impl Responder, ApiError> {
    let merge_patch = body.into_inner();
    let patched = domain.run(move |s| s.patch_user(&p, id, merge_patch)).await?;
    Ok(Hal(repr::user::user(&patched, &urls)))
}

/// `DELETE /v1/users/{id}` answers with the application (spec 2.41.9).
pub async fn delete(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = domain.run(move |s| s.delete_user(&p, id)).await?;
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
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let secret = domain.run(move |s| s.get_secret(&p, id, &name)).await?;
    Ok(Hal(SecretBody { secret }))
}

pub async fn put_secret(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
    urls: Urls,
    body: web::Json<SecretBody>,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let secret = body.into_inner().secret;
    let owner = domain.run(move |s| s.put_secret(&p, id, &name, secret)).await?;
    Ok(Hal(repr::user::user(&owner, &urls)))
}

pub async fn delete_secret(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let owner = domain.run(move |s| s.delete_secret(&p, id, &name)).await?;
    Ok(Hal(repr::user::user(&owner, &urls)))
}
