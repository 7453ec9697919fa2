//! Assembles the ops view from the repository rows and the rules.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use serde_json::Value;

use super::{
    repo::{self, AliasRow, BacktestScore},
    rules::{self, AliasFacts},
    schemas::{
        BacktestTrend, CandidateReason, JobCounts, ModelHealth, ModelHealthItem, OpsSummary,
        RetrainingCandidate, RetrainingCandidates, RunCounts, StaleAlias, StaleReason, Trend,
    },
};
use crate::{problem::Problem, state::AppState};

fn db_error(error: sqlx::Error) -> Problem {
    Problem::database(&error, "Could not read the registry.")
}

fn version_of(runtime_info: Option<&Value>) -> Option<i64> {
    runtime_info
        .and_then(|info| info.get("feature_frame_version"))
        .and_then(Value::as_i64)
}

/// `GET /ops/summary`.
pub(crate) async fn summary(state: &AppState) -> Result<OpsSummary, Problem> {
    let db = &state.db;
    let stale_after_days = state.settings.ops_stale_after_days;
    let mut runs = RunCounts::default();
    for (status, count) in repo::status_counts(db, "model_run")
        .await
        .map_err(db_error)?
    {
        match status.as_str() {
            "pending" => runs.pending = count,
            "running" => runs.running = count,
            "success" => runs.success = count,
            "failed" => runs.failed = count,
            _ => runs.archived += count,
        }
    }
    let mut jobs = JobCounts::default();
    for (status, count) in repo::status_counts(db, "job").await.map_err(db_error)? {
        match status.as_str() {
            "pending" => jobs.pending = count,
            "running" => jobs.running = count,
            "completed" => jobs.completed = count,
            "failed" => jobs.failed = count,
            _ => jobs.cancelled += count,
        }
    }
    let aliases = repo::aliases(db).await.map_err(db_error)?;
    let mut stale = Vec::new();
    for alias in &aliases {
        if let Some(entry) = stale_alias(state, alias, stale_after_days).await? {
            stale.push(entry);
        }
    }
    stale.sort_by(|a, b| a.alias_name.cmp(&b.alias_name));
    Ok(OpsSummary {
        generated_at: Utc::now(),
        stale_after_days,
        total_runs: runs.pending + runs.running + runs.success + runs.failed + runs.archived,
        runs_by_status: runs,
        total_aliases: aliases.len() as i64,
        stale_aliases_count: stale.len() as i64,
        stale_aliases: stale,
        total_jobs: jobs.pending + jobs.running + jobs.completed + jobs.failed + jobs.cancelled,
        jobs_by_status: jobs,
    })
}

async fn stale_alias(
    state: &AppState,
    alias: &AliasRow,
    stale_after_days: i64,
) -> Result<Option<StaleAlias>, Problem> {
    let newer = repo::newer_success_run(&state.db, alias.store_id, alias.product_id, alias.id)
        .await
        .map_err(db_error)?;
    let version = version_of(alias.runtime_info.as_ref().map(|json| &json.0));
    let newer_version = newer
        .as_ref()
        .map(|run| version_of(run.runtime_info.as_ref().map(|json| &json.0)));
    let facts = AliasFacts {
        run_status: alias.status.clone(),
        feature_frame_version: version,
        data_window_end: alias.data_window_end,
        newer_version,
        latest_data_date: alias.latest_data_date,
    };
    let reasons = rules::stale_reasons(&facts, stale_after_days);
    let Some(&first) = reasons.first() else {
        return Ok(None);
    };
    let days_behind = rules::days_behind(alias.data_window_end, alias.latest_data_date);
    let detail = match first {
        StaleReason::RunNotSuccess => format!("run {} is {}", alias.run_id, alias.status),
        StaleReason::FeatureFrameVersionMismatch => format!(
            "feature frame version {} but the newer run {} uses {}",
            rules::normalized_version(version),
            newer.as_ref().map_or("?", |run| run.run_id.as_str()),
            rules::normalized_version(newer_version.flatten()),
        ),
        StaleReason::DataNewerThanModel => format!(
            "trained up to {}, data up to {} ({} days > {stale_after_days})",
            alias.data_window_end,
            alias
                .latest_data_date
                .map_or_else(String::new, |d| d.to_string()),
            days_behind.unwrap_or_default(),
        ),
    };
    Ok(Some(StaleAlias {
        alias_name: alias.alias_name.clone(),
        run_id: alias.run_id.clone(),
        model_type: alias.model_type.clone(),
        run_status: alias.status.clone(),
        store_id: alias.store_id,
        product_id: alias.product_id,
        stale_reason: first,
        reasons,
        feature_frame_version: version,
        newer_run_id: newer.as_ref().map(|run| run.run_id.clone()),
        newer_feature_frame_version: newer_version.flatten(),
        data_window_end: alias.data_window_end,
        latest_data_date: alias.latest_data_date,
        days_behind,
        detail,
    }))
}

