//! Absolute link building: `ROOST_PUBLIC_URL` when set, else the request's scheme and `Host`.

use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpRequest};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::error::ApiError;
use crate::state::AppState;

/// Characters escaped in a path segment (RFC 3986 §3.3 `pchar` keeps the rest).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Percent-encodes one path segment.
pub fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Builds absolute URLs for links.
#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
}

impl Urls {
    /// Absolute URL of an API path (`path` starts with `/`, relative to `/v1`).
    pub fn v1(&self, path: &str) -> String {
        format!("{}/v1{}", self.base, path)
    }

    /// Absolute URL of a path relative to the server root.
    pub fn root(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl FromRequest for Urls {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

impl Urls {
    /// The link base of a request.
    pub fn of(req: &HttpRequest) -> Self {
        let configured = req.app_data::<web::Data<AppState>>().and_then(|s| s.settings.public_url.clone());
        let base = configured.unwrap_or_else(|| {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        });
        Self { base: base.trim_end_matches('/').to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("Jane Doe/#1"), "Jane%20Doe%2F%231");
        assert_eq!(segment("jane@chatkitty.com"), "jane@chatkitty.com");
    }
}
