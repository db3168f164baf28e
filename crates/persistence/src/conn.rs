//! Connections and pools for both backends.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

/// One connection to either engine; queries written once run on both.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL.
    Postgresql(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// The engine behind a [`DatabaseUrl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A validated database URL: `sqlite://PATH` or `postgres://…` / `postgresql://…`.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    kind: DatabaseKind,
    /// For SQLite the file path; for PostgreSQL the whole URL.
    target: String,
}

/// A database URL that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DatabaseUrlError(String);

impl DatabaseUrl {
    /// Parses and checks the scheme.
    pub fn parse(url: &str) -> Result<Self, DatabaseUrlError> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() || path.contains('?') || path == ":memory:" {
                return Err(DatabaseUrlError(format!(
                    "'{url}' is not a usable SQLite URL: give a file path, e.g. sqlite://data/roost.db"
                )));
            }
            return Ok(Self { kind: DatabaseKind::Sqlite, target: path.to_owned() });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self { kind: DatabaseKind::Postgres, target: url.to_owned() });
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(DatabaseUrlError(format!(
            "unsupported database URL scheme '{scheme}': use sqlite://PATH or postgres://USER@HOST/DB"
        )))
    }

    /// The engine.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// The SQLite file path (`None` for PostgreSQL).
    pub fn sqlite_path(&self) -> Option<&str> {
        (self.kind == DatabaseKind::Sqlite).then_some(self.target.as_str())
    }

    /// The URL as given, credentials included: for handing to a child process, never for logs.
    pub fn to_url_string(&self) -> String {
        match self.kind {
            DatabaseKind::Sqlite => format!("sqlite://{}", self.target),
            DatabaseKind::Postgres => self.target.clone(),
        }
    }

    /// For SQLite the file path; for PostgreSQL the whole URL (with its credentials).
    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    /// Opens one connection, with the per-connection SQLite settings applied.
    pub fn connect(&self) -> Result<AnyConnection, ConnectError> {
        match self.kind {
            DatabaseKind::Postgres => {
                without_exit_cleanup();
                Ok(AnyConnection::Postgresql(PgConnection::establish(&self.target)?))
            }
            DatabaseKind::Sqlite => Ok(AnyConnection::Sqlite(connect_sqlite(&self.target)?)),
        }
    }
}

/// Opens a pool's SQLite connection: like [`connect_sqlite`], and when `checkpointed_elsewhere`
/// it never checkpoints the WAL itself (see [`crate::checkpoint`]).
fn connect_pooled_sqlite(path: &str, checkpointed_elsewhere: bool) -> Result<SqliteConnection, ConnectError> {
    let mut conn = connect_sqlite(path)?;
    if checkpointed_elsewhere {
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0")?;
    }
    Ok(conn)
}

/// Per-connection SQLite settings, one statement each as diesel's docs ask. `journal_mode=WAL`
/// is persistent and set once by the migrator.
pub(crate) fn connect_sqlite(path: &str) -> Result<SqliteConnection, ConnectError> {
    let mut conn = SqliteConnection::establish(path)?;
    for pragma in ["PRAGMA busy_timeout = 5000", "PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"] {
        conn.batch_execute(pragma)?;
    }
    Ok(conn)
}

/// Never prints credentials that a PostgreSQL URL may carry.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.redacted())
    }
}

impl DatabaseUrl {
    /// How logs and messages name the database: a SQLite file by its absolute path, a
    /// PostgreSQL URL with its password masked ([`Self::redacted`]).
    pub fn describe(&self) -> String {
        match self.sqlite_path() {
            Some(path) => std::path::absolute(path).map_or_else(|_| path.to_owned(), |p| p.display().to_string()),
            None => self.redacted(),
        }
    }

    /// Whether the database exists already: a SQLite file on disk (opening one would create
    /// it); a PostgreSQL server is always taken to exist, its schema made by the migrations.
    pub fn exists(&self) -> bool {
        self.sqlite_path().is_none_or(|path| Path::new(path).exists())
    }

    /// The URL with any password replaced (in the user info or as a `password=` /
    /// `sslpassword=` query parameter), for logs.
    pub fn redacted(&self) -> String {
        match self.kind {
            DatabaseKind::Sqlite => format!("sqlite://{}", self.target),
            DatabaseKind::Postgres => {
                let (address, query) =
                    self.target.split_once('?').map_or((self.target.as_str(), None), |(a, q)| (a, Some(q)));
                let address = match (address.find("://"), address.rfind('@')) {
                    (Some(start), Some(at)) if at > start => {
                        let user = address[start + 3..at].split(':').next().unwrap_or_default();
                        format!("{}{}:***{}", &address[..start + 3], user, &address[at..])
                    }
                    _ => address.to_owned(),
                };
                match query {
                    None => address,
                    Some(query) => {
                        let pairs: Vec<String> = query
                            .split('&')
                            .map(|pair| match pair.split_once('=') {
                                Some((key, _))
                                    if key.eq_ignore_ascii_case("password")
                                        || key.eq_ignore_ascii_case("sslpassword") =>
                                {
                                    format!("{key}=***")
                                }
                                _ => pair.to_owned(),
                            })
                            .collect();
                        format!("{address}?{}", pairs.join("&"))
                    }
                }
            }
        }
    }
}

/// Failure to open a connection.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The engine refused or could not be reached.
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    /// A setup statement failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Opens connections for r2d2 by URL scheme (diesel's own manager would try each backend in turn,
/// and `SqliteConnection` accepts any string as a path).
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// SQLite: a [`crate::checkpoint::Checkpointer`] checkpoints the WAL, not these connections.
    checkpointed_elsewhere: bool,
}

