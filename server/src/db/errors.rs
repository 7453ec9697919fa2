//! What a database error means for the client, decided in one place.
//!
//! * A **conflict between concurrent transactions** (PostgreSQL deadlock or
//!   serialization failure, SQLite `SQLITE_BUSY`/`SQLITE_LOCKED`) is
//!   retryable: the transaction was rolled back and changed nothing. The
//!   request layer ([`crate::http::retry`]) runs the request again; if the
//!   conflict persists the client gets a 503 `DATABASE_BUSY` with
//!   `Retry-After`.
//! * The **database being unreachable** (connection refused or reset, pool
//!   timeout, server shutting down or starting up) is a 503
//!   `DATABASE_UNAVAILABLE` with `Retry-After`, never a 500 and never a hang
//!   past the pool's acquire timeout.
//! * Anything else is a bug or a broken database: a 500 whose cause is
//!   logged, never shown.

use axum::http::StatusCode;

/// The class of a database error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// Concurrent transactions collided; running the work again can succeed.
    Conflict,
    /// The database cannot be reached right now.
    Unavailable,
    /// Anything else.
    Other,
}

/// PostgreSQL SQLSTATEs of transaction conflicts: serialization failure,
/// deadlock.
const PG_CONFLICT: [&str; 2] = ["40001", "40P01"];

/// SQLite primary result codes of lock contention: BUSY, LOCKED.
const SQLITE_CONFLICT: [i64; 2] = [5, 6];

/// Classifies `error`.
pub fn classify(error: &sqlx::Error) -> DbErrorKind {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            DbErrorKind::Unavailable
        }
        sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => DbErrorKind::Unavailable,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if PG_CONFLICT.contains(&code.as_ref()) {
                return DbErrorKind::Conflict;
            }
            // SQLite reports extended result codes (517 = BUSY_SNAPSHOT);
            // the low byte is the primary code.
            if let Ok(number) = code.parse::<i64>() {
                if SQLITE_CONFLICT.contains(&(number & 0xff)) {
                    return DbErrorKind::Conflict;
                }
            }
            // Class 08: connection exception; 57P01..57P03: admin/crash
            // shutdown, cannot connect now; 53300: too many connections.
            if code.starts_with("08")
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
            {
                return DbErrorKind::Unavailable;
            }
            DbErrorKind::Other
        }
        sqlx::Error::Protocol(message) if looks_disconnected(message) => DbErrorKind::Unavailable,
        _ => DbErrorKind::Other,
    }
}

fn looks_disconnected(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    message.contains("connection") && (message.contains("closed") || message.contains("reset"))
}

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The status and problem code a client sees for an error of `kind`.
pub fn status_of(kind: DbErrorKind) -> (StatusCode, &'static str) {
    match kind {
        DbErrorKind::Conflict => (StatusCode::SERVICE_UNAVAILABLE, "DATABASE_BUSY"),
        DbErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "DATABASE_UNAVAILABLE"),
        DbErrorKind::Other => (StatusCode::INTERNAL_SERVER_ERROR, "DATABASE_ERROR"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_io_errors_mean_unavailable() {
        assert_eq!(
            classify(&sqlx::Error::PoolTimedOut),
            DbErrorKind::Unavailable
        );
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            classify(&sqlx::Error::Io(refused)),
            DbErrorKind::Unavailable
        );
        assert_eq!(classify(&sqlx::Error::RowNotFound), DbErrorKind::Other);
        assert_eq!(
            classify(&sqlx::Error::Protocol("connection closed".into())),
            DbErrorKind::Unavailable
        );
    }

    #[test]
    fn kinds_map_to_statuses() {
        assert_eq!(
            status_of(DbErrorKind::Conflict).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(status_of(DbErrorKind::Other).1, "DATABASE_ERROR");
    }
}
