//! Naming a store or a product in a request: by numeric id, by natural key
//! (store `code`, product `sku`) or by both. One resolver serves every
//! route that takes them, so the rules are the same everywhere:
//!
//! * neither given → no filter;
//! * an id that matches nothing → 404;
//! * a code or SKU that matches nothing (exact, case-sensitive) → 404;
//! * both given, each known, naming different rows → 422 on the
//!   natural-key field.

use crate::{db::Db, problem::Problem, with_db};

/// What a request names: a store or a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// `store`, keyed by `code`.
    Store,
    /// `product`, keyed by `sku`.
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

    fn noun(self) -> &'static str {
        match self {
            Self::Store => "Store",
            Self::Product => "Product",
        }
    }

    fn key_noun(self) -> &'static str {
        match self {
            Self::Store => "store code",
            Self::Product => "SKU",
        }
    }

    fn listing(self) -> &'static str {
        match self {
            Self::Store => "GET /dimensions/stores to list available stores",
            Self::Product => "GET /dimensions/products to list available products",
        }
    }
}

/// A store or product as a request names it.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    /// Which table.
    pub entity: Entity,
    /// The numeric id, when given.
    pub id: Option<i64>,
    /// The natural key (code or SKU), when given.
    pub key: Option<&'a str>,
    /// The field that names the natural key in errors (`query.store_code`,
    /// `series.0.sku`).
    pub key_field: &'a str,
}

impl<'a> KeyRef<'a> {
    /// A store named by `store_id` and/or `store_code`.
    pub fn store(id: Option<i64>, code: Option<&'a str>, key_field: &'a str) -> Self {
        Self {
            entity: Entity::Store,
            id,
            key: code,
            key_field,
        }
    }

    /// A product named by `product_id` and/or `sku`.
    pub fn product(id: Option<i64>, sku: Option<&'a str>, key_field: &'a str) -> Self {
        Self {
            entity: Entity::Product,
            id,
            key: sku,
            key_field,
        }
    }

    /// The id of the named row (`None` when nothing is named), or the
    /// 404/422 problem of the rules in the module documentation.
    pub async fn resolve(&self, db: &Db) -> Result<Option<i64>, Problem> {
        let entity = self.entity;
        let by_id =
            match self.id {
                Some(id) => Some(find(db, entity, "id", KeyValue::Id(id)).await?.ok_or_else(
                    || {
                        Problem::not_found(format!(
                            "{} {id} not found. Use {}.",
                            entity.noun(),
                            entity.listing()
                        ))
                    },
                )?),
                None => None,
            };
        let by_key = match self.key {
            Some(key) => Some(
                find(db, entity, entity.key(), KeyValue::Text(key))
                    .await?
                    .ok_or_else(|| {
                        Problem::not_found(format!(
                            "{} '{key}' not found. Use {}.",
                            capitalized(entity.key_noun()),
                            entity.listing()
                        ))
                    })?,
            ),
            None => None,
        };
        match (by_id, by_key) {
            (Some(id), Some(found)) if id != found => Err(Problem::invalid_field(
                self.key_field,
                format!(
                    "{} '{}' is {table} {found}, not {table} {id}: give one of the two, \
                     or both naming the same {table}",
                    capitalized(entity.key_noun()),
                    self.key.unwrap_or_default(),
                    table = entity.table(),
                ),
                "key_mismatch",
            )),
            (by_id, by_key) => Ok(by_id.or(by_key)),
        }
    }

    /// The id of a store or product the route requires. An id given alone
    /// is taken as it is, without a lookup (so requests naming series by id
    /// behave as they did before natural keys); a natural key is resolved
    /// by [`Self::resolve`] (404 unknown, 422 contradicting the id). Neither
    /// given → 422 `missing` on `id_field`.
    pub async fn require(&self, db: &Db, id_field: &str) -> Result<i64, Problem> {
        let missing = || {
            Problem::invalid_field(
                id_field,
                format!("Field required: give {id_field} or {}", self.key_field),
                "missing",
            )
        };
        match (self.id, self.key) {
            (Some(id), None) => Ok(id),
            (None, None) => Err(missing()),
            _ => self.resolve(db).await?.ok_or_else(missing),
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

enum KeyValue<'a> {
    Text(&'a str),
    Id(i64),
}

async fn find(
    db: &Db,
    entity: Entity,
    column: &str,
    value: KeyValue<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    let sql = format!(
        "SELECT CAST(id AS BIGINT) FROM {} WHERE {column} = $1",
        entity.table()
    );
    with_db!(db, pool => {
        let query = sqlx::query_scalar::<_, i64>(&sql);
        let query = match value {
            KeyValue::Text(text) => query.bind(text.to_owned()),
            KeyValue::Id(id) => query.bind(id),
        };
        query.fetch_optional(pool).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_key() {
        assert_eq!(capitalized(Entity::Store.key_noun()), "Store code");
        assert_eq!(capitalized(Entity::Product.key_noun()), "SKU");
        assert_eq!(capitalized(""), "");
    }
}
