//! The server machine from the outside: transcripts fed in every chunking, one module per
//! topic.

mod harness;
mod http;
mod limits;
mod review;
mod sessions;
mod splitting;
mod stls;
