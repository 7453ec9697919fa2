//! The dashboard driven in a real headless Chromium: every page loads with
//! no console error and no failed request; seeding, forecasting,
//! backtesting, the registry, the jobs and the scenarios pages work from
//! the browser.
//!
//! Screenshots of every page go to `forecastlab_tests::browser::screenshot_dir()`.

use forecastlab_tests::{
    both_backends,
    browser::{screenshot_dir, Browser},
    jobs, Backend, TestApp,
};
use serde_json::{json, Value};

use super::{queue_naive, seed, window};

/// Every page of the navigation, with the name of its screenshot.
const PAGES: [(&str, &str); 9] = [
    ("/", "overview"),
    ("/ui/series", "series"),
    ("/ui/forecast", "forecast"),
    ("/ui/backtest", "backtest"),
    ("/ui/registry", "registry"),
    ("/ui/jobs", "jobs"),
    ("/ui/scenarios", "scenarios"),
    ("/ui/knowledge", "knowledge-page"),
    ("/ui/showcase", "showcase-page"),
];

fn shot(backend: Backend, name: &str) -> String {
    format!("{}-{name}", format!("{backend:?}").to_lowercase())
}

/// Each page loads cleanly on an empty database, the Overview's seed form
/// fills it, and then each page loads cleanly with data.
async fn pages_load_cleanly_before_and_after_seeding(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = Browser::start().await;
    for (path, name) in PAGES {
        browser.open(&app.url(path)).await;
        browser.assert_clean(&format!("{path} (empty)")).await;
        let nav_current = browser
            .eval("document.querySelector('nav a[aria-current=page]').getAttribute('href')")
            .await;
        assert_eq!(nav_current, json!(path));
        browser
            .screenshot(&shot(backend, &format!("empty-{name}")))
            .await;
    }

    browser.open(&app.url("/")).await;
    assert_eq!(
        browser
            .eval("document.querySelector('[data-metric=sales]').textContent")
            .await,
        "0"
    );
    browser
        .set_value("#seed-form select[name=scenario]", "demo_minimal")
        .await;
    browser.click("#seed-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('[data-metric=sales]')?.textContent !== '0'")
        .await;
    browser.wait_settled().await;
    let sales = app.rows("sales_daily").await;
    assert!(sales > 0);
    assert_eq!(
        browser
            .eval("document.querySelector('[data-metric=sales]').textContent")
            .await,
        json!(sales.to_string())
    );
    browser.assert_clean("/ after seeding").await;

    for (path, name) in PAGES {
        browser.open(&app.url(path)).await;
        browser.assert_clean(path).await;
        browser.screenshot(&shot(backend, name)).await;
    }

    // The series explorer draws units, promotions, stockouts and price.
    browser.open(&app.url("/ui/series")).await;
    browser
        .wait_until("window.forecastlabCharts?.['series-sales']")
        .await;
    let labels = browser
        .eval("window.forecastlabCharts['series-sales'].spec.series.map(s => s.label)")
        .await;
    assert_eq!(
        labels,
        json!(["units", "promotion day", "stockout day", "price"])
    );
    let units_days = browser
        .eval("window.forecastlabCharts['series-sales'].spec.series[0].values.filter(v => v !== null).length")
        .await;
    assert!(units_days.as_u64().unwrap() > 30, "{units_days}");
    browser
        .wait_until("window.forecastlabCharts['series-lifecycle']")
        .await;
    browser.assert_clean("/ui/series charts").await;
}

