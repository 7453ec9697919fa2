//! Secret scrubbing of provider error details.
//!
//! Whatever a provider answers in an error body (or whatever a transport
//! error prints) may echo a key back: an API key inside a message, a bearer
//! token, a `key=` query parameter. Every detail an [`LlmError`] carries has
//! been through [`scrub_detail`] first, so it can be shown to a client and
//! logged as is.
//!
//! [`LlmError`]: super::failure::LlmError

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The longest detail kept, in characters (after scrubbing).
pub const MAX_DETAIL_CHARS: usize = 300;

/// Key shapes that are redacted wherever they appear, with what replaces
/// each match. Order matters: labelled values (`authorization: Bearer …`)
/// are handled before the bare token shapes they may contain.
static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // `Bearer <token>` (any case), e.g. an echoed Authorization header.
        (r"(?i)\b(bearer)\s+[^\s,;]+", "$1 [redacted]"),
        // `api_key=…`, `api-key: …`, `apikey=…`, `token=…`, `authorization: …`,
        // `x-goog-api-key: …` and `key=…` query parameters, with an optional
        // quote between the label and the separator (JSON / quoted forms);
        // an authorization scheme word is taken with its credentials.
        (
            r#"(?i)\b(api[_-]?key|access[_-]?token|token|authorization|key)(["']?\s*[=:]\s*["']?)(?:(?:basic|bearer|digest)\s+)?[^\s&,;"']+"#,
            "$1$2[redacted]",
        ),
        // Google API keys.
        (r"AIza[0-9A-Za-z_-]{10,}", REDACTED),
        // OpenAI (`sk-…`, `sk-proj-…`) and Anthropic (`sk-ant-…`) keys.
        (r"sk-[A-Za-z0-9_-]{10,}", REDACTED),
    ]
    .into_iter()
    .map(|(pattern, replacement)| {
        (
            Regex::new(pattern).expect("secret pattern compiles"),
            replacement,
        )
    })
    .collect()
});

/// Removes every known key shape from `text`: `AIza…` Google keys, `sk-…`
/// OpenAI / Anthropic keys, `Bearer <token>`, and the value after
/// `api_key`, `api-key`, `apikey`, `token`, `authorization`, `access_token`
/// or `key` followed by `=` or `:`.
pub fn scrub_secrets(text: &str) -> String {
    PATTERNS
        .iter()
        .fold(text.to_owned(), |text, (pattern, replacement)| {
            pattern.replace_all(&text, *replacement).into_owned()
        })
}

/// Secrets a provider knows it holds (its own API key), removed verbatim on
/// top of the key shapes [`scrub_secrets`] recognises, so a key of any shape
/// never leaks. The `Debug` impl does not print them.
#[derive(Clone, Default)]
pub struct SecretScrubber {
    known: Vec<String>,
}

impl SecretScrubber {
    /// A scrubber that also removes each of `secrets` verbatim. Blank
    /// secrets are ignored.
    pub fn new<I, S>(secrets: I) -> SecretScrubber
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut known: Vec<String> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|secret| !secret.trim().is_empty())
            .collect();
        // Longest first, so a secret containing another is removed whole.
        known.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        SecretScrubber { known }
    }

    /// `text` with the known secrets and every recognised key shape
    /// replaced by `[redacted]`.
    pub fn scrub(&self, text: &str) -> String {
        let verbatim = self.known.iter().fold(text.to_owned(), |text, secret| {
            text.replace(secret, REDACTED)
        });
        scrub_secrets(&verbatim)
    }

    /// [`SecretScrubber::scrub`], then cut to [`MAX_DETAIL_CHARS`].
    pub fn detail(&self, raw: &str) -> String {
        cap(&self.scrub(raw.trim()))
    }
}

impl fmt::Debug for SecretScrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretScrubber")
            .field("known", &self.known.len())
            .finish()
    }
}

/// Scrubs `raw` (known key shapes only) and cuts it to
/// [`MAX_DETAIL_CHARS`]: the form every error detail is kept in.
pub fn scrub_detail(raw: &str) -> String {
    SecretScrubber::default().detail(raw)
}

