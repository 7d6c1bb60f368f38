//! The sansmail test kit: what the protocol crates' tests share. It depends on `mail-wire`
//! only, and the protocol crates take it as a dev-dependency, so nothing depends in a circle.
//! It is not published.
#![forbid(unsafe_code)]

#[cfg(doctest)]
mod doc_files;
