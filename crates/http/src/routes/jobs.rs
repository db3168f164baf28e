//! `/v1/imports/…` and `/v1/jobs…`: imports accepted as jobs (202), run in the background.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_domain::model::job::JobType;
use roost_domain::{ChannelId, DomainError};

use super::endpoint;
use crate::error::ApiError;
use crate::extract::{Authenticated, ChannelIdPath, Domain, ListRequest};
use crate::negotiate::Hal;
use crate::openapi::{ChannelIdParam, JobPage, JobResource, PageParams};
use crate::repr::jobs::job;
use crate::repr::numbered_page;
use crate::state::AppState;
use crate::upload;
use crate::urls::Urls;

/// Routes of imports and jobs.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(endpoint("/v1/imports/users").post(import_users))
        .service(endpoint("/v1/imports/channels").post(import_channels))
        .service(endpoint("/v1/imports/channels/{channel_id}/members").post(import_members))
        .service(endpoint("/v1/imports/messages").post(import_messages))
        .service(endpoint("/v1/analytics/messages").post(export_messages))
        .service(endpoint("/v1/analytics/users").post(export_users))
        .service(endpoint("/v1/jobs").get(list))
        .service(endpoint("/v1/jobs/{job_id}").get(get));
}

/// Stores the records sent and accepts the job: 202 with the pending job.
async fn accept(
    state: web::Data<AppState>,
    domain: Domain,
    req: HttpRequest,
    payload: web::Payload,
    principal: roost_domain::Principal,
    job_type: JobType,
    channel_id: Option<ChannelId>,
) -> Result<HttpResponse, ApiError> {
    // Refused before a byte of the file is stored.
    let checked = principal.clone();
    domain.run(move |s| s.check_import(&checked, channel_id)).await?;
    let files = upload::store(&state)?;
    let key = upload::import_input(req.headers(), payload, files, state.settings.imports_max_bytes).await?;
    let input = key.clone();
    let accepted = domain.run(move |s| s.accept_import(&principal, job_type, channel_id, &input)).await;
    let accepted = match accepted {
        Ok(accepted) => accepted,
        Err(error) => {
            upload::forget_upload(files, &key).await;
            return Err(error);
        }
    };
    state.job_wake.notify_one();
    Ok(accepted_response(&req, &accepted))
}

