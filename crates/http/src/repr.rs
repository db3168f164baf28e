//! API representations (camelCase, blank fields omitted) and their links. Domain types never
//! serialize themselves; these structs are the wire shapes of the OpenAPI spec.

pub mod application;
pub mod chat;
pub mod jobs;
pub mod summaries;
pub mod user;
pub mod webhooks;

use roost_domain::model::page::Page;
use roost_domain::Timestamp;
use roost_hal::{PageLinks, PageMetadata, PagedResource};

/// ISO-8601 UTC with milliseconds and `Z`, as ChatKitty's examples (`2021-09-16T20:45:33.696Z`).
pub fn iso(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A numbered page of anything, under `_embedded.<name>`.
pub fn numbered_page<T, R>(
    name: &'static str,
    page: &Page<T>,
    links: &PageLinks,
    render: impl FnMut(&T) -> R,
) -> PagedResource<R, PageMetadata> {
    let meta = PageMetadata {
        size: u64::from(page.size),
        total_elements: page.total_elements,
        total_pages: page.total_pages(),
        number: u64::from(page.number),
    };
    PagedResource {
        embedded_name: name,
        items: page.items.iter().map(render).collect(),
        links: links.links(&meta),
        page: meta,
    }
}
