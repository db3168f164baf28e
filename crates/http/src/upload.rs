//! Reading uploads (`multipart/form-data`, as the ChatKitty files seed describes) and serving
//! hosted files: the HTTP side of [`roost_files`], which stores the bytes.

use std::ops::Range;

use actix_multipart::{Field, Multipart};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::web::{self, Bytes};
use futures_util::{StreamExt, TryStreamExt};
use roost_domain::model::file::{check_picture, sanitize_name, StoredFile};
use roost_domain::{ApplicationId, DomainError, FieldErrorCode};
use roost_files::{Files, FilesError};

use crate::error::ApiError;

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
        }
    }
}

/// Removes the bytes of files whose records are gone (after the transaction that removed them
/// committed). A failure is logged: `roost files sweep` finds what is left.
pub async fn remove(state: &crate::state::AppState, keys: impl IntoIterator<Item = String>) {
    let Some(files) = &state.settings.files else { return };
    for key in keys {
        if let Err(error) = files.delete(&key).await {
            tracing::warn!(error = %error, "could not remove a file's bytes");
        }
    }
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
        let name = sanitize_name(field.content_disposition().and_then(|d| d.get_filename()).unwrap_or_default());
        let (head, rest) = peek(field).await?;
        let content_type = check_picture(&declared, &head)?;
        let key = Files::new_key();
        let body =
            futures_util::stream::iter([Ok(Bytes::from(head))]).chain(futures_util::stream::iter(rest).flatten());
        let stored = files.upload(&key, body, limit).await?;
        return Ok(StoredFile {
            key,
            application_id,
            name,
            content_type: content_type.to_owned(),
            size: stored.size,
            checksum: stored.sha256,
            created_time: roost_domain::now(),
        });
    }
    Err(DomainError::field("file", "file", FieldErrorCode::MissingField, "the upload has no part named 'file'").into())
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
