//! Handlers of `/seeder/*`.

use std::{collections::BTreeMap, future::Future, time::Instant};

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, StatusCode},
};
use chrono::Utc;

use super::{
    repo,
    schemas::{
        AppendParams, ChannelsResponse, DeleteParams, DeleteResult, DeleteScopeParam,
        ExogenousQuery, ExogenousSignalResponse, GenerateParams, GenerateResult,
        Phase2EnrichmentRequest, Phase2EnrichmentResponse, ScenarioInfo, SeederOverrides,
        SeederStatus, VerifyCheck, VerifyResult,
    },
    service,
};
use crate::{
    extract::{parse_body, validate, Json, Query},
    problem::{Problem, ProblemBody},
    seeder::{
        self,
        cli::thousands,
        config::{ScenarioPreset, SeederConfig, CHANNELS},
        ops::{self, DeleteScope},
        phase2::{self, Phase2Options},
        RecordCounts, SeedError,
    },
    state::AppState,
};

/// Longest exogenous read window in days.
const EXOGENOUS_MAX_SPAN_DAYS: i64 = 1095;
/// Most rows one exogenous read returns.
const EXOGENOUS_MAX_ROWS: i64 = 50_000;

/// Row counts of every seeded table and the sales date range.
#[utoipa::path(get, path = "/seeder/status", tag = "seeder",
    responses((status = 200, description = "Counts", body = SeederStatus)))]
pub(crate) async fn status(
    State(state): State<AppState>,
) -> Result<axum::Json<SeederStatus>, Problem> {
    Ok(axum::Json(repo::status(&state.db).await?))
}

/// The scenario presets with their own dimensions and windows.
///
/// Lists all eight presets (including `showcase_rich`). Windows are relative
/// to today (UTC) except `holiday_rush`, which is pinned to Q4 2024.
#[utoipa::path(get, path = "/seeder/scenarios", tag = "seeder",
    responses((status = 200, description = "Presets", body = [ScenarioInfo])))]
pub(crate) async fn scenarios() -> axum::Json<Vec<ScenarioInfo>> {
    let today = Utc::now().date_naive();
    axum::Json(
        ScenarioPreset::ALL
            .iter()
            .map(|p| {
                let c = p.config(today);
                ScenarioInfo {
                    name: p.name().to_owned(),
                    description: p.description().to_owned(),
                    stores: c.stores,
                    products: c.products,
                    start_date: c.start_date,
                    end_date: c.end_date,
                }
            })
            .collect(),
    )
}

pub(super) fn generated_message(counts: &RecordCounts, seed: u64) -> String {
    format!(
        "Successfully generated {} sales records ({} rows in total) with seed {seed}",
        thousands(counts.sales),
        thousands(counts.total())
    )
}

/// Runs a seeder `operation` and times it (wall seconds); its error becomes
/// the operation's problem.
async fn timed<T>(
    operation: &str,
    run: impl Future<Output = Result<T, SeedError>>,
) -> Result<(T, f64), Problem> {
    let started = Instant::now();
    let value = run.await.map_err(|e| service::problem(operation, e))?;
    Ok((value, started.elapsed().as_secs_f64()))
}

/// The 201 answer of `generate` and `append`.
fn generate_result(
    records_created: RecordCounts,
    duration_seconds: f64,
    message: String,
    seed: u64,
    overrides_applied: Option<SeederOverrides>,
) -> (StatusCode, axum::Json<GenerateResult>) {
    (
        StatusCode::CREATED,
        axum::Json(GenerateResult {
            success: true,
            records_created,
            duration_seconds,
            message,
            seed,
            overrides_applied,
        }),
    )
}

