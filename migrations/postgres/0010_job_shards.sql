-- Sharded batch jobs: a batch over many series is split into shard jobs,
-- rows of `job` that name their parent and the series they train; any
-- worker on any machine claims them like every other job.
ALTER TABLE job ADD COLUMN parent_id INTEGER REFERENCES job (id) ON DELETE CASCADE;
ALTER TABLE job ADD COLUMN shard_series JSONB;
CREATE INDEX ix_job_parent_id ON job (parent_id);
