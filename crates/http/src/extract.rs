//! Extractors: the authenticated principal, query pairs, path ids, JSON and form bodies.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use roost_auth::{FormParams, OAuthError, OAuthErrorCode};
use roost_domain::model::cursor::CursorRequest;
use roost_domain::model::page::{PageRequest, SortField};
use roost_domain::{now, DomainError, Principal, Properties, Service};
use roost_hal::{CursorLinks, PageLinks};

use crate::cache::ResponseCache;
use crate::casing::{self, camel_name};
use crate::error::ApiError;
use crate::state::AppState;
use crate::urls::Urls;

/// Runs storage work (diesel is synchronous) on the state's storage threads
/// ([`crate::workers`]); when `invalidates` is given, marks its responses stale once the work
/// has ended, committed or not.
pub async fn blocking<T, F>(state: &AppState, invalidates: Option<Arc<ResponseCache>>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    state.storage.execute(move || {
        // A panic must become this request's 500.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| Err(ApiError::Internal("a storage task panicked".into())));
        // After the commit (or rollback), whether or not anyone still waits for the answer.
        if let Some(cache) = invalidates {
            cache.invalidate();
        }
        // The receiver is gone only when the client disconnected; nothing to report then.
        let _ = tx.send(result);
    });
    rx.await.map_err(|_| ApiError::Internal("a blocking task ended without a result".into()))?
}

pub fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| ApiError::Internal("application state missing".into()))
}

/// The use cases, for one request: [`Domain::run`] runs one on the storage threads. A request
/// that may write (any method but GET, HEAD and OPTIONS) marks the response cache stale when
/// its work ends.
pub struct Domain {
    state: web::Data<AppState>,
    writes: bool,
}

impl Domain {
    /// Runs one use case of the service and returns its result.
    pub async fn run<T, F>(&self, use_case: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Service) -> Result<T, DomainError> + Send + 'static,
    {
        let state = self.state.clone();
        let invalidates = self.writes.then(|| self.state.responses.clone());
        blocking(&self.state, invalidates, move || Ok(use_case(&state.service)?)).await
    }

    /// The response cache of hot reads.
    pub fn responses(&self) -> &ResponseCache {
        &self.state.responses
    }
}

impl FromRequest for Domain {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(req).map(|state| Self { state, writes: !req.method().is_safe() }))
    }
}

/// The principal a valid bearer token speaks for. On the legacy application-scoped paths
/// (`/v1/applications/{app_id}/…`) the id must be `me` or the token's own application; any
/// other id is answered as not found (DESIGN.md, "Tenancy").
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let authorization = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_owned));
        let app_param = req.match_info().get("app_id").map(str::to_owned);
        // Output options are checked before the handler runs: a bad `fields=` must not be found
        // only when answering, after a write committed.
        let options = crate::output::OutputOptions::of(req);
        let req = req.clone();
        Box::pin(async move {
            options?;
            let state = state?;
            let principal = authenticate(&state, authorization).await?;
            if let Some(app) = app_param {
                if app != "me" && app.parse::<i64>().ok() != Some(principal.application_id().0) {
                    return Err(DomainError::NotFound("application").into());
                }
            }
            if let Some(limits) = &state.rate_limits {
                limits.check_application(&req, principal.application_id().0)?;
            }
            Ok(Self(principal))
        })
    }
}

/// The principal of a request's `Authorization` header (as read by `header::AUTHORIZATION`).
pub(crate) async fn authenticate(
    state: &web::Data<AppState>,
    authorization: Option<Result<String, header::ToStrError>>,
) -> Result<Principal, ApiError> {
    let authorization = match authorization {
        None => None,
        Some(Ok(value)) => Some(value),
        Some(Err(_)) => {
            return Err(roost_auth::BearerError::InvalidRequest("the Authorization header is not ASCII").into())
        }
    };
    // A token checked recently needs no trip to storage.
    match state.auth.authenticate_cached(authorization.as_deref(), now())? {
        Some(principal) => Ok(principal),
        None => {
            let looking_up = state.clone();
            blocking(state, None, move || Ok(looking_up.auth.authenticate(authorization.as_deref(), now())?)).await
        }
    }
}

