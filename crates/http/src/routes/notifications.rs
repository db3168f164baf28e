//! `GET /v1/users/{id}/notifications`, newest first.

use actix_web::Responder;

use crate::error::ApiError;
use crate::extract::{Authenticated, Domain, ListRequest, UserIdPath};
use crate::negotiate::Hal;
use crate::openapi::{CursorParams, NotificationPage, UserIdParam};
use crate::repr::chat::{cursor_page, Renderer};

#[utoipa::path(
    get,
    path = "/v1/users/{user_id}/notifications",
    operation_id = "list-user-notifications",
    tag = "users",
    summary = "List a user's notifications",
    params(UserIdParam, CursorParams),
    responses(
        (status = 200, description = "A page of notifications, newest first", body = NotificationPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn of_user(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(user): UserIdPath,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let request = list.cursor()?;
    let found = domain.run(move |s| s.notifications_of_user(&p, user, &request)).await?;
    let renderer = Renderer { urls: &list.urls, related: &found.related };
    Ok(Hal(cursor_page("notifications", &found.value, &list.cursor_links(), |n| renderer.notification(n))))
}
