//! What the chat routes share: a message page (answered from the response cache while no write
//! has happened since), and a message or channel rendered with its related records.

use actix_web::HttpRequest;
use roost_domain::model::channel::Channel;
use roost_domain::model::message::Message;
use roost_domain::service::{MessageListing, MessageQuery};
use roost_domain::{Principal, View};
use roost_hal::Resource;

use crate::cache::ResponseCache;
use crate::error::ApiError;
use crate::extract::{Domain, ListRequest};
use crate::negotiate::{negotiate, Rendered};
use crate::repr::chat::{cursor_page, ChannelRepr, MessageRepr, Renderer};
use crate::urls::Urls;

/// Reads a cursor page of messages and renders it with links that keep the filters. Pages are
/// the hottest read: answered from the response cache while no write has happened since.
pub async fn message_page(
    domain: Domain,
    principal: Principal,
    listing: MessageListing,
    list: ListRequest,
    req: HttpRequest,
) -> Result<Rendered, ApiError> {
    let representation = negotiate(&req)?;
    // Only a newest page is kept: that is what every client reads again and again, while older
    // pages are read once while scrolling, and caching them only churns memory (issue 4: RSS
    // peaked at 120 MiB with them, 52 MiB without).
    // A user session's page is what that user may see: only the application's pages are kept.
    let newest = list.query.get("start").is_none() && list.query.get("next").is_none() && principal.user_id().is_none();
    let key = newest.then(|| ResponseCache::key(principal.application_id(), &list.urls.v1(""), &req, &representation));
    if let Some(rendered) = key.as_deref().and_then(|key| domain.responses().get(key)) {
        return Ok(rendered);
    }
    let generation = domain.responses().generation();
    let request = list.cursor()?;
    let query = MessageQuery {
        username: list.query.get("username").map(str::to_owned),
        text: list.query.get("query").map(str::to_owned),
        since: since_param(&list.query)?,
    };
    let page = domain.run(move |s| s.list_messages(&principal, listing, query, &request)).await?;
    let renderer = Renderer { urls: &list.urls, related: &page.related };
    let rendered = Rendered::json(
        &representation,
        &cursor_page("messages", &page.value, &list.cursor_links(), |m| renderer.message(m)),
    )?;
    if let Some(key) = key {
        domain.responses().put(key, generation, rendered.clone());
    }
    Ok(rendered)
}

/// `since`: epoch seconds, or an ISO-8601 date-time (the Kinglet seed takes both).
pub fn since_param(query: &crate::extract::QueryPairs) -> Result<Option<roost_domain::Timestamp>, ApiError> {
    let Some(value) = query.get("since") else { return Ok(None) };
    let parsed = match value.parse::<i64>() {
        Ok(seconds) => chrono::DateTime::from_timestamp(seconds, 0),
        Err(_) => chrono::DateTime::parse_from_rfc3339(value).ok().map(|t| t.to_utc()),
    };
    parsed.map(Some).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "query parameter 'since' must be epoch seconds or an ISO-8601 date-time, got '{value}'"
        ))
    })
}

/// A message with the related records it points at.
pub fn message(view: &View<Message>, urls: &Urls) -> Resource<MessageRepr> {
    Renderer { urls, related: &view.related }.message(&view.value)
}

/// A channel with what it points at (creator, members, last message).
pub fn channel(view: &View<Channel>, urls: &Urls) -> Resource<ChannelRepr> {
    Renderer { urls, related: &view.related }.channel(&view.value)
}
