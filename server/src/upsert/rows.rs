//! The rows of each bulk upsert, read alike from a JSON body and from a CSV
//! record (serde), and their field checks.
//!
//! Checks take a field prefix (`stores.3` for a JSON body, empty for a CSV
//! record) so the same rules name the same fields everywhere.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::fields::{
    at, count_schema, flag_schema, lax_bool, lax_int, max_len, money, optional_count_schema,
    or_blank, price_schema, total_schema, MAX_PRICE, MAX_TOTAL,
};
use crate::extract::Violations;

/// One store, keyed by `code`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub(crate) struct StoreRow {
    /// Natural key (1..20 characters, exact, case-sensitive).
    #[schema(min_length = 1, max_length = 20)]
    pub(crate) code: String,
    /// Display name (1..100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub(crate) name: String,
    /// Region (at most 50 characters).
    #[schema(max_length = 50)]
    pub(crate) region: Option<String>,
    /// City (at most 50 characters).
    #[schema(max_length = 50)]
    pub(crate) city: Option<String>,
    /// Store type, e.g. supermarket (at most 30 characters).
    #[schema(max_length = 30)]
    pub(crate) store_type: Option<String>,
}

impl StoreRow {
    /// Records this row's violations.
    pub(crate) fn check(&self, prefix: &str, v: &mut Violations) {
        v.length(&at(prefix, "code"), &self.code, 1, 20);
        v.length(&at(prefix, "name"), &self.name, 1, 100);
        max_len(v, &at(prefix, "region"), self.region.as_deref(), 50);
        max_len(v, &at(prefix, "city"), self.city.as_deref(), 50);
        max_len(v, &at(prefix, "store_type"), self.store_type.as_deref(), 30);
    }
}

/// One product, keyed by `sku`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub(crate) struct ProductRow {
    /// Natural key (1..50 characters, exact, case-sensitive).
    #[schema(min_length = 1, max_length = 50)]
    pub(crate) sku: String,
    /// Display name (1..200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub(crate) name: String,
    /// Category (at most 100 characters).
    #[schema(max_length = 100)]
    pub(crate) category: Option<String>,
    /// Subcategory (at most 100 characters).
    #[schema(max_length = 100)]
    pub(crate) subcategory: Option<String>,
    /// Brand (at most 100 characters).
    #[schema(max_length = 100)]
    pub(crate) brand: Option<String>,
    /// List price (>= 0, 2 decimal places); JSON number or numeric string.
    #[schema(schema_with = optional_price_schema)]
    pub(crate) base_price: Option<Decimal>,
    /// Unit cost (>= 0, 2 decimal places); JSON number or numeric string.
    #[schema(schema_with = optional_price_schema)]
    pub(crate) base_cost: Option<Decimal>,
    /// First day on sale.
    #[schema(value_type = Option<String>, format = Date)]
    pub(crate) launch_date: Option<NaiveDate>,
    /// Last day on sale (not before `launch_date`).
    #[schema(value_type = Option<String>, format = Date)]
    pub(crate) discontinue_date: Option<NaiveDate>,
}

fn optional_price_schema() -> utoipa::openapi::schema::Schema {
    price_schema(
        true,
        "Amount (>= 0, at most 2 decimal places, <= 99999999.99); JSON number, numeric string or null",
    )
}

impl ProductRow {
    /// Records this row's violations.
    pub(crate) fn check(&self, prefix: &str, v: &mut Violations) {
        v.length(&at(prefix, "sku"), &self.sku, 1, 50);
        v.length(&at(prefix, "name"), &self.name, 1, 200);
        max_len(v, &at(prefix, "category"), self.category.as_deref(), 100);
        max_len(
            v,
            &at(prefix, "subcategory"),
            self.subcategory.as_deref(),
            100,
        );
        max_len(v, &at(prefix, "brand"), self.brand.as_deref(), 100);
        if let Some(price) = self.base_price {
            money(v, &at(prefix, "base_price"), price, MAX_PRICE);
        }
        if let Some(cost) = self.base_cost {
            money(v, &at(prefix, "base_cost"), cost, MAX_PRICE);
        }
        if let (Some(launch), Some(end)) = (self.launch_date, self.discontinue_date) {
            if end < launch {
                v.push(
                    &at(prefix, "discontinue_date"),
                    "discontinue_date must not be before launch_date",
                    "date_order",
                );
            }
        }
    }
}

