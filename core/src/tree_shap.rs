//! Exact TreeSHAP (Lundberg, Erion & Lee, "Consistent Individualized
//! Feature Attribution for Tree Ensembles", 2018, Algorithm 2) over plain
//! regression trees, for ensembles whose library has no contribution
//! routine of its own.
//!
//! The values are the path-dependent Shapley values: a feature left out of
//! a coalition follows both branches of its splits, weighted by the share
//! of training rows (`cover`) that went each way. They add up exactly:
//! `expected_value + Σ φ = prediction`, where the expected value is the
//! cover-weighted mean of the leaves.

use crate::explain::{self, Driver, ExplainMethod, Explanation};

/// One node of a regression tree. A row goes to `left` when its value of
/// `feature` is `<= threshold`, else to `right`; a leaf has no children.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapNode {
    /// Split feature (column index); unused on a leaf.
    pub feature: usize,
    /// Split threshold; unused on a leaf.
    pub threshold: f64,
    /// Child for `value <= threshold` (`None` on a leaf).
    pub left: Option<usize>,
    /// Child for `value > threshold` (`None` on a leaf).
    pub right: Option<usize>,
    /// Output of the node (read on leaves).
    pub value: f64,
    /// Training rows (or their total weight) that reached the node; > 0.
    pub cover: f64,
}

impl ShapNode {
    fn children(&self) -> Option<(usize, usize)> {
        self.left.zip(self.right)
    }
}

/// A regression tree whose node 0 is the root.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapTree {
    nodes: Vec<ShapNode>,
}

/// How the walk enters a node: the split's feature (`None` at the root),
/// the share of feature-less coalitions that pass, and whether the row
/// passes (1) or not (0).
#[derive(Debug, Clone, Copy)]
struct Incoming {
    zero: f64,
    one: f64,
    feature: Option<usize>,
}

/// One element of the unique path of Algorithm 2.
#[derive(Debug, Clone, Copy)]
struct PathElement {
    /// Feature of the split that added the element (`None` for the root's).
    feature: Option<usize>,
    /// Share of the coalitions without the feature that pass.
    zero: f64,
    /// Whether the row itself passes (1) or not (0).
    one: f64,
    /// Permutation weight.
    weight: f64,
}

impl ShapTree {
    /// A tree from its nodes (root first); `None` when a child index is out
    /// of range, a node has exactly one child or a cover is not positive.
    pub fn new(nodes: Vec<ShapNode>) -> Option<Self> {
        let valid = !nodes.is_empty()
            && nodes.iter().all(|node| {
                node.cover > 0.0
                    && match (node.left, node.right) {
                        (None, None) => true,
                        (Some(l), Some(r)) => l < nodes.len() && r < nodes.len(),
                        _ => false,
                    }
            });
        valid.then_some(Self { nodes })
    }

    /// The leaf value `row` reaches.
    pub fn predict(&self, row: &[f64]) -> f64 {
        let mut node = &self.nodes[0];
        while let Some(next) = self.next(node, row) {
            node = &self.nodes[next];
        }
        node.value
    }

    /// The child `row` goes to from `node` (`None` on a leaf).
    fn next(&self, node: &ShapNode, row: &[f64]) -> Option<usize> {
        let (left, right) = node.children()?;
        Some(if row[node.feature] <= node.threshold {
            left
        } else {
            right
        })
    }

    /// The cover-weighted mean of the leaves: the prediction with no
    /// feature known, and the base value of [`ShapTree::shap_values`].
    pub fn expected_value(&self) -> f64 {
        self.expected_below(0)
    }

    fn expected_below(&self, index: usize) -> f64 {
        let node = &self.nodes[index];
        match node.children() {
            None => node.value,
            Some((left, right)) => {
                let (l, r) = (&self.nodes[left], &self.nodes[right]);
                (self.expected_below(left) * l.cover + self.expected_below(right) * r.cover)
                    / (l.cover + r.cover)
            }
        }
    }

    /// Adds the SHAP values of `row` to `phi` (one per column of `row`).
    pub fn add_shap_values(&self, row: &[f64], phi: &mut [f64]) {
        let root = Incoming {
            zero: 1.0,
            one: 1.0,
            feature: None,
        };
        self.recurse(row, phi, 0, &[], root);
    }

