//! The DNS wire codec from the outside: known answers on realistic packets, every parser
//! guard breached, round trips, and a differential test against hickory-proto.

mod differential;
mod guards;
mod known_answers;
mod packets;
mod roundtrip;
mod strategies;
mod support;