/// One calendar day, keyed by `date`; day of week, month, quarter and year
/// are derived from the date.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub(crate) struct CalendarRow {
    /// The day.
    #[schema(value_type = String, format = Date)]
    pub(crate) date: NaiveDate,
    /// Whether the day is a holiday (default false).
    #[serde(default, deserialize_with = "lax_bool")]
    #[schema(schema_with = flag_schema)]
    pub(crate) is_holiday: Option<bool>,
    /// Holiday name (at most 100 characters; only with `is_holiday` true).
    #[schema(max_length = 100)]
    pub(crate) holiday_name: Option<String>,
}

impl CalendarRow {
    /// Records this row's violations.
    pub(crate) fn check(&self, prefix: &str, v: &mut Violations) {
        max_len(
            v,
            &at(prefix, "holiday_name"),
            self.holiday_name.as_deref(),
            100,
        );
        if self.holiday_name.is_some() && self.is_holiday != Some(true) {
            v.push(
                &at(prefix, "holiday_name"),
                "holiday_name is only allowed when is_holiday is true",
                "holiday_name_without_holiday",
            );
        }
    }
}

/// Promotion kinds (`pct_off` and `markdown` take no members; `bogo` and
/// `bundle` need `bundle_member_skus`).
pub(crate) const PROMOTION_KINDS: [&str; 4] = ["pct_off", "markdown", "bogo", "bundle"];

/// One promotion, keyed by (`sku`, `store_code`, `name`, `start_date`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub(crate) struct PromotionRow {
    /// The promoted product's SKU.
    #[schema(min_length = 1, max_length = 50)]
    pub(crate) sku: String,
    /// The store's code; absent for a chain-wide promotion.
    #[schema(min_length = 1, max_length = 20)]
    pub(crate) store_code: Option<String>,
    /// Promotion name (1..200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub(crate) name: String,
    /// `pct_off` (default), `markdown`, `bogo` or `bundle`.
    #[schema(value_type = Option<String>, pattern = "^(pct_off|markdown|bogo|bundle)$")]
    pub(crate) kind: Option<String>,
    /// Fractional discount in 0..1 (at most 4 decimal places).
    #[schema(value_type = Option<f64>, minimum = 0, maximum = 1)]
    pub(crate) discount_pct: Option<Decimal>,
    /// Absolute discount (>= 0, 2 decimal places).
    #[schema(schema_with = optional_price_schema)]
    pub(crate) discount_amount: Option<Decimal>,
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub(crate) start_date: NaiveDate,
    /// Last day (not before `start_date`).
    #[schema(value_type = String, format = Date)]
    pub(crate) end_date: NaiveDate,
    /// SKUs of the bundle members (`bogo` and `bundle` only): a JSON list,
    /// or in CSV one cell with the SKUs separated by `|`.
    #[serde(default, deserialize_with = "sku_list")]
    #[schema(value_type = Option<Vec<String>>, max_items = 50)]
    pub(crate) bundle_member_skus: Option<Vec<String>>,
}

/// A list of SKUs: a JSON array or a `|`-separated string.
fn sku_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        Text(String),
    }
    Ok(match Option::<Raw>::deserialize(deserializer)? {
        None => None,
        Some(Raw::List(list)) => Some(list),
        Some(Raw::Text(text)) if text.trim().is_empty() => None,
        Some(Raw::Text(text)) => Some(text.split('|').map(|s| s.trim().to_owned()).collect()),
    })
}

