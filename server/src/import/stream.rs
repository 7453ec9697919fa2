//! The import pipeline: a reader thread parses and checks CSV records into
//! batches while the writer upserts the previous batch through
//! [`upsert::apply`]. The channel between them holds one batch, so at most
//! three batches are in memory whatever the file size.

use anyhow::Context;
use indicatif::ProgressBar;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::{
    report::{ErrorReport, Rejection, Totals},
    source::Input,
};
use crate::{
    db::Db,
    extract::Violations,
    upsert::{self, KeyCache, Table},
};

/// Batches waiting for the writer.
const QUEUED_BATCHES: usize = 1;

/// One batch of parsed records.
#[derive(Debug)]
struct Batch<R> {
    /// Records read (accepted and rejected).
    read: u64,
    /// Rows that parsed and passed their checks, with their line.
    rows: Vec<(usize, R)>,
    /// Rows that did not.
    rejected: Vec<Rejection>,
}

impl<R> Batch<R> {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            read: 0,
            rows: Vec::with_capacity(capacity),
            rejected: Vec::new(),
        }
    }
}

/// Imports every record of `reader` into `T`'s table in batches of
/// `batch_size`; rejected rows go to `report`.
pub(crate) async fn run<T: Table + 'static>(
    db: &Db,
    reader: csv::Reader<Input>,
    batch_size: usize,
    report: &mut ErrorReport,
    bar: &ProgressBar,
) -> anyhow::Result<Totals> {
    let (sender, mut receiver) = mpsc::channel::<anyhow::Result<Batch<T::Row>>>(QUEUED_BATCHES);
    let parser = std::thread::spawn(move || parse::<T>(reader, batch_size, &sender));
    let mut keys = KeyCache::default();
    let mut totals = Totals::default();
    let mut outcome = Ok(());
    while let Some(batch) = receiver.recv().await {
        let written = match batch {
            Ok(batch) => write::<T>(db, &mut keys, batch, report, &mut totals).await,
            Err(error) => Err(error),
        };
        if let Err(error) = written {
            outcome = Err(error.context(format!(
                "the import stopped after {} rows were written",
                totals.processed
            )));
            break;
        }
        bar.set_message(format!("{} rows", totals.read));
    }
    // Dropping the receiver stops a parser still reading.
    drop(receiver);
    let _ = parser.join();
    outcome.map(|()| totals)
}

/// Upserts one batch and reports its rejected rows in line order.
async fn write<T: Table>(
    db: &Db,
    keys: &mut KeyCache,
    batch: Batch<T::Row>,
    report: &mut ErrorReport,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    let mut rejected = batch.rejected;
    totals.read += batch.read;
    if !batch.rows.is_empty() {
        let outcome = upsert::apply::<T>(db, keys, batch.rows)
            .await
            .context("database error")?;
        totals.processed += outcome.processed;
        totals.merged += outcome.duplicates_merged;
        totals.days_created += outcome.days_created;
        rejected.extend(outcome.errors.into_iter().map(|error| Rejection {
            line: error.row_index as u64,
            field: error.field,
            message: error.error_message,
        }));
    }
    rejected.sort_by_key(|r| r.line);
    let mut lines: Vec<u64> = rejected.iter().map(|r| r.line).collect();
    lines.dedup();
    totals.rejected += lines.len() as u64;
    report.write(&rejected)
}

/// The reader thread: sends batches of `batch_size` records until the end
/// of the file, a fatal read error or the writer hanging up.
fn parse<T: Table>(
    mut reader: csv::Reader<Input>,
    batch_size: usize,
    sender: &mpsc::Sender<anyhow::Result<Batch<T::Row>>>,
) {
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            let _ = sender.blocking_send(Err(error.into()));
            return;
        }
    };
    let mut record = csv::StringRecord::new();
    let mut batch = Batch::with_capacity(batch_size);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                batch.read += 1;
                let line = record.position().map_or(0, csv::Position::line);
                match check::<T>(&headers, &record, line) {
                    Ok(row) => batch.rows.push((usize::try_from(line).unwrap_or(0), row)),
                    Err(rejections) => batch.rejected.extend(rejections),
                }
            }
            Err(error) => match malformed(&error) {
                Some(line) => {
                    batch.read += 1;
                    batch.rejected.push(Rejection {
                        line,
                        field: String::new(),
                        message: error.to_string(),
                    });
                }
                None => {
                    let _ = sender.blocking_send(Err(anyhow::Error::new(error)
                        .context(format!("cannot read the file after {} rows", batch.read))));
                    return;
                }
            },
        }
        if batch.read as usize >= batch_size {
            let full = std::mem::replace(&mut batch, Batch::with_capacity(batch_size));
            if sender.blocking_send(Ok(full)).is_err() {
                return;
            }
        }
    }
    if batch.read > 0 {
        let _ = sender.blocking_send(Ok(batch));
    }
}

