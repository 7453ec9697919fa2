//! The Knowledge & agents and Showcase pages of the dashboard, driven in a
//! real headless Chromium: indexing and searching with citations, an agent
//! whose held action is approved in the page (the model answered by a local
//! server speaking OpenAI's protocol), the missing-provider problem shown
//! in the page, a demo run streamed to `pipeline_complete` with the HITL
//! approval clicked in the page, and the saved workspaces' pin, tags,
//! health, export and comparison.
//!
//! Screenshots go to `forecastlab_tests::browser::screenshot_dir()`.

use forecastlab_llm_testing::{ProviderServer, Turn};
use forecastlab_tests::{
    agents::{registered_run, scripted_app},
    both_backends,
    browser::Browser,
    Backend, TestApp,
};
use serde_json::{json, Value};

both_backends!(
    knowledge_page_indexes_searches_and_cites,
    knowledge_page_approves_an_agent_action,
    showcase_page_streams_a_run_and_approves_the_agent,
);

fn shot(backend: Backend, name: &str) -> String {
    format!("{}-{name}", format!("{backend:?}").to_lowercase())
}

const BACKTESTING: &str = "# Backtesting\n\nBacktesting splits a sales series into expanding \
    folds. Each fold trains the model on the past and scores the forecast with WAPE and MAE \
    against naive baselines.\n\n# Registry\n\nThe registry stores every model run with its \
    artifact checksum and aliases.\n";

/// With no LLM provider configured: a project document is indexed from the
/// page, a search cites it exactly as `POST /rag/retrieve` does, and
/// starting an agent session shows the API's 400 naming the setting.
async fn knowledge_page_indexes_searches_and_cites(backend: Backend) {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("docs")).unwrap();
    std::fs::write(root.path().join("docs/backtesting.md"), BACKTESTING).unwrap();
    let app = TestApp::spawn_with(
        backend,
        &[("RAG_PROJECT_ROOT", root.path().to_str().unwrap())],
    )
    .await;
    let browser = Browser::start().await;
    browser.open(&app.url("/ui/knowledge")).await;
    browser.assert_clean("/ui/knowledge (empty)").await;

    browser
        .set_value("#index-form input[name=source_path]", "docs/backtesting.md")
        .await;
    browser
        .set_value("#index-form input[name=category]", "docs")
        .await;
    browser.click("#index-form button[type=submit]").await;
    browser
        .wait_until(
            "document.querySelector('#rag-sources [data-sources]')?.dataset.sources === '1'",
        )
        .await;
    let sources = app.get("/rag/sources").await;
    let sources = sources.assert_ok();
    assert_eq!(sources["sources"][0]["source_path"], "docs/backtesting.md");
    assert_eq!(sources["sources"][0]["metadata"]["category"], "docs");
    let chunks = sources["total_chunks"].as_u64().unwrap();
    assert!(chunks >= 1, "{sources}");
    assert!(browser
        .eval("document.getElementById('index-result').textContent")
        .await
        .as_str()
        .unwrap()
        .contains(&format!("{chunks} chunks")));

    browser
        .set_value("#search-form input[name=query]", "expanding folds WAPE")
        .await;
    browser.click("#search-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('#search-results [data-citations]')")
        .await;
    browser
        .wait_until("window.forecastlabCharts?.['rag-relevance']")
        .await;
    let expected = app
        .post(
            "/rag/retrieve",
            &json!({"query": "expanding folds WAPE", "top_k": 5}),
        )
        .await;
    let expected = expected.assert_ok()["results"].as_array().unwrap().clone();
    assert!(!expected.is_empty());
    let shown = browser
        .eval(
            "[...document.querySelectorAll('#search-results li[data-chunk]')].map(li => ({ \
               chunk: li.dataset.chunk, \
               source: li.querySelector('.citation-source').textContent, \
               heading: li.querySelector('.citation-heading').textContent, \
               score: Number(li.querySelector('.citation-score').dataset.score)}))",
        )
        .await;
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), expected.len());
    for (citation, result) in shown.iter().zip(&expected) {
        assert_eq!(citation["chunk"], result["chunk_id"]);
        assert_eq!(citation["source"], result["source_path"]);
        assert_eq!(citation["heading"], result["metadata"]["heading"]);
        assert_eq!(
            citation["score"].as_f64(),
            result["relevance_score"].as_f64()
        );
    }
    assert_eq!(shown[0]["source"], "docs/backtesting.md");
    assert_ne!(shown[0]["heading"], "—");
    let spec = browser
        .eval("window.forecastlabCharts['rag-relevance'].spec")
        .await;
    assert_eq!(
        spec["series"][0]["values"][0].as_f64(),
        expected[0]["relevance_score"].as_f64()
    );
    let csv = browser
        .eval("window.forecastlabCharts['rag-relevance'].csv()")
        .await;
    assert!(csv.as_str().unwrap().starts_with("category,relevance\n"));
    browser.assert_clean("/ui/knowledge search").await;

    // No provider: the session is refused with the setting named, beside
    // the agent controls; the page stays usable.
    browser.click("#agent-start button[type=submit]").await;
    browser
        .wait_until("!document.getElementById('agent-problem').hidden")
        .await;
    let problem = browser
        .eval("document.getElementById('agent-problem').textContent")
        .await;
    assert!(
        problem
            .as_str()
            .unwrap()
            .contains("ANTHROPIC_API_KEY is not set"),
        "{problem}"
    );
    assert_eq!(
        browser
            .eval("document.querySelector('#agent-chat textarea').disabled")
            .await,
        true
    );
    // The refused request is the only problem the browser saw (Chromium
    // reports it both as a response and on the console).
    let problems = browser.problems().await;
    assert!(!problems.is_empty());
    for problem in &problems {
        assert!(
            problem.contains("/agents/sessions") && problem.contains("400"),
            "{problems:?}"
        );
    }
    assert_eq!(app.rows("agent_session").await, 0);
    browser
        .eval("document.getElementById('search-title').scrollIntoView()")
        .await;
    browser.screenshot(&shot(backend, "knowledge-search")).await;
    browser
        .eval("document.getElementById('agent-title').scrollIntoView()")
        .await;
    browser
        .screenshot(&shot(backend, "knowledge-no-provider"))
        .await;

    // Removing the source empties the index.
    let source_id = sources["sources"][0]["source_id"].as_str().unwrap();
    browser
        .click(&format!("button[data-delete-source='{source_id}']"))
        .await;
    browser
        .wait_until(
            "document.querySelector('#rag-sources [data-sources]')?.dataset.sources === '0'",
        )
        .await;
    browser.assert_clean("/ui/knowledge remove").await;

    // Fragments answer the API's problems.
    app.get("/ui/knowledge/search?query=")
        .await
        .assert_invalid("query.query");
    app.get("/ui/knowledge/search?query=x&top_k=0")
        .await
        .assert_invalid("query.top_k");
    app.get("/ui/knowledge/session?session_id=0123456789abcdef0123456789abcdef")
        .await
        .assert_problem(404, "NOT_FOUND");
}

