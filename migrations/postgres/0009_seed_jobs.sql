-- The `seed` job type: seeder generations too big for one request run in
-- the background.
ALTER TABLE job DROP CONSTRAINT ck_job_type;
ALTER TABLE job ADD CONSTRAINT ck_job_type
    CHECK (job_type IN ('train','predict','backtest','batch','seed'));
