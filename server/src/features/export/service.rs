//! Export logic: filters checked and resolved before the first byte (so a
//! bad filter is a clean 400/404/422), then rows streamed from the database
//! cursor into CSV chunks of about [`CHUNK_BYTES`] through a bounded
//! channel, so memory stays constant whatever the table size and a slow
//! client slows the query down instead of filling memory.

use std::collections::HashMap;

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use futures::{channel::mpsc, SinkExt, TryStreamExt};
use rust_decimal::{Decimal, RoundingStrategy};
use sqlx::Row;

use super::{
    repo::{self, Bind, Column, Filter, Kind, Plan, Table},
    schemas::{CalendarQuery, FactQuery},
};
use crate::{data::keys::KeyRef, db::Db, problem::Problem, with_db};

/// Bytes of CSV gathered before a chunk is sent.
pub(crate) const CHUNK_BYTES: usize = 64 * 1024;

/// Chunks that may wait in the channel for a slow client.
const CHUNKS_IN_FLIGHT: usize = 4;

/// `start <= end` when both are given (400 otherwise, as for analytics).
fn check_range(
    start: Option<chrono::NaiveDate>,
    end: Option<chrono::NaiveDate>,
) -> Result<(), Problem> {
    match (start, end) {
        (Some(start), Some(end)) if end < start => Err(Problem::bad_request(format!(
            "end_date ({end}) must be greater than or equal to start_date ({start})."
        ))),
        _ => Ok(()),
    }
}

/// The resolved filter of a fact export: the date range checked, the store
/// and product names resolved (404 unknown, 422 contradicting).
pub(crate) async fn fact_filter(db: &Db, query: &FactQuery) -> Result<Filter, Problem> {
    check_range(query.start_date, query.end_date)?;
    let store_id = KeyRef::store(
        query.store_id,
        query.store_code.as_deref(),
        "query.store_code",
    )
    .resolve(db)
    .await?;
    let product_id = KeyRef::product(query.product_id, query.sku.as_deref(), "query.sku")
        .resolve(db)
        .await?;
    Ok(Filter {
        start: query.start_date,
        end: query.end_date,
        store_id,
        product_id,
    })
}

/// The filter of the calendar export.
pub(crate) fn calendar_filter(query: &CalendarQuery) -> Result<Filter, Problem> {
    check_range(query.start_date, query.end_date)?;
    Ok(Filter {
        start: query.start_date,
        end: query.end_date,
        ..Filter::default()
    })
}

/// Starts streaming `table` under `filter` and answers with the CSV
/// attachment `<file>.csv`.
pub(crate) async fn export(
    db: &Db,
    table: Table,
    filter: Filter,
    file: &str,
) -> Result<Response, Problem> {
    let members = if table == Table::Promotions {
        repo::skus(db).await?
    } else {
        HashMap::new()
    };
    let plan = repo::plan(db.backend(), table, &filter);
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_IN_FLIGHT);
    tokio::spawn(produce(db.clone(), plan, members, tx));
    let mut response = Body::from_stream(rx).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Why streaming stopped early.
enum Stop {
    /// The client went away (the channel closed).
    Gone,
    /// The database or the encoder failed.
    Failed(String),
}

impl From<sqlx::Error> for Stop {
    fn from(error: sqlx::Error) -> Self {
        Self::Failed(error.to_string())
    }
}

impl From<csv::Error> for Stop {
    fn from(error: csv::Error) -> Self {
        Self::Failed(error.to_string())
    }
}

type Sender = mpsc::Sender<Result<Bytes, std::io::Error>>;

async fn produce(db: Db, plan: Plan, members: HashMap<i64, String>, mut tx: Sender) {
    match stream_rows(&db, &plan, &members, &mut tx).await {
        Ok(()) | Err(Stop::Gone) => {}
        Err(Stop::Failed(error)) => {
            // The status line is gone already: the client sees the body
            // end abnormally instead of a short, apparently complete file.
            tracing::error!(%error, table = ?plan.table, "export stopped");
            let _ = tx.send(Err(std::io::Error::other(error))).await;
        }
    }
}

