//! OpenAPI chunker: one chunk per operation plus an API overview (spec §4.4).
//!
//! The document is parsed as JSON, else as YAML; anything else (or a
//! document that is not an object) falls back to the markdown chunker.

use serde_json::{json, Map, Value};

use super::{markdown::chunk_markdown, tokens, Chunk, ChunkSettings};

/// Deepest nesting rendered in a request-body schema before `{...}`.
const MAX_SCHEMA_DEPTH: usize = 3;
/// Longest rendered request-body schema, in characters.
const MAX_SCHEMA_CHARS: usize = 500;

/// Chunks an OpenAPI document (JSON or YAML), falling back to markdown.
pub fn chunk_openapi(text: &str, settings: &ChunkSettings) -> Vec<Chunk> {
    let parsed = serde_json::from_str::<Value>(text)
        .ok()
        .or_else(|| serde_yaml_ng::from_str::<Value>(text).ok());
    match parsed {
        Some(Value::Object(document)) => chunk_document(&document),
        _ => chunk_markdown(text, settings),
    }
}

fn chunk(content: String, metadata: Value) -> Chunk {
    let content = tokens::truncate(content.trim(), tokens::MAX_TOKENS);
    Chunk {
        token_count: tokens::count(&content),
        content,
        metadata: Some(metadata),
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn chunk_document(document: &Map<String, Value>) -> Vec<Chunk> {
    let root = Value::Object(document.clone());
    let mut chunks = Vec::new();
    if let Some(info) = document.get("info") {
        chunks.push(overview(info, document.get("servers")));
    }
    let Some(Value::Object(paths)) = document.get("paths") else {
        return chunks;
    };
    for (path, item) in paths {
        let Value::Object(item) = item else { continue };
        for (method, operation) in item {
            if method.starts_with("x-") || !operation.is_object() {
                continue;
            }
            chunks.push(endpoint(&root, path, method, operation));
        }
    }
    chunks
}

fn overview(info: &Value, servers: Option<&Value>) -> Chunk {
    let title = text(info, "title").unwrap_or("API");
    let mut lines = vec![format!("# {title}")];
    if let Some(version) = text(info, "version") {
        lines.push(format!("Version: {version}"));
    }
    if let Some(description) = text(info, "description") {
        lines.push(String::new());
        lines.push(description.to_owned());
    }
    if let Some(Value::Array(servers)) = servers {
        lines.push(String::new());
        lines.push("## Servers".to_owned());
        for server in servers {
            let Some(url) = text(server, "url") else {
                continue;
            };
            match text(server, "description") {
                Some(description) => lines.push(format!("- {url} ({description})")),
                None => lines.push(format!("- {url}")),
            }
        }
    }
    chunk(
        lines.join("\n"),
        json!({"type": "api_info", "title": title}),
    )
}

fn endpoint(root: &Value, path: &str, method: &str, operation: &Value) -> Chunk {
    let upper = method.to_uppercase();
    let mut lines = vec![format!("## {upper} {path}")];
    if let Some(summary) = text(operation, "summary") {
        lines.push(format!("**{summary}**"));
    }
    if let Some(description) = text(operation, "description") {
        lines.push(String::new());
        lines.push(description.to_owned());
    }
    let tags: Vec<String> = operation
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !tags.is_empty() {
        lines.push(format!("Tags: {}", tags.join(", ")));
    }
    if let Some(Value::Array(parameters)) = operation.get("parameters") {
        lines.push("### Parameters".to_owned());
        for parameter in parameters {
            let parameter = resolve_ref(root, parameter);
            let name = text(parameter, "name").unwrap_or("?");
            let location = text(parameter, "in").unwrap_or("query");
            let mut line = format!("- `{name}` ({location})");
            if parameter.get("required").and_then(Value::as_bool) == Some(true) {
                line.push_str(" (required)");
            }
            if let Some(description) = text(parameter, "description") {
                line.push_str(&format!(": {description}"));
            }
            lines.push(line);
        }
    }
    if let Some(body) = operation.get("requestBody").map(|b| resolve_ref(root, b)) {
        if let Some((content_type, media)) = body
            .get("content")
            .and_then(Value::as_object)
            .and_then(|content| content.iter().next())
        {
            lines.push("### Request Body".to_owned());
            lines.push(format!("Content-Type: {content_type}"));
            if let Some(schema) = media.get("schema") {
                let rendered = render_schema(root, schema, 0);
                let pretty = serde_json::to_string_pretty(&rendered).unwrap_or_default();
                lines.push(format!(
                    "```json\n{}\n```",
                    cut_chars(&pretty, MAX_SCHEMA_CHARS)
                ));
            }
        }
    }
    if let Some(Value::Object(responses)) = operation.get("responses") {
        lines.push("### Responses".to_owned());
        for (status, response) in responses {
            let response = resolve_ref(root, response);
            let description = text(response, "description").unwrap_or("");
            lines.push(format!("- **{status}**: {description}"));
        }
    }
    let operation_id = text(operation, "operationId")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{method}_{path}"));
    chunk(
        lines.join("\n"),
        json!({
            "type": "endpoint",
            "path": path,
            "method": upper,
            "operation_id": operation_id,
            "tags": tags,
        }),
    )
}

/// Follows a local `$ref` (`#/a/b`); anything else comes back unchanged.
fn resolve_ref<'a>(root: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) if reference.starts_with("#/") => {
            root.pointer(&reference[1..]).unwrap_or(value)
        }
        _ => value,
    }
}

