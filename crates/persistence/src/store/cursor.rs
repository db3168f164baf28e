//! Cursor pages: the one way a listing is read by key range (messages, notifications).
//!
//! A page reads `size + 1` rows along its id key through a prepared limit (see
//! [`crate::prepared::Limited`]): the surplus row tells that older ones exist. Reading upwards
//! (`After`) the rows come oldest first and are turned around. A page read downwards asks one
//! more question, whether anything newer than it exists, with a probe for any one row.

use roost_domain::model::cursor::{CursorPage, CursorRequest, KeyRange};
use roost_domain::ports::StoreResult;

use crate::conn::AnyConnection;

/// Narrows a boxed query to a key range of its id column: `(query, newest_first)`, the
/// direction to order it in (see [`KeyRange`]).
macro_rules! within_key_range {
    ($query:expr, $id:expr, $range:expr) => {
        match $range {
            KeyRange::Newest => ($query, true),
            KeyRange::AtOrBefore(start) => ($query.filter($id.le(start)), true),
            KeyRange::Before(next) => ($query.filter($id.lt(next)), true),
            KeyRange::After(start) => ($query.filter($id.gt(start)), false),
        }
    };
}
pub(super) use within_key_range;

/// What a page read downwards that came back empty says about newer rows.
#[derive(Clone, Copy)]
pub(super) enum EmptyPage {
    /// Probe from the range's bound: newer rows may exist above it (messages).
    ProbeFromBound,
    /// Nothing newer is reported (notifications).
    NoNewer,
}

/// The page of `request`. `read(conn, range, limit)` loads at most `limit` rows of `range`,
/// newest first except for `After` (oldest first, see [`within_key_range!`]); `newer(conn,
/// id)` tells whether a row with a key above `id` exists.
pub(super) fn cursor_page<T>(
    conn: &mut AnyConnection,
    request: &CursorRequest,
    id: impl Fn(&T) -> i64,
    empty: EmptyPage,
    read: impl FnOnce(&mut AnyConnection, KeyRange, i64) -> StoreResult<Vec<T>>,
    newer: impl FnOnce(&mut AnyConnection, i64) -> StoreResult<bool>,
) -> StoreResult<CursorPage<T>> {
    // One row more than the page: it tells whether older rows follow.
    let limit = i64::from(request.size) + 1;
    let mut items = read(conn, request.range, limit)?;
    if matches!(request.range, KeyRange::After(_)) {
        items.reverse();
    }
    let has_newer = match (request.range, items.first(), empty) {
        (KeyRange::Newest | KeyRange::After(_), _, _) => false,
        (KeyRange::AtOrBefore(_) | KeyRange::Before(_), Some(first), _) => newer(conn, id(first))?,
        (KeyRange::AtOrBefore(bound) | KeyRange::Before(bound), None, EmptyPage::ProbeFromBound) => newer(conn, bound)?,
        (KeyRange::AtOrBefore(_) | KeyRange::Before(_), None, EmptyPage::NoNewer) => false,
    };
    Ok(CursorPage::from_probe(request, items, id, has_newer))
}
