//! The notification port: a user's notifications, paged by cursor.

use diesel::prelude::*;
use roost_domain::model::cursor::{CursorPage, CursorRequest, KeyRange};
use roost_domain::model::notification::Notification;
use roost_domain::ports::{NotificationStore, StoreResult};
use roost_domain::{ApplicationId, UserId};

use super::cursor::{cursor_page, within_key_range, EmptyPage};
use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::KeepPreparedLimit;
use crate::rows::NotificationRow;
use crate::schema::notifications;

type Db = <AnyConnection as Connection>::Backend;

impl NotificationStore for DieselStore {
    fn list_notifications(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        request: &CursorRequest,
    ) -> StoreResult<CursorPage<Notification>> {
        self.read(|conn| {
            let base = || {
                notifications::table
                    .filter(notifications::application_id.eq(application_id.0))
                    .filter(notifications::user_id.eq(user_id.0))
                    .into_boxed::<Db>()
            };
            let read = |conn: &mut AnyConnection, range: KeyRange, limit: i64| {
                let (query, newest) = within_key_range!(base(), notifications::id, range);
                let query =
                    if newest { query.order(notifications::id.desc()) } else { query.order(notifications::id.asc()) };
                let rows = query.select(NotificationRow::as_select()).limit_prepared(limit).load(conn).store_err()?;
                rows.into_iter().map(Notification::try_from).collect::<Result<Vec<_>, _>>()
            };
            let newer = |conn: &mut AnyConnection, newest_seen: i64| {
                Ok(base()
                    .filter(notifications::id.gt(newest_seen))
                    .select(notifications::id)
                    .limit_prepared(1)
                    .get_result::<i64>(conn)
                    .optional()
                    .store_err()?
                    .is_some())
            };
            let mut page = cursor_page(conn, request, |n: &Notification| n.id.0, EmptyPage::NoNewer, read, newer)?;
            let total: i64 = base().count().get_result(conn).store_err()?;
            page.total = u64::try_from(total).unwrap_or(0);
            Ok(page)
        })
    }
}
