//! Token counting with OpenAI's `cl100k_base` encoding (spec §4.2). The
//! `tiktoken-rs` crate embeds the ranks, so nothing is downloaded; the
//! encoder is built once per process.

use tiktoken_rs::CoreBPE;

/// Hard cap of tokens in one chunk or one embedding input.
pub const MAX_TOKENS: usize = 8191;

fn encoder() -> &'static CoreBPE {
    // Built once from the ranks compiled into the crate.
    tiktoken_rs::cl100k_base_singleton()
}

/// The token ids of `text` (special tokens are treated as plain text).
pub fn encode(text: &str) -> Vec<u32> {
    encoder().encode_ordinary(text)
}

/// The text of `tokens`; a cut through a multi-byte character is replaced
/// by U+FFFD rather than failing.
pub fn decode(tokens: &[u32]) -> String {
    let bytes: Vec<u8> = encoder()
        ._decode_native_and_split(tokens.to_vec())
        .flatten()
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Number of tokens in `text`.
pub fn count(text: &str) -> usize {
    encode(text).len()
}

/// `text` cut to its first `max` tokens (unchanged when it is shorter).
pub fn truncate(text: &str, max: usize) -> String {
    let tokens = encode(text);
    if tokens.len() <= max {
        text.to_owned()
    } else {
        decode(&tokens[..max])
    }
}

/// The text of the last `n` tokens of `text` (all of it when shorter,
/// nothing when `n` is 0).
pub fn tail(text: &str, n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let tokens = encode(text);
    if tokens.len() <= n {
        text.to_owned()
    } else {
        decode(&tokens[tokens.len() - n..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_cl100k() {
        // Reference counts from tiktoken's cl100k_base.
        assert_eq!(count("hello world"), 2);
        assert_eq!(count(""), 0);
        assert_eq!(encode("hello world"), [15339, 1917]);
    }

    #[test]
    fn truncate_and_tail_round_trip() {
        let text = "one two three four five six seven eight nine ten";
        assert_eq!(count(text), 10);
        assert_eq!(truncate(text, 3), "one two three");
        assert_eq!(truncate(text, 50), text);
        assert_eq!(tail(text, 2), " nine ten");
        assert_eq!(tail(text, 0), "");
        assert_eq!(tail(text, 99), text);
    }

    #[test]
    fn decoding_a_cut_character_does_not_fail() {
        let text = "🦀 crab";
        let tokens = encode(text);
        assert_eq!(decode(&tokens), text);
        for end in 0..tokens.len() {
            // Every prefix decodes, with U+FFFD where a character was cut.
            let prefix = decode(&tokens[..end]);
            assert!(prefix.chars().count() <= text.chars().count() + 2);
        }
    }
}
