//! Page 9, Showcase (`/ui/showcase`): start a demo run and watch its steps
//! stream live by phase (`WS /demo/stream`), approve or reject the agent's
//! held action inside the decision window (`POST /demo/hitl-decision`),
//! and work with the saved workspaces: filters, pin, archive, tags and
//! notes, reference health, export, replay, and two workspaces compared.
//!
//! The run, the decision and every change to a workspace go through the
//! JSON API from the page; the workspace list, detail, health and
//! comparison are fragments that read through the demo slice's own query
//! parser, repository and health probe.

use askama::Template;
use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap},
    response::Html,
    routing::get,
    Router,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    chart::{Chart, Colour, Series, Style},
    nav::{self, NavItem},
    page::{num, render, Layout},
};
use crate::{
    extract::{Query, Validate, Violations},
    features::demo::{
        client::PlatformClient,
        health,
        repo::{self, WorkspaceRow},
        schemas::valid_hex_id,
        ws_schemas::{
            ReferenceStatus, WorkspaceDetail, WorkspaceHealth, WorkspaceListItem,
            WorkspaceListQuery,
        },
    },
    problem::Problem,
    state::AppState,
};

/// This page's entry of the navigation.
const NAV: NavItem = nav::SHOWCASE;

/// The page and its fragments.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/showcase", get(page))
        .route("/ui/showcase/workspaces", get(workspaces))
        .route("/ui/showcase/workspace", get(workspace))
        .route("/ui/showcase/health", get(workspace_health))
        .route("/ui/showcase/compare", get(compare))
}

#[derive(Template)]
#[template(path = "showcase.html")]
struct ShowcasePage {
    layout: Layout,
}

async fn page() -> Result<Html<String>, Problem> {
    render(&ShowcasePage {
        layout: Layout::of(NAV),
    })
}

fn db_error(error: sqlx::Error) -> Problem {
    Problem::database(&error, "Could not read the workspace.")
}

/// The row of `id`, or the API's 404.
async fn load(state: &AppState, id: &str) -> Result<WorkspaceRow, Problem> {
    let missing = || Problem::not_found(format!("Workspace not found: {id}"));
    if !valid_hex_id(id) {
        return Err(missing());
    }
    repo::find(&state.db, id)
        .await
        .map_err(db_error)?
        .ok_or_else(missing)
}

/// The page's filter form sends tags comma-separated; the API repeats
/// `tags`. Everything else passes through unchanged.
fn api_query(raw: Option<&str>) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        if key == "tags" {
            for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                out.append_pair("tags", tag);
            }
        } else if !value.is_empty() {
            out.append_pair(&key, &value);
        }
    }
    out.finish()
}

#[derive(Template)]
#[template(path = "showcase_workspaces.html")]
struct WorkspacesFragment {
    workspaces: Vec<WorkspaceListItem>,
    total: i64,
    /// This list's own URL (what a refresh reloads).
    self_url: String,
    previous_url: Option<String>,
    next_url: Option<String>,
}

impl WorkspacesFragment {
    fn name(&self, item: &WorkspaceListItem) -> String {
        item.name.clone().unwrap_or_else(|| "(unnamed)".to_owned())
    }

    fn created(&self, item: &WorkspaceListItem) -> String {
        item.created_at.format("%Y-%m-%d %H:%M").to_string()
    }

    fn winner(&self, item: &WorkspaceListItem) -> String {
        summary_text(item.result_summary.as_ref(), "winner_model_type")
    }

    fn wape(&self, item: &WorkspaceListItem) -> String {
        num(
            item.result_summary
                .as_ref()
                .and_then(|s| s.get("winner_wape"))
                .and_then(Value::as_f64),
            3,
        )
    }
}

/// A text member of a summary object, or a dash.
fn summary_text(summary: Option<&Value>, key: &str) -> String {
    summary
        .and_then(|s| s.get(key))
        .and_then(Value::as_str)
        .map_or_else(|| "—".to_owned(), str::to_owned)
}

