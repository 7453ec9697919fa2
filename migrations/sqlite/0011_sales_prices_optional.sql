-- Sales without prices: `unit_price` and `total_amount` may be NULL (a
-- price the data does not have stays missing instead of being invented).
-- The sales ingest fills an absent unit price from the product's
-- `base_price` when it has one, and an absent total from quantity × price.
-- SQLite cannot drop a NOT NULL constraint, so the table is rebuilt with
-- the same columns, ids, constraints and indexes (no table references it).
CREATE TABLE sales_daily_rebuilt (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    date          DATE    NOT NULL REFERENCES calendar (date),
    store_id      INTEGER NOT NULL REFERENCES store (id),
    product_id    INTEGER NOT NULL REFERENCES product (id),
    quantity      INTEGER NOT NULL,
    unit_price    NUMERIC(10,2),
    total_amount  NUMERIC(12,2),
    channel       VARCHAR(20) NOT NULL DEFAULT 'in_store',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    CONSTRAINT uq_sales_daily_grain UNIQUE (date, store_id, product_id),
    CONSTRAINT ck_sales_daily_quantity_positive CHECK (quantity >= 0),
    CONSTRAINT ck_sales_daily_price_positive CHECK (unit_price >= 0),
    CONSTRAINT ck_sales_daily_amount_positive CHECK (total_amount >= 0),
    CONSTRAINT ck_sales_daily_channel_allowlist CHECK (channel IN ('in_store','online','click_collect','wholesale'))
);
INSERT INTO sales_daily_rebuilt
    (id, date, store_id, product_id, quantity, unit_price, total_amount, channel, created_at, updated_at)
SELECT id, date, store_id, product_id, quantity, unit_price, total_amount, channel, created_at, updated_at
FROM sales_daily;
DROP TABLE sales_daily;
ALTER TABLE sales_daily_rebuilt RENAME TO sales_daily;
CREATE INDEX ix_sales_daily_store_id ON sales_daily (store_id);
CREATE INDEX ix_sales_daily_product_id ON sales_daily (product_id);
CREATE INDEX ix_sales_daily_date_store ON sales_daily (date, store_id);
CREATE INDEX ix_sales_daily_date_product ON sales_daily (date, product_id);
CREATE INDEX ix_sales_daily_date_channel ON sales_daily (date, channel);
CREATE INDEX ix_sales_daily_date_covering
    ON sales_daily (date, store_id, product_id, quantity, total_amount);
