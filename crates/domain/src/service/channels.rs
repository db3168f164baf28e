//! Channels, memberships, moderators and invites.

use super::access::Standing;
use super::related::related;
use super::{check, stale, Guard, Service, View};
use crate::error::{DomainError, FieldError, FieldErrorCode, StoreError};
use crate::model::application::Application;
use crate::model::channel::{
    direct_key, name_taken, validate_channel_name, Channel, ChannelFilter, ChannelPatch, ChannelSort, ChannelType,
    Invite, MemberFilter, MemberSort, Membership, NewChannel, MAX_DIRECT_MEMBERS, MIN_DIRECT_MEMBERS, RESOURCE,
};
use crate::model::ids::{ApplicationId, ChannelId, ThreadId, UserId};
use crate::model::page::{Page, PageRequest};
use crate::model::principal::Principal;
use crate::model::properties::validate_properties;
use crate::model::user::{User, UserRef};
use crate::model::{has_nul, now};

impl Service {
    /// Creates a channel, or returns the existing direct channel of the same member set
    /// (`POST /v1/channels`). The channel, its MAIN thread and its memberships are written in
    /// one transaction.
    /// A user session creates group channels when the application's `userCreatedChannels`
    /// allows, as their creator (and so moderator); DIRECT ones always, but never with a user
    /// who blocked it.
    pub fn create_channel(&self, principal: &Principal, input: NewChannel) -> Result<View<Channel>, DomainError> {
        let application_id = principal.application_id();
        let input = match principal.user_id() {
            None => input,
            Some(own) => {
                let group = input.channel_type != ChannelType::Direct;
                if group && !self.application(application_id)?.settings.user_created_channels.is_enabled() {
                    return Err(DomainError::Forbidden(
                        "this application does not let users create channels (userCreatedChannels)".into(),
                    ));
                }
                let creator = self.acting_user(principal, input.creator.as_ref(), "creator")?;
                if input.channel_type == ChannelType::Direct {
                    let mut others = Vec::with_capacity(input.members.len());
                    for (i, member) in input.members.iter().enumerate() {
                        others.push(self.resolve_user(application_id, member, &format!("members[{i}]"))?.id);
                    }
                    self.check_not_blocked(application_id, own, &others)?;
                }
                NewChannel { creator: Some(UserRef::Id(creator.id)), ..input }
            }
        };
        let channel = self.new_channel(application_id, input, now())?;
        self.channel_view(channel)
    }

