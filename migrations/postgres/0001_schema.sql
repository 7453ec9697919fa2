-- ForecastLab schema (PostgreSQL). Mirrors migrations/sqlite/0001_schema.sql.

-- Dimensions ---------------------------------------------------------------

CREATE TABLE store (
    id          SERIAL PRIMARY KEY,
    code        VARCHAR(20)  NOT NULL,
    name        VARCHAR(100) NOT NULL,
    region      VARCHAR(50),
    city        VARCHAR(50),
    store_type  VARCHAR(30),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ix_store_code ON store (code);

CREATE TABLE product (
    id                SERIAL PRIMARY KEY,
    sku               VARCHAR(50)  NOT NULL,
    name              VARCHAR(200) NOT NULL,
    category          VARCHAR(100),
    brand             VARCHAR(100),
    base_price        NUMERIC(10,2),
    base_cost         NUMERIC(10,2),
    lifecycle_stage   VARCHAR(20),
    launch_date       DATE,
    discontinue_date  DATE,
    pack_size         INTEGER,
    subcategory       VARCHAR(100),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_product_lifecycle_stage_allowlist CHECK (lifecycle_stage IS NULL OR lifecycle_stage IN ('intro','growth','maturity','decline','discontinued')),
    CONSTRAINT ck_product_lifecycle_dates_order CHECK (discontinue_date IS NULL OR launch_date IS NULL OR discontinue_date >= launch_date),
    CONSTRAINT ck_product_pack_size_positive CHECK (pack_size IS NULL OR pack_size > 0)
);
CREATE UNIQUE INDEX ix_product_sku ON product (sku);
CREATE INDEX ix_product_category ON product (category);
CREATE INDEX ix_product_subcategory ON product (subcategory);

CREATE TABLE calendar (
    date          DATE PRIMARY KEY,
    day_of_week   INTEGER NOT NULL,
    month         INTEGER NOT NULL,
    quarter       INTEGER NOT NULL,
    year          INTEGER NOT NULL,
    is_holiday    BOOLEAN NOT NULL,
    holiday_name  VARCHAR(100),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_calendar_day_of_week CHECK (day_of_week BETWEEN 0 AND 6),
    CONSTRAINT ck_calendar_month CHECK (month BETWEEN 1 AND 12),
    CONSTRAINT ck_calendar_quarter CHECK (quarter BETWEEN 1 AND 4)
);
CREATE INDEX ix_calendar_year ON calendar (year);

-- Facts --------------------------------------------------------------------

CREATE TABLE sales_daily (
    id            SERIAL PRIMARY KEY,
    date          DATE    NOT NULL REFERENCES calendar (date),
    store_id      INTEGER NOT NULL REFERENCES store (id),
    product_id    INTEGER NOT NULL REFERENCES product (id),
    quantity      INTEGER NOT NULL,
    unit_price    NUMERIC(10,2) NOT NULL,
    total_amount  NUMERIC(12,2) NOT NULL,
    channel       VARCHAR(20) NOT NULL DEFAULT 'in_store',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_sales_daily_grain UNIQUE (date, store_id, product_id),
    CONSTRAINT ck_sales_daily_quantity_positive CHECK (quantity >= 0),
    CONSTRAINT ck_sales_daily_price_positive CHECK (unit_price >= 0),
    CONSTRAINT ck_sales_daily_amount_positive CHECK (total_amount >= 0),
    CONSTRAINT ck_sales_daily_channel_allowlist CHECK (channel IN ('in_store','online','click_collect','wholesale'))
);
CREATE INDEX ix_sales_daily_store_id ON sales_daily (store_id);
CREATE INDEX ix_sales_daily_product_id ON sales_daily (product_id);
CREATE INDEX ix_sales_daily_date_store ON sales_daily (date, store_id);
CREATE INDEX ix_sales_daily_date_product ON sales_daily (date, product_id);
CREATE INDEX ix_sales_daily_date_channel ON sales_daily (date, channel);

CREATE TABLE price_history (
    id          SERIAL PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES product (id),
    store_id    INTEGER REFERENCES store (id),
    price       NUMERIC(10,2) NOT NULL,
    valid_from  DATE NOT NULL,
    valid_to    DATE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_price_history_price_positive CHECK (price >= 0),
    CONSTRAINT ck_price_history_valid_dates CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX ix_price_history_product_id ON price_history (product_id);
CREATE INDEX ix_price_history_store_id ON price_history (store_id);
CREATE INDEX ix_price_history_valid_from ON price_history (valid_from);
CREATE INDEX ix_price_history_product_validity ON price_history (product_id, valid_from, valid_to);

CREATE TABLE promotion (
    id                         SERIAL PRIMARY KEY,
    product_id                 INTEGER NOT NULL REFERENCES product (id),
    store_id                   INTEGER REFERENCES store (id),
    name                       VARCHAR(200) NOT NULL,
    discount_pct               NUMERIC(5,4),
    discount_amount            NUMERIC(10,2),
    start_date                 DATE NOT NULL,
    end_date                   DATE NOT NULL,
    kind                       VARCHAR(20) NOT NULL DEFAULT 'pct_off',
    bundle_member_product_ids  JSONB,
    created_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_promotion_discount_pct_range CHECK (discount_pct IS NULL OR (discount_pct >= 0 AND discount_pct <= 1)),
    CONSTRAINT ck_promotion_discount_amount_positive CHECK (discount_amount IS NULL OR discount_amount >= 0),
    CONSTRAINT ck_promotion_valid_dates CHECK (end_date >= start_date),
    CONSTRAINT ck_promotion_kind_allowlist CHECK (kind IN ('pct_off','bogo','bundle','markdown')),
    CONSTRAINT ck_promotion_bundle_members_consistency CHECK (
        (kind IN ('bundle','bogo') AND bundle_member_product_ids IS NOT NULL)
        OR (kind NOT IN ('bundle','bogo') AND bundle_member_product_ids IS NULL))
);
CREATE INDEX ix_promotion_product_id ON promotion (product_id);
CREATE INDEX ix_promotion_store_id ON promotion (store_id);
CREATE INDEX ix_promotion_start_date ON promotion (start_date);
CREATE INDEX ix_promotion_product_dates ON promotion (product_id, start_date, end_date);

CREATE TABLE inventory_snapshot_daily (
    id            SERIAL PRIMARY KEY,
    date          DATE    NOT NULL REFERENCES calendar (date),
    store_id      INTEGER NOT NULL REFERENCES store (id),
    product_id    INTEGER NOT NULL REFERENCES product (id),
    on_hand_qty   INTEGER NOT NULL,
    on_order_qty  INTEGER NOT NULL,
    is_stockout   BOOLEAN NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_inventory_snapshot_daily_grain UNIQUE (date, store_id, product_id),
    CONSTRAINT ck_inventory_on_hand_positive CHECK (on_hand_qty >= 0),
    CONSTRAINT ck_inventory_on_order_positive CHECK (on_order_qty >= 0)
);
CREATE INDEX ix_inventory_snapshot_daily_store_id ON inventory_snapshot_daily (store_id);
CREATE INDEX ix_inventory_snapshot_daily_product_id ON inventory_snapshot_daily (product_id);
CREATE INDEX ix_inventory_snapshot_date_store ON inventory_snapshot_daily (date, store_id);
CREATE INDEX ix_inventory_snapshot_grain_latest ON inventory_snapshot_daily (store_id, product_id, date DESC);

CREATE TABLE exogenous_signal (
    id           BIGSERIAL PRIMARY KEY,
    date         DATE NOT NULL REFERENCES calendar (date),
    signal_name  VARCHAR(50) NOT NULL,
    store_id     INTEGER REFERENCES store (id),
    is_global    BOOLEAN NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_exogenous_signal_global_consistency CHECK ((is_global AND store_id IS NULL) OR (NOT is_global AND store_id IS NOT NULL))
);
CREATE INDEX ix_exogenous_signal_date ON exogenous_signal (date);
CREATE INDEX ix_exogenous_signal_signal_name ON exogenous_signal (signal_name);
CREATE INDEX ix_exogenous_signal_store_id ON exogenous_signal (store_id);
CREATE INDEX ix_exogenous_signal_name_date ON exogenous_signal (signal_name, date);
CREATE UNIQUE INDEX uq_exogenous_signal_global ON exogenous_signal (date, signal_name) WHERE is_global = true;
CREATE UNIQUE INDEX uq_exogenous_signal_per_store ON exogenous_signal (date, signal_name, store_id) WHERE is_global = false;

CREATE TABLE sales_returns (
    id               BIGSERIAL PRIMARY KEY,
    date             DATE    NOT NULL REFERENCES calendar (date),
    store_id         INTEGER NOT NULL REFERENCES store (id),
    product_id       INTEGER NOT NULL REFERENCES product (id),
    return_quantity  INTEGER NOT NULL,
    return_reason    VARCHAR(50) NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_sales_returns_quantity_positive CHECK (return_quantity >= 1)
);
CREATE INDEX ix_sales_returns_date ON sales_returns (date);
CREATE INDEX ix_sales_returns_store_id ON sales_returns (store_id);
CREATE INDEX ix_sales_returns_product_id ON sales_returns (product_id);
CREATE INDEX ix_sales_returns_store_product_date ON sales_returns (store_id, product_id, date);

CREATE TABLE replenishment_event (
    id              BIGSERIAL PRIMARY KEY,
    date            DATE    NOT NULL REFERENCES calendar (date),
    store_id        INTEGER NOT NULL REFERENCES store (id),
    product_id      INTEGER NOT NULL REFERENCES product (id),
    lead_time_days  INTEGER NOT NULL,
    ordered_qty     INTEGER NOT NULL,
    received_qty    INTEGER NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_replenishment_lead_time_positive CHECK (lead_time_days >= 0),
    CONSTRAINT ck_replenishment_ordered_positive CHECK (ordered_qty >= 0),
    CONSTRAINT ck_replenishment_received_positive CHECK (received_qty >= 0),
    CONSTRAINT ck_replenishment_received_le_ordered CHECK (received_qty <= ordered_qty)
);
CREATE INDEX ix_replenishment_event_date ON replenishment_event (date);
CREATE INDEX ix_replenishment_event_store_id ON replenishment_event (store_id);
CREATE INDEX ix_replenishment_event_product_id ON replenishment_event (product_id);
CREATE INDEX ix_replenishment_event_store_product_date ON replenishment_event (store_id, product_id, date);

-- Models, registry and jobs -------------------------------------------------

CREATE TABLE model_run (
    id                   SERIAL PRIMARY KEY,
    run_id               VARCHAR(32) NOT NULL,
    status               VARCHAR(20) NOT NULL DEFAULT 'pending',
    model_type           VARCHAR(50) NOT NULL,
    model_config         JSONB NOT NULL,
    feature_config       JSONB,
    config_hash          VARCHAR(16) NOT NULL,
    data_window_start    DATE NOT NULL,
    data_window_end      DATE NOT NULL,
    store_id             INTEGER NOT NULL,
    product_id           INTEGER NOT NULL,
    metrics              JSONB,
    artifact_uri         VARCHAR(500),
    artifact_hash        VARCHAR(64),
    artifact_size_bytes  INTEGER,
    runtime_info         JSONB,
    agent_context        JSONB,
    git_sha              VARCHAR(40),
    error_message        VARCHAR(2000),
    started_at           TIMESTAMPTZ,
    completed_at         TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_model_run_status CHECK (status IN ('pending','running','success','failed','archived')),
    CONSTRAINT ck_model_run_data_window CHECK (data_window_end >= data_window_start)
);
CREATE UNIQUE INDEX ix_model_run_run_id ON model_run (run_id);
CREATE INDEX ix_model_run_status ON model_run (status);
CREATE INDEX ix_model_run_model_type ON model_run (model_type);
CREATE INDEX ix_model_run_config_hash ON model_run (config_hash);
CREATE INDEX ix_model_run_store_id ON model_run (store_id);
CREATE INDEX ix_model_run_product_id ON model_run (product_id);
CREATE INDEX ix_model_run_store_product ON model_run (store_id, product_id);
CREATE INDEX ix_model_run_data_window ON model_run (data_window_start, data_window_end);
CREATE INDEX ix_model_run_model_config_gin ON model_run USING GIN (model_config);
CREATE INDEX ix_model_run_metrics_gin ON model_run USING GIN (metrics);

CREATE TABLE deployment_alias (
    id           SERIAL PRIMARY KEY,
    alias_name   VARCHAR(100) NOT NULL,
    run_id       INTEGER NOT NULL REFERENCES model_run (id),
    description  VARCHAR(500),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_deployment_alias_name UNIQUE (alias_name)
);
CREATE INDEX ix_deployment_alias_run_id ON deployment_alias (run_id);

CREATE TABLE job (
    id             SERIAL PRIMARY KEY,
    job_id         VARCHAR(32) NOT NULL,
    job_type       VARCHAR(20) NOT NULL,
    status         VARCHAR(20) NOT NULL DEFAULT 'pending',
    params         JSONB NOT NULL,
    result         JSONB,
    error_message  VARCHAR(2000),
    error_type     VARCHAR(100),
    started_at     TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ,
    run_id         VARCHAR(32),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_job_type CHECK (job_type IN ('train','predict','backtest')),
    CONSTRAINT ck_job_status CHECK (status IN ('pending','running','completed','failed','cancelled'))
);
CREATE UNIQUE INDEX ix_job_job_id ON job (job_id);
CREATE INDEX ix_job_job_type ON job (job_type);
CREATE INDEX ix_job_status ON job (status);
CREATE INDEX ix_job_run_id ON job (run_id);
CREATE INDEX ix_job_type_status ON job (job_type, status);
CREATE INDEX ix_job_params_gin ON job USING GIN (params);
CREATE INDEX ix_job_result_gin ON job USING GIN (result);

CREATE TABLE batch_job (
    id                      SERIAL PRIMARY KEY,
    batch_id                VARCHAR(32) NOT NULL,
    operation               VARCHAR(30) NOT NULL,
    scope                   JSONB NOT NULL,
    model_configs           JSONB NOT NULL,
    status                  VARCHAR(20) NOT NULL,
    total_items             INTEGER NOT NULL DEFAULT 0,
    completed_items         INTEGER NOT NULL DEFAULT 0,
    failed_items            INTEGER NOT NULL DEFAULT 0,
    running_items           INTEGER NOT NULL DEFAULT 0,
    cancelled_items         INTEGER NOT NULL DEFAULT 0,
    max_parallel            INTEGER NOT NULL DEFAULT 4,
    default_child_priority  SMALLINT NOT NULL DEFAULT 0,
    params                  JSONB NOT NULL,
    result_summary          JSONB,
    started_at              TIMESTAMPTZ,
    completed_at            TIMESTAMPTZ,
    created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_batch_job_operation CHECK (operation IN ('train','predict','backtest','train_backtest_register')),
    CONSTRAINT ck_batch_job_status CHECK (status IN ('pending','running','completed','failed','partial','cancelled')),
    CONSTRAINT ck_batch_job_priority CHECK (default_child_priority BETWEEN -1 AND 2)
);
CREATE UNIQUE INDEX ix_batch_job_batch_id ON batch_job (batch_id);
CREATE INDEX ix_batch_job_operation ON batch_job (operation);
CREATE INDEX ix_batch_job_status ON batch_job (status);
CREATE INDEX ix_batch_job_status_created ON batch_job (status, created_at);

CREATE TABLE batch_job_item (
    id             SERIAL PRIMARY KEY,
    item_id        VARCHAR(32) NOT NULL,
    batch_id       VARCHAR(32) NOT NULL REFERENCES batch_job (batch_id) ON DELETE CASCADE,
    store_id       INTEGER NOT NULL,
    product_id     INTEGER NOT NULL,
    model_type     VARCHAR(30) NOT NULL,
    status         VARCHAR(20) NOT NULL,
    priority       SMALLINT NOT NULL DEFAULT 0,
    params         JSONB NOT NULL,
    metrics        JSONB,
    child_job_id   VARCHAR(32),
    child_run_id   VARCHAR(32),
    error_message  VARCHAR(2000),
    error_type     VARCHAR(100),
    started_at     TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ,
    duration_ms    INTEGER,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_batch_job_item_status CHECK (status IN ('pending','running','completed','failed','cancelled')),
    CONSTRAINT ck_batch_job_item_priority CHECK (priority BETWEEN -1 AND 2)
);
CREATE UNIQUE INDEX ix_batch_job_item_item_id ON batch_job_item (item_id);
CREATE INDEX ix_batch_job_item_batch_id ON batch_job_item (batch_id);
CREATE INDEX ix_batch_job_item_store_id ON batch_job_item (store_id);
CREATE INDEX ix_batch_job_item_product_id ON batch_job_item (product_id);
CREATE INDEX ix_batch_job_item_status ON batch_job_item (status);
CREATE INDEX ix_batch_job_item_child_job_id ON batch_job_item (child_job_id);
CREATE INDEX ix_batch_job_item_child_run_id ON batch_job_item (child_run_id);
CREATE INDEX ix_batch_job_item_batch_status ON batch_job_item (batch_id, status);
CREATE INDEX ix_batch_job_item_picker ON batch_job_item (batch_id, status, priority, created_at) WHERE status = 'pending';

CREATE TABLE model_selection_run (
    id                     SERIAL PRIMARY KEY,
    selection_id           VARCHAR(32) NOT NULL,
    store_id               INTEGER NOT NULL,
    product_id             INTEGER NOT NULL,
    start_date             DATE NOT NULL,
    end_date               DATE NOT NULL,
    forecast_horizon       INTEGER NOT NULL,
    ranking_metric         VARCHAR(20) NOT NULL,
    status                 VARCHAR(20) NOT NULL,
    candidate_models       JSONB NOT NULL,
    policy_snapshot        JSONB NOT NULL,
    availability_snapshot  JSONB,
    ranking_result         JSONB,
    candidate_results      JSONB,
    chart_data             JSONB,
    winner_metrics         JSONB,
    forecast_result        JSONB,
    business_summary       JSONB,
    promotion_decision     JSONB,
    winner_model_type      VARCHAR(40),
    final_model_path       VARCHAR(512),
    error_message          VARCHAR(2000),
    started_at             TIMESTAMPTZ,
    completed_at           TIMESTAMPTZ,
    total_candidates       INTEGER NOT NULL DEFAULT 0,
    completed_candidates   INTEGER NOT NULL DEFAULT 0,
    failed_candidates      INTEGER NOT NULL DEFAULT 0,
    cancelled_candidates   INTEGER NOT NULL DEFAULT 0,
    trained_model_type     VARCHAR(40),
    is_override            BOOLEAN NOT NULL DEFAULT false,
    override_reason        VARCHAR(2000),
    champion_run_id        VARCHAR(32),
    promoted_alias         VARCHAR(100),
    feature_frame_version  INTEGER NOT NULL DEFAULT 1,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_model_selection_run_status CHECK (status IN ('pending','running','completed','partial','failed','cancelled'))
);
CREATE UNIQUE INDEX ix_model_selection_run_selection_id ON model_selection_run (selection_id);
CREATE INDEX ix_model_selection_run_store_id ON model_selection_run (store_id);
CREATE INDEX ix_model_selection_run_product_id ON model_selection_run (product_id);
CREATE INDEX ix_model_selection_run_status ON model_selection_run (status);
CREATE INDEX ix_model_selection_run_series_created ON model_selection_run (store_id, product_id, created_at);
CREATE INDEX ix_model_selection_run_status_created ON model_selection_run (status, created_at);

CREATE TABLE model_selection_candidate (
    id             SERIAL PRIMARY KEY,
    candidate_id   VARCHAR(32) NOT NULL,
    selection_id   VARCHAR(32) NOT NULL REFERENCES model_selection_run (selection_id) ON DELETE CASCADE,
    ordinal        INTEGER NOT NULL,
    model_type     VARCHAR(40) NOT NULL,
    params         JSONB NOT NULL,
    status         VARCHAR(20) NOT NULL,
    result         JSONB,
    error_message  VARCHAR(2000),
    error_type     VARCHAR(100),
    started_at     TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ,
    duration_ms    INTEGER,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_model_selection_candidate_status CHECK (status IN ('pending','running','completed','failed','cancelled'))
);
CREATE UNIQUE INDEX ix_model_selection_candidate_candidate_id ON model_selection_candidate (candidate_id);
CREATE INDEX ix_model_selection_candidate_selection_id ON model_selection_candidate (selection_id);
CREATE INDEX ix_model_selection_candidate_status ON model_selection_candidate (status);
CREATE INDEX ix_model_selection_candidate_selection_status ON model_selection_candidate (selection_id, status);

CREATE TABLE forecast_explanation (
    id              SERIAL PRIMARY KEY,
    explanation_id  VARCHAR(32) NOT NULL,
    run_id          VARCHAR(32),
    job_id          VARCHAR(32),
    store_id        INTEGER NOT NULL,
    product_id      INTEGER NOT NULL,
    model_type      VARCHAR(50) NOT NULL,
    method          VARCHAR(20) NOT NULL,
    as_of_date      DATE NOT NULL,
    forecast_value  DOUBLE PRECISION NOT NULL,
    confidence      VARCHAR(10) NOT NULL,
    drivers         JSONB NOT NULL,
    reason_codes    JSONB NOT NULL,
    caveats         JSONB NOT NULL,
    agent_summary   VARCHAR(2000) NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_forecast_explanation_method CHECK (method IN ('rule_based','shap','component')),
    CONSTRAINT ck_forecast_explanation_confidence CHECK (confidence IN ('high','medium','low'))
);
CREATE UNIQUE INDEX ix_forecast_explanation_explanation_id ON forecast_explanation (explanation_id);
CREATE INDEX ix_forecast_explanation_run_id ON forecast_explanation (run_id);
CREATE INDEX ix_forecast_explanation_job_id ON forecast_explanation (job_id);
CREATE INDEX ix_forecast_explanation_series ON forecast_explanation (store_id, product_id);
CREATE INDEX ix_forecast_explanation_drivers_gin ON forecast_explanation USING GIN (drivers);

CREATE TABLE scenario_plan (
    id                 SERIAL PRIMARY KEY,
    scenario_id        VARCHAR(32) NOT NULL,
    name               VARCHAR(200) NOT NULL,
    store_id           INTEGER NOT NULL,
    product_id         INTEGER NOT NULL,
    run_id             VARCHAR(32) NOT NULL,
    horizon            INTEGER NOT NULL,
    assumptions        JSONB NOT NULL,
    comparison         JSONB NOT NULL,
    method             VARCHAR(20) NOT NULL,
    tags               JSONB NOT NULL DEFAULT '[]',
    cloned_from        VARCHAR(32),
    source             VARCHAR(16) NOT NULL DEFAULT 'user',
    agent_session_id   VARCHAR(32),
    approved_by        VARCHAR(120),
    approved_at        TIMESTAMPTZ,
    approval_decision  VARCHAR(16),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_scenario_plan_method CHECK (method IN ('heuristic','model_exogenous')),
    CONSTRAINT ck_scenario_plan_source CHECK (source IN ('user','agent')),
    CONSTRAINT ck_scenario_plan_approval_decision CHECK (approval_decision IS NULL OR approval_decision IN ('approved','rejected'))
);
CREATE UNIQUE INDEX ix_scenario_plan_scenario_id ON scenario_plan (scenario_id);
CREATE INDEX ix_scenario_plan_store_id ON scenario_plan (store_id);
CREATE INDEX ix_scenario_plan_product_id ON scenario_plan (product_id);
CREATE INDEX ix_scenario_plan_run_id ON scenario_plan (run_id);
CREATE INDEX ix_scenario_plan_source ON scenario_plan (source);
CREATE INDEX ix_scenario_plan_series ON scenario_plan (store_id, product_id);
CREATE INDEX ix_scenario_plan_tags_gin ON scenario_plan USING GIN (tags);

CREATE TABLE showcase_workspace (
    id                          SERIAL PRIMARY KEY,
    workspace_id                VARCHAR(32) NOT NULL,
    name                        VARCHAR(100),
    status                      VARCHAR(20) NOT NULL,
    seed                        INTEGER NOT NULL,
    scenario                    VARCHAR(40) NOT NULL,
    reset                       BOOLEAN NOT NULL,
    skip_seed                   BOOLEAN NOT NULL,
    store_id                    INTEGER,
    product_id                  INTEGER,
    date_start                  DATE,
    date_end                    DATE,
    created_objects             JSONB NOT NULL DEFAULT '{}',
    result_summary              JSONB,
    archived                    BOOLEAN NOT NULL DEFAULT false,
    pinned                      BOOLEAN NOT NULL DEFAULT false,
    notes                       TEXT,
    tags                        JSONB NOT NULL DEFAULT '[]',
    config_schema_version       INTEGER NOT NULL DEFAULT 1,
    replayed_from_workspace_id  VARCHAR(32),
    seed_overrides              JSONB,
    user_scope                  JSONB,
    approval_events             JSONB,
    rag_events                  JSONB,
    job_ids                     JSONB,
    phase_summaries             JSONB,
    run_config                  JSONB,
    created_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_showcase_workspace_status CHECK (status IN ('running','completed','failed'))
);
CREATE UNIQUE INDEX ix_showcase_workspace_workspace_id ON showcase_workspace (workspace_id);
CREATE INDEX ix_showcase_workspace_name ON showcase_workspace (name);
CREATE INDEX ix_showcase_workspace_status ON showcase_workspace (status);
CREATE INDEX ix_showcase_workspace_replayed_from ON showcase_workspace (replayed_from_workspace_id);
CREATE INDEX ix_showcase_workspace_status_created ON showcase_workspace (status, created_at);
CREATE INDEX ix_showcase_workspace_tags_gin ON showcase_workspace USING GIN (tags);

-- Knowledge, agents and runtime config --------------------------------------

CREATE TABLE document_source (
    id            SERIAL PRIMARY KEY,
    source_id     VARCHAR(32) NOT NULL,
    source_type   VARCHAR(50) NOT NULL,
    source_path   TEXT NOT NULL,
    content_hash  VARCHAR(64) NOT NULL,
    metadata      JSONB,
    indexed_at    TIMESTAMPTZ NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_source_type_path UNIQUE (source_type, source_path)
);
CREATE UNIQUE INDEX ix_document_source_source_id ON document_source (source_id);
CREATE INDEX ix_document_source_source_type ON document_source (source_type);

-- No pgvector here: embeddings are stored as little-endian f32 bytes and
-- searched in process, so retrieval works on both backends.
CREATE TABLE document_chunk (
    id           SERIAL PRIMARY KEY,
    chunk_id     VARCHAR(32) NOT NULL,
    source_id    INTEGER NOT NULL REFERENCES document_source (id) ON DELETE CASCADE,
    chunk_index  INTEGER NOT NULL,
    content      TEXT NOT NULL,
    embedding    BYTEA,
    token_count  INTEGER NOT NULL,
    metadata     JSONB,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT uq_source_chunk_index UNIQUE (source_id, chunk_index)
);
CREATE UNIQUE INDEX ix_document_chunk_chunk_id ON document_chunk (chunk_id);
CREATE INDEX ix_document_chunk_source_id ON document_chunk (source_id);
CREATE INDEX ix_chunk_metadata_gin ON document_chunk USING GIN (metadata);

CREATE TABLE agent_session (
    id                 SERIAL PRIMARY KEY,
    session_id         VARCHAR(32) NOT NULL,
    agent_type         VARCHAR(50) NOT NULL,
    status             VARCHAR(30) NOT NULL DEFAULT 'active',
    message_history    JSONB NOT NULL DEFAULT '[]',
    pending_action     JSONB,
    total_tokens_used  INTEGER NOT NULL DEFAULT 0,
    tool_calls_count   INTEGER NOT NULL DEFAULT 0,
    last_activity      TIMESTAMPTZ NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_agent_session_status CHECK (status IN ('active','awaiting_approval','expired','closed'))
);
CREATE UNIQUE INDEX ix_agent_session_session_id ON agent_session (session_id);
CREATE INDEX ix_agent_session_agent_type ON agent_session (agent_type);
CREATE INDEX ix_agent_session_status ON agent_session (status);
CREATE INDEX ix_agent_session_expires_at ON agent_session (expires_at);
CREATE INDEX ix_agent_session_history_gin ON agent_session USING GIN (message_history);

CREATE TABLE app_config (
    key         VARCHAR(100) PRIMARY KEY,
    value       JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
