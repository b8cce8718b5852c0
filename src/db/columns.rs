//! How domain values are spelled in columns, and column values read back through a check.
//!
//! - Statuses and kinds ([`CommentStatus`], [`CommentKind`], [`BodyFormat`], [`BanKind`]) are
//!   domain enums; here they get diesel's `ToSql`/`FromSql` for `Text` columns, so queries and
//!   rows use the enums and the domain stays free of diesel. The column spelling is the enum's
//!   `as_str()`; a stored word no enum knows is a read error, never a silent default.
//! - URL columns are read back through the link check: what a page may show, whatever an older
//!   version or a direct database edit left in the column.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, Text};

use crate::domain::ban::BanKind;
use crate::domain::comment::{BodyFormat, CommentKind, CommentStatus};
use crate::domain::link;
use crate::domain::webhook::{DeliveryStatus, PayloadFormat};
use crate::domain::webmention::MentionStatus;

/// Gives a domain enum with `as_str()` a `Text` column spelling: `ToSql` writes `as_str()`,
/// `FromSql` reads it back through `$parse` (an unknown word is an error).
macro_rules! text_enum_column {
    ($ty:ty, $proxy:ident, $parse:expr) => {
        /// Lets diesel's derives attach `AsExpression`/`FromSqlRow` to the domain type.
        #[derive(AsExpression, FromSqlRow)]
        #[diesel(foreign_derive, sql_type = Text)]
        #[allow(dead_code)]
        struct $proxy($ty);

        impl<DB> ToSql<Text, DB> for $ty
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB> FromSql<Text, DB> for $ty
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let word = String::from_sql(bytes)?;
                let parse: fn(&str) -> Option<$ty> = $parse;
                parse(&word).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($ty), " {:?}"), word).into()
                })
            }
        }
    };
}

text_enum_column!(CommentStatus, CommentStatusColumn, CommentStatus::parse);
text_enum_column!(CommentKind, CommentKindColumn, CommentKind::parse);
text_enum_column!(BodyFormat, BodyFormatColumn, BodyFormat::parse);
text_enum_column!(MentionStatus, MentionStatusColumn, MentionStatus::parse);
text_enum_column!(BanKind, BanKindColumn, |word| BanKind::parse(word).ok());
text_enum_column!(PayloadFormat, PayloadFormatColumn, |word| {
    PayloadFormat::parse(word).ok()
});
text_enum_column!(DeliveryStatus, DeliveryStatusColumn, |word| {
    DeliveryStatus::parse(word).ok()
});

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
