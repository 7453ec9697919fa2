//! The rows the seeder writes, and how each is encoded for PostgreSQL
//! `COPY … FROM STDIN` (text format) and bound into SQLite multi-row
//! `INSERT`s.

use chrono::NaiveDate;
use sqlx::{query::Query, sqlite::SqliteArguments, Sqlite};

/// A SQLite query with its arguments.
pub(crate) type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

/// The window's days with their `YYYY-MM-DD` text, indexed by day number.
#[derive(Debug, Clone)]
pub(crate) struct Dates {
    pub(crate) days: Vec<NaiveDate>,
    text: Vec<[u8; 10]>,
}

impl Dates {
    pub(crate) fn new(start: NaiveDate, end: NaiveDate) -> Self {
        let days: Vec<NaiveDate> = start.iter_days().take_while(|d| *d <= end).collect();
        let text = days.iter().map(date_bytes).collect();
        Self { days, text }
    }

    pub(crate) fn len(&self) -> usize {
        self.days.len()
    }
}

fn date_bytes(date: &NaiveDate) -> [u8; 10] {
    let mut out = [0u8; 10];
    let text = date.format("%Y-%m-%d").to_string();
    let bytes = text.as_bytes();
    let n = bytes.len().min(10);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

/// Appends the decimal digits of `value`.
pub(crate) fn push_int(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    let mut v = value.unsigned_abs();
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `cents` as a 2-place decimal (`1299` → `12.99`).
pub(crate) fn push_cents(out: &mut Vec<u8>, cents: i64) {
    if cents < 0 {
        out.push(b'-');
    }
    let c = cents.unsigned_abs();
    push_int(out, (c / 100) as i64);
    out.push(b'.');
    let frac = c % 100;
    out.push(b'0' + (frac / 10) as u8);
    out.push(b'0' + (frac % 10) as u8);
}

fn push_date(out: &mut Vec<u8>, date: NaiveDate) {
    out.extend_from_slice(&date_bytes(&date));
}

fn push_text(out: &mut Vec<u8>, text: &str) {
    for b in text.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

const NULL: &[u8] = b"\\N";

fn cents_f64(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// A row the writer can COPY (Postgres) or bind (SQLite).
pub(crate) trait SqlRow: Send + Sync {
    /// Target table.
    const TABLE: &'static str;
    /// Column list in write order.
    const COLUMNS: &'static str;
    /// Number of columns.
    const NCOLS: usize;
    /// Appends one COPY text line (with the trailing newline).
    fn copy_text(&self, out: &mut Vec<u8>, dates: &Dates);
    /// Binds the row's values.
    fn bind<'q>(&self, query: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q>;
}

/// `store`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoreRow {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) region: &'static str,
    pub(crate) city: &'static str,
    pub(crate) store_type: &'static str,
}

impl SqlRow for StoreRow {
    const TABLE: &'static str = "store";
    const COLUMNS: &'static str = "code, name, region, city, store_type";
    const NCOLS: usize = 5;
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        for (i, value) in [
            self.code.as_str(),
            &self.name,
            self.region,
            self.city,
            self.store_type,
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(b'\t');
            }
            push_text(out, value);
        }
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        q.bind(self.code.clone())
            .bind(self.name.clone())
            .bind(self.region)
            .bind(self.city)
            .bind(self.store_type)
    }
}

/// `product`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProductRow {
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) category: &'static str,
    pub(crate) brand: &'static str,
    pub(crate) base_price_cents: i64,
    pub(crate) base_cost_cents: i64,
    pub(crate) lifecycle_stage: Option<&'static str>,
    pub(crate) launch_date: Option<NaiveDate>,
    pub(crate) discontinue_date: Option<NaiveDate>,
}

impl SqlRow for ProductRow {
    const TABLE: &'static str = "product";
    const COLUMNS: &'static str =
        "sku, name, category, brand, base_price, base_cost, lifecycle_stage, launch_date, discontinue_date";
    const NCOLS: usize = 9;
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_text(out, &self.sku);
        out.push(b'\t');
        push_text(out, &self.name);
        out.push(b'\t');
        push_text(out, self.category);
        out.push(b'\t');
        push_text(out, self.brand);
        out.push(b'\t');
        push_cents(out, self.base_price_cents);
        out.push(b'\t');
        push_cents(out, self.base_cost_cents);
        out.push(b'\t');
        match self.lifecycle_stage {
            Some(stage) => push_text(out, stage),
            None => out.extend_from_slice(NULL),
        }
        for date in [self.launch_date, self.discontinue_date] {
            out.push(b'\t');
            match date {
                Some(d) => push_date(out, d),
                None => out.extend_from_slice(NULL),
            }
        }
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        q.bind(self.sku.clone())
            .bind(self.name.clone())
            .bind(self.category)
            .bind(self.brand)
            .bind(cents_f64(self.base_price_cents))
            .bind(cents_f64(self.base_cost_cents))
            .bind(self.lifecycle_stage)
            .bind(self.launch_date)
            .bind(self.discontinue_date)
    }
}

