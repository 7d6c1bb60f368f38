//! Sans-IO building blocks shared by the SMTP, POP3 and IMAP crates of sansmail.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod dot;
pub mod line;
pub mod sasl;
mod secret;

pub use secret::Secret;
