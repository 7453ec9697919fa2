//! Shared fixture helpers: insert stores, products, calendar days, sales and
//! inventory snapshots directly with SQL (both backends), and look ids up.
//!
//! ```ignore
//! let app = TestApp::spawn(backend).await;
//! let s1 = fixtures::store(&app, "S001").region("North").insert().await;
//! let p1 = fixtures::product(&app, "SKU-1").category("Dairy").base_price("2.50").insert().await;
//! fixtures::calendar(&app, d("2024-01-01"), d("2024-01-31")).await;
//! fixtures::sales(&app, &[Sale::new("2024-01-01", s1, p1, 3, "2.50", "7.50")]).await;
//! ```
//!
//! Text values are quoted with [`quote`]; these helpers are for tests only.

use chrono::{Datelike, NaiveDate};

use crate::TestApp;

/// Parses `YYYY-MM-DD` (panics on a typo in a test).
pub fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|_| panic!("bad date {text}"))
}

/// An SQL string literal, or `NULL`.
pub fn quote(value: Option<&str>) -> String {
    match value {
        Some(text) => format!("'{}'", text.replace('\'', "''")),
        None => "NULL".to_owned(),
    }
}

/// A store to insert; build with [`store`].
#[derive(Debug, Clone)]
pub struct StoreFixture<'a> {
    app: &'a TestApp,
    code: String,
    name: String,
    region: Option<String>,
    city: Option<String>,
    store_type: Option<String>,
}

/// Starts a store with `code`, name `Store <code>` and no region/city/type.
pub fn store<'a>(app: &'a TestApp, code: &str) -> StoreFixture<'a> {
    StoreFixture {
        app,
        code: code.to_owned(),
        name: format!("Store {code}"),
        region: None,
        city: None,
        store_type: None,
    }
}

impl StoreFixture<'_> {
    /// Sets the name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }
    /// Sets the region.
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.to_owned());
        self
    }
    /// Sets the city.
    pub fn city(mut self, city: &str) -> Self {
        self.city = Some(city.to_owned());
        self
    }
    /// Sets the store type.
    pub fn store_type(mut self, store_type: &str) -> Self {
        self.store_type = Some(store_type.to_owned());
        self
    }
    /// Inserts the store and returns its id.
    pub async fn insert(self) -> i64 {
        self.app
            .exec(&format!(
                "INSERT INTO store (code, name, region, city, store_type) VALUES ({}, {}, {}, {}, {})",
                quote(Some(&self.code)),
                quote(Some(&self.name)),
                quote(self.region.as_deref()),
                quote(self.city.as_deref()),
                quote(self.store_type.as_deref()),
            ))
            .await;
        store_id(self.app, &self.code).await
    }
}

/// A product to insert; build with [`product`].
#[derive(Debug, Clone)]
pub struct ProductFixture<'a> {
    app: &'a TestApp,
    sku: String,
    name: String,
    category: Option<String>,
    brand: Option<String>,
    base_price: Option<String>,
    base_cost: Option<String>,
    launch_date: Option<String>,
    discontinue_date: Option<String>,
    lifecycle_stage: Option<String>,
}

/// Starts a product with `sku`, name `Product <sku>` and no other attributes.
pub fn product<'a>(app: &'a TestApp, sku: &str) -> ProductFixture<'a> {
    ProductFixture {
        app,
        sku: sku.to_owned(),
        name: format!("Product {sku}"),
        category: None,
        brand: None,
        base_price: None,
        base_cost: None,
        launch_date: None,
        discontinue_date: None,
        lifecycle_stage: None,
    }
}

impl ProductFixture<'_> {
    /// Sets the name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }
    /// Sets the category.
    pub fn category(mut self, category: &str) -> Self {
        self.category = Some(category.to_owned());
        self
    }
    /// Sets the brand.
    pub fn brand(mut self, brand: &str) -> Self {
        self.brand = Some(brand.to_owned());
        self
    }
    /// Sets the base price (decimal text such as `"12.99"`).
    pub fn base_price(mut self, price: &str) -> Self {
        self.base_price = Some(price.to_owned());
        self
    }
    /// Sets the base cost (decimal text).
    pub fn base_cost(mut self, cost: &str) -> Self {
        self.base_cost = Some(cost.to_owned());
        self
    }
    /// Sets the launch date (`YYYY-MM-DD`).
    pub fn launch_date(mut self, date: &str) -> Self {
        self.launch_date = Some(date.to_owned());
        self
    }
    /// Sets the discontinue date (`YYYY-MM-DD`).
    pub fn discontinue_date(mut self, date: &str) -> Self {
        self.discontinue_date = Some(date.to_owned());
        self
    }
    /// Sets the stored lifecycle stage.
    pub fn lifecycle_stage(mut self, stage: &str) -> Self {
        self.lifecycle_stage = Some(stage.to_owned());
        self
    }
    /// Inserts the product and returns its id.
    pub async fn insert(self) -> i64 {
        let number = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".to_owned());
        self.app
            .exec(&format!(
                "INSERT INTO product (sku, name, category, brand, base_price, base_cost, \
                 launch_date, discontinue_date, lifecycle_stage) \
                 VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
                quote(Some(&self.sku)),
                quote(Some(&self.name)),
                quote(self.category.as_deref()),
                quote(self.brand.as_deref()),
                number(&self.base_price),
                number(&self.base_cost),
                quote(self.launch_date.as_deref()),
                quote(self.discontinue_date.as_deref()),
                quote(self.lifecycle_stage.as_deref()),
            ))
            .await;
        product_id(self.app, &self.sku).await
    }
}