/// A request body, JSON or a form, read in either casing, then deserialized as `T`: one
/// mechanism for every create and update (Kayako's convention: form bodies besides JSON).
///
/// - JSON (`application/json`, any `+json` type, the spec's merge-patch spelling), checked for
///   type, size and shape by the app's `JsonConfig`.
/// - `application/x-www-form-urlencoded`: bracket keys nest (`properties[color]=red`), a repeated
///   key is an array, and values take the type the field has (`isGuest=true` is a boolean, a
///   `name` of `123` a string).
///
/// Either casing: ChatKitty 2.41.9's camelCase or the newer spec's snake_case (`display_name` is
/// read as `displayName`); user data such as `properties` as sent.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T> std::ops::Deref for Body<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Body<T> {
    /// The body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A form read as untyped JSON: `true` and `false` as booleans (the rest stays text).
fn form_booleans(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(text) if text == "true" => Value::Bool(true),
        Value::String(text) if text == "false" => Value::Bool(false),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| if name == "properties" { (name, value) } else { (name, form_booleans(value)) })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(form_booleans).collect()),
        other => other,
    }
}

/// Whether `req` sends a form.
fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// A form's pairs rewritten for `serde_qs`: names in camelCase (but `properties[…]` keys), and a
/// repeated plain name numbered as an array (`tag=a&tag=b` → `tag[0]=a&tag[1]=b`).
/// For each plain field whose value `error` names as not being the sequence it expected: the
/// form with that field written as the list of its comma-separated parts. User data
/// (`properties…`) is never split.
fn comma_lists(pairs: &[(String, String)], error: &str) -> Vec<(String, Vec<(String, String)>)> {
    if !error.contains("expected a sequence") {
        return Vec::new();
    }
    let candidates = pairs.iter().filter(|(name, value)| {
        !name.contains('[') && !name.starts_with("properties") && error.contains(&format!("\"{value}\""))
    });
    candidates
        .map(|(name, value)| {
            let mut split: Vec<(String, String)> = pairs.iter().filter(|(n, _)| n != name).cloned().collect();
            let parts = value.split(',').map(str::trim).filter(|p| !p.is_empty());
            // Indexed names: a list of one part is a list too.
            split.extend(parts.enumerate().map(|(i, part)| (format!("{name}[{i}]"), part.to_owned())));
            (value.clone(), split)
        })
        .collect()
}

