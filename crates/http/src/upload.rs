//! Reading uploads (`multipart/form-data`, as the ChatKitty files seed describes) and serving
//! hosted files: the HTTP side of [`roost_files`], which stores the bytes.

use std::ops::Range;

use actix_multipart::{Field, Multipart};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest};
use futures_util::{StreamExt, TryStreamExt};
use roost_domain::model::file::{check_picture, sanitize_name, StoredFile};
use roost_domain::model::message::{NewContent, NewMessage};
use roost_domain::model::user::UserRef;
use roost_domain::{ApplicationId, DomainError, FieldErrorCode, Properties};
use roost_files::{Files, FilesError};

use crate::error::ApiError;
use crate::extract::Body;
use crate::routes::bodies::{CreateMessageBody, UserRefBody};
use crate::state::AppState;

/// Bytes read before a picture's type is checked: enough for every signature checked.
const SIGNATURE_BYTES: usize = 16;

/// Media types a browser would run or render as a page: served as attachments, never inline.
const EXECUTABLE: [&str; 8] = [
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/javascript",
    "application/javascript",
    "application/ecmascript",
    "text/xml",
    "application/xml",
];

impl From<FilesError> for ApiError {
    fn from(e: FilesError) -> Self {
        match e {
            FilesError::TooLarge { limit } => {
                ApiError::PayloadTooLarge(format!("the file is larger than the limit of {limit} bytes"))
            }
            FilesError::Interrupted(why) => ApiError::BadRequest(format!("the upload was interrupted: {why}")),
            FilesError::NotFound => ApiError::Domain(DomainError::NotFound("file")),
            FilesError::Unsatisfiable => ApiError::RangeNotSatisfiable { size: None },
            FilesError::Store(e) => ApiError::Internal(format!("file store: {e}")),
            FilesError::Config(why) => ApiError::Internal(format!("file store: {why}")),
        }
    }
}

/// The node's file store; a server always has one (`None` only in tests of other things).
pub fn store(state: &AppState) -> Result<&Files, ApiError> {
    state.settings.files.as_ref().ok_or_else(|| ApiError::Internal("no file store is configured".into()))
}

/// Bytes stored for a request that has not recorded them yet.
#[must_use = "an upload must be settled: its bytes are removed when the request fails"]
pub struct Pending(Option<(Files, String)>);

impl Pending {
    /// The bytes under `key`.
    pub fn of(files: &Files, key: &str) -> Self {
        Self(Some((files.clone(), key.to_owned())))
    }

    /// Nothing was uploaded.
    pub fn none() -> Self {
        Self(None)
    }

    /// Passes `result` on; when it is an error, the bytes go first (nothing records them).
    pub async fn settle<T, E>(self, result: Result<T, E>) -> Result<T, E> {
        if let (Err(_), Some((files, key))) = (&result, &self.0) {
            forget_upload(files, key).await;
        }
        result
    }
}

/// The new message of `POST /v1/channels/{id}/messages`, `/v1/threads/{id}/messages` and
/// `/v1/messages/{id}/replies`: an upload (`multipart/form-data`: a FILE message, or SYSTEM_FILE
/// when no part names a user), or a JSON or form body (text, or an external file).
pub async fn new_message(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    application_id: ApplicationId,
) -> Result<(NewMessage, Pending), actix_web::Error> {
    if !is_multipart(req.headers()) {
        let body = Body::<CreateMessageBody>::from_request(req, &mut payload.into_inner()).await?;
        return Ok((body.into_inner().into_new_message()?, Pending::none()));
    }
    let files = store(state)?;
    let limit = state.settings.files_max_bytes;
    let (file, parts) = upload_message_file(req.headers(), payload, files, application_id, limit).await?;
    let pending = Pending::of(files, &file.key);
    let message = NewMessage {
        content: NewContent::Hosted(file),
        user: parts.user,
        group_tag: parts.group_tag,
        properties: parts.properties,
    };
    Ok((message, pending))
}

