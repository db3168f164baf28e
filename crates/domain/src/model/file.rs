//! Hosted files: their metadata (the bytes live in the file store, never in the database), the
//! names clients give them, and what a display picture must be.

use super::ids::ApplicationId;
use super::Timestamp;
use crate::error::{DomainError, FieldErrorCode};

/// Longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// A hosted file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredFile {
    /// Its key in the file store: random, never derived from the client's name.
    pub key: String,
    /// The tenant.
    pub application_id: ApplicationId,
    /// The name it was uploaded with, sanitised ([`sanitize_name`]).
    pub name: String,
    /// Its media type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes (lower-case hex): its strong entity tag.
    pub checksum: String,
    /// When it was uploaded.
    pub created_time: Timestamp,
}

/// A user's display picture, when not the generated default.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Picture {
    /// A hosted file, by key.
    Hosted(String),
    /// A picture hosted elsewhere, by URL.
    External(String),
}

/// A file name as kept: the last path segment only (no `..`, no directories), no control
/// characters, at most [`MAX_NAME_CHARS`] characters; `file` when nothing is left.
pub fn sanitize_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let name: String = trimmed.chars().take(MAX_NAME_CHARS).collect();
    if name.is_empty() {
        "file".to_owned()
    } else {
        name
    }
}

/// The image type `head` (a file's first bytes) starts like: PNG, JPEG, GIF or WebP.
pub fn image_type(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A display picture must be a PNG, JPEG, GIF or WebP whose bytes match its declared type.
pub fn check_picture(declared: &str, head: &[u8]) -> Result<&'static str, DomainError> {
    let declared = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let declared = if declared == "image/jpg" { "image/jpeg".to_owned() } else { declared };
    match image_type(head) {
        Some(actual) if actual == declared => Ok(actual),
        Some(actual) => Err(DomainError::field(
            "file",
            "file",
            FieldErrorCode::Invalid,
            format!("the file is declared as {declared} but its bytes are {actual}"),
        )),
        None => Err(DomainError::field(
            "file",
            "file",
            FieldErrorCode::Invalid,
            "a display picture must be a PNG, JPEG, GIF or WebP image",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\Users\\me\\photo.png"), "photo.png");
        assert_eq!(sanitize_name("..\u{0}"), "file");
        assert_eq!(sanitize_name("re\u{7}port\n.pdf"), "report.pdf");
        assert_eq!(sanitize_name(".hidden"), "hidden");
        assert_eq!(sanitize_name("日本語のファイル.txt"), "日本語のファイル.txt");
        assert_eq!(sanitize_name(&"a".repeat(400)).chars().count(), MAX_NAME_CHARS);
        assert_eq!(sanitize_name(""), "file");
    }

    #[test]
    fn pictures_must_be_what_they_say() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(check_picture("image/png", png).unwrap(), "image/png");
        assert!(check_picture("image/jpeg", png).is_err());
        assert_eq!(check_picture("image/jpg", b"\xff\xd8\xff\xe0").unwrap(), "image/jpeg");
        assert_eq!(check_picture("image/webp", b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), "image/webp");
        assert_eq!(check_picture("image/gif", b"GIF89a..").unwrap(), "image/gif");
        assert!(check_picture("image/svg+xml", b"<svg xmlns=").is_err());
        assert!(check_picture("text/html", b"<html>").is_err());
    }
}
