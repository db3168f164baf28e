//! Rendering resources: content negotiation between HAL and plain JSON, strong `ETag`s (weak
//! for collections), `Last-Modified`, and the answers to conditional reads (RFC 9110 §8.8,
//! §13; see [`crate::conditional`]).

use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::casing::{self, Casing};
use crate::conditional::{is_collection, Conditions, Outcome, Validators};
use crate::error::ApiError;
use crate::output::OutputOptions;
use roost_domain::Timestamp;

/// `application/hal+json`, the default representation.
pub const HAL_JSON_UTF8: &str = "application/hal+json;charset=UTF-8";
/// `application/json`, when the client asks for it.
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// The newest official client's vendor type, as answers carry it.
pub const VND_JSON_UTF8: &str = "application/vnd.chatkitty+json;charset=UTF-8";

/// How an answer is written: its media type, the casing of its field names, and the output
/// options (`fields`, `_empty`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Representation {
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// camelCase or snake_case field names ([`crate::casing`]).
    pub casing: Casing,
    /// Partial output and blank fields ([`crate::output`]).
    pub output: OutputOptions,
}

/// Picks the media type from `Accept` and the casing from `_case`, `X-Options` or `Accept`:
/// HAL unless the client asks for plain JSON only; the vendor type
/// `application/vnd.chatkitty+json` (never refused) when it selected snake_case; 406 when the
/// client accepts none of them.
pub fn negotiate(req: &HttpRequest) -> Result<Representation, ApiError> {
    let (content_type, casing) = media_type(req)?;
    Ok(Representation { content_type, casing, output: OutputOptions::of(req)? })
}

fn media_type(req: &HttpRequest) -> Result<(&'static str, Casing), ApiError> {
    let casing = casing::requested(req);
    let vnd = casing::accepts_vnd(req);
    if vnd && casing == Casing::Snake {
        return Ok((VND_JSON_UTF8, casing));
    }
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok((HAL_JSON_UTF8, casing));
    };
    let types: Vec<String> = accept
        .split(',')
        .filter_map(|part| {
            let mut params = part.split(';');
            let media = params.next()?.trim().to_ascii_lowercase();
            // `q=0` means "not acceptable" (RFC 9110 §12.4.2).
            let refused =
                params.any(|p| matches!(p.trim().replace(' ', "").as_str(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (!refused && !media.is_empty()).then_some(media)
        })
        .collect();
    let accepts = |t: &str| types.iter().any(|m| m == t);
    if types.is_empty()
        || accepts("application/hal+json")
        || accepts("application/vnd.hal+json")
        || accepts("*/*")
        || accepts("application/*")
    {
        return Ok((HAL_JSON_UTF8, casing));
    }
    if accepts("application/json") {
        return Ok((JSON_UTF8, casing));
    }
    if vnd {
        return Ok((VND_JSON_UTF8, casing));
    }
    Err(ApiError::NotAcceptable)
}

/// A resource rendered as HAL+JSON (or JSON), with a strong ETag.
pub struct Hal<T>(pub T);

impl<T> Hal<T> {
    /// The same, also sent with `Last-Modified` (and answering `If-Modified-Since`).
    pub fn modified(self, last_modified: Option<Timestamp>) -> Modified<T> {
        Modified { resource: self.0, last_modified }
    }

    /// The same, with the time `record` last changed as `Last-Modified`.
    pub fn modified_at(self, record: &impl crate::conditional::LastModified) -> Modified<T> {
        self.modified(record.last_modified())
    }
}

/// A resource rendered as [`Hal`] does, with the time it last changed.
pub struct Modified<T> {
    resource: T,
    last_modified: Option<Timestamp>,
}

fn etag_of(body: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in digest.iter().take(16) {
        tag.push(char::from(HEX[usize::from(byte >> 4)]));
        tag.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    tag.push('"');
    tag
}

/// A response body already serialized, with its media type and strong ETag: what [`Hal`]
/// renders to, and what the response cache keeps.
#[derive(Clone)]
pub struct Rendered {
    /// The negotiated media type.
    pub content_type: &'static str,
    /// The serialized resource.
    pub body: Bytes,
    etag: Option<HeaderValue>,
    last_modified: Option<Timestamp>,
}

impl Rendered {
    /// Wraps a serialized body, computing its ETag.
    pub fn new(content_type: &'static str, body: Bytes) -> Self {
        let etag = HeaderValue::from_str(&etag_of(&body)).ok();
        Self { content_type, body, etag, last_modified: None }
    }

    /// The strong entity tag of the body.
    pub fn etag(&self) -> Option<String> {
        self.etag.as_ref().and_then(|e| e.to_str().ok()).map(str::to_owned)
    }

    /// Serializes `resource` as `representation` says (media type, field-name casing, output
    /// options).
    pub fn json<T: Serialize>(representation: &Representation, resource: &T) -> Result<Self, ApiError> {
        let failed = |e: serde_json::Error| ApiError::Internal(format!("serializing a response: {e}"));
        let output = &representation.output;
        let body = crate::output::with_blanks(output.empty, || {
            if representation.casing == Casing::Camel && !output.reshapes() {
                return serde_json::to_vec(resource);
            }
            // Reshaped as a tree: only answers asked for in snake_case or in part pay for it.
            let mut tree = serde_json::to_value(resource)?;
            output.apply(&mut tree);
            if representation.casing == Casing::Snake {
                tree = casing::to_snake(tree);
            }
            serde_json::to_vec(&tree)
        })
        .map_err(failed)?;
        Ok(Self::new(representation.content_type, Bytes::from(body)))
    }
}

impl Responder for Rendered {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        // A collection's tag is weak (RFC 9110 §8.8.1): pages are not one stored thing.
        let etag = match (self.etag, is_collection(req)) {
            (Some(tag), true) => tag.to_str().ok().and_then(|t| HeaderValue::from_str(&format!("W/{t}")).ok()),
            (tag, _) => tag,
        };
        let mut status = StatusCode::OK;
        // Preconditions of a read are answered here; a write's were checked by its use case
        // against the representation before the change (see `crate::conditional`).
        if matches!(*req.method(), Method::GET | Method::HEAD) {
            let current =
                Validators { etag: etag.as_ref().and_then(|e| e.to_str().ok()), last_modified: self.last_modified };
            match Conditions::of(req).evaluate(&current, true) {
                Outcome::Proceed => {}
                Outcome::NotModified => status = StatusCode::NOT_MODIFIED,
                Outcome::Failed => {
                    return ApiError::Domain(roost_domain::DomainError::PreconditionFailed).error_response()
                }
            }
        }
        let mut response = HttpResponse::build(status);
        if let Some(value) = etag {
            response.insert_header((header::ETAG, value));
        }
        if let Some(time) = self.last_modified {
            let date = header::HttpDate::from(crate::conditional::to_seconds(time));
            response.insert_header((header::LAST_MODIFIED, date.to_string()));
        }
        if status == StatusCode::NOT_MODIFIED {
            return response.finish();
        }
        response.content_type(self.content_type).body(self.body)
    }
}

impl<T: Serialize> Responder for Hal<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        self.modified(None).respond_to(req)
    }
}

