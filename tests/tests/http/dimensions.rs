//! `/dimensions`: pagination, filters, search, allow-listed sorting with
//! PostgreSQL NULL placement on both backends, 404/422 problems, and the
//! product lifecycle curve.

use forecastlab_tests::{both_backends, fixtures, Backend, TestApp};
use serde_json::Value;

/// Five stores with some NULL attributes.
async fn stores(app: &TestApp) {
    fixtures::store(app, "S003")
        .name("Charlie Mart")
        .region("North")
        .city("Oslo")
        .store_type("express")
        .insert()
        .await;
    fixtures::store(app, "S001")
        .name("Alpha Market")
        .region("South")
        .city("Bergen")
        .store_type("supermarket")
        .insert()
        .await;
    fixtures::store(app, "S005")
        .name("Echo Depot")
        .store_type("warehouse")
        .insert()
        .await;
    fixtures::store(app, "S002")
        .name("Bravo Shop")
        .region("North")
        .city("Athens")
        .store_type("supermarket")
        .insert()
        .await;
    fixtures::store(app, "S004")
        .name("Delta Outlet")
        .region("East")
        .insert()
        .await;
}

async fn products(app: &TestApp) {
    fixtures::product(app, "SKU-003")
        .name("Cheddar Cheese")
        .category("Dairy")
        .brand("Acme")
        .base_price("12.99")
        .base_cost("7.50")
        .insert()
        .await;
    fixtures::product(app, "SKU-001")
        .name("Apple Juice")
        .category("Beverages")
        .brand("Fresh")
        .base_price("2.5")
        .insert()
        .await;
    fixtures::product(app, "SKU-004")
        .name("Dark Bread")
        .category("Bakery")
        .base_price("100")
        .insert()
        .await;
    fixtures::product(app, "SKU-002")
        .name("Butter")
        .category("Dairy")
        .brand("Acme")
        .insert()
        .await;
    fixtures::product(app, "SKU-005")
        .name("Espresso Beans")
        .brand("Fresh")
        .base_price("9.00")
        .insert()
        .await;
}

fn codes(body: &Value, list: &str, key: &str) -> Vec<String> {
    body[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap().to_owned())
        .collect()
}

async fn store_codes(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.get(&format!("/dimensions/stores?{query}")).await;
    codes(response.assert_ok(), "stores", "code")
}

async fn skus(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.get(&format!("/dimensions/products?{query}")).await;
    codes(response.assert_ok(), "products", "sku")
}

async fn store_list_pages_and_defaults(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let empty = app.get("/dimensions/stores").await;
    assert_eq!(empty.assert_ok()["total"], 0);
    assert_eq!(empty.body["stores"], serde_json::json!([]));
    stores(&app).await;
    let response = app.get("/dimensions/stores").await;
    let body = response.assert_ok();
    assert_eq!(body["total"], 5);
    assert_eq!(body["page"], 1);
    assert_eq!(body["page_size"], 20);
    assert_eq!(
        codes(body, "stores", "code"),
        ["S001", "S002", "S003", "S004", "S005"]
    );
    let first = &body["stores"][0];
    assert_eq!(first["name"], "Alpha Market");
    assert_eq!(first["region"], "South");
    assert_eq!(first["city"], "Bergen");
    assert_eq!(first["store_type"], "supermarket");
    assert!(first["id"].is_i64());
    assert!(first["created_at"].as_str().unwrap().contains('T'));
    assert!(first["updated_at"].is_string());
    assert!(body["stores"][4]["region"].is_null());

    assert_eq!(
        store_codes(&app, "page=1&page_size=2").await,
        ["S001", "S002"]
    );
    assert_eq!(
        store_codes(&app, "page=2&page_size=2").await,
        ["S003", "S004"]
    );
    assert_eq!(store_codes(&app, "page=3&page_size=2").await, ["S005"]);
    let past = app.get("/dimensions/stores?page=9&page_size=2").await;
    assert_eq!(past.assert_ok()["stores"], serde_json::json!([]));
    assert_eq!(past.body["total"], 5);
    assert_eq!(past.body["page"], 9);
    assert_eq!(store_codes(&app, "page_size=100").await.len(), 5);
}

