//! Decoding the rows of a page that joins its relations, by position.
//!
//! sea-orm's derived decoding looks each column up by name (a prefixed name formatted per
//! column) and builds an error message for every NULL it meets in an optional column; on a
//! page of 20 wishes with their grid, community and people that was about a fifth of the
//! server's work per request (benchmark profile). These decoders read the columns in the
//! order the page selects them (each entity's columns in declaration order, as
//! `Column::iter()` gives them), through sqlx directly. The order is checked by the tests
//! below against the entities' own column lists.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{community, grid, user, wish};
use sea_orm::{ActiveEnum, DbErr, QueryResult, sqlx, sqlx::Row};

/// Reads a row's columns one after the other.
pub struct Cursor<'a> {
    row: Source<'a>,
    at: usize,
}

/// The row as its database gave it (looked up once, not for each value).
enum Source<'a> {
    Postgres(&'a sqlx::postgres::PgRow),
    Sqlite(&'a sqlx::sqlite::SqliteRow),
    Unknown,
}

/// A value both databases decode the same way.
pub trait Column:
    for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
    + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + for<'r> sqlx::Decode<'r, sqlx::Sqlite>
        + sqlx::Type<sqlx::Sqlite>
{
}

impl<'a> Cursor<'a> {
    pub fn new(row: &'a QueryResult) -> Self {
        let row = if let Some(r) = row.try_as_pg_row() {
            Source::Postgres(r)
        } else if let Some(r) = row.try_as_sqlite_row() {
            Source::Sqlite(r)
        } else {
            Source::Unknown
        };
        Self { row, at: 0 }
    }

    fn get<T: Column>(&self, i: usize) -> Result<T, DbErr> {
        let decoded = match self.row {
            Source::Postgres(r) => {
                // Without sqlx's per-value type check (a copy and a comparison of type
                // descriptions, for each of a page's ~1,300 values). The columns are those of
                // the entities, in their order (the test below), decoded into the entities' own
                // field types, which sea-orm's checked reads of the same tables use everywhere
                // else; the integration tests compare every joined value of a page with the
                // wish read alone.
                r.try_get_unchecked(i)
            }
            Source::Sqlite(r) => r.try_get(i),
            Source::Unknown => return Err(DbErr::Custom("a row of an unknown database".into())),
        };
        decoded.map_err(|e| DbErr::Type(format!("column {i}: {e}")))
    }

    /// The next column.
    pub fn read<T: Column>(&mut self) -> Result<T, DbErr> {
        let v = self.get(self.at)?;
        self.at += 1;
        Ok(v)
    }

    /// The next column, a stored enum.
    pub fn enumerated<E: ActiveEnum<Value = String>>(&mut self) -> Result<E, DbErr> {
        let v: String = self.read()?;
        E::try_from_value(&v)
    }

    /// Whether the next column (the id of a LEFT JOINed row) is NULL: the row is absent.
    pub fn absent(&self) -> Result<bool, DbErr> {
        Ok(self.get::<Option<i64>>(self.at)?.is_none())
    }

    /// Passes over `n` columns.
    pub fn skip(&mut self, n: usize) {
        self.at += n;
    }
}

/// Columns of [`wish::Model`] in the order [`wish_model`] reads them.
pub const WISH_COLUMNS: [&str; 28] = [
    "id",
    "community_id",
    "grid_id",
    "title",
    "description",
    "category",
    "submitted_by",
    "beneficiary_user_id",
    "beneficiary_name",
    "beneficiary_phone",
    "beneficiary_address",
    "estimated_value",
    "deadline",
    "status",
    "claimant_id",
    "review_reason",
    "reviewed_by",
    "reviewed_at",
    "fulfil_note",
    "fulfil_photos",
    "fulfilled_at",
    "rating",
    "feedback",
    "confirmed_by",
    "confirmed_at",
    "cancel_reason",
    "created_at",
    "updated_at",
];

pub fn wish_model(c: &mut Cursor<'_>) -> Result<wish::Model, DbErr> {
    Ok(wish::Model {
        id: c.read()?,
        community_id: c.read()?,
        grid_id: c.read()?,
        title: c.read()?,
        description: c.read()?,
        category: c.enumerated()?,
        submitted_by: c.read()?,
        beneficiary_user_id: c.read()?,
        beneficiary_name: c.read()?,
        beneficiary_phone: c.read()?,
        beneficiary_address: c.read()?,
        estimated_value: c.read()?,
        deadline: c.read::<Option<NaiveDate>>()?,
        status: c.enumerated()?,
        claimant_id: c.read()?,
        review_reason: c.read()?,
        reviewed_by: c.read()?,
        reviewed_at: c.read::<Option<DateTime<Utc>>>()?,
        fulfil_note: c.read()?,
        fulfil_photos: c.read()?,
        fulfilled_at: c.read::<Option<DateTime<Utc>>>()?,
        rating: c.read()?,
        feedback: c.read()?,
        confirmed_by: c.read()?,
        confirmed_at: c.read::<Option<DateTime<Utc>>>()?,
        cancel_reason: c.read()?,
        created_at: c.read::<DateTime<Utc>>()?,
        updated_at: c.read::<DateTime<Utc>>()?,
    })
}

/// Columns of [`grid::Model`] in the order [`grid_model`] reads them.
pub const GRID_COLUMNS: [&str; 8] = [
    "id",
    "community_id",
    "parent_id",
    "name",
    "kind",
    "households",
    "description",
    "created_at",
];

/// A LEFT JOINed grid (`None`: absent, its columns passed over).
pub fn grid_model(c: &mut Cursor<'_>) -> Result<Option<grid::Model>, DbErr> {
    if c.absent()? {
        c.skip(GRID_COLUMNS.len());
        return Ok(None);
    }
    Ok(Some(grid::Model {
        id: c.read()?,
        community_id: c.read()?,
        parent_id: c.read()?,
        name: c.read()?,
        kind: c.enumerated()?,
        households: c.read()?,
        description: c.read()?,
        created_at: c.read::<DateTime<Utc>>()?,
    }))
}

/// Columns of [`community::Model`] in the order [`community_model`] reads them.
pub const COMMUNITY_COLUMNS: [&str; 6] =
    ["id", "street_id", "name", "phone", "address", "created_at"];

/// A LEFT JOINed community (`None`: absent, its columns passed over).
pub fn community_model(c: &mut Cursor<'_>) -> Result<Option<community::Model>, DbErr> {
    if c.absent()? {
        c.skip(COMMUNITY_COLUMNS.len());
        return Ok(None);
    }
    Ok(Some(community::Model {
        id: c.read()?,
        street_id: c.read()?,
        name: c.read()?,
        phone: c.read()?,
        address: c.read()?,
        created_at: c.read::<DateTime<Utc>>()?,
    }))
}

/// Columns of [`user::Model`] in the order [`user_model`] reads them.
pub const USER_COLUMNS: [&str; 12] = [
    "id",
    "username",
    "display_name",
    "phone",
    "avatar_url",
    "password_hash",
    "active",
    "created_at",
    "token_version",
    "auth_stamp",
    "must_change_password",
    "erased_at",
];

/// A LEFT JOINed user (`None`: absent, its columns passed over).
pub fn user_model(c: &mut Cursor<'_>) -> Result<Option<user::Model>, DbErr> {
    if c.absent()? {
        c.skip(USER_COLUMNS.len());
        return Ok(None);
    }
    Ok(Some(user::Model {
        id: c.read()?,
        username: c.read()?,
        display_name: c.read()?,
        phone: c.read()?,
        avatar_url: c.read()?,
        password_hash: c.read()?,
        active: c.read()?,
        created_at: c.read::<DateTime<Utc>>()?,
        token_version: c.read()?,
        auth_stamp: c.read()?,
        must_change_password: c.read()?,
        erased_at: c.read::<Option<DateTime<Utc>>>()?,
    }))
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    fn columns<E: EntityTrait>() -> Vec<&'static str>
    where
        E::Column: IdenStatic,
    {
        E::Column::iter().map(|c| c.as_str()).collect()
    }

    /// The decoders read the columns in the order the entities declare (and a page selects)
    /// them: a column added to an entity, or moved, fails here before it reaches a page.
    #[test]
    fn the_decoders_read_the_entities_columns_in_their_order() {
        assert_eq!(columns::<entity::wish::Entity>(), super::WISH_COLUMNS);
        assert_eq!(columns::<entity::grid::Entity>(), super::GRID_COLUMNS);
        assert_eq!(
            columns::<entity::community::Entity>(),
            super::COMMUNITY_COLUMNS
        );
        assert_eq!(columns::<entity::user::Entity>(), super::USER_COLUMNS);
    }
}
