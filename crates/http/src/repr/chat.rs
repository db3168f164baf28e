//! Channels, messages, threads, notifications, memberships, invites, receipts: the spec's
//! `ChannelResource`, `MessageResource`, `ReplyThreadResource`, `NotificationResource`, …

use roost_domain::model::channel::{Channel, ChannelType, Invite, Membership};
use roost_domain::model::cursor::CursorPage;
use roost_domain::model::message::{MentionTarget, Message, ReadReceipt, Thread};
use roost_domain::model::notification::{Notification, NotificationKind};
use roost_domain::service::{Keystrokes, Related};
use roost_domain::{Properties, UserId};
use roost_hal::{CursorLinks, CursorPageMetadata, Links, PagedResource, Resource};
use serde::Serialize;

use super::iso;
use super::user::{deleted_user_state, user_state, UserRepr};
use crate::urls::Urls;

/// Renders chat resources with the related records of one page.
pub struct Renderer<'a> {
    /// Link base.
    pub urls: &'a Urls,
    /// Users, channels, messages and reactions the items point at.
    pub related: &'a Related,
}

/// A message's file (ChatKitty's `FileProperties`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = FileProperties)]
#[serde(rename_all = "camelCase")]
pub struct FileRepr {
    #[serde(rename = "type")]
    file_type: String,
    url: String,
    name: String,
    content_type: String,
    size: i64,
}

/// A link found in a message's text, with its position (`MessageLinkProperties`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MessageLinkProperties)]
#[serde(rename_all = "camelCase")]
pub struct LinkRepr {
    source: String,
    start_position: usize,
    end_position: usize,
}

/// A channel mentioned in a message (`MessageMentionChannelProperties`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MessageMentionChannelProperties)]
#[serde(rename_all = "camelCase")]
pub struct MentionedChannelRepr {
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::ChannelType)]
    channel_type: &'static str,
    id: i64,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    display_name: Option<String>,
    #[schema(format = DateTime)]
    created_time: String,
    #[schema(value_type = Object)]
    properties: Properties,
}

/// A mention in a message's text (`MessageMentionProperties`): of a user (`user`) or a channel
/// (`channel`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MessageMentionProperties)]
#[serde(rename_all = "camelCase")]
pub struct MentionRepr {
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::MentionType)]
    mention_type: &'static str,
    tag: String,
    start_position: usize,
    end_position: usize,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    user: Option<UserRepr>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    channel: Option<MentionedChannelRepr>,
}

/// An emoji (`EmojiProperties`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = EmojiProperties)]
pub struct EmojiRepr {
    character: String,
    description: String,
    aliases: Vec<String>,
    tags: Vec<String>,
}

/// One emoji's reactions to a message (`MessageReactionsSummaryProperties`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MessageReactionsSummaryProperties)]
pub struct ReactionRepr {
    emoji: EmojiRepr,
    count: i64,
    users: Vec<UserRepr>,
}

/// A message (ChatKitty's `MessageResource` without links): TEXT or FILE from a user, SYSTEM_TEXT
/// or SYSTEM_FILE from the application. Blank fields are left out.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MessageProperties)]
#[serde(rename_all = "camelCase")]
pub struct MessageRepr {
    id: i64,
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::MessageType)]
    message_type: &'static str,
    channel_id: i64,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    user: Option<UserRepr>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    body: Option<String>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    file: Option<FileRepr>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    group_tag: Option<String>,
    #[serde(skip_serializing_if = "crate::output::omitted_list")]
    links: Vec<LinkRepr>,
    #[serde(skip_serializing_if = "crate::output::omitted_list")]
    mentions: Vec<MentionRepr>,
    #[serde(skip_serializing_if = "crate::output::omitted_list")]
    reactions: Vec<ReactionRepr>,
    nested_level: i32,
    replies_count: i64,
    #[schema(format = DateTime)]
    created_time: String,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    #[schema(format = DateTime)]
    last_edited_time: Option<String>,
    #[schema(value_type = Object)]
    properties: Properties,
}

/// A channel (ChatKitty's `ChannelResource` without links): PUBLIC, PRIVATE or DIRECT. `members`
/// only for DIRECT channels. Blank fields are left out.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChannelProperties)]
#[serde(rename_all = "camelCase")]
pub struct ChannelRepr {
    id: i64,
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::ChannelType)]
    channel_type: &'static str,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    members: Option<Vec<UserRepr>>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    creator: Option<UserRepr>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    last_received_message: Option<MessageRepr>,
    #[schema(format = DateTime)]
    created_time: String,
    #[schema(value_type = Object)]
    properties: Properties,
}

