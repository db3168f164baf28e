//! Request paths as clients write them, normalized before routing (one mechanism for every
//! route): the newest official client (npm `chatkitty` 2.106.x) calls the API without `/v1`
//! (`/users`), and a base path configured with a trailing slash gives `/v1//users`. Repeated
//! slashes are merged, and an API path without `/v1` is served as the same path with it; links in
//! the answer keep the form the client used ([`Unversioned`], read by [`crate::urls::Urls`]).

use actix_web::dev::ServiceRequest;
use actix_web::http::Uri;
use actix_web::HttpMessage;

/// The first path segments of the API's resource families (everything under `/v1` but the API
/// root itself, which `/` already is).
const FAMILIES: [&str; 15] = [
    "users",
    "channels",
    "messages",
    "threads",
    "application",
    "applications",
    "picture",
    "files",
    "tests",
    "openapi.json",
    "imports",
    "jobs",
    "chat-sessions",
    "user-sessions",
    "analytics",
];

/// Marks a request that named an API path without `/v1`.
#[derive(Debug, Clone, Copy)]
pub struct Unversioned;

/// `path` with runs of `/` merged into one, when it has any.
fn merged(path: &str) -> Option<String> {
    if !path.contains("//") {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    Some(out)
}

/// Whether `path` (merged) is an API path without `/v1`.
fn unversioned(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    FAMILIES.contains(&first)
}

/// Rewrites the request's path as described in the module docs, before routing (called by the
/// outermost middleware, so that it costs no layer of its own).
pub fn normalize(req: &mut ServiceRequest) {
    let merged = merged(req.path());
    let path = merged.as_deref().unwrap_or(req.path());
    let add_version = unversioned(path);
    if merged.is_some() || add_version {
        let path = if add_version { format!("/v1{path}") } else { path.to_owned() };
        let path_and_query = match req.query_string() {
            "" => path,
            query => format!("{path}?{query}"),
        };
        let mut parts = req.head().uri.clone().into_parts();
        if let Ok(rewritten) = path_and_query.parse() {
            parts.path_and_query = Some(rewritten);
            if let Ok(uri) = Uri::from_parts(parts) {
                req.match_info_mut().get_mut().update(&uri);
                req.head_mut().uri = uri;
                if add_version {
                    req.extensions_mut().insert(Unversioned);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_slashes_are_merged() {
        assert_eq!(merged("/v1//users"), Some("/v1/users".to_owned()));
        assert_eq!(merged("//v1///users//7"), Some("/v1/users/7".to_owned()));
        assert_eq!(merged("/v1/users"), None);
    }

    #[test]
    fn api_families_without_the_version_are_recognised() {
        assert!(unversioned("/users"));
        assert!(unversioned("/imports/users"));
        assert!(unversioned("/jobs/1"));
        assert!(unversioned("/chat-sessions"));
        assert!(unversioned("/users/7/messages"));
        assert!(unversioned("/application/settings"));
        assert!(unversioned("/applications/me/users"));
        assert!(!unversioned("/v1/users"));
        assert!(!unversioned("/usersx"));
        assert!(!unversioned("/"));
        assert!(!unversioned("/healthz"));
        assert!(!unversioned("/docs/index.html"));
    }
}
