//! The agent loop (operations-ai spec §5.3 step 4): model turn → tool
//! calls executed one after another → results back to the model → until
//! the model answers without calling a tool.
//!
//! Bounds, all enforced here: `AGENT_MAX_TOOL_CALLS` counted tool calls per
//! message (a call past it is not executed and the run ends with a message
//! saying so), twice as many model turns (pure tools are not counted, so
//! turns are bounded separately), and `AGENT_TIMEOUT_SECONDS` for the whole
//! run (enforced by the caller).
//!
//! A call of a gated tool (`AGENT_REQUIRE_APPROVAL`) never executes: its
//! arguments are checked, it becomes the session's pending action, the
//! model is told approval is required, and the run ends at once — the
//! remaining calls of that turn are answered "not executed" — so nothing
//! the model does afterwards can depend on an action nobody approved.

use std::time::Instant;

use chrono::{Duration as ChronoDuration, Utc};
use forecastlab_core::ai::{ChatMessage, ChatRequest, ChatRole, ToolCall, Usage};
use serde_json::{json, Value};

use super::{
    chain::{ModelChain, TurnError},
    repo::NewToolCall,
    schemas::{AgentType, PendingAction, ToolCallInfo},
    settings::{AgentSettings, ModelConfig},
    stream::{EventSink, StreamEvent},
    tools,
};
use crate::state::AppState;

/// Longest `result_summary` kept in the audit, in characters.
const SUMMARY_CHARS: usize = 500;

/// What the model is told about a gated call.
pub(crate) const APPROVAL_MESSAGE: &str =
    "This action requires human approval. Please approve to proceed.";

/// A tool call made during a run: what the client sees and what is audited.
#[derive(Debug)]
pub(crate) struct ExecutedCall {
    pub(crate) info: ToolCallInfo,
    pub(crate) audit: NewToolCall,
}

/// The result of a run.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The whole conversation after the run (no system message).
    pub(crate) history: Vec<ChatMessage>,
    /// The answer shown to the user.
    pub(crate) answer: String,
    /// The model that answered last.
    pub(crate) model: Option<String>,
    /// Tokens per model turn, in order.
    pub(crate) usage: Vec<(String, Usage)>,
    /// Every tool call, in order.
    pub(crate) calls: Vec<ExecutedCall>,
    /// Tool calls counted against the limit.
    pub(crate) counted_calls: i64,
    /// The action held for approval.
    pub(crate) pending: Option<PendingAction>,
    /// Successful `retrieve_context` results (RAG assistant).
    pub(crate) retrievals: Vec<Value>,
}

/// One run of an agent over one user message.
#[derive(Debug)]
pub(crate) struct Run<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) agent: AgentType,
    pub(crate) session_id: &'a str,
    pub(crate) chain: &'a ModelChain,
    pub(crate) settings: &'a AgentSettings,
    pub(crate) models: &'a ModelConfig,
    /// Where streaming runs report text deltas and tool calls.
    pub(crate) events: &'a EventSink,
}

/// The system prompt of `agent`.
fn system_prompt(agent: AgentType, settings: &AgentSettings) -> String {
    let role = match agent {
        AgentType::Experiment => {
            "You are the experiment assistant of ForecastLab, a retail demand-forecasting \
             platform. You help a planner inspect registered model runs, run backtests, compare \
             models, manage deployment aliases and try what-if scenarios on trained models \
             (propose_scenario simulates, save_scenario saves a plan). Use the tools to look \
             things up; never invent run ids, metrics or results. Lower MAE, RMSE, sMAPE and \
             WAPE are better."
        }
        AgentType::RagAssistant => {
            "You are the documentation assistant of ForecastLab. Answer only from passages \
             returned by retrieve_context and cite their source paths. When retrieval finds \
             nothing relevant, say that there is no evidence instead of guessing."
        }
    };
    let gated = if settings.require_approval.is_empty() {
        String::new()
    } else {
        format!(
            " These tools change data and need a human's approval before they run: {}. When you \
             call one, the action waits for approval; tell the user what you asked for.",
            settings.require_approval.join(", ")
        )
    };
    format!(
        "{role}{gated} You may make at most {} tool calls per message. Keep answers short and \
         factual.",
        settings.max_tool_calls
    )
}

