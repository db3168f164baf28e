//! The one error table: every failure of the HTTP layer becomes an [`ApiError`], and only here
//! is it given a status code and a body.
//!
//! Bodies follow ChatKitty (DESIGN.md, "Errors"):
//! - API errors: `{"error", "message", "timestamp", "explanation"?, "errors"?}`, where `errors`
//!   lists `{"resource", "field", "code", "message"}` for validation failures;
//! - 401 and the OAuth endpoints: `{"error", "error_description"}` (RFC 6749 §5.2,
//!   RFC 6750 §3), with the `WWW-Authenticate` challenge those RFCs require; a 403 of the API
//!   (a rule of a use case refused the request) uses the API's shape.
//!
//! A 5xx never shows its cause; the cause is logged with the response token.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use roost_auth::{BearerError, OAuthError, OAuthErrorCode};
use roost_domain::{DomainError, FieldError, StoreError};
use serde::Serialize;

/// Realm named in `WWW-Authenticate` challenges.
const REALM: &str = "roost";

/// Any failure answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A use case refused or failed.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The token, revocation or introspection endpoint refused.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The bearer token was missing or not accepted.
    #[error(transparent)]
    Bearer(#[from] BearerError),
    /// Malformed request: body, query or path.
    #[error("{0}")]
    BadRequest(String),
    /// No route matches.
    #[error("no such resource")]
    RouteNotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body's media type is not accepted here.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is larger than allowed.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The client accepts no media type we produce.
    #[error("not acceptable")]
    NotAcceptable,
    /// The application or source address went past its rate limit ([`crate::rate_limit`]).
    #[error("rate limit reached")]
    RateLimited {
        /// Seconds until a request would be allowed.
        retry_after_secs: u64,
    },
    /// The `Range` asked for lies outside the file (RFC 9110 §15.5.17); `size`: the file's.
    #[error("range not satisfiable")]
    RangeNotSatisfiable {
        /// The file's size, for `Content-Range: bytes */size`.
        size: Option<u64>,
    },
    /// An `Idempotency-Key` already used for a different request.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// An `Idempotency-Key` whose first request is still running.
    #[error("idempotency key in use")]
    IdempotencyKeyInUse,
    /// The server requires writes to be conditional (`ROOST_REQUIRE_PRECONDITIONS`).
    #[error("precondition required")]
    PreconditionRequired,
    /// A bug or an infrastructure failure; logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Domain(e.into())
    }
}

/// ChatKitty's `ApiError` body: what every error of the API answers (see the module's docs).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ApiError)]
pub(crate) struct ApiErrorBody<'a> {
    /// The error's name, e.g. `ResourceNotFoundError`, `ValidationError`.
    error: &'a str,
    /// What went wrong, in general terms.
    message: String,
    /// When it happened (RFC 3339, UTC).
    #[schema(format = DateTime)]
    timestamp: String,
    /// What went wrong in this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    explanation: Option<String>,
    /// The invalid fields of a `ValidationError`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldErrorBody<'a>>,
}

/// One invalid field of a `ValidationError`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = FieldError)]
pub(crate) struct FieldErrorBody<'a> {
    /// The kind of resource, e.g. `user`.
    resource: &'a str,
    /// The field, e.g. `name`.
    field: &'a str,
    /// A machine-readable reason, e.g. `already_exists`, `missing_field`.
    code: &'a str,
    /// A human-readable reason.
    message: &'a str,
}

impl<'a> From<&'a FieldError> for FieldErrorBody<'a> {
    fn from(e: &'a FieldError) -> Self {
        Self { resource: e.resource, field: &e.field, code: e.code.as_str(), message: &e.message }
    }
}

/// RFC 6749 §5.2 / ChatKitty `AuthenticationError` body: 401s and the OAuth endpoints' errors.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AuthenticationError)]
pub(crate) struct OAuthErrorBody<'a> {
    /// The RFC 6749 / RFC 6750 error code, e.g. `invalid_client`, `invalid_token`.
    error: &'a str,
    /// What went wrong.
    error_description: &'a str,
}

