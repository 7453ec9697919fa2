//! Checks on a JSON body's bytes that run before or beside its typed
//! deserialization: shape limits (values and depth), NUL characters in any
//! string, and integral floats (`158.0`) read as integers.

use axum::http::StatusCode;

use crate::problem::Problem;

/// Where a scan over JSON bytes stands with respect to string literals, so
/// that quotes, brackets and digits inside a string are not read as syntax.
#[derive(Debug, Default)]
struct StringScan {
    open: bool,
    escaped: bool,
}

impl StringScan {
    /// True when `byte` belongs to an open string (its closing quote
    /// included), following backslash escapes.
    fn within(&mut self, byte: u8) -> bool {
        if !self.open {
            return false;
        }
        if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.open = false;
        }
        true
    }

    /// A `"` outside a string opens one.
    fn open(&mut self) {
        self.open = true;
    }
}

/// Rewrites numbers written with an all-zero fraction (`158.0`) as integers
/// (`158`): JSON Schema counts them as integers, serde's integer types do
/// not. The value is the same for every numeric field. Borrows `bytes`
/// unchanged when there is nothing to rewrite.
pub(super) fn integral_numbers_as_integers(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut string = StringScan::default();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let inside = string.within(byte);
        if !inside && byte == b'"' {
            string.open();
        } else if !inside && (byte == b'-' || byte.is_ascii_digit()) {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            let token = &bytes[start..i];
            let zero_fraction = token.iter().position(|&b| b == b'.').filter(|&dot| {
                dot + 1 < token.len() && token[dot + 1..].iter().all(|&b| b == b'0')
            });
            match (zero_fraction, out.as_mut()) {
                (Some(dot), Some(out)) => out.extend_from_slice(&token[..dot]),
                (Some(dot), None) => {
                    let mut fresh = Vec::with_capacity(bytes.len());
                    fresh.extend_from_slice(&bytes[..start]);
                    fresh.extend_from_slice(&token[..dot]);
                    out = Some(fresh);
                }
                (None, Some(out)) => out.extend_from_slice(token),
                (None, None) => {}
            }
            continue;
        }
        if let Some(out) = out.as_mut() {
            out.push(byte);
        }
        i += 1;
    }
    match out {
        Some(out) => std::borrow::Cow::Owned(out),
        None => std::borrow::Cow::Borrowed(bytes),
    }
}

/// Shape limits of a JSON body, checked before it is deserialized.
#[derive(Debug, Clone, Copy)]
pub(super) struct JsonLimits {
    /// Most JSON values (scalars, arrays and objects, each counted once).
    pub(super) max_values: usize,
    /// Deepest nesting of arrays and objects.
    pub(super) max_depth: usize,
}

impl JsonLimits {
    /// The limits of every JSON body: room for an ingest batch of 25,000
    /// rows, nothing like the millions of values a 16 MiB body can hold.
    pub(super) const DEFAULT: Self = Self {
        max_values: 250_000,
        max_depth: 64,
    };

    /// Counts values and depth in one pass over `bytes`; the 413/422 when a
    /// limit is exceeded. Malformed JSON passes (the parser reports it).
    pub(super) fn check(&self, bytes: &[u8]) -> Result<(), Problem> {
        let mut values = 0usize;
        let mut depth = 0usize;
        let mut string = StringScan::default();
        let mut in_scalar = false;
        for &byte in bytes {
            if string.within(byte) {
                continue;
            }
            match byte {
                b'"' => {
                    string.open();
                    in_scalar = false;
                    values += 1;
                }
                b'[' | b'{' => {
                    in_scalar = false;
                    values += 1;
                    depth += 1;
                    if depth > self.max_depth {
                        return Err(Problem::invalid_field(
                            "body",
                            format!("JSON nesting deeper than {} levels", self.max_depth),
                            "json_too_deep",
                        ));
                    }
                }
                b']' | b'}' => {
                    in_scalar = false;
                    depth = depth.saturating_sub(1);
                }
                b',' | b':' | b' ' | b'\n' | b'\r' | b'\t' => in_scalar = false,
                _ => {
                    if !in_scalar {
                        in_scalar = true;
                        values += 1;
                    }
                }
            }
            if values > self.max_values {
                return Err(Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    format!(
                        "The JSON body holds more than {} values; no route accepts that many.",
                        self.max_values
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A 422 naming the first string (key or value) of `bytes` that holds a
/// NUL character. Only bodies that contain the escape at all are walked.
pub(super) fn reject_nul_in_json(bytes: &[u8]) -> Result<(), Problem> {
    if !contains_nul_escape(bytes) {
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| Problem::invalid_field("body", "Malformed JSON", "json_invalid"))?;
    match nul_path(&value, String::new()) {
        Some(path) => Err(nul_problem(if path.is_empty() {
            "body".into()
        } else {
            path
        })),
        None => Ok(()),
    }
}

/// True when `bytes` holds `\u0000` as an escape (an odd number of
/// backslashes before the `u`).
fn contains_nul_escape(bytes: &[u8]) -> bool {
    bytes.windows(6).enumerate().any(|(at, window)| {
        window.eq_ignore_ascii_case(b"\\u0000")
            && bytes[..at]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count()
                % 2
                == 0
    })
}

fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(text) => text.contains('\0').then_some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_path(item, join(&index.to_string()))),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(join(key))
            } else {
                nul_path(item, join(key))
            }
        }),
        _ => None,
    }
}

pub(super) fn nul_problem(field: String) -> Problem {
    Problem::invalid_field(
        field,
        "Text must not contain NUL (\\u0000) characters",
        "string_nul",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_refused_with_their_field() {
        let error = reject_nul_in_json(br#"{"records":[{"sku":"a\u0000b"}]}"#).unwrap_err();
        assert_eq!(error.errors.clone().unwrap()[0].field, "records.0.sku");
        let error = reject_nul_in_json(br#"{"a\u0000":1}"#).unwrap_err();
        assert_eq!(error.errors.clone().unwrap()[0].kind, "string_nul");
        // An escaped backslash followed by "u0000" is not a NUL.
        assert!(reject_nul_in_json(br#"{"path":"C:\\u0000"}"#).is_ok());
        assert!(reject_nul_in_json(br#"{"sku":"plain"}"#).is_ok());
    }

    #[test]
    fn integral_numbers_become_integers_outside_strings() {
        let rewritten =
            integral_numbers_as_integers(br#"{"a":158.0,"b":"1.0","c":[2.50,-3.00,1e2,0.0]}"#);
        assert_eq!(
            std::str::from_utf8(&rewritten).unwrap(),
            r#"{"a":158,"b":"1.0","c":[2.50,-3,1e2,0]}"#
        );
        assert!(matches!(
            integral_numbers_as_integers(br#"{"a":1.5}"#),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn json_shape_limits_hold_before_parsing() {
        let limits = JsonLimits {
            max_values: 10,
            max_depth: 3,
        };
        assert!(limits.check(br#"{"a":[1,2,3],"b":"x,y"}"#).is_ok());
        let many = format!("[{}]", vec!["0"; 20].join(","));
        assert_eq!(
            limits.check(many.as_bytes()).unwrap_err().status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert!(limits.check(b"[[[[1]]]]").is_err());
        assert!(limits.check(br#"["[[[[[[", "{{{{{{"]"#).is_ok());
    }
}
