-- Agents: sessions (conversation, pending human approval, token and cost
-- counters), the audit of every tool call, and the price table cost
-- accounting reads (USD per million tokens; `provider:*` rows price every
-- model of a provider that has no row of its own).

-- `agent_session` exists since the first schema; it gains the token split,
-- the cost, the per-model usage and a revision that guards concurrent
-- updates.
ALTER TABLE agent_session ALTER COLUMN total_tokens_used TYPE BIGINT;
ALTER TABLE agent_session ADD COLUMN input_tokens    BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agent_session ADD COLUMN output_tokens   BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agent_session ADD COLUMN cost_usd        DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE agent_session ADD COLUMN usage_by_model  JSONB NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE agent_session ADD COLUMN revision        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_session ADD CONSTRAINT ck_agent_session_type
    CHECK (agent_type IN ('experiment','rag_assistant'));

CREATE TABLE agent_tool_call (
    id              BIGSERIAL PRIMARY KEY,
    session_id      VARCHAR(32) NOT NULL REFERENCES agent_session (session_id) ON DELETE CASCADE,
    tool_call_id    VARCHAR(100) NOT NULL,
    tool_name       VARCHAR(100) NOT NULL,
    arguments       JSONB NOT NULL,
    status          VARCHAR(30) NOT NULL,
    result_summary  TEXT,
    duration_ms     DOUBLE PRECISION NOT NULL DEFAULT 0,
    model           VARCHAR(200),
    action_id       VARCHAR(16),
    approved_by     VARCHAR(100),
    decided_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_agent_tool_call_status CHECK (status IN
        ('ok','error','not_executed','approval_required','executed','rejected','expired'))
);
CREATE INDEX ix_agent_tool_call_session ON agent_tool_call (session_id, id);

CREATE TABLE agent_model_price (
    model                     VARCHAR(200) PRIMARY KEY,
    input_usd_per_million     DOUBLE PRECISION NOT NULL,
    output_usd_per_million    DOUBLE PRECISION NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT ck_agent_model_price_positive CHECK (input_usd_per_million >= 0 AND output_usd_per_million >= 0)
);
INSERT INTO agent_model_price (model, input_usd_per_million, output_usd_per_million) VALUES
    ('anthropic:claude-sonnet-4-5', 3.0, 15.0),
    ('anthropic:claude-haiku-4-5', 1.0, 5.0),
    ('anthropic:claude-opus-4-1', 15.0, 75.0),
    ('openai:gpt-4o', 2.5, 10.0),
    ('openai:gpt-4o-mini', 0.15, 0.6),
    ('openai:gpt-4.1', 2.0, 8.0),
    ('openai:gpt-4.1-mini', 0.4, 1.6),
    ('google-gla:gemini-2.5-flash', 0.3, 2.5),
    ('google-gla:gemini-2.5-pro', 1.25, 10.0),
    ('google-vertex:gemini-2.5-flash', 0.3, 2.5),
    ('google-vertex:gemini-2.5-pro', 1.25, 10.0),
    ('ollama:*', 0.0, 0.0);