/// The id of the store with `code`.
pub async fn store_id(app: &TestApp, code: &str) -> i64 {
    app.count(&format!(
        "SELECT CAST(id AS BIGINT) FROM store WHERE code = {}",
        quote(Some(code))
    ))
    .await
}

/// The id of the product with `sku`.
pub async fn product_id(app: &TestApp, sku: &str) -> i64 {
    app.count(&format!(
        "SELECT CAST(id AS BIGINT) FROM product WHERE sku = {}",
        quote(Some(sku))
    ))
    .await
}

/// Inserts one calendar row per day in `start..=end` (day_of_week 0 =
/// Monday; no holidays). Days already present are skipped.
pub async fn calendar(app: &TestApp, start: NaiveDate, end: NaiveDate) {
    let days: Vec<NaiveDate> = start.iter_days().take_while(|day| *day <= end).collect();
    for chunk in days.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|day| {
                format!(
                    "('{}', {}, {}, {}, {}, FALSE)",
                    day.format("%Y-%m-%d"),
                    day.weekday().num_days_from_monday(),
                    day.month(),
                    (day.month() - 1) / 3 + 1,
                    day.year()
                )
            })
            .collect();
        app.exec(&format!(
            "INSERT INTO calendar (date, day_of_week, month, quarter, year, is_holiday) VALUES {} \
             ON CONFLICT (date) DO NOTHING",
            values.join(", ")
        ))
        .await;
    }
}

/// One `sales_daily` row.
#[derive(Debug, Clone)]
pub struct Sale {
    /// Date (`YYYY-MM-DD`).
    pub date: String,
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
    /// Units.
    pub quantity: i64,
    /// Unit price (decimal text).
    pub unit_price: String,
    /// Total amount (decimal text).
    pub total_amount: String,
    /// Channel (`None` → the column default `in_store`).
    pub channel: Option<String>,
}

impl Sale {
    /// A sale row with the default channel.
    pub fn new(
        date: &str,
        store_id: i64,
        product_id: i64,
        quantity: i64,
        unit_price: &str,
        total_amount: &str,
    ) -> Self {
        Self {
            date: date.to_owned(),
            store_id,
            product_id,
            quantity,
            unit_price: unit_price.to_owned(),
            total_amount: total_amount.to_owned(),
            channel: None,
        }
    }

    /// Sets the channel.
    pub fn channel(mut self, channel: &str) -> Self {
        self.channel = Some(channel.to_owned());
        self
    }
}

/// Inserts sales rows (the calendar days, stores and products must exist).
pub async fn sales(app: &TestApp, rows: &[Sale]) {
    for chunk in rows.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|s| {
                format!(
                    "('{}', {}, {}, {}, {}, {}, {})",
                    s.date,
                    s.store_id,
                    s.product_id,
                    s.quantity,
                    s.unit_price,
                    s.total_amount,
                    quote(Some(s.channel.as_deref().unwrap_or("in_store")))
                )
            })
            .collect();
        app.exec(&format!(
            "INSERT INTO sales_daily (date, store_id, product_id, quantity, unit_price, \
             total_amount, channel) VALUES {}",
            values.join(", ")
        ))
        .await;
    }
}

/// One `inventory_snapshot_daily` row.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Date (`YYYY-MM-DD`).
    pub date: String,
    /// Store id.
    pub store_id: i64,
    /// Product id.
    pub product_id: i64,
    /// End-of-day units on hand.
    pub on_hand_qty: i64,
    /// Units on order.
    pub on_order_qty: i64,
    /// Whether the day was a stockout.
    pub is_stockout: bool,
}

/// Inserts inventory snapshots.
pub async fn inventory(app: &TestApp, rows: &[Snapshot]) {
    for chunk in rows.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|s| {
                format!(
                    "('{}', {}, {}, {}, {}, {})",
                    s.date,
                    s.store_id,
                    s.product_id,
                    s.on_hand_qty,
                    s.on_order_qty,
                    if s.is_stockout { "TRUE" } else { "FALSE" }
                )
            })
            .collect();
        app.exec(&format!(
            "INSERT INTO inventory_snapshot_daily (date, store_id, product_id, on_hand_qty, \
             on_order_qty, is_stockout) VALUES {}",
            values.join(", ")
        ))
        .await;
    }
}

/// Seeds `stores × products` daily series of `days` days from 2024-01-01
/// with a weekly pattern (store and product ids 1, 2, …).
pub async fn weekly_sales(app: &TestApp, stores: i64, products: i64, days: i64) {
    let start = d("2024-01-01");
    let list = |n: i64, row: &dyn Fn(i64) -> String| (1..=n).map(row).collect::<Vec<_>>().join(",");
    app.exec(&format!(
        "INSERT INTO store (id, code, name) VALUES {};\
         INSERT INTO product (id, sku, name) VALUES {};",
        list(stores, &|s| format!("({s}, 'S{s}', 'Store {s}')")),
        list(products, &|p| format!("({p}, 'SKU{p}', 'Product {p}')")),
    ))
    .await;
    let last = start + chrono::Days::new(u64::try_from(days - 1).unwrap_or(0));
    calendar(app, start, last).await;
    let mut rows = Vec::new();
    for s in 1..=stores {
        for p in 1..=products {
            for day in 0..days {
                let date = (start + chrono::Days::new(day as u64)).to_string();
                let quantity = 10 + (day % 7) * 2 + s % 5 + p % 3;
                let total = format!("{}.{:02}", quantity * 5 / 2, quantity * 250 % 100);
                rows.push(Sale::new(&date, s, p, quantity, "2.50", &total));
            }
        }
    }
    sales(app, &rows).await;
}
