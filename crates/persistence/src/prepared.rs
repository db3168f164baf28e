//! Keeping hot statements prepared.
//!
//! diesel keeps a statement prepared (PostgreSQL: a named statement, parsed and planned once
//! per connection; SQLite: a cached `sqlite3_stmt`) only when it can prove the statement's SQL
//! text is one of a bounded set. It never does for an `UPDATE`, a multi-row `INSERT` or a
//! statement with an SQL literal, and prepares those afresh on every execution: on
//! PostgreSQL that was a third of its CPU per posted message (issue 4, `perf` profile).
//! [`KeepPrepared`] tells it that a statement's text is one of a few, so it is cached by text.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;
use diesel::{QueryResult, RunQueryDsl};

use roost_domain::model::page::PageRequest;

use crate::conn::MultiBackend;

/// A statement whose SQL text takes only a few forms, to be kept prepared although diesel
/// cannot prove it (see the module). Wrapping a statement whose text varies without bound
/// (an `IN` list of any length, a text built from input) would fill the cache: don't.
///
/// Run it through [`AnyConnection`](crate::AnyConnection), or as a query (`load`,
/// `get_result`): executing it by reference on a bare `PgConnection` (`execute`) asks the
/// wrapped statement, not the wrapper, and prepares it afresh.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepPrepared<Q>(pub(crate) Q);

impl<Q> QueryId for KeepPrepared<Q> {
    // Cached by its SQL text, never by type: the wrapped statement's type may not identify it.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for KeepPrepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q: Query> Query for KeepPrepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for KeepPrepared<Q> {}

/// A statement with `LIMIT n [OFFSET m]` appended, written so that both engines keep it
/// prepared; build it with [`KeepPreparedLimit`].
///
/// SQLite (3.47 and later) reads a bound `LIMIT ?`'s value while planning and marks the
/// statement to be prepared again whenever that parameter is bound anew (`sqlite3ExprIsInteger`
/// with a `Parse`, then `sqlite3VdbeSetVarmask`), and diesel binds on every execution: a cached
/// page statement was re-parsed on every call (13 % of Roost's CPU reading uncached pages,
/// issue 4 `perf` profile). `LIMIT (? + 0)` is an expression, not a bare parameter, so SQLite
/// evaluates it at run time and the statement stays prepared.
///
/// PostgreSQL gets the limit as a literal, `LIMIT 26`. With `LIMIT $n` its plan cache compares
/// a generic plan (costed for an unknown limit, i.e. many rows) against custom plans (costed for
/// 26 rows), never finds the generic one cheap enough, and plans the statement on every
/// execution; with the literal, the generic plan costs the same as a custom one and is kept
/// after the fifth execution (PostgreSQL 15 `plancache.c`, `choose_custom_plan`). Each distinct
/// limit is its own statement, a bounded set: callers pass at most a page size plus one.
/// The offset stays a parameter, since its values are unbounded; a bound offset makes
/// PostgreSQL cost the generic plan for an unknown share of the rows again (`preprocess_limit`),
/// so pages after the first of an offset list are still planned per execution. A zero offset
/// is left out, so first pages, by far the most read, get the generic plan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limited<Q> {
    query: Q,
    limit: i64,
    offset: Option<i64>,
    keep: bool,
}

impl<Q> Limited<Q> {
    /// Kept prepared only when `keep` (and the statement allows it): a statement whose SQL text
    /// takes unboundedly many forms must not fill every connection's statement cache.
    pub(crate) fn prepared_if(self, keep: bool) -> Self {
        Self { keep, ..self }
    }
}

/// `limit` and `offset` for statements that must stay prepared (see [`Limited`]). The statement
/// must not have a `LIMIT` or `OFFSET` of its own.
pub(crate) trait KeepPreparedLimit: Sized {
    /// At most `limit` rows; `limit` is at most a page size plus one (see [`Limited`]).
    fn limit_prepared(self, limit: i64) -> Limited<Self> {
        debug_assert!((0..=MAX_LIMIT).contains(&limit), "limit {limit} would grow the statement cache");
        Limited { query: self, limit, offset: None, keep: true }
    }

    /// At most `limit` rows after skipping `offset`.
    fn limit_offset_prepared(self, limit: i64, offset: i64) -> Limited<Self> {
        Limited { offset: (offset != 0).then_some(offset), ..self.limit_prepared(limit) }
    }

