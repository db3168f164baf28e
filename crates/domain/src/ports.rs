//! Storage ports: narrow, synchronous traits that `roost-persistence` implements. Callers in
//! async code run them on a blocking pool (DESIGN.md, "Storage"). Ports know the model and
//! nothing else; the use cases in [`crate::service`] call them.

use serde_json::Value;

use crate::error::StoreError;
use crate::model::account::{
    AccountSecret, AccountToken, Mail, MailOutcome, Session, SessionSort, SessionState, TokenPurpose, UserSession,
};
use crate::model::application::{AccessTokenRecord, Application, ApplicationSettings, OAuthClient, Organization};
use crate::model::channel::{Channel, ChannelFilter, ChannelSort, Invite, MemberFilter, Membership};
use crate::model::cursor::{CursorPage, CursorRequest};
use crate::model::file::{Picture, StoredFile};
use crate::model::idempotency::{Claim, KeyClaim, RecordedResponse};
use crate::model::ids::{ApplicationId, ChannelId, MessageId, ThreadId, UserId};
use crate::model::message::{
    Message, MessageDraft, MessageFilter, MessageScope, ReactionSummary, ReadReceipt, Thread, UnreadSummary,
};
use crate::model::notification::Notification;
use crate::model::page::{Page, PageRequest};
use crate::model::safety::Block;
use crate::model::user::{Secret, User, UserFilter, UserSort};
use crate::model::Timestamp;

mod all;
mod export;
mod jobs;
mod realtime;

pub use all::Ports;
pub use export::ExportStore;
pub use jobs::JobStore;
pub use realtime::{EventStore, LiveFeed, NoLiveFeed, PresenceStore, WebhookStore};

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Organizations, applications and their settings.
pub trait ApplicationStore: Send + Sync {
    /// The first organization, if any exists (an empty database has none).
    fn first_organization(&self) -> StoreResult<Option<Organization>>;
    /// Creates an application (and its organization when `new_organization` is given) with its
    /// first OAuth client, in one transaction.
    fn create_application(
        &self,
        new_organization: Option<&Organization>,
        application: &Application,
        client: &OAuthClient,
    ) -> StoreResult<()>;
    /// One application.
    fn find_application(&self, id: ApplicationId) -> StoreResult<Option<Application>>;
    /// All applications, oldest first.
    fn list_applications(&self) -> StoreResult<Vec<Application>>;
    /// Replaces the settings, raising the version; `None` when the application does not exist
    /// or (with `revision`) is no longer at that version.
    fn update_settings(
        &self,
        id: ApplicationId,
        revision: Option<i64>,
        settings: ApplicationSettings,
        now: Timestamp,
    ) -> StoreResult<Option<Application>>;
    /// Renames an application; `None` when it does not exist.
    fn rename_application(&self, id: ApplicationId, name: &str) -> StoreResult<Option<Application>>;
    /// Deletes an application and everything of it (clients, tokens, users, channels,
    /// messages, …) in one transaction; `false` when it does not exist.
    fn delete_application(&self, id: ApplicationId) -> StoreResult<bool>;
}

