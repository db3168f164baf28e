//! Webhooks and their deliveries: the cursor each webhook has read the event log to, the
//! deliveries made of it, their claims and attempts.

use diesel::prelude::*;
use roost_domain::model::event::EventType;
use roost_domain::model::page::Page;
use roost_domain::model::webhook::{DeliveryStatus, Webhook, WebhookDelivery};
use roost_domain::ports::{StoreResult, WebhookStore};
use roost_domain::{ApplicationId, StoreError, Timestamp};

use super::{count_to_u64, DieselResultExt, DieselStore};
use crate::prepared::KeepPreparedLimit;
use crate::rows::utc;
use crate::schema::{webhook_deliveries, webhooks};

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct WebhookRow {
    id: i64,
    application_id: i64,
    url: String,
    events: String,
    enabled: bool,
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<chrono::NaiveDateTime>,
    cursor_seq: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl From<&Webhook> for WebhookRow {
    fn from(h: &Webhook) -> Self {
        Self {
            id: h.id,
            application_id: h.application_id.0,
            url: h.url.clone(),
            events: h.events.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(","),
            enabled: h.enabled,
            secret: h.secret.clone(),
            previous_secret: h.previous_secret.as_ref().map(|(s, _)| s.clone()),
            previous_until: h.previous_secret.as_ref().map(|(_, until)| until.naive_utc()),
            cursor_seq: h.cursor,
            created_at: h.created_time.naive_utc(),
            updated_at: h.updated_time.naive_utc(),
        }
    }
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Self {
            id: r.id,
            application_id: ApplicationId(r.application_id),
            url: r.url,
            // Types this version no longer knows are dropped from the filter.
            events: r.events.split(',').filter_map(EventType::parse).collect(),
            enabled: r.enabled,
            secret: r.secret,
            previous_secret: r.previous_secret.zip(r.previous_until.map(utc)),
            cursor: r.cursor_seq,
            created_time: utc(r.created_at),
            updated_time: utc(r.updated_at),
        }
    }
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: i64,
    webhook_id: i64,
    application_id: i64,
    event_seq: i64,
    event_type: String,
    payload: String,
    status: String,
    attempts: i32,
    response_code: Option<i32>,
    last_error: Option<String>,
    next_attempt_at: Option<chrono::NaiveDateTime>,
    created_at: chrono::NaiveDateTime,
}

impl From<&WebhookDelivery> for DeliveryRow {
    fn from(d: &WebhookDelivery) -> Self {
        Self {
            id: d.id,
            webhook_id: d.webhook_id,
            application_id: d.application_id.0,
            event_seq: d.event_id,
            event_type: d.event_type.as_str().to_owned(),
            payload: d.payload.clone(),
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            response_code: d.response_code,
            last_error: d.last_error.clone(),
            next_attempt_at: d.next_attempt_time.map(|t| t.naive_utc()),
            created_at: d.created_time.naive_utc(),
        }
    }
}

impl TryFrom<DeliveryRow> for WebhookDelivery {
    type Error = StoreError;

    fn try_from(r: DeliveryRow) -> Result<Self, StoreError> {
        let bad = |what: &str, value: &str| {
            StoreError::Other(format!("unknown {what} '{value}' in webhook_deliveries").into())
        };
        Ok(Self {
            id: r.id,
            webhook_id: r.webhook_id,
            application_id: ApplicationId(r.application_id),
            event_id: r.event_seq,
            event_type: EventType::parse(&r.event_type).ok_or_else(|| bad("event type", &r.event_type))?,
            payload: r.payload,
            status: DeliveryStatus::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
            attempts: r.attempts,
            response_code: r.response_code,
            last_error: r.last_error,
            next_attempt_time: r.next_attempt_at.map(utc),
            created_time: utc(r.created_at),
        })
    }
}

fn page_of<T>(items: Vec<T>, number: u32, size: u32, total: i64) -> Page<T> {
    Page { items, number, size, total_elements: count_to_u64(total) }
}

fn offset(number: u32, size: u32) -> i64 {
    i64::from(number).saturating_mul(i64::from(size))
}