/// A session started in the page, a chat whose scripted answer holds a
/// gated action, the approval clicked in the page: the action ran, the
/// audit names the dashboard, the session is active again.
async fn knowledge_page_approves_an_agent_action(backend: Backend) {
    let server = ProviderServer::openai().await;
    let app = scripted_app(backend, &server, &[]).await;
    let run_id = registered_run(&app, 1, true).await;
    server.push(Turn::tool_call(
        "create_alias",
        json!({"alias_name": "dashboard-pick", "run_id": run_id}),
    ));
    let browser = Browser::start().await;
    browser.open(&app.url("/ui/knowledge")).await;
    assert_eq!(
        browser
            .eval("document.getElementById('agent-model').textContent")
            .await,
        "openai:gpt-4o"
    );
    browser.click("#agent-start button[type=submit]").await;
    browser
        .wait_until("document.querySelector('#agent-session [data-session]')")
        .await;
    browser
        .set_value(
            "#agent-chat textarea[name=message]",
            "Promote the naive run",
        )
        .await;
    browser.click("#agent-chat button[type=submit]").await;
    browser
        .wait_until("document.querySelector('#agent-session [data-action]')")
        .await;
    let session_id = browser
        .eval("document.querySelector('#agent-session [data-session]').dataset.session")
        .await;
    let session_id = session_id.as_str().unwrap().to_owned();
    assert_eq!(
        browser
            .eval("document.querySelector('#agent-session [data-session]').dataset.status")
            .await,
        "awaiting_approval"
    );
    assert_eq!(
        browser
            .eval("document.querySelector('#agent-session tr[data-tool=create_alias]').dataset.callStatus")
            .await,
        "approval_required"
    );
    app.get("/registry/aliases/dashboard-pick")
        .await
        .assert_problem(404, "NOT_FOUND");
    browser
        .eval("document.getElementById('agent-title').scrollIntoView()")
        .await;
    browser.screenshot(&shot(backend, "knowledge")).await;

    browser
        .click("#agent-session button[data-decide=approve]")
        .await;
    browser
        .wait_until("document.getElementById('agent-decision').dataset.outcome === 'executed'")
        .await;
    browser
        .wait_until(
            "document.querySelector('#agent-session [data-session]')?.dataset.status === 'active'",
        )
        .await;
    let alias = app.get("/registry/aliases/dashboard-pick").await;
    assert_eq!(alias.assert_ok()["run_id"], run_id.as_str());
    let audit = app
        .get(&format!("/agents/sessions/{session_id}/tool-calls"))
        .await;
    let audit = audit.assert_ok();
    assert_eq!(audit["tool_calls"][0]["status"], "executed");
    assert_eq!(audit["tool_calls"][0]["approved_by"], "dashboard");
    let session = app.get(&format!("/agents/sessions/{session_id}")).await;
    let history = session.assert_ok()["message_history"]
        .as_array()
        .unwrap()
        .clone();
    assert!(history
        .last()
        .and_then(|m| m["content"].as_str())
        .unwrap()
        .contains("approved and executed"));
    assert_eq!(
        browser
            .eval("document.querySelector('#agent-session tr[data-tool=create_alias]').dataset.callStatus")
            .await,
        "executed"
    );
    browser.assert_clean("/ui/knowledge agent").await;
    browser
        .screenshot(&shot(backend, "knowledge-approved"))
        .await;
}

