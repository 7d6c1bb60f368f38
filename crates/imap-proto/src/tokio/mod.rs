//! Thin async drivers around the session machines, for tokio: typed wrappers over
//! [`mail_tokio::Connection`], the one driver every protocol of sansmail shares.

mod server;

pub use server::ServerConnection;
