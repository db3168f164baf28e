//! Embedded migrations, run at start-up on a dedicated connection before the pool opens.

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::conn::{connect_sqlite, DatabaseKind, DatabaseUrl};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Migrations could not be applied: each case says what failed and where.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// The SQLite file's directory could not be created.
    #[error("cannot create directory {}: {source}", path.display())]
    Directory {
        /// The directory, absolute.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened or reached (PostgreSQL down, a file not writable).
    #[error("cannot open the database {database}: {reason}")]
    Connect {
        /// The database, as [`DatabaseUrl::describe`] names it.
        database: String,
        /// Why.
        reason: String,
    },
    /// A migration failed.
    #[error("database migration failed on {database}: {reason}")]
    Migration {
        /// The database, as [`DatabaseUrl::describe`] names it.
        database: String,
        /// Why.
        reason: String,
    },
}

/// Whether migrations this build knows are not applied yet on `conn`'s database.
pub(crate) fn has_pending(conn: &mut crate::conn::AnyConnection) -> Result<bool, String> {
    use crate::conn::AnyConnection;
    let pending = match conn {
        AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE),
        AnyConnection::Postgresql(c) => c.has_pending_migration(POSTGRES),
    };
    pending.map_err(|e| e.to_string())
}

/// Applies every pending migration; returns the names of those applied.
pub fn run_migrations(url: &DatabaseUrl) -> Result<Vec<String>, MigrationError> {
    let connect =
        |e: &dyn std::fmt::Display| MigrationError::Connect { database: url.describe(), reason: e.to_string() };
    let migrate =
        |e: &dyn std::fmt::Display| MigrationError::Migration { database: url.describe(), reason: e.to_string() };
    let applied = match url.kind() {
        DatabaseKind::Sqlite => {
            let path = url.sqlite_path().unwrap_or_default();
            if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|source| MigrationError::Directory {
                    path: std::path::absolute(parent).unwrap_or_else(|_| parent.to_owned()),
                    source,
                })?;
            }
            let mut conn = connect_sqlite(path).map_err(|e| connect(&e))?;
            // Persistent in the file: readers and the writer stop blocking each other.
            conn.batch_execute("PRAGMA journal_mode = WAL").map_err(|e| connect(&e))?;
            conn.run_pending_migrations(SQLITE).map_err(|e| migrate(&*e))?.iter().map(ToString::to_string).collect()
        }
        DatabaseKind::Postgres => {
            crate::conn::without_exit_cleanup();
            let mut conn = PgConnection::establish(url.target()).map_err(|e| connect(&e))?;
            conn.run_pending_migrations(POSTGRES).map_err(|e| migrate(&*e))?.iter().map(ToString::to_string).collect()
        }
    };
    Ok(applied)
}
