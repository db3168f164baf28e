//! `GET /v1`, `GET /v1/application`, `GET`/`PUT /v1/application/settings`.

use actix_web::{web, Responder};
use roost_domain::model::application::{ApplicationSettings, Toggle};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{Authenticated, Domain};
use crate::negotiate::Hal;
use crate::repr;
use crate::urls::Urls;

pub async fn root(_: Authenticated, urls: Urls) -> impl Responder {
    Hal(repr::application::root(&urls))
}

pub async fn get(domain: Domain, Authenticated(p): Authenticated, urls: Urls) -> Result<impl Responder, ApiError> {
    let app = domain.run(move |s| s.get_application(&p)).await?;
    Ok(Hal(repr::application::application(&app, &urls)?))
}

pub async fn get_settings(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
) -> Result<impl Responder, ApiError> {
    let app = domain.run(move |s| s.get_application(&p)).await?;
    Ok(Hal(repr::application::settings(&app, &urls)))
}

/// `ApplicationSettingsProperties`: both toggles are required (a PUT replaces the settings).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsBody {
    #[serde(alias = "guest_users")]
    guest_users: Toggle,
    #[serde(alias = "user_created_channels")]
    user_created_channels: Toggle,
}

pub async fn put_settings(
    domain: Domain,
    Authenticated(p): Authenticated,
    urls: Urls,
    body: web::Json<SettingsBody>,
) -> Result<impl Responder, ApiError> {
    let settings =
        ApplicationSettings { guest_users: body.guest_users, user_created_channels: body.user_created_channels };
    let app = domain.run(move |s| s.replace_settings(&p, settings)).await?;
    Ok(Hal(repr::application::settings(&app, &urls)))
}
