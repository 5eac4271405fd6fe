//! Integration tests of `ferrio-protocol`: the golden wire vectors shared
//! with the JS client (`tests/vectors/*.json`) and property tests.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns should fail loudly on a malformed vector"
)]

mod properties;
mod vectors;
