//! Streams of events: what a principal's stream may receive (the REST API's rules), the log it
//! resumes from, and the live-only signals (typing, custom channel events, presence) published
//! as they happen.

use std::collections::BTreeSet;

use super::access::Standing;
use super::related::{related, related_to_notifications};
use super::{Service, View};
use crate::error::DomainError;
use crate::model::channel::ChannelType;
use crate::model::event::{Event, EventResource, LiveEvent, LiveResource, LogHorizon, StreamScope};
use crate::model::ids::{ApplicationId, ChannelId, UserId};
use crate::model::page::{Page, PageRequest};
use crate::model::presence::{ChatSession, OpenUserStream, PresenceChange};
use crate::model::principal::Principal;
use crate::model::user::{User, UserSort};
use crate::model::{now, Properties};

/// Events read from the log per call.
pub const LOG_BATCH: u32 = 100;

/// A stream's start: what it may see, and where the log stands.
#[derive(Debug, Clone)]
pub struct StreamStart {
    /// What the stream receives.
    pub scope: StreamScope,
    /// The application's log.
    pub horizon: LogHorizon,
    /// The user of a user's stream.
    pub user: Option<User>,
}

impl Service {
    /// Opens a stream for `principal`, narrowed to `channel` when given: an application's to
    /// that channel; a user's adds it when it is a public channel they are not in (a chat
    /// session). A channel the principal may not see is not found, as in the REST API.
    pub fn open_stream(&self, principal: &Principal, channel: Option<ChannelId>) -> Result<StreamStart, DomainError> {
        let application_id = principal.application_id();
        // Where the log stands first, the memberships after: a change between the two reads is
        // replayed from the log, never missed.
        let horizon = self.ports.events.log_horizon(application_id)?;
        let named = match channel {
            Some(id) => Some(self.visible_channel(principal, id)?.0),
            None => None,
        };
        let (scope, user) = match principal.user_id() {
            None => (StreamScope::Application { channels: named.into_iter().map(|c| c.id).collect() }, None),
            Some(user_id) => {
                let user = self.user(application_id, user_id)?;
                let member_of: BTreeSet<ChannelId> =
                    self.ports.events.member_channel_ids(user_id)?.into_iter().collect();
                // Only a public channel is watched without being a member; a private one is
                // visible to members only, and they follow it through their membership.
                let watching = named
                    .into_iter()
                    .filter(|c| c.channel_type == ChannelType::Public && !member_of.contains(&c.id))
                    .map(|c| c.id)
                    .collect();
                (StreamScope::User { user_id, member_of, watching }, Some(user))
            }
        };
        Ok(StreamStart { scope, horizon, user })
    }

    /// Narrows or widens an open stream by a channel (a WebSocket `subscribe` frame), by the same
    /// rules as [`Self::open_stream`].
    pub fn subscribe_stream(
        &self,
        principal: &Principal,
        scope: &mut StreamScope,
        channel: ChannelId,
    ) -> Result<(), DomainError> {
        let (found, standing) = self.visible_channel(principal, channel)?;
        match scope {
            StreamScope::Application { channels } => {
                channels.insert(found.id);
            }
            // A public channel is watched; one the user sees as a member (their `member.added`
            // may not have reached this stream yet) is followed as a membership, which its
            // `member.removed` ends.
            StreamScope::User { member_of, watching, .. } => {
                if standing >= Standing::Member {
                    member_of.insert(found.id);
                } else if found.channel_type == ChannelType::Public {
                    watching.insert(found.id);
                }
            }
        }
        Ok(())
    }

    /// Events of the principal's application after `after`, oldest first, with what rendering
    /// them needs. Not filtered: the stream's [`StreamScope`] decides.
    pub fn events_after(&self, principal: &Principal, after: i64) -> Result<View<Vec<Event>>, DomainError> {
        self.log_after(principal.application_id(), after)
    }

