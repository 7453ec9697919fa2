//! Anthropic Messages.

use serde_json::{json, Value};

use super::parsed_arguments;
use crate::script::{split, Reply};

fn stop_reason(reply: &Reply) -> &'static str {
    if reply.refusal.is_some() {
        "refusal"
    } else if reply.calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    }
}

fn call_id(reply: &Reply, index: usize) -> String {
    reply.calls[index]
        .id
        .clone()
        .unwrap_or_else(|| format!("toolu_{index:02}"))
}

/// The reply's text: the refusal message for a refusal.
fn text(reply: &Reply) -> &str {
    reply.refusal.as_deref().unwrap_or(&reply.text)
}

pub(super) fn reply_json(model: &str, reply: &Reply) -> Value {
    let mut content = Vec::new();
    if !text(reply).is_empty() {
        content.push(json!({"type": "text", "text": text(reply)}));
    }
    for (index, call) in reply.calls.iter().enumerate() {
        // Invalid arguments go out as the raw string: not an object.
        let input = parsed_arguments(&call.arguments).unwrap_or(json!(call.arguments));
        content.push(json!({
            "type": "tool_use",
            "id": call_id(reply, index),
            "name": call.name,
            "input": input,
        }));
    }
    json!({
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(reply),
        "stop_sequence": null,
        "usage": {
            "input_tokens": reply.usage.input_tokens,
            "output_tokens": reply.usage.output_tokens,
        },
    })
}

fn event(name: &str, data: Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

pub(super) fn reply_events(model: &str, reply: &Reply) -> Vec<String> {
    let mut frames = vec![
        event(
            "message_start",
            json!({"type": "message_start", "message": {
                "id": "msg_test", "type": "message", "role": "assistant", "content": [],
                "model": model, "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": reply.usage.input_tokens, "output_tokens": 1},
            }}),
        ),
        event("ping", json!({"type": "ping"})),
    ];
    let mut block = 0;
    if !text(reply).is_empty() {
        frames.push(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": block,
                   "content_block": {"type": "text", "text": ""}}),
        ));
        for piece in split(text(reply), reply.pieces) {
            frames.push(event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": block,
                       "delta": {"type": "text_delta", "text": piece}}),
            ));
        }
        frames.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": block}),
        ));
        block += 1;
    }
    for (index, call) in reply.calls.iter().enumerate() {
        frames.push(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": block, "content_block": {
                "type": "tool_use", "id": call_id(reply, index), "name": call.name, "input": {},
            }}),
        ));
        let pieces = std::iter::once(String::new()).chain(split(&call.arguments, reply.pieces));
        for piece in pieces {
            frames.push(event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": block,
                       "delta": {"type": "input_json_delta", "partial_json": piece}}),
            ));
        }
        frames.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": block}),
        ));
        block += 1;
    }
    frames.push(event(
        "message_delta",
        json!({"type": "message_delta",
               "delta": {"stop_reason": stop_reason(reply), "stop_sequence": null},
               "usage": {"output_tokens": reply.usage.output_tokens}}),
    ));
    frames.push(event("message_stop", json!({"type": "message_stop"})));
    frames
}

pub(super) fn error_body(status: u16, message: &str) -> Value {
    let kind = match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        500.. => "api_error",
        _ => "invalid_request_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}
