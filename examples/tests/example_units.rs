//! The unit tests of the example programs, run by `cargo test --workspace`.
//!
//! The examples that the end-to-end tests start as processes (`mail-server`, `smtp-load`,
//! `smtp-send`) are
//! declared with `test = false`, because that is what makes `cargo test` build their binaries;
//! the price is that their own `#[cfg(test)]` modules would no longer run. This file compiles
//! the same source files as modules of one test crate so that those unit tests still run.
//!
//! Only the parts of each program that the unit tests exercise are included; the rest of each
//! program is unused here, hence the `dead_code` allowance below.
#![allow(dead_code, unreachable_pub)]

#[path = "../mail-server/accounts.rs"]
mod accounts;
#[path = "../mail-server/listeners.rs"]
mod listeners;
#[path = "../mail-server/options.rs"]
mod options;
#[path = "../mail-server/smtp.rs"]
mod smtp;
#[path = "../mail-server/store/mod.rs"]
mod store;

#[path = "../smtp-load.rs"]
mod smtp_load;
#[path = "../smtp-send.rs"]
mod smtp_send;
