//! Gemini `generateContent` / `streamGenerateContent?alt=sse`.

use serde_json::{json, Value};

use super::parsed_arguments;
use crate::script::{split, Reply};

fn usage(reply: &Reply) -> Value {
    json!({
        "promptTokenCount": reply.usage.input_tokens,
        "candidatesTokenCount": reply.usage.output_tokens,
        "totalTokenCount": reply.usage.total(),
    })
}

/// The `functionCall` parts, or `None` when a call's arguments are not a
/// JSON object (Gemini then reports `MALFORMED_FUNCTION_CALL`).
fn call_parts(reply: &Reply) -> Option<Vec<Value>> {
    reply
        .calls
        .iter()
        .map(|call| {
            let args = parsed_arguments(&call.arguments).filter(Value::is_object)?;
            let mut function_call = json!({"name": call.name, "args": args});
            if let Some(id) = &call.id {
                function_call["id"] = json!(id);
            }
            Some(json!({"functionCall": function_call}))
        })
        .collect()
}

/// A candidate that ends the turn without content.
fn empty_candidate(reply: &Reply) -> Option<Value> {
    if let Some(refusal) = &reply.refusal {
        return Some(json!({
            "finishReason": "SAFETY",
            "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                               "probability": "HIGH", "blocked": true}],
            "finishMessage": refusal,
        }));
    }
    if call_parts(reply).is_none() {
        let raw: Vec<&str> = reply.calls.iter().map(|c| c.arguments.as_str()).collect();
        return Some(json!({
            "finishReason": "MALFORMED_FUNCTION_CALL",
            "index": 0,
            "finishMessage": format!("Malformed function call: {}", raw.join(" ")),
        }));
    }
    None
}

fn response(model: &str, candidate: Value, usage: Value) -> Value {
    json!({
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": "test-response",
    })
}

pub(super) fn reply_json(model: &str, reply: &Reply) -> Value {
    if let Some(candidate) = empty_candidate(reply) {
        return response(model, candidate, usage(reply));
    }
    let mut parts = Vec::new();
    if !reply.text.is_empty() {
        parts.push(json!({"text": reply.text}));
    }
    parts.extend(call_parts(reply).unwrap_or_default());
    let candidate = json!({
        "content": {"parts": parts, "role": "model"},
        "finishReason": "STOP",
        "index": 0,
    });
    response(model, candidate, usage(reply))
}

fn frame(data: &Value) -> String {
    format!("data: {data}\r\n\r\n")
}

pub(super) fn reply_events(model: &str, reply: &Reply) -> Vec<String> {
    if let Some(candidate) = empty_candidate(reply) {
        return vec![frame(&response(model, candidate, usage(reply)))];
    }
    let mut chunks: Vec<Vec<Value>> = split(&reply.text, reply.pieces)
        .into_iter()
        .map(|piece| vec![json!({"text": piece})])
        .collect();
    let calls = call_parts(reply).unwrap_or_default();
    if !calls.is_empty() {
        chunks.push(calls);
    }
    if chunks.is_empty() {
        chunks.push(vec![json!({"text": ""})]);
    }
    let last = chunks.len() - 1;
    let running_usage = json!({"promptTokenCount": reply.usage.input_tokens,
                               "totalTokenCount": reply.usage.input_tokens});
    chunks
        .into_iter()
        .enumerate()
        .map(|(position, parts)| {
            let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
            let usage = if position == last {
                candidate["finishReason"] = json!("STOP");
                usage(reply)
            } else {
                running_usage.clone()
            };
            frame(&response(model, candidate, usage))
        })
        .collect()
}

pub(super) fn error_body(status: u16, message: &str) -> Value {
    let code = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    };
    json!({"error": {"code": status, "message": message, "status": code}})
}