/// `calendar`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CalendarRow {
    pub(crate) date: NaiveDate,
    pub(crate) day_of_week: i32,
    pub(crate) month: i32,
    pub(crate) quarter: i32,
    pub(crate) year: i32,
    pub(crate) holiday_name: Option<String>,
}

impl SqlRow for CalendarRow {
    const TABLE: &'static str = "calendar";
    const COLUMNS: &'static str =
        "date, day_of_week, month, quarter, year, is_holiday, holiday_name";
    const NCOLS: usize = 7;
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_date(out, self.date);
        for v in [self.day_of_week, self.month, self.quarter, self.year] {
            out.push(b'\t');
            push_int(out, i64::from(v));
        }
        out.push(b'\t');
        out.push(if self.holiday_name.is_some() {
            b't'
        } else {
            b'f'
        });
        out.push(b'\t');
        match &self.holiday_name {
            Some(name) => push_text(out, name),
            None => out.extend_from_slice(NULL),
        }
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        q.bind(self.date)
            .bind(self.day_of_week)
            .bind(self.month)
            .bind(self.quarter)
            .bind(self.year)
            .bind(self.holiday_name.is_some())
            .bind(self.holiday_name.clone())
    }
}

/// `sales_daily` (date by day number; total = unit price × quantity).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SalesRow {
    pub(crate) day: u32,
    pub(crate) store_id: i32,
    pub(crate) product_id: i32,
    pub(crate) quantity: i32,
    pub(crate) unit_cents: i64,
    pub(crate) channel: &'static str,
}

impl SqlRow for SalesRow {
    const TABLE: &'static str = "sales_daily";
    const COLUMNS: &'static str =
        "date, store_id, product_id, quantity, unit_price, total_amount, channel";
    const NCOLS: usize = 7;
    fn copy_text(&self, out: &mut Vec<u8>, dates: &Dates) {
        out.extend_from_slice(&dates.text[self.day as usize]);
        out.push(b'\t');
        push_int(out, i64::from(self.store_id));
        out.push(b'\t');
        push_int(out, i64::from(self.product_id));
        out.push(b'\t');
        push_int(out, i64::from(self.quantity));
        out.push(b'\t');
        push_cents(out, self.unit_cents);
        out.push(b'\t');
        push_cents(out, self.unit_cents * i64::from(self.quantity));
        out.push(b'\t');
        out.extend_from_slice(self.channel.as_bytes());
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q> {
        q.bind(dates.days[self.day as usize])
            .bind(self.store_id)
            .bind(self.product_id)
            .bind(self.quantity)
            .bind(cents_f64(self.unit_cents))
            .bind(cents_f64(self.unit_cents * i64::from(self.quantity)))
            .bind(self.channel)
    }
}

/// `inventory_snapshot_daily`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct InventoryRow {
    pub(crate) day: u32,
    pub(crate) store_id: i32,
    pub(crate) product_id: i32,
    pub(crate) on_hand: i32,
    pub(crate) on_order: i32,
    pub(crate) stockout: bool,
}

impl SqlRow for InventoryRow {
    const TABLE: &'static str = "inventory_snapshot_daily";
    const COLUMNS: &'static str =
        "date, store_id, product_id, on_hand_qty, on_order_qty, is_stockout";
    const NCOLS: usize = 6;
    fn copy_text(&self, out: &mut Vec<u8>, dates: &Dates) {
        out.extend_from_slice(&dates.text[self.day as usize]);
        out.push(b'\t');
        push_int(out, i64::from(self.store_id));
        out.push(b'\t');
        push_int(out, i64::from(self.product_id));
        out.push(b'\t');
        push_int(out, i64::from(self.on_hand));
        out.push(b'\t');
        push_int(out, i64::from(self.on_order));
        out.push(b'\t');
        out.push(if self.stockout { b't' } else { b'f' });
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q> {
        q.bind(dates.days[self.day as usize])
            .bind(self.store_id)
            .bind(self.product_id)
            .bind(self.on_hand)
            .bind(self.on_order)
            .bind(self.stockout)
    }
}

/// `price_history`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PriceRow {
    pub(crate) product_id: i32,
    pub(crate) store_id: Option<i32>,
    pub(crate) price_cents: i64,
    pub(crate) valid_from: NaiveDate,
    pub(crate) valid_to: Option<NaiveDate>,
}

