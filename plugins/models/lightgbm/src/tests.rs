//! Unit tests of the fitted model (only with the `enabled` feature): the
//! tree-model conformance suite of `forecastlab_core::testing`.

forecastlab_core::tree_model_conformance_tests!(
    crate::MODEL_TYPE,
    corrupt_payload: "model" => serde_json::json!("tree\nnonsense"),
);

#[test]
fn objectives_fit_their_statistic() {
    forecastlab_core::testing::objectives_fit_their_statistic(crate::MODEL_TYPE);
}