fn form_for_qs(pairs: Vec<(String, String)>) -> Result<String, ApiError> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (name, _) in &pairs {
        match seen.iter_mut().find(|(n, _)| n == name) {
            Some((_, count)) => *count += 1,
            None => seen.push((name.clone(), 1)),
        }
    }
    let mut next_index: Vec<(String, usize)> = Vec::new();
    let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
    for (name, value) in pairs {
        let repeated = seen.iter().any(|(n, count)| *n == name && *count > 1);
        let (head, tail) = match name.split_once('[') {
            Some((head, tail)) => (head.to_owned(), format!("[{tail}")),
            None => (name.clone(), String::new()),
        };
        let head = if head == "properties" { head } else { camel_name(&head) };
        let key = if repeated && tail.is_empty() {
            let index = match next_index.iter_mut().find(|(n, _)| *n == name) {
                Some((_, index)) => {
                    *index += 1;
                    *index
                }
                None => {
                    next_index.push((name.clone(), 0));
                    0
                }
            };
            format!("{head}[{index}]")
        } else {
            format!("{head}{tail}")
        };
        out.push((key, value));
    }
    // Brackets come out percent-encoded, which serde_qs reads in its non-strict mode.
    serde_urlencoded::to_string(&out).map_err(|e| ApiError::BadRequest(format!("malformed form body: {e}")))
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if is_form(req) {
            let bytes = web::Bytes::from_request(req, payload);
            return Box::pin(async move {
                let bytes = bytes.await?;
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                    .map_err(|e| ApiError::BadRequest(format!("malformed form body: {e}")))?;
                let form = form_for_qs(pairs.clone())?;
                let qs = serde_qs::Config::new(5, false);
                let typed = qs.deserialize_str::<T>(&form);
                let mut error = match typed {
                    Ok(body) => return Ok(Self(body)),
                    Err(e) => e,
                };
                // A field typed as an array may come as a comma list (`members=jane,bob`): a value
                // is split only when its field expected a sequence, so a comma inside a text stays.
                // Several fields may hold the value the error names: each is tried, and a split
                // is kept when what remains is another array field's comma list.
                let mut pairs = pairs;
                'fields: loop {
                    let message = error.to_string();
                    for (value, split) in comma_lists(&pairs, &message) {
                        match qs.deserialize_str::<T>(&form_for_qs(split.clone())?) {
                            Ok(body) => return Ok(Self(body)),
                            Err(e) => {
                                let next = e.to_string();
                                if next.contains("expected a sequence") && !next.contains(&format!("\"{value}\"")) {
                                    (pairs, error) = (split, e);
                                    continue 'fields;
                                }
                            }
                        }
                    }
                    break;
                }
                // A body with no fixed type (a merge patch): the form as a JSON object, its values
                // strings, `true` and `false` booleans.
                qs.deserialize_str::<serde_json::Map<String, serde_json::Value>>(&form)
                    .ok()
                    .and_then(|fields| serde_json::from_value(form_booleans(serde_json::Value::Object(fields))).ok())
                    .map(Self)
                    .ok_or_else(|| ApiError::BadRequest(format!("malformed form body: {error}")).into())
            });
        }
        let json = web::Json::<Box<serde_json::value::RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = json.await?.into_inner();
            let malformed = |e: serde_json::Error| ApiError::BadRequest(format!("malformed JSON body: {e}")).into();
            // A body without any `_` has no snake_case name to read: deserialized at once, without
            // building a tree first (what every camelCase client sends).
            if !raw.get().contains('_') {
                return serde_json::from_str(raw.get()).map(Self).map_err(malformed);
            }
            let value: serde_json::Value = serde_json::from_str(raw.get()).map_err(malformed)?;
            serde_json::from_value(casing::to_camel(value)).map(Self).map_err(malformed)
        })
    }
}

/// The query string as ordered pairs; repeated keys (`sort=a&sort=b`) are kept.
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// The last value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// `name` as an integer, or a 400 naming the parameter.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::BadRequest(format!("query parameter '{name}' must be an integer, got '{v}'"))
                })
            })
            .transpose()
    }

    /// The ids of a bulk request (Kayako's `ids=1,2,3`, or `ids` repeated), when `ids` is
    /// present. Present but empty is a 400, never "no filter": a bulk request must not fall back
    /// to the operation on everything.
    pub fn ids(&self) -> Result<Option<Vec<i64>>, ApiError> {
        let values = self.all("ids");
        if values.is_empty() {
            return Ok(None);
        }
        let mut ids = Vec::new();
        for id in values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()) {
            ids.push(id.parse::<i64>().map_err(|_| {
                ApiError::BadRequest(format!("query parameter 'ids' must list integer ids, got '{id}'"))
            })?);
        }
        if ids.is_empty() {
            return Err(ApiError::BadRequest("query parameter 'ids' names no id".into()));
        }
        Ok(Some(ids))
    }

    /// The ids a bulk request must name (`ids=`), or a 400 saying that `operation` needs them.
    pub fn required_ids(&self, operation: &str) -> Result<Vec<i64>, ApiError> {
        self.ids()?.ok_or_else(|| ApiError::BadRequest(format!("{operation} needs 'ids' (e.g. ?ids=1,2,3)")))
    }

    /// The query string of a request, its names read in either casing (`display_name` as
    /// `displayName`; a `sort` property too: `created_time,desc`), user-data names
    /// (`properties…`) as written.
    pub fn parse(req: &HttpRequest) -> Result<Self, ApiError> {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))?;
        Ok(Self(
            pairs
                .into_iter()
                .map(|(name, value)| {
                    // Most names have no `_` to read: kept as they are, without a copy.
                    if name.starts_with("properties") || !(name.contains('_') || value.contains('_')) {
                        return (name, value);
                    }
                    let value = if name == "sort" {
                        match value.split_once(',') {
                            Some((property, direction)) => format!("{},{direction}", camel_name(property)),
                            None => camel_name(&value),
                        }
                    } else {
                        value
                    };
                    (camel_name(&name), value)
                })
                .collect(),
        ))
    }

    /// Pairs other than `excluded`, for repeating filters on page links.
    pub fn without(&self, excluded: &[&str]) -> Vec<(String, String)> {
        self.0.iter().filter(|(k, _)| !excluded.contains(&k.as_str())).cloned().collect()
    }
}