/// 202 with the job just accepted.
fn accepted_response(req: &HttpRequest, accepted: &roost_domain::model::job::Job) -> HttpResponse {
    let mut response = Hal(job(accepted, &Urls::of(req))).respond_to(req);
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

#[utoipa::path(
    post,
    path = "/v1/analytics/messages",
    operation_id = "export-message-analytics",
    tag = "analytics",
    summary = "Export message analytics",
    description = "Every message of the application, newest first, as a CSV file (RFC 4180: `id`, `type`, `channelId`, \
`channelName`, `userId`, `username`, `body`, `groupTag`, `parentId`, `createdTime`). Runs as a job; once it has finished, \
its `file` is the CSV's download URL.",
    responses((status = 202, description = "Export job accepted", body = JobResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn export_messages(
    state: web::Data<AppState>,
    domain: Domain,
    req: HttpRequest,
    Authenticated(p): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let accepted = domain.run(move |s| s.accept_message_export(&p)).await?;
    state.job_wake.notify_one();
    Ok(accepted_response(&req, &accepted))
}

#[utoipa::path(
    post,
    path = "/v1/analytics/users",
    operation_id = "export-user-analytics",
    tag = "analytics",
    summary = "Export user analytics",
    description = "Every user of the application, by id, as a CSV file (RFC 4180: `id`, `name`, `displayName`, \
`isGuest`, `online`, `createdTime`, `properties` as JSON). Runs as a job; once it has finished, its `file` is the CSV's \
download URL. Its `type` is `USER_IMPORT`, as in the spec's example (the spec's enum has no user export); its `kind` is \
`USER_ANALYTICS_EXPORT`.",
    responses((status = 202, description = "Export job accepted", body = JobResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn export_users(
    state: web::Data<AppState>,
    domain: Domain,
    req: HttpRequest,
    Authenticated(p): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let accepted = domain.run(move |s| s.accept_user_export(&p)).await?;
    state.job_wake.notify_one();
    Ok(accepted_response(&req, &accepted))
}

/// The request body of an import: a JSON array of records, as the `file` part of a multipart
/// body (what the spec and the official clients send) or as the whole body.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the request body")]
pub struct ImportFile {
    /// A JSON array file of records.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(
    post,
    path = "/v1/imports/users",
    operation_id = "import-users",
    tag = "imports",
    summary = "Import users",
    description = "A JSON array of users (`ChatUserImport`, plus `createdTime`), as the `file` part of a multipart body or as \
a JSON body. Runs as a job: a user whose name exists already is kept as it is.",
    request_body(content((ImportFile = "multipart/form-data"), (Vec<Object> = "application/json"))),
    responses((status = 202, description = "Import job accepted", body = JobResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn import_users(
    state: web::Data<AppState>,
    domain: Domain,
    req: HttpRequest,
    payload: web::Payload,
    Authenticated(p): Authenticated,
) -> Result<HttpResponse, ApiError> {
    accept(state, domain, req, payload, p, JobType::UserImport, None).await
}

#[utoipa::path(
    post,
    path = "/v1/imports/channels",
    operation_id = "import-channels",
    tag = "imports",
    summary = "Import channels",
    description = "A JSON array of channels (`ChannelImport`: `PUBLIC`, `PRIVATE` or `DIRECT`, members and creator by user \
name, plus `createdTime`). Runs as a job: a channel whose name exists already, or a direct channel of the same members, \
is kept as it is.",
    request_body(content((ImportFile = "multipart/form-data"), (Vec<Object> = "application/json"))),
    responses((status = 202, description = "Import job accepted", body = JobResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn import_channels(
    state: web::Data<AppState>,
    domain: Domain,
    req: HttpRequest,
    payload: web::Payload,
    Authenticated(p): Authenticated,
) -> Result<HttpResponse, ApiError> {
    accept(state, domain, req, payload, p, JobType::ChannelImport, None).await
}

#[utoipa::path(
    post,
    path = "/v1/imports/channels/{channel_id}/members",
    operation_id = "import-channel-members",
    tag = "imports",
    summary = "Import a channel's members",
    description = "A JSON array of `{\"username\"}` (`ChannelMembershipImport`). Runs as a job; a member already there \
stays one.",
    params(ChannelIdParam),
    request_body(content((ImportFile = "multipart/form-data"), (Vec<Object> = "application/json"))),
    responses((status = 202, description = "Import job accepted", body = JobResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn import_members(
    state: web::Data<AppState>,
    domain: Domain,
    req: HttpRequest,
    payload: web::Payload,
    Authenticated(p): Authenticated,
    ChannelIdPath(id): ChannelIdPath,
) -> Result<HttpResponse, ApiError> {
    accept(state, domain, req, payload, p, JobType::ChannelMembersImport, Some(id)).await
}

#[utoipa::path(
    post,
    path = "/v1/imports/messages",
    operation_id = "import-messages",
    tag = "imports",
    summary = "Import messages",
    description = "A JSON array of messages (`MessageImport`: `TEXT` with its sender as `user`, or `SYSTEM_TEXT`), plus \
Roost's `createdTime` (the original time, which orders the message in its channel's history), `parent` (the \
`idempotencyKey` of the message replied to, anywhere in the file) and `channel` (the channel's name, instead of \
`channelId`; a direct channel by `channelMembers`). Runs as a job: a message whose `idempotencyKey` was imported \
already is kept as it is. An import records no events.",
    request_body(content((ImportFile = "multipart/form-data"), (Vec<Object> = "application/json"))),
    responses((status = 202, description = "Import job accepted", body = JobResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn import_messages(
    state: web::Data<AppState>,
    domain: Domain,
    req: HttpRequest,
    payload: web::Payload,
    Authenticated(p): Authenticated,
) -> Result<HttpResponse, ApiError> {
    accept(state, domain, req, payload, p, JobType::MessageImport, None).await
}

#[utoipa::path(
    get,
    path = "/v1/jobs",
    operation_id = "list-jobs",
    tag = "jobs",
    summary = "List jobs",
    description = "The application's imports and exports, newest first; `running=true` keeps those pending or running, \
`running=false` those finished or failed.",
    params(PageParams, ("running" = Option<bool>, Query, description = "Filters for jobs currently running")),
    responses((status = 200, description = "A page of jobs", body = JobPage, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn list(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let (number, size) = list.numbered()?;
    let running = match list.query.get("running") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(DomainError::InvalidArgument(format!("running must be true or false, not '{other}'")).into())
        }
    };
    let found = domain.run(move |s| s.jobs(&p, running, number, size)).await?;
    Ok(Hal(numbered_page("jobs", &found, &list.page_links(), |j| job(j, &list.urls))))
}

#[utoipa::path(
    get,
    path = "/v1/jobs/{job_id}",
    operation_id = "retrieve-job",
    tag = "jobs",
    summary = "Retrieve a job",
    params(("job_id" = i64, Path, description = "Job ID")),
    responses((status = 200, description = "The job", body = JobResource, content_type = "application/hal+json")),
    security(("oauth2" = [])),
)]
pub async fn get(
    domain: Domain,
    Authenticated(p): Authenticated,
    req: HttpRequest,
) -> Result<impl Responder, ApiError> {
    let id: i64 = req
        .match_info()
        .get("job_id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| ApiError::from(DomainError::NotFound("job")))?;
    let found = domain.run(move |s| s.job(&p, id)).await?;
    Ok(Hal(job(&found, &Urls::of(&req))))
}
