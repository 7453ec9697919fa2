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

/// Appends `text` with COPY's backslash escapes.
fn push_text(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
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

/// One column value: how it is written as COPY text and bound in SQLite.
pub(crate) trait Cell {
    /// Appends the value's COPY text (no separator).
    fn copy_text(&self, out: &mut Vec<u8>, dates: &Dates);
    /// Binds the value.
    fn bind<'q>(self, query: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q>;
}

impl Cell for i32 {
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_int(out, i64::from(*self));
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        query.bind(self)
    }
}

impl Cell for &'static str {
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_text(out, self);
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        query.bind(self)
    }
}

impl Cell for String {
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_text(out, self);
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        query.bind(self)
    }
}

impl Cell for bool {
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        out.push(if *self { b't' } else { b'f' });
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        query.bind(self)
    }
}

impl Cell for NaiveDate {
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        out.extend_from_slice(&date_bytes(self));
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        query.bind(self)
    }
}

impl Cell for f64 {
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        // Shortest round-trip representation: Postgres parses it back to
        // the identical double.
        out.extend_from_slice(format!("{self:?}").as_bytes());
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        query.bind(self)
    }
}

/// `NULL` when absent.
impl<T: Cell> Cell for Option<T> {
    fn copy_text(&self, out: &mut Vec<u8>, dates: &Dates) {
        match self {
            Some(value) => value.copy_text(out, dates),
            None => out.extend_from_slice(NULL),
        }
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q> {
        match self {
            Some(value) => value.bind(query, dates),
            // SQLite binds every absent value as the same untyped NULL.
            None => query.bind(None::<i32>),
        }
    }
}

/// An amount in cents: a 2-place decimal in COPY text, a double in SQLite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cents(pub(crate) i64);

impl Cell for Cents {
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_cents(out, self.0);
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        query.bind(self.0 as f64 / 100.0)
    }
}

/// A fraction in units of 1/10000: a 4-place decimal in COPY text, a
/// double in SQLite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BasisPoints(pub(crate) i64);

impl Cell for BasisPoints {
    fn copy_text(&self, out: &mut Vec<u8>, _: &Dates) {
        push_int(out, self.0 / 10_000);
        out.push(b'.');
        let frac = format!("{:04}", self.0 % 10_000);
        out.extend_from_slice(frac.as_bytes());
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, _: &Dates) -> SqliteQuery<'q> {
        query.bind(self.0 as f64 / 10_000.0)
    }
}

/// A day of the window by number (its date).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Day(pub(crate) u32);

impl Cell for Day {
    fn copy_text(&self, out: &mut Vec<u8>, dates: &Dates) {
        out.extend_from_slice(&dates.text[self.0 as usize]);
    }
    fn bind<'q>(self, query: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q> {
        query.bind(dates.days[self.0 as usize])
    }
}

/// The cells of one row in column order (a tuple of [`Cell`]s).
pub(crate) trait Cells {
    /// Number of cells.
    const COUNT: usize;
    /// Appends one COPY text line: the cells tab-separated, then a newline.
    fn copy_line(&self, out: &mut Vec<u8>, dates: &Dates);
    /// Binds every cell in order.
    fn bind_all<'q>(self, query: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q>;
}

macro_rules! tuple_cells {
    ($first:ident $(, $rest:ident)*) => {
        #[allow(non_snake_case)]
        impl<$first: Cell, $($rest: Cell),*> Cells for ($first, $($rest),*) {
            const COUNT: usize = [stringify!($first) $(, stringify!($rest))*].len();
            fn copy_line(&self, out: &mut Vec<u8>, dates: &Dates) {
                let ($first, $($rest),*) = self;
                $first.copy_text(out, dates);
                $(
                    out.push(b'\t');
                    $rest.copy_text(out, dates);
                )*
                out.push(b'\n');
            }
            fn bind_all<'q>(self, query: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q> {
                let ($first, $($rest),*) = self;
                let query = $first.bind(query, dates);
                $(let query = $rest.bind(query, dates);)*
                query
            }
        }
    };
}

tuple_cells!(A, B, C, D, E);
tuple_cells!(A, B, C, D, E, F);
tuple_cells!(A, B, C, D, E, F, G);
tuple_cells!(A, B, C, D, E, F, G, H, I);

