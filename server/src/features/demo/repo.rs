//! SQL of `showcase_workspace`. Written once for both dialects except the
//! tag containment filter.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::types::Json;

use crate::{db::Db, with_db};

/// A `showcase_workspace` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkspaceRow {
    /// 32-hex id.
    pub workspace_id: String,
    /// Optional name.
    pub name: Option<String>,
    /// running, completed or failed.
    pub status: String,
    /// Seed of the run.
    pub seed: i64,
    /// Preset of the run.
    pub scenario: String,
    /// Whether the run reset the data.
    pub reset: bool,
    /// Whether the run skipped seeding.
    pub skip_seed: bool,
    /// Focus store.
    pub store_id: Option<i64>,
    /// Focus product.
    pub product_id: Option<i64>,
    /// First day of data.
    pub date_start: Option<NaiveDate>,
    /// Last day of data.
    pub date_end: Option<NaiveDate>,
    /// Objects the run created.
    pub created_objects: Json<Value>,
    /// Headline figures.
    pub result_summary: Option<Json<Value>>,
    /// Hidden from the default list.
    pub archived: bool,
    /// Listed first.
    pub pinned: bool,
    /// Free text.
    pub notes: Option<String>,
    /// Tags.
    pub tags: Json<Value>,
    /// Slot schema version.
    pub config_schema_version: i64,
    /// The workspace this run replayed.
    pub replayed_from_workspace_id: Option<String>,
    /// Seeder knobs.
    pub seed_overrides: Option<Json<Value>>,
    /// Focus pair asked for.
    pub user_scope: Option<Json<Value>>,
    /// HITL decisions.
    pub approval_events: Option<Json<Value>>,
    /// Knowledge-step events.
    pub rag_events: Option<Json<Value>>,
    /// Jobs submitted.
    pub job_ids: Option<Json<Value>>,
    /// Step timeline.
    pub phase_summaries: Option<Json<Value>>,
    /// Models and backtest split asked for.
    pub run_config: Option<Json<Value>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "workspace_id, name, status, CAST(seed AS BIGINT) AS seed, scenario, \
    reset, skip_seed, CAST(store_id AS BIGINT) AS store_id, \
    CAST(product_id AS BIGINT) AS product_id, date_start, date_end, created_objects, \
    result_summary, archived, pinned, notes, tags, \
    CAST(config_schema_version AS BIGINT) AS config_schema_version, \
    replayed_from_workspace_id, seed_overrides, user_scope, approval_events, rag_events, \
    job_ids, phase_summaries, run_config, created_at";

/// Values of a new (running) workspace.
#[derive(Debug)]
pub struct NewWorkspace<'a> {
    /// 32-hex id.
    pub workspace_id: &'a str,
    /// Optional name.
    pub name: Option<&'a str>,
    /// Seed.
    pub seed: i64,
    /// Preset.
    pub scenario: &'a str,
    /// Reset flag.
    pub reset: bool,
    /// Skip-seed flag.
    pub skip_seed: bool,
    /// Replay lineage.
    pub replayed_from_workspace_id: Option<&'a str>,
    /// Set seeder knobs.
    pub seed_overrides: Option<Value>,
    /// Focus pair.
    pub user_scope: Option<Value>,
    /// Run config.
    pub run_config: Option<Value>,
}

