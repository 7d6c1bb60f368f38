//! The typed input of the `smtp_client_session` target, and the application that drives the
//! client: it sends one or two messages on `Ready`, streams the body on `BodyReady` and quits.

use std::time::Instant;

use arbitrary::Arbitrary;
use smtp_proto::client::{Client, ClientConfig, ClientError, Envelope, Event, TlsPolicy};
use smtp_proto::{Body as BodyType, ForwardPath, MailParams, Mailbox, ReversePath};

use crate::chunk::Chunking;
use crate::fixtures::{ClientCredentials, client_name};
use crate::{Size, Wire};

/// One `smtp_client_session` input.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct ClientCase<'a> {
    /// The client's configuration and what the application sends.
    pub setup: ClientSetup,
    /// How each flight of the server's bytes is cut into reads.
    pub chunking: Chunking,
    /// The server's bytes: flights separated by [`crate::chunk::SEPARATOR`], each what the
    /// server sends before it waits for the client again.
    pub flights: Wire<'a>,
}

/// The listener preset a configuration starts from.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// [`ClientConfig::relay`].
    Relay,
    /// [`ClientConfig::submission`].
    Submission,
    /// [`ClientConfig::submissions`].
    Submissions,
    /// [`ClientConfig::lmtp`].
    Lmtp,
}

/// The TLS policy.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// The preset's.
    Preset,
    /// [`TlsPolicy::Never`].
    Never,
    /// [`TlsPolicy::Opportunistic`].
    Opportunistic,
    /// [`TlsPolicy::Required`].
    Required,
}

/// The body the application sends, as the pieces it hands to `send_body`, the last through
/// `finish_body_with`.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageBody {
    /// A header and a line.
    Plain,
    /// End markers, bare CR and LF, a leading dot and no final line ending, across pieces.
    Smuggling,
    /// No body at all (one `finish_body_with` of nothing).
    Empty,
    /// A long line, an empty piece and a lone CRLF.
    Pieces,
}

impl MessageBody {
    /// The pieces.
    pub fn pieces(self) -> &'static [&'static [u8]] {
        match self {
            MessageBody::Plain => &[b"Subject: hi\r\n\r\n", b"hello\r\n"],
            MessageBody::Smuggling => &[
                b"line\r\n.\r\nsmuggled",
                b"\n.\nbare\r.\r",
                b".leading dot\r\n",
                b"no end",
            ],
            MessageBody::Empty => &[],
            MessageBody::Pieces => &[b"0123456789abcdef0123456789abcdef", b"", b"\r\n"],
        }
    }
}

/// Everything about the client and its application a case chooses.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct ClientSetup {
    /// The preset.
    pub preset: Preset,
    /// `tls`.
    pub tls: Tls,
    /// `pipelining`.
    pub pipelining: bool,
    /// `chunking`.
    pub chunking: bool,
    /// `allow_plaintext_auth`.
    pub allow_plaintext_auth: bool,
    /// `credentials`.
    pub credentials: ClientCredentials,
    /// `max_reply_line_len`: 16, 80, 512 or 2048.
    pub max_reply_line_len: Size,
    /// `max_reply_lines`: 1, 3, 100 or 1000.
    pub max_reply_lines: Size,
    /// Whether the application sends a second message (null sender, postmaster, 8BITMIME).
    pub second_message: bool,
    /// The body of each message.
    pub body: MessageBody,
    /// Whether the first message declares a size (100 octets, whatever its body).
    pub declared_size: bool,
}

impl ClientSetup {
    /// The configuration.
    pub fn config(&self) -> ClientConfig {
        let mut config = match self.preset {
            Preset::Relay => ClientConfig::relay(client_name()),
            Preset::Submission | Preset::Submissions => {
                // The credentials are replaced below.
                let credentials = ClientCredentials::Password
                    .credentials()
                    .expect("password credentials");
                if self.preset == Preset::Submission {
                    ClientConfig::submission(client_name(), credentials)
                } else {
                    ClientConfig::submissions(client_name(), credentials)
                }
            }
            Preset::Lmtp => ClientConfig::lmtp(client_name()),
        };
        config.credentials = self.credentials.credentials();
        config.tls = match self.tls {
            Tls::Preset => config.tls,
            Tls::Never => TlsPolicy::Never,
            Tls::Opportunistic => TlsPolicy::Opportunistic,
            Tls::Required => TlsPolicy::Required,
        };
        config.pipelining = self.pipelining;
        config.chunking = self.chunking;
        config.allow_plaintext_auth = self.allow_plaintext_auth;
        config.max_reply_line_len = self.max_reply_line_len.pick([16, 80, 512, 2048]);
        config.max_reply_lines = self.max_reply_lines.pick([1, 3, 100, 1000]);
        config
    }

    /// How many messages the application sends.
    pub fn messages(&self) -> usize {
        1 + usize::from(self.second_message)
    }

