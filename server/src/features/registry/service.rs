//! Registry behaviour: creating runs (config hash, runtime info, duplicate
//! policy), lifecycle transitions, verification, aliases and comparison.
//! The jobs slice calls [`create_run`] and [`update_run`] so every trained
//! model lands here; batch jobs, which register a series' run once it is
//! trained and copied, use [`prepare_runs`] (one duplicate query for many
//! series) and [`record_finished_run`] (one insert per run).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use super::{
    hash,
    repo::{self, Audit, Ended, NewRun, RunChanges, RunFilter},
    schemas::{
        AliasCreate, AliasHistoryResponse, AliasResponse, CompareResponse, RunCreate, RunListQuery,
        RunListResponse, RunResponse, RunStatus, RunUpdate, VerifyResponse,
    },
};
use crate::{artifacts::StorageError, problem::Problem, state::AppState};

/// A fresh 32-hex id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// What the server records about itself on every run.
fn captured_runtime_info() -> Map<String, Value> {
    let mut info = Map::new();
    info.insert(
        "forecastlab_version".into(),
        env!("CARGO_PKG_VERSION").into(),
    );
    info.insert("os".into(), std::env::consts::OS.into());
    info.insert("arch".into(), std::env::consts::ARCH.into());
    info
}

fn not_found(run_id: &str) -> Problem {
    Problem::not_found(format!("Run not found: {run_id}"))
}

fn frame_version(runtime_info: Option<&Value>) -> i64 {
    runtime_info
        .and_then(|info| info.get("feature_frame_version"))
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

/// A run about to be registered: its id, canonical config, hash and
/// runtime info, the duplicate policy already applied.
#[derive(Debug)]
pub struct PreparedRun {
    /// The run id it will be stored under.
    pub run_id: String,
    request: RunCreate,
    model_config: Value,
    config_hash: String,
    runtime_info: Value,
}

/// How a run registered after the fact ended (see [`record_finished_run`]).
#[derive(Debug)]
pub struct FinishedRun {
    /// `success` or `failed`.
    pub status: RunStatus,
    /// When its work began.
    pub started_at: DateTime<Utc>,
    /// Its metrics.
    pub metrics: Option<Map<String, Value>>,
    /// `(uri, sha256, size)` of its registry copy (success).
    pub artifact: Option<(String, String, i64)>,
    /// Why it failed.
    pub error_message: Option<String>,
}

/// Gives a new run its id, config hash and runtime info and applies the
/// duplicate policy (`deny` → 409); nothing is written yet.
pub async fn prepare_run(state: &AppState, request: RunCreate) -> Result<PreparedRun, Problem> {
    let run = PreparedRun::new(request);
    if let Some(policy) = duplicate_policy(state) {
        let request = &run.request;
        let candidates = repo::duplicate_candidates(
            &state.db,
            &run.config_hash,
            request.store_id,
            request.product_id,
            request.data_window_start,
            request.data_window_end,
        )
        .await?;
        policy.apply(&run, candidates)?;
    }
    Ok(run)
}

/// A config hash and a data window (start, end).
type ConfigWindow<'a> = (&'a str, NaiveDate, NaiveDate);

/// [`prepare_run`] for many runs (a batch job's series): one duplicate
/// query per config and data window among them, not one per run. Under
/// `deny` the first duplicate in `requests`' order is the 409.
pub async fn prepare_runs(
    state: &AppState,
    requests: Vec<RunCreate>,
) -> Result<Vec<PreparedRun>, Problem> {
    let runs: Vec<PreparedRun> = requests.into_iter().map(PreparedRun::new).collect();
    let Some(policy) = duplicate_policy(state) else {
        return Ok(runs);
    };
    // The series of each (config hash, window) among the runs.
    let mut windows: HashMap<ConfigWindow<'_>, Vec<(i64, i64)>> = HashMap::new();
    for run in &runs {
        let request = &run.request;
        windows
            .entry((
                run.config_hash.as_str(),
                request.data_window_start,
                request.data_window_end,
            ))
            .or_default()
            .push((request.store_id, request.product_id));
    }
    let mut candidates = HashMap::new();
    for ((hash, start, end), keys) in windows {
        let found = repo::duplicate_candidates_many(&state.db, hash, &keys, start, end).await?;
        for (series, runs) in found {
            candidates.insert((hash, start, end, series), runs);
        }
    }
    for run in &runs {
        let request = &run.request;
        let key = (
            run.config_hash.as_str(),
            request.data_window_start,
            request.data_window_end,
            (request.store_id, request.product_id),
        );
        policy.apply(run, candidates.remove(&key).unwrap_or_default())?;
    }
    Ok(runs)
}

