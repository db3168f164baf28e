//! `Idempotency-Key` on any authenticated `POST` (draft-ietf-httpapi-idempotency-key-header):
//! the first answer (status, body, and the headers that describe the body: `Content-Type`,
//! `ETag`, `Location`) is kept a day per application and key, and a repeat of the same request
//! gets it again with `Idempotent-Replayed: true`. The same key with a different request (method,
//! path, query, content type or body) is a 422; a repeat while the first still runs waits for its
//! answer, up to [`WAIT`], then gets a 409. The key is claimed in the database, so this holds
//! across nodes. A 5xx, 409 or 429 is not kept (they say "retry"): the key is freed so a retry
//! runs again.

use std::time::{Duration, Instant};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpResponse};
use futures_util::StreamExt;
use roost_domain::model::idempotency::{Claim, RecordedResponse};
use roost_domain::Principal;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::{authenticate, blocking};
use crate::state::AppState;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// How long a repeat waits for the first request's answer before it gets a 409.
pub const WAIT: Duration = Duration::from_secs(10);

/// Largest body of an idempotent request: what the API accepts as JSON.
const BODY_LIMIT: usize = 256 * 1024;

/// How often a waiting repeat looks again.
const POLL: Duration = Duration::from_millis(50);

/// Whether `req` asks for idempotency.
pub(crate) fn applies(req: &ServiceRequest) -> bool {
    req.method() == Method::POST && req.headers().contains_key(IDEMPOTENCY_KEY)
}

/// Runs `req` under its idempotency key (see the module docs).
pub(crate) async fn run<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
    state: web::Data<AppState>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Ok(key) = req.headers().get(IDEMPOTENCY_KEY).map(HeaderValue::to_str).transpose() else {
        return Ok(req.error_response(ApiError::BadRequest("the Idempotency-Key header is not ASCII".into())));
    };
    let key = key.unwrap_or_default().to_owned();
    let authorization = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_owned));
    // Keys belong to an application: without one, the handler answers (a 401) as it would.
    let Ok(principal) = authenticate(&state, authorization).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error)),
    };
    let fingerprint = fingerprint(&req, &body);
    req.set_payload(actix_web::dev::Payload::from(body));

    let started = Instant::now();
    let claimed = loop {
        let (service, p, k, f) = (state.clone(), principal.clone(), key.clone(), fingerprint.clone());
        let claim = blocking(&state, None, move || Ok(service.service.claim_idempotency_key(&p, &k, &f)?)).await;
        match claim {
            Ok(Claim::Started(claimed)) => break claimed,
            Ok(Claim::Done(recorded)) => return Ok(req.into_response(replay(recorded))),
            Ok(Claim::OtherRequest) => return Ok(req.error_response(ApiError::IdempotencyKeyReused)),
            Ok(Claim::Running) if started.elapsed() < WAIT => actix_web::rt::time::sleep(POLL).await,
            Ok(Claim::Running) => return Ok(req.error_response(ApiError::IdempotencyKeyInUse)),
            Err(error) => return Ok(req.error_response(error)),
        }
    };
    // Run to the end on a task of its own, even if the client goes away meanwhile: a request
    // whose answer was neither kept nor freed would leave its key running until abandoned, and
    // then run again.
    let owner = Owner { state: state.clone(), principal, key, claimed };
    let finished = actix_web::rt::spawn(async move {
        match next.call(req).await {
            Ok(response) => keep(response, owner).await,
            Err(error) => {
                owner.release().await;
                Err(error)
            }
        }
    });
    finished.await.map_err(|e| ApiError::Internal(format!("an idempotent request's task failed: {e}")))?
}

/// The claim a request holds on its key.
struct Owner {
    state: web::Data<AppState>,
    principal: Principal,
    key: String,
    claimed: roost_domain::Timestamp,
}

impl Owner {
    /// Frees the key so a retry runs the request again.
    async fn release(self) {
        let Self { state, principal, key, claimed } = self;
        let service = state.clone();
        let released =
            blocking(&state, None, move || Ok(service.service.release_idempotency_key(&principal, &key, claimed)?))
                .await;
        if let Err(error) = released {
            tracing::warn!(error = %error.cause_chain(), "could not free an idempotency key");
        }
    }
}

/// Reads the whole body, at most [`BODY_LIMIT`] bytes.
async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the request body: {e}")))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge(format!(
                "an idempotent request's body may be at most {BODY_LIMIT} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// SHA-256 of what makes two requests the same one.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> String {
    let content_type = req.headers().get(header::CONTENT_TYPE).map(HeaderValue::as_bytes).unwrap_or_default();
    let mut digest = Sha256::new();
    for part in [req.method().as_str().as_bytes(), req.path().as_bytes(), req.query_string().as_bytes(), content_type] {
        digest.update(part.len().to_be_bytes());
        digest.update(part);
    }
    digest.update(body);
    digest.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Keeps the first answer (or frees the key after a 5xx, 409 or 429), and sends it.
async fn keep<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
    owner: Owner,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (request, response) = response.into_parts();
    let status = response.status();
    let header_of = |name: HeaderName| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (content_type, etag, location) =
        (header_of(header::CONTENT_TYPE), header_of(header::ETAG), header_of(header::LOCATION));
    let (head, body) = response.into_parts();
    let bytes = match body::to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(e) => {
            owner.release().await;
            return Err(ApiError::Internal(format!("reading an answer: {}", e.into())).into());
        }
    };
    // Answers that say "retry later" are not the request's answer: a retry should run it.
    let transient = status.is_server_error() || matches!(status, StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS);
    if transient {
        owner.release().await;
    } else {
        let Owner { state, principal, key, claimed } = owner;
        let recorded = RecordedResponse { status: status.as_u16(), content_type, etag, location, body: bytes.to_vec() };
        let service = state.clone();
        let kept = blocking(&state, None, move || {
            Ok(service.service.record_idempotent_response(&principal, &key, claimed, &recorded)?)
        })
        .await;
        if let Err(error) = kept {
            // The change is made and its answer goes out; only a replay of it is lost.
            tracing::warn!(error = %error.cause_chain(), "could not keep the answer of an idempotent request");
        }
    }
    Ok(ServiceResponse::new(request, head.set_body(BoxBody::new(bytes))))
}

/// The kept answer, marked as a replay.
fn replay(recorded: RecordedResponse) -> HttpResponse {
    let mut response = HttpResponse::build(StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::OK));
    let described = [
        (header::CONTENT_TYPE, recorded.content_type),
        (header::ETAG, recorded.etag),
        (header::LOCATION, recorded.location),
    ];
    for (name, value) in described {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((HeaderName::from_static("idempotent-replayed"), HeaderValue::from_static("true")));
    response.body(recorded.body)
}