impl<T: Serialize> Responder for Modified<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        match negotiate(req).and_then(|representation| Rendered::json(&representation, &self.resource)) {
            Ok(rendered) => Rendered { last_modified: self.last_modified, ..rendered }.respond_to(req),
            Err(e) => e.error_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with_accept(accept: &str) -> Result<&'static str, ApiError> {
        negotiate(&TestRequest::default().insert_header((header::ACCEPT, accept)).to_http_request())
            .map(|r| r.content_type)
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(&TestRequest::default().to_http_request()).unwrap().content_type, HAL_JSON_UTF8);
        assert_eq!(with_accept("application/vnd.chatkitty+json, */*;q=0.8").unwrap(), VND_JSON_UTF8);
        assert_eq!(with_accept("application/vnd.chatkitty+json").unwrap(), VND_JSON_UTF8);
        assert_eq!(with_accept("application/json").unwrap(), JSON_UTF8);
        assert_eq!(with_accept("application/json, application/hal+json").unwrap(), HAL_JSON_UTF8);
        assert_eq!(with_accept("*/*").unwrap(), HAL_JSON_UTF8);
        assert_eq!(with_accept("application/hal+json;q=0, application/json").unwrap(), JSON_UTF8);
        assert!(with_accept("text/html").is_err());
    }

    #[test]
    fn etags_are_strong_and_stable() {
        assert_eq!(etag_of(b"{}"), etag_of(b"{}"));
        assert_ne!(etag_of(b"{}"), etag_of(b"[]"));
        assert!(etag_of(b"{}").starts_with('"'));
        // SHA-256("{}") starts 44136fa3…: the first 16 bytes in lower-case hex, quoted.
        assert_eq!(etag_of(b"{}"), "\"44136fa355b3678a1146ad16f7e8649e\"");
    }
}