/// The registry's duplicate policy, `None` when duplicates are allowed
/// (not looked for).
fn duplicate_policy(state: &AppState) -> Option<DuplicatePolicy> {
    match state
        .settings
        .registry_duplicate_policy
        .to_ascii_lowercase()
        .as_str()
    {
        "allow" => None,
        "deny" => Some(DuplicatePolicy::Deny),
        _ => Some(DuplicatePolicy::Detect),
    }
}

/// What a run that duplicates an earlier one (same config hash, series,
/// window and frame version) gets.
#[derive(Debug, Clone, Copy)]
enum DuplicatePolicy {
    /// Registered, with a warning in the log.
    Detect,
    /// Refused with a 409 naming the earlier run.
    Deny,
}

impl DuplicatePolicy {
    /// Applies the policy to `run` given the newest-first runs of its
    /// config, series and window (`(run_id, runtime_info)`).
    fn apply(self, run: &PreparedRun, candidates: repo::Candidates) -> Result<(), Problem> {
        let version = frame_version(Some(&run.runtime_info));
        let duplicate = candidates
            .into_iter()
            .take(repo::DUPLICATE_CANDIDATES)
            .find(|(_, info)| frame_version(info.as_ref()) == version);
        match (duplicate, self) {
            (Some((existing, _)), Self::Deny) => Err(Problem::conflict(format!(
                "Duplicate run detected: {existing}"
            ))
            .with_extension("existing_run_id", existing)),
            (Some((existing, _)), Self::Detect) => {
                tracing::warn!(
                    existing_run_id = %existing,
                    config_hash = %run.config_hash,
                    "duplicate model run registered"
                );
                Ok(())
            }
            (None, _) => Ok(()),
        }
    }
}

impl PreparedRun {
    /// The run's id, canonical config, hash and runtime info.
    fn new(mut request: RunCreate) -> Self {
        let model_config = Value::Object(std::mem::take(&mut request.model_config));
        let config_hash = hash::config_hash(&model_config);
        let mut runtime_info = captured_runtime_info();
        if let Some(extras) = request.runtime_info_extras.take() {
            runtime_info.extend(extras);
        }
        Self {
            run_id: new_id(),
            request,
            model_config,
            config_hash,
            runtime_info: Value::Object(runtime_info),
        }
    }
}

async fn insert_prepared(
    state: &AppState,
    run: &PreparedRun,
    outcome: Option<&FinishedRun>,
) -> Result<(), Problem> {
    let request = &run.request;
    let feature_config = request.feature_config.clone().map(Value::Object);
    let agent_context = request
        .agent_context
        .as_ref()
        .map(|context| serde_json::to_value(context).unwrap_or(Value::Null));
    let metrics = outcome.and_then(|o| o.metrics.clone()).map(Value::Object);
    let ended = outcome.map(|outcome| Ended {
        status: outcome.status,
        started_at: outcome.started_at,
        metrics: metrics.as_ref(),
        artifact: outcome
            .artifact
            .as_ref()
            .map(|(uri, hash, size)| (uri.as_str(), hash.as_str(), *size)),
        error_message: outcome.error_message.as_deref(),
    });
    repo::insert_run(
        &state.db,
        &NewRun {
            run_id: &run.run_id,
            model_type: &request.model_type,
            model_config: &run.model_config,
            feature_config: feature_config.as_ref(),
            config_hash: &run.config_hash,
            data_window_start: request.data_window_start,
            data_window_end: request.data_window_end,
            store_id: request.store_id,
            product_id: request.product_id,
            runtime_info: &run.runtime_info,
            agent_context: agent_context.as_ref(),
            git_sha: request.git_sha.as_deref(),
            ended,
        },
    )
    .await?;
    Ok(())
}

/// Registers a new `pending` run, applying the duplicate policy.
pub async fn create_run(state: &AppState, request: RunCreate) -> Result<RunResponse, Problem> {
    let run = prepare_run(state, request).await?;
    insert_prepared(state, &run, None).await?;
    get_run(state, &run.run_id).await
}

