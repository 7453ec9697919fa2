//! Heading-aware markdown chunker (spec §4.3).
//!
//! Sections start at headings (`#`..`######`); sections are packed into
//! chunks of at most `chunk_size` tokens, carrying the last `overlap` tokens
//! of a flushed chunk into the next; a section too large on its own is split
//! on paragraphs, then sentences, without overlap; a trailing remainder
//! shorter than `min_chunk_size` tokens is dropped unless it is the only
//! chunk. One deliberate difference from the upstream: sections packed into
//! one chunk are joined with a blank line (the upstream concatenates them
//! directly, gluing a paragraph's last line to the next heading).

use std::sync::OnceLock;

use regex::Regex;
use serde_json::json;

use super::{tokens, Chunk, ChunkSettings};

/// One heading-delimited section.
#[derive(Debug, Clone, PartialEq)]
struct Section {
    /// Heading level (1–6), 0 for text before the first heading.
    level: usize,
    /// Heading text, without the `#`s.
    heading: Option<String>,
    /// The section's lines, heading line included.
    content: String,
}

fn heading_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| Regex::new(r"^(#{1,6})\s+(.+)$").expect("valid heading pattern"))
}

fn sections(text: &str) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut current = Section {
        level: 0,
        heading: None,
        content: String::new(),
    };
    let mut lines: Vec<&str> = Vec::new();
    let mut finish = |section: &mut Section, lines: &mut Vec<&str>| {
        section.content = lines.join("\n");
        lines.clear();
        if !section.content.trim().is_empty() {
            sections.push(section.clone());
        }
    };
    for line in text.lines() {
        if let Some(captures) = heading_pattern().captures(line) {
            finish(&mut current, &mut lines);
            current = Section {
                level: captures[1].len(),
                heading: Some(captures[2].trim().to_owned()),
                content: String::new(),
            };
        }
        lines.push(line);
    }
    finish(&mut current, &mut lines);
    sections
}

/// Splits `text` after `.`, `!` or `?` followed by whitespace.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if matches!(c, '.' | '!' | '?') {
            if let Some(&(next_at, next)) = chars.peek() {
                if next.is_whitespace() {
                    out.push(&text[start..next_at]);
                    // Skip the whole whitespace run.
                    let mut end = next_at;
                    while let Some(&(ws_at, ws)) = chars.peek() {
                        if !ws.is_whitespace() {
                            break;
                        }
                        end = ws_at + ws.len_utf8();
                        chars.next();
                    }
                    start = end;
                }
            }
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// Greedily joins `parts` with `separator` into pieces of at most `size`
/// tokens (a part larger on its own becomes its own piece).
fn pack(parts: &[String], separator: &str, size: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut buffer = String::new();
    for part in parts {
        if buffer.is_empty() {
            buffer = part.clone();
            continue;
        }
        let joined = format!("{buffer}{separator}{part}");
        if tokens::count(&joined) <= size {
            buffer = joined;
        } else {
            pieces.push(std::mem::replace(&mut buffer, part.clone()));
        }
    }
    if !buffer.is_empty() {
        pieces.push(buffer);
    }
    pieces
}

/// Step 4: a section larger than `size` tokens, split on paragraphs, and a
/// paragraph still too large on sentences (each cut to [`tokens::MAX_TOKENS`]).
fn split_large(content: &str, size: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut paragraphs: Vec<String> = Vec::new();
    let flush = |paragraphs: &mut Vec<String>, pieces: &mut Vec<String>| {
        pieces.extend(pack(paragraphs, "\n\n", size));
        paragraphs.clear();
    };
    for paragraph in content
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if tokens::count(paragraph) > size {
            flush(&mut paragraphs, &mut pieces);
            let parts: Vec<String> = sentences(paragraph)
                .into_iter()
                .map(|sentence| tokens::truncate(sentence.trim(), tokens::MAX_TOKENS))
                .collect();
            pieces.extend(pack(&parts, " ", size));
        } else {
            paragraphs.push(paragraph.to_owned());
        }
    }
    flush(&mut paragraphs, &mut pieces);
    pieces
}

fn make_chunk(content: &str, path: &[String]) -> Option<Chunk> {
    let content = content.trim();
    if content.is_empty() {
        return None;
    }
    let metadata = path.last().map(|heading| {
        json!({
            "heading": heading,
            "section_path": path,
        })
    });
    Some(Chunk {
        content: content.to_owned(),
        token_count: tokens::count(content),
        metadata,
    })
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}\n\n{b}")
    }
}

