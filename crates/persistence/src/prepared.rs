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
use diesel::{QueryResult, RunQueryDsl};

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
