//! `/scenarios/*` on both databases: the heuristic multipliers on
//! target-only models, model_exogenous on every feature-aware model of the
//! registry, saved plans (tags, compare, delete, reading after the artifact
//! is gone), portfolios, the learned elasticity, and bad input.

use forecastlab_tests::{
    both_backends,
    fixtures::{self, d, Sale},
    json::with,
    Backend, TestApp,
};
use serde_json::{json, Value};

/// Price cycles through 9, 10, 11, 10 every 15 days; demand follows a
/// weekly pattern times `(price / 10)^-1.5`, lifted 30 % on promotion
/// days, plus deterministic noise. Product 2 is a flat short series.
fn price(day: i64) -> f64 {
    [9.0, 10.0, 11.0, 10.0][(day / 15 % 4) as usize]
}

fn in_promo(day: i64) -> bool {
    day % 23 < 3
}

fn quantity(day: i64) -> i64 {
    let dow = (day % 7) as f64; // 2024-01-01 is a Monday
    let lift = if in_promo(day) { 1.3 } else { 1.0 };
    let mut state = (day as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    state ^= state >> 29;
    let noise = ((state % 1000) as f64 / 1000.0 - 0.5) * 4.0;
    ((20.0 + 5.0 * dow) * (price(day) / 10.0).powf(-1.5) * lift + noise)
        .round()
        .max(0.0) as i64
}

fn date(day: i64) -> String {
    (d("2024-01-01") + chrono::Days::new(day as u64)).to_string()
}

async fn seed(app: &TestApp) {
    app.exec(
        "INSERT INTO store (id, code, name) VALUES (1, 'S1', 'Store 1'), (2, 'S2', 'Store 2');\n\
         INSERT INTO product (id, sku, name) VALUES (1, 'P1', 'Product 1'), (2, 'P2', 'Product 2');",
    )
    .await;
    fixtures::calendar(app, d("2024-01-01"), d("2024-12-31")).await;
    let mut sales: Vec<Sale> = Vec::new();
    for store in 1..=2 {
        for day in 0..274 {
            let q = quantity(day) + store - 1;
            let p = price(day);
            let total = format!("{:.2}", p * q as f64);
            sales.push(Sale::new(
                &date(day),
                store,
                1,
                q,
                &format!("{p:.2}"),
                &total,
            ));
        }
    }
    sales.extend((0..40).map(|day| Sale::new(&date(day), 1, 2, 5, "3.00", "15.00")));
    fixtures::sales(app, &sales).await;
    let promos: Vec<String> = (0..366)
        .filter(|day| day % 23 == 0)
        .map(|day| {
            format!(
                "(1, NULL, 'promo {day}', 0.2000, '{}', '{}', 'pct_off')",
                date(day),
                date(day + 2)
            )
        })
        .collect();
    app.exec(&format!(
        "INSERT INTO promotion (product_id, store_id, name, discount_pct, start_date, end_date, kind) VALUES {};",
        promos.join(", ")
    ))
    .await;
}

/// Trains `config` on (store, product) up to 2024-09-30 and returns the
/// train response.
async fn train(app: &TestApp, store: i64, product: i64, config: Value) -> Value {
    app.post(
        "/forecasting/train",
        &json!({
            "store_id": store, "product_id": product,
            "train_start_date": "2024-01-01", "train_end_date": "2024-09-30",
            "config": config,
        }),
    )
    .await
    .assert_ok()
    .clone()
}

fn key(trained: &Value) -> String {
    trained["artifact_key"].as_str().unwrap().to_owned()
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-6, "{a} != {b}");
}

fn floats(body: &Value, member: &str) -> Vec<f64> {
    body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[member].as_f64().unwrap())
        .collect()
}

