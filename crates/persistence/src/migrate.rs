//! Embedded migrations, run at start-up on a dedicated connection before the pool opens.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::conn::{connect_sqlite, DatabaseKind, DatabaseUrl};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// A migration that could not be applied.
#[derive(Debug, thiserror::Error)]
#[error("database migration failed: {0}")]
pub struct MigrationError(String);

/// Applies every pending migration; returns the names of those applied.
pub fn run_migrations(url: &DatabaseUrl) -> Result<Vec<String>, MigrationError> {
    let err = |e: &dyn std::fmt::Display| MigrationError(e.to_string());
    let applied = match url.kind() {
        DatabaseKind::Sqlite => {
            let path = url.sqlite_path().unwrap_or_default();
            if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| err(&e))?;
            }
            let mut conn = connect_sqlite(path).map_err(|e| err(&e))?;
            // Persistent in the file: readers and the writer stop blocking each other.
            conn.batch_execute("PRAGMA journal_mode = WAL").map_err(|e| err(&e))?;
            conn.run_pending_migrations(SQLITE).map_err(|e| err(&*e))?.iter().map(ToString::to_string).collect()
        }
        DatabaseKind::Postgres => {
            let mut conn = PgConnection::establish(url.target()).map_err(|e| err(&e))?;
            conn.run_pending_migrations(POSTGRES).map_err(|e| err(&*e))?.iter().map(ToString::to_string).collect()
        }
    };
    Ok(applied)
}