impl WebhookStore for DieselStore {
    fn insert_webhook(&self, hook: &Webhook) -> StoreResult<()> {
        self.write(|conn| {
            diesel::insert_into(webhooks::table).values(WebhookRow::from(hook)).execute(conn).store_err()?;
            Ok(())
        })
    }

    fn find_webhook(&self, application_id: ApplicationId, id: i64) -> StoreResult<Option<Webhook>> {
        self.read(|conn| {
            Ok(webhooks::table
                .filter(webhooks::application_id.eq(application_id.0))
                .filter(webhooks::id.eq(id))
                .select(WebhookRow::as_select())
                .get_result(conn)
                .optional()
                .store_err()?
                .map(Webhook::from))
        })
    }

    fn list_webhooks(&self, application_id: ApplicationId, number: u32, size: u32) -> StoreResult<Page<Webhook>> {
        self.read(|conn| {
            let of_app = || webhooks::table.filter(webhooks::application_id.eq(application_id.0));
            let total: i64 = of_app().count().get_result(conn).store_err()?;
            let rows: Vec<WebhookRow> = of_app()
                .order(webhooks::id.asc())
                .select(WebhookRow::as_select())
                .limit_offset_prepared(i64::from(size), offset(number, size))
                .load(conn)
                .store_err()?;
            Ok(page_of(rows.into_iter().map(Webhook::from).collect(), number, size, total))
        })
    }

    fn update_webhook(&self, hook: &Webhook, secrets: bool) -> StoreResult<bool> {
        let row = WebhookRow::from(hook);
        self.write(|conn| {
            let this = || {
                webhooks::table.filter(webhooks::application_id.eq(row.application_id)).filter(webhooks::id.eq(row.id))
            };
            let updated = if secrets {
                diesel::update(this())
                    .set((
                        webhooks::secret.eq(&row.secret),
                        webhooks::previous_secret.eq(&row.previous_secret),
                        webhooks::previous_until.eq(row.previous_until),
                        webhooks::updated_at.eq(row.updated_at),
                    ))
                    .execute(conn)
                    .store_err()?
            } else {
                if row.enabled {
                    // Re-enabled: from the log's end as read, not the backlog of while it was off.
                    diesel::update(this().filter(webhooks::enabled.eq(false)))
                        .set(webhooks::cursor_seq.eq(row.cursor_seq))
                        .execute(conn)
                        .store_err()?;
                }
                diesel::update(this())
                    .set((
                        webhooks::url.eq(&row.url),
                        webhooks::events.eq(&row.events),
                        webhooks::enabled.eq(row.enabled),
                        webhooks::updated_at.eq(row.updated_at),
                    ))
                    .execute(conn)
                    .store_err()?
            };
            Ok(updated > 0)
        })
    }

    fn delete_webhook(&self, application_id: ApplicationId, id: i64) -> StoreResult<bool> {
        self.write(|conn| {
            let of_app =
                webhooks::table.filter(webhooks::application_id.eq(application_id.0)).filter(webhooks::id.eq(id));
            let exists: i64 = of_app.count().get_result(conn).store_err()?;
            if exists == 0 {
                return Ok(false);
            }
            diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
                .execute(conn)
                .store_err()?;
            diesel::delete(of_app).execute(conn).store_err()?;
            Ok(true)
        })
    }

    fn enabled_webhooks(&self) -> StoreResult<Vec<Webhook>> {
        self.read(|conn| {
            let rows: Vec<WebhookRow> = webhooks::table
                .filter(webhooks::enabled.eq(true))
                .order(webhooks::id.asc())
                .select(WebhookRow::as_select())
                .load(conn)
                .store_err()?;
            Ok(rows.into_iter().map(Webhook::from).collect())
        })
    }

    fn enqueue_deliveries(
        &self,
        webhook_id: i64,
        from: i64,
        to: i64,
        deliveries: &[WebhookDelivery],
    ) -> StoreResult<bool> {
        self.write(|conn| {
            // The cursor moves only from the value the caller read: of two nodes, one does.
            let moved = diesel::update(
                webhooks::table.filter(webhooks::id.eq(webhook_id)).filter(webhooks::cursor_seq.eq(from)),
            )
            .set(webhooks::cursor_seq.eq(to))
            .execute(conn)
            .store_err()?;
            if moved == 0 {
                return Ok(false);
            }
            for delivery in deliveries {
                diesel::insert_into(webhook_deliveries::table)
                    .values(DeliveryRow::from(delivery))
                    .execute(conn)
                    .store_err()?;
            }
            Ok(true)
        })
    }

    fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDelivery>> {
        let now = now.naive_utc();
        let due = move || {
            webhook_deliveries::table
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                .filter(webhook_deliveries::next_attempt_at.le(now))
        };
        // Looked for outside a write transaction: on SQLite a write would queue behind (and
        // hold up) posts for nothing when none is due, the usual case.
        let ids: Vec<i64> = self.read(|conn| {
            due()
                .order(webhook_deliveries::next_attempt_at.asc())
                .select(webhook_deliveries::id)
                .limit_prepared(i64::from(limit).min(100))
                .load(conn)
                .store_err()
        })?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|conn| {
            // Only the rows this update moved are ours: on PostgreSQL another node's claim makes
            // it wait for the row locks and re-check `due` (READ COMMITTED), as for mail.
            let claiming = diesel::update(due().filter(webhook_deliveries::id.eq_any(&ids)))
                .set(webhook_deliveries::next_attempt_at.eq(Some(lease_until.naive_utc())))
                .returning(webhook_deliveries::id);
            let claimed: Vec<i64> = on_engine!(&mut *conn, |c| claiming.get_results(c)).store_err()?;
            let rows: Vec<DeliveryRow> = webhook_deliveries::table
                .filter(webhook_deliveries::id.eq_any(&claimed))
                .order(webhook_deliveries::id.asc())
                .select(DeliveryRow::as_select())
                .load(conn)
                .store_err()?;
            rows.into_iter().map(WebhookDelivery::try_from).collect()
        })
    }

    fn record_attempt(&self, delivery: &WebhookDelivery, lease: Timestamp) -> StoreResult<()> {
        let row = DeliveryRow::from(delivery);
        self.write(|conn| {
            // Only under the claim that made the attempt: a late result never overwrites a newer one.
            diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::id.eq(row.id))
                    .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                    .filter(webhook_deliveries::next_attempt_at.eq(Some(lease.naive_utc()))),
            )
            .set((
                webhook_deliveries::status.eq(&row.status),
                webhook_deliveries::attempts.eq(row.attempts),
                webhook_deliveries::response_code.eq(row.response_code),
                webhook_deliveries::last_error.eq(&row.last_error),
                webhook_deliveries::next_attempt_at.eq(row.next_attempt_at),
            ))
            .execute(conn)
            .store_err()?;
            Ok(())
        })
    }

    fn list_deliveries(&self, webhook_id: i64, number: u32, size: u32) -> StoreResult<Page<WebhookDelivery>> {
        self.read(|conn| {
            let of_hook = || webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(webhook_id));
            let total: i64 = of_hook().count().get_result(conn).store_err()?;
            let rows: Vec<DeliveryRow> = of_hook()
                .order(webhook_deliveries::id.desc())
                .select(DeliveryRow::as_select())
                .limit_offset_prepared(i64::from(size), offset(number, size))
                .load(conn)
                .store_err()?;
            let items = rows.into_iter().map(WebhookDelivery::try_from).collect::<StoreResult<Vec<_>>>()?;
            Ok(page_of(items, number, size, total))
        })
    }

    fn retry_delivery(&self, webhook_id: i64, id: i64, now: Timestamp) -> StoreResult<Option<WebhookDelivery>> {
        self.write(|conn| {
            let this = webhook_deliveries::table
                .filter(webhook_deliveries::webhook_id.eq(webhook_id))
                .filter(webhook_deliveries::id.eq(id));
            let updated = diesel::update(this)
                .set((
                    webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                    webhook_deliveries::next_attempt_at.eq(Some(now.naive_utc())),
                ))
                .execute(conn)
                .store_err()?;
            if updated == 0 {
                return Ok(None);
            }
            this.select(DeliveryRow::as_select())
                .get_result(conn)
                .store_err()
                .and_then(WebhookDelivery::try_from)
                .map(Some)
        })
    }
}