/// For each series, the latest completed backtest job compared with the
/// one before it of the same model type.
pub(crate) fn backtest_trends(scores: &[BacktestScore]) -> HashMap<(i64, i64), BacktestTrend> {
    let mut trends = HashMap::new();
    let mut seen = HashMap::<(i64, i64), &BacktestScore>::new();
    for score in scores {
        let key = (score.store_id, score.product_id);
        match seen.get(&key) {
            None => {
                seen.insert(key, score);
            }
            Some(latest) if latest.model_type == score.model_type && !trends.contains_key(&key) => {
                if let (Some(a), Some(b)) = (latest.wape, score.wape) {
                    trends.insert(
                        key,
                        BacktestTrend {
                            model_type: score.model_type.clone(),
                            latest_wape: a,
                            previous_wape: b,
                            relative_change: rules::relative_change(a, b),
                            trend: rules::trend(a, b),
                        },
                    );
                }
            }
            Some(_) => {}
        }
    }
    trends
}

/// `GET /ops/retraining-candidates`.
pub(crate) async fn retraining_candidates(
    state: &AppState,
    limit: i64,
) -> Result<RetrainingCandidates, Problem> {
    let db = &state.db;
    let stale_after_days = state.settings.ops_stale_after_days;
    let mut series: BTreeMap<(i64, i64), RetrainingCandidate> = BTreeMap::new();
    for run in repo::freshest_runs(db).await.map_err(db_error)? {
        series.insert(
            (run.store_id, run.product_id),
            RetrainingCandidate {
                store_id: run.store_id,
                product_id: run.product_id,
                champion_run_id: Some(run.run_id),
                champion_model_type: Some(run.model_type),
                alias_name: None,
                data_window_end: Some(run.data_window_end),
                latest_data_date: run.latest_data_date,
                days_behind: None,
                reasons: Vec::new(),
                backtest: None,
            },
        );
    }
    // Aliases come most recently moved first: the first one of a series
    // names its champion.
    for alias in repo::aliases(db).await.map_err(db_error)? {
        let key = (alias.store_id, alias.product_id);
        let entry = series.entry(key).or_insert_with(|| RetrainingCandidate {
            store_id: alias.store_id,
            product_id: alias.product_id,
            champion_run_id: None,
            champion_model_type: None,
            alias_name: None,
            data_window_end: None,
            latest_data_date: alias.latest_data_date,
            days_behind: None,
            reasons: Vec::new(),
            backtest: None,
        });
        if entry.alias_name.is_none() {
            entry.alias_name = Some(alias.alias_name);
            entry.champion_run_id = Some(alias.run_id);
            entry.champion_model_type = Some(alias.model_type);
            entry.data_window_end = Some(alias.data_window_end);
        }
    }
    let mut trends = backtest_trends(&repo::backtest_scores(db).await.map_err(db_error)?);
    let mut candidates: Vec<RetrainingCandidate> = Vec::new();
    for (key, mut entry) in series {
        entry.days_behind = entry
            .data_window_end
            .and_then(|end| rules::days_behind(end, entry.latest_data_date));
        if entry
            .days_behind
            .is_some_and(|days| days > stale_after_days)
        {
            entry.reasons.push(CandidateReason::DataBehind);
        }
        entry.backtest = trends.remove(&key);
        if entry
            .backtest
            .as_ref()
            .is_some_and(|trend| trend.trend == Trend::Degrading)
        {
            entry.reasons.push(CandidateReason::BacktestDegraded);
        }
        if !entry.reasons.is_empty() {
            candidates.push(entry);
        }
    }
    candidates.sort_by(|a, b| {
        b.days_behind
            .unwrap_or(0)
            .cmp(&a.days_behind.unwrap_or(0))
            .then(a.store_id.cmp(&b.store_id))
            .then(a.product_id.cmp(&b.product_id))
    });
    let total = candidates.len() as i64;
    candidates.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(RetrainingCandidates {
        candidates,
        total,
        stale_after_days,
    })
}