async fn stream_rows(
    db: &Db,
    plan: &Plan,
    members: &HashMap<i64, String>,
    tx: &mut Sender,
) -> Result<(), Stop> {
    let columns = plan.table.columns();
    let mut chunk = Chunk::new();
    chunk.write(columns.iter().map(|column| column.name.to_owned()))?;
    with_db!(db, pool => {
        let mut query = sqlx::query(&plan.sql);
        for bind in &plan.binds {
            query = match bind {
                Bind::Date(day) => query.bind(*day),
                Bind::Int(id) => query.bind(*id),
            };
        }
        let mut rows = query.fetch(pool);
        while let Some(row) = rows.try_next().await? {
            let mut cells = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                cells.push(render(column, row.try_get::<Option<String>, _>(i)?, members));
            }
            chunk.write(cells)?;
            if chunk.len() >= CHUNK_BYTES {
                tx.send(Ok(chunk.take()?)).await.map_err(|_| Stop::Gone)?;
            }
        }
    });
    tx.send(Ok(chunk.take()?)).await.map_err(|_| Stop::Gone)
}

/// CSV records gathered until a chunk is full.
struct Chunk {
    writer: csv::Writer<Vec<u8>>,
}

impl Chunk {
    fn new() -> Self {
        Self {
            writer: csv::Writer::from_writer(Vec::with_capacity(CHUNK_BYTES + 8 * 1024)),
        }
    }

    fn write(&mut self, cells: impl IntoIterator<Item = String>) -> Result<(), csv::Error> {
        self.writer.write_record(cells)
    }

    /// Bytes handed to the buffer so far (the writer keeps up to its own
    /// small buffer more).
    fn len(&self) -> usize {
        self.writer.get_ref().len()
    }

    fn take(&mut self) -> Result<Bytes, Stop> {
        let full = std::mem::replace(self, Self::new());
        full.writer
            .into_inner()
            .map(Bytes::from)
            .map_err(|error| Stop::Failed(error.to_string()))
    }
}

/// One cell: empty for NULL, otherwise the value in the form the upserts
/// read back.
pub(crate) fn render(
    column: &Column,
    raw: Option<String>,
    members: &HashMap<i64, String>,
) -> String {
    let Some(raw) = raw else {
        return String::new();
    };
    match column.kind {
        Kind::Text | Kind::Date | Kind::Int => raw,
        Kind::Money => fixed(&raw, 2),
        Kind::Fraction => fixed(&raw, 4),
        Kind::Flag => match raw.trim() {
            "1" | "t" | "true" | "TRUE" => "true".to_owned(),
            _ => "false".to_owned(),
        },
        Kind::Skus => serde_json::from_str::<Vec<i64>>(&raw)
            .map(|ids| {
                ids.iter()
                    .map(|id| members.get(id).cloned().unwrap_or_else(|| id.to_string()))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .unwrap_or(raw),
    }
}

/// A stored number with exactly `places` decimal places (`12` → `12.00`).
fn fixed(raw: &str, places: u32) -> String {
    match raw.trim().parse::<Decimal>() {
        Ok(value) => {
            let mut value =
                value.round_dp_with_strategy(places, RoundingStrategy::MidpointNearestEven);
            value.rescale(places);
            value.to_string()
        }
        Err(_) => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(kind: Kind) -> Column {
        *Table::Promotions
            .columns()
            .iter()
            .find(|column| column.kind == kind)
            .unwrap()
    }

    #[test]
    fn cells_read_back_as_the_upserts_expect() {
        let none = HashMap::new();
        assert_eq!(
            render(&column(Kind::Money), Some("12".into()), &none),
            "12.00"
        );
        assert_eq!(
            render(&column(Kind::Money), Some("3.5".into()), &none),
            "3.50"
        );
        assert_eq!(
            render(&column(Kind::Fraction), Some("0.15".into()), &none),
            "0.1500"
        );
        assert_eq!(render(&column(Kind::Text), None, &none), "");
        let flag = Table::Calendar.columns()[1];
        assert_eq!(render(&flag, Some("1".into()), &none), "true");
        assert_eq!(render(&flag, Some("false".into()), &none), "false");
        let members = HashMap::from([(1, "A".to_owned()), (2, "B".to_owned())]);
        assert_eq!(
            render(&column(Kind::Skus), Some("[2, 1]".into()), &members),
            "B|A"
        );
    }

    #[test]
    fn inverted_ranges_are_refused() {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2024, 1, d);
        assert!(check_range(day(2), day(1)).is_err());
        assert!(check_range(day(1), day(1)).is_ok());
        assert!(check_range(None, day(1)).is_ok());
    }

    #[test]
    fn chunks_hold_csv_records() {
        let mut chunk = Chunk::new();
        chunk.write(["a".to_owned(), "b,c".to_owned()]).unwrap();
        let bytes = chunk.take().ok().unwrap();
        assert_eq!(&bytes[..], b"a,\"b,c\"\n");
        assert_eq!(chunk.len(), 0);
    }
}
