//! End-user accounts: sign-in data beside users, single-use tokens, sessions and the outbox.

use diesel::prelude::*;
use roost_domain::model::account::{
    AccountSecret, AccountToken, Mail, MailOutcome, Session, SessionSort, SessionState, TokenPurpose, UserSession,
};
use roost_domain::model::application::Application;
use roost_domain::model::event::{EventDraft, EventType};
use roost_domain::model::page::{Direction, Page, PageRequest};
use roost_domain::model::user::User;
use roost_domain::ports::{AccountStore, StoreResult};
use roost_domain::{ApplicationId, Timestamp, UserId};

use super::{DieselResultExt, DieselStore};
use crate::conn::AnyConnection;
use crate::prepared::KeepPreparedLimit;
use crate::rows::{utc, ApplicationRow, UserRow};
use crate::schema::{account_tokens, applications, open_streams, user_sessions, users};

type Db = <AnyConnection as diesel::Connection>::Backend;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = user_sessions)]
pub(crate) struct SessionRow {
    token_hash: String,
    id: i64,
    application_id: i64,
    user_id: i64,
    user_agent: Option<String>,
    created_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
    ended_at: Option<chrono::NaiveDateTime>,
}

impl From<&Session> for SessionRow {
    fn from(s: &Session) -> Self {
        Self {
            token_hash: s.token_hash.clone(),
            id: s.id,
            application_id: s.application_id.0,
            user_id: s.user_id.0,
            user_agent: s.user_agent.clone(),
            created_at: s.created_time.naive_utc(),
            expires_at: s.expires_time.naive_utc(),
            ended_at: s.ended_time.map(|t| t.naive_utc()),
        }
    }
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Self {
            id: r.id,
            token_hash: r.token_hash,
            application_id: ApplicationId(r.application_id),
            user_id: UserId(r.user_id),
            user_agent: r.user_agent,
            created_time: utc(r.created_at),
            expires_time: utc(r.expires_at),
            ended_time: r.ended_at.map(utc),
        }
    }
}

/// A user's email, password hash, activation time, failed logins and lockout.
type SignInColumns =
    (Option<String>, Option<String>, Option<chrono::NaiveDateTime>, i32, Option<chrono::NaiveDateTime>);

/// The columns of [`SignInColumns`].
fn sign_in_columns(
) -> (users::email, users::password_hash, users::activated_at, users::failed_logins, users::locked_until) {
    (users::email, users::password_hash, users::activated_at, users::failed_logins, users::locked_until)
}

fn secret((email, password_hash, activated_at, failed_logins, locked_until): SignInColumns) -> AccountSecret {
    AccountSecret {
        email,
        password_hash,
        activated_time: activated_at.map(utc),
        failed_logins: u32::try_from(failed_logins).unwrap_or(0),
        locked_until: locked_until.map(utc),
    }
}

fn insert_token(conn: &mut AnyConnection, token: &AccountToken) -> StoreResult<()> {
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::token_hash.eq(&token.token_hash),
            account_tokens::application_id.eq(token.application_id.0),
            account_tokens::user_id.eq(token.user_id.0),
            account_tokens::purpose.eq(token.purpose.as_str()),
            account_tokens::new_email.eq(token.new_email.as_deref()),
            account_tokens::created_at.eq(token.created_time.naive_utc()),
            account_tokens::expires_at.eq(token.expires_time.naive_utc()),
        ))
        .execute(conn)
        .store_err()?;
    Ok(())
}

/// Uses up every token still pending for a user (a reset, an email change): after a password
/// change or reset, a token mailed before it must not undo it.
fn cancel_tokens(conn: &mut AnyConnection, user_id: i64, now: chrono::NaiveDateTime) -> StoreResult<()> {
    diesel::update(
        account_tokens::table.filter(account_tokens::user_id.eq(user_id)).filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(Some(now)))
    .execute(conn)
    .store_err()?;
    Ok(())
}

