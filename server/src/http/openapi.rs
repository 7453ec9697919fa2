//! Makes the OpenAPI document say what the middleware does, for every
//! operation at once (so a route added later is documented truthfully
//! without repeating these responses):
//!
//! * every error response is `application/problem+json` with the
//!   `ProblemBody` schema (the error normalizer renders every 4xx/5xx so);
//! * operations with a request body answer 408 (body not received in
//!   time), 413 (too large) and 415 (not JSON);
//! * operations with parameters or a body answer 422;
//! * every operation but the open probes answers 401 and 403 and declares
//!   the bearer security scheme (enforced when authentication is on);
//! * every operation answers 503 (database unreachable or busy) and 504
//!   (deadline exceeded);
//! * every `format: date` string carries the pattern of a valid calendar
//!   date (in OpenAPI 3.1 a format alone does not constrain, so without it
//!   the document would allow `""`);
//! * every object that names a series by id or natural key (`store_id` or
//!   `store_code`, `product_id` or `sku`, neither required on its own)
//!   requires at least one of each pair through `anyOf`, so a client (or a
//!   fuzzer) reading the schema knows a body with neither is invalid.
//!
//! A response a route declares itself keeps its description; only its
//! content type is corrected.

use serde_json::{json, Map, Value};

use super::auth::OPEN_ROUTES;

/// The name of the security scheme.
pub const BEARER: &str = "bearer";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// (status, component name, description) of the shared responses.
const SHARED: [(&str, &str, &str); 8] = [
    (
        "401",
        "Unauthorized",
        "No API key, or an unknown or revoked one (when authentication is on)",
    ),
    (
        "403",
        "Forbidden",
        "The API key lacks the scope this route needs",
    ),
    (
        "408",
        "RequestTimeout",
        "The request body was not received in time",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The request body is larger than MAX_BODY_BYTES",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The request body is not application/json",
    ),
    (
        "422",
        "ValidationError",
        "A parameter or the body is invalid; `errors` names each field",
    ),
    (
        "503",
        "ServiceUnavailable",
        "The database is unreachable or busy; retry after `Retry-After` seconds",
    ),
    (
        "504",
        "GatewayTimeout",
        "The request did not finish within its deadline",
    ),
];

fn problem_content() -> Value {
    json!({
        "application/problem+json": {
            "schema": {"$ref": "#/components/schemas/ProblemBody"}
        }
    })
}

/// Applies the rules above to `document` and returns the JSON document
/// `/openapi.json` serves. It stays JSON: utoipa's `Link` serializes its
/// fields in snake case (`operation_id`), which [`camel_case_links`]
/// corrects and the typed document could not hold.
pub fn finalize(document: &utoipa::openapi::OpenApi) -> Value {
    let mut value = serde_json::to_value(document).unwrap_or_else(|_| json!({}));
    apply(&mut value);
    camel_case_links(&mut value);
    value
}

/// Renames the fields of every response link to the OpenAPI names
/// (`operationId`, `operationRef`, `requestBody`).
fn camel_case_links(document: &mut Value) {
    let Some(Value::Object(paths)) = document.get_mut("paths") else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let Some(Value::Object(responses)) = operation.get_mut("responses") else {
            continue;
        };
        for response in responses.values_mut() {
            let Some(Value::Object(links)) = response.get_mut("links") else {
                continue;
            };
            for link in links.values_mut().filter_map(Value::as_object_mut) {
                for (snake, camel) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(field) = link.remove(snake) {
                        link.insert(camel.into(), field);
                    }
                }
            }
        }
    }
}

/// `YYYY-MM-DD` of a day that exists (leap years included).
pub const DATE_PATTERN: &str = concat!(
    "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])",
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))",
    "|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
);

