//! Hosted files' metadata, and display pictures.

use diesel::prelude::*;
use roost_domain::model::event::{EventDraft, EventType};
use roost_domain::model::file::{Picture, StoredFile};
use roost_domain::model::user::User;
use roost_domain::ports::{FileStore, StoreResult};
use std::collections::{BTreeMap, HashMap};

use roost_domain::{ApplicationId, ChannelId, Timestamp, UserId};

use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::KeepPreparedLimit;
use crate::rows::{utc, UserRow};
use crate::schema::{files, jobs, messages, users};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = files)]
struct FileRow {
    file_key: String,
    application_id: i64,
    name: String,
    content_type: String,
    size: i64,
    checksum: String,
    created_at: chrono::NaiveDateTime,
}

impl From<&StoredFile> for FileRow {
    fn from(f: &StoredFile) -> Self {
        Self {
            file_key: f.key.clone(),
            application_id: f.application_id.0,
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: i64::try_from(f.size).unwrap_or(i64::MAX),
            checksum: f.checksum.clone(),
            created_at: f.created_time.naive_utc(),
        }
    }
}

impl From<FileRow> for StoredFile {
    fn from(r: FileRow) -> Self {
        Self {
            key: r.file_key,
            application_id: ApplicationId(r.application_id),
            name: r.name,
            content_type: r.content_type,
            size: u64::try_from(r.size).unwrap_or(0),
            checksum: r.checksum,
            created_time: utc(r.created_at),
        }
    }
}