/// Inserts a `running` row (schema version 2).
pub async fn insert(db: &Db, new: &NewWorkspace<'_>) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO showcase_workspace (workspace_id, name, status, seed, scenario, reset, \
             skip_seed, created_objects, tags, config_schema_version, replayed_from_workspace_id, \
             seed_overrides, user_scope, run_config, created_at, updated_at) \
             VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, 2, $9, $10, $11, $12, $13, $13)",
        )
        .bind(new.workspace_id)
        .bind(new.name)
        .bind(new.seed)
        .bind(new.scenario)
        .bind(new.reset)
        .bind(new.skip_seed)
        .bind(Json(Value::Object(Default::default())))
        .bind(Json(Value::Array(Vec::new())))
        .bind(new.replayed_from_workspace_id)
        .bind(new.seed_overrides.as_ref().map(Json))
        .bind(new.user_scope.as_ref().map(Json))
        .bind(new.run_config.as_ref().map(Json))
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// What a finished run writes.
#[derive(Debug)]
pub struct WorkspaceFinal {
    /// completed or failed.
    pub status: &'static str,
    /// Focus store.
    pub store_id: Option<i64>,
    /// Focus product.
    pub product_id: Option<i64>,
    /// First day of data.
    pub date_start: Option<NaiveDate>,
    /// Last day of data.
    pub date_end: Option<NaiveDate>,
    /// Sparse created objects.
    pub created_objects: Value,
    /// Headline figures.
    pub result_summary: Value,
    /// HITL decisions (null when none).
    pub approval_events: Option<Value>,
    /// Knowledge events (null when none).
    pub rag_events: Option<Value>,
    /// Jobs (null when none).
    pub job_ids: Option<Value>,
    /// Timeline.
    pub phase_summaries: Value,
}

/// Writes the outcome of a run.
pub async fn finalize(db: &Db, id: &str, f: &WorkspaceFinal) -> Result<(), sqlx::Error> {
    with_db!(db, pool => {
        sqlx::query(
            "UPDATE showcase_workspace SET status = $2, store_id = $3, product_id = $4, \
             date_start = $5, date_end = $6, created_objects = $7, result_summary = $8, \
             approval_events = $9, rag_events = $10, job_ids = $11, phase_summaries = $12, \
             updated_at = $13 WHERE workspace_id = $1",
        )
        .bind(id)
        .bind(f.status)
        .bind(f.store_id)
        .bind(f.product_id)
        .bind(f.date_start)
        .bind(f.date_end)
        .bind(Json(&f.created_objects))
        .bind(Json(&f.result_summary))
        .bind(f.approval_events.as_ref().map(Json))
        .bind(f.rag_events.as_ref().map(Json))
        .bind(f.job_ids.as_ref().map(Json))
        .bind(Json(&f.phase_summaries))
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// One row by id.
pub async fn find(db: &Db, id: &str) -> Result<Option<WorkspaceRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM showcase_workspace WHERE workspace_id = $1");
    with_db!(db, pool => {
        sqlx::query_as::<_, WorkspaceRow>(&sql).bind(id).fetch_optional(pool).await
    })
}

/// Filters and order of a list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Case-insensitive name substring.
    pub q: Option<String>,
    /// Tags every row must carry.
    pub tags: Vec<String>,
    /// Include archived rows.
    pub include_archived: bool,
    /// Allow-listed sort column.
    pub sort_column: &'static str,
    /// `ASC` or `DESC`.
    pub direction: &'static str,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

enum Arg {
    Text(String),
    Bool(bool),
    Int(i64),
}

/// `WHERE …` of a list and its arguments (numbered from `$1`).
fn list_where(db: &Db, filter: &ListFilter) -> (String, Vec<Arg>) {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    if !filter.include_archived {
        args.push(Arg::Bool(false));
        clauses.push(format!("archived = ${}", args.len()));
    }
    if let Some(q) = &filter.q {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(Arg::Text(format!("%{escaped}%")));
        clauses.push(format!("LOWER(name) LIKE ${} ESCAPE '\\'", args.len()));
    }
    for tag in &filter.tags {
        args.push(Arg::Text(tag.clone()));
        let n = args.len();
        clauses.push(match db {
            Db::Postgres(_) => format!(
                "EXISTS (SELECT 1 FROM jsonb_array_elements_text(tags) AS t(value) WHERE t.value = ${n})"
            ),
            Db::Sqlite(_) => format!(
                "EXISTS (SELECT 1 FROM json_each(showcase_workspace.tags) AS t WHERE t.value = ${n})"
            ),
        });
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (sql, args)
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Bool(flag) => query.bind(*flag),
                Arg::Int(n) => query.bind(*n),
            };
        }
        query
    }};
}