async fn store_filters_and_search(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stores(&app).await;
    assert_eq!(store_codes(&app, "region=North").await, ["S002", "S003"]);
    // Exact and case-sensitive.
    assert!(store_codes(&app, "region=north").await.is_empty());
    assert_eq!(
        store_codes(&app, "store_type=supermarket").await,
        ["S001", "S002"]
    );
    assert_eq!(
        store_codes(&app, "region=North&store_type=supermarket").await,
        ["S002"]
    );
    // Case-insensitive substring of code or name.
    assert_eq!(store_codes(&app, "search=MART").await, ["S003"]);
    assert_eq!(store_codes(&app, "search=ma").await, ["S001", "S003"]);
    assert_eq!(store_codes(&app, "search=s00").await.len(), 5);
    assert_eq!(store_codes(&app, "search=s004").await, ["S004"]);
    let response = app.get("/dimensions/stores?search=ma&page_size=1").await;
    assert_eq!(response.assert_ok()["total"], 2);
    assert!(store_codes(&app, "search=zz").await.is_empty());
}

async fn store_sorting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stores(&app).await;
    let default = ["S001", "S002", "S003", "S004", "S005"];
    for (query, expected) in [
        ("sort_by=name", default),
        (
            "sort_by=name&sort_order=desc",
            ["S005", "S004", "S003", "S002", "S001"],
        ),
        (
            "sort_by=code&sort_order=desc",
            ["S005", "S004", "S003", "S002", "S001"],
        ),
        // NULLs last ascending, first descending; ties on code ascending.
        ("sort_by=region", ["S004", "S002", "S003", "S001", "S005"]),
        (
            "sort_by=region&sort_order=desc",
            ["S005", "S001", "S002", "S003", "S004"],
        ),
        ("sort_by=city", ["S002", "S001", "S003", "S004", "S005"]),
        (
            "sort_by=city&sort_order=desc",
            ["S004", "S005", "S003", "S001", "S002"],
        ),
        (
            "sort_by=store_type",
            ["S003", "S001", "S002", "S005", "S004"],
        ),
        (
            "sort_by=store_type&sort_order=desc",
            ["S004", "S005", "S001", "S002", "S003"],
        ),
        // Unknown sort_by: default order, never an error, never SQL.
        ("sort_by=nonsense", default),
        ("sort_by=name%3B%20DROP%20TABLE%20store", default),
        ("sort_by=sku", default),
    ] {
        assert_eq!(store_codes(&app, query).await, expected, "{query}");
    }
    assert_eq!(app.rows("store").await, 5);
}

async fn product_list_filters_sorting_and_decimals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    products(&app).await;
    let response = app.get("/dimensions/products").await;
    let body = response.assert_ok();
    assert_eq!(body["total"], 5);
    assert_eq!(
        codes(body, "products", "sku"),
        ["SKU-001", "SKU-002", "SKU-003", "SKU-004", "SKU-005"]
    );
    let items = body["products"].as_array().unwrap();
    assert_eq!(items[0]["base_price"], "2.50");
    assert!(items[0]["base_cost"].is_null());
    assert!(items[1]["base_price"].is_null());
    assert_eq!(items[2]["base_price"], "12.99");
    assert_eq!(items[2]["base_cost"], "7.50");
    assert_eq!(items[3]["base_price"], "100.00");
    assert_eq!(items[4]["base_price"], "9.00");
    assert_eq!(items[2]["name"], "Cheddar Cheese");
    assert_eq!(items[2]["category"], "Dairy");
    assert_eq!(items[2]["brand"], "Acme");

    assert_eq!(skus(&app, "category=Dairy").await, ["SKU-002", "SKU-003"]);
    assert_eq!(skus(&app, "brand=Fresh").await, ["SKU-001", "SKU-005"]);
    assert_eq!(
        skus(&app, "category=Dairy&brand=Acme&page_size=1").await,
        ["SKU-002"]
    );
    assert_eq!(skus(&app, "search=CHEESE").await, ["SKU-003"]);
    assert_eq!(skus(&app, "search=sku-00").await.len(), 5);
    assert_eq!(skus(&app, "search=br").await, ["SKU-004"]);
    assert_eq!(skus(&app, "search=RE").await, ["SKU-004", "SKU-005"]);

    // base_price sorts numerically (100 after 12.99), NULL last / first;
    // other columns by name, unknown ones in the default order.
    let default = ["SKU-001", "SKU-002", "SKU-003", "SKU-004", "SKU-005"];
    let reversed = ["SKU-005", "SKU-004", "SKU-003", "SKU-002", "SKU-001"];
    for (query, expected) in [
        (
            "sort_by=base_price",
            ["SKU-001", "SKU-005", "SKU-003", "SKU-004", "SKU-002"],
        ),
        (
            "sort_by=base_price&sort_order=desc",
            ["SKU-002", "SKU-004", "SKU-003", "SKU-005", "SKU-001"],
        ),
        ("sort_by=name", default),
        ("sort_by=name&sort_order=desc", reversed),
        (
            "sort_by=category",
            ["SKU-004", "SKU-001", "SKU-002", "SKU-003", "SKU-005"],
        ),
        (
            "sort_by=category&sort_order=desc",
            ["SKU-005", "SKU-002", "SKU-003", "SKU-001", "SKU-004"],
        ),
        (
            "sort_by=brand",
            ["SKU-002", "SKU-003", "SKU-001", "SKU-005", "SKU-004"],
        ),
        (
            "sort_by=brand&sort_order=desc",
            ["SKU-004", "SKU-001", "SKU-005", "SKU-002", "SKU-003"],
        ),
        ("sort_by=sku&sort_order=desc", reversed),
        ("sort_by=region", default),
    ] {
        assert_eq!(skus(&app, query).await, expected, "{query}");
    }
    let page = app.get("/dimensions/products?page=2&page_size=3").await;
    assert_eq!(
        codes(page.assert_ok(), "products", "sku"),
        ["SKU-004", "SKU-005"]
    );
    assert_eq!(page.body["total"], 5);
}

