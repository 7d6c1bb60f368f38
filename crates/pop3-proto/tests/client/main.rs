//! The client machine from the outside, one module per topic: setup and STLS policy (with
//! response injection), login, commands and streaming.

mod harness;
mod limits;
mod review;
mod sessions;
mod stls;
