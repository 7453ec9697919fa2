//! Unit and property tests of the feature engine.