/// A pooled connection, marked when a query on it found the server gone so that the pool
/// drops it rather than hand it out again. This replaces a `SELECT 1` on every checkout
/// (issue 4: one more round trip per storage call on PostgreSQL).
pub struct ManagedConnection {
    conn: AnyConnection,
    lost: bool,
}

impl ManagedConnection {
    /// Called when a query reported the connection closed.
    pub(crate) fn mark_lost(&mut self) {
        self.lost = true;
    }
}

impl std::ops::Deref for ManagedConnection {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for ManagedConnection {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = ManagedConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<ManagedConnection, ConnectError> {
        let conn = match self.url.kind {
            DatabaseKind::Sqlite => {
                AnyConnection::Sqlite(connect_pooled_sqlite(&self.url.target, self.checkpointed_elsewhere)?)
            }
            DatabaseKind::Postgres => self.url.connect()?,
        };
        Ok(ManagedConnection { conn, lost: false })
    }

    fn is_valid(&self, conn: &mut ManagedConnection) -> Result<(), ConnectError> {
        Ok(conn.conn.batch_execute("SELECT 1")?)
    }

    /// A connection the server closed, or whose transaction state is broken (a failed
    /// rollback), must not be reused.
    fn has_broken(&self, conn: &mut ManagedConnection) -> bool {
        use diesel::connection::TransactionManager;
        conn.lost || <AnyConnection as Connection>::TransactionManager::is_broken_transaction_manager(&mut conn.conn)
    }
}

/// Initialises OpenSSL (inside libpq) before a first PostgreSQL connection, so that it registers
/// no exit-time cleanup (OPENSSL_INIT_NO_ATEXIT, OpenSSL ≥ 1.1.1b). Otherwise a connection the pool
/// is still opening in the background when the process exits meets that cleanup and crashes the
/// process (seen as a segfault after the server logged "stopped").
pub(crate) fn without_exit_cleanup() {
    openssl_sys::init();
}

/// Pool sizing.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_size: u32,
    /// How long a checkout may wait before the store reports itself unavailable.
    pub connection_timeout: Duration,
    /// Idle connections kept open (r2d2's `min_idle`): the pool opens a replacement on its
    /// own threads when one is checked out. A one-shot command sets 0: a connection still
    /// being opened (TLS set-up in libpq) when the process exits meets OpenSSL's exit-time
    /// cleanup and crashes the process.
    pub keep_idle: u32,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_size: 8, connection_timeout: Duration::from_secs(5), keep_idle: 1 }
    }
}

/// A pool of connections to one database.
pub type Pool = r2d2::Pool<ConnectionManager>;

/// Builds a pool; fails when the first connection cannot be opened. `checkpointed_elsewhere`:
/// the SQLite connections leave WAL checkpoints to a [`crate::checkpoint::Checkpointer`].
pub fn build_pool(
    url: &DatabaseUrl,
    settings: &PoolSettings,
    checkpointed_elsewhere: bool,
) -> Result<Pool, r2d2::Error> {
    r2d2::Pool::builder()
        .max_size(settings.max_size)
        .min_idle(Some(settings.keep_idle.min(settings.max_size)))
        .connection_timeout(settings.connection_timeout)
        // No `SELECT 1` on checkout: a connection that a query finds closed is marked and
        // dropped on return (`has_broken`); the request that found it answers 503.
        .test_on_check_out(false)
        .build(ConnectionManager { url: url.clone(), checkpointed_elsewhere })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed_by_scheme() {
        assert_eq!(DatabaseUrl::parse("sqlite://data/roost.db").unwrap().sqlite_path(), Some("data/roost.db"));
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db").unwrap().sqlite_path(), Some("/tmp/x.db"));
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").unwrap().kind(), DatabaseKind::Postgres);
        assert_eq!(DatabaseUrl::parse("postgresql://u@h/db").unwrap().kind(), DatabaseKind::Postgres);
        let err = DatabaseUrl::parse("mysql://u@h/db").unwrap_err().to_string();
        assert!(err.contains("unsupported database URL scheme 'mysql'"), "{err}");
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("roost.db").is_err());
    }

    #[test]
    fn connections_found_closed_are_not_reused() {
        use r2d2::ManageConnection;
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("t.db").display())).unwrap();
        let manager = ConnectionManager { url, checkpointed_elsewhere: false };
        let mut conn = manager.connect().unwrap();
        assert!(!manager.has_broken(&mut conn));
        conn.mark_lost();
        assert!(manager.has_broken(&mut conn));
    }

    #[test]
    fn pooled_sqlite_connections_leave_checkpoints_to_the_checkpoint_thread() {
        use diesel::{sql_query, sql_types::BigInt, QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Setting {
            #[diesel(sql_type = BigInt)]
            wal_autocheckpoint: i64,
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db").display().to_string();
        let read = |checkpointed_elsewhere| {
            let mut conn = connect_pooled_sqlite(&path, checkpointed_elsewhere).unwrap();
            sql_query("PRAGMA wal_autocheckpoint").get_result::<Setting>(&mut conn).unwrap().wal_autocheckpoint
        };
        assert_eq!(read(true), 0);
        assert_eq!(read(false), 1000, "SQLite's default");
    }

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::parse("postgres://roost:hunter2@db.example/roost").unwrap();
        assert_eq!(url.redacted(), "postgres://roost:***@db.example/roost");
        assert!(!format!("{url:?}").contains("hunter2"));
        let query =
            DatabaseUrl::parse("postgres://db.example/roost?user=roost&password=hunter2&sslmode=require").unwrap();
        assert_eq!(query.redacted(), "postgres://db.example/roost?user=roost&password=***&sslmode=require");
    }
}
