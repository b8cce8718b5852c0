//! Webhook rows: a site's endpoints and the outbox of deliveries (leased with the queries of
//! [`super::outbox`], retried and given up by `crate::outbox` like mail).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{webhook_deliveries, webhook_endpoints};
use crate::domain::site::SiteId;
use crate::domain::webhook::{
    Delivery, DeliveryStatus, PayloadFormat, WebhookEndpoint, WebhookEvent,
};
use crate::error::AppError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
struct EndpointRow {
    id: i64,
    site_id: i64,
    url: String,
    format: PayloadFormat,
    events: String,
    created_at: NaiveDateTime,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        WebhookEndpoint {
            id: row.id,
            site_id: SiteId(row.site_id),
            url: row.url,
            format: row.format,
            // Only known names were ever written; an unknown one (a newer version's) is skipped.
            events: row
                .events
                .split(',')
                .filter_map(|e| WebhookEvent::parse(e).ok())
                .collect(),
            created_at: row.created_at.and_utc(),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = webhook_endpoints)]
struct NewEndpointRow<'a> {
    site_id: i64,
    url: &'a str,
    format: PayloadFormat,
    events: &'a str,
    secret_salt: &'a str,
    created_at: NaiveDateTime,
}

fn events_column(events: &[WebhookEvent]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn insert_endpoint(
    conn: &mut DbConn,
    site: SiteId,
    url: &str,
    format: PayloadFormat,
    events: &[WebhookEvent],
    secret_salt: &str,
    now: NaiveDateTime,
) -> Result<WebhookEndpoint, AppError> {
    let events = events_column(events);
    let id: i64 = diesel::insert_into(webhook_endpoints::table)
        .values(&NewEndpointRow {
            site_id: site.0,
            url,
            format,
            events: &events,
            secret_salt,
            created_at: now,
        })
        .returning(webhook_endpoints::id)
        .get_result(conn)?;
    find_endpoint(conn, site, id)?.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("webhook endpoint vanished after insert"))
    })
}

/// A site's endpoints, oldest first.
pub fn list_endpoints(conn: &mut DbConn, site: SiteId) -> Result<Vec<WebhookEndpoint>, AppError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::site_id.eq(site.0))
        .order(webhook_endpoints::id.asc())
        .select(EndpointRow::as_select())
        .load::<EndpointRow>(conn)?
        .into_iter()
        .map(WebhookEndpoint::from)
        .collect())
}

/// An endpoint of a site (`None` when it does not exist or belongs to another site).
pub fn find_endpoint(
    conn: &mut DbConn,
    site: SiteId,
    id: i64,
) -> Result<Option<WebhookEndpoint>, AppError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::site_id.eq(site.0))
        .filter(webhook_endpoints::id.eq(id))
        .select(EndpointRow::as_select())
        .first::<EndpointRow>(conn)
        .optional()?
        .map(WebhookEndpoint::from))
}

/// The salt the endpoint's secret is derived from; asked for by name, never part of a row.
pub fn find_secret_salt(conn: &mut DbConn, id: i64) -> Result<Option<String>, AppError> {
    Ok(webhook_endpoints::table
        .find(id)
        .select(webhook_endpoints::secret_salt)
        .first(conn)
        .optional()?)
}

/// Gives an endpoint a new salt (a new secret); `false` when it does not exist on the site.
pub fn update_secret_salt(
    conn: &mut DbConn,
    site: SiteId,
    id: i64,
    salt: &str,
) -> Result<bool, AppError> {
    let changed = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::site_id.eq(site.0))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .set(webhook_endpoints::secret_salt.eq(salt))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes an endpoint and its deliveries; `false` when it does not exist on the site.