/// `GET /ui/showcase/workspaces?q=&tags=a,b&include_archived=&sort_by=&sort_order=&offset=`.
async fn workspaces(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, Problem> {
    let query_text = api_query(raw.as_deref());
    let query = WorkspaceListQuery::parse(Some(&query_text))?;
    let filter = query.into_filter();
    let (rows, total) = repo::list(&state.db, &filter).await.map_err(db_error)?;
    let url = |offset: i64| {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query_text.as_bytes())
            .filter(|(key, _)| key != "offset")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.push(("offset".into(), offset.to_string()));
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.extend_pairs(pairs);
        format!("/ui/showcase/workspaces?{}", out.finish())
    };
    let shown = filter.offset + rows.len() as i64;
    render(&WorkspacesFragment {
        workspaces: rows.iter().map(WorkspaceRow::list_item).collect(),
        total,
        self_url: url(filter.offset),
        previous_url: (filter.offset > 0).then(|| url((filter.offset - filter.limit).max(0))),
        next_url: (shown < total).then(|| url(shown)),
    })
}

/// `?workspace_id=`.
#[derive(Debug, Deserialize)]
struct WorkspaceRef {
    workspace_id: String,
}

impl Validate for WorkspaceRef {
    fn validate(&self, v: &mut Violations) {
        v.length("workspace_id", &self.workspace_id, 1, 64);
    }
}

#[derive(Template)]
#[template(path = "showcase_workspace.html")]
struct WorkspaceFragment {
    detail: WorkspaceDetail,
    /// The `WS /demo/stream` start frame that replays this workspace.
    replay: String,
    approvals: Vec<Value>,
    charts: Vec<Chart>,
}

impl WorkspaceFragment {
    fn name(&self) -> String {
        self.detail.item.name.clone().unwrap_or_default()
    }