    /// [`Self::events_after`] for the node's own feed of an application, which every stream
    /// filters by its scope.
    pub fn log_after(&self, application_id: ApplicationId, after: i64) -> Result<View<Vec<Event>>, DomainError> {
        let events = self.ports.events.events_after(application_id, after, LOG_BATCH)?;
        let related = self.related_to_events(application_id, &events)?;
        Ok(View { value: events, related })
    }

    /// What rendering `events` needs: the messages' and channels' related records, the
    /// notifications', and the users and messages that links name.
    pub fn related_to_events(
        &self,
        application_id: ApplicationId,
        events: &[Event],
    ) -> Result<super::Related, DomainError> {
        let mut messages = Vec::new();
        let mut channels = Vec::new();
        let mut notifications = Vec::new();
        let mut linked_users: Vec<UserId> = Vec::new();
        let mut linked_messages = Vec::new();
        for event in events {
            match &event.draft.resource {
                EventResource::Message(m) => messages.push(m.clone()),
                EventResource::Channel(c) => channels.push(c.clone()),
                EventResource::Notification(n) => notifications.push(n.clone()),
                EventResource::User(_) | EventResource::File(_) => {}
                EventResource::Link(link) => {
                    linked_users.push(link.user_id);
                    linked_messages.extend(link.message_id);
                }
            }
        }
        let mut found = related(self.chat(), application_id, &channels, &messages, &linked_messages)?;
        if !notifications.is_empty() {
            let more = related_to_notifications(self.chat(), application_id, &notifications)?;
            found.users.extend(more.users);
            found.channels.extend(more.channels);
            found.messages.extend(more.messages);
            found.reactions.extend(more.reactions);
        }
        linked_users.retain(|u| !found.users.contains_key(u));
        linked_users.dedup();
        for user in self.ports.users.users_by_ids(application_id, &linked_users)? {
            found.users.insert(user.id, user);
        }
        Ok(found)
    }

    /// Blocks until a write that recorded events commits after `seen` (see
    /// [`crate::ports::EventStore::wait_for_events`]), or `timeout` passes.
    pub fn wait_for_events(&self, seen: u64, timeout: std::time::Duration) -> u64 {
        self.ports.events.wait_for_events(seen, timeout)
    }

    /// Wakes this node's log readers: another node committed events.
    pub fn poke_event_readers(&self) {
        self.ports.events.poke_readers();
    }

    /// Drops events older than the retention; returns how many.
    pub fn purge_events(&self, before: crate::Timestamp) -> Result<u64, DomainError> {
        Ok(self.ports.events.purge_events(before)?)
    }

    /// Records a user's stream opened on `node` (subscribed to `channels`): counted for
    /// presence, listed with its chat sessions. The stream, and the user with their online flag
    /// set when that flipped their presence.
    pub fn open_user_stream(
        &self,
        node: i64,
        application_id: ApplicationId,
        user_id: UserId,
        session_id: Option<i64>,
        channels: &BTreeSet<ChannelId>,
    ) -> Result<(OpenUserStream, Option<User>), DomainError> {
        let stream = OpenUserStream {
            id: self.next_id(),
            node,
            application_id,
            user_id,
            session_id,
            opened: now(),
            chat_sessions: channels.iter().map(|c| (self.next_id(), *c)).collect(),
        };
        let change = self.ports.presence.stream_opened(&stream)?;
        Ok((stream, self.presence_changed(change)?))
    }

    /// Records a user's stream closed; the user, online flag cleared, when it was their last.
    pub fn close_user_stream(&self, stream: &OpenUserStream) -> Result<Option<User>, DomainError> {
        let change = self.ports.presence.stream_closed(stream)?;
        self.presence_changed(change)
    }

    /// Replaces an open stream's chat sessions with one per channel in `channels`.
    pub fn set_chat_sessions(&self, stream_id: i64, channels: &BTreeSet<ChannelId>) -> Result<(), DomainError> {
        let sessions: Vec<(i64, ChannelId)> = channels.iter().map(|c| (self.next_id(), *c)).collect();
        Ok(self.ports.presence.set_chat_sessions(stream_id, &sessions)?)
    }

