use serde::Serialize;

use crate::link::Links;

/// A HAL resource: the state's own fields, then `_links`.
#[derive(Debug, Clone, Serialize)]
pub struct Resource<T> {
    /// The resource's own properties, flattened into the object.
    #[serde(flatten)]
    pub state: T,
    /// Its links (omitted when empty).
    #[serde(rename = "_links", skip_serializing_if = "Links::is_empty")]
    pub links: Links,
}

impl<T> Resource<T> {
    /// A resource with links.
    pub fn new(state: T, links: Links) -> Self {
        Self { state, links }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct State {
        id: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }

    #[test]
    fn state_is_flattened_and_blank_fields_omitted() {
        let resource = Resource::new(State { id: 7, note: None }, Links::new().with_href("self", "/v1/x/7"));
        assert_eq!(serde_json::to_string(&resource).unwrap(), r#"{"id":7,"_links":{"self":{"href":"/v1/x/7"}}}"#);
    }
}
