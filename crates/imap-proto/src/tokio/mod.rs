//! Thin async drivers around the session machines, for tokio: typed wrappers over
//! [`mail_tokio::Connection`], the one driver every protocol of sansmail shares.

mod client;
mod server;

pub use client::ClientConnection;
pub use server::ServerConnection;