/// Whether the request body is `multipart/form-data`.
pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The `file` part of a display-picture upload, streamed to the store: it must be a PNG, JPEG,
/// GIF or WebP whose bytes match its declared type, of at most `limit` bytes. Other parts are
/// read and ignored.
pub async fn upload_picture(
    headers: &HeaderMap,
    payload: web::Payload,
    files: &Files,
    application_id: ApplicationId,
    limit: u64,
) -> Result<StoredFile, ApiError> {
    let mut parts = Multipart::new(headers, payload);
    while let Some(field) = parts.try_next().await.map_err(malformed)? {
        if field.name() != Some("file") {
            drain(field).await?;
            continue;
        }
        let declared = field.content_type().map(|m| m.essence_str().to_owned()).unwrap_or_default();
        let name = file_name(&field);
        let (head, rest) = peek(field).await?;
        let content_type = check_picture(&declared, &head)?;
        let body =
            futures_util::stream::iter([Ok(Bytes::from(head))]).chain(futures_util::stream::iter(rest).flatten());
        return store_part(files, body, limit, application_id, name, content_type.to_owned()).await;
    }
    Err(DomainError::field("file", "file", FieldErrorCode::MissingField, "the upload has no part named 'file'").into())
}

/// Longest part other than the file (they are held in memory): a user, a tag, properties.
const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The parts of a file message's upload besides the file (the ChatKitty files seed).
#[derive(Debug, Default)]
struct UploadParts {
    /// `groupTag` (or `group_tag`).
    group_tag: Option<String>,
    /// `username` (a user name) or `user` (a JSON reference): the sender of a FILE message.
    user: Option<UserRef>,
    /// `properties`: a JSON object.
    properties: Properties,
}

/// A file message's upload: the part `file` streamed to the store (at most `limit` bytes), the
/// other parts read as [`UploadParts`]. Parts may come in any order; when any part is bad, the
/// bytes stored are removed before the error is returned.
async fn upload_message_file(
    headers: &HeaderMap,
    payload: web::Payload,
    files: &Files,
    application_id: ApplicationId,
    limit: u64,
) -> Result<(StoredFile, UploadParts), ApiError> {
    let mut stored = None;
    let read = read_message_parts(headers, payload, files, application_id, limit, &mut stored).await;
    match (read, stored) {
        (Ok(parts), Some(file)) => Ok((file, parts)),
        (Ok(_), None) => Err(DomainError::field(
            "message",
            "file",
            FieldErrorCode::MissingField,
            "the upload has no part named 'file'",
        )
        .into()),
        (Err(error), stored) => {
            if let Some(file) = stored {
                forget_upload(files, &file.key).await;
            }
            Err(error)
        }
    }
}

async fn read_message_parts(
    headers: &HeaderMap,
    payload: web::Payload,
    files: &Files,
    application_id: ApplicationId,
    limit: u64,
    stored: &mut Option<StoredFile>,
) -> Result<UploadParts, ApiError> {
    let mut parts = UploadParts::default();
    let mut multipart = Multipart::new(headers, payload);
    while let Some(field) = multipart.try_next().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if stored.is_some() {
                return Err(ApiError::BadRequest("send one part named 'file' per message".into()));
            }
            let content_type =
                field.content_type().map_or("application/octet-stream".to_owned(), |m| m.essence_str().to_owned());
            let name = file_name(&field);
            *stored = Some(store_part(files, field, limit, application_id, name, content_type).await?);
            continue;
        }
        let value = read_field(field, &name).await?;
        let invalid = |why: String| ApiError::from(DomainError::field("message", &name, FieldErrorCode::Invalid, why));
        let text = || String::from_utf8(value.to_vec()).map_err(|_| invalid(format!("'{name}' must be UTF-8 text")));
        match name.as_str() {
            "groupTag" | "group_tag" => parts.group_tag = Some(text()?),
            "username" | "user" if parts.user.is_some() => {
                return Err(invalid("name the sender once, with 'username' or 'user'".into()))
            }
            "username" => parts.user = Some(UserRef::Name(text()?)),
            "user" => {
                let reference: UserRefBody = serde_json::from_slice(&value)
                    .map_err(|e| invalid(format!("'user' must be {{\"id\"}} or {{\"username\"}}: {e}")))?;
                parts.user = Some(reference.into());
            }
            "properties" => {
                parts.properties = serde_json::from_slice(&value)
                    .map_err(|e| invalid(format!("'properties' must be a JSON object: {e}")))?;
            }
            // A FILE message is what an upload makes: `type` may say so, and nothing else.
            "type" => {
                if !matches!(text()?.as_str(), "FILE" | "SYSTEM_FILE") {
                    return Err(invalid("an upload makes a FILE (or SYSTEM_FILE) message".into()));
                }
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unexpected part '{other}': an upload has 'file', and optionally 'groupTag', 'username' or \
                     'user', and 'properties'"
                )))
            }
        }
    }
    Ok(parts)
}

