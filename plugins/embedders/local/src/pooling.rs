//! Mean pooling and L2 normalisation, the sentence-transformers head of
//! all-MiniLM-L6-v2 (`1_Pooling/config.json`: `pooling_mode_mean_tokens`).

use forecastlab_core::CoreError;

/// Turns the encoder's token vectors into one unit-length vector per text.
///
/// `hidden` is `[batch, seq, dim]` row-major and `mask` is `[batch, seq]`
/// (1 for a real token, 0 for padding). Each text's vector is the mean of
/// its real tokens' vectors, divided by its Euclidean norm; a text with no
/// real token (never produced by the tokenizer, which adds `[CLS]` and
/// `[SEP]`) or a zero vector stays zero rather than becoming NaN.
pub fn mean_pool_normalise(
    hidden: &[f32],
    mask: &[i64],
    seq: usize,
    dim: usize,
) -> Result<Vec<Vec<f32>>, CoreError> {
    if seq == 0 || dim == 0 || !mask.len().is_multiple_of(seq) || hidden.len() != mask.len() * dim {
        return Err(CoreError::input(format!(
            "encoder output of {} values does not match a mask of {} tokens × {dim} dimensions",
            hidden.len(),
            mask.len()
        )));
    }
    Ok(hidden
        .chunks_exact(seq * dim)
        .zip(mask.chunks_exact(seq))
        .map(|(tokens, mask)| pool_one(tokens, mask, dim))
        .collect())
}

/// One text: masked mean of `tokens` (`[seq, dim]`), then L2-normalised.
fn pool_one(tokens: &[f32], mask: &[i64], dim: usize) -> Vec<f32> {
    let mut sum = vec![0.0f32; dim];
    let mut count = 0usize;
    for (token, &attended) in tokens.chunks_exact(dim).zip(mask) {
        if attended != 0 {
            count += 1;
            for (total, value) in sum.iter_mut().zip(token) {
                *total += value;
            }
        }
    }
    if count == 0 {
        return sum;
    }
    let inverse_count = 1.0 / count as f32;
    sum.iter_mut().for_each(|value| *value *= inverse_count);
    let norm = sum.iter().map(|value| value * value).sum::<f32>().sqrt();
    if norm > 0.0 {
        sum.iter_mut().for_each(|value| *value /= norm);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_only_the_attended_tokens_then_normalises() {
        // Two texts, three tokens, two dimensions; the second text has one
        // padding token whose (large) vector must be ignored.
        let hidden = [
            1.0, 0.0, 3.0, 0.0, 2.0, 0.0, // text 0: mean (2, 0)
            0.0, 3.0, 4.0, 1.0, 100.0, 100.0, // text 1: mean (2, 2)
        ];
        let mask = [1, 1, 1, 1, 1, 0];
        let vectors = mean_pool_normalise(&hidden, &mask, 3, 2).unwrap();
        assert_eq!(vectors.len(), 2);
        assert_eq!(vectors[0], vec![1.0, 0.0]);
        let half_sqrt2 = std::f32::consts::FRAC_1_SQRT_2;
        assert!((vectors[1][0] - half_sqrt2).abs() < 1e-6);
        assert!((vectors[1][1] - half_sqrt2).abs() < 1e-6);
    }

    #[test]
    fn every_vector_has_unit_length() {
        let hidden: Vec<f32> = (0..4 * 5 * 8)
            .map(|i| ((i * 37) % 11) as f32 - 5.0)
            .collect();
        let mask = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0];
        for vector in mean_pool_normalise(&hidden, &mask, 5, 8).unwrap() {
            let norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
        }
    }

    #[test]
    fn a_fully_masked_or_zero_text_stays_zero() {
        let hidden = [5.0, 5.0, 0.0, 0.0];
        let vectors = mean_pool_normalise(&hidden, &[0, 0], 1, 2).unwrap();
        assert_eq!(vectors, vec![vec![0.0, 0.0], vec![0.0, 0.0]]);
    }

    #[test]
    fn mismatched_shapes_are_an_error() {
        assert!(mean_pool_normalise(&[0.0; 5], &[1, 1], 2, 2).is_err());
        assert!(mean_pool_normalise(&[0.0; 6], &[1, 1, 1], 2, 2).is_err());
        assert!(mean_pool_normalise(&[], &[], 0, 2).is_err());
    }
}