/// How one error is answered.
enum Rendering<'a> {
    Api { name: &'static str, message: String, explanation: Option<String>, errors: &'a [FieldError] },
    OAuth { code: &'a str, description: String, challenge: Option<String> },
}

impl ApiError {
    fn rendering(&self) -> (StatusCode, Rendering<'_>) {
        use Rendering::{Api, OAuth};
        let api = |name, message: &str| Api { name, message: message.to_owned(), explanation: None, errors: &[] };
        match self {
            Self::Domain(DomainError::Validation(errors)) => (
                StatusCode::BAD_REQUEST,
                Api {
                    name: "ValidationError",
                    message: "The request has invalid fields, see errors".into(),
                    explanation: Some(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")),
                    errors,
                },
            ),
            Self::Domain(DomainError::InvalidArgument(why)) | Self::BadRequest(why) => (
                StatusCode::BAD_REQUEST,
                Api {
                    name: "ClientError",
                    message: "A client error occurred, check your request".into(),
                    explanation: Some(why.clone()),
                    errors: &[],
                },
            ),
            Self::Domain(DomainError::NotFound(what)) => (
                StatusCode::NOT_FOUND,
                Api {
                    name: "ResourceNotFoundError",
                    message: "Resource not found".into(),
                    explanation: Some(format!("The {what} does not exist")),
                    errors: &[],
                },
            ),
            Self::Domain(DomainError::NotFoundId { resource, id }) => (
                StatusCode::NOT_FOUND,
                Api {
                    name: "ResourceNotFoundError",
                    message: "Resource not found".into(),
                    explanation: Some(format!("The {resource} {id} does not exist; nothing was changed")),
                    errors: &[],
                },
            ),
            Self::RouteNotFound => (
                StatusCode::NOT_FOUND,
                Api {
                    name: "ResourceNotFoundError",
                    message: "Resource not found".into(),
                    explanation: Some("No route of this API has this path".into()),
                    errors: &[],
                },
            ),
            Self::Domain(DomainError::PreconditionFailed) => (
                StatusCode::PRECONDITION_FAILED,
                api(
                    "RESOURCE_MODIFIED",
                    "The resource was modified since the representation named by If-Match or \
                     If-Unmodified-Since; read it again",
                ),
            ),
            // RFC 6585 §4.
            Self::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                api("RATE_LIMIT_REACHED", "Too many requests; retry after the time in Retry-After"),
            ),
            Self::Domain(DomainError::TooManyAttempts { why, .. }) => (
                StatusCode::TOO_MANY_REQUESTS,
                Api {
                    name: "TooManyAttemptsError",
                    message: "Too many attempts; retry after the time in Retry-After".into(),
                    explanation: Some(why.clone()),
                    errors: &[],
                },
            ),
            Self::RangeNotSatisfiable { .. } => (
                StatusCode::RANGE_NOT_SATISFIABLE,
                api("RangeNotSatisfiableError", "The requested range lies outside the file"),
            ),
            Self::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                api(
                    "IDEMPOTENCY_KEY_REUSED",
                    "This Idempotency-Key was used for a different request (method, path, query or body)",
                ),
            ),
            Self::IdempotencyKeyInUse => (
                StatusCode::CONFLICT,
                api(
                    "IDEMPOTENCY_KEY_IN_USE",
                    "A request with this Idempotency-Key is still running; retry shortly to get its answer",
                ),
            ),
            // RFC 6585 §3.
            Self::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                api(
                    "PRECONDITION_REQUIRED",
                    "This server requires PUT, PATCH and DELETE to carry If-Match (an ETag from a GET, or *) \
                     or If-Unmodified-Since",
                ),
            ),
            Self::Domain(DomainError::Forbidden(why)) => (
                StatusCode::FORBIDDEN,
                Api {
                    name: "AccessDeniedError",
                    message: "Access to this resource is denied".into(),
                    explanation: Some(why.clone()),
                    errors: &[],
                },
            ),
            Self::Domain(DomainError::InvalidCredentials) => {
                (StatusCode::UNAUTHORIZED, api("InvalidCredentialsError", "The user name or password is wrong"))
            }
            Self::Domain(DomainError::Store(StoreError::Unavailable(_))) => (
                StatusCode::SERVICE_UNAVAILABLE,
                api("ServiceUnavailableError", "The service is temporarily unavailable"),
            ),
            Self::Domain(DomainError::Store(StoreError::Conflict(_))) => (
                StatusCode::CONFLICT,
                api("ConflictError", "The resource was changed by another request at the same time; retry"),
            ),
            Self::Domain(DomainError::Store(_)) | Self::Internal(_) | Self::OAuth(OAuthError::Internal(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, api("InternalServerError", "An internal error occurred"))
            }
            Self::Bearer(BearerError::Internal(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, api("InternalServerError", "An internal error occurred"))
            }
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                api("MethodNotAllowedError", "This method is not allowed on this resource"),
            ),
            Self::UnsupportedMediaType(why) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Api {
                    name: "UnsupportedMediaTypeError",
                    message: "The request body's media type is not supported".into(),
                    explanation: Some(why.clone()),
                    errors: &[],
                },
            ),
            Self::PayloadTooLarge(why) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                Api {
                    name: "PayloadTooLargeError",
                    message: "The request body is too large".into(),
                    explanation: Some(why.clone()),
                    errors: &[],
                },
            ),
            Self::NotAcceptable => (
                StatusCode::NOT_ACCEPTABLE,
                api("NotAcceptableError", "This resource is available as application/hal+json or application/json"),
            ),
            Self::Bearer(BearerError::Missing) => (
                StatusCode::UNAUTHORIZED,
                OAuth {
                    code: "unauthorized",
                    description: BearerError::Missing.to_string(),
                    // No error code when the request carried no credentials (RFC 6750 §3.1).
                    challenge: Some(format!("Bearer realm=\"{REALM}\"")),
                },
            ),
            Self::Bearer(BearerError::InvalidToken(why)) => (
                StatusCode::UNAUTHORIZED,
                OAuth {
                    code: "invalid_token",
                    description: (*why).to_owned(),
                    challenge: Some(format!(
                        "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{why}\""
                    )),
                },
            ),
            Self::Bearer(BearerError::InvalidRequest(why)) => (
                StatusCode::BAD_REQUEST,
                OAuth {
                    code: "invalid_request",
                    description: (*why).to_owned(),
                    challenge: Some(format!("Bearer realm=\"{REALM}\", error=\"invalid_request\"")),
                },
            ),
            Self::OAuth(OAuthError::Protocol { code, description, basic_auth }) => {
                // RFC 6749 §5.2: 400, except invalid_client answered to Basic authentication,
                // which is 401 with a Basic challenge.
                let unauthorized = *code == OAuthErrorCode::InvalidClient && *basic_auth;
                let status = if unauthorized { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
                let challenge = unauthorized.then(|| format!("Basic realm=\"{REALM}\""));
                (status, OAuth { code: code.as_str(), description: description.clone(), challenge })
            }
            Self::OAuth(OAuthError::RateLimited { .. }) => (
                StatusCode::TOO_MANY_REQUESTS,
                OAuth {
                    code: "too_many_requests",
                    description: "Too many token requests; retry later".into(),
                    challenge: None,
                },
            ),
            // RFC 6749 §4.1.2.1's code for a server that cannot answer now.
            Self::OAuth(OAuthError::Overloaded { .. }) => (
                StatusCode::SERVICE_UNAVAILABLE,
                OAuth {
                    code: "temporarily_unavailable",
                    description: "The server is checking too many secrets; retry shortly".into(),
                    challenge: None,
                },
            ),
        }
    }
}