/// The Forecast page trains, predicts and draws the forecast with its band;
/// the chart holds exactly the predict job's numbers; PNG and CSV export.
async fn forecast_page_trains_and_predicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let browser = Browser::start().await;
    browser.open(&app.url("/ui/forecast")).await;
    browser
        .set_value("#forecast-form select[name=model_type]", "seasonal_naive")
        .await;
    browser
        .set_value("#forecast-form input[name=horizon]", "21")
        .await;
    browser
        .set_value("#forecast-form select[name=interval_level]", "0.9")
        .await;
    browser.click("#forecast-form button[type=submit]").await;
    browser
        .wait_until("window.forecastlabCharts?.['forecast-chart']")
        .await;
    browser.assert_clean("/ui/forecast after forecasting").await;
    browser
        .eval("document.getElementById('forecast-result').scrollIntoView()")
        .await;
    browser.screenshot(&shot(backend, "forecast-result")).await;

    let spec = browser
        .eval("window.forecastlabCharts['forecast-chart'].spec")
        .await;
    let labels: Vec<&str> = spec["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["actual", "forecast", "upper bound", "lower bound"]);
    assert_eq!(spec["bands"], json!([{"upper": 2, "lower": 3}]));

    let predicted = app.get("/jobs?job_type=predict").await;
    let job = &predicted.assert_ok()["jobs"][0];
    assert_eq!(job["status"], "completed");
    let forecasts = job["result"]["forecasts"].as_array().unwrap().clone();
    assert_eq!(forecasts.len(), 21);
    assert_eq!(job["result"]["interval_level"], 0.9);
    let x = spec["x"].as_array().unwrap();
    let tail = x.len() - forecasts.len();
    for (i, point) in forecasts.iter().enumerate() {
        assert_eq!(x[tail + i], point["date"]);
        for (series, field) in [(1, "forecast"), (2, "upper_bound"), (3, "lower_bound")] {
            let drawn = spec["series"][series]["values"][tail + i].as_f64();
            assert_eq!(drawn, point[field].as_f64(), "{field} of {point}");
        }
        let (lower, mid, upper) = (
            point["lower_bound"].as_f64().unwrap(),
            point["forecast"].as_f64().unwrap(),
            point["upper_bound"].as_f64().unwrap(),
        );
        assert!(lower <= mid && mid <= upper && lower < upper, "{point}");
    }
    // Actuals fill the history part only.
    let actual = spec["series"][0]["values"].as_array().unwrap();
    assert!(actual[..tail].iter().all(Value::is_number));
    assert!(actual[tail..].iter().all(Value::is_null));
    assert_eq!(
        browser
            .eval("document.querySelector('[data-forecast-points]').dataset.forecastPoints")
            .await,
        "21"
    );

    let csv = browser
        .eval("window.forecastlabCharts['forecast-chart'].csv()")
        .await;
    let lines: Vec<&str> = csv.as_str().unwrap().lines().collect();
    assert_eq!(lines[0], "date,actual,forecast,upper bound,lower bound");
    assert_eq!(lines.len(), x.len() + 1);
    let png = browser
        .eval("window.forecastlabCharts['forecast-chart'].png()")
        .await;
    assert!(png.as_str().unwrap().starts_with("data:image/png;base64,"));
    browser.click("#forecast-chart [data-download=png]").await;
    browser.click("#forecast-chart [data-download=csv]").await;
    browser.assert_clean("/ui/forecast downloads").await;

    // The train job registered a run the registry page shows.
    assert_eq!(app.rows("model_run").await, 1);
}

/// The Backtest page runs a backtest job and renders its folds, the
/// metrics against the baselines and the horizon buckets.
async fn backtest_page_renders_folds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let browser = Browser::start().await;
    browser.open(&app.url("/ui/backtest")).await;
    browser
        .set_value("#backtest-form select[name=model_type]", "moving_average")
        .await;
    browser
        .set_value("#backtest-form input[name=n_splits]", "3")
        .await;
    browser
        .set_value("#backtest-form input[name=test_size]", "10")
        .await;
    browser.click("#backtest-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('[data-folds]')")
        .await;
    browser
        .wait_until("window.forecastlabCharts?.['backtest-buckets']")
        .await;
    browser
        .assert_clean("/ui/backtest after the backtest")
        .await;
    browser
        .eval("document.getElementById('backtest-result').scrollIntoView()")
        .await;
    browser.screenshot(&shot(backend, "backtest-result")).await;

    assert_eq!(
        browser
            .eval("document.querySelectorAll('tr[data-fold]').length")
            .await,
        3
    );
    let folds = browser
        .eval("window.forecastlabCharts['backtest-folds'].spec")
        .await;
    assert_eq!(folds["series"].as_array().unwrap().len(), 6);
    let result = app.get("/jobs?job_type=backtest").await;
    let report = &result.assert_ok()["jobs"][0]["result"]["report"];
    let main = &report["main_model_results"];
    for (i, fold) in main["fold_results"].as_array().unwrap().iter().enumerate() {
        let test = &folds["series"][2 * i + 1];
        assert_eq!(test["label"], format!("fold {} test", i + 1));
        let x = folds["x"].as_array().unwrap();
        let marked: Vec<&Value> = x
            .iter()
            .zip(test["values"].as_array().unwrap())
            .filter(|(_, v)| !v.is_null())
            .map(|(day, _)| day)
            .collect();
        assert_eq!(marked.first().copied(), Some(&fold["split"]["test_start"]));
        assert_eq!(marked.last().copied(), Some(&fold["split"]["test_end"]));
    }
    let predictions = browser
        .eval("window.forecastlabCharts['backtest-predictions'].spec")
        .await;
    let labels: Vec<&str> = predictions["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "actual",
            "moving_average predicted",
            "naive predicted",
            "seasonal_naive predicted"
        ]
    );
    let scored = predictions["series"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !v.is_null())
        .count();
    assert_eq!(scored, 30);
    let rows = browser
        .eval("[...document.querySelectorAll('table.metrics tbody th')].map(th => th.textContent)")
        .await;
    assert_eq!(
        rows,
        json!([
            "moving_average (main)",
            "naive (baseline)",
            "seasonal_naive (baseline)"
        ])
    );
    let buckets = browser
        .eval("window.forecastlabCharts['backtest-buckets'].spec.x")
        .await;
    assert_eq!(buckets, json!(["days 1–7", "days 8–14"]));
}

