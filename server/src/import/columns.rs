//! The tables `forecastlab import` fills, the columns each needs, and
//! `--map` header renaming.

use std::{collections::HashMap, io::Read};

use anyhow::bail;

/// A table `forecastlab import` fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportTable {
    /// Stores by `code`.
    Stores,
    /// Products by `sku`.
    Products,
    /// Calendar days by `date`.
    Calendar,
    /// Promotions by (`sku`, `store_code`, `name`, `start_date`).
    Promotions,
    /// Price history by (`sku`, `store_code`, `valid_from`).
    Prices,
    /// Daily inventory snapshots by (`date`, `store_code`, `sku`).
    Inventory,
    /// Daily sales by (`date`, `store_code`, `sku`).
    Sales,
}

impl ImportTable {
    /// The command-line name (`sales`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Stores => "stores",
            Self::Products => "products",
            Self::Calendar => "calendar",
            Self::Promotions => "promotions",
            Self::Prices => "prices",
            Self::Inventory => "inventory",
            Self::Sales => "sales",
        }
    }

    /// The database table the rows land in.
    pub fn sql_table(self) -> &'static str {
        match self {
            Self::Stores => "store",
            Self::Products => "product",
            Self::Calendar => "calendar",
            Self::Promotions => "promotion",
            Self::Prices => "price_history",
            Self::Inventory => "inventory_snapshot_daily",
            Self::Sales => "sales_daily",
        }
    }

    /// The columns every row must have: the fields of the table's row type
    /// that have no default (checked against the row types by the tests).
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Self::Stores => &["code", "name"],
            Self::Products => &["sku", "name"],
            Self::Calendar => &["date"],
            Self::Promotions => &["sku", "name", "start_date", "end_date"],
            Self::Prices => &["sku", "price", "valid_from"],
            Self::Inventory => &["date", "store_code", "sku", "on_hand_qty"],
            Self::Sales => &["date", "store_code", "sku", "quantity"],
        }
    }
}

/// `--map` renames: file header to field.
#[derive(Debug, Default)]
pub(crate) struct Mapping(HashMap<String, String>);

impl Mapping {
    /// The renames given on the command line (a later one for the same
    /// header wins).
    pub(crate) fn new(pairs: &[(String, String)]) -> Self {
        Self(pairs.iter().cloned().collect())
    }
}

/// Parses one `--map CSV_HEADER=FIELD`.
pub(crate) fn parse_map(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((header, field)) if !header.trim().is_empty() && !field.trim().is_empty() => {
            Ok((header.trim().to_owned(), field.trim().to_owned()))
        }
        _ => Err(format!("expected CSV_HEADER=FIELD, got '{text}'")),
    }
}

/// Parses `--delimiter`: one ASCII character, or `\t` / `tab`.
pub(crate) fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "\\t" | "tab" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(format!(
            "the delimiter must be one ASCII character, got '{text}'"
        )),
    }
}

/// Renames the reader's header per `mapping`, then requires every column
/// `table` needs; fails with a message naming what is missing.
pub(crate) fn prepare<R: Read>(
    mut reader: csv::Reader<R>,
    table: ImportTable,
    mapping: &Mapping,
) -> anyhow::Result<csv::Reader<R>> {
    let headers = reader.headers()?.clone();
    for header in mapping.0.keys() {
        if !headers.iter().any(|h| h == header) {
            bail!(
                "--map names the column '{header}', which the file does not have (its columns: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let renamed: csv::StringRecord = headers
        .iter()
        .map(|h| mapping.0.get(h).map_or(h, String::as_str))
        .collect();
    let missing: Vec<&str> = table
        .required()
        .iter()
        .copied()
        .filter(|column| !renamed.iter().any(|h| h == *column))
        .collect();
    if !missing.is_empty() {
        bail!(
            "the file lacks the required column(s) {} for {} (its columns after --map: {}); \
             rename a column with --map CSV_HEADER=FIELD",
            missing.join(", "),
            table.name(),
            renamed.iter().collect::<Vec<_>>().join(", ")
        );
    }
    reader.set_headers(renamed);
    Ok(reader)
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;
    use serde::de::DeserializeOwned;
    use serde_json::{Map, Value};

    use super::*;
    use crate::upsert::rows::{
        CalendarRow, InventoryRow, PriceRow, ProductRow, PromotionRow, SalesDailyRow, StoreRow,
    };

    /// A value each required field parses.
    fn sample(field: &str) -> Value {
        match field {
            "date" | "start_date" | "end_date" | "valid_from" => "2024-01-01".into(),
            "quantity" | "on_hand_qty" => "3".into(),
            "unit_price" | "total_amount" | "price" => "1.50".into(),
            _ => "X".into(),
        }
    }

    fn parses<R: DeserializeOwned>(fields: &[&str]) -> bool {
        let object: Map<String, Value> = fields.iter().map(|f| ((*f).into(), sample(f))).collect();
        serde_json::from_value::<R>(Value::Object(object)).is_ok()
    }

    /// The required columns suffice, and each one is needed.
    fn required_matches<R: DeserializeOwned>(table: ImportTable) {
        let required = table.required();
        assert!(parses::<R>(required), "{table:?}: required columns parse");
        for i in 0..required.len() {
            let mut fewer = required.to_vec();
            let dropped = fewer.remove(i);
            assert!(
                !parses::<R>(&fewer),
                "{table:?}: {dropped} should be required"
            );
        }
    }

    #[test]
    fn required_columns_match_the_row_types() {
        required_matches::<StoreRow>(ImportTable::Stores);
        required_matches::<ProductRow>(ImportTable::Products);
        required_matches::<CalendarRow>(ImportTable::Calendar);
        required_matches::<PromotionRow>(ImportTable::Promotions);
        required_matches::<PriceRow>(ImportTable::Prices);
        required_matches::<InventoryRow>(ImportTable::Inventory);
        required_matches::<SalesDailyRow>(ImportTable::Sales);
        assert_eq!(ImportTable::value_variants().len(), 7);
    }

    fn reader(text: &'static str) -> csv::Reader<&'static [u8]> {
        csv::ReaderBuilder::new().from_reader(text.as_bytes())
    }

    #[test]
    fn mapping_renames_before_the_required_check() {
        let mapping = Mapping::new(&[("Store".into(), "code".into())]);
        let mut prepared = prepare(
            reader("Store,name\nS1,One\n"),
            ImportTable::Stores,
            &mapping,
        )
        .expect("mapped header is complete");
        assert_eq!(prepared.headers().unwrap(), vec!["code", "name"]);
        let error = prepare(
            reader("Store,name\n"),
            ImportTable::Stores,
            &Mapping::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("required column(s) code for stores"),
            "{error}"
        );
        let error = prepare(reader("code,name\n"), ImportTable::Stores, &mapping)
            .unwrap_err()
            .to_string();
        assert!(error.contains("'Store'"), "{error}");
    }

    #[test]
    fn map_and_delimiter_arguments() {
        assert_eq!(
            parse_map(" Qty = quantity").unwrap(),
            ("Qty".to_owned(), "quantity".to_owned())
        );
        assert!(parse_map("quantity").is_err());
        assert!(parse_map("=quantity").is_err());
        assert_eq!(parse_delimiter(";").unwrap(), b';');
        assert_eq!(parse_delimiter("\\t").unwrap(), b'\t');
        assert!(parse_delimiter(";;").is_err());
    }
}
