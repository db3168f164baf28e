use serde::ser::{Serialize, SerializeMap, Serializer};

/// A HAL link object (draft-kelly-json-hal §5).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    /// The target URI, or an RFC 6570 template when `templated`.
    pub href: String,
    /// Marks `href` as a URI template.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub templated: bool,
    /// A human-readable label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// An advertised template that is not valid RFC 6570.
#[derive(Debug, thiserror::Error)]
#[error("invalid URI template '{template}': {reason}")]
pub struct TemplateError {
    template: String,
    reason: String,
}

impl Link {
    /// A plain link.
    pub fn new(href: impl Into<String>) -> Self {
        Self { href: href.into(), templated: false, title: None }
    }

    /// A templated link; the template is checked against RFC 6570.
    pub fn template(template: impl Into<String>) -> Result<Self, TemplateError> {
        let template = template.into();
        iri_string::template::UriTemplateStr::new(&template)
            .map_err(|e| TemplateError { reason: e.to_string(), template: template.clone() })?;
        Ok(Self { href: template, templated: true, title: None })
    }
}

/// The `_links` object: relation name to link, in insertion order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links(Vec<(String, Link)>);

impl Links {
    /// No links.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a link under `rel` (builder style).
    pub fn with(mut self, rel: impl Into<String>, link: Link) -> Self {
        self.push(rel, link);
        self
    }

    /// Adds a plain link to `href` under `rel` (builder style).
    pub fn with_href(self, rel: impl Into<String>, href: impl Into<String>) -> Self {
        self.with(rel, Link::new(href))
    }

    /// Adds a link under `rel`.
    pub fn push(&mut self, rel: impl Into<String>, link: Link) {
        self.0.push((rel.into(), link));
    }

    /// The link under `rel`.
    pub fn get(&self, rel: &str) -> Option<&Link> {
        self.0.iter().find(|(r, _)| r == rel).map(|(_, l)| l)
    }

    /// No links at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Links {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (rel, link) in &self.0 {
            map.serialize_entry(rel, link)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_order_and_omit_blank_fields() {
        let links = Links::new()
            .with_href("self", "https://x/v1/users/1")
            .with("find", Link::template("https://x/v1/users{?page,size,name}").unwrap());
        let json = serde_json::to_string(&links).unwrap();
        assert_eq!(
            json,
            r#"{"self":{"href":"https://x/v1/users/1"},"find":{"href":"https://x/v1/users{?page,size,name}","templated":true}}"#
        );
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(Link::template("https://x/v1/users{?page").is_err());
        assert!(Link::template("https://x/v1/users{?page,size}").is_ok());
    }
}