impl PromotionRow {
    /// The kind, `pct_off` when absent.
    pub(crate) fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("pct_off")
    }

    /// Records this row's violations.
    pub(crate) fn check(&self, prefix: &str, v: &mut Violations) {
        v.length(&at(prefix, "sku"), &self.sku, 1, 50);
        if let Some(code) = &self.store_code {
            v.length(&at(prefix, "store_code"), code, 1, 20);
        }
        v.length(&at(prefix, "name"), &self.name, 1, 200);
        v.one_of(&at(prefix, "kind"), self.kind(), &PROMOTION_KINDS);
        if let Some(pct) = self.discount_pct {
            if pct.is_sign_negative() && !pct.is_zero() || pct > Decimal::ONE {
                v.push(
                    &at(prefix, "discount_pct"),
                    "Input should be between 0 and 1",
                    "range",
                );
            }
            if pct.normalize().scale() > 4 {
                v.push(
                    &at(prefix, "discount_pct"),
                    "Decimal input should have no more than 4 decimal places",
                    "decimal_max_places",
                );
            }
        }
        if let Some(amount) = self.discount_amount {
            money(v, &at(prefix, "discount_amount"), amount, MAX_PRICE);
        }
        if self.end_date < self.start_date {
            v.push(
                &at(prefix, "end_date"),
                "end_date must not be before start_date",
                "date_order",
            );
        }
        let needs_members = matches!(self.kind(), "bogo" | "bundle");
        match &self.bundle_member_skus {
            None if needs_members => v.push(
                &at(prefix, "bundle_member_skus"),
                "bogo and bundle promotions need bundle_member_skus",
                "missing",
            ),
            Some(_) if !needs_members => v.push(
                &at(prefix, "bundle_member_skus"),
                "only bogo and bundle promotions take bundle_member_skus",
                "unexpected",
            ),
            Some(members) => {
                if members.is_empty() || members.len() > 50 {
                    v.push(
                        &at(prefix, "bundle_member_skus"),
                        "List should have 1 to 50 items",
                        "length",
                    );
                }
                for (i, sku) in members.iter().enumerate() {
                    v.length(&at(prefix, &format!("bundle_member_skus.{i}")), sku, 1, 50);
                }
            }
            None => {}
        }
    }
}

/// One price period, keyed by (`sku`, `store_code`, `valid_from`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub(crate) struct PriceRow {
    /// The product's SKU.
    #[schema(min_length = 1, max_length = 50)]
    pub(crate) sku: String,
    /// The store's code; absent for a chain-wide price.
    #[schema(min_length = 1, max_length = 20)]
    pub(crate) store_code: Option<String>,
    /// The price (>= 0, 2 decimal places); JSON number or numeric string.
    #[schema(schema_with = required_price_schema)]
    pub(crate) price: Decimal,
    /// First day the price applies.
    #[schema(value_type = String, format = Date)]
    pub(crate) valid_from: NaiveDate,
    /// Last day (open-ended when absent; not before `valid_from`).
    #[schema(value_type = Option<String>, format = Date)]
    pub(crate) valid_to: Option<NaiveDate>,
}

fn required_price_schema() -> utoipa::openapi::schema::Schema {
    price_schema(
        false,
        "Price (>= 0, at most 2 decimal places, <= 99999999.99); JSON number or numeric string",
    )
}

impl PriceRow {
    /// Records this row's violations.
    pub(crate) fn check(&self, prefix: &str, v: &mut Violations) {
        v.length(&at(prefix, "sku"), &self.sku, 1, 50);
        if let Some(code) = &self.store_code {
            v.length(&at(prefix, "store_code"), code, 1, 20);
        }
        money(v, &at(prefix, "price"), self.price, MAX_PRICE);
        if self.valid_to.is_some_and(|to| to < self.valid_from) {
            v.push(
                &at(prefix, "valid_to"),
                "valid_to must not be before valid_from",
                "date_order",
            );
        }
    }
}

