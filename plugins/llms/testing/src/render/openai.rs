//! OpenAI Chat Completions (and Ollama's copy of it).

use serde_json::{json, Value};

use super::data_frame;
use crate::script::{split, Reply};

const CREATED: u64 = 1_700_000_000;

fn finish_reason(reply: &Reply) -> &'static str {
    if reply.calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    }
}

fn usage(reply: &Reply) -> Value {
    json!({
        "prompt_tokens": reply.usage.input_tokens,
        "completion_tokens": reply.usage.output_tokens,
        "total_tokens": reply.usage.total(),
    })
}

fn call_id(reply: &Reply, index: usize) -> String {
    reply.calls[index]
        .id
        .clone()
        .unwrap_or_else(|| format!("call_{index}"))
}

pub(super) fn reply_json(model: &str, reply: &Reply) -> Value {
    let tool_calls: Vec<Value> = reply
        .calls
        .iter()
        .enumerate()
        .map(|(index, call)| {
            json!({
                "id": call_id(reply, index),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            })
        })
        .collect();
    let mut message = json!({
        "role": "assistant",
        "content": if reply.text.is_empty() { Value::Null } else { json!(reply.text) },
        "refusal": reply.refusal,
    });
    if !tool_calls.is_empty() {
        message["tool_calls"] = json!(tool_calls);
    }
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(reply),
        }],
        "usage": usage(reply),
    })
}

pub(super) fn reply_events(model: &str, reply: &Reply, include_usage: bool) -> Vec<String> {
    let chunk = |delta: Value, finish: Option<&str>| {
        data_frame(&json!({
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        }))
    };
    let mut frames = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    for piece in split(&reply.text, reply.pieces) {
        frames.push(chunk(json!({"content": piece}), None));
    }
    if let Some(refusal) = &reply.refusal {
        for piece in split(refusal, reply.pieces) {
            frames.push(chunk(json!({"refusal": piece}), None));
        }
    }
    for (index, call) in reply.calls.iter().enumerate() {
        frames.push(chunk(
            json!({"tool_calls": [{
                "index": index,
                "id": call_id(reply, index),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }]}),
            None,
        ));
        for piece in split(&call.arguments, reply.pieces) {
            frames.push(chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                None,
            ));
        }
    }
    frames.push(chunk(json!({}), Some(finish_reason(reply))));
    if include_usage {
        frames.push(data_frame(&json!({
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "choices": [],
            "usage": usage(reply),
        })));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    frames
}

pub(super) fn error_body(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        401 => ("invalid_request_error", json!("invalid_api_key")),
        403 => ("permission_error", Value::Null),
        404 => ("invalid_request_error", json!("model_not_found")),
        429 => ("insufficient_quota", json!("insufficient_quota")),
        500.. => ("server_error", Value::Null),
        _ => ("invalid_request_error", Value::Null),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}
