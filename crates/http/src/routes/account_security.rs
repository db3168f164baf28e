//! End users keeping their accounts: password change and reset, and their own profile with an
//! email change confirmed by the new address. The rules live in the domain's use cases; these
//! handlers run them (on the hashing threads when a password is checked or hashed), forget the
//! tokens of sessions that ended, and wake the mail sender.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use roost_auth::token::{hash_token, issue_secret, MAIL_TOKEN_PREFIX, SESSION_TOKEN_PREFIX};
use roost_domain::service::{MailToken, PasswordChange, PasswordChanged};
use serde::Deserialize;
use serde_json::Value;

use super::accounts::{application_key, hashing, limit_attempts, session_answer, OwnAccountResource, SessionRepr};
use crate::error::ApiError;
use crate::extract::{Authenticated, Body, Domain};
use crate::negotiate::Hal;
use crate::openapi::UserResource;
use crate::repr::user::{own_account, user};
use crate::state::AppState;
use crate::urls::Urls;

/// The sessions that ended stop working on this node at once (other nodes trust a token they
/// checked for at most the token cache's few seconds, as after a revocation).
fn forget_ended(state: &AppState, changed: &PasswordChanged) {
    for token_hash in &changed.ended {
        state.auth.forget_hash(token_hash);
    }
}

/// A password change (`PUT /v1/me/password`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChangeBody {
    /// The current password.
    #[serde(alias = "old_password")]
    old_password: String,
    /// The new password: the same rules as at sign-up.
    #[serde(alias = "new_password")]
    new_password: String,
}

#[utoipa::path(
    put,
    path = "/v1/me/password",
    operation_id = "change-own-password",
    tag = "accounts",
    summary = "Change the password of a session's user",
    description = "A wrong current password is a 400 naming `oldPassword`. Every session of the user ends, this one \
included: the answer carries the session that goes on.",
    request_body(content = PasswordChangeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The new session", body = SessionRepr, content_type = "application/json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn change_password(
    Authenticated(p): Authenticated,
    req: HttpRequest,
    state: web::Data<AppState>,
    urls: Urls,
    body: Body<PasswordChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    // A stolen session guessing the current password is limited like a login.
    if let Some(user) = p.user_id() {
        limit_attempts(&state, &req, "password", &user.to_string())?;
    }
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let issued = issue_secret(SESSION_TOKEN_PREFIX);
    let bearer = issued.secret.clone();
    let changed = hashing(&state, &req, move |state| {
        let change = PasswordChange {
            hasher: &**state.auth.hasher(),
            rules: state.settings.accounts,
            session: &issued,
            lifetime: state.settings.tokens.lifetime,
            user_agent: user_agent.as_deref(),
        };
        state.service.change_password(&p, &body.old_password, &body.new_password, change)
    })
    .await?;
    forget_ended(&state, &changed);
    let session = changed.session.as_ref().ok_or_else(|| ApiError::Internal("no session after a change".into()))?;
    Ok(session_answer(bearer, session, &changed.user, &urls))
}

/// A password reset request (`POST /v1/accounts/password-reset`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestBody {
    /// The application's public key; or the `X-Api-Key` header.
    key: Option<String>,
    /// The account's email.
    email: String,
}

#[utoipa::path(
    post,
    path = "/v1/accounts/password-reset",
    operation_id = "request-password-reset",
    tag = "accounts",
    summary = "Mail a password reset token to an account's address",
    description = "No token: the body's `key` (or `X-Api-Key`) names the application. Always 202, whether an account \
has this address or not; the token is valid once, for ROOST_PASSWORD_RESET_SECONDS (an hour by default), and an \
account gets a few such mails an hour at most.",
    request_body(content = ResetRequestBody, content_type = "application/json"),
    responses((status = 202, description = "If an account has this address, a token is on its way")),
    security(()),
)]
pub async fn request_reset(
    domain: Domain,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body<ResetRequestBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let key = application_key(&req, body.key);
    limit_attempts(&state, &req, "reset", &format!("{key}|{}", body.email.to_lowercase()))?;
    let email = body.email;
    let checked = email.clone();
    let application_id = domain.run(move |s| s.password_reset_target(&key, &checked)).await?;
    // The lookup and the mail happen after the answer: it takes the same time either way.
    let sending = state.clone();
    state.storage.execute(move || {
        let token = issue_secret(MAIL_TOKEN_PREFIX);
        let mail = MailToken { token: &token, public_url: sending.settings.public_url.as_deref() };
        match sending.service.send_password_reset(application_id, &email, sending.settings.accounts, mail) {
            Ok(true) => sending.mail_wake.notify_one(),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "a password reset mail was not written"),
        }
    });
    Ok(HttpResponse::Accepted().finish())
}

/// A new password set with a mailed token (`POST /v1/accounts/password-reset/{token}`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetBody {
    /// The new password: the same rules as at sign-up.
    #[serde(alias = "new_password")]
    new_password: String,
}

#[utoipa::path(
    post,
    path = "/v1/accounts/password-reset/{token}",
    operation_id = "reset-password",
    tag = "accounts",
    summary = "Set a new password with a mailed reset token",
    description = "No token needed: the single-use reset token is the credential. Every session of the user ends, any \
lockout is lifted, and an account not activated yet is activated (the mail proved the address).",
    params(("token" = String, Path, description = "The reset token (never logged: the log shows the route)")),
    request_body(content = ResetBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The user, who can log in with the new password", body = UserResource, content_type = "application/hal+json"),
    ),
    security(()),
)]
pub async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    urls: Urls,
    body: Body<ResetBody>,
) -> Result<HttpResponse, ApiError> {
    let token_hash = hash_token(req.match_info().get("token").unwrap_or_default());
    let new_password = body.into_inner().new_password;
    let changed = hashing(&state, &req, move |state| {
        state.service.reset_password(&**state.auth.hasher(), state.settings.accounts, &token_hash, &new_password)
    })
    .await?;
    forget_ended(&state, &changed);
    Ok(Hal(user(&changed.user, &urls)).respond_to(&req))
}

#[utoipa::path(
    patch,
    path = "/v1/me",
    operation_id = "update-own-account",
    tag = "accounts",
    summary = "Change a session's user: displayName, presenceStatus, properties, email",
    description = "A JSON merge patch (RFC 7396). `email` takes effect once the token mailed to the new address is \
used with `POST /v1/accounts/activate` (the old address is told); the answer still shows the current one.",
    request_body(description = "A JSON merge patch (RFC 7396)", content((Object = "application/merge-patch+json"), (Object = "application/json+merge-patch"), (Object = "application/json"))),
    responses(
        (status = 200, description = "The user's own account", body = OwnAccountResource, content_type = "application/hal+json"),
    ),
    security(("oauth2" = [])),
)]
pub async fn patch_me(
    domain: Domain,
    Authenticated(p): Authenticated,
    req: HttpRequest,
    state: web::Data<AppState>,
    urls: Urls,
    body: Body<Value>,
) -> Result<impl Responder, ApiError> {
    let merge_patch = body.into_inner();
    // An email change tells whether another account has the address: limited like a login.
    if let (Some(user), true) = (p.user_id(), merge_patch.get("email").is_some()) {
        limit_attempts(&state, &req, "email", &user.to_string())?;
    }
    let token = issue_secret(MAIL_TOKEN_PREFIX);
    let public_url = state.settings.public_url.clone();
    let account = domain
        .run(move |s| {
            s.patch_own_account(&p, merge_patch, MailToken { token: &token, public_url: public_url.as_deref() })
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(Hal(own_account(&account, &urls)))
}
