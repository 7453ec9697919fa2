//! The versioned, self-describing artifact envelope fitted models are saved
//! in (`model_<12 hex>.flmodel`).
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! magic        8 bytes   "FLMODEL\n"
//! version      u32       FORMAT_VERSION
//! header_len   u64
//! header       header_len bytes of UTF-8 JSON (ArtifactHeader)
//! payload_len  u64
//! payload      payload_len bytes (the plugin's own serialization)
//! checksum     32 bytes  SHA-256 of every byte before it
//! ```
//!
//! The header names the model type, plugin version, canonical config and its
//! hash, the data window and other metadata, and the payload's own SHA-256.
//! Reading checks the magic, the version, the lengths, both digests and that
//! the header parses; any failure is a [`CoreError::Artifact`] with a reason,
//! never a panic.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::CoreError;

/// File magic.
pub const MAGIC: &[u8; 8] = b"FLMODEL\n";
/// Current envelope format version.
pub const FORMAT_VERSION: u32 = 1;
/// File extension of artifacts (without the dot).
pub const EXTENSION: &str = "flmodel";
/// Refuse headers or payloads larger than this (a corrupt length field must
/// not make the reader allocate gigabytes).
pub const MAX_SECTION_BYTES: u64 = 1 << 30;

/// The self-describing part of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactHeader {
    /// Envelope format version (equals the binary version field).
    pub format_version: u32,
    /// Model type (`seasonal_naive`, …).
    pub model_type: String,
    /// Version of the plugin crate that wrote the payload.
    pub plugin_version: String,
    /// The canonical model config.
    pub config: serde_json::Value,
    /// 16-hex config hash.
    pub config_hash: String,
    /// Data window and model metadata (`store_id`, `product_id`,
    /// `train_start_date`, `train_end_date`, `n_observations`, feature
    /// metadata for feature-aware models, …).
    pub metadata: serde_json::Value,
    /// When the artifact was written.
    pub created_at: DateTime<Utc>,
    /// Lowercase hex SHA-256 of the payload.
    pub payload_sha256: String,
}

/// A decoded artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// The header.
    pub header: ArtifactHeader,
    /// The plugin payload.
    pub payload: Vec<u8>,
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn corrupt(reason: impl Into<String>) -> CoreError {
    CoreError::Artifact(reason.into())
}

impl Artifact {
    /// Builds an artifact, computing the payload digest.
    pub fn new(
        model_type: &str,
        plugin_version: &str,
        config: serde_json::Value,
        config_hash: String,
        metadata: serde_json::Value,
        payload: Vec<u8>,
    ) -> Self {
        Self {
            header: ArtifactHeader {
                format_version: FORMAT_VERSION,
                model_type: model_type.to_owned(),
                plugin_version: plugin_version.to_owned(),
                config,
                config_hash,
                metadata,
                created_at: Utc::now(),
                payload_sha256: sha256_hex(&payload),
            },
            payload,
        }
    }