/// The Registry page lists runs with filters, shows a run, verifies it,
/// points an alias at it (with history) and compares two runs.
async fn registry_page_details_verifies_aliases_and_compares(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let (start, end) = window(&app).await;
    let mut runs = Vec::new();
    for model in ["naive", "seasonal_naive"] {
        let result = jobs::run(
            &app,
            "train",
            json!({"model_type": model, "store_id": 1, "product_id": 1,
                   "start_date": start, "end_date": end}),
        )
        .await;
        runs.push(result["run_id"].as_str().unwrap().to_owned());
    }
    let browser = Browser::start().await;
    browser.open(&app.url("/ui/registry")).await;
    assert_eq!(
        browser
            .eval("document.querySelectorAll('#runs tr[data-run]').length")
            .await,
        2
    );
    browser
        .set_value("#run-filters select[name=model_type]", "naive")
        .await;
    browser
        .wait_until("document.querySelectorAll('#runs tr[data-run]').length === 1")
        .await;
    browser
        .set_value("#run-filters select[name=model_type]", "")
        .await;
    browser
        .wait_until("document.querySelectorAll('#runs tr[data-run]').length === 2")
        .await;

    let first = &runs[0];
    browser
        .click(&format!("#runs tr[data-run='{first}'] button"))
        .await;
    browser
        .wait_until(&format!(
            "document.querySelector('#run-detail article[data-run=\"{first}\"]')"
        ))
        .await;
    browser.click("#run-detail button[hx-get$='/verify']").await;
    browser
        .wait_until("document.querySelector('[data-verified]')")
        .await;
    assert_eq!(
        browser
            .eval("document.querySelector('[data-verified]').dataset.verified")
            .await,
        "true"
    );

    browser
        .set_value("#run-detail input[name=alias_name]", "production")
        .await;
    browser
        .click("#run-detail .alias-form button[type=submit]")
        .await;
    browser
        .wait_until("document.querySelector('#aliases tr[data-alias=production]')")
        .await;
    browser
        .click("#aliases tr[data-alias=production] button[hx-get$='/history']")
        .await;
    browser
        .wait_until("document.querySelector('[data-alias-history=production] tbody tr')")
        .await;

    for run in &runs {
        browser.click(&format!("#runs input[value='{run}']")).await;
    }
    browser.click("#compare-button").await;
    browser
        .wait_until("document.querySelector('#compare table')")
        .await;
    let differing = browser
        .eval("[...document.querySelectorAll('#compare tr.differs th')].map(th => th.firstChild.textContent.trim())")
        .await;
    assert!(
        differing.as_array().unwrap().contains(&json!("model type")),
        "{differing}"
    );
    browser.assert_clean("/ui/registry interactions").await;
    browser.screenshot(&shot(backend, "registry-detail")).await;

    // Opening the page on a run (as the jobs table links) shows its detail.
    browser
        .open(&app.url(&format!("/ui/registry?run_id={}", runs[1])))
        .await;
    browser
        .wait_until(&format!(
            "document.querySelector('#run-detail article[data-run=\"{}\"]')",
            runs[1]
        ))
        .await;
    browser.assert_clean("/ui/registry?run_id").await;
}

