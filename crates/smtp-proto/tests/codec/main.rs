//! The codec, without a session: commands and replies parsed, encoded and parsed back
//! (known-answer tables and generated values), the known bugs of another SMTP crate we must
//! not have, and, with the `tokio` feature, the tokio-util codecs.
//!
//! One test binary with a module per topic. proptest keeps the seeds of failed cases in
//! `tests/proptest-regressions/<module file>.txt`, named by the module file alone, so a
//! module with property tests needs a file name no other test binary uses.

mod commands;
mod peer_bugs;
mod replies;
mod roundtrip;
#[cfg(feature = "tokio")]
mod tokio_codecs;
mod utf8_text;