    /// The file bytes.
    pub fn encode(&self) -> Result<Vec<u8>, CoreError> {
        let header = serde_json::to_vec(&self.header)
            .map_err(|e| corrupt(format!("cannot encode the header: {e}")))?;
        let mut out = Vec::with_capacity(8 + 4 + 8 + header.len() + 8 + self.payload.len() + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.header.format_version.to_le_bytes());
        out.extend_from_slice(&(header.len() as u64).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(self.payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.payload);
        let checksum = Sha256::digest(&out);
        out.extend_from_slice(&checksum);
        Ok(out)
    }

    /// Parses and verifies file bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, CoreError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(8)? != MAGIC {
            return Err(corrupt("not a ForecastLab model artifact (bad magic)"));
        }
        let version = u32::from_le_bytes(reader.array::<4>()?);
        if version != FORMAT_VERSION {
            return Err(corrupt(format!(
                "unknown artifact format version {version} (this server reads version {FORMAT_VERSION})"
            )));
        }
        let header_len = reader.length()?;
        let header_bytes = reader.take(header_len)?;
        let payload_len = reader.length()?;
        let payload = reader.take(payload_len)?.to_vec();
        let body_end = reader.at;
        let checksum = reader.take(32)?;
        if reader.at != bytes.len() {
            return Err(corrupt("trailing bytes after the checksum"));
        }
        if Sha256::digest(&bytes[..body_end]).as_slice() != checksum {
            return Err(corrupt(
                "checksum mismatch: the file is corrupt or was modified",
            ));
        }
        let header: ArtifactHeader = serde_json::from_slice(header_bytes)
            .map_err(|e| corrupt(format!("unreadable header: {e}")))?;
        if header.format_version != version {
            return Err(corrupt("header and file disagree on the format version"));
        }
        if sha256_hex(&payload) != header.payload_sha256 {
            return Err(corrupt("payload SHA-256 does not match the header"));
        }
        Ok(Self { header, payload })
    }

    /// Writes the artifact atomically (temporary file, then rename) and
    /// returns the SHA-256 of the file.
    pub fn write(&self, path: &Path) -> Result<String, CoreError> {
        let bytes = self.encode()?;
        let io = |e: std::io::Error| corrupt(format!("cannot write {}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let tmp: PathBuf = path.with_extension(format!("{EXTENSION}.tmp"));
        {
            let mut file = std::fs::File::create(&tmp).map_err(io)?;
            file.write_all(&bytes).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(sha256_hex(&bytes))
    }

    /// Reads and verifies an artifact file. A missing file is an
    /// [`std::io::ErrorKind::NotFound`] error so callers can answer 404.
    pub fn read(path: &Path) -> Result<(Self, String), ReadError> {
        let bytes = std::fs::read(path).map_err(ReadError::Io)?;
        let artifact = Self::decode(&bytes).map_err(ReadError::Invalid)?;
        Ok((artifact, sha256_hex(&bytes)))
    }

    /// Checks the artifact holds `model_type`.
    pub fn expect_model_type(&self, model_type: &str) -> Result<(), CoreError> {
        if self.header.model_type == model_type {
            Ok(())
        } else {
            Err(corrupt(format!(
                "artifact holds a '{}' model, expected '{model_type}'",
                self.header.model_type
            )))
        }
    }
}

/// Why an artifact could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be read (missing, permissions, …).
    Io(std::io::Error),
    /// The bytes are not a valid artifact.
    Invalid(CoreError),
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: u64) -> Result<&'a [u8], CoreError> {
        let len = usize::try_from(len).map_err(|_| corrupt("section too large"))?;
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| corrupt("the file is truncated"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CoreError> {
        let slice = self.take(N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn length(&mut self) -> Result<u64, CoreError> {
        let len = u64::from_le_bytes(self.array::<8>()?);
        if len > MAX_SECTION_BYTES {
            return Err(corrupt("section length out of range (corrupt file)"));
        }
        Ok(len)
    }
}

/// A fresh artifact key: 12 lowercase hex characters from a random source.
pub fn new_key() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS; mix in the time and a counter so two
    // keys made in the same process differ.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    hasher.write_i64(Utc::now().timestamp_nanos_opt().unwrap_or_default());
    let a = hasher.finish();
    let digest = Sha256::digest(a.to_le_bytes());
    hex::encode(digest)[..12].to_owned()
}

/// True when `key` looks like an artifact key (12 lowercase hex).
pub fn is_key(key: &str) -> bool {
    key.len() == 12
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// File name of the artifact with `key`.
pub fn file_name(key: &str) -> String {
    format!("model_{key}.{EXTENSION}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Artifact {
        Artifact::new(
            "naive",
            "0.1.0",
            serde_json::json!({"schema_version": "1.0", "model_type": "naive"}),
            "0123456789abcdef".into(),
            serde_json::json!({"store_id": 1, "product_id": 2}),
            b"{\"last_value\":3.0}".to_vec(),
        )
    }

    #[test]
    fn round_trip() {
        let artifact = sample();
        let bytes = artifact.encode().unwrap();
        assert_eq!(Artifact::decode(&bytes).unwrap(), artifact);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().encode().unwrap();
        for len in 0..bytes.len() {
            assert!(Artifact::decode(&bytes[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn flipped_bytes_are_detected() {
        let bytes = sample().encode().unwrap();
        for at in [0, 9, 20, bytes.len() - 40, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x55;
            assert!(Artifact::decode(&bad).is_err(), "flip at {at}");
        }
    }

    #[test]
    fn unknown_version_is_named() {
        let mut bytes = sample().encode().unwrap();
        bytes[8] = 9;
        let error = Artifact::decode(&bytes).unwrap_err();
        assert!(error.to_string().contains("format version 9"), "{error}");
    }

    #[test]
    fn write_read_and_model_type_check() {
        let dir = std::env::temp_dir().join(format!("flart-{}", new_key()));
        let path = dir.join(file_name(&new_key()));
        let artifact = sample();
        let sha = artifact.write(&path).unwrap();
        let (read, read_sha) = Artifact::read(&path).unwrap();
        assert_eq!(read, artifact);
        assert_eq!(sha, read_sha);
        assert!(read.expect_model_type("naive").is_ok());
        assert!(read.expect_model_type("moving_average").is_err());
        assert!(matches!(
            Artifact::read(&dir.join("missing.flmodel")),
            Err(ReadError::Io(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keys() {
        let a = new_key();
        let b = new_key();
        assert!(is_key(&a) && is_key(&b));
        assert_ne!(a, b);
        assert!(!is_key("../etc/passw"));
        assert_eq!(file_name("abc"), "model_abc.flmodel");
    }
}