    /// Visits node `index` reached through `parent_path` (whose length is
    /// the node's unique depth) by the split described by `incoming`.
    fn recurse(
        &self,
        row: &[f64],
        phi: &mut [f64],
        index: usize,
        parent_path: &[PathElement],
        incoming: Incoming,
    ) {
        let mut path = Vec::with_capacity(parent_path.len() + 2);
        path.extend_from_slice(parent_path);
        extend(&mut path, incoming.zero, incoming.one, incoming.feature);
        let mut depth = parent_path.len();
        let node = &self.nodes[index];
        let Some((left, right)) = node.children() else {
            for i in 1..=depth {
                let weight = unwound_sum(&path, depth, i);
                let element = path[i];
                if let Some(f) = element.feature {
                    phi[f] += weight * (element.one - element.zero) * node.value;
                }
            }
            return;
        };
        let (hot, cold) = if row[node.feature] <= node.threshold {
            (left, right)
        } else {
            (right, left)
        };
        let (mut incoming_zero, mut incoming_one) = (1.0, 1.0);
        if let Some(k) = (1..=depth).find(|&k| path[k].feature == Some(node.feature)) {
            incoming_zero = path[k].zero;
            incoming_one = path[k].one;
            unwind(&mut path, depth, k);
            depth -= 1;
        }
        let share = |child: usize| self.nodes[child].cover / node.cover;
        let feature = Some(node.feature);
        let via_hot = Incoming {
            zero: share(hot) * incoming_zero,
            one: incoming_one,
            feature,
        };
        let via_cold = Incoming {
            zero: share(cold) * incoming_zero,
            one: 0.0,
            feature,
        };
        self.recurse(row, phi, hot, &path[..=depth], via_hot);
        self.recurse(row, phi, cold, &path[..=depth], via_cold);
    }
}

/// Appends an element to `path` (whose length is the new element's depth)
/// and updates the permutation weights.
fn extend(path: &mut Vec<PathElement>, zero: f64, one: f64, feature: Option<usize>) {
    let depth = path.len();
    path.push(PathElement {
        feature,
        zero,
        one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    });
    let d = depth as f64;
    for i in (0..depth).rev() {
        let fi = i as f64;
        path[i + 1].weight += one * path[i].weight * (fi + 1.0) / (d + 1.0);
        path[i].weight = zero * path[i].weight * (d - fi) / (d + 1.0);
    }
}

/// Removes element `k` from the first `depth + 1` elements of `path`,
/// undoing its effect on the weights.
fn unwind(path: &mut Vec<PathElement>, depth: usize, k: usize) {
    let PathElement { zero, one, .. } = path[k];
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    for i in (0..depth).rev() {
        let fi = i as f64;
        if one != 0.0 {
            let kept = path[i].weight;
            path[i].weight = next_one * (d + 1.0) / ((fi + 1.0) * one);
            next_one = kept - path[i].weight * zero * (d - fi) / (d + 1.0);
        } else {
            path[i].weight = path[i].weight * (d + 1.0) / (zero * (d - fi));
        }
    }
    for i in k..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
    path.truncate(depth);
}

/// Total permutation weight of the path without element `k`.
fn unwound_sum(path: &[PathElement], depth: usize, k: usize) -> f64 {
    let PathElement { zero, one, .. } = path[k];
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        let fi = i as f64;
        if one != 0.0 {
            let part = next_one * (d + 1.0) / ((fi + 1.0) * one);
            total += part;
            next_one = path[i].weight - part * zero * (d - fi) / (d + 1.0);
        } else {
            total += path[i].weight / zero / ((d - fi) / (d + 1.0));
        }
    }
    total
}

/// SHAP values of an equally weighted ensemble (a random forest's mean):
/// `(expected value, one value per column)`.
pub fn forest_shap_values(trees: &[ShapTree], row: &[f64]) -> (f64, Vec<f64>) {
    let mut phi = vec![0.0; row.len()];
    if trees.is_empty() {
        return (0.0, phi);
    }
    for tree in trees {
        tree.add_shap_values(row, &mut phi);
    }
    let n = trees.len() as f64;
    phi.iter_mut().for_each(|v| *v /= n);
    let expected = trees.iter().map(ShapTree::expected_value).sum::<f64>() / n;
    (expected, phi)
}

