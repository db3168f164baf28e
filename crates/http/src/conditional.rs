//! Conditional requests (RFC 9110 §13): validators on answers, preconditions on requests.
//!
//! Reads: [`Rendered`](crate::negotiate::Rendered) answers `304` or `412` itself, from the
//! strong `ETag` of the body it sends (weak for collections, which a [`ListRequest`]
//! marks) and the resource's `Last-Modified`.
//!
//! Writes: a handler takes [`Preconditions`] and hands the use case a guard made by
//! [`Preconditions::guard`]. The use case calls it on the resource as it reads it, inside the
//! same call that writes, and writes only that revision (see [`roost_domain::Guard`]): of two
//! clients that hold the same `ETag`, exactly one wins and the other gets `412`.
//!
//! [`ListRequest`]: crate::extract::ListRequest

use std::future::{ready, Ready};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap, HttpDate};
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use roost_domain::model::application::Application;
use roost_domain::model::user::{Secret, User};
use roost_domain::{Guard, Timestamp, View};
use serde::Serialize;

use crate::error::ApiError;
use crate::negotiate::{negotiate, Rendered, Representation};
use crate::state::AppState;
use crate::urls::Urls;

/// Marks a request whose answer is a collection: its `ETag` is weak (RFC 9110 §8.8.1), since
/// a page is not byte-for-byte one stored thing.
#[derive(Clone, Copy)]
pub(crate) struct Collection;

/// Marks `req` as answering a collection.
pub(crate) fn mark_collection(req: &HttpRequest) {
    req.extensions_mut().insert(Collection);
}

/// Whether `req` answers a collection.
pub(crate) fn is_collection(req: &HttpRequest) -> bool {
    req.extensions().contains::<Collection>()
}

/// An `If-Match` / `If-None-Match` field value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tags {
    /// `*`: any current representation.
    Any,
    /// Entity tags as sent, `W/` prefix included.
    List(Vec<String>),
}

impl Tags {
    fn parse(headers: &HeaderMap, name: header::HeaderName) -> Option<Self> {
        let mut tags = Vec::new();
        let mut present = false;
        for value in headers.get_all(name) {
            present = true;
            let Ok(value) = value.to_str() else { continue };
            for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" {
                    return Some(Self::Any);
                }
                tags.push(tag.to_owned());
            }
        }
        present.then_some(Self::List(tags))
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): weak tags never match.
    fn strong_match(&self, etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(tags) => !etag.starts_with("W/") && tags.iter().any(|t| t == etag),
        }
    }

    /// Weak comparison: only the opaque tags are compared.
    fn weak_match(&self, etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(tags) => tags.iter().any(|t| t.trim_start_matches("W/") == etag.trim_start_matches("W/")),
        }
    }
}

/// An HTTP-date field (RFC 9110 §5.6.7); an invalid date is ignored, as §13.1.3 and §13.1.4 say.
fn date(headers: &HeaderMap, name: header::HeaderName) -> Option<SystemTime> {
    headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| HttpDate::from_str(v).ok()).map(SystemTime::from)
}

/// `time` to whole seconds, the resolution of HTTP dates: a resource changed within the same
/// second as a client's date is not "more recent" than it.
pub(crate) fn to_seconds(time: Timestamp) -> SystemTime {
    let seconds = u64::try_from(time.timestamp()).unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// What a precondition is evaluated against: the current representation's validators.
pub(crate) struct Validators<'a> {
    /// The entity tag it would be sent with; `None` when there is no current representation.
    pub etag: Option<&'a str>,
    /// When it last changed.
    pub last_modified: Option<Timestamp>,
}

/// The outcome of evaluating a request's preconditions (RFC 9110 §13.2.2).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Go on with the method.
    Proceed,
    /// `304 Not Modified` (`GET` and `HEAD` only).
    NotModified,
    /// `412 Precondition Failed`.
    Failed,
}

/// The four precondition fields of a request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditions {
    if_match: Option<Tags>,
    if_unmodified_since: Option<SystemTime>,
    if_none_match: Option<Tags>,
    if_modified_since: Option<SystemTime>,
}

impl Conditions {
    pub(crate) fn of(req: &HttpRequest) -> Self {
        let headers = req.headers();
        Self {
            if_match: Tags::parse(headers, header::IF_MATCH),
            if_unmodified_since: date(headers, header::IF_UNMODIFIED_SINCE),
            if_none_match: Tags::parse(headers, header::IF_NONE_MATCH),
            if_modified_since: date(headers, header::IF_MODIFIED_SINCE),
        }
    }

    /// Whether any precondition applies to a write (`If-None-Match` included: `*` means "only
    /// if it does not exist").
    fn any(&self) -> bool {
        self.if_match.is_some() || self.if_unmodified_since.is_some() || self.if_none_match.is_some()
    }