/// OAuth clients and access tokens.
pub trait CredentialStore: Send + Sync {
    /// A client by its public id.
    fn find_client(&self, client_id: &str) -> StoreResult<Option<OAuthClient>>;
    /// The clients of an application.
    fn clients_of(&self, application_id: ApplicationId) -> StoreResult<Vec<OAuthClient>>;
    /// Replaces a client's secret hash and revokes every token issued to it, in one transaction.
    /// `false` when the client does not exist.
    fn rotate_client_secret(&self, client_id: &str, secret_hash: &str) -> StoreResult<bool>;
    /// Stores a newly issued token.
    fn insert_token(&self, token: &AccessTokenRecord) -> StoreResult<()>;
    /// A token by the SHA-256 of its bearer string.
    fn find_token(&self, token_hash: &str) -> StoreResult<Option<AccessTokenRecord>>;
    /// Revokes a token if it belongs to `client_id`; `false` when no such token exists.
    fn revoke_token(&self, token_hash: &str, client_id: &str) -> StoreResult<bool>;
    /// Deletes tokens that expired before `before`; returns how many.
    fn purge_expired_tokens(&self, before: Timestamp) -> StoreResult<u64>;
    /// A user session by the SHA-256 of its bearer string.
    fn find_session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    /// Stores a stream ticket standing for a token (both as hashes; `session`: a user session's).
    fn insert_ticket(&self, ticket_hash: &str, token_hash: &str, session: bool, expires: Timestamp) -> StoreResult<()>;
    /// Uses up a ticket: the token it stands for (hash, whether a session's), if it exists and
    /// has not expired.
    fn take_ticket(&self, ticket_hash: &str, now: Timestamp) -> StoreResult<Option<(String, bool)>>;
}