/// Heuristic scenarios on a target-only model: the baseline is the model's
/// forecast, each day's factor is the spec's product of multipliers, and
/// totals, revenue and coverage follow.
async fn heuristic_factors_on_a_target_only_model(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let trained = train(&app, 1, 1, json!({"model_type": "seasonal_naive"})).await;
    let run_id = key(&trained);
    let predicted = app
        .post(
            "/forecasting/predict",
            &json!({"store_id": 1, "product_id": 1, "horizon": 14, "model_path": run_id}),
        )
        .await
        .assert_ok()
        .clone();
    let forecast: Vec<f64> = predicted["forecasts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["forecast"].as_f64().unwrap())
        .collect();

    // Empty assumptions: identity.
    let empty = app
        .post(
            "/scenarios/simulate",
            &json!({"run_id": run_id, "horizon": 14}),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(empty["method"], "heuristic");
    assert_eq!(empty["model_type"], "seasonal_naive");
    assert_eq!(empty["store_id"], 1);
    assert_eq!(empty["coverage_verdict"], "unknown");
    assert_eq!(floats(&empty, "baseline"), forecast);
    assert_eq!(floats(&empty, "scenario"), forecast);
    assert!(floats(&empty, "applied_factor").iter().all(|f| *f == 1.0));
    assert_eq!(empty["units_delta"], 0.0);
    assert_eq!(empty["points"][0]["date"], "2024-10-01");
    // Unit price of the latest sale (day 273 = 2024-09-30).
    close(empty["unit_price_used"].as_f64().unwrap(), price(273));
    let total: f64 = forecast.iter().sum();
    close(empty["baseline_total_units"].as_f64().unwrap(), total);
    close(
        empty["baseline_revenue"].as_f64().unwrap(),
        total * price(273),
    );

    // Everything on 2024-10-03, decline on every day, a reversed price
    // window (10-05 … 10-03), and stock for the coverage verdict.
    let body = json!({
        "run_id": run_id, "horizon": 14, "name": "combo",
        "assumptions": {
            "price": {"change_pct": -0.15, "start_date": "2024-10-05", "end_date": "2024-10-03"},
            "promotion": {"kind": "bogo", "start_date": "2024-10-03", "end_date": "2024-10-03"},
            "holiday": {"dates": ["2024-10-03"]},
            "lifecycle": {"stage": "decline"},
            "inventory": {"on_hand_units": 100}
        }
    });
    let combo = app
        .post("/scenarios/simulate", &body)
        .await
        .assert_ok()
        .clone();
    let factors = floats(&combo, "applied_factor");
    close(factors[0], 0.85);
    close(factors[1], 0.85);
    close(factors[2], 1.8801288 / 1.0000000 * 1.0); // 10-03: all four
    close(factors[3], 1.2153386 * 0.85); // 10-04: price and decline
    close(factors[4], 1.2153386 * 0.85);
    close(factors[5], 0.85);
    let scenario = floats(&combo, "scenario");
    for (i, base) in forecast.iter().enumerate() {
        close(scenario[i], (base * factors[i]).max(0.0));
    }
    let scenario_total: f64 = scenario.iter().sum();
    close(
        combo["scenario_total_units"].as_f64().unwrap(),
        scenario_total,
    );
    close(
        combo["units_delta_pct"].as_f64().unwrap(),
        (scenario_total - total) / total * 100.0,
    );
    close(
        combo["revenue_delta"].as_f64().unwrap(),
        (scenario_total - total) * price(273),
    );
    // ~14 days × ~35 units ≫ 110 units on hand.
    assert_eq!(combo["coverage_verdict"], "stockout");
    assert_eq!(combo["name"], "combo");
    assert!(combo["disclaimer"]
        .as_str()
        .unwrap()
        .contains("not a causal"));
    // Enough stock → covered.
    let stocked = with(&body, |b| {
        b["assumptions"]["inventory"]["on_hand_units"] = json!(100_000);
    });
    let covered = app
        .post("/scenarios/simulate", &stocked)
        .await
        .assert_ok()
        .clone();
    assert_eq!(covered["coverage_verdict"], "covered");
}

/// Every model of the registry simulates: target-only ones with the
/// heuristic, feature-aware ones by re-forecasting (model_exogenous).
async fn every_registered_model_simulates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let catalog = app.get("/forecasting/models").await.assert_ok().clone();
    let names: Vec<(String, bool)> = catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["enabled"] == json!(true))
        .map(|m| {
            (
                m["model_type"].as_str().unwrap().to_owned(),
                m["requires_features"].as_bool().unwrap(),
            )
        })
        .collect();
    let assumptions = json!({
        "price": {"change_pct": -0.2, "start_date": "2024-10-01", "end_date": "2024-10-07"},
        "promotion": {"kind": "markdown", "start_date": "2024-10-02", "end_date": "2024-10-03"},
    });
    let mut simulated = 0;
    for (name, feature_aware) in names {
        let response = app
            .post(
                "/forecasting/train",
                &json!({
                    "store_id": 1, "product_id": 1,
                    "train_start_date": "2024-01-01", "train_end_date": "2024-09-30",
                    "config": {"model_type": name},
                }),
            )
            .await;
        if response.status.as_u16() == 400 {
            // A model whose defaults do not fit this series says why; it
            // has nothing to simulate.
            eprintln!("{name}: not trainable here: {}", response.text);
            continue;
        }
        let trained = response.assert_ok().clone();
        simulated += 1;
        let result = app
            .post(
                "/scenarios/simulate",
                &json!({"run_id": key(&trained), "horizon": 7, "assumptions": assumptions}),
            )
            .await;
        let body = result.assert_ok();
        let method = if feature_aware {
            "model_exogenous"
        } else {
            "heuristic"
        };
        assert_eq!(body["method"], method, "{name}");
        assert_eq!(body["model_type"], name.as_str());
        assert_eq!(body["points"].as_array().unwrap().len(), 7, "{name}");
        for point in body["points"].as_array().unwrap() {
            assert!(point["scenario"].as_f64().unwrap() >= 0.0, "{name}");
            assert!(point["applied_factor"].as_f64().unwrap().is_finite());
        }
        if feature_aware {
            // The baseline is the model's own forecast (floored at 0) from
            // the same future frame as /forecasting/predict.
            let predicted = app
                .post(
                    "/forecasting/predict",
                    &json!({"store_id": 1, "product_id": 1, "horizon": 7,
                            "model_path": key(&trained)}),
                )
                .await
                .assert_ok()
                .clone();
            for (point, forecast) in body["points"]
                .as_array()
                .unwrap()
                .iter()
                .zip(predicted["forecasts"].as_array().unwrap())
            {
                close(
                    point["baseline"].as_f64().unwrap(),
                    forecast["forecast"].as_f64().unwrap().max(0.0),
                );
            }
        }
    }
    // The eleven built-in models without opt-in flags are at least eight.
    assert!(simulated >= 8, "only {simulated} models simulated");
}

