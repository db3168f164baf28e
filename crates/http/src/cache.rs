//! Rendered responses of hot reads (message pages), kept until the next write (issue 4: a page
//! costs five statements, 25 decoded rows and 16 KB of JSON; a chat's newest page is read far
//! more often than it changes).
//!
//! Validity is a generation number: every request that may write (any method but GET, HEAD and
//! OPTIONS, outside `/oauth/`) bumps it when its storage work has finished, committed or not —
//! also when the client went away meanwhile, since the storage task runs to its end. The
//! [`crate::extract::Domain`] extractor decides that from the request itself, so no middleware
//! has to be present for it. An entry
//! records the generation read *before* its data was loaded and is served only while that is
//! still the current one, so a response can never be older than a write that was acknowledged
//! before the request came in.
//!
//! The generation lives in this process: the cache is only right when every write goes through
//! this node, which is why it is on by default for SQLite only (operator guide, "Caches").

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::HttpRequest;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use roost_domain::ApplicationId;

use crate::negotiate::{Rendered, Representation};

/// Rendered responses by application, host, path, query and media type.
pub struct ResponseCache {
    entries: Option<Cache<String, Entry, EntryWeighter>>,
    generation: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Clone)]
struct Entry {
    generation: u64,
    rendered: Rendered,
}

#[derive(Clone)]
struct EntryWeighter;

impl Weighter<String, Entry> for EntryWeighter {
    fn weight(&self, key: &String, entry: &Entry) -> u64 {
        // Key, body and ETag, plus the map's own overhead.
        (key.len() + entry.rendered.body.len() + 128) as u64
    }
}

impl ResponseCache {
    /// Holds up to `bytes` of responses; zero disables it.
    pub fn new(bytes: u64) -> Self {
        // The item estimate only sizes the map up front: a message page is ~16 KB.
        let entries =
            (bytes > 0).then(|| Cache::with_weighter((bytes / 16_384).max(16) as usize, bytes, EntryWeighter));
        Self { entries, generation: AtomicU64::new(0), hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// The key of a request: its application, the base its absolute links are built on (the
    /// configured public URL, or scheme and host as the request gave them), path, query and the
    /// media type it will be answered with.
    pub fn key(application: ApplicationId, base: &str, req: &HttpRequest, representation: &Representation) -> String {
        // `fields` is in the query string; `empty` may come from a header.
        let Representation { content_type, casing, output } = representation;
        let empty = output.empty;
        format!("{}\n{content_type}\n{casing:?}\n{empty}\n{base}\n{}?{}", application.0, req.path(), req.query_string())
    }

    /// The generation to record with a response about to be loaded.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A response still valid.
    pub fn get(&self, key: &str) -> Option<Rendered> {
        let entries = self.entries.as_ref()?;
        let found = entries.get(key).filter(|entry| entry.generation == self.generation()).map(|entry| entry.rendered);
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Lookups answered from the cache, and lookups that were not, so far.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Bytes the cache holds now (by its weighing), and the most it holds.
    pub fn size(&self) -> (u64, u64) {
        self.entries.as_ref().map_or((0, 0), |entries| (entries.weight(), entries.capacity()))
    }

    /// Keeps a response loaded at `generation`.
    pub fn put(&self, key: String, generation: u64, rendered: Rendered) {
        if let Some(entries) = &self.entries {
            if generation == self.generation() {
                entries.insert(key, Entry { generation, rendered });
            }
        }
    }

    /// Marks every kept response stale: called after each write's storage work.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::web::Bytes;

    fn rendered(body: &'static str) -> Rendered {
        Rendered::new("application/json", Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn entries_live_until_the_next_write() {
        let cache = ResponseCache::new(1 << 20);
        let loaded_at = cache.generation();
        cache.put("k".into(), loaded_at, rendered("{}"));
        assert_eq!(cache.get("k").map(|r| r.body), Some(Bytes::from_static(b"{}")));
        cache.invalidate();
        assert!(cache.get("k").is_none(), "a write makes it stale");
    }

    #[test]
    fn a_response_loaded_before_a_write_is_never_kept_after_it() {
        let cache = ResponseCache::new(1 << 20);
        let loaded_at = cache.generation();
        cache.invalidate();
        cache.put("k".into(), loaded_at, rendered("{}"));
        assert!(cache.get("k").is_none());
    }

    #[test]
    fn a_zero_size_cache_keeps_nothing() {
        let cache = ResponseCache::new(0);
        cache.put("k".into(), cache.generation(), rendered("{}"));
        assert!(cache.get("k").is_none());
    }
}
