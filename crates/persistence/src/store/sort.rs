//! The one mapping of each sort enum to ORDER BY terms, for its table alone or joined.

use diesel::expression::expression_types::NotSelectable;
use diesel::prelude::*;
use diesel::query_dsl::methods::ThenOrderDsl;
use roost_domain::model::channel::ChannelSort;
use roost_domain::model::page::{Direction, PageRequest};
use roost_domain::model::user::UserSort;

use crate::conn::AnyConnection;
use crate::schema::{channels, users};

type Db = <AnyConnection as Connection>::Backend;

/// One ORDER BY term on the query source `QS`.
type Term<QS> = Box<dyn BoxableExpression<QS, Db, SqlType = NotSelectable>>;

/// A sort field's columns on a query source `QS` that holds its table.
pub(super) trait SortColumns<QS>: Copy {
    /// The term ordering by this field in `direction`.
    fn term(self, direction: Direction) -> Term<QS>;
    /// The last term, the id ascending: it breaks ties, so pages are stable whatever the sort.
    fn tie_breaker() -> Term<QS>;
}

/// `query` ordered by the page's sort terms, then by id.
pub(super) fn sorted<Q, QS, F>(query: Q, page: &PageRequest<F>) -> Q
where
    Q: ThenOrderDsl<Term<QS>, Output = Q>,
    F: SortColumns<QS>,
{
    let query = page.sort.iter().fold(query, |query, order| query.then_order_by(order.field.term(order.direction)));
    query.then_order_by(F::tie_breaker())
}

/// The term for `$column` in `$direction`, boxed.
macro_rules! term {
    ($column:expr, $direction:expr) => {
        match $direction {
            Direction::Asc => Box::new($column.asc()) as Term<QS>,
            Direction::Desc => Box::new($column.desc()) as Term<QS>,
        }
    };
}

impl<QS> SortColumns<QS> for UserSort
where
    users::id: SelectableExpression<QS>,
    users::name: SelectableExpression<QS>,
    users::display_name: SelectableExpression<QS>,
    users::created_at: SelectableExpression<QS>,
{
    fn term(self, direction: Direction) -> Term<QS> {
        match self {
            UserSort::Id => term!(users::id, direction),
            UserSort::Name => term!(users::name, direction),
            UserSort::DisplayName => term!(users::display_name, direction),
            UserSort::CreatedTime => term!(users::created_at, direction),
        }
    }

    fn tie_breaker() -> Term<QS> {
        Box::new(users::id.asc())
    }
}

impl<QS> SortColumns<QS> for ChannelSort
where
    channels::id: SelectableExpression<QS>,
    channels::name: SelectableExpression<QS>,
    channels::display_name: SelectableExpression<QS>,
    channels::created_at: SelectableExpression<QS>,
{
    fn term(self, direction: Direction) -> Term<QS> {
        match self {
            ChannelSort::Id => term!(channels::id, direction),
            ChannelSort::Name => term!(channels::name, direction),
            ChannelSort::DisplayName => term!(channels::display_name, direction),
            ChannelSort::CreatedTime => term!(channels::created_at, direction),
        }
    }

    fn tie_breaker() -> Term<QS> {
        Box::new(channels::id.asc())
    }
}
