//! File bytes, through the `object_store` crate: a folder on this machine by default. Which store
//! is in use is decided here and in the binary's configuration; the HTTP layer only streams
//! bytes in and out by key, and the domain only sees the files' metadata.
//!
//! Uploads are streamed (`object_store`'s multipart upload, a part at a time), so a file is never
//! held whole in memory; a size limit is enforced while streaming, and an upload that fails or
//! goes past it is aborted, leaving nothing in the store.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, GetResultPayload, ObjectStore, WriteMultipart};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Parts written to the store at once while uploading: bounds an upload's memory to a few parts.
const PARTS_IN_FLIGHT: usize = 2;
/// Bytes per part on this machine's disk: small, since each upload buffers a part or so.
const LOCAL_PART_BYTES: usize = 1 << 20;
/// Bytes per part on S3, whose parts (all but the last) must be at least 5 MiB.
const S3_PART_BYTES: usize = 5 << 20;

/// What went wrong with a file.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The file's bytes went past the limit; nothing was kept.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The client's body failed (a disconnect, a malformed part); nothing was kept.
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// No such file.
    #[error("no such file")]
    NotFound,
    /// The range asked for is outside the file.
    #[error("the range is outside the file")]
    Unsatisfiable,
    /// The store's address or settings are wrong.
    #[error("{0}")]
    Config(String),
    /// The store failed.
    #[error("the file store failed: {0}")]
    Store(#[source] object_store::Error),
}

impl From<object_store::Error> for FilesError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// A stored upload: its size and SHA-256 (lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// Bytes stored.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: String,
}

/// A file (or a range of it) being read.
pub struct Download {
    /// The bytes of `range`.
    pub bytes: BoxStream<'static, Result<Bytes, FilesError>>,
    /// The range sent.
    pub range: Range<u64>,
    /// The whole file's size.
    pub size: u64,
}

/// The file store of a node.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
    /// Bytes buffered per part of a multipart upload.
    part_bytes: usize,
    /// Where the files are, for messages (never a secret: no credentials).
    location: String,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files").field("location", &self.location).finish()
    }
}

impl Files {
    /// Files in `dir` on this machine (created when missing).
    pub fn local(dir: &Path) -> Result<Self, FilesError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            FilesError::Store(object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(e) })
        })?;
        let store = LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self { store: Arc::new(store), part_bytes: LOCAL_PART_BYTES, location: dir.display().to_string() })
    }

    /// Files in an S3-compatible store, from a URL `s3://bucket/prefix` (the prefix may be
    /// empty). Credentials, region and endpoint come from the standard variables
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
    /// `AWS_ALLOW_HTTP`, …), as `object_store` reads them.
    pub fn s3(url: &str) -> Result<Self, FilesError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| FilesError::Config(format!("'{url}' is not s3://bucket/prefix")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(FilesError::Config(format!("'{url}' names no bucket")));
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        // `object_store` reads `AWS_ENDPOINT`; the AWS SDKs' own name is `AWS_ENDPOINT_URL`.
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            builder = builder.with_endpoint(endpoint);
        }
        let store = builder.build()?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(store) } else { Arc::new(PrefixStore::new(store, prefix)) };
        Ok(Self { store, part_bytes: S3_PART_BYTES, location: url.trim_end_matches('/').to_owned() })
    }

    /// Files at `url`: `s3://bucket/prefix`, or else a folder on this machine.
    pub fn open(url: &str) -> Result<Self, FilesError> {
        if url.starts_with("s3://") {
            Self::s3(url)
        } else {
            Self::local(Path::new(url.strip_prefix("file://").unwrap_or(url)))
        }
    }

    /// Whether the store answers (for S3: the bucket exists and the credentials may list it).
    pub async fn check(&self) -> Result<(), FilesError> {
        self.store.list_with_delimiter(None).await?;
        Ok(())
    }

    /// Every key in the store, with when it was written.
    pub async fn list(&self) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>, FilesError> {
        let objects: Vec<_> = self.store.list(None).try_collect().await?;
        Ok(objects.into_iter().map(|meta| (meta.location.to_string(), meta.last_modified)).collect())
    }

    /// Where the files are, for start-up messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// A new key: 128 random bits, never derived from anything the client sent.
    pub fn new_key() -> String {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Streams `body` to `key`, at most `limit` bytes; on any failure the upload is aborted and
    /// nothing is left under `key`.
    pub async fn upload<S, E>(&self, key: &str, body: S, limit: u64) -> Result<Uploaded, FilesError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self.store.put_multipart(&Key::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_bytes);
        match write_all(&mut writer, body, limit).await {
            Ok(uploaded) => {
                writer.finish().await?;
                Ok(uploaded)
            }
            Err(error) => {
                // Aborting removes what was staged; a failure to abort is the store's to clean.
                let _ = writer.abort().await;
                Err(error)
            }
        }
    }

    /// Reads `key`, or the byte range `range` of it (`start..end`, end exclusive; clamped to the
    /// file as RFC 9110 §14.1.2 says of a last-byte position past the end).
    pub async fn download(&self, key: &str, range: Option<Range<u64>>) -> Result<Download, FilesError> {
        let location = Key::from(key);
        let size = self.store.head(&location).await?.size;
        let range = match range {
            None => 0..size,
            Some(r) if r.start >= size || r.start >= r.end => return Err(FilesError::Unsatisfiable),
            Some(r) => r.start..r.end.min(size),
        };
        let options = GetOptions { range: Some(GetRange::Bounded(range.clone())), ..GetOptions::default() };
        let result = self.store.get_opts(&location, options).await?;
        let bytes = match result.payload {
            // `object_store` would read a local file 8 KiB at a time: a 20 MiB download then took
            // 2 560 trips to a blocking thread (roost-bench files: 477 MiB/s).
            GetResultPayload::File(file, _) => read_file(file, result.range.clone()),
            GetResultPayload::Stream(stream) => stream.map_err(FilesError::from).boxed(),
        };
        Ok(Download { bytes, range, size })
    }

    /// Removes `key`; a key already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), FilesError> {
        match self.store.delete(&Key::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Bytes read from a local file per trip to a blocking thread.
const READ_CHUNK_BYTES: u64 = 256 << 10;

/// `range` of a local file, [`READ_CHUNK_BYTES`] at a time, each read on a blocking thread.
fn read_file(file: std::fs::File, range: Range<u64>) -> BoxStream<'static, Result<Bytes, FilesError>> {
    let failed = |e: std::io::Error| {
        FilesError::Store(object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(e) })
    };
    futures_util::stream::try_unfold((file, range), move |(file, range)| async move {
        if range.start >= range.end {
            return Ok(None);
        }
        let at = range.start;
        let take = (range.end - at).min(READ_CHUNK_BYTES);
        let (file, chunk) = tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::FileExt;
            let mut chunk = vec![0; usize::try_from(take).unwrap_or(0)];
            file.read_exact_at(&mut chunk, at).map(|()| (file, chunk))
        })
        .await
        .map_err(|e| failed(std::io::Error::other(e)))?
        .map_err(failed)?;
        Ok(Some((Bytes::from(chunk), (file, at + take..range.end))))
    })
    .boxed()
}