/// One daily inventory snapshot, keyed by (`date`, `store_code`, `sku`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub(crate) struct InventoryRow {
    /// The day (added to the calendar when missing).
    #[schema(value_type = String, format = Date)]
    pub(crate) date: NaiveDate,
    /// The store's code.
    #[schema(min_length = 1, max_length = 20)]
    pub(crate) store_code: String,
    /// The product's SKU.
    #[schema(min_length = 1, max_length = 50)]
    pub(crate) sku: String,
    /// Units on hand at close.
    #[serde(deserialize_with = "lax_int")]
    #[schema(schema_with = count_schema)]
    pub(crate) on_hand_qty: i64,
    /// Units on order (default 0).
    #[serde(default, deserialize_with = "lax_opt_int")]
    #[schema(schema_with = optional_count_schema)]
    pub(crate) on_order_qty: Option<i64>,
    /// Whether the product was out of stock (default: `on_hand_qty` is 0).
    #[serde(default, deserialize_with = "lax_bool")]
    #[schema(schema_with = flag_schema)]
    pub(crate) is_stockout: Option<bool>,
}

/// [`lax_int`] for an optional field; an empty cell or `null` is absent.
fn lax_opt_int<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    use serde_json::Value;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(value) => lax_int(value).map(Some).map_err(D::Error::custom),
    }
}

impl InventoryRow {
    /// Records this row's violations.
    pub(crate) fn check(&self, prefix: &str, v: &mut Violations) {
        v.length(&at(prefix, "store_code"), &self.store_code, 1, 20);
        v.length(&at(prefix, "sku"), &self.sku, 1, 50);
        let max = i64::from(i32::MAX);
        v.range(&at(prefix, "on_hand_qty"), self.on_hand_qty, 0, max);
        if let Some(on_order) = self.on_order_qty {
            v.range(&at(prefix, "on_order_qty"), on_order, 0, max);
        }
    }
}

/// One daily sales row keyed by natural keys. Prices are optional (data
/// without prices is common): an absent unit price is the product's base
/// price, else missing; an absent total is quantity × unit price, else
/// missing ([`super::sales::priced`]).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub(crate) struct SalesDailyRow {
    /// Sales date (added to the calendar, not as a holiday, when missing).
    #[schema(value_type = String, format = Date, example = "2024-01-15")]
    pub(crate) date: NaiveDate,
    /// Store code (1..20 characters, exact match on `store.code`).
    #[schema(min_length = 1, max_length = 20)]
    pub(crate) store_code: String,
    /// Product SKU (1..50 characters, exact match on `product.sku`).
    #[schema(min_length = 1, max_length = 50)]
    pub(crate) sku: String,
    /// Units sold (>= 0). A numeric string such as `"10"` is accepted.
    #[serde(deserialize_with = "lax_int")]
    #[schema(schema_with = count_schema)]
    pub(crate) quantity: i64,
    /// Unit price (>= 0, at most 2 decimal places); JSON number or numeric
    /// string. Absent, null or an empty string: the product's `base_price`,
    /// or no price when the product has none.
    #[serde(default, deserialize_with = "optional_money")]
    #[schema(schema_with = unit_price_schema)]
    pub(crate) unit_price: Option<Decimal>,
    /// Row total (>= 0, at most 2 decimal places); not checked against
    /// quantity × unit_price. JSON number or numeric string. Absent, null or
    /// an empty string: quantity × unit price, or no total without a price.
    #[serde(default, deserialize_with = "optional_money")]
    #[schema(schema_with = total_amount_schema)]
    pub(crate) total_amount: Option<Decimal>,
}

/// An optional amount: a JSON number, a numeric string, or null / an empty
/// string (a blank CSV cell) for none.
fn optional_money<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    use serde::de::Error;
    use serde_json::Value;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(value) => <Decimal as Deserialize>::deserialize(value)
            .map(Some)
            .map_err(D::Error::custom),
    }
}

