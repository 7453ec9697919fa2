//! The dashboard over plain HTTP: its fragments answer the API's problems,
//! and its static files are cached by content.

use forecastlab_tests::{both_backends, Backend, TestApp};

use super::{queue_naive, seed, window};

/// Fragments answer the API's problems: bad queries 422, missing runs 404,
/// a job of another type 400, an unfinished job 409.
async fn fragments_answer_problems(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("JOBS_WORKERS", "0")]).await;
    app.get("/ui/jobs/table?status=bogus")
        .await
        .assert_invalid("query.status");
    app.get("/ui/registry/runs?page=0")
        .await
        .assert_invalid("query.page");
    app.get("/ui/series/charts?store_id=0")
        .await
        .assert_invalid("query.store_id");
    app.get("/ui/registry?run_id=xyz")
        .await
        .assert_invalid("query.run_id");
    app.get(&format!("/ui/registry/runs/{}", "a".repeat(32)))
        .await
        .assert_problem(404, "NOT_FOUND");
    app.get("/ui/forecast/result?job_id=nope")
        .await
        .assert_problem(404, "NOT_FOUND");
    seed(&app).await;
    let (start, end) = window(&app).await;
    let job_id = queue_naive(&app, "train", &start, &end).await;
    app.get(&format!("/ui/forecast/result?job_id={job_id}"))
        .await
        .assert_problem(400, "BAD_REQUEST");
    app.get(&format!("/ui/backtest/result?job_id={job_id}"))
        .await
        .assert_problem(400, "BAD_REQUEST");
    let backtest_id = queue_naive(&app, "backtest", &start, &end).await;
    app.get(&format!("/ui/backtest/result?job_id={backtest_id}"))
        .await
        .assert_problem(409, "CONFLICT");
    // Pages and fragments are HTML; unknown dashboard paths are 404 problems.
    let page = app.get("/ui/forecast").await;
    page.assert_ok();
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text.contains("<option value=\"seasonal_naive\""));
    app.get("/ui/nope").await.assert_problem(404, "NOT_FOUND");
}

/// Static files: content-hashed URLs served immutable with an ETag, 304 on
/// a match, revalidated under an old hash, 404 when unknown.
async fn static_files_are_cached_by_content(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = app.get("/").await;
    let url = page
        .text
        .split('"')
        .find(|part| part.starts_with("/ui/static/") && part.ends_with("uplot-1.6.32.iife.min.js"))
        .expect("uPlot linked from the page")
        .to_owned();
    let hash = url.split('/').nth(3).unwrap().to_owned();
    let response = app.client.get(app.url(&url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header("etag"), format!("\"{hash}\""));
    assert!(header("content-type").starts_with("text/javascript"));
    assert!(response.text().await.unwrap().contains("uPlot"));

    let again = app
        .client
        .get(app.url(&url))
        .header("if-none-match", format!("\"{hash}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let stale = app
        .client
        .get(app.url("/ui/static/000000000000/vendor/uplot-1.6.32.iife.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    assert_eq!(stale.headers()["cache-control"], "no-cache");
    app.get(&format!("/ui/static/{hash}/vendor/nope.js"))
        .await
        .assert_problem(404, "NOT_FOUND");
    let licence = app
        .client
        .get(app.url(&url.replace("uplot-1.6.32.iife.min.js", "uplot-LICENSE")))
        .send()
        .await
        .unwrap();
    assert_eq!(licence.status(), 200);
    assert!(licence.text().await.unwrap().contains("MIT License"));
}

both_backends!(
    fragments_answer_problems,
    static_files_are_cached_by_content
);
