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

/// A message users reported, with how many did (`ReportedMessageResource`). Its schema is the
/// message's with `reportCount` added (a flattened struct would describe it as `allOf`, which a
/// closed schema cannot satisfy).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedMessageRepr {
    /// The message.
    #[serde(flatten)]
    message: MessageRepr,
    /// Reports of it.
    report_count: u64,
}

impl utoipa::PartialSchema for ReportedMessageRepr {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
        use utoipa::openapi::RefOr;
        let count = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
            .minimum(Some(1))
            .description(Some("How many users reported the message."));
        match <MessageRepr as utoipa::PartialSchema>::schema() {
            RefOr::T(Schema::Object(mut object)) => {
                object.properties.insert("reportCount".into(), count.into());
                object.required.push("reportCount".into());
                RefOr::T(Schema::Object(object))
            }
            other => other,
        }
    }
}

impl utoipa::ToSchema for ReportedMessageRepr {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("ReportedMessageProperties")
    }

    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        <MessageRepr as utoipa::ToSchema>::schemas(schemas);
    }
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
