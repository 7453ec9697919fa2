-- The `seed` job type: seeder generations too big for one request run in
-- the background. SQLite cannot alter a CHECK constraint, so `job` is
-- rebuilt with the widened job_type list (columns and indexes unchanged).

CREATE TABLE job_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id           VARCHAR(32) NOT NULL,
    job_type         VARCHAR(20) NOT NULL,
    status           VARCHAR(20) NOT NULL DEFAULT 'pending',
    params           TEXT NOT NULL,
    result           TEXT,
    error_message    VARCHAR(2000),
    error_type       VARCHAR(100),
    started_at       TEXT,
    completed_at     TEXT,
    run_id           VARCHAR(32),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    worker_id        VARCHAR(100),
    heartbeat_at     TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    progress_done    INTEGER NOT NULL DEFAULT 0,
    progress_total   INTEGER NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    error            TEXT,
    CONSTRAINT ck_job_type CHECK (job_type IN ('train','predict','backtest','batch','seed')),
    CONSTRAINT ck_job_status CHECK (status IN ('pending','running','completed','failed','cancelled'))
);
INSERT INTO job_new (id, job_id, job_type, status, params, result, error_message, error_type, started_at, completed_at, run_id, created_at, updated_at, worker_id, heartbeat_at, attempts, progress_done, progress_total, cancel_requested, error)
SELECT id, job_id, job_type, status, params, result, error_message, error_type, started_at, completed_at, run_id, created_at, updated_at, worker_id, heartbeat_at, attempts, progress_done, progress_total, cancel_requested, error
FROM job;
DROP TABLE job;
ALTER TABLE job_new RENAME TO job;

CREATE UNIQUE INDEX ix_job_job_id ON job (job_id);
CREATE INDEX ix_job_job_type ON job (job_type);
CREATE INDEX ix_job_status ON job (status);
CREATE INDEX ix_job_run_id ON job (run_id);
CREATE INDEX ix_job_type_status ON job (job_type, status);
CREATE INDEX ix_job_pending ON job (id) WHERE status = 'pending';
CREATE INDEX ix_job_running_heartbeat ON job (heartbeat_at) WHERE status = 'running';
CREATE INDEX ix_job_created_at ON job (created_at);
