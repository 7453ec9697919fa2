//! Re-indexing into a changed embedder without downtime (`/rag/reindex`).
//! While it runs the previous generation keeps serving; every source gains
//! the configured embedder's chunks (its stored chunk texts re-embedded,
//! one transaction per source); when all have them, the switch-over
//! deletes the older chunks and the pin in one transaction. A failure
//! half-way leaves the previous generation serving, and the next run
//! resumes with the sources not yet done.

use axum::http::StatusCode;

use super::{
    generations::{self, Generations},
    repo,
    schemas::{GenerationInfo, ReindexRequest, ReindexState, ReindexStatus},
    service::{embed, embedder},
    stored::encode_vector,
};
use crate::{features::config::live::EmbeddingConfig, problem::Problem, state::AppState};

async fn info(state: &AppState, config: &EmbeddingConfig) -> Result<GenerationInfo, Problem> {
    let (label, dimension) = config.generation();
    let chunks = generations::chunks_of(&state.db, &label, dimension).await?;
    Ok(GenerationInfo {
        provider: config.provider.clone(),
        model: config.effective_model().to_owned(),
        dimension: dimension as u64,
        label,
        chunks: chunks.max(0) as u64,
    })
}

/// `GET /rag/reindex`: the serving and target generations and how many
/// sources are ready.
pub(crate) async fn status(state: &AppState) -> Result<ReindexStatus, Problem> {
    // The run is read before the database: a run marks itself finished only
    // after its switch-over committed, so a finished run is never paired
    // with the generations it read before switching (a spurious `pending`).
    let run = state.reindex.get();
    let generations = generations::current(state).await?;
    let (label, dimension) = generations.target.generation();
    let (total, ready, stale) = generations::progress(&state.db, &label, dimension as i32).await?;
    let pending = generations.switching() || stale > 0;
    let reindex_state = if run.running {
        ReindexState::Running
    } else if !pending {
        ReindexState::Idle
    } else if run.error.is_some() {
        ReindexState::Failed
    } else {
        ReindexState::Pending
    };
    Ok(ReindexStatus {
        state: reindex_state,
        serving: info(state, &generations.serving).await?,
        target: info(state, &generations.target).await?,
        sources_total: total.max(0) as u64,
        sources_ready: ready.max(0) as u64,
        started_at: run.started_at,
        finished_at: run.finished_at,
        chunks_deleted: run.chunks_deleted,
        error: run.error,
    })
}

/// `POST /rag/reindex`: 409 when there is nothing to re-index or a
/// re-index is already running; otherwise runs it (in the background, or
/// to its end with `wait`).
pub(crate) async fn start(
    state: &AppState,
    request: ReindexRequest,
) -> Result<(StatusCode, ReindexStatus), Problem> {
    let generations = generations::current(state).await?;
    let (label, dimension) = generations.target.generation();
    let (_, _, stale) = generations::progress(&state.db, &label, dimension as i32).await?;
    if !generations.switching() && stale == 0 {
        return Err(Problem::conflict(format!(
            "Nothing to re-index: every chunk was made by the configured embedder \
             ({label}, dimension {dimension})."
        )));
    }
    if !state.reindex.claim() {
        return Err(Problem::conflict("A re-index is already running."));
    }
    if request.wait {
        let outcome = run(state, &generations).await;
        state.reindex.finish(&outcome);
        outcome?;
        return Ok((StatusCode::OK, status(state).await?));
    }
    let background = state.clone();
    tokio::spawn(async move {
        let outcome = run(&background, &generations).await;
        if let Err(problem) = &outcome {
            tracing::warn!(error = %problem.detail, "RAG re-index failed");
        }
        background.reindex.finish(&outcome);
    });
    Ok((StatusCode::ACCEPTED, status(state).await?))
}

/// Gives every source chunks of the target generation, then switches
/// over; the number of older chunks deleted.
async fn run(state: &AppState, generations: &Generations) -> Result<u64, Problem> {
    let target = &generations.target;
    let (label, dimension) = target.generation();
    let serving = generations.serving.generation();
    let embedder = embedder(state, target)?;
    state
        .search
        .ensure_generation(&state.db, &label, dimension)
        .await?;
    for id in generations::source_ids(&state.db).await? {
        if state.ai.current().embedding.generation() != (label.clone(), dimension) {
            return Err(Problem::conflict(
                "The embedder configuration changed during the re-index; run it again.",
            ));
        }
        let counts = repo::generation_counts(&state.db, id).await?;
        let done = counts.is_empty()
            || counts.iter().any(|(l, d, _)| {
                l.as_deref() == Some(label.as_str()) && *d == Some(dimension as i32)
            });
        if done {
            continue;
        }
        let from = counts
            .iter()
            .find(|(l, d, _)| {
                l.as_deref() == Some(serving.0.as_str()) && *d == Some(serving.1 as i32)
            })
            .or_else(|| counts.iter().max_by_key(|(_, _, n)| *n))
            .map(|(l, d, _)| (l.clone(), *d))
            .unwrap_or_default();
        let chunks = generations::source_chunks(&state.db, id, from.0.as_deref(), from.1).await?;
        let texts: Vec<String> = chunks.iter().map(|chunk| chunk.content.clone()).collect();
        let vectors = embed(embedder.as_ref(), &texts).await?;
        let rows: Vec<_> = chunks
            .into_iter()
            .zip(vectors.iter().map(|vector| encode_vector(vector)))
            .collect();
        generations::replace_generation(
            &state.db,
            id,
            &label,
            dimension as i32,
            &rows,
            state.search.writes_vector_column(),
        )
        .await?;
    }
    generations::switch_over(&state.db, &label, dimension as i32)
        .await?
        .map(|deleted| deleted.max(0) as u64)
        .ok_or_else(|| {
            Problem::conflict(
                "A source without chunks of the configured embedder appeared during the \
                 re-index; run it again.",
            )
        })
}