    /// The envelope of message `index` (0 or 1).
    pub fn envelope(&self, index: usize) -> Envelope {
        let mailbox = |text| Mailbox::parse(text).expect("valid mailbox").into_owned();
        if index == 0 {
            let envelope = Envelope::new(ReversePath::Mailbox(mailbox("a@client.example")))
                .with_recipient(ForwardPath::Mailbox(mailbox("b@mx.example")))
                .with_recipient(ForwardPath::Mailbox(mailbox("c@mx.example")));
            if self.declared_size {
                envelope.with_size(100)
            } else {
                envelope
            }
        } else {
            let mut params = MailParams::default();
            params.body = Some(BodyType::EightBitMime);
            Envelope::new(ReversePath::Null)
                .with_recipient(ForwardPath::Postmaster)
                .with_params(params)
        }
    }
}

/// How the current message's body goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// DATA: dot-stuffed, with an end marker.
    Data,
    /// BDAT chunks.
    Bdat,
}

/// What the bytes the client queued while the application answered an event are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Command lines (or SASL responses).
    Commands,
    /// Part of a message body.
    Body {
        /// How the body goes.
        transfer: Transfer,
        /// Whether these bytes start the body.
        starts: bool,
        /// Whether the body is complete with these bytes.
        complete: bool,
    },
}

/// The application of a client session.
#[derive(Debug)]
pub struct Application {
    setup: ClientSetup,
    now: Instant,
    sent: usize,
    transfer: Transfer,
    /// The next body piece to send for the current message.
    next_piece: Option<usize>,
    body_octets: usize,
}

impl Application {
    /// An application for `setup`, whose clock stands at `now`.
    pub fn new(setup: ClientSetup, now: Instant) -> Self {
        Application {
            setup,
            now,
            sent: 0,
            transfer: Transfer::Data,
            next_piece: None,
            body_octets: 0,
        }
    }

    /// Body octets handed to the client so far.
    pub fn body_octets(&self) -> usize {
        self.body_octets
    }

    /// Answers `event`: on `Ready` the next message or QUIT, on `BodyReady` as much of the
    /// body as the client takes, on `StartTls` `tls_established`. Returns what the client
    /// queued meanwhile; `Err` if a call made at the right time failed (a refused envelope is
    /// answered with QUIT instead; `tls_established` may fail only by closing the session).
    pub fn answer(&mut self, client: &mut Client, event: &Event) -> Result<Written, ClientError> {
        match event {
            // With the application reacting late, later replies of the same read may have
            // moved the session on (or closed it) since the event was queued.
            Event::Ready if !client.is_ready() => {}
            Event::Ready if self.sent < self.setup.messages() => {
                let envelope = self.setup.envelope(self.sent);
                self.sent += 1;
                match client.send_message(self.now, envelope) {
                    Ok(()) => {
                        let chunking = client.config().chunking
                            && client.capabilities().is_some_and(|c| c.chunking);
                        self.transfer = if chunking {
                            Transfer::Bdat
                        } else {
                            Transfer::Data
                        };
                        self.next_piece = Some(0);
                    }
                    Err(ClientError::Envelope(_)) => client.quit(self.now),
                    Err(other) => return Err(other),
                }
            }
            Event::Ready => client.quit(self.now),
            Event::BodyReady => return self.send_body(client),
            Event::StartTls => {
                if let Err(error) = client.tls_established(self.now)
                    && !client.is_closed()
                {
                    return Err(error);
                }
            }
            Event::MessageRejected(_) => self.next_piece = None,
            _ => {}
        }
        Ok(Written::Commands)
    }

    fn send_body(&mut self, client: &mut Client) -> Result<Written, ClientError> {
        let pieces = self.setup.body.pieces();
        let starts = self.next_piece == Some(0) && client.can_send_body();
        let mut complete = false;
        while let Some(next) = self.next_piece {
            if !client.can_send_body() {
                break;
            }
            let piece = pieces.get(next).copied().unwrap_or_default();
            self.body_octets += piece.len();
            if next + 1 >= pieces.len() {
                self.next_piece = None;
                complete = true;
                client.finish_body_with(self.now, piece)?;
            } else {
                self.next_piece = Some(next + 1);
                client.send_body(self.now, piece)?;
            }
        }
        Ok(Written::Body {
            transfer: self.transfer,
            starts,
            complete,
        })
    }
}

#[cfg(test)]
mod tests {
    use arbitrary::Unstructured;

    use super::*;

    /// fuzz/README.md gives the header's length: keep it true.
    #[test]
    fn the_header_is_37_octets() {
        let input = b"220 mx.example\r\n\xff250 OK\r\n";
        let data = [&[0; 37][..], input].concat();
        let case = ClientCase::arbitrary_take_rest(Unstructured::new(&data)).unwrap();
        assert_eq!(case.flights.0, input);
        assert_eq!(case.setup.preset, Preset::Relay);
        assert_eq!(case.setup.credentials, ClientCredentials::None);
    }
}
