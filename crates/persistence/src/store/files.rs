//! Hosted files' metadata, and display pictures.

use diesel::prelude::*;
use roost_domain::model::file::{Picture, StoredFile};
use roost_domain::model::user::User;
use roost_domain::ports::{FileStore, StoreResult};
use roost_domain::{ApplicationId, Timestamp, UserId};

use super::{DieselResultExt, DieselStore};
use crate::rows::{utc, UserRow};
use crate::schema::{files, users};

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
            let row: Option<FileRow> =
                files::table.find(key).select(FileRow::as_select()).get_result(conn).optional().store_err()?;
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
    ) -> StoreResult<Option<(User, Option<String>)>> {
        self.write(|conn| {
            let this = users::table.filter(users::application_id.eq(application_id.0)).filter(users::id.eq(user_id.0));
            let Some(replaced) =
                this.select(users::display_picture_key).get_result::<Option<String>>(conn).optional().store_err()?
            else {
                return Ok(None);
            };
            if let Some(file) = file {
                diesel::insert_into(files::table).values(FileRow::from(file)).execute(conn).store_err()?;
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
            if let Some(old) = &replaced {
                diesel::delete(files::table.find(old)).execute(conn).store_err()?;
            }
            let row = this.select(UserRow::as_select()).get_result(conn).store_err()?;
            Ok(Some((User::try_from(row)?, replaced)))
        })
    }
}