/// A page of rows and the filtered total. Pinned rows first, then the sort
/// (NULL names last), then newest internal id.
pub async fn list(db: &Db, filter: &ListFilter) -> Result<(Vec<WorkspaceRow>, i64), sqlx::Error> {
    let (where_sql, mut args) = list_where(db, filter);
    let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM showcase_workspace{where_sql}");
    let total = with_db!(db, pool => {
        bind_all!(sqlx::query_scalar::<_, i64>(&count_sql), &args).fetch_one(pool).await
    })?;
    args.push(Arg::Int(filter.limit));
    args.push(Arg::Int(filter.offset));
    let n = args.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM showcase_workspace{where_sql} ORDER BY pinned DESC, {} {} NULLS LAST, \
         id DESC LIMIT ${} OFFSET ${n}",
        filter.sort_column,
        filter.direction,
        n - 1
    );
    let rows = with_db!(db, pool => {
        bind_all!(sqlx::query_as::<_, WorkspaceRow>(&sql), &args).fetch_all(pool).await
    })?;
    Ok((rows, total))
}

/// The present keys of a PATCH (`Some(None)` clears a nullable column).
#[derive(Debug, Default)]
pub struct WorkspacePatch {
    /// Name.
    pub name: Option<Option<String>>,
    /// Notes.
    pub notes: Option<Option<String>>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Archived flag.
    pub archived: Option<bool>,
    /// Pinned flag.
    pub pinned: Option<bool>,
}

/// Applies a patch; false when the row does not exist.
pub async fn update(db: &Db, id: &str, patch: &WorkspacePatch) -> Result<bool, sqlx::Error> {
    let mut sets = Vec::new();
    let mut next = 2;
    let mut column = |name: &str| {
        sets.push(format!("{name} = ${next}"));
        next += 1;
    };
    if patch.name.is_some() {
        column("name");
    }
    if patch.notes.is_some() {
        column("notes");
    }
    if patch.tags.is_some() {
        column("tags");
    }
    if patch.archived.is_some() {
        column("archived");
    }
    if patch.pinned.is_some() {
        column("pinned");
    }
    column("updated_at");
    let sql = format!(
        "UPDATE showcase_workspace SET {} WHERE workspace_id = $1",
        sets.join(", ")
    );
    let affected = with_db!(db, pool => {
        let mut query = sqlx::query(&sql).bind(id);
        if let Some(name) = &patch.name {
            query = query.bind(name.clone());
        }
        if let Some(notes) = &patch.notes {
            query = query.bind(notes.clone());
        }
        if let Some(tags) = &patch.tags {
            query = query.bind(Json(serde_json::json!(tags)));
        }
        if let Some(archived) = patch.archived {
            query = query.bind(archived);
        }
        if let Some(pinned) = patch.pinned {
            query = query.bind(pinned);
        }
        query
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(affected > 0)
}

/// Deletes the row only; false when it does not exist.
pub async fn delete(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let affected = with_db!(db, pool => {
        sqlx::query("DELETE FROM showcase_workspace WHERE workspace_id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(affected > 0)
}

/// `(workspace_id, name, approval_events)` of the newest 50 rows that have
/// approval events, newest first.
pub async fn approval_slots(
    db: &Db,
) -> Result<Vec<(String, Option<String>, Json<Value>)>, sqlx::Error> {
    const SQL: &str = "SELECT workspace_id, name, approval_events FROM showcase_workspace \
        WHERE approval_events IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 50";
    with_db!(db, pool => {
        sqlx::query_as::<_, (String, Option<String>, Json<Value>)>(SQL).fetch_all(pool).await
    })
}
