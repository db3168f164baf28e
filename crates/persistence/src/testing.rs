//! Test support: a fresh database per test on each backend (style-anchors §9, item 21).
//!
//! SQLite always runs, on a temporary file. PostgreSQL runs too when `ROOST_TEST_POSTGRES_URL`
//! is set, in a schema of its own that is dropped afterwards. A set variable whose server cannot
//! be reached fails the test: a PostgreSQL run must never pass by skipping.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use roost_domain::IdGenerator;

use crate::conn::{DatabaseUrl, PoolSettings};
use crate::store::DieselStore;

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "ROOST_TEST_POSTGRES_URL";

/// A database that lives as long as this value.
pub struct TestDatabase {
    /// Which engine, for assertion messages.
    pub label: &'static str,
    /// The URL of the fresh database.
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh SQLite file.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let path = dir.path().join("roost.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap_or_else(|e| panic!("{e}"));
        Self { label: "sqlite", url, _dir: Some(dir), pg_cleanup: None }
    }

    /// A fresh schema on the PostgreSQL server named by [`POSTGRES_ENV`], if set.
    pub fn postgres() -> Option<Self> {
        let base = std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty())?;
        let schema = format!("roost_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&base)
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL cannot be reached: {e}"));
        conn.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap_or_else(|e| panic!("create schema: {e}"));
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
        let url = DatabaseUrl::parse(&url).unwrap_or_else(|e| panic!("{e}"));
        Some(Self { label: "postgres", url, _dir: None, pg_cleanup: Some((base, schema)) })
    }

    /// Runs SQL on this database on a connection of its own (to break it on purpose, say).
    pub fn execute(&self, sql: &str) {
        let mut conn = self.url.connect().unwrap_or_else(|e| panic!("connect to {}: {e}", self.label));
        conn.batch_execute(sql).unwrap_or_else(|e| panic!("{sql} on {}: {e}", self.label));
    }

    /// The one number a `SELECT COUNT(*) …` (or any query of one BIGINT column) answers.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.url.connect().unwrap_or_else(|e| panic!("connect to {}: {e}", self.label));
        // Named columns are matched by name: the query's only column is renamed `n`.
        let wrapped = format!("SELECT CAST(({sql}) AS BIGINT) AS n");
        let rows: Vec<Count> = diesel::RunQueryDsl::load(diesel::sql_query(&wrapped), &mut conn)
            .unwrap_or_else(|e| panic!("{sql} on {}: {e}", self.label));
        rows.first().map_or(0, |row| row.n)
    }

    /// Every backend available to this test run: SQLite, then PostgreSQL when configured.
    pub fn all() -> Vec<Self> {
        std::iter::once(Self::sqlite()).chain(Self::postgres()).collect()
    }

    /// A migrated store over this database, with a generator of its own (node 0) for the ids
    /// of messages: for tests that draw no ids of their own, or none that must differ from them.
    pub fn store(&self) -> DieselStore {
        let ids = IdGenerator::new(0).unwrap_or_else(|e| panic!("id generator: {e}"));
        self.store_with_ids(Arc::new(ids))
    }

    /// A migrated store over this database, drawing message ids from `ids`, the test's node
    /// generator.
    pub fn store_with_ids(&self, ids: Arc<IdGenerator>) -> DieselStore {
        let settings = PoolSettings { max_size: 4, ..PoolSettings::default() };
        DieselStore::open(&self.url, &settings, ids).unwrap_or_else(|e| panic!("open {} store: {e}", self.label))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg_cleanup.take() {
            if let Ok(mut conn) = PgConnection::establish(&base) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}