/// The line of a record that cannot be read as a row (wrong number of
/// fields, invalid UTF-8); `None` for an error that ends the import.
fn malformed(error: &csv::Error) -> Option<u64> {
    match error.kind() {
        csv::ErrorKind::UnequalLengths { pos, .. } | csv::ErrorKind::Utf8 { pos, .. } => {
            Some(pos.as_ref().map_or(0, csv::Position::line))
        }
        _ => None,
    }
}

/// Parses and checks one record as the HTTP routes check a row.
fn check<T: Table>(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    line: u64,
) -> Result<T::Row, Vec<Rejection>> {
    let row: T::Row = record
        .deserialize(Some(headers))
        .map_err(|error| vec![unparsable::<T::Row>(headers, record, line, &error)])?;
    let mut violations = Violations::default();
    T::check(&row, "", &mut violations);
    match violations.into_result() {
        Ok(()) => Ok(row),
        Err(problem) => Err(problem
            .errors
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|e| Rejection {
                line,
                field: e.field,
                message: e.message,
            })
            .collect()),
    }
}

/// The rejection of a record that does not parse, naming the field when it
/// can be found.
fn unparsable<R: DeserializeOwned>(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    line: u64,
    error: &csv::Error,
) -> Rejection {
    let csv::ErrorKind::Deserialize { err, .. } = error.kind() else {
        return Rejection {
            line,
            field: String::new(),
            message: error.to_string(),
        };
    };
    let field = err
        .field()
        .and_then(|i| headers.get(usize::try_from(i).ok()?))
        .map(str::to_owned)
        .or_else(|| failing_field::<R>(headers, record));
    let value = field
        .as_deref()
        .and_then(|f| headers.iter().position(|h| h == f))
        .and_then(|i| record.get(i));
    let message = match value {
        Some(value) => format!("{} (got '{value}')", err.kind()),
        None => err.kind().to_string(),
    };
    Rejection {
        line,
        field: field.unwrap_or_default(),
        message,
    }
}

/// The field a record fails on, found by parsing its cells again as JSON
/// strings (empty cells as null) with the failing path tracked.
fn failing_field<R: DeserializeOwned>(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Option<String> {
    let object: Map<String, Value> = headers
        .iter()
        .zip(record.iter())
        .map(|(header, cell)| {
            let value = if cell.is_empty() {
                Value::Null
            } else {
                Value::String(cell.to_owned())
            };
            (header.to_owned(), value)
        })
        .collect();
    let error = serde_path_to_error::deserialize::<_, R>(Value::Object(object)).err()?;
    let path = error.path().to_string();
    (path != ".").then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upsert::{Inventory, Sales};

    fn record(fields: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(fields.to_vec())
    }

    #[test]
    fn bad_cells_name_their_field_and_value() {
        let headers = record(&["date", "store_code", "sku", "on_hand_qty"]);
        let rejected = check::<Inventory>(&headers, &record(&["2024-01-01", "S1", "A", "lots"]), 7)
            .err()
            .unwrap();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, 7);
        assert_eq!(rejected[0].field, "on_hand_qty");
        assert!(rejected[0].message.contains("'lots'"), "{:?}", rejected[0]);
        let bad_date = check::<Inventory>(&headers, &record(&["2024-13-01", "S1", "A", "1"]), 8)
            .err()
            .unwrap();
        assert_eq!(bad_date[0].field, "date");
    }

    #[test]
    fn checks_are_the_routes_checks_without_a_prefix() {
        let headers = record(&[
            "date",
            "store_code",
            "sku",
            "quantity",
            "unit_price",
            "total_amount",
        ]);
        let rejected = check::<Sales>(
            &headers,
            &record(&["2024-01-01", "S1", "A", "-1", "1.001", "2"]),
            2,
        )
        .err()
        .unwrap();
        let fields: Vec<&str> = rejected.iter().map(|r| r.field.as_str()).collect();
        assert_eq!(fields, ["quantity", "unit_price"]);
        let row = check::<Sales>(
            &headers,
            &record(&["2024-01-01", "S1", "A", "2", "1.50", "3.00"]),
            3,
        )
        .unwrap();
        assert_eq!(row.quantity, 2);
        assert_eq!(row.total_amount, Some(rust_decimal::Decimal::new(300, 2)));
        let priceless = check::<Sales>(
            &headers,
            &record(&["2024-01-01", "S1", "A", "2", "", ""]),
            4,
        )
        .unwrap();
        assert_eq!((priceless.unit_price, priceless.total_amount), (None, None));
    }
}
