//! Absolute link building: `ROOST_PUBLIC_URL` when set, else the request's scheme and `Host`.

use std::future::{ready, Ready};

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::error::ApiError;
use crate::paths::Unversioned;
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
    /// `/v1`, or nothing when the request named its path without it ([`Unversioned`]): links
    /// keep the form the client used.
    api: &'static str,
}

impl Urls {
    /// Absolute URL of an API path (`path` starts with `/`, relative to the API root: `/v1`, or
    /// `/` for a client that calls the API without the version).
    pub fn v1(&self, path: &str) -> String {
        format!("{}{}{}", self.base, self.api, path)
    }

    /// Where Roost serves the hosted file `key` (`GET /v1/files/{key}`, no token needed).
    pub fn file(&self, key: &str) -> String {
        self.v1(&format!("/files/{key}"))
    }

    /// The path of `req` as its client wrote it (without `/v1` when it left the version out).
    pub fn public_path(req: &HttpRequest) -> String {
        let path = req.path();
        if req.extensions().get::<Unversioned>().is_some() {
            path.strip_prefix("/v1").unwrap_or(path).to_owned()
        } else {
            path.to_owned()
        }
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
    /// Whether links on `other` are the same as on this (without building a string).
    pub fn same_base(&self, other: &Urls) -> bool {
        self.base == other.base && self.api == other.api
    }

    /// Links on a fixed base, for what no request asked for (webhook payloads).
    pub fn fixed(base: &str) -> Self {
        Self { base: base.trim_end_matches('/').to_owned(), api: "/v1" }
    }

    /// The link base of a request.
    pub fn of(req: &HttpRequest) -> Self {
        let configured = req.app_data::<web::Data<AppState>>().and_then(|s| s.settings.public_url.clone());
        let base = configured.unwrap_or_else(|| {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        });
        let api = if req.extensions().get::<Unversioned>().is_some() { "" } else { "/v1" };
        Self { base: base.trim_end_matches('/').to_owned(), api }
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
