-- Sales without prices: `unit_price` and `total_amount` may be NULL (a
-- price the data does not have stays missing instead of being invented).
-- The sales ingest fills an absent unit price from the product's
-- `base_price` when it has one, and an absent total from quantity × price.
ALTER TABLE sales_daily
    ALTER COLUMN unit_price DROP NOT NULL,
    ALTER COLUMN total_amount DROP NOT NULL;