pub fn delete_endpoint(conn: &mut DbConn, site: SiteId, id: i64) -> Result<bool, AppError> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)))
        .execute(conn)?;
    let changed = diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::site_id.eq(site.0))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .execute(conn)?;
    Ok(changed == 1)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: i64,
    endpoint_id: i64,
    event: String,
    status: DeliveryStatus,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_error: Option<String>,
    last_status: Option<i32>,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        Delivery {
            id: row.id,
            endpoint_id: row.endpoint_id,
            event: row.event,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.and_utc(),
            last_error: row.last_error,
            last_status: row.last_status,
            created_at: row.created_at.and_utc(),
            sent_at: row.sent_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct NewDeliveryRow<'a> {
    endpoint_id: i64,
    event: &'a str,
    body: &'a str,
    status: DeliveryStatus,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// Queues a delivery, due at once.
pub fn insert_delivery(
    conn: &mut DbConn,
    endpoint_id: i64,
    event: WebhookEvent,
    body: &str,
    now: NaiveDateTime,
) -> Result<i64, AppError> {
    Ok(diesel::insert_into(webhook_deliveries::table)
        .values(&NewDeliveryRow {
            endpoint_id,
            event: event.as_str(),
            body,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
        })
        .returning(webhook_deliveries::id)
        .get_result(conn)?)
}

super::outbox::lease_queries!(
    webhook_deliveries,
    pending = DeliveryStatus::Pending,
    sent = DeliveryStatus::Sent
);

/// What the worker needs to send one claimed delivery.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub event: String,
    pub body: String,
    pub attempts: i32,
    pub url: String,
    pub format: PayloadFormat,
    pub secret_salt: String,
}

/// A claimed delivery with its endpoint.
pub fn find_outgoing(conn: &mut DbConn, id: i64) -> Result<Option<Outgoing>, AppError> {
    let row: Option<(i64, String, String, i32, String, PayloadFormat, String)> =
        webhook_deliveries::table
            .inner_join(webhook_endpoints::table)
            .filter(webhook_deliveries::id.eq(id))
            .select((
                webhook_deliveries::id,
                webhook_deliveries::event,
                webhook_deliveries::body,
                webhook_deliveries::attempts,
                webhook_endpoints::url,
                webhook_endpoints::format,
                webhook_endpoints::secret_salt,
            ))
            .first(conn)
            .optional()?;
    Ok(row.map(
        |(id, event, body, attempts, url, format, secret_salt)| Outgoing {
            id,
            event,
            body,
            attempts,
            url,
            format,
            secret_salt,
        },
    ))
}

pub fn update_sent(
    conn: &mut DbConn,
    id: i64,
    http_status: i32,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Sent),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::sent_at.eq(Some(now)),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::last_error.eq(None::<String>),
            webhook_deliveries::last_status.eq(Some(http_status)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a failed attempt: due again at `next` or, when `next` is `None`, given up.
pub fn update_attempt_failed(
    conn: &mut DbConn,
    id: i64,
    attempts: i32,
    next: Option<NaiveDateTime>,
    error: &str,
    http_status: Option<i32>,
) -> Result<(), AppError> {
    let status = if next.is_some() {
        DeliveryStatus::Pending
    } else {
        DeliveryStatus::Failed
    };
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::last_error.eq(Some(error)),
            webhook_deliveries::last_status.eq(http_status),
        ))
        .execute(conn)?;
    if let Some(next) = next {
        diesel::update(webhook_deliveries::table.find(id))
            .set(webhook_deliveries::next_attempt_at.eq(next))
            .execute(conn)?;
    }
    Ok(())
}

/// The newest deliveries of a site's endpoints (for the admin area).
pub fn list_recent(conn: &mut DbConn, site: SiteId, limit: i64) -> Result<Vec<Delivery>, AppError> {
    Ok(webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_endpoints::site_id.eq(site.0))
        .order(webhook_deliveries::id.desc())
        .select(DeliveryRow::as_select())
        .limit(limit)
        .load::<DeliveryRow>(conn)?
        .into_iter()
        .map(Delivery::from)
        .collect())
}

/// Every delivery with its body, oldest first (tests and diagnostics).
pub fn list_all(conn: &mut DbConn) -> Result<Vec<(Delivery, String)>, AppError> {
    Ok(webhook_deliveries::table
        .order(webhook_deliveries::id.asc())
        .select((DeliveryRow::as_select(), webhook_deliveries::body))
        .load::<(DeliveryRow, String)>(conn)?
        .into_iter()
        .map(|(row, body)| (row.into(), body))
        .collect())
}