/// Registers a run whose work is already over, in its final state
/// (`success` with its registry copy, or `failed`), with one insert and no
/// read-back: what batch jobs record once a series is trained and its
/// artifact copied and hashed. A status other than success or failed is
/// a 400.
pub async fn record_finished_run(
    state: &AppState,
    run: &PreparedRun,
    outcome: &FinishedRun,
) -> Result<(), Problem> {
    let valid = match outcome.status {
        RunStatus::Success => outcome.artifact.is_some(),
        RunStatus::Failed => true,
        _ => false,
    };
    if !valid {
        return Err(Problem::bad_request(format!(
            "A finished run is success with its artifact or failed, not {}",
            outcome.status.as_str()
        )));
    }
    insert_prepared(state, run, Some(outcome)).await
}

/// One run or 404.
pub async fn get_run(state: &AppState, run_id: &str) -> Result<RunResponse, Problem> {
    repo::find_run(&state.db, run_id)
        .await?
        .ok_or_else(|| not_found(run_id))
}

/// The 400 for a transition the lifecycle does not allow, listing the
/// valid targets in `detail` and in `valid_transitions`.
pub fn invalid_transition(from: RunStatus, to: RunStatus) -> Problem {
    let valid: Vec<&str> = from
        .valid_transitions()
        .iter()
        .map(|s| s.as_str())
        .collect();
    let listed: Vec<String> = valid.iter().map(|s| format!("'{s}'")).collect();
    Problem::bad_request(format!(
        "Invalid transition from {} to {}. Valid transitions: [{}]",
        from.as_str(),
        to.as_str(),
        listed.join(", ")
    ))
    .with_extension("current_status", from.as_str())
    .with_extension("requested_status", to.as_str())
    .with_extension("valid_transitions", json!(valid))
}

/// Applies a PATCH: 404, then the transition check (400), then the fields.
pub async fn update_run(
    state: &AppState,
    run_id: &str,
    update: RunUpdate,
) -> Result<RunResponse, Problem> {
    let current = get_run(state, run_id).await?;
    let mut changes = RunChanges::default();
    if let Some(to) = update.status {
        if !current.status.can_become(to) {
            return Err(invalid_transition(current.status, to));
        }
        changes.status = Some(to);
        changes.set_started_at = to == RunStatus::Running;
        changes.set_completed_at = matches!(to, RunStatus::Success | RunStatus::Failed);
    }
    let metrics = update.metrics.map(Value::Object);
    changes.metrics = metrics.as_ref();
    changes.artifact_uri = update.artifact_uri.as_deref();
    changes.artifact_hash = update.artifact_hash.as_deref();
    changes.artifact_size_bytes = update.artifact_size_bytes;
    changes.error_message = update.error_message.as_deref();
    let applied = repo::update_run(&state.db, run_id, current.status, &changes).await?;
    if !applied {
        return Err(Problem::conflict(format!(
            "Run {run_id} changed while it was being updated; retry."
        )));
    }
    get_run(state, run_id).await
}

/// Lists runs with filters, pagination and an allow-listed sort.
pub async fn list_runs(state: &AppState, query: RunListQuery) -> Result<RunListResponse, Problem> {
    let order_by = match query.sort_by.as_deref() {
        Some("model_type") => "model_type",
        Some("status") => "status",
        Some("store_id") => "store_id",
        Some("product_id") => "product_id",
        _ => "created_at",
    };
    // An unknown sort_by falls back to created_at desc whatever sort_order
    // says; a known one honours sort_order (anything but asc is desc).
    let known = query.sort_by.is_none()
        || order_by != "created_at"
        || query.sort_by.as_deref() == Some("created_at");
    let ascending = query
        .sort_order
        .as_deref()
        .is_some_and(|order| order.eq_ignore_ascii_case("asc"));
    let descending = !(known && ascending);
    let (runs, total) = repo::list_runs(
        &state.db,
        &RunFilter {
            model_type: query.model_type.as_deref(),
            status: query.status,
            store_id: query.store_id,
            product_id: query.product_id,
            order_by,
            descending,
            limit: query.page_size,
            offset: (query.page - 1) * query.page_size,
        },
    )
    .await?;
    Ok(RunListResponse {
        runs,
        total,
        page: query.page,
        page_size: query.page_size,
    })
}

