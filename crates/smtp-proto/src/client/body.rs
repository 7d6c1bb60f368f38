//! Sending the body of a message: DATA with dot-stuffing, or BDAT chunks (RFC 3030), with
//! bare CR and LF made CRLF in both (RFC 5321 section 2.3.8; docs/design.md security rule 4,
//! SMTP smuggling).

use std::time::Instant;

use super::pending::Expect;
use super::transaction::Transfer;
use super::{Client, ClientError};

/// Where the body of a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyState {
    /// Not open yet (waiting for replies).
    Waiting,
    /// The application sends the body.
    Open,
    /// The end was sent, or the transaction failed.
    Closed,
}

impl Client {
    /// A body is open and, for BDAT without PIPELINING, the previous chunk was answered.
    pub(super) fn body_ready(&self) -> bool {
        self.txn.as_ref().is_some_and(|txn| {
            txn.body == BodyState::Open
                && (txn.transfer == Transfer::Data
                    || txn.chunks_in_flight == 0
                    || self.pipelining())
        })
    }

    /// Writes the next piece of an open body (checked by [`Client::check_body`]).
    pub(super) fn write_body(&mut self, now: Instant, chunk: &[u8]) -> Result<(), ClientError> {
        let Some(txn) = self.txn.as_mut() else {
            return Err(ClientError::NoBody);
        };
        match txn.transfer {
            Transfer::Data => txn.encoder.encode(chunk, &mut self.output),
            Transfer::Bdat if txn.binary => {
                if !chunk.is_empty() {
                    txn.chunks_in_flight += 1;
                    self.send_chunk(now, chunk, false);
                }
            }
            Transfer::Bdat => {
                let chunk = crlf_line_endings(chunk, &mut txn.held_cr, false);
                if !chunk.is_empty() {
                    txn.chunks_in_flight += 1;
                    self.send_chunk(now, &chunk, false);
                }
            }
        }
        Ok(())
    }

    /// Writes the last piece of an open body and its end (checked by [`Client::check_body`]).
    pub(super) fn end_body(&mut self, now: Instant, chunk: &[u8]) -> Result<(), ClientError> {
        let Some(txn) = self.txn.as_mut() else {
            return Err(ClientError::NoBody);
        };
        txn.body = BodyState::Closed;
        match txn.transfer {
            Transfer::Data => {
                txn.encoder.encode(chunk, &mut self.output);
                txn.encoder.finish(&mut self.output);
                self.expect(now, Expect::EndOfData);
            }
            Transfer::Bdat if txn.binary => self.send_chunk(now, chunk, true),
            Transfer::Bdat => {
                let chunk = crlf_line_endings(chunk, &mut txn.held_cr, true);
                self.send_chunk(now, &chunk, true);
            }
        }
        Ok(())
    }

    /// Checks that a body call fits the session's state.
    pub(super) fn check_body(&self) -> Result<(), ClientError> {
        self.check_open()?;
        match &self.txn {
            Some(txn) if txn.body == BodyState::Open => {
                if self.body_ready() {
                    Ok(())
                } else {
                    Err(ClientError::BodyNotReady)
                }
            }
            _ => Err(ClientError::NoBody),
        }
    }
}

/// `chunk` with every bare CR and bare LF turned into CRLF (RFC 5321 section 2.3.8), for a
/// BDAT body that is not BINARYMIME. A CR at the end of a chunk that is not the last is held
/// back in `held_cr` until the next chunk shows whether an LF follows it.
fn crlf_line_endings(chunk: &[u8], held_cr: &mut bool, last: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len() + 2);
    let mut rest = chunk;
    if *held_cr {
        match rest.first() {
            None if !last => return out,
            Some(b'\n') => rest = &rest[1..],
            _ => {}
        }
        out.extend_from_slice(b"\r\n");
        *held_cr = false;
    }
    while let Some(at) = memchr::memchr2(b'\r', b'\n', rest) {
        out.extend_from_slice(&rest[..at]);
        match (rest[at], rest.get(at + 1)) {
            (b'\r', Some(b'\n')) => rest = &rest[at + 2..],
            (b'\r', None) if !last => {
                *held_cr = true;
                return out;
            }
            _ => rest = &rest[at + 1..],
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::crlf_line_endings;

    /// The line endings of `body` made CRLF in one pass, octet by octet.
    fn reference(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b'\r' if body.get(i + 1) == Some(&b'\n') => i += 1,
                b'\r' | b'\n' => {}
                octet => {
                    out.push(octet);
                    i += 1;
                    continue;
                }
            }
            out.extend_from_slice(b"\r\n");
            i += 1;
        }
        out
    }

    proptest! {
        /// However the body is cut into chunks, the chunks together are the body with CRLF
        /// line endings, with no bare CR or LF left.
        #[test]
        fn chunked_line_endings_match_the_whole(
            body in prop::collection::vec(prop::sample::select(b"a.\r\n".to_vec()), 0..64),
            cuts in prop::collection::vec(0usize..64, 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(body.len())).collect();
            cuts.sort_unstable();
            let mut held = false;
            let mut out = Vec::new();
            let mut start = 0;
            for cut in cuts {
                out.extend(crlf_line_endings(&body[start..cut], &mut held, false));
                start = cut;
            }
            out.extend(crlf_line_endings(&body[start..], &mut held, true));
            prop_assert!(!held);
            prop_assert_eq!(&out, &reference(&body));
            let bare = out.windows(2).any(|w| (w[0] == b'\r') != (w[1] == b'\n'))
                || out.first() == Some(&b'\n')
                || out.last() == Some(&b'\r');
            prop_assert!(!bare, "{:?}", out);
        }
    }
}
