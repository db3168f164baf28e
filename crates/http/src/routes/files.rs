//! Hosted files: `GET /v1/files/{key}` (no token: the key, 128 random bits, is the secret) and
//! `POST /v1/users/{id}/display-picture` (an upload, or an external reference).

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, Responder};
use futures_util::TryStreamExt;
use roost_domain::service::NewPicture;

use crate::conditional::{Conditions, Outcome, Validators};
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain, UserIdPath};
use crate::file_cleanup;
use crate::negotiate::Hal;
use crate::openapi::{UserIdParam, UserResource};
use crate::routes::bodies::ExternalFileBody;
use crate::upload::{disposition, is_multipart, requested_range, store, upload_picture, Pending};
use crate::urls::Urls;
use crate::{repr, state::AppState};

#[utoipa::path(
    get,
    path = "/v1/files/{key}",
    operation_id = "download-file",
    tag = "files",
    summary = "Download a hosted file",
    description = "No token: the key (128 random bits) is the secret. Strong `ETag` (the bytes' SHA-256), \
`If-None-Match` → 304, one `Range` → 206 (416 outside the file); types a browser would run are sent as attachments.",
    params(("key" = String, Path, description = "The file's key, from its URL")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 206, description = "A range of the file", content_type = "application/octet-stream"),
        (status = 304, description = "Not modified"),
        (status = 416, description = "The range lies outside the file"),
    ),
)]
pub async fn download(domain: Domain, req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let key = req.match_info().get("key").unwrap_or_default().to_owned();
    let file = domain.run(move |s| s.public_file(&key)).await?;
    // The checksum identifies the bytes: a strong tag (RFC 9110 §8.8.3).
    let etag = format!("\"{}\"", &file.checksum[..file.checksum.len().min(32)]);
    let validators = Validators { etag: Some(&etag), last_modified: Some(file.created_time) };
    let not_modified = match Conditions::of(&req).evaluate(&validators, true) {
        Outcome::Proceed => false,
        Outcome::NotModified => true,
        Outcome::Failed => return Err(roost_domain::DomainError::PreconditionFailed.into()),
    };
    let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag.as_str()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::CONTENT_DISPOSITION, disposition(&file)));
    if not_modified {
        return Ok(response.finish());
    }
    let range = requested_range(req.headers(), file.size)?;
    let download = store(&state)?.download(&file.key, range.clone()).await?;
    if range.is_some() {
        response.status(StatusCode::PARTIAL_CONTENT).insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", download.range.start, download.range.end.saturating_sub(1), download.size),
        ));
    }
    let content_type =
        HeaderValue::from_str(&file.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let length = download.range.end - download.range.start;
    let bytes = download.bytes.map_err(|e| -> Box<dyn std::error::Error> { Box::new(e) });
    Ok(response.insert_header((header::CONTENT_TYPE, content_type)).body(SizedStream::new(length, bytes)))
}

#[utoipa::path(
    post,
    path = "/v1/users/{user_id}/display-picture",
    operation_id = "update-user-display-picture",
    tag = "users",
    summary = "Set a user's display picture",
    description = "`multipart/form-data` with the image in the part `file` (PNG, JPEG, GIF or WebP, matching its \
declared type; at most `ROOST_PICTURE_MAX_BYTES`), or an external reference as JSON.",
    params(UserIdParam),
    request_body(content((ExternalFileBody = "application/json"), (Object = "multipart/form-data"))),
    responses(
        (status = 200, description = "The user, with its new picture", body = UserResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn display_picture(
    domain: Domain,
    Authenticated(p): Authenticated,
    UserIdPath(id): UserIdPath,
    urls: Urls,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let (picture, upload) = if is_multipart(req.headers()) {
        // The user must exist before any byte is stored.
        let principal = p.clone();
        domain.run(move |s| s.get_user(&principal, id)).await?;
        let files = store(&state)?;
        let limit = state.settings.picture_max_bytes;
        let stored = upload_picture(req.headers(), payload, files, p.application_id(), limit).await?;
        let upload = Pending::of(files, &stored.key);
        (NewPicture::Hosted(stored), upload)
    } else {
        let mut payload = payload.into_inner();
        let body = Body::<ExternalFileBody>::from_request(&req, &mut payload).await?.into_inner();
        (NewPicture::External { url: body.url().to_owned() }, Pending::none())
    };
    let user = upload.settle(domain.run(move |s| s.set_display_picture(&p, id, picture)).await).await?;
    file_cleanup::after_delete(&state).await;
    Ok(Hal(repr::user::user(&user, &urls)).respond_to(&req))
}
