//! Online backups of a SQLite database (`roost backup PATH`).
//!
//! `VACUUM INTO` copies the database as one read transaction sees it: a consistent snapshot,
//! taken while writers go on (in WAL mode a reader never blocks a writer, nor a writer it);
//! <https://sqlite.org/lang_vacuum.html#vacuuminto>. Every write committed before the copy began
//! is in it. The copy is written beside the destination and linked into place only once it is
//! complete and passes `PRAGMA integrity_check`, so a backup interrupted half-way never looks
//! like a good one. PostgreSQL has its own tool for this, `pg_dump` (operator guide, "Backups").

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::RunQueryDsl;

use crate::conn::{connect_sqlite, ConnectError, DatabaseKind, DatabaseUrl};

/// What a backup made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The backup file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is PostgreSQL.
    #[error("roost backup copies a SQLite database; back up PostgreSQL with pg_dump (operator guide, \"Backups\")")]
    NotSqlite,
    /// The database file does not exist.
    #[error("there is no database at {0}")]
    NoDatabase(String),
    /// The destination exists: a backup never overwrites a file.
    #[error("{0} exists already; name a new file")]
    Exists(PathBuf),
    /// The database could not be opened.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// SQLite refused the copy or the check.
    #[error("the backup failed: {0}")]
    Sqlite(#[from] diesel::result::Error),
    /// The copy did not pass `PRAGMA integrity_check`.
    #[error("the copy failed its integrity check: {0}")]
    Corrupt(String),
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

#[derive(diesel::QueryableByName)]
struct IntegrityCheck {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

/// Copies the live SQLite database of `url` to `destination`, which must not exist.
pub fn backup_sqlite(url: &DatabaseUrl, destination: &Path) -> Result<Backup, BackupError> {
    let source = match (url.kind(), url.sqlite_path()) {
        (DatabaseKind::Sqlite, Some(path)) => path,
        _ => return Err(BackupError::NotSqlite),
    };
    if !Path::new(source).exists() {
        return Err(BackupError::NoDatabase(url.describe()));
    }
    if destination.exists() {
        return Err(BackupError::Exists(destination.to_owned()));
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::Io { path, source }
    };
    let mut partial = destination.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    // A partial copy left by an interrupted run is never a backup: start again.
    if partial.exists() {
        std::fs::remove_file(&partial).map_err(io(&partial))?;
    }
    let target = partial.to_str().ok_or_else(|| BackupError::Io {
        path: partial.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path is not UTF-8"),
    })?;
    let mut conn = connect_sqlite(source)?;
    // A string literal: single quotes doubled (https://sqlite.org/lang_expr.html#literal_values).
    conn.batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))?;
    drop(conn);
    let mut copy = connect_sqlite(target)?;
    let checked: Vec<IntegrityCheck> = diesel::sql_query("PRAGMA integrity_check").load(&mut copy)?;
    drop(copy);
    let verdict: Vec<String> = checked.into_iter().map(|row| row.integrity_check).collect();
    if verdict != ["ok"] {
        return Err(BackupError::Corrupt(verdict.join("; ")));
    }
    std::fs::File::open(&partial).and_then(|file| file.sync_all()).map_err(io(&partial))?;
    // A hard link fails if the destination appeared meanwhile (a rename would replace it).
    std::fs::hard_link(&partial, destination).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::Exists(destination.to_owned()),
        _ => BackupError::Io { path: destination.to_owned(), source },
    })?;
    std::fs::remove_file(&partial).map_err(io(&partial))?;
    if let Some(parent) = destination.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The rename is durable once the directory is (POSIX: fsync the directory).
        std::fs::File::open(parent).and_then(|dir| dir.sync_all()).map_err(io(parent))?;
    }
    let bytes = std::fs::metadata(destination).map_err(io(destination))?.len();
    Ok(Backup { path: destination.to_owned(), bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(dir: &Path) -> DatabaseUrl {
        let path = dir.join("live.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        let mut conn = url.connect().unwrap();
        conn.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2);")
            .unwrap();
        url
    }

    #[test]
    fn a_backup_is_a_checked_copy_that_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let url = database(dir.path());
        let destination = dir.path().join("it's a backup.db");
        let made = backup_sqlite(&url, &destination).unwrap();
        assert!(made.bytes > 0);
        let copy = DatabaseUrl::parse(&format!("sqlite://{}", destination.display())).unwrap();
        let mut conn = copy.connect().unwrap();
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> = diesel::sql_query("SELECT SUM(n) AS n FROM t").load(&mut conn).unwrap();
        assert_eq!(rows[0].n, 3);
        assert!(matches!(backup_sqlite(&url, &destination), Err(BackupError::Exists(_))));
        let mut partial = destination.into_os_string();
        partial.push(".partial");
        assert!(!Path::new(&partial).exists(), "no partial file is left behind");
    }

    #[test]
    fn only_an_existing_sqlite_database_is_backed_up() {
        let dir = tempfile::tempdir().unwrap();
        let missing = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("none.db").display())).unwrap();
        assert!(matches!(backup_sqlite(&missing, &dir.path().join("b.db")), Err(BackupError::NoDatabase(_))));
        assert!(!dir.path().join("none.db").exists(), "a backup never creates the database");
        let postgres = DatabaseUrl::parse("postgres://postgres@127.0.0.1/test").unwrap();
        assert!(matches!(backup_sqlite(&postgres, &dir.path().join("b.db")), Err(BackupError::NotSqlite)));
    }
}
