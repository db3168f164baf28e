use diesel::prelude::*;
use roost_domain::model::event::{EventDraft, EventType, Link};
use roost_domain::model::page::{Page, PageRequest};
use roost_domain::model::user::{Secret, User, UserFilter, UserSort};
use roost_domain::ports::{StoreResult, UserStore};
use roost_domain::{now, ApplicationId, ChannelId, StoreError, Timestamp, UserId};
use serde_json::Value;

use super::events::record;
use super::sort::sorted;
use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::KeepPreparedLimit;
use crate::rows::UserRow;
use crate::schema::{channel_members, user_secrets, users};

type Db = <AnyConnection as Connection>::Backend;

fn sorted_query<'a>(
    application_id: ApplicationId,
    filter: &'a UserFilter,
    page: &PageRequest<UserSort>,
) -> users::BoxedQuery<'a, Db> {
    let mut query = users::table.filter(users::application_id.eq(application_id.0)).into_boxed();
    if let Some(name) = &filter.name {
        query = query.filter(users::name.eq(name));
    }
    if let Some(ids) = &filter.ids {
        query = query.filter(users::id.eq_any(ids.iter().map(|id| id.0).collect::<Vec<_>>()));
    }
    sorted(query, page)
}

pub(super) fn to_users(rows: Vec<UserRow>) -> StoreResult<Vec<User>> {
    rows.into_iter().map(User::try_from).collect()
}