impl FromRequest for QueryPairs {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::parse(req))
    }
}

/// An integer id from the path parameter `name`.
pub fn path_id(req: &HttpRequest, name: &str) -> Result<i64, ApiError> {
    let raw = req.match_info().get(name).unwrap_or_default();
    raw.parse::<i64>()
        .map_err(|_| ApiError::BadRequest(format!("path parameter '{name}' must be a 64-bit integer, got '{raw}'")))
}

macro_rules! path_id_extractor {
    ($(#[$doc:meta])* $name:ident, $param:literal, $id:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub $id);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<Self, ApiError>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(path_id(req, $param).map(|id| Self(<$id>::from(id))))
            }
        }
    };
}

path_id_extractor!(
    /// The `{user_id}` of a path.
    UserIdPath, "user_id", roost_domain::UserId
);
path_id_extractor!(
    /// The `{channel_id}` of a path.
    ChannelIdPath, "channel_id", roost_domain::ChannelId
);
path_id_extractor!(
    /// The `{message_id}` of a path.
    MessageIdPath, "message_id", roost_domain::MessageId
);
path_id_extractor!(
    /// The `{thread_id}` of a path.
    ThreadIdPath, "thread_id", roost_domain::ThreadId
);

/// A list request: its query (numbered pages: `page`, `size`, `sort`; cursor pages: `start`,
/// `next`, `size`, `relation`; and filters), and what the links of its pages are built from.
pub struct ListRequest {
    /// The query pairs.
    pub query: QueryPairs,
    /// Link building.
    pub urls: Urls,
    path: String,
}

impl ListRequest {
    /// The page number and size of a numbered list that has no sort of its own (blocks,
    /// webhooks, chat sessions, deliveries).
    pub fn numbered(&self) -> Result<(u32, u32), ApiError> {
        let page: PageRequest<roost_domain::model::user::UserSort> = self.page()?;
        Ok((page.number, page.size))
    }

    /// A numbered page request from `page`, `size` and `sort`.
    pub fn page<F: SortField>(&self) -> Result<PageRequest<F>, ApiError> {
        let query = &self.query;
        Ok(PageRequest::parse(query.int("page")?, query.int("size")?, &query.all("sort"))?)
    }

    /// A cursor request from `size`, `start`, `next` and `relation`.
    pub fn cursor(&self) -> Result<CursorRequest, ApiError> {
        let query = &self.query;
        Ok(CursorRequest::parse(query.int("size")?, query.int("start")?, query.int("next")?, query.get("relation"))?)
    }

    /// Links of a numbered page: this path with the filters, a page and size of their own.
    pub fn page_links(&self) -> PageLinks {
        PageLinks::new(self.urls.root(&self.path), self.query.without(&["page", "size"]))
    }

