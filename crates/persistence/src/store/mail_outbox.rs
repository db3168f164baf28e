//! The outbox: mail to end users, written in the transaction of the change that sends it, and
//! its SMTP delivery (claims, outcomes).

use diesel::prelude::*;
use roost_domain::model::account::{Delivery, Mail, MailOutcome};
use roost_domain::ports::StoreResult;
use roost_domain::{ApplicationId, Timestamp};

use super::DieselResultExt;
use crate::conn::AnyConnection;
use crate::prepared::KeepPreparedLimit;
use crate::rows::utc;
use crate::schema::outbox;

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewMailRow {
    id: i64,
    application_id: i64,
    recipient: String,
    subject: String,
    body: String,
    created_at: chrono::NaiveDateTime,
}

impl From<&Mail> for NewMailRow {
    fn from(mail: &Mail) -> Self {
        Self {
            id: mail.id,
            application_id: mail.application_id.0,
            recipient: mail.to.clone(),
            subject: mail.subject.clone(),
            body: mail.body.clone(),
            created_at: mail.created_time.naive_utc(),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct MailRow {
    id: i64,
    application_id: i64,
    recipient: String,
    subject: String,
    body: String,
    created_at: chrono::NaiveDateTime,
    sent_at: Option<chrono::NaiveDateTime>,
    abandoned_at: Option<chrono::NaiveDateTime>,
    attempts: i32,
    last_error: Option<String>,
}

impl From<MailRow> for Mail {
    fn from(r: MailRow) -> Self {
        Self {
            id: r.id,
            application_id: ApplicationId(r.application_id),
            to: r.recipient,
            subject: r.subject,
            body: r.body,
            created_time: utc(r.created_at),
            delivery: Some(Delivery {
                sent_time: r.sent_at.map(utc),
                abandoned_time: r.abandoned_at.map(utc),
                attempts: u32::try_from(r.attempts).unwrap_or(0),
                last_error: r.last_error,
            }),
        }
    }
}

pub(super) fn insert(conn: &mut AnyConnection, mail: &[Mail]) -> StoreResult<()> {
    // One statement per mail: batch inserts differ between the engines, and there are one or two.
    for one in mail {
        diesel::insert_into(outbox::table).values(NewMailRow::from(one)).execute(conn).store_err()?;
    }
    Ok(())
}

/// Every mail, oldest first.
pub(super) fn all(conn: &mut AnyConnection) -> StoreResult<Vec<Mail>> {
    let rows: Vec<MailRow> = outbox::table.order(outbox::id).select(MailRow::as_select()).load(conn).store_err()?;
    Ok(rows.into_iter().map(Mail::from).collect())
}

/// Claims the mail due at `now` until `lease_until` (inside a write transaction: no other node
/// claims the same meanwhile).
pub(super) fn claim(
    conn: &mut AnyConnection,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> StoreResult<Vec<Mail>> {
    let now = now.naive_utc();
    let due = || {
        outbox::table
            .filter(outbox::sent_at.is_null())
            .filter(outbox::abandoned_at.is_null())
            .filter(outbox::next_attempt_at.is_null().or(outbox::next_attempt_at.le(now)))
    };
    let ids: Vec<i64> =
        due().order(outbox::id).select(outbox::id).limit_prepared(i64::from(limit).min(100)).load(conn).store_err()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Only the rows this update moved are ours. SQLite's write transaction holds off other
    // nodes; on PostgreSQL another node's concurrent claim makes this update wait for its row
    // locks, then re-check `due` and skip what it took (READ COMMITTED), so no mail is sent
    // twice.
    let claiming = diesel::update(due().filter(outbox::id.eq_any(&ids)))
        .set(outbox::next_attempt_at.eq(Some(lease_until.naive_utc())))
        .returning(outbox::id);
    let claimed: Vec<i64> = on_engine!(&mut *conn, |c| claiming.get_results(c)).store_err()?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<MailRow> = outbox::table
        .filter(outbox::id.eq_any(&claimed))
        .order(outbox::id)
        .select(MailRow::as_select())
        .load(conn)
        .store_err()?;
    Ok(rows.into_iter().map(Mail::from).collect())
}

/// Records one SMTP attempt's outcome.
pub(super) fn record(conn: &mut AnyConnection, id: i64, outcome: MailOutcome) -> StoreResult<()> {
    let this = outbox::table.filter(outbox::id.eq(id));
    match outcome {
        MailOutcome::Sent { at } => diesel::update(this)
            .set((
                outbox::sent_at.eq(Some(at.naive_utc())),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn),
        MailOutcome::Failed { error, retry_at: Some(retry_at) } => diesel::update(this)
            .set((
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::last_error.eq(Some(error)),
                outbox::next_attempt_at.eq(Some(retry_at.naive_utc())),
            ))
            .execute(conn),
        MailOutcome::Failed { error, retry_at: None } => diesel::update(this)
            .set((
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::last_error.eq(Some(error)),
                outbox::abandoned_at.eq(Some(roost_domain::now().naive_utc())),
            ))
            .execute(conn),
    }
    .store_err()?;
    Ok(())
}

/// Deletes the mail sent or abandoned before `before`; returns how many.
pub(super) fn purge(conn: &mut AnyConnection, before: Timestamp) -> StoreResult<u64> {
    let before = before.naive_utc();
    let done = outbox::sent_at.lt(before).or(outbox::abandoned_at.lt(before));
    let deleted = diesel::delete(outbox::table.filter(done)).execute(conn).store_err()?;
    Ok(u64::try_from(deleted).unwrap_or(0))
}
