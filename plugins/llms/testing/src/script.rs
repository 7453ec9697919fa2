//! Scripted turns: what a [`ProviderServer`](crate::ProviderServer) answers.

use std::time::Duration;

use forecastlab_core::ai::Usage;
use serde_json::Value;

/// Token counts reported when a turn does not set its own.
pub const DEFAULT_USAGE: Usage = Usage {
    input_tokens: 10,
    output_tokens: 5,
};

/// How many pieces text and tool arguments are streamed in by default.
pub const DEFAULT_PIECES: usize = 3;

/// A tool call in a scripted reply.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptedCall {
    /// Call id; `None` lets the server number it in the provider's style.
    pub id: Option<String>,
    /// Tool name.
    pub name: String,
    /// The arguments as sent on the wire: JSON text, possibly malformed.
    pub arguments: String,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub(crate) text: String,
    pub(crate) calls: Vec<ScriptedCall>,
    pub(crate) usage: Usage,
    pub(crate) pieces: usize,
    /// The provider refused: its refusal message.
    pub(crate) refusal: Option<String>,
}

/// What happens to the connection while answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interruption {
    /// Nothing: the whole answer is sent.
    None,
    /// Not even the status line is sent.
    Silent,
    /// After this many stream events, nothing more is sent (JSON answers:
    /// nothing at all).
    StallAfter(usize),
    /// After this many stream events the connection breaks.
    CutAfter(usize),
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    Reply(Reply),
    Error {
        status: u16,
        message: String,
    },
    Raw {
        status: u16,
        content_type: String,
        body: String,
    },
}

/// One scripted answer, used by the next request.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub(crate) answer: Answer,
    pub(crate) interruption: Interruption,
    pub(crate) delay: Duration,
}

impl Turn {
    fn reply(text: impl Into<String>, calls: Vec<ScriptedCall>) -> Turn {
        Turn::from_answer(Answer::Reply(Reply {
            text: text.into(),
            calls,
            usage: DEFAULT_USAGE,
            pieces: DEFAULT_PIECES,
            refusal: None,
        }))
    }

    fn from_answer(answer: Answer) -> Turn {
        Turn {
            answer,
            interruption: Interruption::None,
            delay: Duration::ZERO,
        }
    }

    /// The model answers with text.
    pub fn text(text: impl Into<String>) -> Turn {
        Turn::reply(text, Vec::new())
    }

    /// The model calls `name` with `arguments` (a JSON object).
    pub fn tool_call(name: impl Into<String>, arguments: Value) -> Turn {
        Turn::reply("", Vec::new()).and_tool_call(name, arguments)
    }

    /// The model calls `name` with arguments that are not valid JSON.
    pub fn malformed_tool_call(name: impl Into<String>, raw_arguments: impl Into<String>) -> Turn {
        let mut turn = Turn::reply("", Vec::new());
        turn.calls_mut().push(ScriptedCall {
            id: None,
            name: name.into(),
            arguments: raw_arguments.into(),
        });
        turn
    }

    /// The provider refuses to answer (a content filter / safety block,
    /// reported with status 200 in the provider's own way).
    pub fn refusal(message: impl Into<String>) -> Turn {
        let mut turn = Turn::reply("", Vec::new());
        if let Answer::Reply(reply) = &mut turn.answer {
            reply.refusal = Some(message.into());
        }
        turn
    }

    /// The provider answers `status` with its error envelope around
    /// `message` (`{"error": {"message": …}}` and the provider's extra
    /// fields).
    pub fn error(status: u16, message: impl Into<String>) -> Turn {
        Turn::from_answer(Answer::Error {
            status,
            message: message.into(),
        })
    }

    /// The server answers exactly `body` with `status` and `content_type`.
    pub fn raw(status: u16, content_type: impl Into<String>, body: impl Into<String>) -> Turn {
        Turn::from_answer(Answer::Raw {
            status,
            content_type: content_type.into(),
            body: body.into(),
        })
    }

    /// The server accepts the request and never answers.
    pub fn stall() -> Turn {
        let mut turn = Turn::text("");
        turn.interruption = Interruption::Silent;
        turn
    }

    /// One more tool call in this reply.
    pub fn and_tool_call(mut self, name: impl Into<String>, arguments: Value) -> Turn {
        self.calls_mut().push(ScriptedCall {
            id: None,
            name: name.into(),
            arguments: arguments.to_string(),
        });
        self
    }

    /// The id of the last tool call added (instead of the server's
    /// numbering).
    pub fn with_call_id(mut self, id: impl Into<String>) -> Turn {
        if let Some(call) = self.calls_mut().last_mut() {
            call.id = Some(id.into());
        }
        self
    }

    /// The reply's text (before its tool calls).
    pub fn with_text(mut self, text: impl Into<String>) -> Turn {
        if let Answer::Reply(reply) = &mut self.answer {
            reply.text = text.into();
        }
        self
    }

    /// The token counts the reply reports.
    pub fn with_usage(mut self, input_tokens: u32, output_tokens: u32) -> Turn {
        if let Answer::Reply(reply) = &mut self.answer {
            reply.usage = Usage {
                input_tokens,
                output_tokens,
            };
        }
        self
    }

    /// Streams the text, and each tool call's arguments, in `pieces`
    /// pieces (at least 1).
    pub fn in_pieces(mut self, pieces: usize) -> Turn {
        if let Answer::Reply(reply) = &mut self.answer {
            reply.pieces = pieces.max(1);
        }
        self
    }

    /// Waits `delay` before answering.
    pub fn after(mut self, delay: Duration) -> Turn {
        self.delay = delay;
        self
    }

    /// A streamed answer stops after `events` events and the connection
    /// stays open (a JSON answer never comes).
    pub fn stall_after(mut self, events: usize) -> Turn {
        self.interruption = Interruption::StallAfter(events);
        self
    }

    /// A streamed answer breaks off after `events` events: the connection
    /// is dropped mid-response.
    pub fn cut_after(mut self, events: usize) -> Turn {
        self.interruption = Interruption::CutAfter(events);
        self
    }

    fn calls_mut(&mut self) -> &mut Vec<ScriptedCall> {
        match &mut self.answer {
            Answer::Reply(reply) => &mut reply.calls,
            _ => panic!("tool calls can only be added to a reply turn"),
        }
    }
}

/// `text` cut into `pieces` pieces of about equal length (never splitting
/// a character); fewer when the text is shorter.
pub(crate) fn split(text: &str, pieces: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(pieces.max(1));
    chars
        .chunks(size)
        .map(|chunk| chunk.iter().collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_every_character_in_order() {
        assert_eq!(split("abcdefg", 3), ["abc", "def", "g"]);
        assert_eq!(split("ab", 5), ["a", "b"]);
        assert_eq!(split("héllo", 2).concat(), "héllo");
        assert!(split("", 3).is_empty());
    }
}