/// `GET /ops/model-health`.
pub(crate) async fn model_health(state: &AppState, limit: i64) -> Result<ModelHealth, Problem> {
    let aliases = repo::aliases(&state.db).await.map_err(db_error)?;
    let mut items = Vec::with_capacity(aliases.len());
    for alias in &aliases {
        let earlier = repo::earlier_success_runs(&state.db, alias)
            .await
            .map_err(db_error)?;
        let metrics = alias.metrics.as_ref().map(|json| json.0.clone());
        let latest = metrics.clone().unwrap_or(Value::Null);
        // The nearest predecessor sharing a compared metric, else the
        // nearest one with any metrics.
        let compared = earlier.iter().find_map(|run| {
            let previous = run.metrics.as_ref()?;
            rules::shared_metric(&latest, &previous.0).map(|shared| (run, shared))
        });
        let previous = compared.map(|(run, _)| run).or_else(|| {
            earlier.iter().find(|run| {
                run.metrics
                    .as_ref()
                    .is_some_and(|m| m.0.as_object().is_some_and(|o| !o.is_empty()))
            })
        });
        let shared = compared.map(|(_, shared)| shared);
        items.push(ModelHealthItem {
            alias_name: alias.alias_name.clone(),
            run_id: alias.run_id.clone(),
            model_type: alias.model_type.clone(),
            store_id: alias.store_id,
            product_id: alias.product_id,
            metrics,
            previous_run_id: previous.map(|run| run.run_id.clone()),
            previous_metrics: previous.and_then(|run| run.metrics.as_ref().map(|m| m.0.clone())),
            metric: shared.map(|(name, _, _)| name.to_owned()),
            latest_value: shared.map(|(_, a, _)| a),
            previous_value: shared.map(|(_, _, b)| b),
            relative_change: shared.and_then(|(_, a, b)| rules::relative_change(a, b)),
            trend: shared.map_or(Trend::NoBaseline, |(_, a, b)| rules::trend(a, b)),
        });
    }
    let rank = |trend: Trend| match trend {
        Trend::Degrading => 0,
        Trend::Stable => 1,
        Trend::Improving => 2,
        Trend::NoBaseline => 3,
    };
    items.sort_by(|a, b| {
        rank(a.trend)
            .cmp(&rank(b.trend))
            .then(
                b.relative_change
                    .unwrap_or(0.0)
                    .total_cmp(&a.relative_change.unwrap_or(0.0)),
            )
            .then(a.alias_name.cmp(&b.alias_name))
    });
    let total = items.len() as i64;
    let degrading_count = items
        .iter()
        .filter(|item| item.trend == Trend::Degrading)
        .count() as i64;
    items.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(ModelHealth {
        items,
        total,
        degrading_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(store: i64, model: &str, wape: Option<f64>) -> BacktestScore {
        BacktestScore {
            store_id: store,
            product_id: 1,
            model_type: model.into(),
            wape,
        }
    }

    #[test]
    fn latest_backtest_compared_with_the_previous_of_its_model() {
        // Newest first: series 1 naive 0.3 after a moving_average and naive 0.2.
        let scores = [
            score(1, "naive", Some(0.3)),
            score(1, "moving_average", Some(0.1)),
            score(1, "naive", Some(0.2)),
            score(1, "naive", Some(0.9)),
            score(2, "naive", Some(0.2)),
        ];
        let trends = backtest_trends(&scores);
        let one = &trends[&(1, 1)];
        assert_eq!(one.model_type, "naive");
        assert_eq!((one.latest_wape, one.previous_wape), (0.3, 0.2));
        assert_eq!(one.trend, Trend::Degrading);
        assert!(
            !trends.contains_key(&(2, 1)),
            "a single backtest has no trend"
        );
    }
}