async fn write_all<S, E>(writer: &mut WriteMultipart, mut body: S, limit: u64) -> Result<Uploaded, FilesError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut size = 0u64;
    let mut digest = Sha256::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| FilesError::Interrupted(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(FilesError::TooLarge { limit });
        }
        digest.update(&chunk);
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        writer.write(&chunk);
    }
    let sha256 = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Uploaded { size, sha256 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    async fn read(
        files: &Files,
        key: &str,
        range: Option<Range<u64>>,
    ) -> Result<(Vec<u8>, Range<u64>, u64), FilesError> {
        let download = files.download(key, range).await?;
        let bytes: Vec<Bytes> = download.bytes.try_collect().await?;
        Ok((bytes.concat(), download.range, download.size))
    }

    #[tokio::test]
    async fn uploads_stream_in_and_read_back_whole_or_in_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::local(dir.path()).unwrap();
        let key = Files::new_key();
        assert_eq!(key.len(), 32);
        let uploaded = files.upload(&key, chunks(&[b"hello ", b"world"]), 100).await.unwrap();
        assert_eq!(uploaded.size, 11);
        assert_eq!(uploaded.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert_eq!(read(&files, &key, None).await.unwrap(), (b"hello world".to_vec(), 0..11, 11));
        assert_eq!(read(&files, &key, Some(6..100)).await.unwrap().0, b"world");
        assert!(matches!(read(&files, &key, Some(11..12)).await, Err(FilesError::Unsatisfiable)));
        files.delete(&key).await.unwrap();
        assert!(matches!(read(&files, &key, None).await, Err(FilesError::NotFound)));
        files.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_upload_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::local(dir.path()).unwrap();
        let key = Files::new_key();
        let too_large = files.upload(&key, chunks(&[b"0123456789", b"0123456789"]), 15).await;
        assert!(matches!(too_large, Err(FilesError::TooLarge { limit: 15 })));
        let broken = futures_util::stream::iter(vec![Ok(Bytes::from_static(b"part")), Err("disconnected".to_owned())]);
        assert!(matches!(files.upload(&key, broken, 100).await, Err(FilesError::Interrupted(_))));
        assert!(matches!(files.download(&key, None).await, Err(FilesError::NotFound)));
        let left: Vec<_> = walk(dir.path());
        assert!(left.is_empty(), "nothing staged is left: {left:?}");
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
        found
    }
}
