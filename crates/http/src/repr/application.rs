use roost_domain::model::application::Application;
use roost_domain::Properties;
use roost_hal::{Link, Links, Resource};
use serde::Serialize;

use super::iso;
use crate::error::ApiError;
use crate::urls::Urls;

/// The application (ChatKitty's `ApplicationResource` without links).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationProperties)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRepr {
    id: i64,
    key: String,
    name: String,
    #[schema(format = DateTime)]
    created_time: String,
    #[schema(value_type = Object)]
    properties: Properties,
}

/// The application with its links: the entry point to every collection.
pub fn application(app: &Application, urls: &Urls) -> Result<Resource<ApplicationRepr>, ApiError> {
    let links = Links::new()
        .with_href("self", urls.v1("/application"))
        .with_href("users", urls.v1("/users"))
        .with_href("channels", urls.v1("/channels"))
        .with_href("messages", urls.v1("/messages"))
        .with_href("settings", urls.v1("/application/settings"))
        .with("find:users", template(urls.v1("/users{?page,size,sort,name,properties}"))?);
    Ok(Resource::new(
        ApplicationRepr {
            id: app.id.0,
            key: app.key.clone(),
            name: app.name.clone(),
            created_time: iso(app.created_time),
            properties: app.properties.clone(),
        },
        links,
    ))
}

pub fn template(href: String) -> Result<Link, ApiError> {
    Link::template(href).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The application's settings (`ApplicationSettingsResource` without links).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationSettingsProperties)]
#[serde(rename_all = "camelCase")]
pub struct SettingsRepr {
    #[schema(value_type = crate::openapi::Toggle)]
    guest_users: roost_domain::model::application::Toggle,
    #[schema(value_type = crate::openapi::Toggle)]
    user_created_channels: roost_domain::model::application::Toggle,
    /// Whether end users may sign up for an account (`POST /v1/accounts`; Roost's, beside the
    /// spec's two).
    #[schema(value_type = crate::openapi::Toggle)]
    user_sign_up: roost_domain::model::application::Toggle,
}

/// The application's settings.
pub fn settings(app: &Application, urls: &Urls) -> Resource<SettingsRepr> {
    Resource::new(
        SettingsRepr {
            guest_users: app.settings.guest_users,
            user_created_channels: app.settings.user_created_channels,
            user_sign_up: app.settings.user_sign_up,
        },
        Links::new()
            .with_href("self", urls.v1("/application/settings"))
            .with_href("application", urls.v1("/application")),
    )
}

/// The API root (`GET /v1`).
pub fn root(urls: &Urls) -> Resource<serde_json::Map<String, serde_json::Value>> {
    Resource::new(
        serde_json::Map::new(),
        Links::new().with_href("self", urls.v1("")).with_href("application", urls.v1("/application")),
    )
}