    /// The application's open chat sessions on every node, oldest first (`GET
    /// /v1/chat-sessions`): the application only.
    pub fn list_chat_sessions(
        &self,
        principal: &Principal,
        number: u32,
        size: u32,
    ) -> Result<Page<ChatSession>, DomainError> {
        let application_id = principal.manage()?;
        Ok(self.ports.presence.chat_sessions(application_id, number, size)?)
    }

    fn presence_changed(&self, change: Option<PresenceChange>) -> Result<Option<User>, DomainError> {
        match change {
            Some(change) => Ok(self.ports.users.find_user(change.application_id, change.user_id)?),
            None => Ok(None),
        }
    }

    /// Renews `node`'s heartbeat, then ends the presence counted by nodes not seen since
    /// `dead_before` (and, with `restarted`, by this node's previous run): the users who went
    /// offline.
    pub fn renew_node(
        &self,
        node: i64,
        restarted: bool,
        dead_before: crate::Timestamp,
    ) -> Result<Vec<User>, DomainError> {
        let mut changes = Vec::new();
        if restarted {
            changes.extend(self.ports.presence.forget_nodes(Some(node), dead_before)?);
        }
        self.ports.presence.node_alive(node, now())?;
        changes.extend(self.ports.presence.forget_nodes(None, dead_before)?);
        let mut offline = Vec::new();
        for change in changes.into_iter().filter(|c| !c.online) {
            offline.extend(self.ports.users.find_user(change.application_id, change.user_id)?);
        }
        Ok(offline)
    }

    /// The users with a chat session open in a channel on any node (`participants`), as a
    /// numbered page; the channel must be visible to the principal.
    pub fn channel_participants(
        &self,
        principal: &Principal,
        id: ChannelId,
        page: &PageRequest<UserSort>,
    ) -> Result<Page<User>, DomainError> {
        let (channel, _) = self.visible_channel(principal, id)?;
        let participants = self.ports.presence.participants(channel.application_id, channel.id)?;
        let mut users = self.ports.users.users_by_ids(channel.application_id, &participants)?;
        users.sort_by_key(|u| u.id);
        let total = u64::try_from(users.len()).unwrap_or(u64::MAX);
        let start = usize::try_from(u64::from(page.number) * u64::from(page.size)).unwrap_or(usize::MAX);
        let items = users.into_iter().skip(start).take(usize::try_from(page.size).unwrap_or(usize::MAX)).collect();
        Ok(Page { items, number: page.number, size: page.size, total_elements: total })
    }

    /// The user a live signal is from: `None` for an application acting as itself.
    fn live_sender(&self, principal: &Principal, user: Option<User>) -> Option<User> {
        user.or_else(|| principal.user_id().and_then(|id| self.user(principal.application_id(), id).ok()))
    }

    pub(super) fn publish_keystrokes(
        &self,
        principal: &Principal,
        channel_id: ChannelId,
        thread_id: Option<crate::ThreadId>,
        user: User,
        keys: &str,
    ) {
        self.ports.live.publish(LiveEvent {
            application_id: principal.application_id(),
            event_type: crate::model::event::EventType::Keystrokes,
            time: now(),
            resource: LiveResource::Keystrokes { channel_id, thread_id, user, keys: keys.to_owned() },
        });
    }

    pub(super) fn publish_channel_event(
        &self,
        principal: &Principal,
        channel_id: ChannelId,
        user: Option<User>,
        event_type: &str,
        properties: &Properties,
    ) {
        let user = self.live_sender(principal, user);
        self.ports.live.publish(LiveEvent {
            application_id: principal.application_id(),
            event_type: crate::model::event::EventType::ChannelEvent,
            time: now(),
            resource: LiveResource::ChannelEvent {
                channel_id,
                user,
                event_type: event_type.to_owned(),
                properties: properties.clone(),
            },
        });
    }
}
