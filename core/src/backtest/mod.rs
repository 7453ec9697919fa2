//! Time-series cross-validation: the splitter, horizon buckets and the
//! per-fold evaluation shared by the backtesting endpoint, background jobs
//! and benchmarks. No I/O here: callers load the series and pass closures
//! that fit and forecast one fold.

pub mod buckets;
pub mod evaluate;
pub mod splitter;

pub use buckets::HorizonBucket;
pub use evaluate::{
    bucket_metrics, evaluate_fold, evaluate_model, evaluate_models, merge_buckets, summarize,
    target_only_forecast, BucketSums, FoldOutcome, ModelOutcome, Predictor,
};
pub use splitter::{leakage_check, split, Fold, SplitSpec, SplitStrategy};