/// End-user accounts: their sign-in data beside their users, the single-use tokens mailed to
/// them, their sessions and the outbox of mail not sent by SMTP.
pub trait AccountStore: Send + Sync {
    /// The application whose public key is `key`.
    fn application_by_key(&self, key: &str) -> StoreResult<Option<Application>>;
    /// Creates `user` with its account (`email`, `password_hash`, not activated yet), its
    /// activation `token` and the `mail` that carries it, in one transaction;
    /// [`StoreError::Conflict`] when the user name or the email is taken.
    fn create_account(
        &self,
        user: &User,
        email: &str,
        password_hash: &str,
        token: &AccountToken,
        mail: &Mail,
    ) -> StoreResult<()>;
    /// Uses the activation token of `token_hash` at `now`, once: activates its account in the
    /// same transaction. The user; `None` when the token is unknown, used or expired.
    fn activate_account(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<User>>;
    /// The user named `username` with its sign-in data.
    fn find_account(&self, application_id: ApplicationId, username: &str)
        -> StoreResult<Option<(User, AccountSecret)>>;
    /// A user's sign-in data.
    fn account_of(&self, application_id: ApplicationId, user_id: UserId) -> StoreResult<Option<AccountSecret>>;
    /// Stores a new session.
    fn insert_session(&self, session: &Session) -> StoreResult<()>;
    /// Ends the session `session_id` at `now`; `false` when it was ended already or is not there.
    fn end_session(&self, application_id: ApplicationId, session_id: i64, now: Timestamp) -> StoreResult<bool>;
    /// The mail kept for the operator, oldest first.
    fn outbox(&self) -> StoreResult<Vec<Mail>>;
    /// Counts a failed login of the user; at the `lock_at`-th in a row, locks the account until
    /// `lock_until` and starts counting again.
    fn record_login_failure(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        lock_at: u32,
        lock_until: Timestamp,
    ) -> StoreResult<()>;
    /// A successful login: forgets failed ones and any lockout.
    fn clear_login_failures(&self, application_id: ApplicationId, user_id: UserId) -> StoreResult<()>;
    /// Lifts the lockout of the user named `username`; `false` when there is no such user.
    fn unlock_account(&self, application_id: ApplicationId, username: &str) -> StoreResult<bool>;
    /// Sets the user's password, ends all its sessions and starts `session`, in one
    /// transaction. The token hashes of the sessions ended.
    fn change_password(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        password_hash: &str,
        session: &Session,
        now: Timestamp,
    ) -> StoreResult<Vec<String>>;
    /// The user of an unused, unexpired token of `purpose`, with its sign-in data.
    fn find_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> StoreResult<Option<(User, AccountSecret)>>;
    /// Uses a password reset token once: sets the password, activates the account (the mail
    /// proved the address), lifts any lockout and ends every session, in one transaction. The
    /// user and the token hashes of the sessions ended; `None` when the token is unknown, used
    /// or expired.
    fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(User, Vec<String>)>>;
    /// The user whose email is `email` (compared lower-cased), with its sign-in data.
    fn find_account_by_email(
        &self,
        application_id: ApplicationId,
        email: &str,
    ) -> StoreResult<Option<(User, AccountSecret)>>;
    /// Stores a token and the mail that carries it (and any notice), in one transaction; with
    /// `at_most` `(n, since)`, only when the user was issued fewer than `n` tokens of the same
    /// purpose since `since`, counted in that transaction with the user's row locked, so
    /// requests at once cannot pass the cap together. Whether it was stored.
    fn issue_token(&self, token: &AccountToken, mail: &[Mail], at_most: Option<(u32, Timestamp)>) -> StoreResult<bool>;
    /// Claims up to `limit` mails not sent yet whose next attempt is due at `now`, until
    /// `lease_until` (another node skips them meanwhile), oldest first.
    fn claim_mail(&self, now: Timestamp, lease_until: Timestamp, limit: u32) -> StoreResult<Vec<Mail>>;
    /// Records a mail's delivery: sent at `sent_time`, or failed with `error` and tried again
    /// at `retry_at`.
    fn record_delivery(&self, id: i64, outcome: MailOutcome) -> StoreResult<()>;
    /// Deletes the mail sent or abandoned before `before`; returns how many.
    fn purge_mail(&self, before: Timestamp) -> StoreResult<u64>;
    /// A page of the application's sessions with their users, in `state` at `now` if given.
    fn list_sessions(
        &self,
        application_id: ApplicationId,
        state: Option<SessionState>,
        now: Timestamp,
        page: &PageRequest<SessionSort>,
    ) -> StoreResult<Page<UserSession>>;
}

/// Password hashing (argon2id, in `roost-auth`): slow on purpose, so callers run the use cases
/// that hash on threads of their own, with bounded concurrency.
pub trait PasswordHasher: Send + Sync {
    /// A PHC string of `password`.
    fn hash_password(&self, password: &str) -> Result<String, String>;
    /// Whether `password` matches the PHC string `hash`.
    fn verify_password(&self, password: &str, hash: &str) -> bool;
    /// Takes the time a verification takes, for a user that does not exist: the answer must
    /// not tell whether it does.
    fn verify_decoy(&self, password: &str);
}

/// Chat users and their secrets.
pub trait UserStore: Send + Sync {
    /// Inserts a new user; [`StoreError::Conflict`] when the name is taken.
    fn insert_user(&self, user: &User) -> StoreResult<()>;
    /// One user of the application.
    fn find_user(&self, application_id: ApplicationId, id: UserId) -> StoreResult<Option<User>>;
    /// Users of the application by id (missing ones are left out).
    fn users_by_ids(&self, application_id: ApplicationId, ids: &[UserId]) -> StoreResult<Vec<User>>;
    /// One user of the application by username.
    fn find_user_by_name(&self, application_id: ApplicationId, name: &str) -> StoreResult<Option<User>>;
    /// A page of users.
    fn list_users(
        &self,
        application_id: ApplicationId,
        filter: &UserFilter,
        page: &PageRequest<UserSort>,
    ) -> StoreResult<Page<User>>;
    /// Writes every mutable field of an existing user whose stored version is `user.version - 1`;
    /// [`StoreError::Conflict`] when another change came first.
    fn update_user(&self, user: &User) -> StoreResult<()>;
    /// [`UserStore::update_user`] for each of `users`, in one transaction: all or none.
    fn update_users(&self, users: &[User]) -> StoreResult<()>;
    /// Deletes a user with its secrets; `false` when it did not exist or (with `revision`) is no
    /// longer at that version.
    fn delete_user(&self, application_id: ApplicationId, id: UserId, revision: Option<i64>) -> StoreResult<bool>;
    /// Deletes every user of `ids` in one transaction, or none: `Some(id)` names the first that
    /// is not a user of the application, and then nothing was deleted.
    fn delete_users(&self, application_id: ApplicationId, ids: &[UserId]) -> StoreResult<Option<UserId>>;
    /// A user's named secret.
    fn get_secret(&self, application_id: ApplicationId, user_id: UserId, name: &str) -> StoreResult<Option<Secret>>;
    /// Creates or replaces a user's named secret. With `seen` (a conditional write), only if the
    /// secret is still as it was seen: `Some(None)` absent, `Some(Some(t))` last set at `t`;
    /// `false` when it is not.
    fn put_secret(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        name: &str,
        value: &Value,
        now: Timestamp,
        seen: Option<Option<Timestamp>>,
    ) -> StoreResult<bool>;
    /// Removes a user's named secret (with `seen`, only if it was last set then); `false` when
    /// it did not exist or was set since.
    fn delete_secret(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        name: &str,
        seen: Option<Timestamp>,
    ) -> StoreResult<bool>;
}

/// Channels, memberships, moderators and invites.
pub trait ChannelStore: Send + Sync {
    /// Inserts a channel with its MAIN thread and initial members, in one transaction;
    /// [`StoreError::Conflict`] when the name or the direct member set is taken.
    fn insert_channel(&self, channel: &Channel, direct_key: Option<&str>, member_ids: &[UserId]) -> StoreResult<()>;
    /// One channel.
    fn find_channel(&self, application_id: ApplicationId, id: ChannelId) -> StoreResult<Option<Channel>>;
    /// One channel with how `user` belongs to it, in one read: `Some(true)` a moderator,
    /// `Some(false)` a member, `None` not a member.
    fn find_channel_as(
        &self,
        application_id: ApplicationId,
        id: ChannelId,
        user: UserId,
    ) -> StoreResult<Option<(Channel, Option<bool>)>>;
    /// A group channel by name.
    fn find_channel_by_name(&self, application_id: ApplicationId, name: &str) -> StoreResult<Option<Channel>>;
    /// The direct channel of a member set.
    fn find_direct_channel(&self, application_id: ApplicationId, direct_key: &str) -> StoreResult<Option<Channel>>;
    /// Channels by id (missing ones are left out).
    fn channels_by_ids(&self, application_id: ApplicationId, ids: &[ChannelId]) -> StoreResult<Vec<Channel>>;
    /// A page of channels.
    fn list_channels(
        &self,
        application_id: ApplicationId,
        filter: &ChannelFilter,
        page: &PageRequest<ChannelSort>,
    ) -> StoreResult<Page<Channel>>;
    /// Writes display name, properties, version and update time, if the stored row is still at
    /// the version before `channel.version`; else [`StoreError::Conflict`].
    fn update_channel(&self, channel: &Channel) -> StoreResult<()>;
    /// [`ChannelStore::update_channel`] for each of `channels`, in one transaction: all or none.
    fn update_channels(&self, channels: &[Channel]) -> StoreResult<()>;
    /// Deletes a channel and everything in it, in one transaction; `false` if it did not exist
    /// or (with `revision`) is no longer at that version.
    fn delete_channel(&self, application_id: ApplicationId, id: ChannelId, revision: Option<i64>) -> StoreResult<bool>;
    /// Deletes every channel of `ids` (with their messages, members and invites) in one
    /// transaction, or none: `Some(id)` names the first that is not a channel of the application.
    fn delete_channels(&self, application_id: ApplicationId, ids: &[ChannelId]) -> StoreResult<Option<ChannelId>>;
    /// Adds a member (idempotent) and drops any pending invite.
    fn add_member(&self, channel: &Channel, user_id: UserId, now: Timestamp) -> StoreResult<()>;
    /// Removes a member; `false` if they were not one.
    fn remove_member(&self, channel_id: ChannelId, user_id: UserId) -> StoreResult<bool>;
    /// One membership.
    fn membership(&self, channel_id: ChannelId, user_id: UserId) -> StoreResult<Option<Membership>>;
    /// Every member id of a channel.
    fn member_ids(&self, channel_id: ChannelId) -> StoreResult<Vec<UserId>>;
    /// A channel with every member id, as posting needs both: a store that can read them in
    /// one round trip should (issue 4: each read was a tenth of a post's CPU).
    fn find_channel_with_member_ids(
        &self,
        application_id: ApplicationId,
        id: ChannelId,
    ) -> StoreResult<Option<(Channel, Vec<UserId>)>> {
        let Some(channel) = self.find_channel(application_id, id)? else { return Ok(None) };
        let members = self.member_ids(channel.id)?;
        Ok(Some((channel, members)))
    }
    /// A page of memberships (optionally moderators only), sorted by user.
    fn list_memberships(
        &self,
        channel_id: ChannelId,
        which: MemberFilter,
        page: &PageRequest<UserSort>,
    ) -> StoreResult<Page<Membership>>;
    /// Sets or clears the moderator flag of a member; `false` if not a member.
    fn set_moderator(&self, channel_id: ChannelId, user_id: UserId, moderator: bool) -> StoreResult<bool>;
    /// Records an invite (idempotent); returns its creation time.
    fn add_invite(&self, channel_id: ChannelId, user_id: UserId, now: Timestamp) -> StoreResult<Timestamp>;
    /// A page of invites.
    fn list_invites(&self, channel_id: ChannelId, page: &PageRequest<UserSort>) -> StoreResult<Page<Invite>>;
}

/// Messages, threads, reactions and read marks.
pub trait MessageStore: Send + Sync {
    /// Stores a new message with its notifications, bumps the parent's reply count and the
    /// channel's last message, in one transaction. The store assigns the id from the node's
    /// id generator, which it owns, while the channel is locked, so one channel's ids are
    /// committed in increasing order.
    fn append_message(&self, draft: MessageDraft) -> StoreResult<Message>;
    /// Of `keys`, those an import has stored a message under, with the message.
    fn imported_keys(&self, application_id: ApplicationId, keys: &[String]) -> StoreResult<Vec<(String, MessageId)>>;
    /// Stores imported messages and their keys in one transaction, with ids from their own
    /// times ([`crate::IdGenerator::imported_id`], the next free slot of the millisecond), each
    /// reply in its parent's thread (made if it has none yet, whatever `thread_id` it came
    /// with); counts the replies on their parents and the top-level messages on their channels. Records no
    /// events (history, not news). The ids given, in order.
    fn import_messages(&self, messages: &[crate::model::job::ImportedMessage]) -> StoreResult<Vec<MessageId>>;
    /// Refreshes the query planner's statistics of the tables an import grows (PostgreSQL's
    /// `ANALYZE`, which also replans statements prepared while they were small; nothing on
    /// SQLite, whose plans do not go stale).
    fn refresh_import_statistics(&self) -> StoreResult<()>;
    /// One message.
    fn find_message(&self, application_id: ApplicationId, id: MessageId) -> StoreResult<Option<Message>>;
    /// Messages by id (missing ones are left out).
    fn messages_by_ids(&self, application_id: ApplicationId, ids: &[MessageId]) -> StoreResult<Vec<Message>>;
    /// One thread.
    fn find_thread(&self, application_id: ApplicationId, id: ThreadId) -> StoreResult<Option<Thread>>;
    /// The MESSAGE thread of `parent`, created with id `new_id` if it has none yet.
    fn message_thread(&self, parent: &Message, new_id: ThreadId, now: Timestamp) -> StoreResult<Thread>;
    /// A cursor page of messages, newest first.
    fn list_messages(
        &self,
        application_id: ApplicationId,
        scope: &MessageScope,
        filter: &MessageFilter,
        request: &CursorRequest,
    ) -> StoreResult<CursorPage<Message>>;
    /// Writes body, mentions, links, properties, edit time and version, if the stored row is
    /// still at the version before `message.version`; else [`StoreError::Conflict`].
    fn update_message(&self, message: &Message) -> StoreResult<()>;
    /// [`MessageStore::update_message`] for each of `messages`, in one transaction: all or none.
    fn update_messages(&self, messages: &[Message]) -> StoreResult<()>;
    /// Deletes a message, its replies (recursively), reactions and notifications, in one
    /// transaction. With `same_revision`, only if it is still at `message.version` (else `false`).
    fn delete_message(&self, message: &Message, same_revision: bool) -> StoreResult<bool>;
    /// Deletes every message of the application; returns how many.
    fn delete_all_messages(&self, application_id: ApplicationId) -> StoreResult<u64>;
    /// Deletes every message of `ids` (with their replies) in one transaction, or none:
    /// `Some(id)` names the first that is not a message of the application.
    fn delete_messages(&self, application_id: ApplicationId, ids: &[MessageId]) -> StoreResult<Option<MessageId>>;
    /// Adds a reaction (idempotent).
    fn add_reaction(&self, message: &Message, emoji: &str, user_id: UserId, now: Timestamp) -> StoreResult<()>;
    /// Removes a reaction; `false` if there was none.
    fn remove_reaction(&self, message_id: MessageId, emoji: &str, user_id: UserId) -> StoreResult<bool>;
    /// Reaction summaries of messages, by message id.
    fn reactions(&self, message_ids: &[MessageId]) -> StoreResult<Vec<(MessageId, ReactionSummary)>>;
    /// Moves the user's read mark in the message's channel up to the message (never down);
    /// returns the time of the mark.
    fn mark_read(&self, message: &Message, user_id: UserId, now: Timestamp) -> StoreResult<Timestamp>;
    /// Users whose read mark in the channel is at or past the message.
    fn read_receipts(&self, message: &Message, page: &PageRequest<UserSort>) -> StoreResult<Page<ReadReceipt>>;
    /// Page `number` (from 0) of `size` of a scope's messages, newest first.
    fn list_messages_numbered(
        &self,
        application_id: ApplicationId,
        scope: &MessageScope,
        filter: &MessageFilter,
        number: u32,
        size: u32,
    ) -> StoreResult<Page<Message>>;
    /// How many messages a scope holds (what `list_messages` would list, all pages).
    fn count_messages(
        &self,
        application_id: ApplicationId,
        scope: &MessageScope,
        filter: &MessageFilter,
    ) -> StoreResult<u64>;
    /// Per channel and member, the messages the member has not read (only pairs with some),
    /// ordered by channel then user.
    /// Page `number` (from 0) of `size` rows.
    fn unread_summaries(
        &self,
        application_id: ApplicationId,
        number: u32,
        size: u32,
    ) -> StoreResult<Page<UnreadSummary>>;
    /// The members with unread messages in some channel.
    fn users_with_unread(&self, application_id: ApplicationId) -> StoreResult<Vec<UserId>>;
}

/// Notifications.
pub trait NotificationStore: Send + Sync {
    /// A cursor page of a user's notifications, newest first.
    fn list_notifications(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        request: &CursorRequest,
    ) -> StoreResult<CursorPage<Notification>>;
}

/// The store's own health, for readiness probes.
pub trait HealthStore: Send + Sync {
    /// `Ok` when the database answers and every migration this build knows is applied;
    /// [`StoreError::Unavailable`] saying what is wrong otherwise.
    fn check_ready(&self) -> StoreResult<()>;
    /// Counters and gauges of the store, for monitoring; cheap (no query).
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }
}

