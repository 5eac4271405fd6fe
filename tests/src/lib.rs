//! Shared pieces of ferrio's end-to-end tests: the conformance server's application, reused by
//! the `conformance` binary and by the in-process black-box tests.

pub mod conformance;