/// Generates a synthetic data set (201).
///
/// Precedence, lowest to highest: the preset named by `scenario` (an unknown
/// name starts from the defaults), then the request's `stores`, `products`,
/// `start_date`, `end_date` **when given** (absent fields keep the preset's
/// values — ForecastLab lets presets such as `new_launches` or `demo_minimal`
/// keep their dimensions and window), `sparsity` when > 0 (replaces the
/// preset's sparsity block), the phase-1/2 flags, and finally `overrides`
/// (`{}` = absent). A dry run reports the counts of the effective
/// configuration, overrides included, and writes nothing.
///
/// Realism beyond the upstream formula: every series has its own level
/// (store × product × series log-normal factors) and trend slope; yearly
/// seasonality (amplitude 0.1 by default, phase by category) and US federal
/// holiday effects apply; **promotions cut the selling price** (percentage
/// or amount off, never below a quarter of the shelf price) as well as
/// lifting units (promotion lift × price response); **stockout days cap
/// sales at the stock on the shelf** (a row is still written, with the
/// capped units) and end with zero on hand; with `sparsity` > 0 the given
/// share of store × product pairs never sells and as many of the active
/// series are intermittent (zero-heavy); units come from unbiased
/// stochastic rounding. The same seed and settings give identical rows on
/// SQLite and PostgreSQL (each generator reads its own stream of one
/// ChaCha8 generator keyed by the seed, in id order).
///
/// Writes run in one transaction (PostgreSQL `COPY`, SQLite multi-row
/// inserts); rows whose unique key already exists are skipped, and
/// `records_created` counts only the rows written. A request may generate at
/// most `SEEDER_MAX_ROWS_PER_REQUEST` sales rows (stores × products × days;
/// default 2,000,000): above it, 422 — seed large data sets with
/// `forecastlab seed`.
#[utoipa::path(post, path = "/seeder/generate", tag = "seeder",
    request_body = GenerateParams,
    responses(
        (status = 201, description = "Generated (or dry-run preview)", body = GenerateResult),
        (status = 403, description = "Production guard", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn generate(
    State(state): State<AppState>,
    Json(params): Json<GenerateParams>,
) -> Result<(StatusCode, axum::Json<GenerateResult>), Problem> {
    service::guard(&state.settings)?;
    let config = service::build_config(&params, &state.settings, Utc::now().date_naive())?;
    let overrides_applied = params.overrides.clone().filter(|o| !o.is_empty());
    let seed = config.seed;
    if params.dry_run {
        let counts = RecordCounts {
            stores: u64::from(config.stores),
            products: u64::from(config.products),
            calendar: config.days() as u64,
            ..RecordCounts::default()
        };
        let message = format!(
            "Dry run: would generate scenario '{}' with {} stores x {} products over {} days ({} .. {})",
            params.scenario, config.stores, config.products, counts.calendar, config.start_date, config.end_date
        );
        return Ok(generate_result(
            counts,
            0.0,
            message,
            seed,
            overrides_applied,
        ));
    }
    service::check_size(
        &state.settings,
        u64::from(config.stores),
        u64::from(config.products),
        config.days() as u64,
    )?;
    let (counts, seconds) = timed("Generation", seeder::generate(&state.db, config, None)).await?;
    Ok(generate_result(
        counts,
        service::two_decimals(seconds),
        generated_message(&counts, seed),
        seed,
        overrides_applied,
    ))
}

/// Appends facts for a new window to the existing stores and products (201).
///
/// Uses the default configuration (no preset, no phase features) with the
/// given seed. 400 when there are no stores or products yet; 422 when the
/// window times the existing stores and products exceeds
/// `SEEDER_MAX_ROWS_PER_REQUEST` sales rows, or when
/// end_date < start_date. Existing (date, store, product) rows are left
/// untouched.
#[utoipa::path(post, path = "/seeder/append", tag = "seeder",
    request_body = AppendParams,
    responses(
        (status = 201, description = "Appended", body = GenerateResult),
        (status = 400, description = "Nothing seeded yet", body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Production guard", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn append(
    State(state): State<AppState>,
    Json(params): Json<AppendParams>,
) -> Result<(StatusCode, axum::Json<GenerateResult>), Problem> {
    service::guard(&state.settings)?;
    let mut config = SeederConfig::defaults(Utc::now().date_naive());
    config.seed = params.seed.max(0) as u64;
    config.start_date = params.start_date;
    config.end_date = params.end_date;
    config.batch_size = state.settings.seeder_batch_size.max(1);
    let seed = config.seed;
    service::check_years(params.start_date, params.end_date)?;
    if params.end_date >= params.start_date {
        let (stores, products) = repo::dimension_counts(&state.db).await?;
        service::check_size(
            &state.settings,
            stores.max(0) as u64,
            products.max(0) as u64,
            config.days() as u64,
        )?;
    }
    let (counts, seconds) = timed("Append", seeder::append(&state.db, config, None)).await?;
    let message = format!(
        "Appended {} sales records for {} .. {} with seed {seed}",
        thousands(counts.sales),
        params.start_date,
        params.end_date
    );
    Ok(generate_result(
        counts,
        service::two_decimals(seconds),
        message,
        seed,
        None,
    ))
}

/// Deletes seeded data by scope (JSON body; no body, or `null`, means scope
/// `all`).
///
/// `facts`: replenishment_event, sales_returns, exogenous_signal,
/// sales_daily, inventory_snapshot_daily, price_history, promotion.
/// `dimensions` and `all`: those facts, then store, product, calendar.
/// `dry_run`: counts only. Model runs, jobs and other tables are never
/// touched; id sequences are not reset.
#[utoipa::path(delete, path = "/seeder/data", tag = "seeder",
    request_body(content = Option<DeleteParams>, description = "Optional; defaults to scope all, dry_run false"),
    responses(
        (status = 200, description = "Deleted (or would delete)", body = DeleteResult),
        (status = 403, description = "Production guard", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_data(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<DeleteResult>, Problem> {
    let params: DeleteParams =
        if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
            DeleteParams::default()
        } else {
            let is_json = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|m| {
                    let m = m.trim().to_ascii_lowercase();
                    m == "application/json" || m.ends_with("+json")
                });
            if !is_json {
                return Err(Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UNSUPPORTED_MEDIA_TYPE",
                    "Expected a request body with Content-Type: application/json.",
                ));
            }
            let params = parse_body(&body)?;
            validate(&params, None)?;
            params
        };
    service::guard(&state.settings)?;
    let scope = match params.scope {
        DeleteScopeParam::All => DeleteScope::All,
        DeleteScopeParam::Facts => DeleteScope::Facts,
        DeleteScopeParam::Dimensions => DeleteScope::Dimensions,
    };
    let deleted = ops::delete(&state.db, scope, params.dry_run)
        .await
        .map_err(|e| service::problem("Delete", e.into()))?;
    let total: u64 = deleted.iter().map(|(_, n)| n).sum();
    let message = if params.dry_run {
        format!(
            "Dry run: would delete {} records (scope: {})",
            thousands(total),
            scope.name()
        )
    } else {
        format!(
            "Deleted {} records (scope: {})",
            thousands(total),
            scope.name()
        )
    };
    Ok(axum::Json(DeleteResult {
        success: true,
        records_deleted: deleted
            .into_iter()
            .map(|(t, n)| (t.to_owned(), n))
            .collect(),
        message,
        dry_run: params.dry_run,
    }))
}

fn check(name: &str, status: &str, message: String, details: Option<Vec<String>>) -> VerifyCheck {
    VerifyCheck {
        name: name.to_owned(),
        status: status.to_owned(),
        message,
        details,
    }
}

/// Five integrity checks of the seeded data.
///
/// Foreign Key Integrity and Non-Negative Constraints fail on violations;
/// Calendar Date Coverage, Data Presence and Dimension Completeness only
/// warn. `passed` is true when nothing failed.
#[utoipa::path(post, path = "/seeder/verify", tag = "seeder",
    responses((status = 200, description = "Checks", body = VerifyResult)))]
pub(crate) async fn verify(
    State(state): State<AppState>,
) -> Result<axum::Json<VerifyResult>, Problem> {
    let c = repo::verify_counts(&state.db)
        .await
        .map_err(|e| service::problem("Verification", e.into()))?;
    let orphans = c.orphan_store + c.orphan_product + c.orphan_calendar;
    let mut checks = vec![
        if orphans == 0 {
            check(
                "Foreign Key Integrity",
                "passed",
                "All sales rows reference existing stores, products and calendar days".into(),
                None,
            )
        } else {
            check(
                "Foreign Key Integrity",
                "failed",
                format!("{orphans} sales rows reference missing dimension rows"),
                Some(vec![
                    format!("missing store: {}", c.orphan_store),
                    format!("missing product: {}", c.orphan_product),
                    format!("missing calendar day: {}", c.orphan_calendar),
                ]),
            )
        },
        if c.negative_quantity == 0 {
            check(
                "Non-Negative Constraints",
                "passed",
                "No negative quantities".into(),
                None,
            )
        } else {
            check(
                "Non-Negative Constraints",
                "failed",
                format!(
                    "{} sales rows have a negative quantity",
                    c.negative_quantity
                ),
                None,
            )
        },
    ];
    checks.push(match c.calendar_span_days {
        Some(span) if span != c.calendar_days => check(
            "Calendar Date Coverage",
            "warning",
            format!(
                "Calendar has {} days but spans {span} days (gaps)",
                c.calendar_days
            ),
            None,
        ),
        Some(span) => check(
            "Calendar Date Coverage",
            "passed",
            format!("Calendar covers {span} consecutive days"),
            None,
        ),
        None => check(
            "Calendar Date Coverage",
            "warning",
            "Calendar is empty".into(),
            None,
        ),
    });
    checks.push(if c.sales > 0 {
        check(
            "Data Presence",
            "passed",
            format!("{} sales records", thousands(c.sales as u64)),
            None,
        )
    } else {
        check("Data Presence", "warning", "No sales records".into(), None)
    });
    let details = Some(vec![
        format!("stores: {}", c.stores),
        format!("products: {}", c.products),
        format!("calendar: {}", c.calendar_days),
    ]);
    checks.push(if c.stores > 0 && c.products > 0 && c.calendar_days > 0 {
        check(
            "Dimension Completeness",
            "passed",
            "Stores, products and calendar are present".into(),
            details,
        )
    } else {
        check(
            "Dimension Completeness",
            "warning",
            "A dimension table is empty".into(),
            details,
        )
    });
    let count = |s: &str| checks.iter().filter(|c| c.status == s).count();
    let (passed_count, warning_count, failed_count) =
        (count("passed"), count("warning"), count("failed"));
    Ok(axum::Json(VerifyResult {
        passed: failed_count == 0,
        total_checks: checks.len(),
        passed_count,
        warning_count,
        failed_count,
        checks,
    }))
}

/// Reads one exogenous signal over a window.
///
/// With `store_id`: that store's rows plus the global rows. Ordered by date,
/// then global rows first, then store id. 400 when end_date < start_date,
/// when the window spans more than 1095 days, or when more than 50,000 rows
/// match.
#[utoipa::path(get, path = "/seeder/exogenous", tag = "seeder",
    params(ExogenousQuery),
    responses(
        (status = 200, description = "Rows", body = ExogenousSignalResponse),
        (status = 400, description = "Window or size out of bounds", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid query", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn exogenous(
    State(state): State<AppState>,
    Query(query): Query<ExogenousQuery>,
) -> Result<axum::Json<ExogenousSignalResponse>, Problem> {
    if query.end_date < query.start_date {
        return Err(Problem::bad_request(
            "end_date must be on or after start_date",
        ));
    }
    let span = (query.end_date - query.start_date).num_days();
    if span > EXOGENOUS_MAX_SPAN_DAYS {
        return Err(Problem::bad_request(format!(
            "Date range of {span} days exceeds the maximum of {EXOGENOUS_MAX_SPAN_DAYS} days"
        )));
    }
    let total = repo::exogenous_count(
        &state.db,
        &query.signal_name,
        query.start_date,
        query.end_date,
        query.store_id,
    )
    .await?;
    if total > EXOGENOUS_MAX_ROWS {
        return Err(Problem::bad_request(format!(
            "The query matches {total} rows (more than {EXOGENOUS_MAX_ROWS}); narrow the date range or pass store_id"
        )));
    }
    let records = repo::exogenous_rows(
        &state.db,
        &query.signal_name,
        query.start_date,
        query.end_date,
        query.store_id,
    )
    .await?;
    Ok(axum::Json(ExogenousSignalResponse {
        signal_name: query.signal_name,
        start_date: query.start_date,
        end_date: query.end_date,
        store_id: query.store_id,
        total: records.len(),
        records,
    }))
}

/// The sales channels, sorted.
#[utoipa::path(get, path = "/seeder/channels", tag = "seeder",
    responses((status = 200, description = "Channels", body = ChannelsResponse)))]
