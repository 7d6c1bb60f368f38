//! Our `Client` against our `Server`, in memory, through the test kit's `Pair`: every feature
//! both sides have, each scenario under several chunkings (whole, byte by byte, seeded random
//! sizes, and random ones from proptest), asserting what a user sees: the events of each
//! side, the bytes on the wire, and the message the server received, equal to what the
//! client sent.

mod auth;
mod basic;
mod chunking;
mod eof;
mod extensions;
mod lmtp;
mod random;
mod size;
mod starttls;
mod support;
mod timeout;
