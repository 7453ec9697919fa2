//! HTTP handlers of the saved workspaces and the approval history.

use axum::{
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    Json as JsonResponse,
};
use serde_json::{json, Value};

use super::{
    client::PlatformClient,
    export, health,
    repo::{self, WorkspacePatch, WorkspaceRow},
    schemas::valid_hex_id,
    ws_schemas::{
        ApprovalEvents, ApprovalEventsQuery, WorkspaceDetail, WorkspaceExport, WorkspaceHealth,
        WorkspaceList, WorkspaceListQuery, WorkspaceUpdate,
    },
};
use crate::{
    extract::{Json, Path, Query},
    problem::{Problem, ProblemBody},
    state::AppState,
};

fn db_error(error: sqlx::Error) -> Problem {
    Problem::database(&error, "Could not read or write the workspace.")
}

fn missing(id: &str) -> Problem {
    Problem::not_found(format!("Workspace not found: {id}"))
}

/// The row of `id` or a 404 (also for ids that cannot exist).
async fn load(state: &AppState, id: &str) -> Result<WorkspaceRow, Problem> {
    if !valid_hex_id(id) {
        return Err(missing(id));
    }
    repo::find(&state.db, id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| missing(id))
}

/// Saved workspaces: pinned first, then `sort_by` (`created_at` default,
/// `name` with nulls last, `seed`, `status`; unknown → `created_at desc`)
/// and `sort_order`. Archived rows are hidden unless `include_archived`;
/// `q` searches names case-insensitively; repeated `tags` must all match.
/// `total` counts the filtered set.
#[utoipa::path(get, path = "/demo/workspaces", tag = "demo", operation_id = "list_demo_workspaces", params(WorkspaceListQuery),
    responses(
        (status = 200, description = "A page of workspaces", body = WorkspaceList),
        (status = 422, description = "Invalid query", body = ProblemBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<JsonResponse<WorkspaceList>, Problem> {
    let query = WorkspaceListQuery::parse(raw.as_deref())?;
    let filter = query.into_filter();
    let (rows, total) = repo::list(&state.db, &filter).await.map_err(db_error)?;
    Ok(JsonResponse(WorkspaceList {
        workspaces: rows.iter().map(WorkspaceRow::list_item).collect(),
        total,
    }))
}

/// One workspace with every slot.
#[utoipa::path(get, path = "/demo/workspaces/{workspace_id}", tag = "demo", operation_id = "get_demo_workspace",
    params(("workspace_id" = String, Path, description = "32-hex workspace id")),
    responses(
        (status = 200, description = "The workspace", body = WorkspaceDetail),
        (status = 404, description = "No such workspace", body = ProblemBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<JsonResponse<WorkspaceDetail>, Problem> {
    Ok(JsonResponse(load(&state, &id).await?.detail()))
}

/// Edits the present keys (`name`, `notes`, `tags`, `archived`,
/// `pinned`); `{}` changes nothing; `status` and other keys are a 422.
#[utoipa::path(patch, path = "/demo/workspaces/{workspace_id}", tag = "demo",
    request_body = WorkspaceUpdate,
    params(("workspace_id" = String, Path, description = "32-hex workspace id")),
    responses(
        (status = 200, description = "The updated workspace", body = WorkspaceDetail),
        (status = 404, description = "No such workspace", body = ProblemBody),
        (status = 422, description = "Invalid body", body = ProblemBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<WorkspaceUpdate>,
) -> Result<JsonResponse<WorkspaceDetail>, Problem> {
    load(&state, &id).await?;
    let patch = WorkspacePatch {
        name: body.name,
        notes: body.notes,
        tags: body.tags.flatten(),
        archived: body.archived.flatten(),
        pinned: body.pinned.flatten(),
    };
    let changes = patch.name.is_some()
        || patch.notes.is_some()
        || patch.tags.is_some()
        || patch.archived.is_some()
        || patch.pinned.is_some();
    if changes
        && !repo::update(&state.db, &id, &patch)
            .await
            .map_err(db_error)?
    {
        return Err(missing(&id));
    }
    Ok(JsonResponse(load(&state, &id).await?.detail()))
}

/// Deletes the workspace row only: the runs, aliases, plans, jobs and
/// sessions it references stay.
#[utoipa::path(delete, path = "/demo/workspaces/{workspace_id}", tag = "demo", operation_id = "delete_demo_workspace",
    params(("workspace_id" = String, Path, description = "32-hex workspace id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such workspace", body = ProblemBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    if valid_hex_id(&id) && repo::delete(&state.db, &id).await.map_err(db_error)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(missing(&id))
    }
}

/// Probes every soft reference of the workspace concurrently through the
/// platform's routes (10 s each): 2xx alive, 404 dead, anything else
/// unknown. `batch_id` is this platform's batch job (`/jobs/{id}`).
#[utoipa::path(get, path = "/demo/workspaces/{workspace_id}/health", tag = "demo",
    params(("workspace_id" = String, Path, description = "32-hex workspace id")),
    responses(
        (status = 200, description = "Liveness of every reference", body = WorkspaceHealth),
        (status = 404, description = "No such workspace", body = ProblemBody)))]
pub(crate) async fn workspace_health(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<JsonResponse<WorkspaceHealth>, Problem> {
    let row = load(&state, &id).await?;
    let client = PlatformClient::new(
        &state,
        headers.get(axum::http::header::AUTHORIZATION).cloned(),
    );
    Ok(JsonResponse(health::check(&client, &row).await))
}

/// Writes the bundle `SHOWCASE_EXPORT_ROOT/<id>/` (`manifest.json`,
/// `scenario_plans/<id>.json`, `checksums.sha256` for `sha256sum -c`),
/// replacing any earlier one, and verifies it from disk (`validated`).
/// 409 while the run is still `running`; 500 when the bundle cannot be
/// written. Nothing is written to the database.
#[utoipa::path(post, path = "/demo/workspaces/{workspace_id}/export", tag = "demo",
    params(("workspace_id" = String, Path, description = "32-hex workspace id")),
    responses(
        (status = 200, description = "The bundle", body = WorkspaceExport),
        (status = 404, description = "No such workspace", body = ProblemBody),
        (status = 409, description = "The run is still in progress", body = ProblemBody),
        (status = 500, description = "The bundle could not be written", body = ProblemBody)))]
pub(crate) async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<JsonResponse<WorkspaceExport>, Problem> {
    let row = load(&state, &id).await?;
    if row.status == "running" {
        return Err(Problem::conflict(
            "Cannot export while the run is still in progress; retry after the run settles.",
        ));
    }
    let client = PlatformClient::new(
        &state,
        headers.get(axum::http::header::AUTHORIZATION).cloned(),
    );
    let root = state.settings.showcase_export_root.clone();
    Ok(JsonResponse(export::export(&client, &root, &row).await?))
}

/// HITL decisions of the newest (≤ 50) workspaces that recorded some,
/// newest workspace first, flattened (each entry with `workspace_id` and
/// `workspace_name`), at most `limit`.
#[utoipa::path(get, path = "/demo/approval-events", tag = "demo", params(ApprovalEventsQuery),
    responses(
        (status = 200, description = "Recent decisions", body = ApprovalEvents),
        (status = 422, description = "Invalid query", body = ProblemBody)))]
pub(crate) async fn approval_events(
    State(state): State<AppState>,
    Query(query): Query<ApprovalEventsQuery>,
) -> Result<JsonResponse<ApprovalEvents>, Problem> {
    let limit = usize::try_from(query.limit).unwrap_or(50);
    let mut events = Vec::new();
    for (workspace_id, name, slot) in repo::approval_slots(&state.db).await.map_err(db_error)? {
        for entry in slot.0.as_array().into_iter().flatten() {
            if events.len() == limit {
                break;
            }
            let mut item = entry.as_object().cloned().unwrap_or_default();
            item.insert("workspace_id".into(), json!(workspace_id));
            item.insert("workspace_name".into(), json!(name));
            events.push(Value::Object(item));
        }
    }
    Ok(JsonResponse(ApprovalEvents {
        total: events.len() as i64,
        events,
    }))
}
