//! Interop, through the tokio drivers, against peers we did not write: our server against
//! Python's `poplib` (`server`). One test binary (it needs the `tokio` feature), a module per
//! side. Our client against a POP3 server we did not write is not covered yet: see the
//! interop section of `docs/pop3.md`.

mod server;
