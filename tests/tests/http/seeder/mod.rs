//! /seeder/*: generation (determinism on and across both databases, preset
//! properties measured on the output, overrides) in [`generation`]; append,
//! delete scopes, verify, exogenous reads, phase-2 enrichment and the
//! production guard on seeded data in [`seeded_data`]. The helpers below
//! serve both.

mod generation;
mod seeded_data;

use std::collections::BTreeMap;

use forecastlab_tests::{TestApp, TestResponse};
use reqwest::Method;
use serde_json::{json, Value};

/// Every seeded table with a row expression whose text is identical on both
/// databases (money in cents, floats in millionths, booleans as 0/1).
const TABLES: [(&str, &str, &str); 10] = [
    ("store", "id", "CAST(id AS TEXT) || '|' || code || '|' || name || '|' || COALESCE(region, '~') || '|' || COALESCE(city, '~') || '|' || COALESCE(store_type, '~')"),
    ("product", "id", "CAST(id AS TEXT) || '|' || sku || '|' || name || '|' || COALESCE(category, '~') || '|' || COALESCE(brand, '~') || '|' || COALESCE(CAST(CAST(ROUND(base_price * 100) AS BIGINT) AS TEXT), '~') || '|' || COALESCE(CAST(CAST(ROUND(base_cost * 100) AS BIGINT) AS TEXT), '~') || '|' || COALESCE(lifecycle_stage, '~') || '|' || COALESCE(CAST(launch_date AS TEXT), '~') || '|' || COALESCE(CAST(discontinue_date AS TEXT), '~')"),
    ("calendar", "date", "CAST(date AS TEXT) || '|' || CAST(day_of_week AS TEXT) || '|' || CAST(month AS TEXT) || '|' || CAST(quarter AS TEXT) || '|' || CAST(year AS TEXT) || '|' || CASE WHEN is_holiday THEN '1' ELSE '0' END || '|' || COALESCE(holiday_name, '~')"),
    ("sales_daily", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || CAST(store_id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || CAST(quantity AS TEXT) || '|' || CAST(CAST(ROUND(unit_price * 100) AS BIGINT) AS TEXT) || '|' || CAST(CAST(ROUND(total_amount * 100) AS BIGINT) AS TEXT) || '|' || channel"),
    ("price_history", "id", "CAST(id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || COALESCE(CAST(store_id AS TEXT), '~') || '|' || CAST(CAST(ROUND(price * 100) AS BIGINT) AS TEXT) || '|' || CAST(valid_from AS TEXT) || '|' || COALESCE(CAST(valid_to AS TEXT), '~')"),
    ("promotion", "id", "CAST(id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || COALESCE(CAST(store_id AS TEXT), '~') || '|' || name || '|' || COALESCE(CAST(CAST(ROUND(discount_pct * 10000) AS BIGINT) AS TEXT), '~') || '|' || COALESCE(CAST(CAST(ROUND(discount_amount * 100) AS BIGINT) AS TEXT), '~') || '|' || CAST(start_date AS TEXT) || '|' || CAST(end_date AS TEXT) || '|' || kind || '|' || COALESCE(CAST(bundle_member_product_ids AS TEXT), '~')"),
    ("inventory_snapshot_daily", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || CAST(store_id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || CAST(on_hand_qty AS TEXT) || '|' || CAST(on_order_qty AS TEXT) || '|' || CASE WHEN is_stockout THEN '1' ELSE '0' END"),
    ("exogenous_signal", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || signal_name || '|' || COALESCE(CAST(store_id AS TEXT), '~') || '|' || CASE WHEN is_global THEN '1' ELSE '0' END || '|' || CAST(CAST(ROUND(value * 1000000) AS BIGINT) AS TEXT)"),
    ("sales_returns", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || CAST(store_id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || CAST(return_quantity AS TEXT) || '|' || return_reason"),
    ("replenishment_event", "id", "CAST(id AS TEXT) || '|' || CAST(date AS TEXT) || '|' || CAST(store_id AS TEXT) || '|' || CAST(product_id AS TEXT) || '|' || CAST(lead_time_days AS TEXT) || '|' || CAST(ordered_qty AS TEXT) || '|' || CAST(received_qty AS TEXT)"),
];

/// FNV-1a over the rows' texts, with the row count: one value per table.
async fn checksums(app: &TestApp) -> BTreeMap<&'static str, (usize, u64)> {
    let mut out = BTreeMap::new();
    for (table, order, expr) in TABLES {
        let sql = format!("SELECT {expr} FROM {table} ORDER BY {order}");
        let rows: Vec<String> = forecastlab_server::with_db!(&app.db, pool => {
            sqlx::query_scalar(&sql).fetch_all(pool).await
        })
        .unwrap_or_else(|e| panic!("checksum of {table}: {e}"));
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for row in &rows {
            for byte in row.bytes().chain(std::iter::once(b'\n')) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        out.insert(table, (rows.len(), hash));
    }
    out
}

/// A small request that turns on every generator.
fn everything(seed: u64) -> Value {
    json!({
        "scenario": "retail_standard", "seed": seed, "stores": 2, "products": 4,
        "start_date": "2024-01-01", "end_date": "2024-03-31",
        "enable_exogenous": true, "weather_temperature_sensitivity": 0.02,
        "enable_returns": true, "enable_substitution": true, "substitute_groups": [[1, 2]],
        "enable_multichannel": true, "online_promo_uplift": 1.5,
        "enable_lifecycle": true, "lifecycle_discontinue_probability": 0.5,
        "enable_bundles": true, "bundle_probability": 0.5,
        "enable_markdowns": true, "markdown_trigger": "stockout_risk",
        "enable_lead_time": true, "mean_lead_time_days": 5,
        "changepoints": [{"date": "2024-02-01", "demand_multiplier": 1.5, "decay_days": 10}],
        "yearly_seasonality_amplitude": 0.2
    })
}

async fn generate(app: &TestApp, body: &Value) -> Value {
    let response = app.post("/seeder/generate", body).await;
    response.assert_status(201).clone()
}

/// `DELETE /seeder/data` with a body.
async fn delete_data(app: &TestApp, body: &Value) -> TestResponse {
    app.request(Method::DELETE, "/seeder/data", Some(body))
        .await
}

async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for (table, _, _) in TABLES {
        out.push(app.rows(table).await);
    }
    out
}
