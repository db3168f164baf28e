//! Seeding a long history fast, and counting what was stored: the benchmarks' own SQL, so that
//! `roost-persistence` is built without its test support (a workspace build would otherwise
//! compile that into the `roost` binary). `crates/persistence/benches/cursor_page.rs` includes
//! this file too.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use roost_persistence::schema::messages;
use roost_persistence::{DatabaseKind, DatabaseUrl};

/// Loads `count` system messages into a thread with one set-based INSERT (ids `first_id + 1` to
/// `first_id + count`), for benchmarks that need a long history fast. The per-message write
/// path is not exercised: benchmarks measure it separately.
pub fn bulk_load_messages(
    url: &DatabaseUrl,
    application_id: i64,
    channel_id: i64,
    thread_id: i64,
    first_id: i64,
    count: i64,
) -> Result<(), String> {
    let columns = "id, application_id, channel_id, thread_id, message_type, user_id, body, file, group_tag, \
                   properties, mentions, links, nested_level, replies_count, parent_id, created_at, last_edited_at";
    let row = |n: &str, body: &str, time: &str| {
        format!(
            "{first_id} + {n}, {application_id}, {channel_id}, {thread_id}, 'SYSTEM_TEXT', NULL, {body}, NULL, NULL, \
             '{{}}', '[]', '[]', 0, 0, NULL, {time}, NULL"
        )
    };
    let err = |e: &dyn std::fmt::Display| e.to_string();
    // The channel's top-level count moves as the API's posts move it (`page.total`). A binary
    // from before that count (compared against with `ROOST_BIN`) has no such column.
    let counted = format!("UPDATE channels SET message_count = message_count + {count} WHERE id = {channel_id}");
    let count_kept = |result: Result<(), diesel::result::Error>| match result {
        Err(e) if !e.to_string().contains("message_count") => Err(err(&e)),
        _ => Ok(()),
    };
    match url.kind() {
        DatabaseKind::Sqlite => {
            let sql = format!(
                "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {count}) \
                 INSERT INTO messages ({columns}) SELECT {} FROM seq; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);",
                row("n", "'benchmark message number ' || n", "'2026-01-01 00:00:00'")
            );
            let mut conn = SqliteConnection::establish(url.sqlite_path().unwrap_or_default()).map_err(|e| err(&e))?;
            conn.batch_execute("PRAGMA busy_timeout = 30000").map_err(|e| err(&e))?;
            conn.batch_execute(&sql).map_err(|e| err(&e))?;
            count_kept(conn.batch_execute(&counted))
        }
        DatabaseKind::Postgres => {
            let sql = format!(
                "INSERT INTO messages ({columns}) SELECT {} FROM generate_series(1, {count}) AS n; ANALYZE messages;",
                row("n", "'benchmark message number ' || n::text", "TIMESTAMP '2026-01-01 00:00:00'")
            );
            let mut conn = PgConnection::establish(&url.to_url_string()).map_err(|e| err(&e))?;
            conn.batch_execute(&sql).map_err(|e| err(&e))?;
            count_kept(conn.batch_execute(&counted))?;
            // Vacuum now (outside the INSERT's transaction), or autovacuum does it for the new
            // rows in the middle of whatever is measured next.
            conn.batch_execute("VACUUM messages").map_err(|e| err(&e))
        }
    }
}

/// Messages stored in a channel (benchmarks check that every acknowledged post is there).
#[allow(dead_code, reason = "the cursor benchmark, which includes this file too, counts nothing")]
pub fn count_channel_messages(url: &DatabaseUrl, channel_id: i64) -> Result<i64, String> {
    let mut conn = url.connect().map_err(|e| e.to_string())?;
    messages::table.filter(messages::channel_id.eq(channel_id)).count().get_result(&mut conn).map_err(|e| e.to_string())
}