    /// Creates a channel as of `created` (now, or an import's original time).
    pub(super) fn new_channel(
        &self,
        application_id: ApplicationId,
        input: NewChannel,
        created: crate::Timestamp,
    ) -> Result<Channel, DomainError> {
        let channels = self.ports.channels.as_ref();
        let mut errors = Vec::new();
        let creator = match &input.creator {
            Some(reference) => Some(self.resolve_user(application_id, reference, "creator")?),
            None => None,
        };
        let mut member_ids: Vec<UserId> = Vec::new();
        for (i, reference) in input.members.iter().enumerate() {
            match self.resolve_user(application_id, reference, &format!("members[{i}]")) {
                Ok(user) if !member_ids.contains(&user.id) => member_ids.push(user.id),
                Ok(_) => {}
                Err(DomainError::Validation(mut e)) => errors.append(&mut e),
                Err(e) => return Err(e),
            }
        }
        if let Some(creator) = &creator {
            if !member_ids.contains(&creator.id) {
                member_ids.insert(0, creator.id);
            }
        }
        if let Err(e) = validate_properties(RESOURCE, &input.properties) {
            errors.push(e);
        }
        let (name, display_name) = match input.channel_type {
            ChannelType::Direct => {
                if input.name.is_some() || input.display_name.is_some() {
                    errors.push(FieldError::new(
                        RESOURCE,
                        "name",
                        FieldErrorCode::Invalid,
                        "direct channels have no name",
                    ));
                }
                if errors.is_empty() && !(MIN_DIRECT_MEMBERS..=MAX_DIRECT_MEMBERS).contains(&member_ids.len()) {
                    errors.push(FieldError::new(
                        RESOURCE,
                        "members",
                        FieldErrorCode::Invalid,
                        format!(
                            "a direct channel has {MIN_DIRECT_MEMBERS} to {MAX_DIRECT_MEMBERS} distinct members, creator included"
                        ),
                    ));
                }
                (None, None)
            }
            ChannelType::Public | ChannelType::Private => {
                let name = match input.name.as_deref() {
                    Some(name) => validate_channel_name("name", name).map_err(|e| errors.push(e)).ok(),
                    None => Some(uuid::Uuid::new_v4().to_string()),
                };
                let display = match input.display_name.as_deref() {
                    Some(display) => validate_channel_name("displayName", display).map_err(|e| errors.push(e)).ok(),
                    None => name.clone(),
                };
                (name, display)
            }
        };
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        let key = (input.channel_type == ChannelType::Direct).then(|| direct_key(&member_ids));
        if let Some(key) = &key {
            if let Some(existing) = channels.find_direct_channel(application_id, key)? {
                return Ok(existing);
            }
        }
        if let Some(name) = &name {
            if channels.find_channel_by_name(application_id, name)?.is_some() {
                return Err(name_taken(name));
            }
        }
        let channel = Channel {
            id: ChannelId(self.next_id()),
            application_id,
            channel_type: input.channel_type,
            name,
            display_name,
            creator_id: creator.map(|c| c.id),
            properties: input.properties,
            main_thread_id: ThreadId(self.next_id()),
            last_message_id: None,
            created_time: created,
            version: 1,
            updated_time: None,
        };
        match channels.insert_channel(&channel, key.as_deref(), &member_ids) {
            Ok(()) => Ok(channel),
            // A concurrent request created the same direct channel or took the name first.
            Err(StoreError::Conflict(_)) => match &key {
                Some(key) => channels.find_direct_channel(application_id, key)?.ok_or(DomainError::NotFound(RESOURCE)),
                None => Err(name_taken(channel.name.as_deref().unwrap_or_default())),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// One channel.
    pub fn get_channel(&self, principal: &Principal, id: ChannelId) -> Result<View<Channel>, DomainError> {
        let (channel, _) = self.visible_channel(principal, id)?;
        self.channel_view(channel)
    }

    /// A page of channels (`GET /v1/channels`). A `members` username that does not exist
    /// matches no channel. A user session sees public channels and those it belongs to.
    pub fn list_channels(
        &self,
        principal: &Principal,
        mut filter: ChannelFilter,
        page: &PageRequest<ChannelSort>,
    ) -> Result<View<Page<Channel>>, DomainError> {
        let application_id = principal.application_id();
        filter.visible_to = principal.user_id();
        for name in std::mem::take(&mut filter.member_names) {
            let member =
                if has_nul(&name) { None } else { self.ports.users.find_user_by_name(application_id, &name)? };
            match member {
                Some(user) => filter.member_ids.push(user.id),
                None => {
                    let empty = Page { items: Vec::new(), number: page.number, size: page.size, total_elements: 0 };
                    return Ok(View { value: empty, related: super::Related::default() });
                }
            }
        }
        let found = self.ports.channels.list_channels(application_id, &filter, page)?;
        let related = related(self.chat(), application_id, &found.items, &[], &[])?;
        Ok(View { value: found, related })
    }

    /// The channels a user created or belongs to (`GET /v1/users/{id}/channels`).
    pub fn channels_of_user(
        &self,
        principal: &Principal,
        user: UserId,
        page: &PageRequest<ChannelSort>,
    ) -> Result<View<Page<Channel>>, DomainError> {
        self.user(self.own_records(principal, user)?, user)?;
        self.list_channels(principal, ChannelFilter { user_id: Some(user), ..ChannelFilter::default() }, page)
    }

    /// Applies an RFC 7396 merge patch (`PATCH /v1/channels/{id}`).
    pub fn patch_channel(
        &self,
        principal: &Principal,
        id: ChannelId,
        merge_patch: serde_json::Value,
        guard: Guard<'_, View<Channel>>,
    ) -> Result<View<Channel>, DomainError> {
        let patch = ChannelPatch::from_merge_patch(merge_patch)?;
        let (mut channel, standing) = self.visible_channel(principal, id)?;
        standing.at_least(Standing::Moderator, "change the channel")?;
        if guard.is_some() {
            check(guard, &self.channel_view(channel.clone())?)?;
        }
        channel.apply(&patch)?;
        channel.version += 1;
        channel.updated_time = Some(now());
        self.ports.channels.update_channel(&channel).map_err(|e| stale(guard, e))?;
        self.channel_view(channel)
    }

    /// Deletes a channel with its messages, threads, memberships, invites, reactions, read marks
    /// and notifications, in one transaction; answers with the application.
    pub fn delete_channel(
        &self,
        principal: &Principal,
        id: ChannelId,
        guard: Guard<'_, View<Channel>>,
    ) -> Result<Application, DomainError> {
        let application_id = principal.application_id();
        let (channel, standing) = self.visible_channel(principal, id)?;
        standing.at_least(Standing::Moderator, "delete the channel")?;
        let revision = match guard {
            None => None,
            Some(_) => {
                let revision = channel.version;
                check(guard, &self.channel_view(channel)?)?;
                Some(revision)
            }
        };
        if !self.ports.channels.delete_channel(application_id, id, revision)? {
            // Gone, or (conditional) changed since it was read.
            return Err(if revision.is_some() {
                DomainError::PreconditionFailed
            } else {
                DomainError::NotFound(RESOURCE)
            });
        }
        self.application(application_id)
    }

    /// Deletes the channels `ids` in one transaction, all or none (`DELETE /v1/channels?ids=`);
    /// answers with the application.
    pub fn delete_channels(&self, principal: &Principal, ids: &[ChannelId]) -> Result<Application, DomainError> {
        let application_id = principal.manage()?;
        let ids = super::bulk_ids(ids)?;
        if let Some(missing) = self.ports.channels.delete_channels(application_id, &ids)? {
            return Err(DomainError::NotFoundId { resource: RESOURCE, id: missing.0 });
        }
        self.application(application_id)
    }

    /// Adds a member to a group channel; answers with the channel. A user session joins public
    /// channels itself; adding others takes a moderator.
    pub fn add_member(
        &self,
        principal: &Principal,
        id: ChannelId,
        user: &UserRef,
    ) -> Result<View<Channel>, DomainError> {
        let application_id = principal.application_id();
        let (channel, standing) = self.visible_channel(principal, id)?;
        channel.check_group()?;
        let user = self.resolve_user(application_id, user, "user")?;
        if Some(user.id) != principal.user_id() {
            standing.at_least(Standing::Moderator, "add others to the channel")?;
        }
        self.ports.channels.add_member(&channel, user.id, now())?;
        self.channel_view(channel)
    }

    /// Removes a member (and its moderator role); answers with the channel. A user session
    /// leaves by removing itself; removing others takes a moderator.
    pub fn remove_member(
        &self,
        principal: &Principal,
        id: ChannelId,
        user: UserId,
    ) -> Result<View<Channel>, DomainError> {
        let (channel, standing) = self.visible_channel(principal, id)?;
        channel.check_group()?;
        if Some(user) != principal.user_id() {
            standing.at_least(Standing::Moderator, "remove others from the channel")?;
        }
        if !self.ports.channels.remove_member(channel.id, user)? {
            return Err(DomainError::NotFound("member"));
        }
        self.channel_view(channel)
    }

    /// A page of a channel's members (all, moderators or those online), as memberships.
    pub fn list_members(
        &self,
        principal: &Principal,
        id: ChannelId,
        which: MemberFilter,
        page: &PageRequest<MemberSort>,
    ) -> Result<Page<Membership>, DomainError> {
        let (channel, _) = self.visible_channel(principal, id)?;
        Ok(self.ports.channels.list_memberships(channel.id, which, page)?)
    }

    /// Makes a member a moderator; answers with the user.
    pub fn add_moderator(&self, principal: &Principal, id: ChannelId, user: &UserRef) -> Result<User, DomainError> {
        let application_id = principal.application_id();
        let (channel, standing) = self.visible_channel(principal, id)?;
        standing.at_least(Standing::Moderator, "appoint moderators")?;
        channel.check_group()?;
        let user = self.resolve_user(application_id, user, "user")?;
        if !self.ports.channels.set_moderator(channel.id, user.id, true)? {
            return Err(DomainError::field(
                "user",
                "user",
                FieldErrorCode::Invalid,
                "only a member of the channel can be a moderator",
            ));
        }
        Ok(user)
    }

    /// Takes a member's moderator role; answers with the channel.
    pub fn remove_moderator(
        &self,
        principal: &Principal,
        id: ChannelId,
        user: UserId,
    ) -> Result<View<Channel>, DomainError> {
        let (channel, standing) = self.visible_channel(principal, id)?;
        standing.at_least(Standing::Moderator, "remove moderators")?;
        let is_moderator = self.ports.channels.membership(channel.id, user)?.is_some_and(|m| m.moderator);
        if !is_moderator {
            return Err(DomainError::NotFound("moderator"));
        }
        self.ports.channels.set_moderator(channel.id, user, false)?;
        self.channel_view(channel)
    }

    /// Invites a user to a group channel.
    pub fn invite(&self, principal: &Principal, id: ChannelId, user: &UserRef) -> Result<Invite, DomainError> {
        let application_id = principal.application_id();
        let (channel, standing) = self.visible_channel(principal, id)?;
        standing.at_least(Standing::Member, "invite to the channel")?;
        channel.check_group()?;
        let user = self.resolve_user(application_id, user, "user")?;
        if self.ports.channels.membership(channel.id, user.id)?.is_some() {
            return Err(DomainError::field(
                "user",
                "user",
                FieldErrorCode::AlreadyExists,
                "the user is already a member",
            ));
        }
        let created_time = self.ports.channels.add_invite(channel.id, user.id, now())?;
        Ok(Invite { channel_id: channel.id, user, created_time })
    }

    /// A page of a channel's pending invites.
    pub fn list_invites(
        &self,
        principal: &Principal,
        id: ChannelId,
        page: &PageRequest<MemberSort>,
    ) -> Result<Page<Invite>, DomainError> {
        let (channel, standing) = self.visible_channel(principal, id)?;
        standing.at_least(Standing::Moderator, "list the channel's invites")?;
        Ok(self.ports.channels.list_invites(channel.id, page)?)
    }

    /// One channel of the application, or 404.
    pub(super) fn channel(&self, application_id: ApplicationId, id: ChannelId) -> Result<Channel, DomainError> {
        self.ports.channels.find_channel(application_id, id)?.ok_or(DomainError::NotFound(RESOURCE))
    }

    fn channel_view(&self, channel: Channel) -> Result<View<Channel>, DomainError> {
        let related = related(self.chat(), channel.application_id, std::slice::from_ref(&channel), &[], &[])?;
        Ok(View { value: channel, related })
    }
}