/// `history` with adjacent user messages joined (a decision note followed
/// by the next message), so every provider accepts the order.
fn merge_user_turns(history: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut merged: Vec<ChatMessage> = Vec::with_capacity(history.len());
    for message in history {
        match merged.last_mut() {
            Some(last) if last.role == ChatRole::User && message.role == ChatRole::User => {
                last.content.push_str("\n\n");
                last.content.push_str(&message.content);
            }
            _ => merged.push(message),
        }
    }
    merged
}

/// `value` as JSON text cut to [`SUMMARY_CHARS`].
pub(crate) fn summary(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(SUMMARY_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// A fresh action id: the first 16 hex characters of a UUIDv4.
fn action_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

impl Run<'_> {
    /// Runs the agent over `message` after `history`.
    pub(crate) async fn run(
        &self,
        history: Vec<ChatMessage>,
        message: &str,
    ) -> Result<Outcome, TurnError> {
        let mut messages = vec![ChatMessage::system(system_prompt(
            self.agent,
            self.settings,
        ))];
        let mut conversation = history;
        conversation.push(ChatMessage::user(message));
        messages.extend(merge_user_turns(conversation));
        let tool_specs = tools::specs(self.agent);
        let mut outcome = Outcome {
            history: Vec::new(),
            answer: String::new(),
            model: None,
            usage: Vec::new(),
            calls: Vec::new(),
            counted_calls: 0,
            pending: None,
            retrievals: Vec::new(),
        };
        let max_calls = i64::from(self.settings.max_tool_calls);
        let max_turns = (2 * self.settings.max_tool_calls).max(4) + 1;
        let mut answered = false;
        for _ in 0..max_turns {
            let request = ChatRequest {
                messages: messages.clone(),
                tools: tool_specs.clone(),
                temperature: self.models.temperature,
                max_tokens: self.models.max_tokens,
                thinking_budget: self.models.thinking_budget,
            };
            let (response, model) = if self.events.is_streaming() {
                self.chain.chat_streaming(&request, self.events).await?
            } else {
                self.chain.chat(&request).await?
            };
            outcome.usage.push((model.clone(), response.usage));
            outcome.model = Some(model.clone());
            let calls = response.message.tool_calls.clone();
            let text = response.message.content.clone();
            messages.push(response.message);
            if calls.is_empty() {
                outcome.answer = text;
                answered = true;
                break;
            }
            let stop = self
                .execute_calls(&calls, &model, max_calls, &mut messages, &mut outcome)
                .await;
            if let Some(answer) = stop {
                outcome.answer = if text.trim().is_empty() { answer } else { text };
                messages.push(ChatMessage::assistant(outcome.answer.clone(), Vec::new()));
                answered = true;
                break;
            }
        }
        if !answered {
            outcome.answer = limit_message(self.settings.max_tool_calls);
            messages.push(ChatMessage::assistant(outcome.answer.clone(), Vec::new()));
        }
        if outcome.answer.trim().is_empty() {
            outcome.answer = "No response generated.".to_owned();
        }
        outcome.history = messages.split_off(1);
        Ok(outcome)
    }

    /// Executes one turn's calls in order. Returns the answer to end the
    /// run with, when a call was held for approval or the limit was hit.
    async fn execute_calls(
        &self,
        calls: &[ToolCall],
        model: &str,
        max_calls: i64,
        messages: &mut Vec<ChatMessage>,
        outcome: &mut Outcome,
    ) -> Option<String> {
        let mut stop: Option<(String, String)> = None;
        for call in calls {
            self.events.emit(StreamEvent::tool_call_start(
                &call.name,
                &call.id,
                &call.arguments,
            ));
            if let Some((_, reason)) = &stop {
                let result = json!({"error": reason, "error_type": "not_executed"});
                self.record(
                    call,
                    model,
                    result,
                    "not_executed",
                    0.0,
                    None,
                    messages,
                    outcome,
                );
                continue;
            }
            let known = tools::specs(self.agent)
                .iter()
                .any(|spec| spec.name == call.name);
            if known && self.settings.gated(&call.name) {
                match tools::describe_gated(self.agent, &call.name, &call.arguments) {
                    Err(failure) => self.record(
                        call, model, failure.0, "error", 0.0, None, messages, outcome,
                    ),
                    Ok(description) => {
                        let now = Utc::now();
                        let action = PendingAction {
                            action_id: action_id(),
                            action_type: call.name.clone(),
                            description: description.clone(),
                            arguments: call.arguments.clone(),
                            created_at: now,
                            expires_at: now
                                + ChronoDuration::minutes(self.settings.approval_timeout_minutes),
                        };
                        let mut marker =
                            json!({"status": "approval_required", "action": call.name});
                        if let (Some(marker), Some(args)) =
                            (marker.as_object_mut(), call.arguments.as_object())
                        {
                            for (key, value) in args {
                                marker.entry(key.clone()).or_insert_with(|| value.clone());
                            }
                            marker.insert("message".into(), APPROVAL_MESSAGE.into());
                        }
                        let id = action.action_id.clone();
                        self.record(
                            call,
                            model,
                            marker,
                            "approval_required",
                            0.0,
                            Some(id.clone()),
                            messages,
                            outcome,
                        );
                        stop = Some((
                            format!(
                                "Approval required: {description}. Approve or reject action {id} \
                                 to continue."
                            ),
                            format!("not executed: {} is waiting for human approval", call.name),
                        ));
                        outcome.pending = Some(action);
                    }
                }
                continue;
            }
            if known && tools::counted(&call.name) && outcome.counted_calls >= max_calls {
                let answer = limit_message(self.settings.max_tool_calls);
                let reason = format!(
                    "not executed: the limit of {max_calls} tool calls per message \
                     (AGENT_MAX_TOOL_CALLS) was reached"
                );
                let result = json!({"error": reason, "error_type": "not_executed"});
                self.record(
                    call,
                    model,
                    result,
                    "not_executed",
                    0.0,
                    None,
                    messages,
                    outcome,
                );
                stop = Some((answer, reason));
                continue;
            }
            let started = Instant::now();
            let result = tools::execute(
                self.state,
                self.agent,
                self.session_id,
                &call.name,
                &call.arguments,
                None,
            )
            .await;
            let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
            if known && tools::counted(&call.name) {
                outcome.counted_calls += 1;
            }
            match result {
                Ok(value) => {
                    if call.name == "retrieve_context" {
                        outcome.retrievals.push(value.clone());
                    }
                    self.record(
                        call,
                        model,
                        value,
                        "ok",
                        duration_ms,
                        None,
                        messages,
                        outcome,
                    )
                }
                Err(failure) => self.record(
                    call,
                    model,
                    failure.0,
                    "error",
                    duration_ms,
                    None,
                    messages,
                    outcome,
                ),
            }
        }
        stop.map(|(answer, _)| answer)
    }

    /// Answers `call` with `result` in the conversation and records it.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        call: &ToolCall,
        model: &str,
        result: Value,
        status: &'static str,
        duration_ms: f64,
        action_id: Option<String>,
        messages: &mut Vec<ChatMessage>,
        outcome: &mut Outcome,
    ) {
        messages.push(ChatMessage::tool_result(
            call.id.clone(),
            result.to_string(),
        ));
        let info = ToolCallInfo {
            tool_name: call.name.clone(),
            tool_call_id: call.id.clone(),
            arguments: call.arguments.clone(),
            result,
            duration_ms,
        };
        self.events.emit(StreamEvent::tool_call_end(&info));
        outcome.calls.push(ExecutedCall {
            audit: NewToolCall {
                tool_call_id: call.id.clone(),
                tool_name: call.name.clone(),
                arguments: call.arguments.clone(),
                status,
                result_summary: Some(summary(&info.result)),
                duration_ms,
                model: Some(model.to_owned()),
                action_id,
            },
            info,
        });
    }
}

/// The answer when the tool-call limit ends a run.
fn limit_message(max: u32) -> String {
    format!(
        "I stopped after reaching the limit of {max} tool calls for one message \
         (AGENT_MAX_TOOL_CALLS) before finishing. Ask me to continue, or narrow the question."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_user_turns_are_joined() {
        let merged = merge_user_turns(vec![
            ChatMessage::user("a"),
            ChatMessage::user("b"),
            ChatMessage::assistant("c", Vec::new()),
            ChatMessage::user("d"),
        ]);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[0].content, "a\n\nb");
        assert_eq!(merged[2].content, "d");
    }

    #[test]
    fn summaries_are_capped_and_action_ids_are_16_hex() {
        let long = json!({"text": "x".repeat(600)});
        let cut = summary(&long);
        assert_eq!(cut.chars().count(), SUMMARY_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(summary(&json!({"a": 1})), "{\"a\":1}");
        let id = action_id();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