/// The name a file part was sent with, sanitised (never a path, never a key).
fn file_name(field: &Field) -> String {
    sanitize_name(field.content_disposition().and_then(|d| d.get_filename()).unwrap_or_default())
}

/// Streams a file part to the store under a new key: the file, not recorded yet.
async fn store_part<S, E>(
    files: &Files,
    body: S,
    limit: u64,
    application_id: ApplicationId,
    name: String,
    content_type: String,
) -> Result<StoredFile, ApiError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let key = Files::new_key();
    let uploaded = files.upload(&key, body, limit).await?;
    Ok(StoredFile {
        key,
        application_id,
        name,
        content_type,
        size: uploaded.size,
        checksum: uploaded.sha256,
        created_time: roost_domain::now(),
    })
}

/// A part other than the file, whole, at most [`MAX_FIELD_BYTES`].
async fn read_field(mut field: Field, name: &str) -> Result<Bytes, ApiError> {
    let mut value = web::BytesMut::new();
    while let Some(chunk) = field.try_next().await.map_err(malformed)? {
        if value.len() + chunk.len() > MAX_FIELD_BYTES {
            return Err(ApiError::PayloadTooLarge(format!("the part '{name}' is larger than {MAX_FIELD_BYTES} bytes")));
        }
        value.extend_from_slice(&chunk);
    }
    Ok(value.freeze())
}

/// The records of an import (`POST /v1/imports/…`), streamed to the store under a new key, at
/// most `limit` bytes: the part `file` of a multipart body (as the spec and the official
/// clients send it, a file or a plain field), or the whole body (a JSON array). Other parts are
/// read and ignored. The key.
pub async fn import_input(
    headers: &HeaderMap,
    payload: web::Payload,
    files: &Files,
    limit: u64,
) -> Result<String, ApiError> {
    let key = Files::new_key();
    if !is_multipart(headers) {
        files.upload(&key, payload, limit).await?;
        return Ok(key);
    }
    let mut stored = false;
    let mut parts = Multipart::new(headers, payload);
    let read: Result<(), ApiError> = async {
        while let Some(field) = parts.try_next().await.map_err(malformed)? {
            if field.name() == Some("file") && !stored {
                files.upload(&key, field, limit).await?;
                stored = true;
            } else {
                drain(field).await?;
            }
        }
        Ok(())
    }
    .await;
    match (read, stored) {
        (Ok(()), true) => Ok(key),
        (Ok(()), false) => Err(DomainError::field(
            "import",
            "file",
            FieldErrorCode::MissingField,
            "the upload has no part named 'file' (a JSON array of records)",
        )
        .into()),
        (Err(error), stored) => {
            if stored {
                forget_upload(files, &key).await;
            }
            Err(error)
        }
    }
}

/// Removes the bytes of an upload that was not recorded (its request failed). A failure is only
/// logged: with no row, the bytes are what `roost files sweep` removes.
pub async fn forget_upload(files: &Files, key: &str) {
    if let Err(error) = files.delete(key).await {
        tracing::warn!(error = %error, "could not remove the bytes of a failed upload");
    }
}

