-- Scenarios and explanations.
--
-- * scenario_plan.method also allows 'elasticity' (heuristic multipliers
--   with the series' own learned price elasticity).
-- * Listing orders by (created_at, id): one index answers it.
-- * forecast_explanation records which horizon step was explained, the
--   forecast date, and the base value (bias) the driver contributions are
--   added to.

ALTER TABLE scenario_plan DROP CONSTRAINT ck_scenario_plan_method;
ALTER TABLE scenario_plan ADD CONSTRAINT ck_scenario_plan_method
    CHECK (method IN ('heuristic','model_exogenous','elasticity'));
CREATE INDEX ix_scenario_plan_created ON scenario_plan (created_at, id);

ALTER TABLE forecast_explanation ADD COLUMN step INTEGER NOT NULL DEFAULT 1;
ALTER TABLE forecast_explanation ADD COLUMN forecast_date DATE;
ALTER TABLE forecast_explanation ADD COLUMN base_value DOUBLE PRECISION;
