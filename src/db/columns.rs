//! Column values read back through a check: what a page may show, whatever an older version
//! or a direct database edit left in the column.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::sql_types::{Nullable, Text};

use crate::domain::link;

/// A URL column that is empty unless the stored value passes the link check.
#[derive(FromSqlRow)]
pub struct LinkColumn(String);

impl<DB> FromSql<Text, DB> for LinkColumn
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(link::safe_web_link_or_empty(String::from_sql(bytes)?)))
    }
}

impl From<LinkColumn> for String {
    fn from(value: LinkColumn) -> Self {
        value.0
    }
}

/// A nullable URL column that reads as `None` unless the stored value passes the link check.
#[derive(FromSqlRow)]
pub struct OptionalLinkColumn(Option<String>);

impl<DB> FromSql<Nullable<Text>, DB> for OptionalLinkColumn
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(link::safe_web_link(Some(String::from_sql(bytes)?))))
    }

    fn from_nullable_sql(bytes: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match bytes {
            Some(bytes) => Self::from_sql(bytes),
            None => Ok(Self(None)),
        }
    }
}

impl From<OptionalLinkColumn> for Option<String> {
    fn from(value: OptionalLinkColumn) -> Self {
        value.0
    }
}
