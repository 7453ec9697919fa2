//! The agents' tools: what each agent may call, how a call runs against
//! this platform's own services (in process, through the same service
//! functions as the HTTP routes), and how a failure is told to the model.
//!
//! A tool answers the model with a JSON value. A failure (bad arguments, a
//! missing run, a backtest on too little data) is answered as
//! `{"error", "error_type", "errors"?}` so the model can correct itself; it
//! never fails the chat.

mod experiment;
mod rag;
mod scenario;

use serde_json::{json, Value};

pub(crate) use rag::citations;
pub(crate) use scenario::Approval;

use super::schemas::AgentType;
use crate::{problem::Problem, state::AppState};
use forecastlab_core::ai::ToolSpec;

/// A tool's spec.
fn spec(name: &str, description: &str, parameters: Value) -> ToolSpec {
    ToolSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters,
    }
}

/// A tool failure, as the model sees it.
#[derive(Debug, Clone)]
pub(crate) struct ToolFailure(pub(crate) Value);

impl ToolFailure {
    /// A failure with a message and a machine type.
    pub(crate) fn new(error_type: &str, message: impl Into<String>) -> ToolFailure {
        ToolFailure(json!({"error": message.into(), "error_type": error_type}))
    }

    /// The arguments did not fit the tool.
    pub(crate) fn arguments(message: impl std::fmt::Display) -> ToolFailure {
        ToolFailure::new("invalid_arguments", format!("Invalid arguments: {message}"))
    }

    /// The human message.
    pub(crate) fn message(&self) -> String {
        self.0["error"].as_str().unwrap_or("tool failed").to_owned()
    }

    /// The machine type.
    pub(crate) fn error_type(&self) -> String {
        self.0["error_type"].as_str().unwrap_or("error").to_owned()
    }
}

impl From<Problem> for ToolFailure {
    fn from(problem: Problem) -> ToolFailure {
        let mut value = json!({"error": problem.detail, "error_type": problem.code});
        if let Some(errors) = &problem.errors {
            value["errors"] = serde_json::to_value(errors).unwrap_or(Value::Null);
        }
        ToolFailure(value)
    }
}

/// What a tool call returns.
pub(crate) type ToolResult = Result<Value, ToolFailure>;

/// Reads a tool's arguments into `T` (unknown keys are ignored: models add
/// them freely).
pub(crate) fn arguments<T: serde::de::DeserializeOwned>(args: &Value) -> Result<T, ToolFailure> {
    serde_json::from_value(args.clone()).map_err(ToolFailure::arguments)
}

/// The tools `agent` may call.
pub(crate) fn specs(agent: AgentType) -> Vec<ToolSpec> {
    match agent {
        AgentType::Experiment => experiment::specs(),
        AgentType::RagAssistant => rag::specs(),
    }
}

/// Whether calls of `tool` are counted against `AGENT_MAX_TOOL_CALLS`
/// (pure tools, which only reshape what the model already has, are not).
pub(crate) fn counted(tool: &str) -> bool {
    !matches!(
        tool,
        "compare_backtest_results" | "format_citations" | "check_evidence"
    )
}

/// Checks a gated call's arguments before it is held for approval, so an
/// approved action always has the shape it needs; returns the description
/// shown to the human.
pub(crate) fn describe_gated(
    agent: AgentType,
    tool: &str,
    args: &Value,
) -> Result<String, ToolFailure> {
    match agent {
        AgentType::Experiment => experiment::describe(tool, args),
        AgentType::RagAssistant => Ok(format!("Agent requested approval for {tool}")),
    }
}

/// Runs `tool` with `args` for a session of `agent`; `approval` is the
/// human decision that released a gated call.
pub(crate) async fn execute(
    state: &AppState,
    agent: AgentType,
    session_id: &str,
    tool: &str,
    args: &Value,
    approval: Option<Approval<'_>>,
) -> ToolResult {
    if !specs(agent).iter().any(|spec| spec.name == tool) {
        return Err(ToolFailure::new(
            "unknown_tool",
            format!("Unknown tool: {tool}"),
        ));
    }
    match agent {
        AgentType::Experiment => experiment::execute(state, session_id, tool, args, approval).await,
        AgentType::RagAssistant => rag::execute(state, tool, args).await,
    }
}
