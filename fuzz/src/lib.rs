//! Support for the sansmail fuzz targets: what more than one target needs, written once.
//!
//! - [`chunk`]: the one way the targets cut the peer's bytes into reads, and the separator that
//!   marks flights and steps.
//! - [`fixtures`]: the user, password, token and SCRAM keys, an [`Authenticator`] for the
//!   server targets and the matching client credentials.
//! - [`check`]: output and event checks every session target applies (reply lines, command
//!   lines, message bodies, bounded output, a session's life ending in exactly one `Closed`).
//! - [`pop3`]: the typed input of the POP3 server target and its application.
//! - [`imap`]: the IMAP codec targets' quirks byte, framing and encode round trip.
//! - [`server`] and [`client`]: the typed inputs of the session targets, derived with
//!   [`arbitrary`]: the configuration to run, the application's decision to each event, how to
//!   cut the peer's bytes, then the bytes themselves ([`Wire`]).
//!
//! A target keeps only its set-up and its assertions. Its typed input is decoded by
//! `libfuzzer_sys::fuzz_target!(|case: server::ServerCase<'_>| ...)`, and
//! `cargo +nightly fuzz fmt TARGET FILE` prints what an input decodes to.
//!
//! [`Authenticator`]: mail_wire::sasl::Authenticator

#![warn(missing_docs)]

pub mod check;
pub mod chunk;
pub mod client;
pub mod fixtures;
pub mod imap;
pub mod pop3;
pub mod server;

use std::fmt;

use arbitrary::{Arbitrary, Result, Unstructured};

/// The peer's bytes: the rest of a fuzz input once the typed fields before it are decoded.
///
/// Its `Debug` prints the bytes escaped, as a byte string, so `cargo fuzz fmt` shows the
/// protocol text.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Wire<'a>(pub &'a [u8]);

impl<'a> Arbitrary<'a> for Wire<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        <&'a [u8]>::arbitrary(u).map(Wire)
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> Result<Self> {
        Ok(Wire(u.take_rest()))
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        <&'a [u8]>::size_hint(depth)
    }
}

impl fmt::Debug for Wire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// One of four sizes for a limit, smallest first; each configuration field that takes one
/// says which four values they stand for.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// The smallest (often zero, which may mean "no limit").
    Tiny,
    /// Small.
    Small,
    /// Ordinary.
    Medium,
    /// Large.
    Large,
}

impl Size {
    /// The value of `values` this size stands for.
    pub fn pick<T: Copy>(self, values: [T; 4]) -> T {
        values[self as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_takes_the_rest_and_prints_escaped() {
        let wire = Wire::arbitrary_take_rest(Unstructured::new(b"EHLO x\r\n\xff")).unwrap();
        assert_eq!(wire.0, b"EHLO x\r\n\xff");
        assert_eq!(format!("{wire:?}"), r#"b"EHLO x\r\n\xff""#);
    }
}