/// What a store reports for monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Database connections open now.
    pub connections: u32,
    /// Of those, connections idle in the pool.
    pub idle_connections: u32,
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// Group commits of new messages so far (one transaction each).
    pub group_commits: u64,
    /// Messages those group commits stored.
    pub group_committed_writes: u64,
    /// How many group commits held at most each bound of messages: `(bound, commits)`,
    /// cumulative, bounds ascending, the last bound `u64::MAX` (all of them).
    pub group_commit_sizes: Vec<(u64, u64)>,
}

/// Hosted files' metadata (the bytes are in the file store, outside the database).
pub trait FileStore: Send + Sync {
    /// The file with this key, of any application (a download needs no token: the key is the
    /// secret).
    fn find_file(&self, key: &str) -> StoreResult<Option<StoredFile>>;
    /// Sets a user's display picture in one transaction, recording `file` when the picture is
    /// hosted, marking the hosted picture it replaced removed, and raising the user's version:
    /// the user as stored; `None` when the user does not exist.
    fn set_display_picture(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        picture: &Picture,
        file: Option<&StoredFile>,
        now: Timestamp,
    ) -> StoreResult<Option<User>>;
    /// Keys of files marked removed (their message, user or picture is gone; every delete marks
    /// them in its own transaction), oldest first, at most `limit`: bytes still to remove.
    fn removed_files(&self, limit: u32) -> StoreResult<Vec<String>>;
    /// Deletes the rows of `keys` (whose bytes are gone); how many there were.
    fn forget_files(&self, keys: &[String]) -> StoreResult<u64>;
    /// Marks removed every file no message, no user and no job refers to; how many.
    fn mark_unreferenced_files(&self) -> StoreResult<u64>;
    /// Records a file that nothing but a job refers to (an export's result).
    fn record_file(&self, file: &StoredFile) -> StoreResult<()>;
    /// Which of `keys` have a row, removed or not, or are a job's input or result.
    fn recorded_files(&self, keys: &[String]) -> StoreResult<Vec<String>>;
    /// Files not marked removed whose key sorts after `after`, in key order, at most `limit`.
    fn files_after(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<StoredFile>>;
}

/// Records of idempotent requests ([`crate::model::idempotency`]).
pub trait IdempotencyStore: Send + Sync {
    /// Claims `claim.key` for the application: [`Claim::Started`] (and the key is marked
    /// running) when it is free, expired or abandoned; otherwise what its record holds. Two
    /// claims of one key at once, on any nodes, never both get `Started`.
    fn claim_key(&self, application_id: ApplicationId, claim: &KeyClaim<'_>) -> StoreResult<Claim>;
    /// Records the answer of the request whose claim of `key` was made at `claimed` (a claim
    /// taken over since records nothing).
    fn record_response(
        &self,
        application_id: ApplicationId,
        key: &str,
        claimed: Timestamp,
        response: &RecordedResponse,
    ) -> StoreResult<()>;
    /// Frees `key`, if still held by the claim made at `claimed`, after its request failed in a
    /// way a retry should run again.
    fn release_key(&self, application_id: ApplicationId, key: &str, claimed: Timestamp) -> StoreResult<()>;
    /// Deletes the records that expired before `now`; returns how many.
    fn purge_keys(&self, now: Timestamp) -> StoreResult<u64>;
}

/// Blocks between users and reports of messages.
pub trait SafetyStore: Send + Sync {
    /// `user` blocks `blocked` from `now`; `false` when it already did.
    fn block(&self, application_id: ApplicationId, user: UserId, blocked: UserId, now: Timestamp) -> StoreResult<bool>;
    /// Lifts a block; `false` when there was none.
    fn unblock(&self, user: UserId, blocked: UserId) -> StoreResult<bool>;
    /// A page of the users `user` blocked, most recent first.
    fn list_blocks(
        &self,
        application_id: ApplicationId,
        user: UserId,
        number: u32,
        size: u32,
    ) -> StoreResult<Page<Block>>;
    /// Those of `users` who blocked `sender`.
    fn blockers_among(&self, sender: UserId, users: &[UserId]) -> StoreResult<Vec<UserId>>;
    /// `user` reports `message` for `reason`; `false` when it had reported it already (the first
    /// report stands).
    fn report(&self, message: &Message, user: UserId, reason: &str, now: Timestamp) -> StoreResult<bool>;
    /// A page of a channel's reported messages with their report counts, most reported first.
    fn reported_messages(&self, channel: ChannelId, number: u32, size: u32) -> StoreResult<Page<(Message, u64)>>;
}
