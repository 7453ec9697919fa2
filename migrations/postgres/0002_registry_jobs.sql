-- Registry and jobs: queue columns for background workers (claiming,
-- heartbeats, retries, progress, cooperative cancellation), the batch job
-- type, and the append-only alias history.

ALTER TABLE job ADD COLUMN worker_id        VARCHAR(100);
ALTER TABLE job ADD COLUMN heartbeat_at     TIMESTAMPTZ;
ALTER TABLE job ADD COLUMN attempts         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job ADD COLUMN progress_done    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job ADD COLUMN progress_total   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE job ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE job ADD COLUMN error            JSONB;

ALTER TABLE job DROP CONSTRAINT ck_job_type;
ALTER TABLE job ADD CONSTRAINT ck_job_type CHECK (job_type IN ('train','predict','backtest','batch'));

-- The claim query scans pending rows in id order; stale detection scans
-- running rows by heartbeat.
CREATE INDEX ix_job_pending ON job (id) WHERE status = 'pending';
CREATE INDEX ix_job_running_heartbeat ON job (heartbeat_at) WHERE status = 'running';
CREATE INDEX ix_job_created_at ON job (created_at);
CREATE INDEX ix_model_run_created_at ON model_run (created_at);

CREATE TABLE alias_history (
    id           SERIAL PRIMARY KEY,
    alias_name   VARCHAR(100) NOT NULL,
    action       VARCHAR(10) NOT NULL,
    from_run_id  VARCHAR(32),
    to_run_id    VARCHAR(32),
    description  VARCHAR(500),
    actor        VARCHAR(100),
    reason       VARCHAR(500),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_alias_history_action CHECK (action IN ('create','move','update','delete'))
);
CREATE INDEX ix_alias_history_alias ON alias_history (alias_name, id);