    /// RFC 9110 §13.2.2, steps 1 to 4, for a request with `safe` (GET/HEAD) or another method.
    pub(crate) fn evaluate(&self, current: &Validators<'_>, safe: bool) -> Outcome {
        let modified = current.last_modified.map(to_seconds);
        // 1. If-Match, else 2. If-Unmodified-Since.
        if let Some(tags) = &self.if_match {
            if !current.etag.is_some_and(|etag| tags.strong_match(etag)) {
                return Outcome::Failed;
            }
        } else if let (Some(since), Some(modified)) = (self.if_unmodified_since, modified) {
            if modified > since {
                return Outcome::Failed;
            }
        }
        // 3. If-None-Match, else 4. If-Modified-Since (GET and HEAD only).
        if let Some(tags) = &self.if_none_match {
            if current.etag.is_some_and(|etag| tags.weak_match(etag)) {
                return if safe { Outcome::NotModified } else { Outcome::Failed };
            }
        } else if let (true, Some(since), Some(modified)) = (safe, self.if_modified_since, modified) {
            if modified <= since {
                return Outcome::NotModified;
            }
        }
        Outcome::Proceed
    }
}

/// Whether this request changes state and so may be made to carry a precondition.
fn is_write(method: &Method) -> bool {
    matches!(*method, Method::PUT | Method::PATCH | Method::DELETE)
}

/// What a resource tells about its last change, for `Last-Modified`.
pub trait LastModified {
    /// When anything its representation shows last changed.
    fn last_modified(&self) -> Option<Timestamp>;
}

impl LastModified for User {
    fn last_modified(&self) -> Option<Timestamp> {
        Some(self.updated_time)
    }
}

impl LastModified for Application {
    fn last_modified(&self) -> Option<Timestamp> {
        Some(self.updated_time.unwrap_or(self.created_time))
    }
}

impl<T: LastModified> LastModified for View<T> {
    /// The newest change of the record and of the records its representation embeds (a
    /// renamed sender changes a message's representation too).
    fn last_modified(&self) -> Option<Timestamp> {
        let related = &self.related;
        let reacting = related.reactions.values().flatten().flat_map(|r| r.users.iter());
        let users = related
            .users
            .values()
            .chain(related.direct_members.values().flatten())
            .chain(reacting)
            .map(|u| u.updated_time);
        let channels = related.channels.values().filter_map(LastModified::last_modified);
        let messages = related.messages.values().filter_map(LastModified::last_modified);
        self.value.last_modified().into_iter().chain(users).chain(channels).chain(messages).max()
    }
}

impl LastModified for roost_domain::model::channel::Channel {
    fn last_modified(&self) -> Option<Timestamp> {
        Some(self.updated_time.unwrap_or(self.created_time))
    }
}

impl LastModified for roost_domain::model::message::Message {
    fn last_modified(&self) -> Option<Timestamp> {
        [Some(self.created_time), self.last_edited_time, self.updated_time].into_iter().flatten().max()
    }
}

impl LastModified for roost_domain::model::message::Thread {
    fn last_modified(&self) -> Option<Timestamp> {
        Some(self.created_time)
    }
}

/// A stored secret, or none yet.
impl LastModified for Option<Secret> {
    fn last_modified(&self) -> Option<Timestamp> {
        self.as_ref().map(|s| s.updated_time)
    }
}

/// The preconditions of a `PUT`, `PATCH` or `DELETE`; with `ROOST_REQUIRE_PRECONDITIONS`, a
/// write without `If-Match` or `If-Unmodified-Since` is refused with `428` (RFC 6585 §3).
pub struct Preconditions {
    conditions: Conditions,
    representation: Representation,
}

impl FromRequest for Preconditions {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

/// A guard for a use case ([`roost_domain::Guard`]), owned so it can move to a storage thread.
pub struct OwnedGuard<T>(Option<Check<T>>);

/// A precondition check on a resource as read.
type Check<T> = Box<dyn Fn(&T) -> bool + Send>;

impl<T> OwnedGuard<T> {
    /// The guard to hand the use case.
    pub fn get(&self) -> Guard<'_, T> {
        self.0.as_deref().map(|f| f as &dyn Fn(&T) -> bool)
    }
}

