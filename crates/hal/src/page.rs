use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::link::{Link, Links};

/// The `page` block of a numbered page (Spring Data REST's shape, which ChatKitty uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMetadata {
    /// The requested page size.
    pub size: u64,
    /// Items in the whole list.
    pub total_elements: u64,
    /// Pages in the whole list.
    pub total_pages: u64,
    /// This page's 0-based number.
    pub number: u64,
}

/// The `page` block of a cursor page (`CursorPageMetadata`: cursors as strings).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CursorPageMetadata {
    /// The requested page size.
    pub size: u64,
    /// Newest id of the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Oldest id of the page, when older items exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Items in the whole list, all pages.
    pub total: u64,
}

/// A page of embedded resources: `{"_embedded": {name: [...]}, "_links": ..., "page": ...}`.
#[derive(Debug, Clone)]
pub struct PagedResource<T, M> {
    /// The collection's relation name, e.g. `users`.
    pub embedded_name: &'static str,
    /// The items, always an array (even when empty).
    pub items: Vec<T>,
    /// Navigation links.
    pub links: Links,
    /// The `page` block.
    pub page: M,
}

impl<T: Serialize, M: Serialize> Serialize for PagedResource<T, M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Embedded<'a, T>(&'static str, &'a [T]);
        impl<T: Serialize> Serialize for Embedded<'_, T> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(self.0, self.1)?;
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("_embedded", &Embedded(self.embedded_name, &self.items))?;
        map.serialize_entry("_links", &self.links)?;
        map.serialize_entry("page", &self.page)?;
        map.end()
    }
}

/// Builds first/prev/self/next/last links for numbered pages.
#[derive(Debug, Clone)]
pub struct PageLinks {
    base: String,
    fixed_query: Vec<(String, String)>,
}

impl PageLinks {
    /// `base` is the collection URL without a query; `fixed_query` are the request's other
    /// parameters (filters, sort), repeated on every link.
    pub fn new(base: impl Into<String>, fixed_query: Vec<(String, String)>) -> Self {
        Self { base: base.into(), fixed_query }
    }

    fn href(&self, page: u64, size: u64) -> String {
        let mut query = form_encode(&self.fixed_query);
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&format!("page={page}&size={size}"));
        format!("{}?{}", self.base, query)
    }

    /// The links for page `meta.number`: `first`, `prev` (when there is a page before),
    /// `self`, `next` (when there is one after) and `last` (when the list is not empty).
    pub fn links(&self, meta: &PageMetadata) -> Links {
        let (number, size) = (meta.number, meta.size);
        let mut links = Links::new().with("first", Link::new(self.href(0, size)));
        if number > 0 {
            // A page past the end points back to the last real page.
            let prev = number.min(meta.total_pages).saturating_sub(1);
            links.push("prev", Link::new(self.href(prev, size)));
        }
        links.push("self", Link::new(self.href(number, size)));
        if number + 1 < meta.total_pages {
            links.push("next", Link::new(self.href(number + 1, size)));
        }
        if meta.total_pages > 0 {
            links.push("last", Link::new(self.href(meta.total_pages - 1, size)));
        }
        links
    }
}

/// `application/x-www-form-urlencoded` serialization of query pairs (WHATWG URL §5.2).
pub fn form_encode(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect::<Vec<_>>().join("&")
}