impl FileStore for DieselStore {
    fn find_file(&self, key: &str) -> StoreResult<Option<StoredFile>> {
        self.read(|conn| {
            let row: Option<FileRow> = files::table
                .find(key)
                .filter(files::deleted_at.is_null())
                .select(FileRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?;
            Ok(row.map(StoredFile::from))
        })
    }

    fn set_display_picture(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        picture: &Picture,
        file: Option<&StoredFile>,
        now: Timestamp,
    ) -> StoreResult<Option<User>> {
        self.write(|conn| {
            let this = users::table.filter(users::application_id.eq(application_id.0)).filter(users::id.eq(user_id.0));
            let Some(replaced) =
                this.select(users::display_picture_key).get_result::<Option<String>>(conn).optional().store_err()?
            else {
                return Ok(None);
            };
            if let Some(file) = file {
                diesel::insert_into(files::table).values(FileRow::from(file)).execute(conn).store_err()?;
                let created = EventDraft::file(EventType::FileCreated, file, None, Some(user_id));
                super::events::record(conn, application_id, &[created], now)?;
            }
            let (key, url) = match picture {
                Picture::Hosted(key) => (Some(key.as_str()), None),
                Picture::External(url) => (None, Some(url.as_str())),
            };
            diesel::update(this)
                .set((
                    users::display_picture_key.eq(key),
                    users::display_picture_url.eq(url),
                    users::version.eq(users::version + 1),
                    users::updated_at.eq(now.naive_utc()),
                ))
                .execute(conn)
                .store_err()?;
            mark_removed(conn, replaced.map(|key| (key, None, Some(user_id))))?;
            let row = this.select(UserRow::as_select()).get_result(conn).store_err()?;
            let user = User::try_from(row)?;
            let changed = EventDraft::user(EventType::UserUpdated, &user);
            super::events::record(conn, application_id, &[changed], now)?;
            Ok(Some(user))
        })
    }

    fn removed_files(&self, limit: u32) -> StoreResult<Vec<String>> {
        self.read(|conn| {
            files::table
                .filter(files::deleted_at.is_not_null())
                .order(files::deleted_at)
                .select(files::file_key)
                .limit_prepared(i64::from(limit))
                .load(conn)
                .store_err()
        })
    }

    fn forget_files(&self, keys: &[String]) -> StoreResult<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        self.write(|conn| {
            let deleted =
                diesel::delete(files::table.filter(files::file_key.eq_any(keys))).execute(conn).store_err()?;
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
    }

    fn mark_unreferenced_files(&self) -> StoreResult<u64> {
        self.write(|conn| {
            // NOT IN over a list holding NULL is never true (SQL's three-valued logic): the
            // subqueries leave NULLs out.
            let in_messages = messages::table.filter(messages::file_key.is_not_null()).select(messages::file_key);
            let in_users =
                users::table.filter(users::display_picture_key.is_not_null()).select(users::display_picture_key);
            // An export's CSV is its job's.
            let in_jobs = jobs::table.filter(jobs::result_key.is_not_null()).select(jobs::result_key);
            let unreferenced: Vec<String> = files::table
                .filter(files::deleted_at.is_null())
                .filter(diesel::dsl::not(files::file_key.nullable().eq_any(in_messages)))
                .filter(diesel::dsl::not(files::file_key.nullable().eq_any(in_users)))
                .filter(diesel::dsl::not(files::file_key.nullable().eq_any(in_jobs)))
                .select(files::file_key)
                .load(conn)
                .store_err()?;
            let marked = unreferenced.len();
            mark_removed(conn, unreferenced.into_iter().map(|key| (key, None, None)))?;
            Ok(u64::try_from(marked).unwrap_or(u64::MAX))
        })
    }

    fn record_file(&self, file: &StoredFile) -> StoreResult<()> {
        self.write(|conn| insert_file(conn, file))
    }

    fn recorded_files(&self, keys: &[String]) -> StoreResult<Vec<String>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.read(|conn| {
            let mut recorded: Vec<String> =
                files::table.filter(files::file_key.eq_any(keys)).select(files::file_key).load(conn).store_err()?;
            // A job's input and an export's result are recorded by their job.
            let inputs: Vec<Option<String>> =
                jobs::table.filter(jobs::input_key.eq_any(keys)).select(jobs::input_key).load(conn).store_err()?;
            let results: Vec<Option<String>> =
                jobs::table.filter(jobs::result_key.eq_any(keys)).select(jobs::result_key).load(conn).store_err()?;
            recorded.extend(inputs.into_iter().chain(results).flatten());
            Ok(recorded)
        })
    }

    fn files_after(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<StoredFile>> {
        self.read(|conn| {
            let mut query = files::table.filter(files::deleted_at.is_null()).into_boxed();
            if let Some(after) = after {
                query = query.filter(files::file_key.gt(after));
            }
            let rows: Vec<FileRow> = query
                .order(files::file_key)
                .select(FileRow::as_select())
                .limit_prepared(i64::from(limit))
                .load(conn)
                .store_err()?;
            Ok(rows.into_iter().map(StoredFile::from).collect())
        })
    }
}

/// Keys bound in one statement (SQLite's limit is 32 766 values).
const MAX_KEYS_PER_STATEMENT: usize = 10_000;

/// A file to mark removed, with whose it was: a message's channel and sender, or a user's
/// display picture (neither: an unreferenced file found by the sweep).
pub(crate) type OwnedFile = (String, Option<ChannelId>, Option<UserId>);

/// The hosted files of messages, from their `(file_key, channel_id, user_id)`.
pub(crate) fn message_files(rows: Vec<(Option<String>, i64, Option<i64>)>) -> Vec<OwnedFile> {
    rows.into_iter()
        .filter_map(|(key, channel, user)| Some((key?, Some(ChannelId(channel)), user.map(UserId))))
        .collect()
}

/// Marks files removed inside the caller's transaction, each with a `file.deleted` carrying its
/// last state: their bytes are removed once it committed, then their rows
/// ([`FileStore::removed_files`]). A download no longer finds them from the commit on.
pub(crate) fn mark_removed(conn: &mut AnyConnection, owned: impl IntoIterator<Item = OwnedFile>) -> StoreResult<()> {
    let owned: HashMap<String, (Option<ChannelId>, Option<UserId>)> =
        owned.into_iter().map(|(key, channel, user)| (key, (channel, user))).collect();
    if owned.is_empty() {
        return Ok(());
    }
    let keys: Vec<&String> = owned.keys().collect();
    let now = roost_domain::now();
    let mut by_application: BTreeMap<i64, Vec<EventDraft>> = BTreeMap::new();
    // In chunks: SQLite binds at most 32 766 values per statement. `RETURNING` gives the rows
    // this statement marked, so of two deletes at once only one tells of a file.
    for chunk in keys.chunks(MAX_KEYS_PER_STATEMENT) {
        let marked: Vec<FileRow> = on_engine!(conn, |c| diesel::update(
            files::table.filter(files::file_key.eq_any(chunk)).filter(files::deleted_at.is_null())
        )
        .set(files::deleted_at.eq(Some(now.naive_utc())))
        .returning(FileRow::as_returning())
        .load(c)
        .store_err()?);
        for row in marked {
            let file = StoredFile::from(row);
            let (channel, user) = owned.get(&file.key).copied().unwrap_or_default();
            let deleted = EventDraft::file(EventType::FileDeleted, &file, channel, user);
            by_application.entry(file.application_id.0).or_default().push(deleted);
        }
    }
    for (application_id, events) in by_application {
        super::events::record(conn, ApplicationId(application_id), &events, now)?;
    }
    Ok(())
}

/// Records a message's hosted file inside the caller's transaction (the message's own insert).
pub(crate) fn insert_file(conn: &mut AnyConnection, file: &StoredFile) -> StoreResult<()> {
    diesel::insert_into(files::table).values(FileRow::from(file)).execute(conn).store_err()?;
    Ok(())
}