/// A reply thread: a channel's MAIN thread, or the replies to a MESSAGE.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ReplyThreadProperties)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRepr {
    id: i64,
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::ThreadType)]
    thread_type: &'static str,
    #[schema(format = DateTime)]
    created_time: String,
    #[schema(value_type = Object)]
    properties: Properties,
}

/// What a notification is about (`NotificationData`); which fields are present depends on `type`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = NotificationData)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDataRepr {
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::NotificationType)]
    data_type: &'static str,
    channel_id: i64,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(value_type = Option<crate::openapi::MessageResource>, nullable = false)]
    message: Option<Resource<MessageRepr>>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    mentioned_user: Option<UserRepr>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    mentioned_channel: Option<ChannelRepr>,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(value_type = Option<crate::openapi::MessageResource>, nullable = false)]
    parent: Option<Resource<MessageRepr>>,
}

/// A notification for a user (ChatKitty's `NotificationResource` without links).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = NotificationProperties)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRepr {
    id: i64,
    title: String,
    body: String,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    channel: Option<ChannelRepr>,
    data: NotificationDataRepr,
    muted: bool,
    #[schema(format = DateTime)]
    created_time: String,
    #[serde(skip_serializing_if = "crate::output::omitted")]
    #[schema(nullable = false)]
    #[schema(format = DateTime)]
    read_time: Option<String>,
}

/// A channel membership (`ChannelMembershipResource`), with the member.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChannelMembershipProperties)]
#[serde(rename_all = "camelCase")]
pub struct MembershipRepr {
    user: UserRepr,
    moderator: bool,
    #[schema(format = DateTime)]
    created_time: String,
}

/// An invite to a private channel (`ChannelInviteResource`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChannelInviteProperties)]
#[serde(rename_all = "camelCase")]
pub struct InviteRepr {
    user: UserRepr,
    #[schema(format = DateTime)]
    created_time: String,
}

/// A user's read receipt of a message (`MessageReadReceiptResource`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = MessageReadReceiptProperties)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptRepr {
    user: UserRepr,
    #[schema(format = DateTime)]
    created_time: String,
}

/// A cursor page of rendered items.
pub fn cursor_page<T, R>(
    name: &'static str,
    page: &CursorPage<T>,
    links: &CursorLinks,
    render: impl FnMut(&T) -> R,
) -> PagedResource<R, CursorPageMetadata> {
    PagedResource {
        embedded_name: name,
        items: page.items.iter().map(render).collect(),
        links: links.links(page.start, page.next, u64::from(page.size), page.has_newer),
        page: CursorPageMetadata {
            size: u64::from(page.size),
            start: page.start.map(|s| s.to_string()),
            next: page.next.map(|n| n.to_string()),
            total: page.total,
        },
    }
}

