//! A chunk as stored and found, and the forms of its vector: the bytes
//! kept in the database (the source of truth on both databases) and the
//! text pgvector reads.

use serde_json::Value;

/// One chunk as search results show it.
#[derive(Debug, Clone)]
pub(crate) struct ChunkInfo {
    pub(crate) chunk_id: String,
    pub(crate) source_id: String,
    pub(crate) source_path: String,
    pub(crate) source_type: String,
    pub(crate) content: String,
    pub(crate) metadata: Option<Value>,
    pub(crate) category: Option<String>,
}

/// Little-endian `f32` bytes of a vector.
pub(crate) fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The vector of little-endian `f32` bytes (a trailing partial value is
/// ignored).
pub(crate) fn decode_vector(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The text form pgvector reads (`[x,y,…]`): Rust prints each `f32` in
/// its shortest form that reads back to the same value.
pub(crate) fn vector_literal(vector: &[f32]) -> String {
    let mut text = String::with_capacity(vector.len() * 12 + 2);
    text.push('[');
    for (i, x) in vector.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&x.to_string());
    }
    text.push(']');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_bytes() {
        let vector = vec![0.25f32, -1.5, 3.0e-7, f32::MAX];
        let bytes = encode_vector(&vector);
        assert_eq!(bytes.len(), 16);
        assert_eq!(decode_vector(&bytes), vector);
        assert_eq!(decode_vector(&bytes[..7]), vec![0.25]);
    }
}
