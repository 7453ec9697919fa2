//! The `seed` job: a generation too big for one synchronous request
//! (`SEEDER_MAX_ROWS_PER_REQUEST`) runs in the background under the larger
//! `SEEDER_MAX_ROWS_PER_JOB` cap, with the same body, rules and result as
//! `POST /seeder/generate`.

use std::{sync::Arc, time::Instant};

use chrono::Utc;

use super::{
    routes::generated_message,
    schemas::{GenerateParams, GenerateResult},
    service,
};
use crate::{
    config::Settings,
    problem::Problem,
    seeder::{self, ProgressFn},
    state::AppState,
};

/// Checks a job's params as `POST /jobs` receives them: the production
/// guard, the generate body's validation and the job cap.
pub(crate) fn validate(settings: &Settings, params: &GenerateParams) -> Result<(), Problem> {
    service::job_config(params, settings, Utc::now().date_naive()).map(drop)
}

/// Generates the data set of `params`; `progress(done, total)` is called
/// after each store's facts are written. The whole set commits at the end
/// or not at all.
pub(crate) async fn run(
    state: &AppState,
    params: &GenerateParams,
    progress: ProgressFn,
) -> Result<GenerateResult, Problem> {
    let config = service::job_config(params, &state.settings, Utc::now().date_naive())?;
    let seed = config.seed;
    let started = Instant::now();
    let counts = seeder::generate(&state.db, config, Some(Arc::clone(&progress)))
        .await
        .map_err(|error| service::problem("Generation", error))?;
    Ok(GenerateResult {
        success: true,
        records_created: counts,
        duration_seconds: service::two_decimals(started.elapsed().as_secs_f64()),
        message: generated_message(&counts, seed),
        seed,
        overrides_applied: params.overrides.clone().filter(|o| !o.is_empty()),
    })
}
