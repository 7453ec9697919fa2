//! Page 5, Registry (`/ui/registry`): the runs table with filters, sort
//! and pages; a run's detail with its verify button and an alias form; the
//! aliases with their history; two runs compared side by side.

use askama::Template;
use axum::{extract::State, response::Html, routing::get, Router};
use serde::Deserialize;
use serde_json::Value;

use super::{
    nav::{self, NavItem},
    page::{num, render, Layout, Pager},
};
use crate::{
    extract::{Path, Query, Validate, Violations},
    features::{
        jobs::params::is_hex,
        registry::{
            schemas::{
                AliasHistoryResponse, AliasResponse, CompareResponse, RunListQuery, RunResponse,
                RunStatus, VerifyResponse,
            },
            service,
        },
    },
    models::{catalog, ModelInfo},
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::REGISTRY;

/// The page and its fragments.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/registry", get(page))
        .route("/ui/registry/runs", get(runs))
        .route("/ui/registry/runs/{run_id}", get(run_detail))
        .route("/ui/registry/runs/{run_id}/verify", get(verify))
        .route("/ui/registry/compare/{run_a}/{run_b}", get(compare))
        .route("/ui/registry/aliases", get(aliases))
        .route(
            "/ui/registry/aliases/{alias_name}/history",
            get(alias_history),
        )
}

/// The page may open on one run (`?run_id=`, as linked from the jobs).
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    run_id: Option<String>,
}

impl Validate for PageQuery {
    fn validate(&self, v: &mut Violations) {
        if let Some(run_id) = &self.run_id {
            if !is_hex(run_id, 32) {
                v.push(
                    "run_id",
                    "Expected a 32-hex run id",
                    "string_pattern_mismatch",
                );
            }
        }
    }
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    layout: Layout,
    models: Vec<ModelInfo>,
    open_run: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
) -> Result<Html<String>, Problem> {
    render(&RegistryPage {
        layout: Layout::of(NAV),
        models: catalog(&state.settings),
        open_run: query.run_id,
    })
}

/// A metric of a run, formatted.
fn metric(run: &RunResponse, name: &str) -> String {
    num(
        run.metrics
            .as_ref()
            .and_then(|m| m.get(name))
            .and_then(Value::as_f64),
        3,
    )
}

/// The metric names of a run, sorted.
fn metric_rows(run: &RunResponse) -> Vec<(String, String)> {
    let Some(Value::Object(metrics)) = &run.metrics else {
        return Vec::new();
    };
    let mut rows: Vec<(String, String)> = metrics
        .iter()
        .map(|(name, value)| {
            let shown = value
                .as_f64()
                .map_or_else(|| value.to_string(), |v| num(Some(v), 4));
            (name.clone(), shown)
        })
        .collect();
    rows.sort();
    rows
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "registry_runs.html")]
struct RunsTable {
    runs: Vec<RunResponse>,
    pager: Pager,
}

impl RunsTable {
    fn wape(&self, run: &RunResponse) -> String {
        metric(run, "wape")
    }

    fn mae(&self, run: &RunResponse) -> String {
        metric(run, "mae")
    }
}

async fn runs(
    State(state): State<AppState>,
    Query(query): Query<RunListQuery>,
) -> Result<Html<String>, Problem> {
    let filters = [
        ("model_type", query.model_type.clone()),
        ("status", query.status.map(|s| s.as_str().to_owned())),
        ("store_id", query.store_id.map(|id| id.to_string())),
        ("product_id", query.product_id.map(|id| id.to_string())),
        ("sort_by", query.sort_by.clone()),
        ("sort_order", query.sort_order.clone()),
    ];
    let list = service::list_runs(&state, query).await?;
    render(&RunsTable {
        pager: Pager::new(
            "/ui/registry/runs",
            &filters,
            list.page,
            list.page_size,
            list.total,
        ),
        runs: list.runs,
    })
}