fn encode_component(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'*').remove(b',');
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rels(links: &Links) -> Vec<String> {
        let json = serde_json::to_value(links).unwrap();
        json.as_object().unwrap().keys().cloned().collect()
    }

    fn meta(number: u64, size: u64, total: u64) -> PageMetadata {
        PageMetadata { size, total_elements: total, total_pages: total.div_ceil(size), number }
    }

    #[test]
    fn middle_page_has_every_link() {
        let links = PageLinks::new("https://x/v1/users", vec![("name".into(), "a b&c".into())]).links(&meta(1, 5, 12));
        assert_eq!(rels(&links), ["first", "prev", "self", "next", "last"]);
        assert_eq!(links.get("next").unwrap().href, "https://x/v1/users?name=a%20b%26c&page=2&size=5");
        assert_eq!(links.get("last").unwrap().href, "https://x/v1/users?name=a%20b%26c&page=2&size=5");
        assert_eq!(links.get("prev").unwrap().href, "https://x/v1/users?name=a%20b%26c&page=0&size=5");
    }

    #[test]
    fn edges() {
        let builder = PageLinks::new("/u", vec![]);
        assert_eq!(rels(&builder.links(&meta(0, 25, 0))), ["first", "self"], "empty list");
        assert_eq!(rels(&builder.links(&meta(0, 5, 5))), ["first", "self", "last"], "single page");
        assert_eq!(rels(&builder.links(&meta(2, 5, 12))), ["first", "prev", "self", "last"], "last page");
        let beyond = builder.links(&meta(9, 5, 12));
        assert_eq!(beyond.get("prev").unwrap().href, "/u?page=2&size=5");
    }

    #[test]
    fn pages_always_embed_an_array() {
        let page: PagedResource<u8, _> =
            PagedResource { embedded_name: "users", items: vec![], links: Links::new(), page: meta(0, 25, 0) };
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            r#"{"_embedded":{"users":[]},"_links":{},"page":{"size":25,"totalElements":0,"totalPages":0,"number":0}}"#
        );
    }
}

/// Builds `self`/`next`/`prev` links of cursor pages: each carries `start` (newest id of the
/// page), `next` (its oldest id), `size` and `relation`.
#[derive(Debug, Clone)]
pub struct CursorLinks {
    base: String,
    fixed_query: Vec<(String, String)>,
}

impl CursorLinks {
    /// `base` is the collection URL; `fixed_query` are the request's filters.
    pub fn new(base: impl Into<String>, fixed_query: Vec<(String, String)>) -> Self {
        Self { base: base.into(), fixed_query }
    }

    fn href(&self, start: Option<i64>, next: Option<i64>, size: u64, relation: &str) -> String {
        let mut pairs = self.fixed_query.clone();
        if let Some(start) = start {
            pairs.push(("start".into(), start.to_string()));
        }
        if let Some(next) = next {
            pairs.push(("next".into(), next.to_string()));
        }
        pairs.push(("size".into(), size.to_string()));
        pairs.push(("relation".into(), relation.into()));
        format!("{}?{}", self.base, form_encode(&pairs))
    }

    /// Links of a page whose newest item is `start` and oldest `next` (when older items
    /// exist); `prev` when newer items exist.
    pub fn links(&self, start: Option<i64>, next: Option<i64>, size: u64, has_newer: bool) -> Links {
        let mut links = Links::new().with("self", Link::new(self.href(start, next, size, "SELF")));
        if next.is_some() {
            links.push("next", Link::new(self.href(start, next, size, "NEXT")));
        }
        if has_newer {
            links.push("prev", Link::new(self.href(start, next, size, "PREVIOUS")));
        }
        links
    }
}

#[cfg(test)]
mod cursor_tests {
    use super::*;

    #[test]
    fn cursor_links_carry_the_cursor() {
        let links = CursorLinks::new("/v1/messages", vec![("query".into(), "hi there".into())]).links(
            Some(9),
            Some(5),
            5,
            true,
        );
        assert_eq!(
            links.get("self").unwrap().href,
            "/v1/messages?query=hi%20there&start=9&next=5&size=5&relation=SELF"
        );
        assert_eq!(
            links.get("next").unwrap().href,
            "/v1/messages?query=hi%20there&start=9&next=5&size=5&relation=NEXT"
        );
        assert_eq!(
            links.get("prev").unwrap().href,
            "/v1/messages?query=hi%20there&start=9&next=5&size=5&relation=PREVIOUS"
        );
        let head = CursorLinks::new("/m", vec![]).links(None, None, 25, false);
        assert_eq!(head.get("self").unwrap().href, "/m?size=25&relation=SELF");
        assert!(head.get("next").is_none() && head.get("prev").is_none());
    }
}