impl Renderer<'_> {
    fn user_or_stub(&self, id: UserId) -> UserRepr {
        self.related.users.get(&id).map_or_else(|| deleted_user_state(id, self.urls), |u| user_state(u, self.urls))
    }

    /// A message's properties (embedded in channels and notifications without links).
    pub fn message_state(&self, m: &Message) -> MessageRepr {
        let mentions = m
            .mentions
            .iter()
            .filter_map(|mention| {
                let (mention_type, user, channel) = match mention.target {
                    MentionTarget::User(id) => {
                        ("USER", Some(self.related.users.get(&id).map(|u| user_state(u, self.urls))?), None)
                    }
                    MentionTarget::Channel(id) => {
                        let c = self.related.channels.get(&id)?;
                        let channel = MentionedChannelRepr {
                            channel_type: c.channel_type.as_str(),
                            id: c.id.0,
                            name: c.name.clone(),
                            display_name: c.display_name.clone(),
                            created_time: iso(c.created_time),
                            properties: c.properties.clone(),
                        };
                        ("CHANNEL", None, Some(channel))
                    }
                };
                Some(MentionRepr {
                    mention_type,
                    tag: mention.tag.clone(),
                    start_position: mention.start_position,
                    end_position: mention.end_position,
                    user,
                    channel,
                })
            })
            .collect();
        let reactions = self
            .related
            .reactions
            .get(&m.id)
            .map(|summaries| {
                summaries
                    .iter()
                    .map(|r| ReactionRepr {
                        emoji: EmojiRepr {
                            character: r.emoji.clone(),
                            description: String::new(),
                            aliases: Vec::new(),
                            tags: Vec::new(),
                        },
                        count: i64::try_from(r.users.len()).unwrap_or(i64::MAX),
                        users: r.users.iter().map(|u| user_state(u, self.urls)).collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        MessageRepr {
            id: m.id.0,
            message_type: m.message_type.as_str(),
            channel_id: m.channel_id.0,
            user: m.user_id.map(|id| self.user_or_stub(id)),
            body: m.body.clone(),
            file: m.file.as_ref().map(|f| FileRepr {
                file_type: f.file_type.clone(),
                // A hosted file is served by Roost, at a URL made from its key.
                url: f.key.as_ref().map_or_else(|| f.url.clone(), |key| self.urls.file(key)),
                name: f.name.clone(),
                content_type: f.content_type.clone(),
                size: f.size,
            }),
            group_tag: m.group_tag.clone(),
            links: m
                .links
                .iter()
                .map(|l| LinkRepr {
                    source: l.source.clone(),
                    start_position: l.start_position,
                    end_position: l.end_position,
                })
                .collect(),
            mentions,
            reactions,
            nested_level: m.nested_level,
            replies_count: m.replies_count,
            created_time: iso(m.created_time),
            last_edited_time: m.last_edited_time.map(iso),
            properties: m.properties.clone(),
        }
    }

    /// A message with its links.
    pub fn message(&self, m: &Message) -> Resource<MessageRepr> {
        let href = self.urls.v1(&format!("/messages/{}", m.id));
        let mut links = Links::new().with_href("self", href.clone());
        if let Some(user) = m.user_id {
            links = links.with_href("user", self.urls.v1(&format!("/users/{user}")));
        }
        let links = links
            .with_href("channel", self.urls.v1(&format!("/channels/{}", m.channel_id)))
            .with_href("thread", self.urls.v1(&format!("/threads/{}", m.thread_id)))
            .with_href("replies", format!("{href}/replies"))
            .with_href("readReceipts", format!("{href}/read-receipts"))
            .with_href("application", self.urls.v1("/application"));
        Resource::new(self.message_state(m), links)
    }

    /// A channel's properties (embedded without links).
    pub fn channel_state(&self, c: &Channel) -> ChannelRepr {
        let direct = c.channel_type == ChannelType::Direct;
        ChannelRepr {
            id: c.id.0,
            channel_type: c.channel_type.as_str(),
            name: c.name.clone(),
            display_name: c.display_name.clone(),
            members: direct.then(|| {
                self.related
                    .direct_members
                    .get(&c.id)
                    .map(|m| m.iter().map(|u| user_state(u, self.urls)).collect())
                    .unwrap_or_default()
            }),
            creator: c.creator_id.and_then(|id| self.related.users.get(&id)).map(|u| user_state(u, self.urls)),
            last_received_message: c
                .last_message_id
                .and_then(|id| self.related.messages.get(&id))
                .map(|m| self.message_state(m)),
            created_time: iso(c.created_time),
            properties: c.properties.clone(),
        }
    }

    /// A channel with the links of its type.
    pub fn channel(&self, c: &Channel) -> Resource<ChannelRepr> {
        let href = self.urls.v1(&format!("/channels/{}", c.id));
        let mut links = Links::new()
            .with_href("self", href.clone())
            .with_href("participants", format!("{href}/participants"))
            .with_href("messages", format!("{href}/messages"))
            .with_href("events", format!("{href}/events"))
            .with_href("keystrokes", format!("{href}/keystrokes"))
            .with_href("thread", self.urls.v1(&format!("/threads/{}", c.main_thread_id)));
        if c.channel_type != ChannelType::Direct {
            links = links
                .with_href("memberships", format!("{href}/memberships"))
                .with_href("members", format!("{href}/members"))
                .with_href("moderators", format!("{href}/moderators"))
                .with_href("invites", format!("{href}/invites"));
        }
        Resource::new(self.channel_state(c), links.with_href("application", self.urls.v1("/application")))
    }

    /// A thread.
    pub fn thread(&self, t: &Thread) -> Resource<ThreadRepr> {
        let href = self.urls.v1(&format!("/threads/{}", t.id));
        let mut links = Links::new()
            .with_href("self", href.clone())
            .with_href("channel", self.urls.v1(&format!("/channels/{}", t.channel_id)))
            .with_href("messages", format!("{href}/messages"));
        if let Some(parent) = t.parent_message_id {
            links = links.with_href("message", self.urls.v1(&format!("/messages/{parent}")));
        }
        Resource::new(
            ThreadRepr {
                id: t.id.0,
                thread_type: t.thread_type.as_str(),
                created_time: iso(t.created_time),
                properties: Properties::new(),
            },
            links.with_href("application", self.urls.v1("/application")),
        )
    }

    /// A notification.
    pub fn notification(&self, n: &Notification) -> Resource<NotificationRepr> {
        let message = self.related.messages.get(&n.message_id);
        let parent = match n.kind {
            NotificationKind::RepliedToMessage => {
                message.and_then(|m| m.parent_id).and_then(|p| self.related.messages.get(&p))
            }
            _ => None,
        };
        let mentioned_channel = match n.kind {
            NotificationKind::MentionedChannel(c) => self.related.channels.get(&c).map(|c| self.channel_state(c)),
            _ => None,
        };
        let mentioned_user = match n.kind {
            NotificationKind::MentionedUser => Some(self.user_or_stub(n.user_id)),
            _ => None,
        };
        let data = NotificationDataRepr {
            data_type: n.kind.as_str(),
            channel_id: n.channel_id.0,
            message: message.map(|m| self.message(m)),
            mentioned_user,
            mentioned_channel,
            parent: parent.map(|p| self.message(p)),
        };
        Resource::new(
            NotificationRepr {
                id: n.id.0,
                title: n.title.clone(),
                body: n.body.clone(),
                channel: self.related.channels.get(&n.channel_id).map(|c| self.channel_state(c)),
                data,
                muted: n.muted,
                created_time: iso(n.created_time),
                read_time: n.read_time.map(iso),
            },
            Links::new()
                .with_href("recipient", self.urls.v1(&format!("/users/{}", n.user_id)))
                .with_href("application", self.urls.v1("/application")),
        )
    }
}

/// A membership record.
pub fn membership(m: &Membership, urls: &Urls) -> Resource<MembershipRepr> {
    let channel = urls.v1(&format!("/channels/{}", m.channel_id));
    Resource::new(
        MembershipRepr { user: user_state(&m.user, urls), moderator: m.moderator, created_time: iso(m.created_time) },
        Links::new()
            .with_href("user", urls.v1(&format!("/users/{}", m.user.id)))
            .with_href("channel", channel.clone())
            .with_href("member", format!("{channel}/members/{}", m.user.id))
            .with_href("application", urls.v1("/application")),
    )
}

/// An invite.
pub fn invite(i: &Invite, urls: &Urls) -> Resource<InviteRepr> {
    Resource::new(
        InviteRepr { user: user_state(&i.user, urls), created_time: iso(i.created_time) },
        Links::new()
            .with_href("invitee", urls.v1(&format!("/users/{}", i.user.id)))
            .with_href("channel", urls.v1(&format!("/channels/{}", i.channel_id)))
            .with_href("application", urls.v1("/application")),
    )
}

/// A read receipt of a message.
pub fn receipt(r: &ReadReceipt, message: roost_domain::MessageId, urls: &Urls) -> Resource<ReceiptRepr> {
    Resource::new(
        ReceiptRepr { user: user_state(&r.user, urls), created_time: iso(r.created_time) },
        Links::new()
            .with_href("user", urls.v1(&format!("/users/{}", r.user.id)))
            .with_href("message", urls.v1(&format!("/messages/{message}")))
            .with_href("application", urls.v1("/application")),
    )
}

/// A typing indicator, as delivered (`ReplyThreadKeystrokesResource`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ReplyThreadKeystrokesProperties)]
pub struct KeystrokesRepr {
    keys: String,
    username: String,
}

/// A typing indicator as answered.
pub fn keystrokes(typed: Keystrokes, urls: &Urls) -> Resource<KeystrokesRepr> {
    let Keystrokes { keys, username } = typed;
    Resource::new(KeystrokesRepr { keys, username }, Links::new().with_href("application", urls.v1("/application")))
}

/// A custom channel event, as delivered (`ChannelGenericEventResource`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ChannelGenericEventProperties)]
pub struct EventRepr {
    /// The event's type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Its custom data.
    #[schema(value_type = Object)]
    pub properties: Properties,
}
