//! `/v1/users…`: list, create, exists, get, merge-patch, delete, and user secrets.

use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::model::user::{NewUser, Secret, UserFilter};
use roost_domain::{Properties, UserId};
use serde::Deserialize;
use serde_json::Value;

use super::endpoint;
use crate::conditional::Preconditions;
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain, ListRequest, QueryPairs, UserIdPath};
use crate::negotiate::{negotiate, Hal};
use crate::openapi::{ApplicationResource, PageParams, UserFilterParams, UserIdParam, UserPage, UserResource};
use crate::repr;
use crate::state::AppState;
use crate::urls::Urls;

/// Routes under `/v1/users` (and the legacy `/v1/applications/{app_id}/users`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("").get(list).post(create).head(exists).delete(delete_many).patch(patch_many))
        .service(endpoint("/{user_id}").get(get).patch(patch).delete(delete))
        .service(endpoint("/{user_id}/channels").get(super::channels::of_user))
        .service(endpoint("/{user_id}/display-picture").post(super::files::display_picture))
        .service(endpoint("/{user_id}/messages").get(super::messages::of_user))
        .service(endpoint("/{user_id}/messages/unread/count").get(super::messages::unread_count))
        .service(endpoint("/{user_id}/notifications").get(super::notifications::of_user))
        .service(endpoint("/{user_id}/secrets/{name}").get(get_secret).put(put_secret).delete(delete_secret));
}

#[utoipa::path(
    get,
    path = "/v1/users",
    operation_id = "list-users",
    tag = "users",
    summary = "List users",
    description = "Sortable by `id`, `name`, `displayName`, `createdTime`.",
    params(PageParams, UserFilterParams),
    responses(
        (status = 200, description = "A page of users", body = UserPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn list(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let page = list.page()?;
    let unread = match list.query.get("unread") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!("query parameter 'unread' must be true or false, got '{other}'")))
        }
    };
    let filter = UserFilter {
        name: list.query.get("name").map(str::to_owned),
        properties: list.properties()?,
        unread,
        ids: None,
    };
    let users = domain.run(move |s| s.list_users(&p, &filter, &page)).await?;
    Ok(Hal(repr::user::user_page(&users, &list.urls, &list.page_links())))
}

/// A new user (ChatKitty's `CreatePersonChatUserResource`; snake_case spellings accepted too).
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CreatePersonChatUserResource)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserBody {
    /// The unique username (required: a request without it is a `ValidationError`).
    name: Option<String>,
    /// The name shown to other users (default: the username).
    #[serde(alias = "display_name")]
    display_name: Option<String>,
    /// Whether the user is a guest (default false).
    #[serde(alias = "is_guest", alias = "guest")]
    is_guest: Option<bool>,
    /// Custom data.
    #[schema(value_type = Option<Object>)]
    properties: Option<Properties>,
}

#[utoipa::path(
    post,
    path = "/v1/users",
    operation_id = "create-user",
    tag = "users",
    summary = "Create a user",
    request_body(content = CreateUserBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The new user", body = UserResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn create(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    body: Body<CreateUserBody>,
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
#[utoipa::path(
    head,
    path = "/v1/users",
    operation_id = "check-user-exists",
    tag = "users",
    summary = "Check a user exists",
    params(("name" = String, Query, description = "The username")),
    responses(
        (status = 200, description = "The user exists"),
        (status = 404, description = "No user has this username"),
    ),
    security(("oauth2" = [])),
)]
pub async fn exists(
    domain: Domain,
    Authenticated(p): Authenticated,
    query: QueryPairs,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let content_type = negotiate(&req)?.content_type;
    let name = query
        .get("name")
        .map(str::to_owned)
        .ok_or_else(|| ApiError::BadRequest("query parameter 'name' is required".into()))?;
    domain.run(move |s| s.find_user_by_name(&p, &name)).await?;
    Ok(HttpResponse::Ok().content_type(content_type).finish())
}