async fn list_validation_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/dimensions/stores", "/dimensions/products"] {
        let cases = [
            ("page=0", "query.page"),
            ("page=-1", "query.page"),
            ("page=abc", "query.page"),
            ("page_size=0", "query.page_size"),
            ("page_size=101", "query.page_size"),
            ("page_size=x", "query.page_size"),
            ("search=a", "query.search"),
            ("sort_order=up", "query.sort_order"),
            ("sort_order=DESC", "query.sort_order"),
        ];
        for (query, field) in cases {
            app.get(&format!("{path}?{query}"))
                .await
                .assert_invalid_fields(&[field]);
        }
        // Boundaries are accepted.
        app.get(&format!("{path}?page=1&page_size=1"))
            .await
            .assert_ok();
        app.get(&format!("{path}?page_size=100&search=ab&sort_order=asc"))
            .await
            .assert_ok();
        // Unknown parameters are ignored.
        app.get(&format!("{path}?whatever=1")).await.assert_ok();
    }
}

async fn get_by_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    stores(&app).await;
    products(&app).await;
    let id = fixtures::store_id(&app, "S003").await;
    let response = app.get(&format!("/dimensions/stores/{id}")).await;
    let body = response.assert_ok();
    assert_eq!(body["code"], "S003");
    assert_eq!(body["id"], id);
    assert_eq!(body["city"], "Oslo");
    let id = fixtures::product_id(&app, "SKU-003").await;
    let response = app.get(&format!("/dimensions/products/{id}")).await;
    let body = response.assert_ok();
    assert_eq!(body["sku"], "SKU-003");
    assert_eq!(body["base_price"], "12.99");

    let missing = app.get("/dimensions/stores/999999").await;
    missing.assert_problem_mentions(404, "NOT_FOUND", "999999");
    missing.assert_problem_mentions(404, "NOT_FOUND", "GET /dimensions/stores");
    let missing = app.get("/dimensions/products/999999").await;
    missing.assert_problem(404, "NOT_FOUND");
    app.get("/dimensions/products/99999999999")
        .await
        .assert_problem(404, "NOT_FOUND");

    app.get("/dimensions/stores/abc")
        .await
        .assert_invalid_fields(&["path.store_id"]);
    app.get("/dimensions/products/1.5")
        .await
        .assert_invalid_fields(&["path.product_id"]);
}