/// The Jobs page polls a pending job, cancels it from the browser and
/// queues a batch job.
async fn jobs_page_shows_progress_and_cancels(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("JOBS_WORKERS", "0")]).await;
    seed(&app).await;
    let (start, end) = window(&app).await;
    let job_id = queue_naive(&app, "train", &start, &end).await;
    let browser = Browser::start().await;
    browser.open(&app.url("/ui/jobs")).await;
    let row = format!("#jobs-table tr[data-job='{job_id}']");
    assert_eq!(
        browser
            .eval(&format!("document.querySelector(\"{row}\").dataset.status"))
            .await,
        "pending"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('jobs-table').dataset.polling")
            .await,
        "true"
    );
    browser
        .click(&format!("{row} button[data-cancel-job]"))
        .await;
    browser
        .wait_until(&format!(
            "document.querySelector(\"{row}\")?.dataset.status === 'cancelled'"
        ))
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('jobs-table').dataset.polling")
            .await,
        "false"
    );

    browser
        .set_value("#batch-form input[name=start_date]", &start)
        .await;
    browser
        .set_value("#batch-form input[name=end_date]", &end)
        .await;
    browser
        .set_value("#batch-form input[name=store_ids]", "1, 2")
        .await;
    browser.click("#batch-form button[type=submit]").await;
    browser
        .wait_until("document.querySelectorAll('#jobs-table tr[data-job]').length === 2")
        .await;
    browser.screenshot(&shot(backend, "jobs-queue")).await;
    let batch = app.get("/jobs?job_type=batch").await;
    assert_eq!(
        batch.assert_ok()["jobs"][0]["params"]["store_ids"],
        json!([1, 2])
    );
    browser
        .set_value("#job-filters select[name=job_type]", "batch")
        .await;
    browser
        .wait_until("document.querySelectorAll('#jobs-table tr[data-job]').length === 1")
        .await;
    browser.assert_clean("/ui/jobs interactions").await;
}