impl UserStore for DieselStore {
    fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.write(|conn| {
            diesel::insert_into(users::table).values(UserRow::from(user)).execute(conn).store_err()?;
            record(conn, user.application_id, &[EventDraft::user(EventType::UserCreated, user)], user.created_time)
        })
    }

    fn find_user(&self, application_id: ApplicationId, id: UserId) -> StoreResult<Option<User>> {
        self.read(|conn| {
            on_engine!(conn, |c| users::table
                .filter(users::application_id.eq(application_id.0))
                .filter(users::id.eq(id.0))
                .select(UserRow::as_select())
                .get_result(c)
                .optional())
            .store_err()?
            .map(User::try_from)
            .transpose()
        })
    }

    fn users_by_ids(&self, application_id: ApplicationId, ids: &[UserId]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|u| u.0).collect();
        self.read(|conn| {
            let by_application = users::table.filter(users::application_id.eq(application_id.0));
            // One user: a fixed statement, cached per connection (an `IN (…)` list is not).
            let rows = match ids.as_slice() {
                [one] => {
                    on_engine!(conn, |c| by_application.filter(users::id.eq(*one)).select(UserRow::as_select()).load(c))
                }
                _ => by_application.filter(users::id.eq_any(&ids)).select(UserRow::as_select()).load(conn),
            };
            to_users(rows.store_err()?)
        })
    }

    fn find_user_by_name(&self, application_id: ApplicationId, name: &str) -> StoreResult<Option<User>> {
        self.read(|conn| {
            on_engine!(conn, |c| users::table
                .filter(users::application_id.eq(application_id.0))
                .filter(users::name.eq(name))
                .select(UserRow::as_select())
                .get_result(c)
                .optional())
            .store_err()?
            .map(User::try_from)
            .transpose()
        })
    }

    fn list_users(
        &self,
        application_id: ApplicationId,
        filter: &UserFilter,
        page: &PageRequest<UserSort>,
    ) -> StoreResult<Page<User>> {
        self.read(|conn| {
            if filter.properties.is_some() {
                // Custom properties are JSON text, which the two engines query differently; the
                // filter runs here over the application's users in sort order.
                let all = to_users(
                    sorted_query(application_id, filter, page).select(UserRow::as_select()).load(conn).store_err()?,
                )?;
                let matching: Vec<User> = all.into_iter().filter(|u| filter.matches_properties(u)).collect();
                let total = matching.len() as u64;
                let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
                let items = matching.into_iter().skip(skip).take(page.size as usize).collect();
                return Ok(Page { items, number: page.number, size: page.size, total_elements: total });
            }
            let mut count_query = users::table.filter(users::application_id.eq(application_id.0)).into_boxed();
            if let Some(name) = &filter.name {
                count_query = count_query.filter(users::name.eq(name));
            }
            if let Some(ids) = &filter.ids {
                count_query = count_query.filter(users::id.eq_any(ids.iter().map(|id| id.0).collect::<Vec<_>>()));
            }
            let total: i64 = count_query.count().get_result(conn).store_err()?;
            let rows = sorted_query(application_id, filter, page)
                .select(UserRow::as_select())
                .page_prepared(page)
                .load(conn)
                .store_err()?;
            Ok(Page {
                items: to_users(rows)?,
                number: page.number,
                size: page.size,
                total_elements: u64::try_from(total).unwrap_or(0),
            })
        })
    }

    fn update_user(&self, user: &User) -> StoreResult<()> {
        self.write(|conn| update_user_row(conn, user))
    }

    fn update_users(&self, users: &[User]) -> StoreResult<()> {
        self.write(|conn| users.iter().try_for_each(|user| update_user_row(conn, user)))
    }

    fn delete_user(&self, application_id: ApplicationId, id: UserId, revision: Option<i64>) -> StoreResult<bool> {
        self.write(|conn| {
            if let Some(version) = revision {
                // Claims the row at that version (a row lock on PostgreSQL, which re-checks the
                // version after a concurrent writer commits): a stale delete matches nothing.
                let claimed = diesel::update(
                    users::table
                        .filter(users::application_id.eq(application_id.0))
                        .filter(users::id.eq(id.0))
                        .filter(users::version.eq(version)),
                )
                .set(users::version.eq(users::version))
                .execute(conn)
                .store_err()?;
                if claimed == 0 {
                    return Ok(false);
                }
            }
            delete_user_rows(conn, application_id, id)
        })
    }

    fn delete_users(&self, application_id: ApplicationId, ids: &[UserId]) -> StoreResult<Option<UserId>> {
        let wanted: Vec<i64> = ids.iter().map(|id| id.0).collect();
        self.write(|conn| {
            let found: Vec<i64> = users::table
                .filter(users::application_id.eq(application_id.0))
                .filter(users::id.eq_any(&wanted))
                .select(users::id)
                .load(conn)
                .store_err()?;
            if let Some(missing) = ids.iter().find(|id| !found.contains(&id.0)) {
                return Ok(Some(*missing));
            }
            for id in ids {
                delete_user_rows(conn, application_id, *id)?;
            }
            Ok(None)
        })
    }

    fn get_secret(&self, application_id: ApplicationId, user_id: UserId, name: &str) -> StoreResult<Option<Secret>> {
        self.read(|conn| {
            let row: Option<(String, chrono::NaiveDateTime)> = user_secrets::table
                .filter(user_secrets::application_id.eq(application_id.0))
                .filter(user_secrets::user_id.eq(user_id.0))
                .filter(user_secrets::name.eq(name))
                .select((user_secrets::secret, user_secrets::updated_at))
                .get_result(conn)
                .optional()
                .store_err()?;
            row.map(|(text, updated_at)| {
                let value = serde_json::from_str(&text).map_err(|e| StoreError::Other(Box::new(e)))?;
                Ok(Secret { value, updated_time: crate::rows::utc(updated_at) })
            })
            .transpose()
        })
    }

    fn put_secret(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        name: &str,
        value: &Value,
        now: Timestamp,
        seen: Option<Option<Timestamp>>,
    ) -> StoreResult<bool> {
        let text = value.to_string();
        self.write(|conn| {
            // Update-then-insert inside the write transaction: portable, and no upsert syntax
            // is needed on the multi-backend connection (style-anchors §10, pitfall 1). A
            // conditional write updates only the row as it was seen, or inserts only if none
            // was (a concurrent insert is then a unique violation: refused as a conflict).
            let mut target = diesel::update(
                user_secrets::table.filter(user_secrets::user_id.eq(user_id.0)).filter(user_secrets::name.eq(name)),
            )
            .into_boxed();
            if let Some(Some(at)) = seen {
                target = target.filter(user_secrets::updated_at.eq(at.naive_utc()));
            }
            let updated = match seen {
                Some(None) => 0,
                _ => target
                    .set((user_secrets::secret.eq(&text), user_secrets::updated_at.eq(now.naive_utc())))
                    .execute(conn)
                    .store_err()?,
            };
            if updated == 0 && matches!(seen, Some(Some(_))) {
                return Ok(false);
            }
            if updated == 0 {
                diesel::insert_into(user_secrets::table)
                    .values((
                        user_secrets::user_id.eq(user_id.0),
                        user_secrets::name.eq(name),
                        user_secrets::application_id.eq(application_id.0),
                        user_secrets::secret.eq(&text),
                        user_secrets::updated_at.eq(now.naive_utc()),
                    ))
                    .execute(conn)
                    .store_err()?;
            }
            Ok(true)
        })
    }

    fn delete_secret(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        name: &str,
        seen: Option<Timestamp>,
    ) -> StoreResult<bool> {
        self.write(|conn| {
            let mut target = diesel::delete(
                user_secrets::table
                    .filter(user_secrets::application_id.eq(application_id.0))
                    .filter(user_secrets::user_id.eq(user_id.0))
                    .filter(user_secrets::name.eq(name)),
            )
            .into_boxed();
            if let Some(at) = seen {
                target = target.filter(user_secrets::updated_at.eq(at.naive_utc()));
            }
            Ok(target.execute(conn).store_err()? > 0)
        })
    }
}