fn unit_price_schema() -> utoipa::openapi::schema::Schema {
    or_blank(price_schema(
        true,
        "Unit price (>= 0, at most 2 decimal places, <= 99999999.99); JSON number or numeric string. \
         Absent, null or blank: the product's base_price, else no price (left missing, never invented)",
    ))
}

fn total_amount_schema() -> utoipa::openapi::schema::Schema {
    or_blank(total_schema(
        true,
        "Row total (>= 0, at most 2 decimal places, <= 9999999999.99); JSON number or numeric string. \
         Absent, null or blank: quantity × unit price, else no total",
    ))
}

impl SalesDailyRow {
    /// Records this row's violations, including a computed total (quantity
    /// × unit price) that would not fit the column.
    pub(crate) fn check(&self, prefix: &str, v: &mut Violations) {
        v.length(&at(prefix, "store_code"), &self.store_code, 1, 20);
        v.length(&at(prefix, "sku"), &self.sku, 1, 50);
        v.range(
            &at(prefix, "quantity"),
            self.quantity,
            0,
            i64::from(i32::MAX),
        );
        if let Some(price) = self.unit_price {
            money(v, &at(prefix, "unit_price"), price, MAX_PRICE);
        }
        match (self.total_amount, self.unit_price) {
            (Some(total), _) => money(v, &at(prefix, "total_amount"), total, MAX_TOTAL),
            (None, Some(price))
                if price
                    .checked_mul(Decimal::from(self.quantity.max(0)))
                    .is_none_or(|total| total > MAX_TOTAL) =>
            {
                v.push(
                    &at(prefix, "total_amount"),
                    format!(
                        "quantity × unit_price is over {MAX_TOTAL}; give total_amount explicitly"
                    ),
                    "less_than_equal",
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(check: impl Fn(&mut Violations)) -> Vec<String> {
        let mut v = Violations::default();
        check(&mut v);
        v.field_names()
    }

    #[test]
    fn product_dates_must_be_in_order() {
        let row: ProductRow = serde_json::from_str(
            r#"{"sku":"A","name":"A","launch_date":"2024-02-01","discontinue_date":"2024-01-01"}"#,
        )
        .unwrap();
        assert_eq!(
            errors(|v| row.check("products.1", v)),
            ["products.1.discontinue_date"]
        );
    }

    #[test]
    fn promotion_members_follow_the_kind() {
        let bundle: PromotionRow = serde_json::from_str(
            r#"{"sku":"A","name":"B","kind":"bundle","start_date":"2024-01-01","end_date":"2024-01-02"}"#,
        )
        .unwrap();
        assert_eq!(errors(|v| bundle.check("", v)), ["bundle_member_skus"]);
        let pct: PromotionRow = serde_json::from_str(
            r#"{"sku":"A","name":"B","discount_pct":1.5,"start_date":"2024-01-02","end_date":"2024-01-01","bundle_member_skus":"X|Y"}"#,
        )
        .unwrap();
        assert_eq!(
            errors(|v| pct.check("", v)),
            ["discount_pct", "end_date", "bundle_member_skus"]
        );
    }

    #[test]
    fn inventory_optional_counts_accept_empty_cells() {
        let row: InventoryRow = serde_json::from_str(
            r#"{"date":"2024-01-01","store_code":"S1","sku":"A","on_hand_qty":"4","on_order_qty":""}"#,
        )
        .unwrap();
        assert_eq!(row.on_hand_qty, 4);
        assert_eq!(row.on_order_qty, None);
        let negative: InventoryRow = serde_json::from_str(
            r#"{"date":"2024-01-01","store_code":"S1","sku":"A","on_hand_qty":-1,"on_order_qty":"2"}"#,
        )
        .unwrap();
        assert_eq!(negative.on_order_qty, Some(2));
        assert_eq!(errors(|v| negative.check("", v)), ["on_hand_qty"]);
    }
}