/// The Scenarios page trains a model, simulates a price cut against the
/// baseline (the chart holds exactly the API's numbers), saves two plans,
/// ranks them and deletes one.
async fn scenarios_page_simulates_saves_and_compares(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let browser = Browser::start().await;
    browser.open(&app.url("/ui/scenarios")).await;
    browser
        .set_value(
            "#scenario-model-form select[name=model_type]",
            "seasonal_naive",
        )
        .await;
    browser
        .click("#scenario-model-form button[type=submit]")
        .await;
    browser
        .wait_until("document.querySelector('#scenario-form input[name=run_id]').value !== ''")
        .await;
    let run_id = browser
        .eval("document.querySelector('#scenario-form input[name=run_id]').value")
        .await;
    let train_end = browser
        .eval("document.querySelector('#scenario-form input[name=train_end_date]').value")
        .await;

    browser
        .set_value("#scenario-form input[name=horizon]", "14")
        .await;
    browser
        .set_value("#scenario-form input[name=price_change_pct]", "-20")
        .await;
    browser
        .set_value("#scenario-form input[name=on_hand_units]", "5")
        .await;
    browser.click("#scenario-form button[type=submit]").await;
    browser
        .wait_until("window.forecastlabCharts?.['scenario-chart']")
        .await;
    browser.assert_clean("/ui/scenarios after simulating").await;
    browser.screenshot(&shot(backend, "scenarios-result")).await;

    // The page's request is the API's: the same numbers come back.
    let end = chrono::NaiveDate::parse_from_str(train_end.as_str().unwrap(), "%Y-%m-%d").unwrap();
    let expected = app
        .post(
            "/scenarios/simulate",
            &json!({"run_id": run_id, "horizon": 14, "assumptions": {
                "price": {"change_pct": -0.2,
                          "start_date": (end + chrono::Duration::days(1)).to_string(),
                          "end_date": (end + chrono::Duration::days(14)).to_string()},
                "inventory": {"on_hand_units": 5}}}),
        )
        .await;
    let expected = expected.assert_ok();
    let spec = browser
        .eval("window.forecastlabCharts['scenario-chart'].spec")
        .await;
    let points = expected["points"].as_array().unwrap();
    assert_eq!(points.len(), 14);
    assert_eq!(spec["series"][0]["label"], "baseline");
    assert_eq!(spec["series"][1]["label"], "scenario");
    for (i, point) in points.iter().enumerate() {
        assert_eq!(spec["x"][i], point["date"]);
        assert_eq!(
            spec["series"][0]["values"][i].as_f64(),
            point["baseline"].as_f64()
        );
        assert_eq!(
            spec["series"][1]["values"][i].as_f64(),
            point["scenario"].as_f64()
        );
    }
    assert!(
        expected["units_delta"].as_f64().unwrap() > 0.0,
        "{expected}"
    );
    assert_eq!(
        browser
            .eval("document.querySelector('[data-verdict]').dataset.verdict")
            .await,
        expected["coverage_verdict"]
    );

    // Save two plans, then rank them.
    for (name, pct) in [("cut 20", "-20"), ("rise 10", "10")] {
        browser
            .set_value("#scenario-form input[name=price_change_pct]", pct)
            .await;
        browser
            .set_value("#scenario-form input[name=name]", name)
            .await;
        browser
            .set_value("#scenario-form input[name=tags]", "pricing, ui")
            .await;
        browser.click("#scenario-save").await;
        browser
            .wait_until(&format!(
                "document.getElementById('scenario-result-title')?.textContent === '{name}'"
            ))
            .await;
    }
    browser
        .wait_until("document.querySelector('#scenario-plans')?.dataset.total === '2'")
        .await;
    let saved = app.get("/scenarios?tags=ui").await;
    let saved = saved.assert_ok();
    assert_eq!(saved["total"], 2);
    browser
        .eval("document.querySelectorAll('#scenario-plans input[name=compare]').forEach(b => b.checked = true)")
        .await;
    browser.click("#scenario-compare").await;
    browser
        .wait_until("window.forecastlabCharts?.['scenario-compare-chart']")
        .await;
    let best = browser
        .eval("document.querySelector('#scenario-comparison tr[data-rank=\"1\"] td:nth-child(2)').textContent")
        .await;
    assert_eq!(best, "cut 20");
    let compare_labels = browser
        .eval("window.forecastlabCharts['scenario-compare-chart'].spec.series.map(s => s.label)")
        .await;
    assert_eq!(compare_labels, json!(["baseline", "cut 20", "rise 10"]));
    browser
        .screenshot(&shot(backend, "scenarios-compare"))
        .await;

    // Delete one plan from the table.
    let victim = saved["scenarios"][0]["scenario_id"]
        .as_str()
        .unwrap()
        .to_owned();
    browser
        .click(&format!(
            "#scenario-plans button[data-delete-plan='{victim}']"
        ))
        .await;
    browser
        .wait_until("document.querySelector('#scenario-plans')?.dataset.total === '1'")
        .await;
    app.get(&format!("/scenarios/{victim}"))
        .await
        .assert_problem(404, "NOT_FOUND");
    browser.assert_clean("/ui/scenarios interactions").await;

    // Fragments answer problems like the API.
    app.get("/ui/scenarios/compare?ids=only-one")
        .await
        .assert_problem(422, "VALIDATION_ERROR");
    app.get("/ui/scenarios/simulation?request=%7Bnot%20json")
        .await
        .assert_problem(422, "VALIDATION_ERROR");
    app.get("/ui/scenarios/plan?scenario_id=0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(404, "NOT_FOUND");
}

both_backends!(
    pages_load_cleanly_before_and_after_seeding,
    forecast_page_trains_and_predicts,
    backtest_page_renders_folds,
    registry_page_details_verifies_aliases_and_compares,
    jobs_page_shows_progress_and_cancels,
    scenarios_page_simulates_saves_and_compares,
);

#[test]
fn screenshots_go_outside_the_source_tree() {
    let dir = screenshot_dir();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    assert!(
        !dir.starts_with(source) || dir.starts_with(source.join("target")),
        "{}",
        dir.display()
    );
}
