//! Site rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::sites;
use crate::domain::site::{OriginPattern, Site, SiteId, SiteSettings};
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sites)]
struct SiteRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub allowed_origins: String,
    pub settings: String,
}

impl SiteRow {
    fn into_site(self) -> Result<Site, AppError> {
        let origins: Vec<String> = serde_json::from_str(&self.allowed_origins)
            .map_err(|e| AppError::internal(anyhow::anyhow!("site {} origins: {e}", self.slug)))?;
        let allowed_origins = origins
            .iter()
            .filter_map(|o| OriginPattern::parse(o).ok())
            .collect();
        let settings: SiteSettings = serde_json::from_str(&self.settings)
            .map_err(|e| AppError::internal(anyhow::anyhow!("site {} settings: {e}", self.slug)))?;
        Ok(Site {
            id: SiteId(self.id),
            slug: self.slug,
            name: self.name,
            allowed_origins,
            settings,
        })
    }
}

pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> Result<Option<Site>, AppError> {
    sites::table
        .filter(sites::slug.eq(slug))
        .select(SiteRow::as_select())
        .first(conn)
        .optional()?
        .map(SiteRow::into_site)
        .transpose()
}

pub fn find_by_id(conn: &mut DbConn, id: SiteId) -> Result<Option<Site>, AppError> {
    sites::table
        .find(id.0)
        .select(SiteRow::as_select())
        .first(conn)
        .optional()?
        .map(SiteRow::into_site)
        .transpose()
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Site>, AppError> {
    sites::table
        .order(sites::id)
        .select(SiteRow::as_select())
        .load(conn)?
        .into_iter()
        .map(SiteRow::into_site)
        .collect()
}

/// Inserts a site unless one with this slug exists; returns whether it was inserted.
pub fn insert_if_absent(
    conn: &mut DbConn,
    slug: &str,
    name: &str,
    origins: &[OriginPattern],
    settings: &SiteSettings,
    now: NaiveDateTime,
) -> Result<bool, AppError> {
    let origins: Vec<String> = origins.iter().map(ToString::to_string).collect();
    let inserted = diesel::sql_query(
        "INSERT INTO sites (slug, name, allowed_origins, settings, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING",
    )
    .bind::<diesel::sql_types::Text, _>(slug)
    .bind::<diesel::sql_types::Text, _>(name)
    .bind::<diesel::sql_types::Text, _>(json(&origins)?)
    .bind::<diesel::sql_types::Text, _>(json(settings)?)
    .bind::<diesel::sql_types::Timestamp, _>(now)
    .execute(conn)?;
    Ok(inserted > 0)
}

/// Replaces a site's settings.
pub fn update_settings(
    conn: &mut DbConn,
    id: SiteId,
    settings: &SiteSettings,
) -> Result<(), AppError> {
    diesel::update(sites::table.find(id.0))
        .set(sites::settings.eq(json(settings)?))
        .execute(conn)?;
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(AppError::internal)
}

/// Creates a site; `None` when the slug is taken.
pub fn insert(
    conn: &mut DbConn,
    slug: &str,
    name: &str,
    origins: &[OriginPattern],
    settings: &SiteSettings,
    now: NaiveDateTime,
) -> Result<Option<Site>, AppError> {
    if insert_if_absent(conn, slug, name, origins, settings, now)? {
        find_by_slug(conn, slug)
    } else {
        Ok(None)
    }
}

/// Replaces a site's name, origins and settings.
pub fn update(
    conn: &mut DbConn,
    id: SiteId,
    name: &str,
    origins: &[OriginPattern],
    settings: &SiteSettings,
) -> Result<(), AppError> {
    let origins: Vec<String> = origins.iter().map(ToString::to_string).collect();
    diesel::update(sites::table.find(id.0))
        .set((
            sites::name.eq(name),
            sites::allowed_origins.eq(json(&origins)?),
            sites::settings.eq(json(settings)?),
        ))
        .execute(conn)?;
    Ok(())
}
