//! The scenario tools: `propose_scenario` simulates and saves nothing; the
//! gated `save_scenario` saves an agent plan only once approved.

use forecastlab_llm_testing::{ProviderServer, Turn};
use forecastlab_tests::{
    agents::scripted_app,
    both_backends,
    fixtures::{self, d, Sale},
    Backend, TestApp,
};
use serde_json::json;

use super::{chat, get_session, session};

both_backends!(
    proposed_scenarios_simulate_and_save_nothing,
    saved_scenarios_wait_for_approval_and_record_it,
);

/// Store 1 / product 1 with 180 days of weekly-patterned sales at a price
/// of 10.00, and a naive model trained on them; returns its artifact key.
async fn trained_model(app: &TestApp) -> String {
    app.exec(
        "INSERT INTO store (id, code, name) VALUES (1, 'S1', 'Store 1');\n\
         INSERT INTO product (id, sku, name) VALUES (1, 'P1', 'Product 1');",
    )
    .await;
    fixtures::calendar(app, d("2024-01-01"), d("2024-12-31")).await;
    let sales: Vec<Sale> = (0..180)
        .map(|day| {
            let date = (d("2024-01-01") + chrono::Days::new(day)).to_string();
            let quantity = 20 + (day % 7) as i64 * 3;
            let total = format!("{:.2}", quantity as f64 * 10.0);
            Sale::new(&date, 1, 1, quantity, "10.00", &total)
        })
        .collect();
    fixtures::sales(app, &sales).await;
    let trained = app
        .post(
            "/forecasting/train",
            &json!({
                "store_id": 1, "product_id": 1,
                "train_start_date": "2024-01-01", "train_end_date": "2024-06-28",
                "config": {"model_type": "seasonal_naive", "season_length": 7},
            }),
        )
        .await;
    trained.assert_ok()["artifact_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn proposed_scenarios_simulate_and_save_nothing(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    let key = trained_model(&app).await;
    let id = session(&app, "experiment").await;
    server
        .push(
            Turn::tool_call(
                "propose_scenario",
                json!({"run_id": key, "horizon": 14, "objective": "units"}),
            )
            .and_tool_call("propose_scenario", json!({"run_id": "ffffffffffff"})),
        )
        .push(Turn::text("A price cut sells the most units."));
    let response = chat(&app, &id, "How could I sell more next fortnight?").await;
    let body = response.assert_status(200);
    assert_eq!(body["message"], "A price cut sells the most units.");
    assert_eq!(body["pending_approval"], false, "proposing is not gated");
    let proposal = &body["tool_calls"][0]["result"];
    assert_eq!(proposal["run_id"], key.as_str());
    assert_eq!(proposal["horizon"], 14);
    assert_eq!(proposal["objective"], "units");
    let candidates = proposal["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 3);
    // The simulation's own numbers: a cut adds units, a rise removes them,
    // the promotion adds some; the recommendation names the best.
    let delta = |i: usize| candidates[i]["units_delta"].as_f64().unwrap();
    assert!(delta(0) > 0.0 && delta(1) > 0.0 && delta(2) < 0.0);
    let best = (0..3)
        .max_by(|a, b| delta(*a).total_cmp(&delta(*b)))
        .unwrap();
    assert_eq!(proposal["recommended"], candidates[best]["label"]);
    let baseline = proposal["baseline"]["total_units"].as_f64().unwrap();
    assert!(baseline > 0.0);
    // Cross-checked against the scenarios route on the same assumptions.
    let direct = app
        .post(
            "/scenarios/simulate",
            &json!({"run_id": key, "horizon": 14, "assumptions": candidates[0]["assumptions"]}),
        )
        .await;
    let direct = direct.assert_ok();
    assert!(
        (direct["scenario_total_units"].as_f64().unwrap()
            - candidates[0]["scenario_total_units"].as_f64().unwrap())
        .abs()
            < 1e-9
    );
    assert!((direct["baseline_total_units"].as_f64().unwrap() - baseline).abs() < 1e-9);
    // A model that does not exist is told to the model.
    assert_eq!(body["tool_calls"][1]["result"]["error_type"], "NOT_FOUND");
    assert_eq!(app.rows("scenario_plan").await, 0);
    assert_eq!(get_session(&app, &id).await["tool_calls_count"], 2);
}

async fn saved_scenarios_wait_for_approval_and_record_it(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    let key = trained_model(&app).await;
    let id = session(&app, "experiment").await;
    let plan = json!({
        "name": "price cut July", "run_id": key, "horizon": 7, "tags": ["agent"],
        "assumptions": {"price": {"change_pct": -0.1, "start_date": "2024-06-29", "end_date": "2024-07-05"}},
    });
    // Bad arguments are told to the model, never held.
    server
        .push(Turn::tool_call(
            "save_scenario",
            json!({"name": "", "run_id": key, "horizon": 7}),
        ))
        .push(Turn::tool_call("save_scenario", plan.clone()));
    let response = chat(&app, &id, "Save the price cut").await;
    let body = response.assert_status(200).clone();
    assert_eq!(
        body["tool_calls"][0]["result"]["error_type"],
        "VALIDATION_ERROR"
    );
    assert_eq!(body["pending_approval"], true);
    let action = &body["pending_action"];
    assert_eq!(action["action_type"], "save_scenario");
    assert_eq!(
        action["description"],
        format!("Save scenario plan 'price cut July' for model {key} over 7 days")
    );
    assert_eq!(
        app.rows("scenario_plan").await,
        0,
        "nothing before approval"
    );

    // Rejected: nothing is written.
    let path = format!("/agents/sessions/{id}/approve");
    let rejected = app
        .post(
            &path,
            &json!({"action_id": action["action_id"], "approved": false}),
        )
        .await;
    assert_eq!(rejected.assert_status(200)["status"], "rejected");
    assert_eq!(app.rows("scenario_plan").await, 0);

    // Approved: one agent plan with the approval columns.
    server.push(Turn::tool_call("save_scenario", plan));
    let held = chat(&app, &id, "Save it after all").await;
    let action_id = held.assert_status(200)["pending_action"]["action_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = chrono::Utc::now();
    let approved = app
        .post(
            &path,
            &json!({"action_id": action_id, "approved": true, "approved_by": "planner@example.com"}),
        )
        .await;
    let approved = approved.assert_status(200);
    assert_eq!(approved["status"], "executed");
    let scenario_id = approved["result"]["scenario_id"].as_str().unwrap();
    let stored = app.get(&format!("/scenarios/{scenario_id}")).await;
    let stored = stored.assert_status(200);
    assert_eq!(stored["name"], "price cut July");
    assert_eq!(stored["run_id"], key.as_str());
    assert_eq!(stored["tags"], json!(["agent"]));
    let provenance = stored;
    assert_eq!(provenance["source"], "agent");
    assert_eq!(provenance["agent_session_id"], id.as_str());
    assert_eq!(provenance["approved_by"], "planner@example.com");
    assert_eq!(provenance["approval_decision"], "approved");
    let at =
        chrono::DateTime::parse_from_rfc3339(provenance["approved_at"].as_str().unwrap()).unwrap();
    assert!(at >= before - chrono::Duration::seconds(1));
    assert!(stored["comparison"]["units_delta"].as_f64().unwrap() > 0.0);
    assert_eq!(app.rows("scenario_plan").await, 1);
    let audit = app.get(&format!("/agents/sessions/{id}/tool-calls")).await;
    let rows = audit.assert_status(200)["tool_calls"]
        .as_array()
        .unwrap()
        .clone();
    let statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["error", "rejected", "executed"]);
}
