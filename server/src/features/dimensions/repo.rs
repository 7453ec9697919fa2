//! SQL of the dimensions slice. Filters and ordering are assembled only from
//! the fixed fragments below; client text is always a bound parameter.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{postgres::PgRow, sqlite::SqliteRow, FromRow};

use super::schemas::{ProductResponse, StoreResponse};
use crate::{
    db::{Backend, Db},
    with_db,
};

/// Which list: decides the table, the allow-lists and the tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entity {
    Store,
    Product,
}

impl Entity {
    fn table(self) -> &'static str {
        match self {
            Self::Store => "store",
            Self::Product => "product",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Store => "code",
            Self::Product => "sku",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            Self::Store => {
                "CAST(id AS BIGINT) AS id, code, name, region, city, store_type, created_at, updated_at"
            }
            Self::Product => {
                "CAST(id AS BIGINT) AS id, sku, name, category, brand, \
                 CAST(base_price AS TEXT) AS base_price, CAST(base_cost AS TEXT) AS base_cost, \
                 created_at, updated_at"
            }
        }
    }

    /// The allow-listed sort column for `sort_by`, if it is allowed.
    pub(crate) fn sort_column(self, sort_by: &str) -> Option<&'static str> {
        let allowed: &[&'static str] = match self {
            Self::Store => &["code", "name", "region", "city", "store_type"],
            Self::Product => &["sku", "name", "category", "brand", "base_price"],
        };
        allowed.iter().copied().find(|column| *column == sort_by)
    }
}

/// An equality filter on an allow-listed column.
#[derive(Debug)]
pub(crate) struct Filter {
    pub(crate) column: &'static str,
    pub(crate) value: String,
}

/// A list request after validation.
#[derive(Debug)]
pub(crate) struct ListSpec {
    pub(crate) filters: Vec<Filter>,
    pub(crate) search: Option<String>,
    pub(crate) sort_column: Option<&'static str>,
    pub(crate) descending: bool,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
}

/// WHERE clause and its bound values (`$1…` in order of appearance).
fn where_clause(entity: Entity, backend: Backend, spec: &ListSpec) -> (String, Vec<String>) {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    for filter in &spec.filters {
        binds.push(filter.value.clone());
        parts.push(format!("{} = ${}", filter.column, binds.len()));
    }
    if let Some(term) = &spec.search {
        let pattern = format!("%{term}%");
        binds.push(pattern.clone());
        let a = binds.len();
        binds.push(pattern);
        let b = binds.len();
        let key = entity.key();
        parts.push(match backend {
            Backend::Postgres => format!("({key} ILIKE ${a} OR name ILIKE ${b})"),
            Backend::Sqlite => {
                format!("(lower({key}) LIKE lower(${a}) OR lower(name) LIKE lower(${b}))")
            }
        });
    }
    if parts.is_empty() {
        (String::new(), binds)
    } else {
        (format!(" WHERE {}", parts.join(" AND ")), binds)
    }
}

/// ORDER BY: the chosen column with PostgreSQL's NULL placement (last when
/// ascending, first when descending — spelled out so SQLite matches), then
/// the natural key ascending. Without a column: the natural key ascending.
fn order_clause(entity: Entity, spec: &ListSpec) -> String {
    // Qualified, so `base_price` means the NUMERIC column and not the TEXT
    // output column of the same name.
    let table = entity.table();
    let key = format!("{table}.{}", entity.key());
    match spec.sort_column {
        Some(column) => {
            let direction = if spec.descending {
                "DESC NULLS FIRST"
            } else {
                "ASC NULLS LAST"
            };
            if column == entity.key() {
                format!(" ORDER BY {key} {direction}")
            } else {
                format!(" ORDER BY {table}.{column} {direction}, {key} ASC")
            }
        }
        None => format!(" ORDER BY {key} ASC"),
    }
}

/// The list query and the count query.
pub(crate) fn list_sql(
    entity: Entity,
    backend: Backend,
    spec: &ListSpec,
) -> (String, String, Vec<String>) {
    let (filter, binds) = where_clause(entity, backend, spec);
    let n = binds.len();
    let list = format!(
        "SELECT {} FROM {}{}{} LIMIT ${} OFFSET ${}",
        entity.columns(),
        entity.table(),
        filter,
        order_clause(entity, spec),
        n + 1,
        n + 2
    );
    let count = format!("SELECT COUNT(*) FROM {}{}", entity.table(), filter);
    (list, count, binds)
}

/// Formats a stored money value with 2 decimals (`"12.99"`, `"3.00"`).
pub(crate) fn money_text(raw: Option<String>) -> Option<String> {
    let raw = raw?;
    match raw.trim().parse::<Decimal>() {
        Ok(value) => {
            let mut value = value
                .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven);
            value.rescale(2);
            Some(value.to_string())
        }
        Err(_) => Some(raw),
    }
}

/// A store or product response, decoded by position from the columns of
/// its [`Entity`].
pub(crate) trait DimensionRow: Sized + Send + Unpin {
    /// The entity whose columns are selected.
    const ENTITY: Entity;
    /// The selected columns as decoded.
    type Raw: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin;
    /// The response of one decoded row.
    fn from_raw(raw: Self::Raw) -> Self;
}