/// Adds [`DATE_PATTERN`] to every `format: date` string schema.
fn constrain_dates(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("format").and_then(Value::as_str) == Some("date")
                && !map.contains_key("pattern")
            {
                map.insert("pattern".into(), DATE_PATTERN.into());
            }
            for child in map.values_mut() {
                constrain_dates(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(constrain_dates),
        _ => {}
    }
}

/// The (id, natural key) pairs of which a request must give at least one.
const NAME_PAIRS: [(&str, &str); 2] = [("store_id", "store_code"), ("product_id", "sku")];

/// Wraps every object schema whose properties hold both halves of a
/// [`NAME_PAIRS`] pair, with neither half required, as `allOf: [object,
/// {anyOf: [{required: [id]}, {required: [key]}]}, …]` (a wrapper rather
/// than an `allOf` key beside the properties, which utoipa's object schema
/// would drop). The description moves to the wrapper.
fn require_a_name_of_each_pair(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                require_a_name_of_each_pair(child);
            }
            let alternatives: Vec<Value> = NAME_PAIRS
                .iter()
                .filter(|(id, key)| names_either(map, id, key))
                .map(|(id, key)| json!({"anyOf": [given(map, id), given(map, key)]}))
                .collect();
            if !alternatives.is_empty() {
                let description = map.remove("description");
                let object = Value::Object(std::mem::take(map));
                let mut all_of = vec![object];
                all_of.extend(alternatives);
                map.insert("allOf".into(), Value::Array(all_of));
                if let Some(description) = description {
                    map.insert("description".into(), description);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(require_a_name_of_each_pair),
        _ => {}
    }
}

/// The schema of an object in which property `name` of `schema` is present
/// and not null (a nullable property's `null` names nothing).
fn given(schema: &Map<String, Value>, name: &str) -> Value {
    let not_null = match &schema["properties"][name]["type"] {
        Value::Array(types) => {
            let types: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
            match types.as_slice() {
                [single] => (*single).clone(),
                _ => json!(types),
            }
        }
        Value::Null => return json!({"type": "object", "required": [name]}),
        other => other.clone(),
    };
    json!({"type": "object", "required": [name], "properties": {name: {"type": not_null}}})
}

/// Whether `schema` declares both `id` and `key` as properties and
/// requires neither.
fn names_either(schema: &Map<String, Value>, id: &str, key: &str) -> bool {
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return false;
    };
    let required = |name: &str| {
        schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|names| names.iter().any(|n| n == name))
    };
    properties.contains_key(id) && properties.contains_key(key) && !required(id) && !required(key)
}

fn apply(document: &mut Value) {
    constrain_dates(document);
    require_a_name_of_each_pair(document);
    let components = document
        .as_object_mut()
        .map(|doc| doc.entry("components").or_insert_with(|| json!({})));
    if let Some(Value::Object(components)) = components {
        let responses = components.entry("responses").or_insert_with(|| json!({}));
        for (_, name, description) in SHARED {
            responses[name] = json!({"description": description, "content": problem_content()});
        }
        let schemes = components
            .entry("securitySchemes")
            .or_insert_with(|| json!({}));
        schemes[BEARER] = json!({
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `forecastlab apikey create`, as `Authorization: Bearer <key>`"
        });
    }
    let Some(Value::Object(paths)) = document.get_mut("paths") else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let open = OPEN_ROUTES.contains(&path.as_str());
        for method in METHODS {
            if let Some(Value::Object(operation)) = item.get_mut(method) {
                complete_operation(operation, open);
            }
        }
    }
}