/// A row the writer can COPY (Postgres) or bind (SQLite): its values are
/// listed once, as [`Cells`], and serve both.
pub(crate) trait SqlRow: Send + Sync {
    /// Target table.
    const TABLE: &'static str;
    /// Column list in write order.
    const COLUMNS: &'static str;
    /// Number of columns.
    const NCOLS: usize = <Self::Cells as Cells>::COUNT;
    /// The row's values, one per column of [`Self::COLUMNS`].
    type Cells: Cells;
    /// The row's values.
    fn cells(&self) -> Self::Cells;
    /// Appends one COPY text line (with the trailing newline).
    fn copy_text(&self, out: &mut Vec<u8>, dates: &Dates) {
        self.cells().copy_line(out, dates);
    }
    /// Binds the row's values.
    fn bind<'q>(&self, query: SqliteQuery<'q>, dates: &Dates) -> SqliteQuery<'q> {
        self.cells().bind_all(query, dates)
    }
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
    type Cells = (String, String, &'static str, &'static str, &'static str);
    fn cells(&self) -> Self::Cells {
        (
            self.code.clone(),
            self.name.clone(),
            self.region,
            self.city,
            self.store_type,
        )
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
    type Cells = (
        String,
        String,
        &'static str,
        &'static str,
        Cents,
        Cents,
        Option<&'static str>,
        Option<NaiveDate>,
        Option<NaiveDate>,
    );
    fn cells(&self) -> Self::Cells {
        (
            self.sku.clone(),
            self.name.clone(),
            self.category,
            self.brand,
            Cents(self.base_price_cents),
            Cents(self.base_cost_cents),
            self.lifecycle_stage,
            self.launch_date,
            self.discontinue_date,
        )
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
    type Cells = (NaiveDate, i32, i32, i32, i32, bool, Option<String>);
    fn cells(&self) -> Self::Cells {
        (
            self.date,
            self.day_of_week,
            self.month,
            self.quarter,
            self.year,
            self.holiday_name.is_some(),
            self.holiday_name.clone(),
        )
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
    type Cells = (Day, i32, i32, i32, Cents, Cents, &'static str);
    fn cells(&self) -> Self::Cells {
        (
            Day(self.day),
            self.store_id,
            self.product_id,
            self.quantity,
            Cents(self.unit_cents),
            Cents(self.unit_cents * i64::from(self.quantity)),
            self.channel,
        )
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
    type Cells = (Day, i32, i32, i32, i32, bool);
    fn cells(&self) -> Self::Cells {
        (
            Day(self.day),
            self.store_id,
            self.product_id,
            self.on_hand,
            self.on_order,
            self.stockout,
        )
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
    type Cells = (i32, Option<i32>, Cents, NaiveDate, Option<NaiveDate>);
    fn cells(&self) -> Self::Cells {
        (
            self.product_id,
            self.store_id,
            Cents(self.price_cents),
            self.valid_from,
            self.valid_to,
        )
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
    type Cells = (
        i32,
        Option<i32>,
        &'static str,
        Option<BasisPoints>,
        Option<Cents>,
        NaiveDate,
        NaiveDate,
        &'static str,
        Option<String>,
    );
    fn cells(&self) -> Self::Cells {
        (
            self.product_id,
            self.store_id,
            self.name,
            self.discount_pct_e4.map(BasisPoints),
            self.discount_amount_cents.map(Cents),
            self.start_date,
            self.end_date,
            self.kind,
            self.members_json(),
        )
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
    type Cells = (NaiveDate, &'static str, Option<i32>, bool, f64);
    fn cells(&self) -> Self::Cells {
        (
            self.date,
            self.signal_name,
            self.store_id,
            self.store_id.is_none(),
            self.value,
        )
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
    type Cells = (NaiveDate, i32, i32, i32, &'static str);
    fn cells(&self) -> Self::Cells {
        (
            self.date,
            self.store_id,
            self.product_id,
            self.quantity,
            self.reason,
        )
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
    type Cells = (NaiveDate, i32, i32, i32, i32, i32);
    fn cells(&self) -> Self::Cells {
        (
            self.date,
            self.store_id,
            self.product_id,
            self.lead_time_days,
            self.ordered_qty,
            self.received_qty,
        )
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