/// Recomputes the artifact's SHA-256 and compares it with the stored one.
pub async fn verify_run(state: &AppState, run_id: &str) -> Result<VerifyResponse, Problem> {
    let run = get_run(state, run_id).await?;
    let uri = run
        .artifact_uri
        .ok_or_else(|| Problem::bad_request("Run has no associated artifact"))?;
    let stored = run
        .artifact_hash
        .ok_or_else(|| Problem::bad_request("Run has no stored artifact hash"))?;
    let outcome = state.artifacts.hash_registry(&uri).await;
    let (computed, _) = match outcome {
        Ok(found) => found,
        Err(StorageError::NotFound(uri)) => {
            return Err(Problem::not_found(format!("Artifact not found: {uri}"))
                .with_extension("verified", false))
        }
        Err(StorageError::Traversal(uri)) => {
            return Err(Problem::bad_request(format!(
                "Artifact path escapes the registry root: {uri}"
            )))
        }
        Err(error @ StorageError::NameTooLong(_)) => {
            return Err(Problem::bad_request(error.to_string()))
        }
        Err(StorageError::Io(error)) => return Err(Problem::internal(error)),
        Err(StorageError::Store(error)) => return Err(Problem::internal(error)),
    };
    if computed.eq_ignore_ascii_case(&stored) {
        Ok(VerifyResponse {
            verified: true,
            run_id: run.run_id,
            artifact_uri: uri,
            stored_hash: Some(stored),
            computed_hash: Some(computed),
            error: None,
        })
    } else {
        Ok(VerifyResponse {
            verified: false,
            run_id: run.run_id,
            error: Some(format!(
                "Checksum mismatch for {uri}: expected {stored}, got {computed}"
            )),
            artifact_uri: uri,
            stored_hash: None,
            computed_hash: None,
        })
    }
}

/// Creates or moves an alias onto a `success` run, recording the history.
pub async fn upsert_alias(
    state: &AppState,
    request: AliasCreate,
) -> Result<AliasResponse, Problem> {
    let run = repo::find_run(&state.db, &request.run_id)
        .await?
        .ok_or_else(|| Problem::bad_request(format!("Run not found: {}", request.run_id)))?;
    if run.status != RunStatus::Success {
        return Err(Problem::bad_request(format!(
            "Only SUCCESS runs can be aliased. Run {} has status: {}",
            run.run_id,
            run.status.as_str()
        ))
        .with_extension("run_status", run.status.as_str()));
    }
    repo::upsert_alias(
        &state.db,
        &request.alias_name,
        &run.run_id,
        request.description.as_deref(),
        Audit {
            actor: request.actor.as_deref(),
            reason: request.reason.as_deref(),
        },
    )
    .await?;
    get_alias(state, &request.alias_name).await
}

/// One alias or 404.
pub async fn get_alias(state: &AppState, name: &str) -> Result<AliasResponse, Problem> {
    repo::find_alias(&state.db, name)
        .await?
        .ok_or_else(|| Problem::not_found(format!("Alias not found: {name}")))
}

/// Every alias, by name.
pub async fn list_aliases(state: &AppState) -> Result<Vec<AliasResponse>, Problem> {
    Ok(repo::list_aliases(&state.db).await?)
}

/// Deletes an alias (404 when missing), recording the history.
pub async fn delete_alias(
    state: &AppState,
    name: &str,
    actor: Option<&str>,
    reason: Option<&str>,
) -> Result<(), Problem> {
    if repo::delete_alias(&state.db, name, Audit { actor, reason }).await? {
        Ok(())
    } else {
        Err(Problem::not_found(format!("Alias not found: {name}")))
    }
}

/// The history of an alias, oldest first; 404 when it never existed.
pub async fn alias_history(state: &AppState, name: &str) -> Result<AliasHistoryResponse, Problem> {
    let history = repo::alias_history(&state.db, name).await?;
    if history.is_empty() {
        return Err(Problem::not_found(format!("Alias not found: {name}")));
    }
    Ok(AliasHistoryResponse {
        alias_name: name.to_owned(),
        history,
    })
}

