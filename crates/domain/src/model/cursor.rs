//! Cursor pages for messages and notifications (chatkitty-api-notes §2.1, "Cursor page").
//!
//! The cursor is the item id, which is time-ordered: a page is a keyset range on an index
//! (`id < next` or `id <= start`), never an OFFSET, so reading a page costs the same however
//! long the history is, and items added while a client pages never shift the pages it walks.
//! Pages are newest first. Links carry `start` (the newest id of the page) and `next` (its
//! oldest id): `relation=SELF` re-reads the page (`id <= start`), `NEXT` reads older items
//! (`id < next`), `PREVIOUS` reads newer ones (`id > start`).

use super::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::DomainError;

/// Which way a cursor request reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The page starting at `start`.
    Current,
    /// Older items, before `next`.
    Next,
    /// Newer items, after `start`.
    Previous,
}

impl Relation {
    /// Wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "SELF",
            Self::Next => "NEXT",
            Self::Previous => "PREVIOUS",
        }
    }
}

/// The key range a store must read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRange {
    /// The newest items.
    Newest,
    /// Items with `id <= start`, newest first.
    AtOrBefore(i64),
    /// Items with `id < next`, newest first.
    Before(i64),
    /// Items with `id > start`, oldest first (the store returns them newest first).
    After(i64),
}

/// A validated cursor request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorRequest {
    /// Items per page, 1..=100.
    pub size: u32,
    /// The key range.
    pub range: KeyRange,
}

impl CursorRequest {
    /// Validates `size`, `start`, `next` and `relation` as received.
    pub fn parse(
        size: Option<i64>,
        start: Option<i64>,
        next: Option<i64>,
        relation: Option<&str>,
    ) -> Result<Self, DomainError> {
        let size = match size {
            None => DEFAULT_PAGE_SIZE,
            Some(s) if (1..=i64::from(MAX_PAGE_SIZE)).contains(&s) => u32::try_from(s).unwrap_or(DEFAULT_PAGE_SIZE),
            Some(s) => {
                return Err(DomainError::InvalidArgument(format!(
                    "size must be between 1 and {MAX_PAGE_SIZE}, got {s}"
                )))
            }
        };
        let relation = match relation.map(str::to_ascii_uppercase).as_deref() {
            None | Some("SELF") => Relation::Current,
            Some("NEXT") => Relation::Next,
            Some("PREVIOUS") => Relation::Previous,
            Some(other) => {
                return Err(DomainError::InvalidArgument(format!(
                    "relation must be SELF, NEXT or PREVIOUS, got '{other}'"
                )))
            }
        };
        let missing = |name: &str| {
            DomainError::InvalidArgument(format!("relation {} needs the '{name}' cursor", relation.as_str()))
        };
        let range = match relation {
            Relation::Current => start.map_or(KeyRange::Newest, KeyRange::AtOrBefore),
            Relation::Next => KeyRange::Before(next.ok_or_else(|| missing("next"))?),
            Relation::Previous => KeyRange::After(start.ok_or_else(|| missing("start"))?),
        };
        Ok(Self { size, range })
    }

    /// The first page.
    pub fn newest(size: u32) -> Self {
        Self { size, range: KeyRange::Newest }
    }
}

/// One cursor page, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<T> {
    /// The items.
    pub items: Vec<T>,
    /// The requested size.
    pub size: u32,
    /// Newest id on the page (the `start` of links).
    pub start: Option<i64>,
    /// Oldest id on the page, when older items exist (the `next` of links).
    pub next: Option<i64>,
    /// Newer items than this page exist.
    pub has_newer: bool,
    /// Items in the whole list, all pages (the newer spec's `page.total`).
    pub total: u64,
}

impl<T> CursorPage<T> {
    /// Builds a page from up to `size + 1` items read newest first (the extra one only tells
    /// that more exist beyond the page), `id` giving each item's key.
    pub fn from_probe(request: &CursorRequest, mut items: Vec<T>, id: impl Fn(&T) -> i64, has_newer: bool) -> Self {
        let size = request.size as usize;
        let more = items.len() > size;
        let (older_exist, newer_exist) = match request.range {
            // Reading upwards, the surplus item is the newest: drop it from the front.
            KeyRange::After(_) => {
                if more {
                    items.remove(0);
                }
                (true, more)
            }
            _ => {
                items.truncate(size);
                (more, has_newer)
            }
        };
        let start = items.first().map(&id);
        let next = if older_exist { items.last().map(&id) } else { None };
        Self { items, size: request.size, start, next, has_newer: newer_exist, total: 0 }
    }

    /// Maps the items.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> CursorPage<U> {
        CursorPage {
            items: self.items.into_iter().map(f).collect(),
            size: self.size,
            start: self.start,
            next: self.next,
            has_newer: self.has_newer,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse() {
        assert_eq!(CursorRequest::parse(None, None, None, None).unwrap(), CursorRequest::newest(25));
        assert_eq!(CursorRequest::parse(Some(5), Some(9), Some(3), Some("NEXT")).unwrap().range, KeyRange::Before(3));
        assert_eq!(CursorRequest::parse(Some(5), Some(9), None, Some("self")).unwrap().range, KeyRange::AtOrBefore(9));
        assert_eq!(CursorRequest::parse(Some(5), Some(9), None, Some("PREVIOUS")).unwrap().range, KeyRange::After(9));
        assert!(CursorRequest::parse(Some(101), None, None, None).is_err());
        assert!(CursorRequest::parse(None, None, None, Some("NEXT")).is_err());
        assert!(CursorRequest::parse(None, None, None, Some("SIDEWAYS")).is_err());
    }

    #[test]
    fn pages_know_their_neighbours() {
        let request = CursorRequest::newest(2);
        let page = CursorPage::from_probe(&request, vec![9, 8, 7], |x| *x, false);
        assert_eq!((page.items.clone(), page.start, page.next, page.has_newer), (vec![9, 8], Some(9), Some(8), false));
        let last =
            CursorPage::from_probe(&CursorRequest { size: 2, range: KeyRange::Before(8) }, vec![7], |x| *x, true);
        assert_eq!((last.start, last.next, last.has_newer), (Some(7), None, true));
        let up = CursorPage::from_probe(
            &CursorRequest { size: 2, range: KeyRange::After(7) },
            vec![10, 9, 8],
            |x| *x,
            false,
        );
        assert_eq!((up.items, up.next, up.has_newer), (vec![9, 8], Some(8), true));
    }
}