impl DimensionRow for StoreResponse {
    const ENTITY: Entity = Entity::Store;
    type Raw = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        DateTime<Utc>,
        DateTime<Utc>,
    );
    fn from_raw(
        (id, code, name, region, city, store_type, created_at, updated_at): Self::Raw,
    ) -> Self {
        Self {
            id,
            code,
            name,
            region,
            city,
            store_type,
            created_at,
            updated_at,
        }
    }
}

impl DimensionRow for ProductResponse {
    const ENTITY: Entity = Entity::Product;
    type Raw = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        DateTime<Utc>,
        DateTime<Utc>,
    );
    fn from_raw(
        (id, sku, name, category, brand, base_price, base_cost, created_at, updated_at): Self::Raw,
    ) -> Self {
        Self {
            id,
            sku,
            name,
            category,
            brand,
            base_price: money_text(base_price),
            base_cost: money_text(base_cost),
            created_at,
            updated_at,
        }
    }
}

async fn count(db: &Db, sql: &str, binds: &[String]) -> Result<i64, sqlx::Error> {
    with_db!(db, pool => {
        let mut query = sqlx::query_scalar::<_, i64>(sql);
        for value in binds {
            query = query.bind(value);
        }
        query.fetch_one(pool).await
    })
}

/// One page of stores or products and the total.
pub(crate) async fn list<T: DimensionRow>(
    db: &Db,
    spec: &ListSpec,
) -> Result<(Vec<T>, i64), sqlx::Error> {
    let (list, count_sql, binds) = list_sql(T::ENTITY, db.backend(), spec);
    let total = count(db, &count_sql, &binds).await?;
    let rows: Vec<T::Raw> = with_db!(db, pool => {
        let mut query = sqlx::query_as(&list);
        for value in &binds {
            query = query.bind(value);
        }
        query.bind(spec.limit).bind(spec.offset).fetch_all(pool).await?
    });
    Ok((rows.into_iter().map(T::from_raw).collect(), total))
}

/// The store or product with `id`, if any.
pub(crate) async fn get<T: DimensionRow>(db: &Db, id: i64) -> Result<Option<T>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = $1",
        T::ENTITY.columns(),
        T::ENTITY.table()
    );
    let row: Option<T::Raw> = with_db!(db, pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    Ok(row.map(T::from_raw))
}

/// Lifecycle attributes of a product: (sku, launch_date, discontinue_date).
pub(crate) type LifecycleAttributes = (String, Option<NaiveDate>, Option<NaiveDate>);

/// The SKU and lifecycle dates of the product with `id`, if any.
pub(crate) async fn product_lifecycle(
    db: &Db,
    id: i64,
) -> Result<Option<LifecycleAttributes>, sqlx::Error> {
    const SQL: &str = "SELECT sku, launch_date, discontinue_date FROM product WHERE id = $1";
    with_db!(db, pool => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(sort: Option<&'static str>, descending: bool, search: bool) -> ListSpec {
        ListSpec {
            filters: vec![Filter {
                column: "region",
                value: "North".into(),
            }],
            search: search.then(|| "ab".to_owned()),
            sort_column: sort,
            descending,
            limit: 20,
            offset: 0,
        }
    }

    #[test]
    fn sql_is_built_from_allow_listed_fragments() {
        assert_eq!(Entity::Store.sort_column("name"), Some("name"));
        assert_eq!(Entity::Store.sort_column("name; DROP TABLE store"), None);
        assert_eq!(
            Entity::Product.sort_column("base_price"),
            Some("base_price")
        );
        assert_eq!(Entity::Product.sort_column("code"), None);
        let (list, count, binds) = list_sql(
            Entity::Store,
            Backend::Postgres,
            &spec(Some("region"), true, true),
        );
        assert!(list.contains("WHERE region = $1 AND (code ILIKE $2 OR name ILIKE $3)"));
        assert!(list
            .contains("ORDER BY store.region DESC NULLS FIRST, store.code ASC LIMIT $4 OFFSET $5"));
        assert!(count.starts_with("SELECT COUNT(*) FROM store WHERE"));
        assert_eq!(binds, vec!["North", "%ab%", "%ab%"]);
        let (list, _, _) = list_sql(Entity::Product, Backend::Sqlite, &spec(None, true, true));
        assert!(list.contains("lower(sku) LIKE lower($2)"));
        assert!(list.contains("ORDER BY product.sku ASC LIMIT"));
        let (list, _, _) = list_sql(
            Entity::Product,
            Backend::Sqlite,
            &spec(Some("sku"), false, false),
        );
        assert!(list.contains("ORDER BY product.sku ASC NULLS LAST LIMIT $2 OFFSET $3"));
    }

    #[test]
    fn money_has_two_places() {
        assert_eq!(money_text(Some("12.99".into())).as_deref(), Some("12.99"));
        assert_eq!(money_text(Some("12".into())).as_deref(), Some("12.00"));
        assert_eq!(money_text(Some("12.5".into())).as_deref(), Some("12.50"));
        assert_eq!(money_text(None), None);
    }
}