/// Chunks a markdown document.
pub fn chunk_markdown(text: &str, settings: &ChunkSettings) -> Vec<Chunk> {
    let size = settings.chunk_size.max(1);
    let mut chunks = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut current = String::new();
    for section in sections(text) {
        if let Some(heading) = &section.heading {
            path.truncate(section.level - 1);
            path.push(heading.clone());
        }
        if tokens::count(&section.content) > size {
            chunks.extend(make_chunk(&current, &path));
            current.clear();
            for piece in split_large(&section.content, size) {
                chunks.extend(make_chunk(&piece, &path));
            }
        } else if tokens::count(&join(&current, &section.content)) > size {
            let overlap = tokens::tail(&current, settings.overlap);
            chunks.extend(make_chunk(&current, &path));
            current = join(overlap.trim(), &section.content);
        } else {
            current = join(&current, &section.content);
        }
    }
    let last = current.trim();
    if !last.is_empty() && (chunks.is_empty() || tokens::count(last) >= settings.min_chunk_size) {
        chunks.extend(make_chunk(last, &path));
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(chunk_size: usize, overlap: usize, min_chunk_size: usize) -> ChunkSettings {
        ChunkSettings {
            chunk_size,
            overlap,
            min_chunk_size,
        }
    }

    #[test]
    fn sections_follow_headings_and_drop_blank_ones() {
        let found = sections("intro line\n# Title\nbody\n\n## Sub\n   \n###### Deep\nx");
        let headings: Vec<_> = found.iter().map(|s| s.heading.clone()).collect();
        assert_eq!(
            headings,
            [
                None,
                Some("Title".into()),
                Some("Sub".into()),
                Some("Deep".into())
            ]
        );
        assert_eq!(found[1].content, "# Title\nbody\n");
        assert_eq!(found[3].level, 6);
        // `#hashtag` (no space) and 7 hashes are not headings.
        assert_eq!(sections("#tag\n####### seven").len(), 1);
    }

    #[test]
    fn small_documents_become_one_chunk_with_the_last_heading_path() {
        let text = "# Guide\nIntro.\n## Install\nRun it.\n### Linux\nUse apt.";
        let chunks = chunk_markdown(text, &settings(512, 50, 100));
        assert_eq!(chunks.len(), 1, "under min but the only chunk: kept");
        let chunk = &chunks[0];
        assert!(chunk.content.starts_with("# Guide") && chunk.content.ends_with("Use apt."));
        assert_eq!(chunk.token_count, tokens::count(&chunk.content));
        let metadata = chunk.metadata.as_ref().unwrap();
        assert_eq!(metadata["heading"], "Linux");
        assert_eq!(
            metadata["section_path"],
            json!(["Guide", "Install", "Linux"])
        );
    }

    #[test]
    fn a_shallower_heading_cuts_the_path_back() {
        let text = "# A\naaa\n## B\nbbb\n# C\nccc";
        let chunks = chunk_markdown(text, &settings(512, 0, 1));
        assert_eq!(
            chunks[0].metadata.as_ref().unwrap()["section_path"],
            json!(["C"])
        );
    }

    #[test]
    fn text_without_headings_has_no_metadata() {
        let chunks = chunk_markdown("just a paragraph", &settings(512, 50, 100));
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].metadata.is_none());
        assert!(chunk_markdown("  \n\n ", &settings(512, 50, 100)).is_empty());
    }

    fn words(n: usize, word: &str) -> String {
        vec![word; n].join(" ")
    }

    #[test]
    fn packing_flushes_with_overlap_and_the_next_heading_path() {
        // Each section ~41 tokens; two fit in 100, three do not.
        let text = format!(
            "# One\n{}\n# Two\n{}\n# Three\n{}",
            words(40, "alpha"),
            words(40, "beta"),
            words(40, "gamma")
        );
        let chunks = chunk_markdown(&text, &settings(100, 5, 1));
        assert_eq!(chunks.len(), 2);
        assert!(chunks[0].content.contains("# One") && chunks[0].content.contains("# Two"));
        assert!(!chunks[0].content.contains("gamma"));
        // The flushed chunk carries the heading path of the section being
        // processed when it was flushed (the upstream quirk).
        assert_eq!(chunks[0].metadata.as_ref().unwrap()["heading"], "Three");
        // The next chunk starts with the last 5 tokens of the previous one.
        assert!(chunks[1]
            .content
            .starts_with("beta beta beta beta beta\n\n# Three"));
        assert!(chunks.iter().all(|c| c.token_count <= 100 + 5));
    }

    #[test]
    fn zero_overlap_carries_nothing() {
        let text = format!("# A\n{}\n# B\n{}", words(60, "alpha"), words(60, "beta"));
        let chunks = chunk_markdown(&text, &settings(100, 0, 1));
        assert_eq!(chunks.len(), 2);
        assert!(chunks[1].content.starts_with("# B"));
    }

    #[test]
    fn the_trailing_chunk_under_min_is_dropped() {
        let text = format!("# A\n{}\n# B\nshort tail", words(95, "alpha"));
        let kept = chunk_markdown(&text, &settings(100, 0, 1));
        assert_eq!(kept.len(), 2);
        let dropped = chunk_markdown(&text, &settings(100, 0, 50));
        assert_eq!(
            dropped.len(),
            1,
            "the trailing 'short tail' chunk is under min"
        );
        assert!(!dropped[0].content.contains("short tail"));
    }

    #[test]
    fn a_large_section_splits_on_paragraphs_then_sentences_without_overlap() {
        let paragraph = |w: &str| words(40, w);
        let long_paragraph = (0..10)
            .map(|i| format!("{} number {i}.", words(12, "delta")))
            .collect::<Vec<_>>()
            .join(" ");
        let text = format!(
            "# Big\n{}\n\n{}\n\n{}\n\n{}",
            paragraph("alpha"),
            paragraph("beta"),
            paragraph("gamma"),
            long_paragraph
        );
        let chunks = chunk_markdown(&text, &settings(70, 10, 1));
        assert!(chunks.len() >= 4, "{}", chunks.len());
        assert!(chunks.iter().all(|c| c.token_count <= 70));
        // Paragraphs are packed greedily: "# Big" + alpha fit, beta does not.
        assert!(chunks[0].content.contains("alpha") && !chunks[0].content.contains("beta"));
        // Sentences are joined with single spaces; no overlap repeats text.
        let all: String = chunks
            .iter()
            .map(|c| c.content.clone())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(all.matches("number 3.").count(), 1);
        assert!(chunks
            .iter()
            .all(|c| c.metadata.as_ref().unwrap()["heading"] == "Big"));
    }

    #[test]
    fn sentence_split_needs_whitespace_after_the_mark() {
        assert_eq!(
            sentences("Version 1.5 ships. Really?  Yes!\nDone"),
            ["Version 1.5 ships.", "Really?", "Yes!", "Done"]
        );
    }
}
