//! API keys: creation (shown once), salted-hash storage, verification with
//! a short in-process cache, listing and revocation.
//!
//! A key reads `flk_<key_id>_<secret>`: `key_id` (16 hex characters) is the
//! public lookup handle, `secret` 64 hex characters (256 random bits). The
//! database keeps `SHA-256(salt ‖ secret)` with a random 128-bit salt per
//! key, never the secret. A random 256-bit secret cannot be guessed, so a
//! fast hash is enough (a slow password hash would only add latency to
//! every request).

use std::{
    collections::HashMap,
    fmt,
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{db::Db, with_db};

/// What a key may do. Each scope includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read routes (GET).
    Read,
    /// Read and write routes.
    Write,
    /// Everything, including the routes that delete or overwrite data in
    /// bulk (the seeder's writes).
    Admin,
}

impl Scope {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = anyhow::Error;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            "admin" => Ok(Self::Admin),
            other => anyhow::bail!("scope must be read, write or admin, not {other:?}"),
        }
    }
}

const PREFIX: &str = "flk_";

/// A freshly created key: the only moment its secret exists outside the
/// client.
#[derive(Debug)]
pub struct CreatedKey {
    /// The full key to hand to the client.
    pub key: String,
    /// Its public handle.
    pub key_id: String,
}

/// A stored key, without secret material.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// Public handle.
    pub key_id: String,
    /// Human name.
    pub name: String,
    /// Scope.
    pub scope: String,
    /// Creation time (database text form).
    pub created_at: String,
    /// Revocation time, when revoked.
    pub revoked_at: Option<String>,
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

fn digest(salt: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update(secret.as_bytes());
    hex::encode(hasher.finalize())
}

/// Splits `flk_<key_id>_<secret>`; `None` for anything else.
fn split(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let (key_id, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(key_id, 16) && hex(secret, 64)).then_some((key_id, secret))
}

/// Creates and stores a key.
pub async fn create(db: &Db, name: &str, scope: Scope) -> anyhow::Result<CreatedKey> {
    anyhow::ensure!(
        !name.trim().is_empty() && name.chars().count() <= 100 && !name.contains('\0'),
        "the key name must have 1 to 100 characters"
    );
    let key_id = random_hex(8);
    let secret = random_hex(32);
    let salt = random_hex(16);
    let hash = digest(&salt, &secret);
    with_db!(db, pool => {
        sqlx::query(
            "INSERT INTO api_key (key_id, name, scope, salt, secret_hash) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key_id)
        .bind(name.trim())
        .bind(scope.as_str())
        .bind(&salt)
        .bind(&hash)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(CreatedKey {
        key: format!("{PREFIX}{key_id}_{secret}"),
        key_id,
    })
}

/// Every key, newest first.
pub async fn list(db: &Db) -> anyhow::Result<Vec<KeyInfo>> {
    const SQL: &str = "SELECT key_id, name, scope, CAST(created_at AS TEXT), \
        CAST(revoked_at AS TEXT) FROM api_key ORDER BY id DESC";
    let rows: Vec<(String, String, String, String, Option<String>)> =
        with_db!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|(key_id, name, scope, created_at, revoked_at)| KeyInfo {
            key_id,
            name,
            scope,
            created_at,
            revoked_at,
        })
        .collect())
}

/// Revokes a key; false when no active key has this id.
pub async fn revoke(db: &Db, key_id: &str) -> anyhow::Result<bool> {
    const SQL: &str =
        "UPDATE api_key SET revoked_at = CURRENT_TIMESTAMP WHERE key_id = $1 AND revoked_at IS NULL";
    let affected = with_db!(db, pool => {
        sqlx::query(SQL).bind(key_id).execute(pool).await.map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// How long a verified key is trusted without asking the database again
/// (so a revocation takes effect within this time).
pub const CACHE_TTL: Duration = Duration::from_secs(30);

/// Verification outcomes by key fingerprint, with when they were checked.
type Outcomes = HashMap<String, (Option<Scope>, Instant)>;

/// Verifies keys against the database, caching outcomes for
/// [`CACHE_TTL`]. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    cache: Arc<Mutex<Outcomes>>,
}

impl Verifier {
    /// The scope of `key`, or `None` when it is malformed, unknown, revoked
    /// or does not match. Database errors are passed on (the caller answers
    /// 503 rather than 401 when the database is away).
    pub async fn scope_of(&self, db: &Db, key: &str) -> Result<Option<Scope>, sqlx::Error> {
        let Some((key_id, secret)) = split(key) else {
            return Ok(None);
        };
        // The cache is keyed by the digest of the whole key, so a wrong
        // secret for a known id never hits a cached success.
        let fingerprint = digest(key_id, secret);
        if let Some((scope, at)) = self.lock().get(&fingerprint) {
            if at.elapsed() < CACHE_TTL {
                return Ok(*scope);
            }
        }
        const SQL: &str =
            "SELECT scope, salt, secret_hash FROM api_key WHERE key_id = $1 AND revoked_at IS NULL";
        let row: Option<(String, String, String)> = with_db!(db, pool => {
            sqlx::query_as(SQL).bind(key_id).fetch_optional(pool).await
        })?;
        let scope = row.and_then(|(scope, salt, hash)| {
            (digest(&salt, secret) == hash)
                .then(|| scope.parse().ok())
                .flatten()
        });
        let mut cache = self.lock();
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(fingerprint, (scope, Instant::now()));
        Ok(scope)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Outcomes> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_only_in_their_own_shape() {
        let key = format!("flk_{}_{}", "a".repeat(16), "b".repeat(64));
        assert_eq!(
            split(&key),
            Some(("a".repeat(16).as_str(), "b".repeat(64).as_str()))
        );
        assert!(split("flk_short_secret").is_none());
        assert!(split(&key.replace("flk_", "xyz_")).is_none());
        assert!(split(&format!("flk_{}_{}", "g".repeat(16), "b".repeat(64))).is_none());
    }

    #[test]
    fn scopes_are_ordered() {
        assert!(Scope::Admin > Scope::Write && Scope::Write > Scope::Read);
        assert_eq!("write".parse::<Scope>().unwrap(), Scope::Write);
        assert!("root".parse::<Scope>().is_err());
    }

    #[test]
    fn digests_depend_on_the_salt() {
        assert_ne!(digest("s1", "secret"), digest("s2", "secret"));
        assert_eq!(digest("s1", "secret").len(), 64);
    }
}
