//! Tests of the feature frames.
