//! Unit tests of the fitted model (only with the `enabled` feature): the
//! tree-model conformance suite of `forecastlab_core::testing`.

forecastlab_core::tree_model_conformance_tests!(
    crate::MODEL_TYPE,
    corrupt_payload: "fill" => serde_json::json!([1.0]),
);