pub(crate) async fn channels() -> axum::Json<ChannelsResponse> {
    let channels: Vec<String> = CHANNELS.iter().map(|c| (*c).to_owned()).collect();
    axum::Json(ChannelsResponse {
        total: channels.len(),
        channels,
    })
}

/// The problem of a failed phase-2 run: a foreign key broken under it
/// means a concurrent seed, append or delete removed rows it refers to
/// (409); anything else as for every seeder operation.
fn phase2_problem(error: SeedError) -> Problem {
    match &error {
        SeedError::Database(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            tracing::warn!(%error, "phase-2 enrichment raced a concurrent change");
            Problem::conflict(
                "The seeded data changed while phase-2 enrichment ran (a concurrent seed, \
                 append or delete removed rows it refers to); retry once that has finished.",
            )
        }
        _ => service::problem("Phase-2 enrichment", error),
    }
}

/// Phase-2 enrichment of the seeded data (201).
///
/// Sets product lifecycle dates and stages, then writes replenishment
/// events, weather and macro signals, and returns sampled from every sale
/// with units. 422 (`UNPROCESSABLE_ENTITY`) when stores, products or the
/// calendar are empty. Idempotent: rows whose key — (date, store, product)
/// for replenishment and returns, (date, signal, store) for signals — is
/// already present are not written again and are reported in
/// `records_skipped`; a second identical call creates 0 rows in those
/// three tables.
#[utoipa::path(post, path = "/seeder/phase2-enrichment", tag = "seeder",
    request_body = Phase2EnrichmentRequest,
    responses(
        (status = 201, description = "Enriched", body = Phase2EnrichmentResponse),
        (status = 403, description = "Production guard", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "The data changed under a concurrent seed, append or delete", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Empty database or invalid body", body = ProblemBody, content_type = "application/problem+json"),
    ))]
pub(crate) async fn phase2_enrichment(
    State(state): State<AppState>,
    Json(request): Json<Phase2EnrichmentRequest>,
) -> Result<(StatusCode, axum::Json<Phase2EnrichmentResponse>), Problem> {
    service::guard(&state.settings)?;
    let options = Phase2Options {
        seed: request.seed.max(0) as u64,
        returns_probability: request.returns_probability,
        discontinue_probability: request.discontinue_probability,
    };
    let started = Instant::now();
    let outcome = phase2::enrich(&state.db, options)
        .await
        .map_err(phase2_problem)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut created = owned_keys(&outcome.created);
    created.insert("product".into(), outcome.products_updated);
    Ok((
        StatusCode::CREATED,
        axum::Json(Phase2EnrichmentResponse {
            success: true,
            records_created: created,
            records_skipped: owned_keys(&outcome.skipped),
            duration_ms: service::two_decimals(seconds * 1000.0),
        }),
    ))
}

/// Per-table counts keyed by owned table names.
fn owned_keys(counts: &BTreeMap<&'static str, u64>) -> BTreeMap<String, u64> {
    counts
        .iter()
        .map(|(table, n)| ((*table).to_owned(), *n))
        .collect()
}