/// A schema with local refs resolved, nested at most [`MAX_SCHEMA_DEPTH`]
/// levels deep (deeper values become `"{...}"`, which also stops cycles).
fn render_schema(root: &Value, schema: &Value, depth: usize) -> Value {
    if depth > MAX_SCHEMA_DEPTH {
        return Value::String("{...}".to_owned());
    }
    let schema = resolve_ref(root, schema);
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), render_schema(root, value, depth + 1)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_schema(root, item, depth + 1))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn cut_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ChunkSettings {
        ChunkSettings::default()
    }

    const SPEC: &str = r##"{
      "openapi": "3.1.0",
      "info": {"title": "Shop", "version": "2.0", "description": "Sells things."},
      "servers": [{"url": "https://api.example", "description": "prod"}, {"url": "/"}],
      "paths": {
        "/items/{id}": {
          "parameters": [{"name": "id", "in": "path"}],
          "get": {
            "summary": "Get an item",
            "description": "One item by id.",
            "tags": ["items", "read"],
            "operationId": "getItem",
            "parameters": [
              {"name": "id", "in": "path", "required": true, "description": "Item id"},
              {"$ref": "#/components/parameters/Verbose"}
            ],
            "responses": {"200": {"description": "The item"}, "404": {"description": "Missing"}}
          },
          "x-internal": {"note": "skipped"},
          "post": {
            "requestBody": {"content": {"application/json": {
              "schema": {"$ref": "#/components/schemas/Item"}}}},
            "responses": {"201": {"description": "Created"}}
          }
        }
      },
      "components": {
        "parameters": {"Verbose": {"name": "verbose", "in": "query"}},
        "schemas": {"Item": {"type": "object", "properties": {
          "name": {"type": "string"},
          "child": {"$ref": "#/components/schemas/Item"}}}}
      }
    }"##;

    #[test]
    fn one_overview_and_one_chunk_per_operation() {
        let chunks = chunk_openapi(SPEC, &settings());
        assert_eq!(
            chunks.len(),
            3,
            "overview, GET, POST; x- and parameters skipped"
        );
        let overview = &chunks[0];
        assert_eq!(
            overview.content,
            "# Shop\nVersion: 2.0\n\nSells things.\n\n## Servers\n- https://api.example (prod)\n- /"
        );
        assert_eq!(
            overview.metadata,
            Some(json!({"type": "api_info", "title": "Shop"}))
        );

        let get = &chunks[1];
        assert_eq!(
            get.content,
            "## GET /items/{id}\n**Get an item**\n\nOne item by id.\nTags: items, read\n\
             ### Parameters\n- `id` (path) (required): Item id\n- `verbose` (query)\n\
             ### Responses\n- **200**: The item\n- **404**: Missing"
        );
        assert_eq!(
            get.metadata,
            Some(
                json!({"type": "endpoint", "path": "/items/{id}", "method": "GET",
                        "operation_id": "getItem", "tags": ["items", "read"]})
            )
        );
        assert_eq!(get.token_count, tokens::count(&get.content));
    }

    #[test]
    fn request_bodies_resolve_refs_to_a_bounded_depth() {
        let chunks = chunk_openapi(SPEC, &settings());
        let post = &chunks[2];
        assert!(post
            .content
            .contains("### Request Body\nContent-Type: application/json\n```json\n{"));
        assert!(post.content.contains("\"name\""), "{}", post.content);
        // The self-reference stops at the depth limit.
        assert!(post.content.contains("{...}"), "{}", post.content);
        assert_eq!(
            post.metadata.as_ref().unwrap()["operation_id"],
            "post_/items/{id}"
        );
        assert_eq!(post.metadata.as_ref().unwrap()["tags"], json!([]));
    }

    #[test]
    fn yaml_is_accepted() {
        let yaml = "info:\n  title: Tiny\npaths:\n  /ping:\n    get:\n      summary: Ping\n";
        let chunks = chunk_openapi(yaml, &settings());
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].content, "# Tiny");
        assert_eq!(chunks[1].content, "## GET /ping\n**Ping**");
    }

    #[test]
    fn neither_json_nor_yaml_falls_back_to_markdown() {
        for text in ["# Notes\n: : not yaml [", "just words"] {
            let chunks = chunk_openapi(text, &settings());
            assert_eq!(chunks, chunk_markdown(text, &settings()));
            assert_eq!(chunks.len(), 1);
        }
    }

    #[test]
    fn long_schemas_are_cut() {
        let long = "x".repeat(2_000);
        assert_eq!(cut_chars(&long, MAX_SCHEMA_CHARS).len(), 500);
        assert_eq!(cut_chars("é", 5), "é");
    }
}
