-- Hardening: API keys (below). The SQLite twin also adds a covering index
-- for the analytics reads.

-- API keys: `forecastlab apikey create` shows a key once; only its salted
-- SHA-256 is stored. `key_id` is the public part of the key (the lookup
-- handle), `scope` one of read, write, admin (each includes the ones
-- before it).

CREATE TABLE api_key (
    id           SERIAL PRIMARY KEY,
    key_id       VARCHAR(32) NOT NULL UNIQUE,
    name         VARCHAR(100) NOT NULL,
    scope        VARCHAR(10) NOT NULL,
    salt         VARCHAR(64) NOT NULL,
    secret_hash  VARCHAR(64) NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at   TIMESTAMPTZ,
    CONSTRAINT ck_api_key_scope CHECK (scope IN ('read','write','admin'))
);
