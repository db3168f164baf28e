use diesel::prelude::*;
use roost_domain::model::account::Session;
use roost_domain::model::application::{AccessTokenRecord, OAuthClient};
use roost_domain::ports::{CredentialStore, StoreResult};
use roost_domain::{ApplicationId, Timestamp};

use super::{DieselResultExt, DieselStore};
use crate::rows::utc;
use crate::rows::{ClientRow, TokenRow};
use crate::schema::{access_tokens, oauth_clients, stream_tickets};

impl CredentialStore for DieselStore {
    fn find_client(&self, client_id: &str) -> StoreResult<Option<OAuthClient>> {
        self.read(|conn| {
            let row = oauth_clients::table
                .find(client_id)
                .select(ClientRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?;
            Ok(row.map(OAuthClient::from))
        })
    }

    fn clients_of(&self, application_id: ApplicationId) -> StoreResult<Vec<OAuthClient>> {
        self.read(|conn| {
            let rows = oauth_clients::table
                .filter(oauth_clients::application_id.eq(application_id.0))
                .order(oauth_clients::created_at)
                .select(ClientRow::as_select())
                .load(conn)
                .store_err()?;
            Ok(rows.into_iter().map(OAuthClient::from).collect())
        })
    }

    fn rotate_client_secret(&self, client_id: &str, secret_hash: &str) -> StoreResult<bool> {
        self.write(|conn| {
            let updated = diesel::update(oauth_clients::table.find(client_id))
                .set(oauth_clients::secret_hash.eq(secret_hash))
                .execute(conn)
                .store_err()?;
            if updated == 0 {
                return Ok(false);
            }
            // Tokens issued under the old secret stop working with it (standards-notes §7).
            diesel::update(access_tokens::table.filter(access_tokens::client_id.eq(client_id)))
                .set(access_tokens::revoked.eq(true))
                .execute(conn)
                .store_err()?;
            Ok(true)
        })
    }

    fn insert_token(&self, token: &AccessTokenRecord) -> StoreResult<()> {
        self.write(|conn| {
            diesel::insert_into(access_tokens::table).values(TokenRow::from(token)).execute(conn).store_err()?;
            Ok(())
        })
    }

    fn find_token(&self, token_hash: &str) -> StoreResult<Option<AccessTokenRecord>> {
        self.read(|conn| {
            let row = access_tokens::table
                .find(token_hash)
                .select(TokenRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?;
            Ok(row.map(AccessTokenRecord::from))
        })
    }

    fn revoke_token(&self, token_hash: &str, client_id: &str) -> StoreResult<bool> {
        self.write(|conn| {
            let updated = diesel::update(
                access_tokens::table
                    .filter(access_tokens::token_hash.eq(token_hash))
                    .filter(access_tokens::client_id.eq(client_id)),
            )
            .set(access_tokens::revoked.eq(true))
            .execute(conn)
            .store_err()?;
            Ok(updated > 0)
        })
    }

    fn purge_expired_tokens(&self, before: Timestamp) -> StoreResult<u64> {
        self.write(|conn| {
            let deleted = diesel::delete(access_tokens::table.filter(access_tokens::expires_at.lt(before.naive_utc())))
                .execute(conn)
                .store_err()?;
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
    }

    fn find_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        super::accounts::find_session(self, token_hash)
    }

    fn insert_ticket(&self, ticket_hash: &str, token_hash: &str, session: bool, expires: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            diesel::insert_into(stream_tickets::table)
                .values((
                    stream_tickets::ticket_hash.eq(ticket_hash),
                    stream_tickets::token_hash.eq(token_hash),
                    stream_tickets::session.eq(session),
                    stream_tickets::expires_at.eq(expires.naive_utc()),
                ))
                .execute(conn)
                .store_err()?;
            Ok(())
        })
    }

    fn take_ticket(&self, ticket_hash: &str, now: Timestamp) -> StoreResult<Option<(String, bool)>> {
        self.write(|conn| {
            // Deleting it is what makes it single-use: of two redeemers, one deletes the row.
            let taken: Option<(String, bool, chrono::NaiveDateTime)> = on_engine!(conn, |c| diesel::delete(
                stream_tickets::table.filter(stream_tickets::ticket_hash.eq(ticket_hash))
            )
            .returning((stream_tickets::token_hash, stream_tickets::session, stream_tickets::expires_at))
            .get_result(c)
            .optional()
            .store_err()?);
            diesel::delete(stream_tickets::table.filter(stream_tickets::expires_at.lt(now.naive_utc())))
                .execute(conn)
                .store_err()?;
            Ok(taken.and_then(|(token, session, expires)| (utc(expires) > now).then_some((token, session))))
        })
    }
}