/// The first [`MAX_DETAIL_CHARS`] characters of `text`.
fn cap(text: &str) -> String {
    match text.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

/// The human part of a provider's error body: `error.message` of an
/// `{"error": {"message": …}}` body (OpenAI, Anthropic, Gemini, Ollama's
/// OpenAI-compatible endpoint), `error` when that is a string (Ollama's
/// native endpoints), else the body as text. Not yet scrubbed.
pub fn provider_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let error = parsed.as_ref().and_then(|value| value.get("error"));
    let message = error.and_then(|error| match error {
        serde_json::Value::String(message) => Some(message.as_str()),
        other => other.get("message").and_then(|message| message.as_str()),
    });
    message.unwrap_or(body).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of every shape the providers hand out.
    const KEYS: [&str; 6] = [
        "sk-abcdefghijklmnopqrstuvwxyz0123456789",
        "sk-proj-AbCdEf_0123456789-ghijklmnopQRSTUV",
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-abcdefAA",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K_lmnop-qrstu",
        "AIzaSyDummyDummyDummyDummyDummyDummy12",
        "sk-1234567890",
    ];

    fn assert_clean(scrubbed: &str, secret: &str) {
        assert!(
            !scrubbed.contains(secret),
            "secret {secret:?} survived in {scrubbed:?}"
        );
        assert!(scrubbed.contains(REDACTED), "{scrubbed:?}");
    }

    #[test]
    fn every_key_shape_is_redacted_in_free_text() {
        for key in KEYS {
            let text = format!("Incorrect API key provided: {key}. You can find your key at …");
            assert_clean(&scrub_secrets(&text), key);
        }
    }

    #[test]
    fn bearer_tokens_are_redacted_in_any_case() {
        for text in [
            "Authorization: Bearer abc.def.ghi",
            "header was bearer abc.def.ghi",
            "BEARER abc.def.ghi, then",
        ] {
            let scrubbed = scrub_secrets(text);
            assert_clean(&scrubbed, "abc.def.ghi");
        }
        assert_eq!(
            scrub_secrets("sent Bearer xyz123 and more"),
            "sent Bearer [redacted] and more"
        );
    }

    #[test]
    fn labelled_values_are_redacted() {
        for (text, secret) in [
            ("api_key=hunter2hunter2", "hunter2hunter2"),
            ("API-KEY: hunter2hunter2", "hunter2hunter2"),
            ("apikey:hunter2hunter2", "hunter2hunter2"),
            ("token=t0k3nvalue next", "t0k3nvalue"),
            ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
            ("x-goog-api-key: zzzz-yyyy", "zzzz-yyyy"),
            (r#"{"api_key": "hunter2hunter2"}"#, "hunter2hunter2"),
            ("access_token=ya29.abcdef", "ya29.abcdef"),
        ] {
            assert_clean(&scrub_secrets(text), secret);
        }
    }

    #[test]
    fn key_query_parameters_are_redacted() {
        let url = "POST https://generativelanguage.googleapis.com/v1beta/models/x:generateContent?alt=sse&key=mysecretvalue123&other=1";
        let scrubbed = scrub_secrets(url);
        assert_clean(&scrubbed, "mysecretvalue123");
        assert!(scrubbed.contains("alt=sse"), "{scrubbed}");
        assert!(scrubbed.contains("&other=1"), "{scrubbed}");
    }

    #[test]
    fn ordinary_words_are_left_alone() {
        for text in [
            "max_tokens: 4096 exceeds the limit",
            "tokens: 12",
            "The model `gpt-4o` does not exist or you do not have access to it.",
            "monkey=banana",
            "sk-short",
        ] {
            assert_eq!(scrub_secrets(text), text);
        }
    }

    #[test]
    fn known_secrets_of_any_shape_are_removed_verbatim() {
        let scrubber = SecretScrubber::new(["plain-looking-secret", ""]);
        let scrubbed = scrubber.scrub("the key plain-looking-secret was refused");
        assert_eq!(scrubbed, "the key [redacted] was refused");
        assert!(!format!("{scrubber:?}").contains("plain-looking-secret"));
    }

    #[test]
    fn detail_is_capped_after_scrubbing() {
        let key = KEYS[2];
        let long = format!("{} {key} and more", "é".repeat(295));
        let detail = scrub_detail(&long);
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS);
        // A key that straddles the cut is redacted before cutting, so not
        // even its first characters remain.
        assert!(!detail.contains("sk-"), "{detail}");
        assert!(detail.ends_with(" [red"), "{detail}");
        assert_eq!(scrub_detail("  short  "), "short");
    }

    #[test]
    fn provider_message_reads_the_error_envelopes() {
        assert_eq!(
            provider_message(r#"{"error":{"message":"Model not found","type":"x"}}"#),
            "Model not found"
        );
        assert_eq!(
            provider_message(
                r#"{"type":"error","error":{"type":"not_found_error","message":"model: nope"}}"#
            ),
            "model: nope"
        );
        assert_eq!(
            provider_message(r#"{"error":"model 'llama9' not found"}"#),
            "model 'llama9' not found"
        );
        assert_eq!(
            provider_message("upstream connect error"),
            "upstream connect error"
        );
        assert_eq!(
            provider_message(r#"{"detail":"other shape"}"#),
            r#"{"detail":"other shape"}"#
        );
    }
}