/// A 20 % price cut raises the forecast of a price-sensitive feature-aware
/// model, and a 20 % rise lowers it; outside the window nothing changes
/// on the first day.
async fn model_exogenous_price_cut_moves_the_forecast(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let trained = train(&app, 1, 1, json!({"model_type": "prophet_like"})).await;
    let run = |change: f64| {
        json!({"run_id": key(&trained), "horizon": 14, "assumptions": {
            "price": {"change_pct": change, "start_date": "2024-10-01", "end_date": "2024-10-14"}}})
    };
    let cut = app
        .post("/scenarios/simulate", &run(-0.2))
        .await
        .assert_ok()
        .clone();
    assert_eq!(cut["method"], "model_exogenous");
    assert!(
        cut["units_delta"].as_f64().unwrap() > 0.0,
        "a price cut must raise demand: {}",
        cut["units_delta"]
    );
    assert!(cut["disclaimer"].as_str().unwrap().contains("uncertainty"));
    let rise = app
        .post("/scenarios/simulate", &run(0.2))
        .await
        .assert_ok()
        .clone();
    assert!(rise["units_delta"].as_f64().unwrap() < 0.0);
    // No assumptions: the two frames are the same.
    let none = app
        .post(
            "/scenarios/simulate",
            &json!({"run_id": key(&trained), "horizon": 5}),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(floats(&none, "baseline"), floats(&none, "scenario"));
    assert_eq!(none["units_delta"], 0.0);
}

async fn plan(app: &TestApp, run_id: &str, name: &str, change: f64, tags: Value) -> Value {
    let response = app
        .post(
            "/scenarios",
            &json!({
                "name": name, "run_id": run_id, "horizon": 7, "tags": tags,
                "assumptions": {"price": {"change_pct": change,
                    "start_date": "2024-10-01", "end_date": "2024-10-07"}},
            }),
        )
        .await;
    response.assert_status(201).clone()
}

/// Save → get → list with tag filters → compare → delete; a plan reads
/// back after its artifact is deleted.
async fn plans_save_list_compare_delete(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let trained = train(&app, 1, 1, json!({"model_type": "moving_average"})).await;
    let run_id = key(&trained);
    let cheaper = plan(&app, &run_id, "cheaper", -0.1, json!(["q4", "price"])).await;
    let dearer = plan(&app, &run_id, "dearer", 0.1, json!(["q4"])).await;
    let same = plan(&app, &run_id, "same", 0.0, json!(["other"])).await;
    let flat = plan(&app, &run_id, "flat", 0.0, json!([])).await;
    let id = |plan: &Value| plan["scenario_id"].as_str().unwrap().to_owned();
    assert_eq!(id(&cheaper).len(), 32);
    assert_eq!(cheaper["name"], "cheaper");
    assert_eq!(cheaper["run_id"], run_id.as_str());
    assert_eq!(cheaper["method"], "heuristic");
    assert_eq!(cheaper["source"], "user");
    assert_eq!(cheaper["approval_decision"], Value::Null);
    assert_eq!(cheaper["tags"], json!(["q4", "price"]));
    assert_eq!(cheaper["assumptions"]["price"]["change_pct"], -0.1);
    assert!(cheaper["comparison"]["revenue_delta"].as_f64().unwrap() > 0.0);
    assert_eq!(app.rows("scenario_plan").await, 4);

    // Read back as stored, even after the artifact is gone.
    std::fs::remove_file(trained["model_path"].as_str().unwrap()).unwrap();
    let fetched = app
        .get(&format!("/scenarios/{}", id(&cheaper)))
        .await
        .assert_ok()
        .clone();
    assert_eq!(fetched["comparison"], cheaper["comparison"]);
    assert_eq!(fetched["created_at"], cheaper["created_at"]);

    // List: newest first, tag containment, total honours the filter.
    let all = app.get("/scenarios").await.assert_ok().clone();
    assert_eq!(all["total"], 4);
    let names: Vec<&str> = all["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["flat", "same", "dearer", "cheaper"]);
    assert_eq!(
        all["scenarios"][3]["revenue_delta"],
        cheaper["comparison"]["revenue_delta"]
    );
    let q4 = app.get("/scenarios?tags=q4").await.assert_ok().clone();
    assert_eq!(q4["total"], 2);
    let both = app
        .get("/scenarios?tags=q4&tags=price")
        .await
        .assert_ok()
        .clone();
    assert_eq!(both["total"], 1);
    assert_eq!(both["scenarios"][0]["scenario_id"], id(&cheaper).as_str());
    let none = app.get("/scenarios?tags=nope").await.assert_ok().clone();
    assert_eq!(none["total"], 0);
    assert_eq!(none["scenarios"], json!([]));
    let page = app
        .get("/scenarios?limit=1&offset=1")
        .await
        .assert_ok()
        .clone();
    assert_eq!(page["total"], 4);
    assert_eq!(page["scenarios"][0]["name"], "same");

    // Compare: ranked by revenue delta (desc), then by units; ties keep
    // request order; chart series merges the dates.
    let compared = app
        .post(
            "/scenarios/compare",
            &json!({"scenario_ids": [id(&same), id(&dearer), id(&cheaper)]}),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(compared["rank_by"], "revenue_delta");
    let ranked: Vec<(&str, i64)> = compared["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["rank"].as_i64().unwrap()))
        .collect();
    assert_eq!(ranked, [("cheaper", 1), ("same", 2), ("dearer", 3)]);
    assert_eq!(
        compared["baseline_total_units"],
        same["comparison"]["baseline_total_units"]
    );
    let chart = compared["chart_series"].as_array().unwrap();
    assert_eq!(chart.len(), 7);
    assert_eq!(chart[0]["date"], "2024-10-01");
    assert_eq!(
        chart[0]["baseline"],
        same["comparison"]["points"][0]["baseline"]
    );
    assert_eq!(
        chart[0][id(&cheaper)],
        cheaper["comparison"]["points"][0]["scenario"]
    );
    let by_units = app
        .post(
            "/scenarios/compare",
            &json!({"scenario_ids": [id(&dearer), id(&cheaper)], "rank_by": "units_delta"}),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(by_units["scenarios"][0]["name"], "cheaper");
    // Equal deltas keep the request order, both ways round.
    for order in [[id(&flat), id(&same)], [id(&same), id(&flat)]] {
        let tie = app
            .post("/scenarios/compare", &json!({"scenario_ids": order}))
            .await
            .assert_ok()
            .clone();
        assert_eq!(tie["scenarios"][0]["scenario_id"], order[0].as_str());
        assert_eq!(tie["scenarios"][1]["rank"], 2);
    }

    // Unknown ids → 404 naming them.
    let missing = app
        .post(
            "/scenarios/compare",
            &json!({"scenario_ids": [id(&same), "0123456789abcdef0123456789abcdef"]}),
        )
        .await;
    missing.assert_problem_mentions(404, "NOT_FOUND", "0123456789abcdef0123456789abcdef");

    // Delete: 204 without a body, then 404.
    let deleted = app.delete(&format!("/scenarios/{}", id(&same))).await;
    deleted.assert_status(204);
    assert!(deleted.text.is_empty());
    app.delete(&format!("/scenarios/{}", id(&same)))
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get(&format!("/scenarios/{}", id(&same)))
        .await
        .assert_problem(404, "NOT_FOUND");
    assert_eq!(app.get("/scenarios").await.assert_ok()["total"], 3);
}

/// Bad input: each a problem naming the field; nothing is written.
async fn bad_input_is_a_problem_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let trained = train(&app, 1, 1, json!({"model_type": "naive"})).await;
    let run_id = key(&trained);
    let good = json!({"name": "ok", "run_id": run_id, "horizon": 7,
        "assumptions": {"price": {"change_pct": 0.1, "start_date": "2024-10-01", "end_date": "2024-10-02"}}});
    let cases: Vec<(Value, &str)> = vec![
        (with(&good, |b| b["surprise"] = json!(1)), "surprise"),
        (
            with(&good, |b| {
                b["assumptions"]["price"]["change_pct"] = json!(-0.95)
            }),
            "assumptions.price.change_pct",
        ),
        (
            with(&good, |b| {
                b["assumptions"]["price"]["change_pct"] = json!(5.5)
            }),
            "assumptions.price.change_pct",
        ),
        (
            with(&good, |b| b["assumptions"]["price"]["extra"] = json!(true)),
            "assumptions.price.extra",
        ),
        (
            with(&good, |b| {
                b["assumptions"]["holiday"] = json!({"dates": []})
            }),
            "assumptions.holiday.dates",
        ),
        (
            with(&good, |b| {
                b["assumptions"]["inventory"] = json!({"on_hand_units": -1})
            }),
            "assumptions.inventory.on_hand_units",
        ),
        (
            with(
                &good,
                |b| {
                    b["assumptions"]["promotion"] = json!({"kind": "free", "start_date": "2024-10-01", "end_date": "2024-10-02"})
                },
            ),
            "assumptions.promotion.kind",
        ),
        (
            with(&good, |b| {
                b["assumptions"]["lifecycle"] = json!({"stage": "zombie"})
            }),
            "assumptions.lifecycle.stage",
        ),
        (with(&good, |b| b["horizon"] = json!(0)), "horizon"),
        (with(&good, |b| b["horizon"] = json!(91)), "horizon"),
        (with(&good, |b| b["name"] = json!("")), "name"),
        (with(&good, |b| b["name"] = json!("x".repeat(201))), "name"),
        (
            with(&good, |b| {
                b["tags"] = json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>())
            }),
            "tags",
        ),
        (with(&good, |b| b["run_id"] = json!("")), "run_id"),
        (
            with(&good, |b| b["method"] = json!("model_exogenous")),
            "method",
        ),
    ];
    for (body, field) in &cases {
        app.post("/scenarios", body).await.assert_invalid(field);
    }
    // Simulate: the same rules, plus run_id / run_ids exclusivity.
    let sim = json!({"run_id": run_id, "horizon": 7});
    app.post(
        "/scenarios/simulate",
        &with(&sim, |b| b["horizon"] = json!(100)),
    )
    .await
    .assert_invalid("horizon");
    app.post("/scenarios/simulate", &json!({"horizon": 7}))
        .await
        .assert_invalid("run_id");
    app.post(
        "/scenarios/simulate",
        &with(&sim, |b| b["run_ids"] = json!([run_id])),
    )
    .await
    .assert_invalid("run_ids");
    app.post("/scenarios/simulate", &json!({"run_ids": [], "horizon": 7}))
        .await
        .assert_invalid("run_ids");
    // Artifacts: missing → 404, outside the directory → 400.
    app.post(
        "/scenarios/simulate",
        &with(&sim, |b| b["run_id"] = json!("abcdefabcdef")),
    )
    .await
    .assert_problem(404, "NOT_FOUND");
    app.post(
        "/scenarios",
        &with(&good, |b| b["run_id"] = json!("abcdefabcdef")),
    )
    .await
    .assert_problem(404, "NOT_FOUND");
    for bad in [
        format!("/tmp/model_{run_id}.flmodel"),
        format!("../model_{run_id}.flmodel"),
        "../../etc/passwd".to_owned(),
    ] {
        app.post(
            "/scenarios/simulate",
            &with(&sim, |b| b["run_id"] = json!(bad)),
        )
        .await
        .assert_problem(400, "BAD_REQUEST");
    }
    // Compare: 2–5 distinct ids.
    let ids = |n: usize| (0..n).map(|i| format!("{i:032x}")).collect::<Vec<_>>();
    app.post("/scenarios/compare", &json!({"scenario_ids": ids(6)}))
        .await
        .assert_invalid("scenario_ids");
    app.post("/scenarios/compare", &json!({"scenario_ids": ids(1)}))
        .await
        .assert_invalid("scenario_ids");
    let twice = vec![ids(1)[0].clone(), ids(1)[0].clone()];
    app.post("/scenarios/compare", &json!({"scenario_ids": twice}))
        .await
        .assert_invalid("scenario_ids.1");
    app.post(
        "/scenarios/compare",
        &json!({"scenario_ids": ids(2), "rank_by": "profit"}),
    )
    .await
    .assert_invalid("rank_by");
    // List query.
    for (query, field) in [
        ("limit=0", "query.limit"),
        ("limit=101", "query.limit"),
        ("offset=-1", "query.offset"),
        ("limit=abc", "query.limit"),
    ] {
        app.get(&format!("/scenarios?{query}"))
            .await
            .assert_invalid(field);
    }
    assert_eq!(app.rows("scenario_plan").await, 0);
}

/// A feature-aware artifact whose metadata lost its feature columns is a
/// 400 advising to retrain (re-signed so only the metadata is wrong).
async fn missing_feature_metadata_advises_retraining(backend: Backend) {
    use forecastlab_core::artifact::{self, Artifact};
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let trained = train(&app, 1, 1, json!({"model_type": "regression"})).await;
    let path = std::path::PathBuf::from(trained["model_path"].as_str().unwrap());
    let (original, _) = Artifact::read(&path).unwrap();
    let mut metadata = original.header.metadata.clone();
    metadata.as_object_mut().unwrap().remove("feature_columns");
    let stripped = Artifact::new(
        &original.header.model_type,
        &original.header.plugin_version,
        original.header.config.clone(),
        original.header.config_hash.clone(),
        metadata,
        original.payload.clone(),
    );
    let new_key = artifact::new_key();
    stripped
        .write(&path.parent().unwrap().join(artifact::file_name(&new_key)))
        .unwrap();
    let response = app
        .post(
            "/scenarios",
            &json!({"name": "x", "run_id": new_key, "horizon": 7}),
        )
        .await;
    response.assert_problem_mentions(400, "BAD_REQUEST", "retrain");
    assert_eq!(app.rows("scenario_plan").await, 0);
}

/// A portfolio: several series and models under one scenario; a missing
/// run is reported, the totals sum the others.
async fn portfolio_simulates_many_runs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let a = key(&train(&app, 1, 1, json!({"model_type": "naive"})).await);
    let b = key(&train(&app, 2, 1, json!({"model_type": "seasonal_naive"})).await);
    let c = key(&train(&app, 1, 1, json!({"model_type": "regression"})).await);
    let assumptions = json!({
        "promotion": {"kind": "pct_off", "start_date": "2024-10-01", "end_date": "2024-10-03"},
        "inventory": {"on_hand_units": 50},
    });
    let body = json!({"run_ids": [a, "abcdefabcdef", b, c], "horizon": 7,
        "assumptions": assumptions});
    let portfolio = app
        .post("/scenarios/simulate", &body)
        .await
        .assert_ok()
        .clone();
    let runs = portfolio["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[1]["comparison"], Value::Null);
    assert!(runs[1]["error"].as_str().unwrap().contains("not found"));
    assert_eq!(runs[3]["comparison"]["method"], "model_exogenous");
    let totals = &portfolio["totals"];
    assert_eq!(totals["runs"], 3);
    assert_eq!(totals["failed"], 1);
    // Each run equals its single simulation; totals are the sums.
    let mut units = 0.0;
    let mut revenue = 0.0;
    let mut stockouts = 0;
    for (run, id) in [(&runs[0], &a), (&runs[2], &b), (&runs[3], &c)] {
        let single = app
            .post(
                "/scenarios/simulate",
                &json!({"run_id": id, "horizon": 7, "assumptions": assumptions}),
            )
            .await
            .assert_ok()
            .clone();
        assert_eq!(run["comparison"]["points"], single["points"]);
        assert_eq!(
            run["comparison"]["unit_price_used"],
            single["unit_price_used"]
        );
        units += single["units_delta"].as_f64().unwrap();
        revenue += single["revenue_delta"].as_f64().unwrap();
        if single["coverage_verdict"] == "stockout" {
            stockouts += 1;
        }
    }
    close(totals["units_delta"].as_f64().unwrap(), units);
    close(totals["revenue_delta"].as_f64().unwrap(), revenue);
    assert_eq!(totals["series_stockout"], stockouts);
    // Store 2 sells one more unit a day: its run's price is its own.
    assert_eq!(runs[2]["comparison"]["store_id"], 2);
    // 501 runs is too many.
    let many: Vec<String> = (0..501).map(|_| a.clone()).collect();
    app.post(
        "/scenarios/simulate",
        &json!({"run_ids": many, "horizon": 7}),
    )
    .await
    .assert_invalid("run_ids");
}

both_backends!(
    heuristic_factors_on_a_target_only_model,
    every_registered_model_simulates,
    model_exogenous_price_cut_moves_the_forecast,
    plans_save_list_compare_delete,
    bad_input_is_a_problem_and_writes_nothing,
    missing_feature_metadata_advises_retraining,
    portfolio_simulates_many_runs,
);
