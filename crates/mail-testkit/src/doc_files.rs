//! The `rust` blocks of the repository's `docs/*.md`, compiled and run as doc tests.
//!
//! `include_str!` of a file outside a crate's directory breaks `cargo package`, so the
//! published crates cannot host these; this crate is never published. Add one item per
//! `docs/` file that holds `rust` blocks (blocks that are not Rust are marked `text`, `sh`...).

/// `docs/ARCHITECTURE.md`.
#[doc = include_str!("../../../docs/ARCHITECTURE.md")]
pub struct Architecture;

/// `docs/design.md`.
#[doc = include_str!("../../../docs/design.md")]
pub struct Design;

/// `docs/mail-tls.md`.
#[doc = include_str!("../../../docs/mail-tls.md")]
pub struct MailTls;

/// `docs/smtp.md`.
#[doc = include_str!("../../../docs/smtp.md")]
pub struct Smtp;