impl Preconditions {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let conditions = Conditions::of(req);
        let required = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.settings.require_preconditions);
        // `If-None-Match: *` is a precondition too: "only if it does not exist" (a create by PUT).
        if required
            && is_write(req.method())
            && conditions.if_match.is_none()
            && conditions.if_unmodified_since.is_none()
            && conditions.if_none_match.is_none()
        {
            return Err(ApiError::PreconditionRequired);
        }
        Ok(Self { conditions, representation: negotiate(req)? })
    }

    /// A guard that renders the current resource as a `GET` of this request's URL would (same
    /// media type, casing and options) and evaluates the preconditions on its validators; no
    /// guard when the request has none.
    pub fn guard<T, R>(&self, urls: &Urls, render: fn(&T, &Urls) -> R) -> OwnedGuard<T>
    where
        T: LastModified + Exists + 'static,
        R: Serialize + 'static,
    {
        if !self.conditions.any() {
            return OwnedGuard(None);
        }
        let (conditions, representation, urls) = (self.conditions.clone(), self.representation.clone(), urls.clone());
        OwnedGuard(Some(Box::new(move |current: &T| {
            let rendered = current.exists().then(|| Rendered::json(&representation, &render(current, &urls)));
            let etag = match &rendered {
                Some(Ok(rendered)) => rendered.etag(),
                // A representation that cannot be rendered matches no tag.
                Some(Err(_)) | None => None,
            };
            let validators = Validators { etag: etag.as_deref(), last_modified: current.last_modified() };
            conditions.evaluate(&validators, false) == Outcome::Proceed
        })))
    }

    /// For a write that has no single current representation (a bulk request, a membership):
    /// only `If-Match: *` can hold, so any other precondition fails (RFC 9110 §13.1.1).
    pub fn without_representation(&self) -> Result<(), ApiError> {
        let holds = matches!(self.conditions.if_match, None | Some(Tags::Any))
            && self.conditions.if_unmodified_since.is_none()
            && !matches!(self.conditions.if_none_match, Some(Tags::Any));
        if holds {
            Ok(())
        } else {
            Err(ApiError::Domain(roost_domain::DomainError::PreconditionFailed))
        }
    }
}

/// Whether a resource read for a guard has a current representation.
pub trait Exists {
    /// `false` for a resource that does not exist (a secret never set).
    fn exists(&self) -> bool {
        true
    }
}

impl Exists for User {}
impl Exists for Application {}
impl<T> Exists for View<T> {}
impl Exists for Option<Secret> {
    fn exists(&self) -> bool {
        self.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn conditions(pairs: &[(&str, &str)]) -> Conditions {
        let mut req = actix_web::test::TestRequest::default();
        for (name, value) in pairs {
            req = req.insert_header((*name, *value));
        }
        Conditions::of(&req.to_http_request())
    }

    fn at(seconds: i64) -> Option<Timestamp> {
        chrono::Utc.timestamp_opt(seconds, 0).single()
    }

    const TAG: &str = "\"abc\"";

    fn current(last: i64) -> Validators<'static> {
        Validators { etag: Some(TAG), last_modified: at(last) }
    }

    #[test]
    fn if_match_is_strong_and_comes_first() {
        let write = |pairs: &[(&str, &str)]| conditions(pairs).evaluate(&current(1_000), false);
        assert_eq!(write(&[("if-match", TAG)]), Outcome::Proceed);
        assert_eq!(write(&[("if-match", "\"x\", \"abc\"")]), Outcome::Proceed);
        assert_eq!(write(&[("if-match", "*")]), Outcome::Proceed);
        assert_eq!(write(&[("if-match", "W/\"abc\"")]), Outcome::Failed);
        assert_eq!(write(&[("if-match", "\"other\"")]), Outcome::Failed);
        // If-Match present: If-Unmodified-Since is not evaluated (§13.2.2 step 2).
        assert_eq!(
            write(&[("if-match", TAG), ("if-unmodified-since", "Thu, 01 Jan 1970 00:00:01 GMT")]),
            Outcome::Proceed
        );
        // No current representation: If-Match fails, even `*`.
        let gone = Validators { etag: None, last_modified: None };
        assert_eq!(conditions(&[("if-match", "*")]).evaluate(&gone, false), Outcome::Failed);
    }

    #[test]
    fn dates_compare_at_second_resolution() {
        let write = |since: &str| conditions(&[("if-unmodified-since", since)]).evaluate(&current(1_000), false);
        assert_eq!(write("Thu, 01 Jan 1970 00:16:40 GMT"), Outcome::Proceed); // = 1000 s
        assert_eq!(write("Thu, 01 Jan 1970 00:16:39 GMT"), Outcome::Failed);
        assert_eq!(write("not a date"), Outcome::Proceed);
        let read = |since: &str| conditions(&[("if-modified-since", since)]).evaluate(&current(1_000), true);
        assert_eq!(read("Thu, 01 Jan 1970 00:16:40 GMT"), Outcome::NotModified);
        assert_eq!(read("Thu, 01 Jan 1970 00:16:39 GMT"), Outcome::Proceed);
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let read = |pairs: &[(&str, &str)]| conditions(pairs).evaluate(&current(1_000), true);
        assert_eq!(read(&[("if-none-match", "W/\"abc\"")]), Outcome::NotModified);
        assert_eq!(
            read(&[("if-none-match", "\"other\""), ("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")]),
            Outcome::Proceed
        );
        // On a write a matching If-None-Match fails instead.
        assert_eq!(conditions(&[("if-none-match", "*")]).evaluate(&current(1), false), Outcome::Failed);
    }
}
