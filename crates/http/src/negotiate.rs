//! Rendering resources: content negotiation between HAL and plain JSON, strong `ETag`s and
//! `If-None-Match` (RFC 9110 §8.8.3, §13.1.2).

use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// `application/hal+json`, the default representation.
pub const HAL_JSON_UTF8: &str = "application/hal+json;charset=UTF-8";
/// `application/json`, when the client asks for it.
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// Picks the response media type from `Accept`: HAL unless the client asks for plain JSON
/// only; 406 when it accepts neither.
pub fn negotiate(req: &HttpRequest) -> Result<&'static str, ApiError> {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(HAL_JSON_UTF8);
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
        return Ok(HAL_JSON_UTF8);
    }
    if accepts("application/json") {
        return Ok(JSON_UTF8);
    }
    Err(ApiError::NotAcceptable)
}

/// A resource rendered as HAL+JSON (or JSON), with a strong ETag.
pub struct Hal<T>(pub T);

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

/// Weak comparison of `If-None-Match` against our tag (RFC 9110 §13.1.2).
fn none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers().get_all(header::IF_NONE_MATCH).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|tag| {
        let tag = tag.trim();
        tag == "*" || tag.trim_start_matches("W/") == etag
    })
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
}

impl Rendered {
    /// Wraps a serialized body, computing its ETag.
    pub fn new(content_type: &'static str, body: Bytes) -> Self {
        let etag = HeaderValue::from_str(&etag_of(&body)).ok();
        Self { content_type, body, etag }
    }

    /// Serializes `resource` as `content_type`.
    pub fn json<T: Serialize>(content_type: &'static str, resource: &T) -> Result<Self, ApiError> {
        let body =
            serde_json::to_vec(resource).map_err(|e| ApiError::Internal(format!("serializing a response: {e}")))?;
        Ok(Self::new(content_type, Bytes::from(body)))
    }
}

impl Responder for Rendered {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        let cacheable = matches!(*req.method(), Method::GET | Method::HEAD);
        let not_modified =
            cacheable && self.etag.as_ref().and_then(|e| e.to_str().ok()).is_some_and(|e| none_match(req, e));
        let mut response = HttpResponse::build(if not_modified { StatusCode::NOT_MODIFIED } else { StatusCode::OK });
        if let Some(value) = self.etag {
            response.insert_header((header::ETAG, value));
        }
        if not_modified {
            return response.finish();
        }
        response.content_type(self.content_type).body(self.body)
    }
}

impl<T: Serialize> Responder for Hal<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        match negotiate(req).and_then(|content_type| Rendered::json(content_type, &self.0)) {
            Ok(rendered) => rendered.respond_to(req),
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
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(&TestRequest::default().to_http_request()).unwrap(), HAL_JSON_UTF8);
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