/// A showcase run started in the page streams to `pipeline_complete`
/// phase by phase; the approval clicked inside the decision window reaches
/// the agent (its gated alias exists); the kept workspace is then pinned,
/// tagged, probed, exported and compared with a second one.
async fn showcase_page_streams_a_run_and_approves_the_agent(backend: Backend) {
    let server = ProviderServer::openai().await;
    let export_root = tempfile::tempdir().unwrap();
    let app = scripted_app(
        backend,
        &server,
        &[
            ("DEMO_HITL_WINDOW_SECONDS", "60"),
            ("SHOWCASE_EXPORT_ROOT", export_root.path().to_str().unwrap()),
        ],
    )
    .await;
    let run_id = registered_run(&app, 1, true).await;
    server.push(Turn::tool_call(
        "create_alias",
        json!({"alias_name": "agent-pick", "run_id": run_id}),
    ));
    let browser = Browser::start().await;
    browser.open(&app.url("/ui/showcase")).await;
    browser
        .set_value("#demo-form select[name=scenario]", "showcase_rich")
        .await;
    for (knob, value) in [("stores", "2"), ("products", "2"), ("window_days", "120")] {
        browser
            .set_value(&format!("#demo-form input[name={knob}]"), value)
            .await;
    }
    browser
        .set_value("#demo-form input[name=workspace_name]", "browser-run")
        .await;
    browser.click("#demo-form button[type=submit]").await;
    browser
        .wait_until("!document.getElementById('hitl').hidden")
        .await;
    let phases = browser
        .eval("[...document.querySelectorAll('#run-phases section')].map(s => s.dataset.phase)")
        .await;
    assert_eq!(
        phases,
        json!([
            "data",
            "modeling",
            "decision",
            "portfolio",
            "planning",
            "knowledge",
            "verify",
            "agents"
        ])
    );
    let failed = browser
        .eval("document.querySelectorAll('#run-phases li[data-status=fail]').length")
        .await;
    assert_eq!(failed, 0);
    browser
        .eval("document.getElementById('run-title').scrollIntoView()")
        .await;
    browser.screenshot(&shot(backend, "showcase")).await;
    browser.click("#hitl-approve").await;
    browser
        .wait_until("document.getElementById('run-summary').dataset.status")
        .await;
    assert_eq!(
        browser
            .eval("document.getElementById('run-summary').dataset.status")
            .await,
        "pass"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('hitl-outcome').dataset.decision")
            .await,
        "executed"
    );
    assert_eq!(
        browser
            .eval("document.querySelectorAll('#run-phases li[data-step]').length")
            .await,
        24
    );
    // The approved action ran: the agent's alias exists.
    let alias = app.get("/registry/aliases/agent-pick").await;
    assert_eq!(alias.assert_ok()["run_id"], run_id.as_str());

    // The kept workspace: its detail opens with the operator's approval.
    browser
        .wait_until("document.querySelector('#workspace-detail [data-workspace-detail]')")
        .await;
    let id = browser
        .eval("document.querySelector('#workspace-detail [data-workspace-detail]').dataset.workspaceDetail")
        .await;
    let id = id.as_str().unwrap().to_owned();
    let detail = app.get(&format!("/demo/workspaces/{id}")).await;
    let detail = detail.assert_ok().clone();
    assert_eq!(detail["name"], "browser-run");
    assert_eq!(detail["approval_events"][0]["decision"], "approved");
    assert_eq!(detail["approval_events"][0]["auto_approved"], false);
    assert_eq!(
        browser
            .eval("document.querySelector('#workspace-detail tr[data-decision]').dataset.decision")
            .await,
        "approved"
    );
    browser
        .wait_until("window.forecastlabCharts?.['workspace-phases']")
        .await;
    let replay: Value = serde_json::from_str(
        browser
            .eval("document.querySelector('#workspace-detail [data-replay]').dataset.replay")
            .await
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(replay["replayed_from_workspace_id"], id.as_str());
    assert_eq!(replay["scenario"], "showcase_rich");
    assert_eq!(replay["preservation"], "keep");
    assert_eq!(
        replay["seed_overrides"],
        json!({"stores": 2, "products": 2, "window_days": 120})
    );
    browser.assert_clean("/ui/showcase run").await;
    browser
        .eval("document.getElementById('run-title').scrollIntoView()")
        .await;
    browser.screenshot(&shot(backend, "showcase-run")).await;

    // Pin, tag, probe and export from the page.
    browser
        .wait_until(&format!(
            "document.querySelector(\"#workspaces tr[data-workspace='{id}']\")"
        ))
        .await;
    browser
        .click(&format!(
            "#workspaces tr[data-workspace='{id}'] button[data-field=pinned]"
        ))
        .await;
    browser
        .wait_until(&format!(
            "document.querySelector(\"#workspaces tr[data-workspace='{id}']\")?.dataset.pinned === 'true'"
        ))
        .await;
    browser
        .set_value(
            "#workspace-detail form.workspace-edit input[name=tags]",
            "ui, demo",
        )
        .await;
    browser
        .click("#workspace-detail form.workspace-edit button[type=submit]")
        .await;
    browser
        .wait_until(
            "document.getElementById('workspace-action').textContent === 'Tags and notes saved.'",
        )
        .await;
    let tagged = app.get(&format!("/demo/workspaces/{id}")).await;
    assert_eq!(tagged.assert_ok()["tags"], json!(["ui", "demo"]));
    assert_eq!(tagged.assert_ok()["pinned"], true);
    browser
        .click("#workspace-detail button[hx-get^='/ui/showcase/health']")
        .await;
    browser
        .wait_until("document.querySelector('#workspace-health [data-alive]')")
        .await;
    let health = app.get(&format!("/demo/workspaces/{id}/health")).await;
    let health = health.assert_ok();
    assert_eq!(
        browser
            .eval("document.querySelector('#workspace-health [data-alive]').dataset.alive")
            .await,
        json!(health["alive"].to_string())
    );
    browser.click("#workspace-detail button[data-export]").await;
    browser
        .wait_until("document.getElementById('workspace-action').dataset.validated === 'true'")
        .await;
    assert!(export_root.path().join(&id).join("manifest.json").is_file());

    // A second, quick workspace (its agent step gets a plain answer); the
    // tag filter and the comparison.
    server.push(Turn::text("The latest runs are listed."));
    let quick = app
        .post(
            "/demo/run",
            &json!({"scenario": "demo_minimal", "preservation": "keep", "workspace_name": "quick"}),
        )
        .await;
    let quick = quick.assert_ok()["workspace_id"]
        .as_str()
        .unwrap()
        .to_owned();
    browser
        .set_value("#workspace-filters input[name=tags]", "ui")
        .await;
    browser
        .wait_until("document.getElementById('workspaces')?.dataset.total === '1'")
        .await;
    browser
        .set_value("#workspace-filters input[name=tags]", "")
        .await;
    browser
        .wait_until("document.getElementById('workspaces')?.dataset.total === '2'")
        .await;
    for workspace in [&id, &quick] {
        browser
            .click(&format!("#workspaces input[value='{workspace}']"))
            .await;
    }
    browser.click("#workspace-compare").await;
    browser
        .wait_until("window.forecastlabCharts?.['workspace-compare-phases']")
        .await;
    let differing = browser
        .eval("[...document.querySelectorAll('#workspace-comparison tr.differs th')].map(th => th.firstChild.textContent.trim())")
        .await;
    for field in ["name", "scenario", "pinned"] {
        assert!(
            differing.as_array().unwrap().contains(&json!(field)),
            "{field}: {differing}"
        );
    }
    browser.assert_clean("/ui/showcase workspaces").await;
    browser.screenshot(&shot(backend, "showcase-compare")).await;

    // Fragments answer the API's problems.
    app.get(&format!("/ui/showcase/compare?a={id}&b={id}"))
        .await
        .assert_invalid("query.b");
    app.get("/ui/showcase/workspace?workspace_id=nope")
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get("/ui/showcase/workspaces?limit=0")
        .await
        .assert_invalid("query.limit");
}