fn numeric(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(number) => number.as_f64(),
        Value::Bool(flag) => Some(if *flag { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// `config_diff` over the union of top-level keys (differing ones only).
pub fn config_diff(a: &Value, b: &Value) -> Value {
    let empty = Map::new();
    let a = a.as_object().unwrap_or(&empty);
    let b = b.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut diff = Map::new();
    for key in keys {
        let left = a.get(key).unwrap_or(&Value::Null);
        let right = b.get(key).unwrap_or(&Value::Null);
        if left != right {
            diff.insert(key.clone(), json!({"a": left, "b": right}));
        }
    }
    Value::Object(diff)
}

/// `metrics_diff` over the union of metric keys: every key with
/// `{a, b, diff}` (numbers or null; non-finite values are null).
pub fn metrics_diff(a: Option<&Value>, b: Option<&Value>) -> Value {
    let empty = Map::new();
    let a = a.and_then(Value::as_object).unwrap_or(&empty);
    let b = b.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    let finite = |x: Option<f64>| x.filter(|x| x.is_finite());
    let mut diff = Map::new();
    for key in keys {
        let left = finite(numeric(a.get(key)));
        let right = finite(numeric(b.get(key)));
        let delta = match (left, right) {
            (Some(l), Some(r)) => finite(Some(r - l)),
            _ => None,
        };
        diff.insert(key.clone(), json!({"a": left, "b": right, "diff": delta}));
    }
    Value::Object(diff)
}

/// Diff of two runs' config, metrics and data window.
pub async fn compare(state: &AppState, a: &str, b: &str) -> Result<CompareResponse, Problem> {
    let run_a = repo::find_run(&state.db, a).await?;
    let run_b = repo::find_run(&state.db, b).await?;
    let (Some(run_a), Some(run_b)) = (run_a, run_b) else {
        return Err(Problem::not_found(format!(
            "One or both runs not found: {a}, {b}"
        )));
    };
    let mut window = Map::new();
    let pairs = [
        (
            "data_window_start",
            json!(run_a.data_window_start),
            json!(run_b.data_window_start),
        ),
        (
            "data_window_end",
            json!(run_a.data_window_end),
            json!(run_b.data_window_end),
        ),
        ("store_id", json!(run_a.store_id), json!(run_b.store_id)),
        (
            "product_id",
            json!(run_a.product_id),
            json!(run_b.product_id),
        ),
    ];
    for (key, left, right) in pairs {
        if left != right {
            window.insert(key.into(), json!({"a": left, "b": right}));
        }
    }
    Ok(CompareResponse {
        config_diff: config_diff(&run_a.model_config, &run_b.model_config),
        metrics_diff: metrics_diff(run_a.metrics.as_ref(), run_b.metrics.as_ref()),
        data_window_diff: Value::Object(window),
        run_a,
        run_b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_lifecycle() {
        use RunStatus::*;
        assert!(Pending.can_become(Running));
        assert!(Pending.can_become(Archived));
        assert!(!Pending.can_become(Success));
        assert!(!Pending.can_become(Pending));
        assert!(Running.can_become(Failed));
        assert!(Success.can_become(Archived));
        assert!(!Archived.can_become(Pending));
        let problem = invalid_transition(Pending, Success);
        assert_eq!(
            problem.detail,
            "Invalid transition from pending to success. Valid transitions: ['running', 'archived']"
        );
        assert_eq!(
            problem.extensions["valid_transitions"],
            json!(["running", "archived"])
        );
    }

    #[test]
    fn diffs_have_the_spec_shapes() {
        let diff = config_diff(
            &json!({"model_type": "naive", "window": 7}),
            &json!({"model_type": "naive", "season": 7}),
        );
        assert_eq!(
            diff,
            json!({"season": {"a": null, "b": 7}, "window": {"a": 7, "b": null}})
        );
        let metrics = metrics_diff(
            Some(&json!({"mae": 2.0, "note": "x", "flag": true})),
            Some(&json!({"mae": 1.5})),
        );
        assert_eq!(metrics["mae"], json!({"a": 2.0, "b": 1.5, "diff": -0.5}));
        assert_eq!(metrics["note"], json!({"a": null, "b": null, "diff": null}));
        assert_eq!(metrics["flag"], json!({"a": 1.0, "b": null, "diff": null}));
        assert_eq!(metrics_diff(None, None), json!({}));
    }
}