fn complete_operation(operation: &mut Map<String, Value>, open: bool) {
    let has_body = operation.contains_key("requestBody");
    let has_params = operation
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|params| !params.is_empty());
    if !open {
        operation.insert("security".into(), json!([{ BEARER: [] }]));
    }
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let Value::Object(responses) = responses else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            if let Some(content) = response.get_mut("content") {
                *content = problem_content();
            }
        }
    }
    for (status, name, _) in SHARED {
        let applies = match status {
            "401" | "403" => !open,
            "408" | "413" | "415" => has_body,
            "422" => has_body || has_params,
            _ => true,
        };
        if applies && !responses.contains_key(status) {
            responses.insert(
                status.into(),
                json!({"$ref": format!("#/components/responses/{name}")}),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_document_is_finalized() {
        let document = crate::app::openapi();
        assert!(document["components"]["responses"].is_object());
        let run = &document["paths"]["/demo/run"]["post"]["responses"];
        assert!(run["415"].is_object(), "{run}");
    }

    #[test]
    fn links_use_the_openapi_field_names() {
        let document = crate::app::openapi();
        let links = &document["paths"]["/jobs"]["post"]["responses"]["202"]["links"];
        assert_eq!(links["GetJob"]["operationId"], "get_job", "{links}");
        assert_eq!(
            links["GetJob"]["parameters"]["job_id"],
            "$response.body#/job_id"
        );
        assert!(links["GetJob"].get("operation_id").is_none(), "{links}");
    }

    #[test]
    fn series_named_by_id_or_key_require_one_of_each_pair() {
        let document = crate::app::openapi();
        let schemas = &document["components"]["schemas"];
        for name in ["PredictRequest", "ExplainRequest", "TrainRequest"] {
            let all_of = schemas[name]["allOf"].as_array();
            let all_of = all_of.unwrap_or_else(|| panic!("{name}: {}", schemas[name]));
            assert_eq!(all_of.len(), 3, "{name}");
            assert!(all_of[0]["properties"]["store_code"].is_object(), "{name}");
            assert!(schemas[name]["description"].is_string(), "{name}");
            let required = |alternatives: &Value| -> Vec<Value> {
                let alternatives = alternatives["anyOf"].as_array().cloned();
                alternatives
                    .unwrap_or_default()
                    .iter()
                    .map(|a| a["required"].clone())
                    .collect()
            };
            let types = |alternatives: &Value| -> Vec<Value> {
                let alternatives = alternatives["anyOf"].as_array().cloned();
                alternatives
                    .unwrap_or_default()
                    .iter()
                    .map(|a| {
                        let name = a["required"][0].as_str().unwrap_or_default();
                        a["properties"][name]["type"].clone()
                    })
                    .collect()
            };
            assert_eq!(
                required(&all_of[1]),
                [json!(["store_id"]), json!(["store_code"])],
                "{name}"
            );
            assert_eq!(
                required(&all_of[2]),
                [json!(["product_id"]), json!(["sku"])],
                "{name}"
            );
            // A null id or key names nothing.
            assert_eq!(types(&all_of[1]), [json!("integer"), json!("string")]);
        }
    }

    #[test]
    fn a_required_id_needs_no_alternative() {
        let mut document = json!({
            "required": ["store_id"],
            "properties": {"store_id": {}, "store_code": {}, "product_id": {}},
            "items": {"properties": {"store_id": {}, "store_code": {}}}
        });
        require_a_name_of_each_pair(&mut document);
        assert!(document.get("allOf").is_none());
        let all_of = &document["items"]["allOf"];
        assert_eq!(all_of.as_array().map(Vec::len), Some(2));
        // A property without a declared type is only required.
        assert_eq!(
            all_of[1]["anyOf"][0],
            json!({"type": "object", "required": ["store_id"]})
        );
    }

    #[test]
    fn operations_get_the_shared_responses() {
        let mut document = json!({
            "paths": {
                "/health": {"get": {"responses": {"200": {"description": "ok"}}}},
                "/things": {"post": {
                    "requestBody": {"content": {}},
                    "responses": {"404": {"description": "gone", "content": {"application/json": {}}}}
                }}
            }
        });
        apply(&mut document);
        let health = &document["paths"]["/health"]["get"];
        assert!(health.get("security").is_none());
        assert!(health["responses"].get("401").is_none());
        assert!(health["responses"].get("422").is_none());
        assert!(health["responses"].get("503").is_some());
        let post = &document["paths"]["/things"]["post"];
        for status in ["401", "403", "408", "413", "415", "422", "503", "504"] {
            assert!(post["responses"].get(status).is_some(), "{status}");
        }
        assert!(post["responses"]["404"]["content"]
            .get("application/problem+json")
            .is_some());
        assert_eq!(post["responses"]["404"]["description"], "gone");
        assert!(document["components"]["securitySchemes"][BEARER].is_object());
    }

    #[test]
    fn the_date_pattern_matches_exactly_the_real_days() {
        let mut document = json!({"s": {"type": "string", "format": "date"}});
        constrain_dates(&mut document);
        assert_eq!(document["s"]["pattern"], DATE_PATTERN);
        // The pattern uses only syntax Rust's regex shares with ECMA-262.
        let pattern = regex::Regex::new(DATE_PATTERN).unwrap();
        for day in [
            "2024-02-29",
            "2023-02-29",
            "2000-02-29",
            "1900-02-29",
            "2024-04-31",
            "2024-12-31",
            "2024-00-10",
            "2024-13-01",
            "0000-02-29",
            "0268-03-19",
            "24-01-01",
            "",
            "2024-1-01",
        ] {
            let real =
                day.len() == 10 && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok();
            assert_eq!(pattern.is_match(day), real, "{day}");
        }
    }
}