#[derive(Template)]
#[template(path = "registry_run.html")]
struct RunDetail {
    run: RunResponse,
    config: String,
    metrics: Vec<(String, String)>,
    can_alias: bool,
}

async fn run_detail(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Html<String>, Problem> {
    let run = service::get_run(&state, &run_id).await?;
    render(&RunDetail {
        config: pretty(&run.model_config),
        metrics: metric_rows(&run),
        can_alias: run.status == RunStatus::Success,
        run,
    })
}

#[derive(Template)]
#[template(path = "registry_verify.html")]
struct VerifyFragment {
    outcome: VerifyResponse,
}

async fn verify(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Html<String>, Problem> {
    let outcome = service::verify_run(&state, &run_id).await?;
    render(&VerifyFragment { outcome })
}

/// One line of the side-by-side comparison.
#[derive(Debug)]
struct CompareRow {
    field: String,
    a: String,
    b: String,
    differs: bool,
}

impl CompareRow {
    fn new(field: impl Into<String>, a: impl ToString, b: impl ToString) -> Self {
        let (a, b) = (a.to_string(), b.to_string());
        Self {
            field: field.into(),
            differs: a != b,
            a,
            b,
        }
    }
}

#[derive(Template)]
#[template(path = "registry_compare.html")]
struct CompareFragment {
    run_a: String,
    run_b: String,
    rows: Vec<CompareRow>,
    metrics: Vec<(String, String, String, String)>,
}

fn compare_rows(compared: &CompareResponse) -> Vec<CompareRow> {
    let (a, b) = (&compared.run_a, &compared.run_b);
    let mut rows = vec![
        CompareRow::new("status", a.status.as_str(), b.status.as_str()),
        CompareRow::new("model type", &a.model_type, &b.model_type),
        CompareRow::new("config hash", &a.config_hash, &b.config_hash),
        CompareRow::new("store", a.store_id, b.store_id),
        CompareRow::new("product", a.product_id, b.product_id),
        CompareRow::new("window start", a.data_window_start, b.data_window_start),
        CompareRow::new("window end", a.data_window_end, b.data_window_end),
    ];
    let empty = serde_json::Map::new();
    let config_a = a.model_config.as_object().unwrap_or(&empty);
    let config_b = b.model_config.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = config_a.keys().chain(config_b.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let shown = |value: Option<&Value>| value.map_or_else(|| "—".to_owned(), Value::to_string);
        rows.push(CompareRow::new(
            format!("config.{key}"),
            shown(config_a.get(key)),
            shown(config_b.get(key)),
        ));
    }
    rows
}

async fn compare(
    State(state): State<AppState>,
    Path((run_a, run_b)): Path<(String, String)>,
) -> Result<Html<String>, Problem> {
    let compared = service::compare(&state, &run_a, &run_b).await?;
    let metrics = compared
        .metrics_diff
        .as_object()
        .map(|diff| {
            diff.iter()
                .map(|(name, entry)| {
                    let cell = |key: &str| num(entry.get(key).and_then(Value::as_f64), 4);
                    (name.clone(), cell("a"), cell("b"), cell("diff"))
                })
                .collect()
        })
        .unwrap_or_default();
    render(&CompareFragment {
        rows: compare_rows(&compared),
        metrics,
        run_a,
        run_b,
    })
}

#[derive(Template)]
#[template(path = "registry_aliases.html")]
struct AliasesFragment {
    aliases: Vec<AliasResponse>,
}

async fn aliases(State(state): State<AppState>) -> Result<Html<String>, Problem> {
    render(&AliasesFragment {
        aliases: service::list_aliases(&state).await?,
    })
}

#[derive(Template)]
#[template(path = "registry_alias_history.html")]
struct AliasHistoryFragment {
    history: AliasHistoryResponse,
}

async fn alias_history(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Html<String>, Problem> {
    render(&AliasHistoryFragment {
        history: service::alias_history(&state, &name).await?,
    })
}