    /// The rows of one numbered page.
    fn page_prepared<F>(self, page: &PageRequest<F>) -> Limited<Self> {
        self.limit_offset_prepared(i64::from(page.size), i64::try_from(page.offset()).unwrap_or(i64::MAX))
    }
}

impl<Q: Query> KeepPreparedLimit for Q {}

/// The largest limit a caller passes: a page and one more row, to tell whether another follows.
const MAX_LIMIT: i64 = roost_domain::model::page::MAX_PAGE_SIZE as i64 + 1;

impl<Q> QueryId for Limited<Q> {
    // Cached by its SQL text: the wrapped statement is a boxed one, which has no static id.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for Limited<Q> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        // `backend()` is public but hidden from diesel's docs; its own SQL function macros use it.
        let sqlite = matches!(pass.backend(), MultiBackend::Sqlite(_));
        self.query.walk_ast(pass.reborrow())?;
        if sqlite {
            pass.push_sql(" LIMIT (");
            pass.push_bind_param::<BigInt, i64>(&self.limit)?;
            pass.push_sql(" + 0)");
        } else {
            // An integer's text is never anything but digits and a sign: no injection.
            pass.push_sql(&format!(" LIMIT {}", self.limit));
        }
        if let Some(offset) = &self.offset {
            pass.push_sql(" OFFSET ");
            pass.push_bind_param::<BigInt, i64>(offset)?;
        }
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, backend: &MultiBackend) -> QueryResult<bool> {
        Ok(self.keep && self.query.is_safe_to_cache_prepared(backend)?)
    }
}