/// Optimistic concurrency: the row must still be at the version the change was made from, or a
/// concurrent PATCH would be silently overwritten.
fn update_user_row(conn: &mut AnyConnection, user: &User) -> StoreResult<()> {
    let updated = diesel::update(
        users::table
            .filter(users::application_id.eq(user.application_id.0))
            .filter(users::id.eq(user.id.0))
            .filter(users::version.eq(user.version - 1)),
    )
    .set(UserRow::from(user))
    .execute(conn)
    .store_err()?;
    if updated == 0 {
        return Err(StoreError::Conflict(format!("user {} changed while being updated", user.id)));
    }
    // Presence is the real-time layer's, not the writer's: a change made from a read taken
    // before a stream opened or closed must not carry its stale flag.
    let online = super::presence::counted_online(conn, user.id.0)?;
    if online != user.presence.online {
        diesel::update(users::table.filter(users::id.eq(user.id.0)))
            .set(users::online.eq(online))
            .execute(conn)
            .store_err()?;
    }
    let mut changed = user.clone();
    changed.presence.online = online;
    record(conn, user.application_id, &[EventDraft::user(EventType::UserUpdated, &changed)], user.updated_time)
}

/// Deletes a user and its secrets inside the caller's transaction; `false` when there was none.
fn delete_user_rows(conn: &mut AnyConnection, application_id: ApplicationId, id: UserId) -> StoreResult<bool> {
    let Some(last) = users::table
        .filter(users::application_id.eq(application_id.0))
        .filter(users::id.eq(id.0))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()
        .store_err()?
    else {
        return Ok(false);
    };
    // Its hosted picture is marked removed (the bytes go after the commit).
    super::files::mark_removed(conn, last.display_picture_key.clone().map(|key| (key, None, Some(id))))?;
    let last = User::try_from(last)?;
    // Its memberships go with it (the foreign keys cascade): a `member.removed` each.
    let member_of: Vec<i64> = channel_members::table
        .filter(channel_members::user_id.eq(id.0))
        .select(channel_members::channel_id)
        .load(conn)
        .store_err()?;
    let removed_at = now();
    let removed: Vec<EventDraft> = member_of
        .into_iter()
        .map(|channel| EventDraft::link(EventType::MemberRemoved, Link::new(ChannelId(channel), id, removed_at)))
        .collect();
    diesel::delete(
        user_secrets::table
            .filter(user_secrets::application_id.eq(application_id.0))
            .filter(user_secrets::user_id.eq(id.0)),
    )
    .execute(conn)
    .store_err()?;
    let deleted =
        diesel::delete(users::table.filter(users::application_id.eq(application_id.0)).filter(users::id.eq(id.0)))
            .execute(conn)
            .store_err()?;
    // A concurrent delete took it first: one `user.deleted`, theirs.
    if deleted > 0 {
        let mut events = removed;
        events.push(EventDraft::user(EventType::UserDeleted, &last));
        record(conn, application_id, &events, removed_at)?;
    }
    Ok(deleted > 0)
}