#[utoipa::path(
    get,
    path = "/v1/users/{user_id}",
    operation_id = "retrieve-user",
    tag = "users",
    summary = "Retrieve a user",
    params(UserIdParam),
    responses(
        (status = 200, description = "The user", body = UserResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn get(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let found = domain.run(move |s| s.get_user(&p, id)).await?;
    Ok(Hal(repr::user::user(&found, &urls)).modified_at(&found))
}

#[utoipa::path(
    patch,
    path = "/v1/users/{user_id}",
    operation_id = "update-user",
    tag = "users",
    summary = "Update a user",
    params(UserIdParam),
    request_body(description = "A JSON merge patch (RFC 7396) of the resource's properties", content((Object = "application/merge-patch+json"), (Object = "application/json+merge-patch"), (Object = "application/json"))),
    responses(
        (status = 200, description = "The updated user", body = UserResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn patch(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
    pre: Preconditions,
    body: Body<Value>,
) -> Result<impl Responder, ApiError> {
    let merge_patch = body.into_inner();
    let guard = pre.guard(&urls, repr::user::user);
    let patched = domain.run(move |s| s.patch_user(&p, id, merge_patch, guard.get())).await?;
    Ok(Hal(repr::user::user(&patched, &urls)).modified_at(&patched))
}

/// `DELETE /v1/users/{id}` answers with the application (spec 2.41.9).
#[utoipa::path(
    delete,
    path = "/v1/users/{user_id}",
    operation_id = "delete-user",
    tag = "users",
    summary = "Delete a user",
    params(UserIdParam),
    responses(
        (status = 200, description = "The user was deleted; the application", body = ApplicationResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn delete(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
    pre: Preconditions,
    state: web::Data<AppState>,
) -> Result<impl Responder, ApiError> {
    let guard = pre.guard(&urls, repr::user::user);
    let app = domain.run(move |s| s.delete_user(&p, id, guard.get())).await?;
    crate::file_cleanup::after_delete(&state).await;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

fn secret_name(req: &HttpRequest) -> String {
    req.match_info().get("name").unwrap_or_default().to_owned()
}

/// A user secret (`SecretResource`): any JSON value, kept for the user and never shown in
/// other resources.
#[derive(serde::Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SecretResource)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    /// The secret value (null when left out).
    #[serde(default)]
    secret: Value,
}

/// A secret as `GET` renders it (what a precondition on it compares with).
fn secret_body(secret: &Option<Secret>, _: &Urls) -> SecretBody {
    SecretBody { secret: secret.as_ref().map(|s| s.value.clone()).unwrap_or_default() }
}

#[utoipa::path(
    get,
    path = "/v1/users/{user_id}/secrets/{name}",
    operation_id = "retrieve-user-secret",
    tag = "users",
    summary = "Retrieve a user secret",
    params(UserIdParam, ("name" = String, Path, description = "The secret's name")),
    responses(
        (status = 200, description = "The secret", body = SecretBody, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn get_secret(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let secret = domain.run(move |s| s.get_secret(&p, id, &name)).await?;
    Ok(Hal(SecretBody { secret: secret.value.clone() }).modified(Some(secret.updated_time)))
}

#[utoipa::path(
    put,
    path = "/v1/users/{user_id}/secrets/{name}",
    operation_id = "set-user-secret",
    tag = "users",
    summary = "Set a user secret",
    params(UserIdParam, ("name" = String, Path, description = "The secret's name")),
    request_body(content = SecretBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The user", body = UserResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn put_secret(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
    urls: Urls,
    pre: Preconditions,
    body: Body<SecretBody>,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let secret = body.into_inner().secret;
    let guard = pre.guard(&urls, secret_body);
    let owner = domain.run(move |s| s.put_secret(&p, id, &name, secret, guard.get())).await?;
    Ok(without_validator(Hal(repr::user::user(&owner, &urls)).respond_to(&req)))
}

/// A secret's writes answer with its user: that body's `ETag` is not the secret's, and an
/// answer must not carry a validator of another resource (RFC 9110 §9.3.4).
fn without_validator(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().remove(actix_web::http::header::ETAG);
    response
}

#[utoipa::path(
    delete,
    path = "/v1/users/{user_id}/secrets/{name}",
    operation_id = "remove-user-secret",
    tag = "users",
    summary = "Remove a user secret",
    params(UserIdParam, ("name" = String, Path, description = "The secret's name")),
    responses(
        (status = 200, description = "The user", body = UserResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn delete_secret(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    req: HttpRequest,
    urls: Urls,
    pre: Preconditions,
) -> Result<impl Responder, ApiError> {
    let name = secret_name(&req);
    let guard = pre.guard(&urls, secret_body);
    let owner = domain.run(move |s| s.delete_secret(&p, id, &name, guard.get())).await?;
    Ok(without_validator(Hal(repr::user::user(&owner, &urls)).respond_to(&req)))
}

/// `DELETE /v1/users?ids=1,2,3`: the users named, in one transaction, all or none (an unknown or
/// another application's id is a 404 naming it, and nothing is deleted); at most 100 ids.
/// Answers with the application, as a single delete does.
#[utoipa::path(
    delete,
    path = "/v1/users",
    operation_id = "delete-users",
    tag = "users",
    summary = "Delete several users at once",
    params(("ids" = String, Query, description = "Comma-separated ids (or `ids` repeated), 1 to 100")),
    responses(
        (status = 200, description = "Every one was deleted; the application", body = ApplicationResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn delete_many(
    domain: Domain,
    Authenticated(p): Authenticated,
    query: QueryPairs,
    urls: Urls,
    pre: Preconditions,
    state: web::Data<AppState>,
) -> Result<impl Responder, ApiError> {
    pre.without_representation()?;
    let ids: Vec<UserId> = query.required_ids("DELETE /v1/users")?.into_iter().map(UserId).collect();
    let app = domain.run(move |s| s.delete_users(&p, &ids)).await?;
    crate::file_cleanup::after_delete(&state).await;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

/// `PATCH /v1/users?ids=1,2,3`: one merge patch applied to each user named, in one
/// transaction, all or none (an unknown or another application's id is a 404 naming it); at most
/// 100 ids. Answers with the users, updated, as one page.
#[utoipa::path(
    patch,
    path = "/v1/users",
    operation_id = "update-users",
    tag = "users",
    summary = "Update several users at once",
    params(("ids" = String, Query, description = "Comma-separated ids (or `ids` repeated), 1 to 100")),
    request_body(description = "A JSON merge patch (RFC 7396) applied to each", content((Object = "application/merge-patch+json"), (Object = "application/json+merge-patch"), (Object = "application/json"))),
    responses(
        (status = 200, description = "Every one, updated, in the order of `ids`", body = UserPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn patch_many(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
    pre: Preconditions,
    body: Body<Value>,
) -> Result<impl Responder, ApiError> {
    pre.without_representation()?;
    let ids: Vec<UserId> = list.query.required_ids("PATCH /v1/users")?.into_iter().map(UserId).collect();
    let merge_patch = body.into_inner();
    let users = domain.run(move |s| s.patch_users(&p, &ids, merge_patch)).await?;
    Ok(Hal(repr::user::user_page(&users, &list.urls, &list.page_links())))
}