/// A tree model's explanation from per-column SHAP values: one driver per
/// column (named after it, grouped by [`explain::feature_group`], with the
/// value it read), `base_value` the model's expected value.
pub fn shap_explanation(
    columns: &[String],
    values: &[f64],
    contributions: &[f64],
    base_value: f64,
    prediction: f64,
) -> Explanation {
    let drivers = columns
        .iter()
        .zip(values)
        .zip(contributions)
        .map(|((name, &value), &contribution)| {
            Driver::new(
                name.as_str(),
                explain::feature_group(name),
                value.is_finite().then_some(value),
                contribution,
                format!("SHAP value of {name}: {contribution:+.3}"),
            )
        })
        .collect();
    Explanation {
        method: ExplainMethod::Shap,
        prediction,
        base_value,
        drivers,
        confidence: None,
        history_needed: 30,
        caveat: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(value: f64, cover: f64) -> ShapNode {
        ShapNode {
            feature: 0,
            threshold: 0.0,
            left: None,
            right: None,
            value,
            cover,
        }
    }

    fn split(feature: usize, threshold: f64, children: (usize, usize), cover: f64) -> ShapNode {
        ShapNode {
            feature,
            threshold,
            left: Some(children.0),
            right: Some(children.1),
            value: 0.0,
            cover,
        }
    }

    /// A depth-3 tree over 3 features that splits on feature 0 twice on
    /// one path (the case that exercises `unwind`).
    fn tree() -> ShapTree {
        ShapTree::new(vec![
            split(0, 0.5, (1, 2), 100.0),
            split(1, 1.0, (3, 4), 60.0),
            split(2, 0.0, (5, 6), 40.0),
            split(0, 0.2, (7, 8), 35.0),
            leaf(7.0, 25.0),
            leaf(-3.0, 10.0),
            leaf(12.0, 30.0),
            leaf(1.0, 20.0),
            leaf(4.0, 15.0),
        ])
        .unwrap()
    }

    /// E[f(x) | x_S] under the cover distribution (Algorithm 1).
    fn conditional(tree: &ShapTree, row: &[f64], known: &[bool], index: usize) -> f64 {
        let node = &tree.nodes[index];
        match node.children() {
            None => node.value,
            Some((left, right)) if known[node.feature] => {
                let next = if row[node.feature] <= node.threshold {
                    left
                } else {
                    right
                };
                conditional(tree, row, known, next)
            }
            Some((left, right)) => {
                let (l, r) = (tree.nodes[left].cover, tree.nodes[right].cover);
                (conditional(tree, row, known, left) * l + conditional(tree, row, known, right) * r)
                    / (l + r)
            }
        }
    }

    fn factorial(n: usize) -> f64 {
        (1..=n).map(|k| k as f64).product()
    }

    /// Shapley values by enumerating every coalition.
    fn brute_force(tree: &ShapTree, row: &[f64]) -> Vec<f64> {
        let m = row.len();
        (0..m)
            .map(|i| {
                let mut phi = 0.0;
                for mask in 0..(1_usize << m) {
                    if mask & (1 << i) != 0 {
                        continue;
                    }
                    let mut known: Vec<bool> = (0..m).map(|j| mask & (1 << j) != 0).collect();
                    let size = known.iter().filter(|&&k| k).count();
                    let weight = factorial(size) * factorial(m - size - 1) / factorial(m);
                    let without = conditional(tree, row, &known, 0);
                    known[i] = true;
                    phi += weight * (conditional(tree, row, &known, 0) - without);
                }
                phi
            })
            .collect()
    }

    #[test]
    fn matches_brute_force_shapley_values_on_every_path() {
        let tree = tree();
        for row in [
            [0.1, 0.5, -1.0],
            [0.3, 2.0, 1.0],
            [0.9, 0.0, -0.5],
            [0.7, 3.0, 0.5],
            [0.0, 1.0, 0.0],
        ] {
            let mut phi = vec![0.0; 3];
            tree.add_shap_values(&row, &mut phi);
            let expected = brute_force(&tree, &row);
            for (got, want) in phi.iter().zip(&expected) {
                assert!((got - want).abs() < 1e-12, "{phi:?} vs {expected:?}");
            }
        }
    }

    #[test]
    fn values_add_up_to_the_prediction() {
        let tree = tree();
        let row = [0.3, 0.4, 2.0];
        let mut phi = vec![0.0; 3];
        tree.add_shap_values(&row, &mut phi);
        let total = tree.expected_value() + phi.iter().sum::<f64>();
        assert!((total - tree.predict(&row)).abs() < 1e-12);
        assert_eq!(tree.predict(&row), 4.0);
        // A feature the tree never splits on gets nothing.
        let (base, forest_phi) = forest_shap_values(&[tree.clone(), tree], &[0.3, 0.4, 2.0, 9.0]);
        assert_eq!(forest_phi[3], 0.0);
        assert!((base + forest_phi.iter().sum::<f64>() - 4.0).abs() < 1e-12);
    }

    #[test]
    fn expected_value_is_the_cover_weighted_leaf_mean() {
        let tree = tree();
        let want = (7.0 * 25.0 - 3.0 * 10.0 + 12.0 * 30.0 + 1.0 * 20.0 + 4.0 * 15.0) / 100.0;
        assert!((tree.expected_value() - want).abs() < 1e-12);
        // A single leaf explains nothing.
        let stump = ShapTree::new(vec![leaf(5.0, 1.0)]).unwrap();
        let mut phi = vec![0.0; 2];
        stump.add_shap_values(&[1.0, 2.0], &mut phi);
        assert_eq!(phi, vec![0.0, 0.0]);
        assert_eq!(stump.expected_value(), 5.0);
    }

    #[test]
    fn malformed_trees_are_refused() {
        assert!(ShapTree::new(Vec::new()).is_none());
        assert!(ShapTree::new(vec![split(0, 0.0, (1, 5), 1.0), leaf(0.0, 1.0)]).is_none());
        assert!(ShapTree::new(vec![leaf(1.0, 0.0)]).is_none());
        let mut one_child = split(0, 0.0, (1, 1), 2.0);
        one_child.right = None;
        assert!(ShapTree::new(vec![one_child, leaf(0.0, 1.0)]).is_none());
    }

    #[test]
    fn shap_explanation_adds_up() {
        let columns = vec!["lag_7".to_owned(), "price".to_owned()];
        let e = shap_explanation(&columns, &[3.0, f64::NAN], &[1.5, -0.5], 10.0, 11.0);
        assert_eq!(e.method, ExplainMethod::Shap);
        assert!(e.check_additive(1e-12).is_ok());
        assert_eq!(e.drivers[1].feature_value, None);
        assert_eq!(e.drivers[0].feature_value, Some(3.0));
    }
}