/// Ends every active session of a user at `now`; the token hashes of those ended.
fn end_all_sessions(
    conn: &mut AnyConnection,
    application_id: i64,
    user_id: i64,
    now: chrono::NaiveDateTime,
) -> StoreResult<Vec<String>> {
    let ending = diesel::update(
        user_sessions::table
            .filter(user_sessions::application_id.eq(application_id))
            .filter(user_sessions::user_id.eq(user_id))
            .filter(user_sessions::ended_at.is_null())
            .filter(user_sessions::expires_at.gt(now)),
    )
    .set(user_sessions::ended_at.eq(Some(now)))
    .returning(user_sessions::token_hash);
    on_engine!(&mut *conn, |c| ending.get_results(c)).store_err()
}

/// A session by the SHA-256 of its token (the bearer check of `roost-auth`).
pub(crate) fn find_session(store: &DieselStore, token_hash: &str) -> StoreResult<Option<Session>> {
    store.read(|conn| {
        let row: Option<SessionRow> = user_sessions::table
            .find(token_hash)
            .select(SessionRow::as_select())
            .get_result(conn)
            .optional()
            .store_err()?;
        Ok(row.map(Session::from))
    })
}

impl AccountStore for DieselStore {
    fn application_by_key(&self, key: &str) -> StoreResult<Option<Application>> {
        self.read(|conn| {
            let row: Option<ApplicationRow> = applications::table
                .filter(applications::app_key.eq(key))
                .select(ApplicationRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?;
            row.map(Application::try_from).transpose()
        })
    }

    fn create_account(
        &self,
        user: &User,
        email: &str,
        password_hash: &str,
        token: &AccountToken,
        mail: &Mail,
    ) -> StoreResult<()> {
        self.write(|conn| {
            diesel::insert_into(users::table).values(UserRow::from(user)).execute(conn).store_err()?;
            // An email is one account's per application, whatever its case.
            let lowered = email.to_lowercase();
            let taken: i64 = users::table
                .filter(users::application_id.eq(user.application_id.0))
                .filter(users::email.eq(&lowered))
                .count()
                .get_result(conn)
                .store_err()?;
            if taken > 0 {
                return Err(roost_domain::StoreError::Conflict(format!("email {lowered} is taken")));
            }
            diesel::update(users::table.filter(users::id.eq(user.id.0)))
                .set((users::email.eq(&lowered), users::password_hash.eq(password_hash)))
                .execute(conn)
                .store_err()?;
            insert_token(conn, token)?;
            let created = EventDraft::user(EventType::UserCreated, user);
            super::events::record(conn, user.application_id, &[created], user.created_time)?;
            super::mail_outbox::insert(conn, std::slice::from_ref(mail))
        })
    }

    fn activate_account(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<User>> {
        self.write(|conn| {
            // Claimed by the update that uses it: two activations at once cannot both succeed.
            let purposes = [TokenPurpose::Activate.as_str(), TokenPurpose::ChangeEmail.as_str()];
            let claim = diesel::update(
                account_tokens::table
                    .filter(account_tokens::token_hash.eq(token_hash))
                    .filter(account_tokens::purpose.eq_any(purposes))
                    .filter(account_tokens::used_at.is_null())
                    .filter(account_tokens::expires_at.gt(now.naive_utc())),
            )
            .set(account_tokens::used_at.eq(Some(now.naive_utc())))
            .returning((
                account_tokens::application_id,
                account_tokens::user_id,
                account_tokens::new_email,
            ));
            let claimed: Option<(i64, i64, Option<String>)> =
                on_engine!(&mut *conn, |c| claim.get_result(c).optional()).store_err()?;
            let Some((application_id, user_id, new_email)) = claimed else { return Ok(None) };
            let this = users::table.filter(users::application_id.eq(application_id)).filter(users::id.eq(user_id));
            match new_email {
                // An email change: the address must still be free (the unique index says so).
                Some(email) => {
                    diesel::update(this).set(users::email.eq(Some(email))).execute(conn).store_err()?;
                }
                None => {
                    diesel::update(this.filter(users::activated_at.is_null()))
                        .set(users::activated_at.eq(Some(now.naive_utc())))
                        .execute(conn)
                        .store_err()?;
                }
            }
            let row: Option<UserRow> = this.select(UserRow::as_select()).get_result(conn).optional().store_err()?;
            row.map(User::try_from).transpose()
        })
    }

    fn find_account(
        &self,
        application_id: ApplicationId,
        username: &str,
    ) -> StoreResult<Option<(User, AccountSecret)>> {
        self.read(|conn| {
            let row: Option<(UserRow, SignInColumns)> = users::table
                .filter(users::application_id.eq(application_id.0))
                .filter(users::name.eq(username))
                .select((UserRow::as_select(), sign_in_columns()))
                .get_result(conn)
                .optional()
                .store_err()?;
            row.map(|(user, columns)| Ok((User::try_from(user)?, secret(columns)))).transpose()
        })
    }

    fn account_of(&self, application_id: ApplicationId, user_id: UserId) -> StoreResult<Option<AccountSecret>> {
        self.read(|conn| {
            let row: Option<SignInColumns> = users::table
                .filter(users::application_id.eq(application_id.0))
                .filter(users::id.eq(user_id.0))
                .select(sign_in_columns())
                .get_result(conn)
                .optional()
                .store_err()?;
            Ok(row.map(secret))
        })
    }

    fn insert_session(&self, session: &Session) -> StoreResult<()> {
        self.write(|conn| {
            diesel::insert_into(user_sessions::table).values(SessionRow::from(session)).execute(conn).store_err()?;
            Ok(())
        })
    }

    fn end_session(&self, application_id: ApplicationId, session_id: i64, now: Timestamp) -> StoreResult<bool> {
        self.write(|conn| {
            let ended = diesel::update(
                user_sessions::table
                    .filter(user_sessions::application_id.eq(application_id.0))
                    .filter(user_sessions::id.eq(session_id))
                    .filter(user_sessions::ended_at.is_null()),
            )
            .set(user_sessions::ended_at.eq(Some(now.naive_utc())))
            .execute(conn)
            .store_err()?;
            Ok(ended > 0)
        })
    }

    fn list_sessions(
        &self,
        application_id: ApplicationId,
        state: Option<SessionState>,
        now: Timestamp,
        page: &PageRequest<SessionSort>,
    ) -> StoreResult<Page<UserSession>> {
        self.read(|conn| {
            let now = now.naive_utc();
            let base = || {
                let query = user_sessions::table
                    .inner_join(users::table.on(users::id.eq(user_sessions::user_id)))
                    .filter(user_sessions::application_id.eq(application_id.0))
                    .into_boxed::<Db>();
                match state {
                    None => query,
                    Some(SessionState::Active) => {
                        query.filter(user_sessions::ended_at.is_null()).filter(user_sessions::expires_at.gt(now))
                    }
                    Some(SessionState::Ended) => {
                        query.filter(user_sessions::ended_at.is_not_null().or(user_sessions::expires_at.le(now)))
                    }
                }
            };
            let total: i64 = base().count().get_result(conn).store_err()?;
            // Ids follow creation time: `createdTime` sorts by id; newest first unless asked.
            let ascending = page.sort.first().is_some_and(|order| order.direction == Direction::Asc);
            let ordered =
                if ascending { base().order(user_sessions::id.asc()) } else { base().order(user_sessions::id.desc()) };
            let rows: Vec<(SessionRow, UserRow)> = ordered
                .select((SessionRow::as_select(), UserRow::as_select()))
                .page_prepared(page)
                .load(conn)
                .store_err()?;
            let ids: Vec<i64> = rows.iter().map(|(session, _)| session.id).collect();
            let streaming: std::collections::HashSet<i64> = open_streams::table
                .filter(open_streams::session_id.eq_any(&ids))
                .select(open_streams::session_id)
                .load(conn)
                .store_err()?
                .into_iter()
                .collect();
            let items = rows
                .into_iter()
                .map(|(session, user)| {
                    let streaming = streaming.contains(&session.id);
                    Ok(UserSession { session: Session::from(session), user: User::try_from(user)?, streaming })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Page { items, number: page.number, size: page.size, total_elements: super::count_to_u64(total) })
        })
    }

    fn record_login_failure(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        lock_at: u32,
        lock_until: Timestamp,
    ) -> StoreResult<()> {
        self.write(|conn| {
            let this = users::table.filter(users::application_id.eq(application_id.0)).filter(users::id.eq(user_id.0));
            let counting = diesel::update(this)
                .set(users::failed_logins.eq(users::failed_logins + 1))
                .returning(users::failed_logins);
            let failures: Option<i32> = on_engine!(&mut *conn, |c| counting.get_result(c).optional()).store_err()?;
            if failures.is_some_and(|n| i64::from(n) >= i64::from(lock_at)) {
                diesel::update(this)
                    .set((users::failed_logins.eq(0), users::locked_until.eq(Some(lock_until.naive_utc()))))
                    .execute(conn)
                    .store_err()?;
            }
            Ok(())
        })
    }

    fn clear_login_failures(&self, application_id: ApplicationId, user_id: UserId) -> StoreResult<()> {
        self.write(|conn| {
            diesel::update(
                users::table.filter(users::application_id.eq(application_id.0)).filter(users::id.eq(user_id.0)),
            )
            .set((users::failed_logins.eq(0), users::locked_until.eq(None::<chrono::NaiveDateTime>)))
            .execute(conn)
            .store_err()?;
            Ok(())
        })
    }

    fn unlock_account(&self, application_id: ApplicationId, username: &str) -> StoreResult<bool> {
        self.write(|conn| {
            let found = diesel::update(
                users::table.filter(users::application_id.eq(application_id.0)).filter(users::name.eq(username)),
            )
            .set((users::failed_logins.eq(0), users::locked_until.eq(None::<chrono::NaiveDateTime>)))
            .execute(conn)
            .store_err()?;
            Ok(found > 0)
        })
    }

    fn change_password(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        password_hash: &str,
        session: &Session,
        now: Timestamp,
    ) -> StoreResult<Vec<String>> {
        self.write(|conn| {
            diesel::update(
                users::table.filter(users::application_id.eq(application_id.0)).filter(users::id.eq(user_id.0)),
            )
            .set(users::password_hash.eq(Some(password_hash)))
            .execute(conn)
            .store_err()?;
            let ended = end_all_sessions(conn, application_id.0, user_id.0, now.naive_utc())?;
            cancel_tokens(conn, user_id.0, now.naive_utc())?;
            diesel::insert_into(user_sessions::table).values(SessionRow::from(session)).execute(conn).store_err()?;
            Ok(ended)
        })
    }

    fn find_token(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: Timestamp,
    ) -> StoreResult<Option<(User, AccountSecret)>> {
        self.read(|conn| {
            let row: Option<(UserRow, SignInColumns)> = account_tokens::table
                .inner_join(users::table.on(users::id.eq(account_tokens::user_id)))
                .filter(account_tokens::token_hash.eq(token_hash))
                .filter(account_tokens::purpose.eq(purpose.as_str()))
                .filter(account_tokens::used_at.is_null())
                .filter(account_tokens::expires_at.gt(now.naive_utc()))
                .filter(users::application_id.eq(account_tokens::application_id))
                .select((UserRow::as_select(), sign_in_columns()))
                .get_result(conn)
                .optional()
                .store_err()?;
            row.map(|(user, columns)| Ok((User::try_from(user)?, secret(columns)))).transpose()
        })
    }

    fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(User, Vec<String>)>> {
        self.write(|conn| {
            let now = now.naive_utc();
            // Claimed by the update that uses it: two resets at once cannot both succeed.
            let claim = diesel::update(
                account_tokens::table
                    .filter(account_tokens::token_hash.eq(token_hash))
                    .filter(account_tokens::purpose.eq(TokenPurpose::ResetPassword.as_str()))
                    .filter(account_tokens::used_at.is_null())
                    .filter(account_tokens::expires_at.gt(now)),
            )
            .set(account_tokens::used_at.eq(Some(now)))
            .returning((account_tokens::application_id, account_tokens::user_id));
            let claimed: Option<(i64, i64)> = on_engine!(&mut *conn, |c| claim.get_result(c).optional()).store_err()?;
            let Some((application_id, user_id)) = claimed else { return Ok(None) };
            let this = users::table.filter(users::application_id.eq(application_id)).filter(users::id.eq(user_id));
            diesel::update(this)
                .set((
                    users::password_hash.eq(Some(password_hash)),
                    users::failed_logins.eq(0),
                    users::locked_until.eq(None::<chrono::NaiveDateTime>),
                ))
                .execute(conn)
                .store_err()?;
            diesel::update(this.filter(users::activated_at.is_null()))
                .set(users::activated_at.eq(Some(now)))
                .execute(conn)
                .store_err()?;
            let ended = end_all_sessions(conn, application_id, user_id, now)?;
            cancel_tokens(conn, user_id, now)?;
            let row: Option<UserRow> = this.select(UserRow::as_select()).get_result(conn).optional().store_err()?;
            row.map(|user| Ok((User::try_from(user)?, ended))).transpose()
        })
    }

    fn find_account_by_email(
        &self,
        application_id: ApplicationId,
        email: &str,
    ) -> StoreResult<Option<(User, AccountSecret)>> {
        self.read(|conn| {
            let row: Option<(UserRow, SignInColumns)> = users::table
                .filter(users::application_id.eq(application_id.0))
                .filter(users::email.eq(email))
                .select((UserRow::as_select(), sign_in_columns()))
                .get_result(conn)
                .optional()
                .store_err()?;
            row.map(|(user, columns)| Ok((User::try_from(user)?, secret(columns)))).transpose()
        })
    }

    fn issue_token(&self, token: &AccountToken, mail: &[Mail], at_most: Option<(u32, Timestamp)>) -> StoreResult<bool> {
        self.write(|conn| {
            if let Some((cap, since)) = at_most {
                // A no-op update locks the user's row until commit (PostgreSQL; SQLite's write
                // transaction holds the whole database): concurrent requests count in turn.
                let this = users::table
                    .filter(users::application_id.eq(token.application_id.0))
                    .filter(users::id.eq(token.user_id.0));
                diesel::update(this).set(users::failed_logins.eq(users::failed_logins)).execute(conn).store_err()?;
                let issued: i64 = account_tokens::table
                    .filter(account_tokens::application_id.eq(token.application_id.0))
                    .filter(account_tokens::user_id.eq(token.user_id.0))
                    .filter(account_tokens::purpose.eq(token.purpose.as_str()))
                    .filter(account_tokens::created_at.ge(since.naive_utc()))
                    .count()
                    .get_result(conn)
                    .store_err()?;
                if issued >= i64::from(cap) {
                    return Ok(false);
                }
            }
            insert_token(conn, token)?;
            super::mail_outbox::insert(conn, mail)?;
            Ok(true)
        })
    }

    fn outbox(&self) -> StoreResult<Vec<Mail>> {
        self.read(super::mail_outbox::all)
    }

    fn claim_mail(&self, now: Timestamp, lease_until: Timestamp, limit: u32) -> StoreResult<Vec<Mail>> {
        self.write(|conn| super::mail_outbox::claim(conn, now, lease_until, limit))
    }

    fn record_delivery(&self, id: i64, outcome: MailOutcome) -> StoreResult<()> {
        self.write(|conn| super::mail_outbox::record(conn, id, outcome))
    }

    fn purge_mail(&self, before: Timestamp) -> StoreResult<u64> {
        self.write(|conn| super::mail_outbox::purge(conn, before))
    }
}
