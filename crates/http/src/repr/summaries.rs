//! What the newest official client adds: unread counts per channel and member, and reported
//! messages.

use roost_domain::model::message::{Message, UnreadSummary};
use roost_hal::{Links, Resource};
use serde::Serialize;

use super::chat::{ChannelRepr, MessageRepr, Renderer};
use super::user::UserRepr;

/// Unread messages of one member in one channel (`MessageReadReceiptSummaryResource`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MessageReadReceiptSummaryProperties)]
pub struct SummaryRepr {
    /// The channel.
    channel: ChannelRepr,
    /// Messages of the channel the user has not read.
    count: u64,
    /// The member.
    user: UserRepr,
}

/// A message users reported, with how many did (`ReportedMessageResource`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ReportedMessageProperties)]
#[serde(rename_all = "camelCase")]
pub struct ReportedMessageRepr {
    /// The message.
    #[serde(flatten)]
    message: MessageRepr,
    /// Reports of it.
    report_count: u64,
}

impl Renderer<'_> {
    /// A summary row, with the channel and user it counts for.
    pub fn summary(&self, summary: &UnreadSummary) -> Option<Resource<SummaryRepr>> {
        let channel = self.related.channels.get(&summary.channel_id)?;
        let user = self.related.users.get(&summary.user_id)?;
        let links = Links::new()
            .with_href("channel", self.urls.v1(&format!("/channels/{}", channel.id)))
            .with_href("user", self.urls.v1(&format!("/users/{}", user.id)));
        let state = SummaryRepr {
            channel: self.channel_state(channel),
            count: summary.count,
            user: super::user::user_state(user, self.urls),
        };
        Some(Resource::new(state, links))
    }

    /// A reported message.
    pub fn reported(&self, message: &Message, reports: u64) -> Resource<ReportedMessageRepr> {
        let Resource { state, links } = self.message(message);
        Resource::new(ReportedMessageRepr { message: state, report_count: reports }, links)
    }
}
