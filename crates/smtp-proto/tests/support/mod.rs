//! Fixtures shared by the smtp-proto test binaries: the transcript format and the credential
//! fixtures. Each binary includes this directory with `#[path = "../support/mod.rs"] mod
//! support;` and uses what it needs.

#![allow(dead_code, unreachable_pub)]

pub mod credentials;
pub mod transcript;