    fn text(&self, value: &Value, key: &str) -> String {
        match value.get(key) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Null) | None => "—".to_owned(),
            Some(other) => other.to_string(),
        }
    }

    fn json(&self, value: &Option<Value>) -> String {
        value
            .as_ref()
            .map_or_else(|| "—".to_owned(), Value::to_string)
    }

    fn window(&self) -> String {
        match (self.detail.date_start, self.detail.date_end) {
            (Some(start), Some(end)) => format!("{start} to {end}"),
            _ => "—".to_owned(),
        }
    }

    fn focus(&self) -> String {
        match (self.detail.store_id, self.detail.product_id) {
            (Some(store), Some(product)) => format!("store {store} × product {product}"),
            _ => "—".to_owned(),
        }
    }

    fn created_objects(&self) -> Vec<(String, String)> {
        self.detail
            .created_objects
            .as_object()
            .map(|objects| {
                objects
                    .iter()
                    .map(|(key, value)| {
                        let shown = match value {
                            Value::String(text) => text.clone(),
                            other => other.to_string(),
                        };
                        (key.clone(), shown)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The start frame that replays `detail`: the same seed, preset, data
/// knobs, focus and run config, kept as a new workspace pointing back.
fn replay_frame(detail: &WorkspaceDetail) -> Value {
    let item = &detail.item;
    let mut frame = Map::new();
    frame.insert("seed".into(), json!(item.seed));
    frame.insert("scenario".into(), json!(item.scenario));
    frame.insert("reset".into(), json!(item.reset));
    frame.insert("skip_seed".into(), json!(item.skip_seed));
    frame.insert("preservation".into(), json!("keep"));
    frame.insert(
        "replayed_from_workspace_id".into(),
        json!(item.workspace_id),
    );
    if let Some(name) = &item.name {
        frame.insert("workspace_name".into(), json!(name));
    }
    if let Some(overrides) = item.seed_overrides.as_ref().filter(|o| !o.is_null()) {
        frame.insert("seed_overrides".into(), overrides.clone());
    }
    if let Some(scope) = item.user_scope.as_ref().filter(|s| !s.is_null()) {
        frame.insert("user_scope".into(), scope.clone());
    }
    if let Some(config) = item.run_config.as_ref() {
        for key in ["train_model_types", "backtest"] {
            if let Some(value) = config.get(key).filter(|v| !v.is_null()) {
                frame.insert(key.into(), value.clone());
            }
        }
    }
    Value::Object(frame)
}

/// Milliseconds per phase of a workspace, from its `phase_summaries`.
fn phase_durations(detail: &WorkspaceDetail) -> Vec<(String, f64)> {
    detail
        .phase_summaries
        .as_ref()
        .and_then(|s| s.get("phases"))
        .and_then(Value::as_array)
        .map(|phases| {
            phases
                .iter()
                .map(|phase| {
                    (
                        phase["phase"].as_str().unwrap_or("?").to_owned(),
                        phase["duration_ms"].as_f64().unwrap_or(0.0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Seconds per phase of each workspace, on the phases of the first then
/// those only the others have.
fn phase_chart(id: &str, title: String, workspaces: &[(String, &WorkspaceDetail)]) -> Chart {
    let mut chart = Chart::categories(id, title, "seconds");
    let durations: Vec<Vec<(String, f64)>> = workspaces
        .iter()
        .map(|(_, detail)| phase_durations(detail))
        .collect();
    for phases in &durations {
        for (phase, _) in phases {
            if !chart.x.contains(phase) {
                chart.x.push(phase.clone());
            }
        }
    }
    let colours = [Colour::Blue, Colour::Vermillion];
    let styles = [Style::Line, Style::Dashed];
    for (i, ((label, _), phases)) in workspaces.iter().zip(&durations).enumerate() {
        let values = chart
            .x
            .iter()
            .map(|phase| {
                phases
                    .iter()
                    .find(|(p, _)| p == phase)
                    .map(|(_, ms)| ms.round() / 1000.0)
            })
            .collect();
        chart.push(Series::new(
            label.clone(),
            values,
            styles[i % 2],
            colours[i % 2],
        ));
    }
    chart
}

/// `GET /ui/showcase/workspace?workspace_id=`: one workspace with its
/// story, editing, export and replay controls.
async fn workspace(
    State(state): State<AppState>,
    Query(WorkspaceRef { workspace_id }): Query<WorkspaceRef>,
) -> Result<Html<String>, Problem> {
    let detail = load(&state, &workspace_id).await?.detail();
    let replay = replay_frame(&detail).to_string();
    let approvals = detail
        .approval_events
        .as_ref()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let charts = if phase_durations(&detail).is_empty() {
        Vec::new()
    } else {
        vec![phase_chart(
            "workspace-phases",
            "Seconds per phase".to_owned(),
            &[("seconds".to_owned(), &detail)],
        )]
    };
    render(&WorkspaceFragment {
        detail,
        replay,
        approvals,
        charts,
    })
}

#[derive(Template)]
#[template(path = "showcase_health.html")]
struct HealthFragment {
    health: WorkspaceHealth,
}

impl HealthFragment {
    fn status(&self, status: &ReferenceStatus) -> &'static str {
        match status {
            ReferenceStatus::Alive => "alive",
            ReferenceStatus::Dead => "dead",
            ReferenceStatus::Unknown => "unknown",
        }
    }
}

/// `GET /ui/showcase/health?workspace_id=`: every soft reference probed
/// as `GET /demo/workspaces/{id}/health` probes it.
async fn workspace_health(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(WorkspaceRef { workspace_id }): Query<WorkspaceRef>,
) -> Result<Html<String>, Problem> {
    let row = load(&state, &workspace_id).await?;
    let client = PlatformClient::new(&state, headers.get(header::AUTHORIZATION).cloned());
    render(&HealthFragment {
        health: health::check(&client, &row).await,
    })
}

/// `?a=&b=`: the two workspaces compared.
#[derive(Debug, Deserialize)]
struct CompareQuery {
    a: String,
    b: String,
}

impl Validate for CompareQuery {
    fn validate(&self, v: &mut Violations) {
        v.length("a", &self.a, 1, 64);
        v.length("b", &self.b, 1, 64);
        if self.a == self.b {
            v.push("b", "Select two different workspaces", "value_error");
        }
    }
}

/// One line of the comparison.
#[derive(Debug)]
struct CompareRow {
    field: &'static str,
    a: String,
    b: String,
}

impl CompareRow {
    fn differs(&self) -> bool {
        self.a != self.b
    }
}

#[derive(Template)]
#[template(path = "showcase_compare.html")]
struct CompareFragment {
    a: String,
    b: String,
    rows: Vec<CompareRow>,
    charts: Vec<Chart>,
}

/// What the comparison shows of a workspace, field by field.
fn compared_fields(detail: &WorkspaceDetail) -> Vec<(&'static str, String)> {
    let item = &detail.item;
    let summary = item.result_summary.as_ref();
    let text = |value: Option<&Value>| match value {
        None | Some(Value::Null) => "—".to_owned(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    let decisions: Vec<String> = detail
        .approval_events
        .as_ref()
        .and_then(Value::as_array)
        .map(|events| {
            events
                .iter()
                .map(|e| text(e.get("decision")))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    vec![
        ("name", item.name.clone().unwrap_or_default()),
        ("status", item.status.clone()),
        ("scenario", item.scenario.clone()),
        ("seed", item.seed.to_string()),
        ("seed overrides", text(item.seed_overrides.as_ref())),
        ("run config", text(item.run_config.as_ref())),
        (
            "focus",
            match (detail.store_id, detail.product_id) {
                (Some(s), Some(p)) => format!("store {s} × product {p}"),
                _ => "—".to_owned(),
            },
        ),
        (
            "data window",
            match (detail.date_start, detail.date_end) {
                (Some(s), Some(e)) => format!("{s} to {e}"),
                _ => "—".to_owned(),
            },
        ),
        (
            "winner",
            text(summary.and_then(|s| s.get("winner_model_type"))),
        ),
        (
            "winner WAPE",
            num(
                summary
                    .and_then(|s| s.get("winner_wape"))
                    .and_then(Value::as_f64),
                4,
            ),
        ),
        (
            "wall clock (s)",
            num(
                summary
                    .and_then(|s| s.get("wall_clock_s"))
                    .and_then(Value::as_f64),
                2,
            ),
        ),
        ("HITL decisions", decisions.join(", ")),
        (
            "created objects",
            detail
                .created_objects
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
        ),
        ("tags", item.tags.join(", ")),
        ("pinned", item.pinned.to_string()),
        ("archived", item.archived.to_string()),
    ]
}

/// `GET /ui/showcase/compare?a=&b=`: two workspaces side by side, with
/// their seconds per phase on one chart.
async fn compare(
    State(state): State<AppState>,
    Query(query): Query<CompareQuery>,
) -> Result<Html<String>, Problem> {
    let a = load(&state, &query.a).await?.detail();
    let b = load(&state, &query.b).await?.detail();
    let rows = compared_fields(&a)
        .into_iter()
        .zip(compared_fields(&b))
        .map(|((field, a), (_, b))| CompareRow { field, a, b })
        .collect();
    let label = |detail: &WorkspaceDetail, tag: &str| {
        format!(
            "{tag}: {}",
            detail
                .item
                .name
                .clone()
                .unwrap_or_else(|| detail.item.workspace_id.clone())
        )
    };
    let charts = vec![phase_chart(
        "workspace-compare-phases",
        "Seconds per phase, A against B".to_owned(),
        &[(label(&a, "A"), &a), (label(&b, "B"), &b)],
    )];
    render(&CompareFragment {
        a: query.a,
        b: query.b,
        rows,
        charts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::demo::ws_schemas::WORKSPACE_PAGE_SIZE;

    #[test]
    fn comma_separated_tags_become_repeated_parameters() {
        assert_eq!(
            api_query(Some("q=demo&tags=a%2C+b&include_archived=&sort_by=name")),
            "q=demo&tags=a&tags=b&sort_by=name"
        );
        assert_eq!(api_query(None), "");
    }

    #[test]
    fn unknown_sort_columns_fall_back_to_newest_first() {
        let parse = |raw: &str| WorkspaceListQuery::parse(Some(raw)).unwrap().into_filter();
        let unknown = parse("sort_by=bogus&sort_order=asc");
        assert_eq!(
            (unknown.sort_column, unknown.direction),
            ("created_at", "DESC")
        );
        let by_name = parse("sort_by=name&sort_order=asc");
        assert_eq!((by_name.sort_column, by_name.direction), ("name", "ASC"));
        let default = parse("");
        assert_eq!(
            (default.sort_column, default.direction, default.limit),
            ("created_at", "DESC", WORKSPACE_PAGE_SIZE)
        );
    }
}
