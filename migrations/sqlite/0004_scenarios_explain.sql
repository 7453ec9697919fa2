-- Scenarios and explanations.
--
-- * scenario_plan.method also allows 'elasticity' (heuristic multipliers
--   with the series' own learned price elasticity). SQLite cannot alter a
--   CHECK constraint, so the table is rebuilt.
-- * Listing orders by (created_at, id): one index answers it.
-- * forecast_explanation records which horizon step was explained, the
--   forecast date, and the base value (bias) the driver contributions are
--   added to.

CREATE TABLE scenario_plan_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    scenario_id        VARCHAR(32) NOT NULL,
    name               VARCHAR(200) NOT NULL,
    store_id           INTEGER NOT NULL,
    product_id         INTEGER NOT NULL,
    run_id             VARCHAR(32) NOT NULL,
    horizon            INTEGER NOT NULL,
    assumptions        TEXT NOT NULL,
    comparison         TEXT NOT NULL,
    method             VARCHAR(20) NOT NULL,
    tags               TEXT NOT NULL DEFAULT '[]',
    cloned_from        VARCHAR(32),
    source             VARCHAR(16) NOT NULL DEFAULT 'user',
    agent_session_id   VARCHAR(32),
    approved_by        VARCHAR(120),
    approved_at        TEXT,
    approval_decision  VARCHAR(16),
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    CONSTRAINT ck_scenario_plan_method CHECK (method IN ('heuristic','model_exogenous','elasticity')),
    CONSTRAINT ck_scenario_plan_source CHECK (source IN ('user','agent')),
    CONSTRAINT ck_scenario_plan_approval_decision CHECK (approval_decision IS NULL OR approval_decision IN ('approved','rejected'))
);
INSERT INTO scenario_plan_new
SELECT id, scenario_id, name, store_id, product_id, run_id, horizon, assumptions, comparison,
       method, tags, cloned_from, source, agent_session_id, approved_by, approved_at,
       approval_decision, created_at, updated_at
FROM scenario_plan;
DROP TABLE scenario_plan;
ALTER TABLE scenario_plan_new RENAME TO scenario_plan;

CREATE UNIQUE INDEX ix_scenario_plan_scenario_id ON scenario_plan (scenario_id);
CREATE INDEX ix_scenario_plan_store_id ON scenario_plan (store_id);
CREATE INDEX ix_scenario_plan_product_id ON scenario_plan (product_id);
CREATE INDEX ix_scenario_plan_run_id ON scenario_plan (run_id);
CREATE INDEX ix_scenario_plan_source ON scenario_plan (source);
CREATE INDEX ix_scenario_plan_series ON scenario_plan (store_id, product_id);
CREATE INDEX ix_scenario_plan_created ON scenario_plan (created_at, id);

ALTER TABLE forecast_explanation ADD COLUMN step INTEGER NOT NULL DEFAULT 1;
ALTER TABLE forecast_explanation ADD COLUMN forecast_date DATE;
ALTER TABLE forecast_explanation ADD COLUMN base_value DOUBLE PRECISION;
