//! A series as a request body names it: the store by `store_id` and/or
//! `store_code`, the product by `product_id` and/or `sku`. Routes check the
//! names with [`SeriesNames::check`] (field rules) and resolve them once,
//! at the service boundary, to a [`SeriesKey`] with
//! [`SeriesNames::resolve`]; everything downstream works on ids.

use std::collections::{HashMap, HashSet};

use forecastlab_core::SeriesKey;

use super::keys::KeyRef;
use crate::{db::Db, extract::Violations, problem::Problem};

/// Longest store code (as the store upsert accepts it).
pub const STORE_CODE_MAX: usize = 20;

/// Longest SKU (as the product upsert accepts it).
pub const SKU_MAX: usize = 50;

/// The names of one series in a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SeriesNames<'a> {
    /// Store id.
    pub store_id: Option<i64>,
    /// Store code.
    pub store_code: Option<&'a str>,
    /// Product id.
    pub product_id: Option<i64>,
    /// Product SKU.
    pub sku: Option<&'a str>,
}

impl SeriesNames<'_> {
    /// Records the field rules under `prefix` (`""`, `series.3.`): ids in
    /// `1..=max_id`, store codes of 1–20 and SKUs of 1–50 characters.
    pub fn check(&self, v: &mut Violations, prefix: &str, max_id: i64) {
        if let Some(id) = self.store_id {
            v.range(&format!("{prefix}store_id"), id, 1, max_id);
        }
        if let Some(id) = self.product_id {
            v.range(&format!("{prefix}product_id"), id, 1, max_id);
        }
        if let Some(code) = self.store_code {
            v.length(&format!("{prefix}store_code"), code, 1, STORE_CODE_MAX);
        }
        if let Some(sku) = self.sku {
            v.length(&format!("{prefix}sku"), sku, 1, SKU_MAX);
        }
    }

    /// Requires a name for the store and one for the product (422
    /// `missing` on the id field when neither of a pair is given).
    pub fn require(&self, v: &mut Violations, prefix: &str) {
        if self.store_id.is_none() && self.store_code.is_none() {
            v.push(
                &format!("{prefix}store_id"),
                "Field required: give store_id or store_code",
                "missing",
            );
        }
        if self.product_id.is_none() && self.sku.is_none() {
            v.push(
                &format!("{prefix}product_id"),
                "Field required: give product_id or sku",
                "missing",
            );
        }
    }

    /// The ids of the named series (rules of [`KeyRef::require`]: ids
    /// alone are not looked up; unknown code or SKU → 404; contradicting
    /// names → 422 on the natural-key field; a missing name → 422). Field
    /// names in problems get `prefix` (`""`, `series.3.`).
    pub async fn resolve(&self, db: &Db, prefix: &str) -> Result<SeriesKey, Problem> {
        let store_field = format!("{prefix}store_code");
        let sku_field = format!("{prefix}sku");
        let store_id = KeyRef::store(self.store_id, self.store_code, &store_field)
            .require(db, &format!("{prefix}store_id"))
            .await?;
        let product_id = KeyRef::product(self.product_id, self.sku, &sku_field)
            .require(db, &format!("{prefix}product_id"))
            .await?;
        Ok(SeriesKey {
            store_id,
            product_id,
        })
    }
}

/// Resolves a list of series named under `field` (`series`), entry `i`
/// reporting problems as `series.i.…`, to the distinct series in the order
/// first named (naming one series twice, by ids and by keys alike, counts
/// once). Each distinct name is looked up once, so a long list naming a
/// few stores by code costs a few queries.
pub async fn resolve_all(
    db: &Db,
    field: &str,
    names: impl IntoIterator<Item = SeriesNames<'_>>,
) -> Result<Vec<SeriesKey>, Problem> {
    let mut stores = Cache::new();
    let mut products = Cache::new();
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    for (i, names) in names.into_iter().enumerate() {
        let prefix = format!("{field}.{i}.");
        let store_field = format!("{prefix}store_code");
        let sku_field = format!("{prefix}sku");
        let store_id = cached(
            db,
            &mut stores,
            KeyRef::store(names.store_id, names.store_code, &store_field),
            &format!("{prefix}store_id"),
        )
        .await?;
        let product_id = cached(
            db,
            &mut products,
            KeyRef::product(names.product_id, names.sku, &sku_field),
            &format!("{prefix}product_id"),
        )
        .await?;
        let key = SeriesKey {
            store_id,
            product_id,
        };
        if seen.insert(key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Ids already resolved in one request, by (id given, natural key given).
type Cache = HashMap<(Option<i64>, String), i64>;

async fn cached(
    db: &Db,
    cache: &mut Cache,
    name: KeyRef<'_>,
    id_field: &str,
) -> Result<i64, Problem> {
    let Some(key) = name.key else {
        return name.require(db, id_field).await;
    };
    if let Some(id) = cache.get(&(name.id, key.to_owned())) {
        return Ok(*id);
    }
    let id = name.require(db, id_field).await?;
    cache.insert((name.id, key.to_owned()), id);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: SeriesNames<'_>, required: bool) -> Vec<String> {
        let mut v = Violations::default();
        names.check(&mut v, "series.0.", 10);
        if required {
            names.require(&mut v, "series.0.");
        }
        v.field_names()
    }

    #[test]
    fn names_follow_the_dimension_rules() {
        let ok = SeriesNames {
            store_code: Some("S1"),
            product_id: Some(3),
            ..SeriesNames::default()
        };
        assert!(fields(ok, true).is_empty());
        let long = "x".repeat(STORE_CODE_MAX + 1);
        let bad = SeriesNames {
            store_id: Some(11),
            store_code: Some(&long),
            product_id: Some(0),
            sku: Some(""),
        };
        assert_eq!(
            fields(bad, true),
            [
                "series.0.store_id",
                "series.0.product_id",
                "series.0.store_code",
                "series.0.sku"
            ]
        );
        let sku = "x".repeat(SKU_MAX);
        let at_limit = SeriesNames {
            store_code: Some("S"),
            sku: Some(&sku),
            ..SeriesNames::default()
        };
        assert!(fields(at_limit, true).is_empty());
    }

    #[test]
    fn a_series_needs_both_names_when_required() {
        let empty = SeriesNames::default();
        assert!(fields(empty, false).is_empty());
        assert_eq!(
            fields(empty, true),
            ["series.0.store_id", "series.0.product_id"]
        );
        let store_only = SeriesNames {
            store_id: Some(1),
            ..SeriesNames::default()
        };
        assert_eq!(fields(store_only, true), ["series.0.product_id"]);
    }
}
