-- One series' rows (store, product, date range) are read by every train,
-- predict and backtest; with only (store_id) indexed, the read scanned the
-- whole store's rows and filtered them. The composite index finds the
-- series directly, in date order, and serves every lookup by store alone as
-- well, so the single-column index it replaces is dropped.
CREATE INDEX ix_sales_daily_series ON sales_daily (store_id, product_id, date);
DROP INDEX ix_sales_daily_store_id;