fn malformed(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!("malformed multipart body: {e}"))
}

async fn drain(mut field: Field) -> Result<(), ApiError> {
    while field.try_next().await.map_err(malformed)?.is_some() {}
    Ok(())
}

/// The first [`SIGNATURE_BYTES`] of a part (fewer if it is shorter), and the rest of the part
/// (`None` when it ended: a finished part must not be read again).
async fn peek(mut field: Field) -> Result<(Vec<u8>, Option<Field>), ApiError> {
    let mut head = Vec::with_capacity(SIGNATURE_BYTES);
    while head.len() < SIGNATURE_BYTES {
        match field.try_next().await.map_err(malformed)? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => return Ok((head, None)),
        }
    }
    Ok((head, Some(field)))
}

/// A single `Range: bytes=…` request (RFC 9110 §14.1.2) over a file of `size` bytes: `None`
/// when absent, malformed or asking for several ranges (then the whole file is sent, as §14.2
/// allows); 416 when it lies outside the file.
pub fn requested_range(headers: &HeaderMap, size: u64) -> Result<Option<Range<u64>>, ApiError> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some(spec) = value.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Ok(None) };
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<u64>().ok(), last.parse::<u64>().ok()) {
        // `bytes=-N`: the last N bytes.
        (None, Some(suffix)) if first.is_empty() && suffix > 0 => size.saturating_sub(suffix)..size,
        (None, Some(_)) if first.is_empty() => return Err(ApiError::RangeNotSatisfiable { size: Some(size) }),
        (Some(start), None) if last.is_empty() => start..size,
        (Some(start), Some(end)) if start <= end => start..end.saturating_add(1).min(size),
        _ => return Ok(None),
    };
    if range.start >= size {
        return Err(ApiError::RangeNotSatisfiable { size: Some(size) });
    }
    Ok(Some(range))
}

/// `Content-Disposition` for a hosted file (RFC 6266): `inline` unless a browser would run it,
/// an ASCII `filename` fallback and the UTF-8 name in `filename*` (RFC 8187).
pub fn disposition(file: &StoredFile) -> HeaderValue {
    let media = file.content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let kind = if EXECUTABLE.contains(&media.as_str()) { "attachment" } else { "inline" };
    let ascii: String = file
        .name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(&file.name, percent_encoding::NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> Result<Option<Range<u64>>, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        requested_range(&headers, size)
    }

    #[test]
    fn single_byte_ranges() {
        assert_eq!(range("bytes=0-9", 100).unwrap(), Some(0..10));
        assert_eq!(range("bytes=90-", 100).unwrap(), Some(90..100));
        assert_eq!(range("bytes=-10", 100).unwrap(), Some(90..100));
        assert_eq!(range("bytes=95-200", 100).unwrap(), Some(95..100));
        assert_eq!(range("bytes=-200", 100).unwrap(), Some(0..100));
        assert!(range("bytes=100-", 100).is_err());
        assert_eq!(range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(range("items=0-1", 100).unwrap(), None);
        assert_eq!(range("bytes=5-1", 100).unwrap(), None);
    }

    #[test]
    fn dispositions_are_safe() {
        let file = |name: &str, content_type: &str| StoredFile {
            key: "k".into(),
            application_id: ApplicationId(1),
            name: name.into(),
            content_type: content_type.into(),
            size: 1,
            checksum: "c".into(),
            created_time: roost_domain::now(),
        };
        let png = disposition(&file("photo é.png", "image/png"));
        assert_eq!(png.to_str().unwrap(), "inline; filename=\"photo _.png\"; filename*=UTF-8''photo%20%C3%A9%2Epng");
        let page = disposition(&file("x\".html", "text/html; charset=utf-8"));
        assert!(page.to_str().unwrap().starts_with("attachment; filename=\"x_.html\""));
    }
}