impl<Q: Query> Query for Limited<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Limited<Q> {}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
    use diesel::prelude::*;

    use super::*;
    use crate::conn::AnyConnection;

    diesel::table! {
        items (id) {
            id -> BigInt,
        }
    }

    /// The SQL text of every statement run, and how many statements were added to the cache.
    #[derive(Default)]
    struct Seen {
        statements: Vec<String>,
        cached: usize,
    }

    fn sqlite_with_items(count: i64) -> (AnyConnection, Arc<Mutex<Seen>>) {
        let mut conn = AnyConnection::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        conn.batch_execute("CREATE TABLE items (id INTEGER PRIMARY KEY)").unwrap();
        for id in 1..=count {
            diesel::insert_into(items::table).values(items::id.eq(id)).execute(&mut conn).unwrap();
        }
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sink = Arc::clone(&seen);
        let instrumentation: Box<dyn Instrumentation> = Box::new(move |event: InstrumentationEvent<'_>| {
            let mut seen = sink.lock().unwrap();
            match event {
                InstrumentationEvent::StartQuery { query, .. } => seen.statements.push(query.to_string()),
                InstrumentationEvent::CacheQuery { .. } => seen.cached += 1,
                _ => {}
            }
        });
        conn.set_instrumentation(instrumentation);
        (conn, seen)
    }

    #[derive(QueryableByName)]
    struct Reprepared {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        reprep: i64,
    }

    /// How often SQLite prepared the connection's statements on `items` again, from SQLite's own
    /// count (`sqlite_stmt`, built in by `.cargo/config.toml`): diesel cannot see it.
    fn sqlite_reprepares(conn: &mut AnyConnection) -> i64 {
        diesel::sql_query("SELECT reprep FROM sqlite_stmt WHERE sql LIKE '%FROM `items`%'")
            .load::<Reprepared>(conn)
            .unwrap()
            .iter()
            .map(|row| row.reprep)
            .sum()
    }

    #[test]
    fn sqlite_limits_with_an_expression_so_rebinding_the_limit_keeps_the_statement_prepared() {
        let (mut conn, seen) = sqlite_with_items(10);
        let newest = |conn: &mut AnyConnection, limit: i64| -> Vec<i64> {
            items::table
                .into_boxed::<MultiBackend>()
                .order(items::id.desc())
                .select(items::id)
                .limit_prepared(limit)
                .load(conn)
                .unwrap()
        };
        assert_eq!(newest(&mut conn, 3), vec![10, 9, 8]);
        assert_eq!(newest(&mut conn, 5), vec![10, 9, 8, 7, 6]);
        assert_eq!(newest(&mut conn, 2), vec![10, 9]);
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.cached, 1, "one statement in diesel's cache: {:?}", seen.statements);
            assert!(seen.statements.iter().all(|sql| sql.contains("LIMIT (? + 0)")), "{:?}", seen.statements);
        }
        assert_eq!(sqlite_reprepares(&mut conn), 0, "SQLite kept the statement prepared");
    }

    /// The premise of [`Limited`]: a bare bound limit is prepared again on every execution.
    #[test]
    #[allow(clippy::disallowed_methods, reason = "proves the premise: the plain bound limit the rule forbids")]
    fn sqlite_prepares_a_bare_bound_limit_again_whenever_it_is_bound() {
        let (mut conn, _) = sqlite_with_items(10);
        for limit in [3, 5, 2] {
            let newest: Vec<i64> = items::table
                .into_boxed::<MultiBackend>()
                .order(items::id.desc())
                .select(items::id)
                .limit(limit)
                .load(&mut conn)
                .unwrap();
            assert_eq!(newest.len(), usize::try_from(limit).unwrap());
        }
        assert!(sqlite_reprepares(&mut conn) >= 2, "each execution after the first prepares again");
    }

    #[test]
    #[ignore = "needs PostgreSQL: ROOST_TEST_POSTGRES_URL (run by .ci/run with --include-ignored)"]
    fn postgres_limits_with_a_literal_so_the_statement_gets_a_generic_plan() {
        // Ignored unless asked for, and then it must run: a missing server is a failure, never
        // a pass.
        let url = std::env::var(crate::testing::POSTGRES_ENV)
            .unwrap_or_else(|_| panic!("{} must name a PostgreSQL server", crate::testing::POSTGRES_ENV));
        let mut conn = AnyConnection::Postgresql(PgConnection::establish(&url).unwrap());
        // A temporary table shadows any `items` for this session only.
        conn.batch_execute(
            "CREATE TEMPORARY TABLE items (id BIGINT PRIMARY KEY); \
             INSERT INTO items SELECT generate_series(1, 10)",
        )
        .unwrap();
        for run in 0..8 {
            let query = items::table
                .into_boxed::<MultiBackend>()
                .filter(items::id.gt(0))
                .order(items::id.desc())
                .select(items::id);
            // A zero offset is left out: a first page of an offset list is the same statement.
            let newest: Vec<i64> = if run % 2 == 0 {
                query.limit_prepared(3).load(&mut conn).unwrap()
            } else {
                query.limit_offset_prepared(3, 0).load(&mut conn).unwrap()
            };
            assert_eq!(newest, vec![10, 9, 8]);
        }
        let generic_plans: Vec<i64> =
            diesel::sql_query("SELECT generic_plans AS id FROM pg_prepared_statements WHERE statement LIKE '%LIMIT 3'")
                .load::<GenericPlans>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| row.id)
                .collect();
        assert_eq!(generic_plans.len(), 1, "one prepared statement");
        assert!(generic_plans[0] > 0, "planned once and reused, not planned per execution");
    }

    #[derive(QueryableByName)]
    struct GenericPlans {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }

    #[test]
    fn a_statement_marked_not_to_keep_is_never_cached() {
        let (mut conn, seen) = sqlite_with_items(10);
        for _ in 0..2 {
            let newest: Vec<i64> = items::table
                .into_boxed::<MultiBackend>()
                .select(items::id)
                .limit_prepared(3)
                .prepared_if(false)
                .load(&mut conn)
                .unwrap();
            assert_eq!(newest.len(), 3);
        }
        assert_eq!(seen.lock().unwrap().cached, 0);
    }

    #[test]
    fn offsets_skip_rows_after_the_limit_expression() {
        let (mut conn, _) = sqlite_with_items(10);
        let page: Vec<i64> = items::table
            .into_boxed::<MultiBackend>()
            .order(items::id.asc())
            .select(items::id)
            .limit_offset_prepared(3, 4)
            .load(&mut conn)
            .unwrap();
        assert_eq!(page, vec![5, 6, 7]);
    }

    #[test]
    fn an_in_list_kept_prepared_is_prepared_once_per_length() {
        let (mut conn, seen) = sqlite_with_items(10);
        let some = |conn: &mut AnyConnection, ids: &[i64]| -> Vec<i64> {
            KeepPrepared(items::table.filter(items::id.eq_any(ids)).order(items::id).select(items::id))
                .load(conn)
                .unwrap()
        };
        assert_eq!(some(&mut conn, &[2, 4]), vec![2, 4]);
        assert_eq!(some(&mut conn, &[3, 9]), vec![3, 9]);
        assert_eq!(some(&mut conn, &[1, 5, 7]), vec![1, 5, 7]);
        assert_eq!(seen.lock().unwrap().cached, 2, "one statement per list length");
    }
}
