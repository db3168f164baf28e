//! Reading an application whole, in id order, for `roost export` and the analytics exports.

use super::StoreResult;
use crate::model::channel::Channel;
use crate::model::ids::ApplicationId;
use crate::model::job::ExportedMessage;
use crate::model::user::User;

/// An application's records page by page (keyset pages: each costs the same however far in).
pub trait ExportStore: Send + Sync {
    /// Up to `limit` (at most 100) of the application's users with ids above `after`, by id.
    fn users_after(&self, application_id: ApplicationId, after: i64, limit: u32) -> StoreResult<Vec<User>>;
    /// Up to `limit` (at most 100) of its channels with ids above `after`, by id.
    fn channels_after(&self, application_id: ApplicationId, after: i64, limit: u32) -> StoreResult<Vec<Channel>>;
    /// Up to `limit` (at most 100) of its messages with ids above `after`, by id (oldest first:
    /// usually a parent before its replies), each with its import key and its parent's.
    fn messages_after(
        &self,
        application_id: ApplicationId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ExportedMessage>>;
}
