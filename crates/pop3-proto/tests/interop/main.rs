//! Interop, through the tokio drivers, against peers we did not write: our server against
//! Python's `poplib` (`server`), our client against Dovecot (`client`). One test binary (it
//! needs the `tokio` feature), a module per side.

mod client;
mod review;
mod server;
