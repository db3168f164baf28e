//! End users' own API (the Kinglet seed): sign-up, activation, login, logout and `GET /v1/me`.
//! The calls that check or hash a password run on the bounded hashing threads, as client secret
//! checks do; their rules live in the domain's use cases.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_auth::token::{hash_token, issue_secret, MAIL_TOKEN_PREFIX, SESSION_TOKEN_PREFIX};
use roost_domain::model::account::{Login, NewAccount, Session, SessionState};
use roost_domain::model::user::User;
use roost_domain::service::SignUpContext;
use roost_domain::{DomainError, StoreError};
use serde::{Deserialize, Serialize};

use crate::connection::hashing_source;
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain, ListRequest};
use crate::hashing::Refused;
use crate::negotiate::Hal;
use crate::openapi::{PageParams, UserResource, UserSessionPage};
use crate::repr::numbered_page;
use crate::repr::user::{own_account, user, user_session, user_state, OwnAccountRepr, UserRepr};
use crate::state::AppState;
use crate::urls::Urls;

/// A user's own account with its links.
pub(crate) type OwnAccountResource = crate::openapi::HalResource<OwnAccountRepr>;

/// The header an end-user call may name its application's public key in, instead of `key`.
const API_KEY_HEADER: &str = "x-api-key";

/// Routes of end users' own API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use super::endpoint;
    cfg.service(endpoint("/v1/accounts").post(sign_up))
        .service(endpoint("/v1/accounts/activate").post(activate))
        .service(endpoint("/v1/accounts/activate/{token}").get(activate_link))
        .service(endpoint("/v1/sessions").post(log_in))
        .service(endpoint("/v1/sessions/current").delete(log_out))
        .service(endpoint("/v1/me").get(me).patch(super::account_security::patch_me))
        .service(endpoint("/v1/me/password").put(super::account_security::change_password))
        .service(endpoint("/v1/accounts/password-reset").post(super::account_security::request_reset))
        .service(endpoint("/v1/accounts/password-reset/{token}").post(super::account_security::reset))
        .service(endpoint("/v1/user-sessions").get(list_sessions));
}

/// The application's public key: the body's `key`, else the `X-Api-Key` header.
pub(crate) fn application_key(req: &HttpRequest, body_key: Option<String>) -> String {
    body_key
        .or_else(|| req.headers().get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned))
        .unwrap_or_default()
}

/// Runs `job` on the hashing threads, behind their bounded queue.
pub(crate) async fn hashing<T: Send + 'static>(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    job: impl FnOnce(&AppState) -> Result<T, DomainError> + Send + 'static,
) -> Result<T, ApiError> {
    let (address, gone) = hashing_source(req);
    let running = state.clone();
    let result = state.hashing.run(address, gone, move || job(&running)).await.map_err(|refused| match refused {
        Refused::Full | Refused::Expired | Refused::ClientGone => ApiError::Domain(DomainError::Store(
            StoreError::Unavailable("too many password checks are queued; retry shortly".into()),
        )),
        Refused::Lost => ApiError::Internal("a hashing task panicked".into()),
    })?;
    Ok(result?)
}

/// A sign-up (`POST /v1/accounts`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignUpBody {
    /// The application's public key (`GET /v1/application`); or the `X-Api-Key` header.
    key: Option<String>,
    /// The user name.
    username: String,
    /// Where the activation token is mailed.
    email: String,
    /// At least `ROOST_PASSWORD_MIN_LENGTH` characters, not containing the user name or email.
    password: String,
    /// The shown name (the user name when left out).
    #[serde(alias = "display_name")]
    display_name: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/accounts",
    operation_id = "sign-up",
    tag = "accounts",
    summary = "Sign up for an account (when the application's userSignUp is ENABLED)",
    description = "No token: the body's `key` (or `X-Api-Key`) names the application. The account cannot log in \
until the token mailed to its email is used (`POST /v1/accounts/activate`).",
    request_body(content = SignUpBody, content_type = "application/json"),
    responses(
        (status = 201, description = "The new user, not activated yet", body = UserResource, content_type = "application/hal+json"),
    ),
    security(()),
)]
pub async fn sign_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    urls: Urls,
    body: Body<SignUpBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = NewAccount {
        key: application_key(&req, body.key),
        username: body.username,
        email: body.email,
        password: body.password,
        display_name: body.display_name,
    };
    let activation = issue_secret(MAIL_TOKEN_PREFIX);
    let created = hashing(&state, &req, move |state| {
        let context = SignUpContext {
            hasher: &**state.auth.hasher(),
            rules: state.settings.accounts,
            activation: &activation,
            public_url: state.settings.public_url.as_deref(),
        };
        state.service.sign_up(input, context)
    })
    .await?;
    state.mail_wake.notify_one();
    let mut response = Hal(user(&created, &urls)).respond_to(&req);
    *response.status_mut() = actix_web::http::StatusCode::CREATED;
    Ok(response)
}

/// An activation (`POST /v1/accounts/activate`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateBody {
    /// The token mailed at sign-up.
    token: String,
}

#[utoipa::path(
    post,
    path = "/v1/accounts/activate",
    operation_id = "activate-account",
    tag = "accounts",
    summary = "Activate an account with the token mailed at sign-up",
    description = "No token needed: the single-use activation token (valid 24 hours) is the credential.",
    request_body(content = ActivateBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The activated user", body = UserResource, content_type = "application/hal+json"),
    ),
    security(()),
)]
pub async fn activate(domain: Domain, urls: Urls, body: Body<ActivateBody>) -> Result<impl Responder, ApiError> {
    let token_hash = hash_token(&body.into_inner().token);
    let activated = domain.run(move |s| s.activate_account(&token_hash)).await?;
    Ok(Hal(user(&activated, &urls)))
}