async fn lifecycle_curve(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let launched = fixtures::product(&app, "LC-1")
        .launch_date("2024-01-01")
        .discontinue_date("2024-12-01")
        .insert()
        .await;
    let plain = fixtures::product(&app, "LC-2").insert().await;

    // Defaults: launch .. launch + 365, clamped to the discontinue date.
    let response = app
        .get(&format!("/dimensions/products/{launched}/lifecycle-curve"))
        .await;
    let body = response.assert_ok();
    assert_eq!(body["product_id"], launched);
    assert_eq!(body["sku"], "LC-1");
    assert_eq!(body["launch_date"], "2024-01-01");
    assert_eq!(body["discontinue_date"], "2024-12-01");
    assert_eq!(body["start_date"], "2024-01-01");
    assert_eq!(body["end_date"], "2024-12-01");
    let points = body["points"].as_array().unwrap();
    assert_eq!(body["total"], 336);
    assert_eq!(points.len(), 336);
    let at = |i: usize| {
        (
            &points[i]["date"],
            &points[i]["stage"],
            points[i]["multiplier"].as_f64().unwrap(),
        )
    };
    assert_eq!(at(0).0, "2024-01-01");
    assert_eq!(at(0).1, "intro");
    assert!((at(0).2 - 0.1).abs() < 1e-9);
    assert!((at(15).2 - 0.55).abs() < 1e-9);
    assert_eq!(at(30).1, "growth");
    assert_eq!(at(90).1, "maturity");
    assert_eq!(at(270).1, "decline");
    assert!((at(270).2 - 1.0).abs() < 1e-9);
    assert!((at(315).2 - (-0.5f64).exp()).abs() < 1e-9);
    assert_eq!(at(335).0, "2024-12-01");
    assert_eq!(at(335).1, "discontinued");
    assert_eq!(at(335).2, 0.0);

    // Explicit window, including days before launch.
    let response = app
        .get(&format!(
            "/dimensions/products/{launched}/lifecycle-curve?start_date=2023-12-30&end_date=2024-01-02"
        ))
        .await;
    let body = response.assert_ok();
    assert_eq!(body["total"], 4);
    assert_eq!(body["points"][0]["stage"], "discontinued");
    assert_eq!(body["points"][2]["stage"], "intro");
    // End before start collapses to the start.
    let response = app
        .get(&format!(
            "/dimensions/products/{launched}/lifecycle-curve?start_date=2024-03-01&end_date=2024-02-01"
        ))
        .await;
    assert_eq!(response.assert_ok()["total"], 1);
    assert_eq!(response.body["end_date"], "2024-03-01");

    // No launch date: maturity 1.0 every day, never empty.
    let response = app
        .get(&format!(
            "/dimensions/products/{plain}/lifecycle-curve?start_date=2024-01-01&end_date=2024-01-10"
        ))
        .await;
    let body = response.assert_ok();
    assert_eq!(body["total"], 10);
    assert!(body["launch_date"].is_null());
    assert!(body["points"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["stage"] == "maturity" && p["multiplier"] == 1.0));
    let response = app
        .get(&format!("/dimensions/products/{plain}/lifecycle-curve"))
        .await;
    assert_eq!(response.assert_ok()["total"], 366);

    // Range cap: 1095 days (end − start) allowed, 1096 → 400.
    let ok = app
        .get(&format!(
            "/dimensions/products/{plain}/lifecycle-curve?start_date=2024-01-01&end_date=2026-12-31"
        ))
        .await;
    assert_eq!(ok.assert_ok()["total"], 1096);
    let too_long = app
        .get(&format!(
            "/dimensions/products/{plain}/lifecycle-curve?start_date=2024-01-01&end_date=2027-01-01"
        ))
        .await;
    too_long.assert_problem_mentions(400, "BAD_REQUEST", "1095");

    app.get("/dimensions/products/424242/lifecycle-curve")
        .await
        .assert_problem(404, "NOT_FOUND");
    let bad = app
        .get(&format!(
            "/dimensions/products/{plain}/lifecycle-curve?start_date=2024-13-01"
        ))
        .await;
    bad.assert_invalid_fields(&["query.start_date"]);
    app.get("/dimensions/products/x/lifecycle-curve")
        .await
        .assert_problem(422, "VALIDATION_ERROR");
}

both_backends!(
    store_list_pages_and_defaults,
    store_filters_and_search,
    store_sorting,
    product_list_filters_sorting_and_decimals,
    list_validation_errors,
    get_by_id,
    lifecycle_curve,
);
