//! The [`Table`] of each bulk upsert: natural key, keys to resolve and the
//! resolved JSON row its write statement reads.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::{
    keys::{day_json, KeyCache},
    rows::{CalendarRow, InventoryRow, PriceRow, ProductRow, PromotionRow, StoreRow},
    write::{self, Target},
    RowError, Table,
};
use crate::{db::Db, extract::Violations};

/// Joins key parts with a separator no key contains.
fn key(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn store_id(keys: &KeyCache, code: &str) -> Result<i32, RowError> {
    keys.store(code)
        .ok_or_else(|| RowError::unknown_store("store_code", code))
}

fn product_id(keys: &KeyCache, field: &str, sku: &str) -> Result<i32, RowError> {
    keys.product(sku)
        .ok_or_else(|| RowError::unknown_product(field, sku))
}

/// `store` by `code`.
#[derive(Debug)]
pub(crate) struct Stores;

impl Table for Stores {
    type Row = StoreRow;
    const LIST: &'static str = "stores";
    fn check(row: &StoreRow, prefix: &str, v: &mut Violations) {
        row.check(prefix, v);
    }
    fn key(row: &StoreRow) -> String {
        row.code.clone()
    }
    fn codes(_: &StoreRow) -> Vec<&str> {
        Vec::new()
    }
    fn skus(_: &StoreRow) -> Vec<&str> {
        Vec::new()
    }
    fn day(_: &StoreRow) -> Option<NaiveDate> {
        None
    }
    type Resolved = Value;
    fn resolve(row: &StoreRow, _: &KeyCache) -> Result<Value, RowError> {
        Ok(
            json!({"code": row.code, "name": row.name, "region": row.region,
                  "city": row.city, "store_type": row.store_type}),
        )
    }
    async fn write(db: &Db, rows: &[Value]) -> Result<u64, sqlx::Error> {
        write::upsert(db, Target::Stores, rows).await
    }
}

/// `product` by `sku`.
#[derive(Debug)]
pub(crate) struct Products;

impl Table for Products {
    type Row = ProductRow;
    const LIST: &'static str = "products";
    fn check(row: &ProductRow, prefix: &str, v: &mut Violations) {
        row.check(prefix, v);
    }
    fn key(row: &ProductRow) -> String {
        row.sku.clone()
    }
    fn codes(_: &ProductRow) -> Vec<&str> {
        Vec::new()
    }
    fn skus(_: &ProductRow) -> Vec<&str> {
        Vec::new()
    }
    fn day(_: &ProductRow) -> Option<NaiveDate> {
        None
    }
    type Resolved = Value;
    fn resolve(row: &ProductRow, _: &KeyCache) -> Result<Value, RowError> {
        Ok(
            json!({"sku": row.sku, "name": row.name, "category": row.category,
                  "subcategory": row.subcategory, "brand": row.brand,
                  "base_price": row.base_price, "base_cost": row.base_cost,
                  "launch_date": row.launch_date.map(iso),
                  "discontinue_date": row.discontinue_date.map(iso)}),
        )
    }
    async fn write(db: &Db, rows: &[Value]) -> Result<u64, sqlx::Error> {
        write::upsert(db, Target::Products, rows).await
    }
}

/// `calendar` by `date`.
#[derive(Debug)]
pub(crate) struct Calendar;

impl Table for Calendar {
    type Row = CalendarRow;
    const LIST: &'static str = "days";
    fn check(row: &CalendarRow, prefix: &str, v: &mut Violations) {
        row.check(prefix, v);
    }
    fn key(row: &CalendarRow) -> String {
        iso(row.date)
    }
    fn codes(_: &CalendarRow) -> Vec<&str> {
        Vec::new()
    }
    fn skus(_: &CalendarRow) -> Vec<&str> {
        Vec::new()
    }
    fn day(_: &CalendarRow) -> Option<NaiveDate> {
        // The row is the day itself; it is written, not pre-created.
        None
    }
    type Resolved = Value;
    fn resolve(row: &CalendarRow, _: &KeyCache) -> Result<Value, RowError> {
        Ok(day_json(
            row.date,
            row.is_holiday.unwrap_or(false),
            row.holiday_name.as_deref(),
        ))
    }
    async fn write(db: &Db, rows: &[Value]) -> Result<u64, sqlx::Error> {
        write::upsert(db, Target::Calendar, rows).await
    }
}

/// `inventory_snapshot_daily` by (date, store code, SKU).
#[derive(Debug)]
pub(crate) struct Inventory;

impl Table for Inventory {
    type Row = InventoryRow;
    const LIST: &'static str = "records";
    fn check(row: &InventoryRow, prefix: &str, v: &mut Violations) {
        row.check(prefix, v);
    }
    fn key(row: &InventoryRow) -> String {
        key(&[&iso(row.date), &row.store_code, &row.sku])
    }
    fn codes(row: &InventoryRow) -> Vec<&str> {
        vec![&row.store_code]
    }
    fn skus(row: &InventoryRow) -> Vec<&str> {
        vec![&row.sku]
    }
    fn day(row: &InventoryRow) -> Option<NaiveDate> {
        Some(row.date)
    }
    type Resolved = Value;
    fn resolve(row: &InventoryRow, keys: &KeyCache) -> Result<Value, RowError> {
        let store_id = store_id(keys, &row.store_code)?;
        let product_id = product_id(keys, "sku", &row.sku)?;
        Ok(
            json!({"date": iso(row.date), "store_id": store_id, "product_id": product_id,
                  "on_hand_qty": row.on_hand_qty, "on_order_qty": row.on_order_qty.unwrap_or(0),
                  "is_stockout": row.is_stockout.unwrap_or(row.on_hand_qty == 0)}),
        )
    }
    async fn write(db: &Db, rows: &[Value]) -> Result<u64, sqlx::Error> {
        write::upsert(db, Target::Inventory, rows).await
    }
}

/// The store id of an optional code (chain-wide when absent).
fn optional_store(keys: &KeyCache, code: Option<&str>) -> Result<Option<i32>, RowError> {
    code.map(|code| store_id(keys, code)).transpose()
}

/// `promotion` by (SKU, store code, name, start date).
#[derive(Debug)]
pub(crate) struct Promotions;

impl Table for Promotions {
    type Row = PromotionRow;
    const LIST: &'static str = "records";
    fn check(row: &PromotionRow, prefix: &str, v: &mut Violations) {
        row.check(prefix, v);
    }
    fn key(row: &PromotionRow) -> String {
        key(&[
            &row.sku,
            row.store_code.as_deref().unwrap_or(""),
            &row.name,
            &iso(row.start_date),
        ])
    }
    fn codes(row: &PromotionRow) -> Vec<&str> {
        row.store_code.as_deref().into_iter().collect()
    }
    fn skus(row: &PromotionRow) -> Vec<&str> {
        let members = row.bundle_member_skus.iter().flatten().map(String::as_str);
        std::iter::once(row.sku.as_str()).chain(members).collect()
    }
    fn day(_: &PromotionRow) -> Option<NaiveDate> {
        None
    }
    type Resolved = Value;
    fn resolve(row: &PromotionRow, keys: &KeyCache) -> Result<Value, RowError> {
        let store_id = optional_store(keys, row.store_code.as_deref())?;
        let product_id = product_id(keys, "sku", &row.sku)?;
        let members = row
            .bundle_member_skus
            .as_ref()
            .map(|skus| {
                skus.iter()
                    .map(|sku| product_id_of_member(keys, sku))
                    .collect::<Result<Vec<i32>, RowError>>()
            })
            .transpose()?;
        Ok(
            json!({"product_id": product_id, "store_id": store_id, "name": row.name,
                  "discount_pct": row.discount_pct, "discount_amount": row.discount_amount,
                  "start_date": iso(row.start_date), "end_date": iso(row.end_date),
                  "kind": row.kind(), "bundle_member_product_ids": members}),
        )
    }
    async fn write(db: &Db, rows: &[Value]) -> Result<u64, sqlx::Error> {
        write::upsert(db, Target::Promotions, rows).await
    }
}

fn product_id_of_member(keys: &KeyCache, sku: &str) -> Result<i32, RowError> {
    product_id(keys, "bundle_member_skus", sku)
}

/// `price_history` by (SKU, store code, valid from).
#[derive(Debug)]
pub(crate) struct Prices;

impl Table for Prices {
    type Row = PriceRow;
    const LIST: &'static str = "records";
    fn check(row: &PriceRow, prefix: &str, v: &mut Violations) {
        row.check(prefix, v);
    }
    fn key(row: &PriceRow) -> String {
        key(&[
            &row.sku,
            row.store_code.as_deref().unwrap_or(""),
            &iso(row.valid_from),
        ])
    }
    fn codes(row: &PriceRow) -> Vec<&str> {
        row.store_code.as_deref().into_iter().collect()
    }
    fn skus(row: &PriceRow) -> Vec<&str> {
        vec![&row.sku]
    }
    fn day(_: &PriceRow) -> Option<NaiveDate> {
        None
    }
    type Resolved = Value;
    fn resolve(row: &PriceRow, keys: &KeyCache) -> Result<Value, RowError> {
        let store_id = optional_store(keys, row.store_code.as_deref())?;
        let product_id = product_id(keys, "sku", &row.sku)?;
        Ok(
            json!({"product_id": product_id, "store_id": store_id, "price": row.price,
                  "valid_from": iso(row.valid_from), "valid_to": row.valid_to.map(iso)}),
        )
    }
    async fn write(db: &Db, rows: &[Value]) -> Result<u64, sqlx::Error> {
        write::upsert(db, Target::Prices, rows).await
    }
}