impl ApiError {
    /// The error's name and message as a body would carry them: a stream's `error` event.
    pub fn code_and_message(&self) -> (String, String) {
        match self.rendering().1 {
            Rendering::Api { name, message, explanation, .. } => {
                (name.to_owned(), explanation.map_or(message.clone(), |e| format!("{message}: {e}")))
            }
            Rendering::OAuth { code, description, .. } => (code.to_owned(), description),
        }
    }

    /// This error and every cause under it, outermost first, `: `-separated. Causes that only
    /// repeat their wrapper's message (`#[error(transparent)]` layers) are shown once.
    pub fn cause_chain(&self) -> String {
        let mut chain = self.to_string();
        let mut last = chain.clone();
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            let message = error.to_string();
            if message != last && !last.ends_with(&message) {
                chain.push_str(": ");
                chain.push_str(&message);
            }
            last = message;
            cause = error.source();
        }
        chain
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.rendering().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, rendering) = self.rendering();
        if status.is_server_error() {
            // Inside the request's span (see `middleware`), so the line carries its response token.
            tracing::error!(error = %self.cause_chain(), "request failed");
        }
        let mut response = HttpResponse::build(status);
        response.content_type("application/json;charset=UTF-8");
        let body = match rendering {
            Rendering::Api { name, message, explanation, errors } => serde_json::to_vec(&ApiErrorBody {
                error: name,
                message,
                timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                explanation,
                errors: errors.iter().map(FieldErrorBody::from).collect(),
            }),
            Rendering::OAuth { code, description, challenge } => {
                if let Some(challenge) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
                    response.insert_header((header::WWW_AUTHENTICATE, challenge));
                }
                serde_json::to_vec(&OAuthErrorBody { error: code, error_description: &description })
            }
        };
        if let Self::OAuth(OAuthError::RateLimited { retry_after_secs } | OAuthError::Overloaded { retry_after_secs })
        | Self::RateLimited { retry_after_secs }
        | Self::Domain(DomainError::TooManyAttempts { retry_after_secs, .. }) = self
        {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let Self::RangeNotSatisfiable { size: Some(size) } = self {
            response.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
        }
        if matches!(self, Self::OAuth(_)) {
            // Token endpoint responses are never cached (RFC 6749 §5.1, §5.2).
            response.insert_header((header::CACHE_CONTROL, "no-store"));
            response.insert_header((header::PRAGMA, "no-cache"));
        }
        response.body(body.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {

    #[derive(Debug, thiserror::Error)]
    #[error("disk I/O error")]
    struct Disk(#[source] std::io::Error);

    #[test]
    fn a_cause_chain_names_every_cause_once() {
        let root = std::io::Error::other("no space left on device");
        let error: ApiError = StoreError::Other(Box::new(Disk(root))).into();
        assert_eq!(error.cause_chain(), "store failure: disk I/O error: no space left on device");
    }

    use super::*;
    use roost_domain::FieldErrorCode;

    #[test]
    fn the_table() {
        let cases: Vec<(ApiError, u16)> = vec![
            (DomainError::field("user", "name", FieldErrorCode::AlreadyExists, "taken").into(), 400),
            (DomainError::InvalidArgument("size".into()).into(), 400),
            (DomainError::NotFound("user").into(), 404),
            (DomainError::NotFoundId { resource: "user", id: 7 }.into(), 404),
            (DomainError::Forbidden("no".into()).into(), 403),
            (DomainError::PreconditionFailed.into(), 412),
            (ApiError::PreconditionRequired, 428),
            (ApiError::RateLimited { retry_after_secs: 1 }, 429),
            (ApiError::IdempotencyKeyReused, 422),
            (ApiError::RangeNotSatisfiable { size: Some(1) }, 416),
            (ApiError::IdempotencyKeyInUse, 409),
            (StoreError::Unavailable("pool".into()).into(), 503),
            (StoreError::Conflict("raced".into()).into(), 409),
            (StoreError::Other("boom".into()).into(), 500),
            (BearerError::Missing.into(), 401),
            (BearerError::InvalidToken("expired").into(), 401),
            (OAuthError::RateLimited { retry_after_secs: 2 }.into(), 429),
            (OAuthError::Overloaded { retry_after_secs: 1 }.into(), 503),
            (ApiError::MethodNotAllowed, 405),
            (ApiError::UnsupportedMediaType("x".into()), 415),
            (ApiError::PayloadTooLarge("x".into()), 413),
            (ApiError::NotAcceptable, 406),
        ];
        for (error, status) in cases {
            assert_eq!(error.status_code().as_u16(), status, "{error:?}");
        }
    }

    #[test]
    fn server_errors_hide_their_cause() {
        let response = ApiError::Internal("secret database detail".into()).error_response();
        let body = actix_web::body::to_bytes(response.into_body());
        let body = futures_util::FutureExt::now_or_never(body).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("secret database detail"));
    }
}
