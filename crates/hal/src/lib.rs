//! HAL+JSON (draft-kelly-json-hal) types: links, resources, numbered and cursor pages, and
//! RFC 6570 link templates. Knows nothing of chat and nothing of HTTP frameworks.
#![warn(missing_docs)]

mod link;
mod page;
mod resource;

pub use link::{Link, Links, TemplateError};
pub use page::{form_encode, CursorLinks, CursorPageMetadata, PageLinks, PageMetadata, PagedResource};
pub use resource::Resource;

/// The HAL media type.
pub const HAL_JSON: &str = "application/hal+json";
