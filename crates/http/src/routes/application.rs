//! `GET /v1`, `GET /v1/application`, `GET`/`PUT /v1/application/settings`.

use actix_web::Responder;
use roost_domain::model::application::{SettingsUpdate, Toggle};
use serde::Deserialize;

use crate::conditional::Preconditions;
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain};
use crate::negotiate::Hal;
use crate::openapi::{ApiRoot, ApplicationResource, SettingsResource};
use crate::repr;
use crate::urls::Urls;

#[utoipa::path(
    get,
    path = "/v1",
    operation_id = "retrieve-api-root",
    tag = "application",
    summary = "The API root",
    responses(
        (status = 200, description = "Links to the application", body = ApiRoot, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn root(_: Authenticated, urls: Urls) -> impl Responder {
    Hal(repr::application::root(&urls))
}

#[utoipa::path(
    get,
    path = "/v1/application",
    operation_id = "retrieve-authenticated-application",
    tag = "application",
    summary = "Retrieve the authenticated application",
    responses(
        (status = 200, description = "The application", body = ApplicationResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn get(domain: Domain, Authenticated(p): Authenticated, urls: Urls) -> Result<impl Responder, ApiError> {
    let app = domain.run(move |s| s.get_application(&p)).await?;
    Ok(Hal(repr::application::application(&app, &urls)?).modified_at(&app))
}

#[utoipa::path(
    get,
    path = "/v1/application/settings",
    operation_id = "retrieve-authenticated-application-settings",
    tag = "application",
    summary = "Retrieve the application's settings",
    responses(
        (status = 200, description = "The settings", body = SettingsResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn get_settings(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = domain.run(move |s| s.application_settings(&p)).await?;
    Ok(Hal(repr::application::settings(&app, &urls)).modified_at(&app))
}

/// New application settings (ChatKitty's `ApplicationSettingsProperties`). A setting left out
/// keeps its value: older clients send only the settings their spec had.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ApplicationSettingsUpdate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsBody {
    /// Whether end users may connect as guests.
    #[serde(alias = "guest_users")]
    #[schema(value_type = Option<crate::openapi::Toggle>)]
    guest_users: Option<Toggle>,
    /// Whether end users may create channels themselves.
    #[serde(alias = "user_created_channels")]
    #[schema(value_type = Option<crate::openapi::Toggle>)]
    user_created_channels: Option<Toggle>,
    /// Whether end users may sign up for an account (`POST /v1/accounts`).
    #[serde(alias = "user_sign_up")]
    #[schema(value_type = Option<crate::openapi::Toggle>)]
    user_sign_up: Option<Toggle>,
}

#[utoipa::path(
    put,
    path = "/v1/application/settings",
    operation_id = "update-authenticated-application-settings",
    tag = "application",
    summary = "Replace the application's settings",
    request_body(content = SettingsBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The new settings", body = SettingsResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn put_settings(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    pre: Preconditions,
    body: Body<SettingsBody>,
) -> Result<impl Responder, ApiError> {
    let update = SettingsUpdate {
        guest_users: body.guest_users,
        user_created_channels: body.user_created_channels,
        user_sign_up: body.user_sign_up,
    };
    let guard = pre.guard(&urls, repr::application::settings);
    let app = domain.run(move |s| s.replace_settings(&p, update, guard.get())).await?;
    Ok(Hal(repr::application::settings(&app, &urls)).modified_at(&app))
}

/// `GET /v1/application/message-read-receipt-summaries` (newest official client): per channel
/// and member, the messages the member has not read; only pairs with some, by channel then user.
#[utoipa::path(
    get,
    path = "/v1/application/message-read-receipt-summaries",
    operation_id = "list-message-read-receipt-summaries",
    tag = "application",
    summary = "List unread message counts per channel and member",
    params(crate::openapi::PageParams),
    responses(
        (status = 200, description = "A page of summaries", body = crate::openapi::SummaryPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn read_receipt_summaries(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: crate::extract::ListRequest,
) -> Result<impl Responder, ApiError> {
    let page: roost_domain::model::page::PageRequest<roost_domain::model::user::UserSort> = list.page()?;
    let (number, size) = (page.number, page.size);
    let summaries = domain.run(move |s| s.read_receipt_summaries(&p, number, size)).await?;
    let renderer = repr::chat::Renderer { urls: &list.urls, related: &summaries.related };
    let rendered = repr::numbered_page("summaries", &summaries.value, &list.page_links(), |s| renderer.summary(s));
    Ok(Hal(rendered))
}