impl SqlRow for PriceRow {
    const TABLE: &'static str = "price_history";
    const COLUMNS: &'static str = "product_id, store_id, price, valid_from, valid_to";
    const NCOLS: usize = 5;
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_int(out, i64::from(self.product_id));
        out.push(b'\t');
        match self.store_id {
            Some(id) => push_int(out, i64::from(id)),
            None => out.extend_from_slice(NULL),
        }
        out.push(b'\t');
        push_cents(out, self.price_cents);
        out.push(b'\t');
        push_date(out, self.valid_from);
        out.push(b'\t');
        match self.valid_to {
            Some(d) => push_date(out, d),
            None => out.extend_from_slice(NULL),
        }
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        q.bind(self.product_id)
            .bind(self.store_id)
            .bind(cents_f64(self.price_cents))
            .bind(self.valid_from)
            .bind(self.valid_to)
    }
}

/// `promotion`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PromotionRow {
    pub(crate) product_id: i32,
    pub(crate) store_id: Option<i32>,
    pub(crate) name: &'static str,
    /// Discount in basis points of 1/10000 (`1500` = 0.15).
    pub(crate) discount_pct_e4: Option<i64>,
    pub(crate) discount_amount_cents: Option<i64>,
    pub(crate) start_date: NaiveDate,
    pub(crate) end_date: NaiveDate,
    pub(crate) kind: &'static str,
    pub(crate) members: Option<Vec<i32>>,
}

impl PromotionRow {
    fn members_json(&self) -> Option<String> {
        self.members.as_ref().map(|m| {
            let items: Vec<String> = m.iter().map(i32::to_string).collect();
            format!("[{}]", items.join(", "))
        })
    }
}

impl SqlRow for PromotionRow {
    const TABLE: &'static str = "promotion";
    const COLUMNS: &'static str = "product_id, store_id, name, discount_pct, discount_amount, start_date, end_date, kind, bundle_member_product_ids";
    const NCOLS: usize = 9;
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_int(out, i64::from(self.product_id));
        out.push(b'\t');
        match self.store_id {
            Some(id) => push_int(out, i64::from(id)),
            None => out.extend_from_slice(NULL),
        }
        out.push(b'\t');
        push_text(out, self.name);
        out.push(b'\t');
        match self.discount_pct_e4 {
            Some(e4) => {
                push_int(out, e4 / 10_000);
                out.push(b'.');
                let frac = format!("{:04}", e4 % 10_000);
                out.extend_from_slice(frac.as_bytes());
            }
            None => out.extend_from_slice(NULL),
        }
        out.push(b'\t');
        match self.discount_amount_cents {
            Some(c) => push_cents(out, c),
            None => out.extend_from_slice(NULL),
        }
        out.push(b'\t');
        push_date(out, self.start_date);
        out.push(b'\t');
        push_date(out, self.end_date);
        out.push(b'\t');
        push_text(out, self.kind);
        out.push(b'\t');
        match self.members_json() {
            Some(json) => push_text(out, &json),
            None => out.extend_from_slice(NULL),
        }
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        q.bind(self.product_id)
            .bind(self.store_id)
            .bind(self.name)
            .bind(self.discount_pct_e4.map(|e4| e4 as f64 / 10_000.0))
            .bind(self.discount_amount_cents.map(cents_f64))
            .bind(self.start_date)
            .bind(self.end_date)
            .bind(self.kind)
            .bind(self.members_json())
    }
}

/// `exogenous_signal`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExogenousRow {
    pub(crate) date: NaiveDate,
    pub(crate) signal_name: &'static str,
    pub(crate) store_id: Option<i32>,
    pub(crate) value: f64,
}

