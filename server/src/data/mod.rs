//! Read models shared by several slices (series loading for features,
//! forecasting, backtesting and jobs; stores and products named in
//! requests). Each slice's own SQL stays in its `repo.rs`; only what
//! several slices read lives here.

pub mod keys;
pub mod many_series;
pub mod series;
pub mod series_data;
pub mod series_names;
