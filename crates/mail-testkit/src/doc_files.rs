//! The `rust` blocks of the repository's `docs/*.md`, compiled and run as doc tests.