impl SqlRow for ExogenousRow {
    const TABLE: &'static str = "exogenous_signal";
    const COLUMNS: &'static str = "date, signal_name, store_id, is_global, value";
    const NCOLS: usize = 5;
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_date(out, self.date);
        out.push(b'\t');
        push_text(out, self.signal_name);
        out.push(b'\t');
        match self.store_id {
            Some(id) => push_int(out, i64::from(id)),
            None => out.extend_from_slice(NULL),
        }
        out.push(b'\t');
        out.push(if self.store_id.is_none() { b't' } else { b'f' });
        out.push(b'\t');
        // Shortest round-trip representation: Postgres parses it back to
        // the identical double.
        out.extend_from_slice(format!("{:?}", self.value).as_bytes());
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        q.bind(self.date)
            .bind(self.signal_name)
            .bind(self.store_id)
            .bind(self.store_id.is_none())
            .bind(self.value)
    }
}

/// `sales_returns`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReturnRow {
    pub(crate) date: NaiveDate,
    pub(crate) store_id: i32,
    pub(crate) product_id: i32,
    pub(crate) quantity: i32,
    pub(crate) reason: &'static str,
}

impl SqlRow for ReturnRow {
    const TABLE: &'static str = "sales_returns";
    const COLUMNS: &'static str = "date, store_id, product_id, return_quantity, return_reason";
    const NCOLS: usize = 5;
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_date(out, self.date);
        for v in [self.store_id, self.product_id, self.quantity] {
            out.push(b'\t');
            push_int(out, i64::from(v));
        }
        out.push(b'\t');
        push_text(out, self.reason);
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        q.bind(self.date)
            .bind(self.store_id)
            .bind(self.product_id)
            .bind(self.quantity)
            .bind(self.reason)
    }
}

/// `replenishment_event`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReplenishmentRow {
    pub(crate) date: NaiveDate,
    pub(crate) store_id: i32,
    pub(crate) product_id: i32,
    pub(crate) lead_time_days: i32,
    pub(crate) ordered_qty: i32,
    pub(crate) received_qty: i32,
}

impl SqlRow for ReplenishmentRow {
    const TABLE: &'static str = "replenishment_event";
    const COLUMNS: &'static str =
        "date, store_id, product_id, lead_time_days, ordered_qty, received_qty";
    const NCOLS: usize = 6;
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_date(out, self.date);
        for v in [
            self.store_id,
            self.product_id,
            self.lead_time_days,
            self.ordered_qty,
            self.received_qty,
        ] {
            out.push(b'\t');
            push_int(out, i64::from(v));
        }
        out.push(b'\n');
    }
    fn bind<'q>(&self, q: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        q.bind(self.date)
            .bind(self.store_id)
            .bind(self.product_id)
            .bind(self.lead_time_days)
            .bind(self.ordered_qty)
            .bind(self.received_qty)
    }
}

/// Encodes `rows` as one COPY text payload.
pub(crate) fn copy_payload<R: SqlRow>(rows: &[R], dates: &Dates) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 48);
    for row in rows {
        row.copy_text(&mut out, dates);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_money_encode_exactly() {
        let mut out = Vec::new();
        push_int(&mut out, -120);
        out.push(b' ');
        push_int(&mut out, 0);
        out.push(b' ');
        push_cents(&mut out, 1299);
        out.push(b' ');
        push_cents(&mut out, 5);
        assert_eq!(String::from_utf8(out).unwrap(), "-120 0 12.99 0.05");
    }

    #[test]
    fn sales_rows_become_copy_lines() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let dates = Dates::new(d, d + chrono::Days::new(1));
        let row = SalesRow {
            day: 1,
            store_id: 3,
            product_id: 7,
            quantity: 4,
            unit_cents: 250,
            channel: "in_store",
        };
        let text = String::from_utf8(copy_payload(&[row], &dates)).unwrap();
        assert_eq!(text, "2024-01-02\t3\t7\t4\t2.50\t10.00\tin_store\n");
        let promo = PromotionRow {
            product_id: 1,
            store_id: None,
            name: "Manager's Special",
            discount_pct_e4: Some(1500),
            discount_amount_cents: None,
            start_date: d,
            end_date: d,
            kind: "bundle",
            members: Some(vec![2, 3]),
        };
        let text = String::from_utf8(copy_payload(&[promo], &dates)).unwrap();
        assert_eq!(
            text,
            "1\t\\N\tManager's Special\t0.1500\t\\N\t2024-01-01\t2024-01-01\tbundle\t[2, 3]\n"
        );
    }
}
