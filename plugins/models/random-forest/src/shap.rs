//! TreeSHAP over the forest. smartcore keeps its trees private but
//! serialises them, so the node layout is read from that serialisation
//! (the crate version is pinned, and a layout it cannot read is an error,
//! not a wrong answer); the training rows that reached each node (the
//! cover TreeSHAP weighs branches by), which smartcore does not keep, are
//! counted once at fit time by routing the training rows through the trees.

use forecastlab_core::{
    tree_shap::{self, ShapNode, ShapTree},
    CoreError,
};
use serde::{Deserialize, Serialize};

/// The part of smartcore's serialised forest TreeSHAP reads.
#[derive(Deserialize)]
struct SerializedForest {
    forest_regressor: Option<SerializedTrees>,
}

#[derive(Deserialize)]
struct SerializedTrees {
    trees: Option<Vec<SerializedTree>>,
}

#[derive(Deserialize)]
struct SerializedTree {
    nodes: Vec<SerializedNode>,
}

/// A node as smartcore writes it: a row goes to `true_child` when its value
/// of `split_feature` is `<= split_value`, else to `false_child`.
#[derive(Deserialize)]
struct SerializedNode {
    output: f64,
    split_feature: usize,
    split_value: Option<f64>,
    true_child: Option<usize>,
    false_child: Option<usize>,
}

fn layout_error(detail: impl std::fmt::Display) -> CoreError {
    CoreError::Artifact(format!("random_forest trees: {detail}"))
}

/// The nodes of every tree of `forest` (smartcore's fitted forest).
fn tree_nodes(forest: &impl Serialize) -> Result<Vec<Vec<SerializedNode>>, CoreError> {
    let value = serde_json::to_value(forest).map_err(layout_error)?;
    let parsed: SerializedForest = serde_json::from_value(value).map_err(layout_error)?;
    let trees = parsed
        .forest_regressor
        .and_then(|f| f.trees)
        .ok_or_else(|| layout_error("the forest is not fitted"))?;
    Ok(trees.into_iter().map(|tree| tree.nodes).collect())
}

/// The child `row` goes to from `node` (`None` on a leaf), as smartcore
/// routes it (a missing threshold compares false).
fn next(node: &SerializedNode, row: &[f64]) -> Option<usize> {
    let (yes, no) = node.true_child.zip(node.false_child)?;
    let value = row.get(node.split_feature)?;
    Some(if *value <= node.split_value.unwrap_or(f64::NAN) {
        yes
    } else {
        no
    })
}

/// Training rows through each node of each tree: `x` is the row-major
/// (missing values filled) matrix the forest was fitted on.
pub(crate) fn covers(
    forest: &impl Serialize,
    x: &[f64],
    n_cols: usize,
) -> Result<Vec<Vec<u32>>, CoreError> {
    let trees = tree_nodes(forest)?;
    Ok(trees
        .iter()
        .map(|nodes| {
            let mut counts = vec![0_u32; nodes.len()];
            for row in x.chunks_exact(n_cols) {
                let mut index = 0;
                loop {
                    counts[index] += 1;
                    match nodes.get(index).and_then(|node| next(node, row)) {
                        Some(child) if child < nodes.len() => index = child,
                        _ => break,
                    }
                }
            }
            counts
        })
        .collect())
}

/// `(expected value, one SHAP value per column)` of the filled `row`.
pub(crate) fn shap_values(
    forest: &impl Serialize,
    covers: &[Vec<u32>],
    row: &[f64],
) -> Result<(f64, Vec<f64>), CoreError> {
    let trees = tree_nodes(forest)?;
    if trees.len() != covers.len() {
        return Err(layout_error("covers do not match the trees"));
    }
    let shap_trees = trees
        .into_iter()
        .zip(covers)
        .map(|(nodes, counts)| {
            if nodes.len() != counts.len() {
                return Err(layout_error("covers do not match the nodes"));
            }
            let nodes = nodes
                .into_iter()
                .zip(counts)
                .map(|(node, &cover)| ShapNode {
                    feature: node.split_feature,
                    threshold: node.split_value.unwrap_or(f64::NAN),
                    left: node.true_child,
                    right: node.false_child,
                    value: node.output,
                    cover: f64::from(cover),
                })
                .collect();
            ShapTree::new(nodes).ok_or_else(|| layout_error("a node no training row reached"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(tree_shap::forest_shap_values(&shap_trees, row))
}