    /// Links of a cursor page: this path with the filters, cursors of their own.
    pub fn cursor_links(&self) -> CursorLinks {
        CursorLinks::new(self.urls.root(&self.path), self.query.without(&["start", "next", "size", "relation"]))
    }

    /// The `properties=` filter: a JSON object whose top-level pairs must all match.
    pub fn properties(&self) -> Result<Option<Properties>, ApiError> {
        self.query
            .get("properties")
            .map(|raw| match serde_json::from_str::<serde_json::Value>(raw) {
                Ok(serde_json::Value::Object(map)) => Ok(map),
                _ => Err(ApiError::BadRequest(format!(
                    "query parameter 'properties' must be a JSON object, e.g. {{\"team\":\"red\"}}; got '{raw}'"
                ))),
            })
            .transpose()
    }
}

impl FromRequest for ListRequest {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Every collection is read through this extractor: its answer gets a weak ETag.
        crate::conditional::mark_collection(req);
        ready(QueryPairs::parse(req).map(|query| Self { query, urls: Urls::of(req), path: Urls::public_path(req) }))
    }
}

/// Largest token-endpoint body.
const FORM_LIMIT: usize = 16 * 1024;
/// Most form fields accepted.
const FORM_FIELDS: usize = 32;

fn form_error(description: impl Into<String>) -> ApiError {
    OAuthError::Protocol { code: OAuthErrorCode::InvalidRequest, description: description.into(), basic_auth: false }
        .into()
}

/// OAuth endpoint parameters from an `application/x-www-form-urlencoded` body (RFC 6749 §3.2)
/// or a `multipart/form-data` one (what the official ChatKitty JS SDK and docs send).
pub struct OAuthForm(pub FormParams);

impl FromRequest for OAuthForm {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or("").trim().to_owned();
        let headers = req.headers().clone();
        let mut payload = payload.take();
        Box::pin(async move {
            match essence.as_str() {
                "application/x-www-form-urlencoded" => {
                    let mut body = web::BytesMut::new();
                    while let Some(chunk) = payload.next().await {
                        let chunk = chunk.map_err(|e| form_error(format!("cannot read the body: {e}")))?;
                        if body.len() + chunk.len() > FORM_LIMIT {
                            return Err(form_error(format!("the body is larger than {FORM_LIMIT} bytes")));
                        }
                        body.extend_from_slice(&chunk);
                    }
                    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                        .map_err(|e| form_error(format!("malformed form body: {e}")))?;
                    if pairs.len() > FORM_FIELDS {
                        return Err(form_error("too many form fields"));
                    }
                    Ok(Self(FormParams(pairs)))
                }
                "multipart/form-data" => read_multipart(&headers, payload).await.map(Self),
                _ => Err(form_error(
                    "the body must be application/x-www-form-urlencoded or multipart/form-data (RFC 6749 §3.2)",
                )),
            }
        })
    }
}

async fn read_multipart(headers: &header::HeaderMap, payload: Payload) -> Result<FormParams, ApiError> {
    let mut multipart = actix_multipart::Multipart::new(headers, payload);
    let mut pairs = Vec::new();
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| form_error(format!("malformed multipart body: {e}")))?;
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_name())
            .map(str::to_owned)
            .ok_or_else(|| form_error("a multipart field has no name"))?;
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| form_error(format!("malformed multipart body: {e}")))?;
            total += chunk.len();
            if total > FORM_LIMIT {
                return Err(form_error(format!("the body is larger than {FORM_LIMIT} bytes")));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value).map_err(|_| form_error(format!("field '{name}' is not UTF-8 text")))?;
        pairs.push((name, value));
        if pairs.len() > FORM_FIELDS {
            return Err(form_error("too many form fields"));
        }
    }
    Ok(FormParams(pairs))
}