#[utoipa::path(
    get,
    path = "/v1/accounts/activate/{token}",
    operation_id = "activate-account-link",
    tag = "accounts",
    summary = "Activate an account from the link mailed at sign-up",
    params(("token" = String, Path, description = "The activation token (never logged: the log shows the route)")),
    responses(
        (status = 200, description = "The activated user", body = UserResource, content_type = "application/hal+json"),
    ),
    security(()),
)]
pub async fn activate_link(domain: Domain, urls: Urls, req: HttpRequest) -> Result<impl Responder, ApiError> {
    let token_hash = hash_token(req.match_info().get("token").unwrap_or_default());
    let activated = domain.run(move |s| s.activate_account(&token_hash)).await?;
    Ok(Hal(user(&activated, &urls)))
}

/// A login (`POST /v1/sessions`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The application's public key; or the `X-Api-Key` header.
    key: Option<String>,
    /// The user name.
    username: String,
    /// The password; left out, a guest session (when the application's `guestUsers` is
    /// ENABLED): the guest is created on first use.
    password: Option<String>,
}

/// A new session: its bearer token (shown once) and the user it acts as.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SessionRepr {
    /// The session's bearer token: send it as `Authorization: Bearer …`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: i64,
    /// The user.
    user: UserRepr,
}

#[utoipa::path(
    post,
    path = "/v1/sessions",
    operation_id = "log-in",
    tag = "accounts",
    summary = "Log in: a session token that acts as the user",
    description = "No token: the body's `key` (or `X-Api-Key`) names the application. A wrong user name or password \
is a 401 that does not say which; an account not activated yet is a 403. Without a password: a guest session, when \
the application's guestUsers is ENABLED (a name that belongs to an account is a 403).",
    request_body(content = LoginBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The session", body = SessionRepr, content_type = "application/json"),
    ),
    security(()),
)]
pub async fn log_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    urls: Urls,
    body: Body<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let input =
        Login { key: application_key(&req, body.key), username: body.username, password: body.password, user_agent };
    limit_attempts(&state, &req, "login", &format!("{}|{}", input.key, input.username.to_lowercase()))?;
    let issued = issue_secret(SESSION_TOKEN_PREFIX);
    let lifetime = state.settings.tokens.lifetime;
    let bearer = issued.secret.clone();
    let (session, logged_in) = hashing(&state, &req, move |state| {
        state.service.log_in(&**state.auth.hasher(), state.settings.accounts, input, &issued, lifetime)
    })
    .await?;
    Ok(session_answer(bearer, &session, &logged_in, &urls))
}

/// A new session's answer; a bearer token must not be stored by caches (RFC 6749 §5.1).
pub(crate) fn session_answer(bearer: String, session: &Session, user: &User, urls: &Urls) -> HttpResponse {
    let answer = SessionRepr {
        access_token: bearer,
        token_type: "Bearer",
        expires_in: (session.expires_time - session.created_time).num_seconds(),
        user: user_state(user, urls),
    };
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(answer)
}

/// Login and password reset attempts per source address, and per account from one source
/// (`what`, `account`): the durable lockout covers an account whatever its sources.
pub(crate) fn limit_attempts(state: &AppState, req: &HttpRequest, what: &str, account: &str) -> Result<(), ApiError> {
    let (address, _) = hashing_source(req);
    state
        .account_limiter
        .check(Some(&format!("{what}|{account}")), address)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
}

#[utoipa::path(
    delete,
    path = "/v1/sessions/current",
    operation_id = "log-out",
    tag = "accounts",
    summary = "Log out: end the session of the token used",
    responses((status = 204, description = "The session ended; its token no longer works")),
    security(("oauth2" = [])),
)]
pub async fn log_out(
    domain: Domain,
    Authenticated(p): Authenticated,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    domain.run(move |s| s.log_out(&p)).await?;
    state.auth.forget(req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()));
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/v1/me",
    operation_id = "retrieve-own-account",
    tag = "accounts",
    summary = "The user of a session token, with its email",
    responses(
        (status = 200, description = "The user's own account", body = OwnAccountResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn me(domain: Domain, Authenticated(p): Authenticated, urls: Urls) -> Result<impl Responder, ApiError> {
    let account = domain.run(move |s| s.own_account(&p)).await?;
    Ok(Hal(own_account(&account, &urls)))
}

#[utoipa::path(
    get,
    path = "/v1/user-sessions",
    operation_id = "list-user-sessions",
    tag = "accounts",
    summary = "List end users' sessions",
    description = "The application's sessions, newest first (`sort=createdTime,asc` for oldest first), with their \
users; `state=ACTIVE` or `ENDED` (logged out or expired).",
    params(PageParams, ("state" = Option<String>, Query, description = "ACTIVE or ENDED")),
    responses(
        (status = 200, description = "A page of sessions", body = UserSessionPage, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn list_sessions(
    domain: Domain,
    Authenticated(p): Authenticated,
    list: ListRequest,
) -> Result<impl Responder, ApiError> {
    let page = list.page()?;
    let state = list.query.get("state").map(SessionState::parse).transpose()?;
    let found = domain.run(move |s| s.list_user_sessions(&p, state, &page)).await?;
    let now = roost_domain::now();
    Ok(Hal(numbered_page("sessions", &found, &list.page_links(), |s| user_session(s, now, &list.urls))))
}
