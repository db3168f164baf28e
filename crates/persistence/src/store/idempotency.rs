//! Idempotency keys: one row per application and key, claimed in a write transaction.

use diesel::prelude::*;
use roost_domain::model::idempotency::{Claim, KeyClaim, RecordedResponse};
use roost_domain::ports::{IdempotencyStore, StoreResult};
use roost_domain::{ApplicationId, Timestamp};

use super::{DieselResultExt, DieselStore};
use crate::schema::idempotency_keys as keys;

#[derive(Queryable, Selectable)]
#[diesel(table_name = keys)]
struct KeyRow {
    fingerprint: String,
    status: Option<i64>,
    content_type: Option<String>,
    etag: Option<String>,
    location: Option<String>,
    body: Option<Vec<u8>>,
    created_at: chrono::NaiveDateTime,
    expires_at: chrono::NaiveDateTime,
}

/// What a record says to a claim, when it settles it without a write: a different request, a
/// recorded answer, or a request still running. `None`: the claim may take the key (it is free,
/// expired or abandoned).
fn settled(row: &KeyRow, claim: &KeyClaim<'_>) -> Option<Claim> {
    if row.expires_at < claim.now.naive_utc() {
        return None;
    }
    if row.fingerprint != claim.fingerprint {
        return Some(Claim::OtherRequest);
    }
    match row.status {
        Some(status) => Some(Claim::Done(RecordedResponse {
            status: u16::try_from(status).unwrap_or(500),
            content_type: row.content_type.clone(),
            etag: row.etag.clone(),
            location: row.location.clone(),
            body: row.body.clone().unwrap_or_default(),
        })),
        None if row.created_at < claim.abandoned_before().naive_utc() => None,
        None => Some(Claim::Running),
    }
}

impl IdempotencyStore for DieselStore {
    fn claim_key(&self, application_id: ApplicationId, claim: &KeyClaim<'_>) -> StoreResult<Claim> {
        let app = application_id.0;
        let (now, expires) = (claim.now.naive_utc(), claim.expires().naive_utc());
        let this = || keys::table.filter(keys::application_id.eq(app)).filter(keys::idempotency_key.eq(claim.key));
        // A repeat (and a repeat polling for a running answer) is settled by a read: no write
        // transaction, nothing queued behind SQLite's writer.
        let found: Option<KeyRow> =
            self.read(|conn| this().select(KeyRow::as_select()).get_result(conn).optional().store_err())?;
        if let Some(answer) = found.as_ref().and_then(|row| settled(row, claim)) {
            return Ok(answer);
        }
        self.write(|conn| {
            let found: Option<KeyRow> = this().select(KeyRow::as_select()).get_result(conn).optional().store_err()?;
            let Some(row) = found else {
                // A concurrent claim on another node makes this a unique violation, reported as
                // `StoreError::Conflict`: the use case then reads the winner's record.
                diesel::insert_into(keys::table)
                    .values((
                        keys::application_id.eq(app),
                        keys::idempotency_key.eq(claim.key),
                        keys::fingerprint.eq(claim.fingerprint),
                        keys::created_at.eq(now),
                        keys::expires_at.eq(expires),
                    ))
                    .execute(conn)
                    .store_err()?;
                return Ok(Claim::Started(claim.now));
            };
            if let Some(answer) = settled(&row, claim) {
                return Ok(answer);
            }
            // Expired, or abandoned by a request of the same fingerprint: taken over, only if
            // nobody else took it over since it was read.
            let taken = diesel::update(this().filter(keys::created_at.eq(row.created_at)))
                .set((
                    keys::fingerprint.eq(claim.fingerprint),
                    keys::status.eq(None::<i64>),
                    keys::content_type.eq(None::<String>),
                    keys::etag.eq(None::<String>),
                    keys::location.eq(None::<String>),
                    keys::body.eq(None::<Vec<u8>>),
                    keys::created_at.eq(now),
                    keys::expires_at.eq(expires),
                ))
                .execute(conn)
                .store_err()?;
            Ok(if taken == 1 { Claim::Started(claim.now) } else { Claim::Running })
        })
    }

    fn record_response(
        &self,
        application_id: ApplicationId,
        key: &str,
        claimed: Timestamp,
        response: &RecordedResponse,
    ) -> StoreResult<()> {
        self.write(|conn| {
            diesel::update(
                keys::table
                    .filter(keys::application_id.eq(application_id.0))
                    .filter(keys::idempotency_key.eq(key))
                    .filter(keys::created_at.eq(claimed.naive_utc())),
            )
            .set((
                keys::status.eq(Some(i64::from(response.status))),
                keys::content_type.eq(&response.content_type),
                keys::etag.eq(&response.etag),
                keys::location.eq(&response.location),
                keys::body.eq(Some(&response.body)),
            ))
            .execute(conn)
            .store_err()?;
            Ok(())
        })
    }

    fn release_key(&self, application_id: ApplicationId, key: &str, claimed: Timestamp) -> StoreResult<()> {
        self.write(|conn| {
            diesel::delete(
                keys::table
                    .filter(keys::application_id.eq(application_id.0))
                    .filter(keys::idempotency_key.eq(key))
                    .filter(keys::created_at.eq(claimed.naive_utc()))
                    .filter(keys::status.is_null()),
            )
            .execute(conn)
            .store_err()?;
            Ok(())
        })
    }

    fn purge_keys(&self, now: Timestamp) -> StoreResult<u64> {
        self.write(|conn| {
            let deleted =
                diesel::delete(keys::table.filter(keys::expires_at.lt(now.naive_utc()))).execute(conn).store_err()?;
            Ok(u64::try_from(deleted).unwrap_or(0))
        })
    }
}
