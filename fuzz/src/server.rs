//! The typed input of the `smtp_server_session` target: a server configuration, the
//! application's decisions, how the client's bytes are cut into reads, and the bytes.

use std::borrow::Cow;
use std::time::Instant;

use arbitrary::Arbitrary;
use mail_wire::dot::BareLineEnding;
use mail_wire::line::BareLf;
use mail_wire::sasl::Mechanism;
use smtp_proto::server::{Event, Mode, Server, ServerConfig, ServerError};
use smtp_proto::{EnhancedStatusCode, Reply, ReplyCode};

use crate::chunk::Chunking;
use crate::fixtures::{Store, server_name, server_nonce};
use crate::{Size, Wire};

/// One `smtp_server_session` input.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct ServerCase<'a> {
    /// The server's configuration.
    pub setup: ServerSetup,
    /// The application's answers.
    pub decisions: Decisions,
    /// How the client's bytes are cut into reads.
    pub chunking: Chunking,
    /// Whether a deadline an hour after the last read is handled before the end of input.
    pub timeout_at_end: bool,
    /// The client's bytes.
    pub input: Wire<'a>,
}

/// The listener preset a configuration starts from.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// [`ServerConfig::default`].
    Default,
    /// [`ServerConfig::relay`].
    Relay,
    /// [`ServerConfig::submission`].
    Submission,
    /// [`ServerConfig::submissions`].
    Submissions,
    /// [`ServerConfig::lmtp`].
    Lmtp,
}

/// The policy for a bare CR or LF in a DATA body.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLineEndings {
    /// [`BareLineEnding::Reject`].
    Reject,
    /// [`BareLineEnding::Normalize`].
    Normalize,
    /// [`BareLineEnding::Preserve`].
    Preserve,
}

/// The AUTH mechanisms offered.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMechanisms {
    /// The preset's.
    Preset,
    /// Those of [`Mechanism::ALL`] whose bit is set (bit `i` for `ALL[i]`).
    Only(u8),
    /// None.
    None,
}

/// Settings that turn the preset's value around when `true`.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flips {
    /// `starttls`.
    pub starttls: bool,
    /// `implicit_tls`.
    pub implicit_tls: bool,
    /// `require_tls`.
    pub require_tls: bool,
    /// `require_auth`.
    pub require_auth: bool,
    /// `allow_plaintext_auth`.
    pub allow_plaintext_auth: bool,
    /// `chunking`.
    pub chunking: bool,
    /// `eight_bit_mime`.
    pub eight_bit_mime: bool,
    /// `smtputf8`.
    pub smtputf8: bool,
    /// `dsn`.
    pub dsn: bool,
    /// `requiretls`.
    pub requiretls: bool,
    /// `accept_unknown_parameters`.
    pub accept_unknown_parameters: bool,
}

/// The server's limits.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `max_line_len`: 16, 80, 512 or 2048.
    pub line: Size,
    /// `max_message_size`: 0 (none), 20, 200 or 10,240,000.
    pub message: Size,
    /// `max_recipients`: 0 (none), 1, 3 or 100.
    pub recipients: Size,
    /// `max_errors`: 0 (none), 2, 5 or 20.
    pub errors: Size,
    /// `max_buffered_input`: 64, 300, 4096 or 1 MiB.
    pub buffered_input: Size,
}

/// Everything about the server's configuration a case chooses.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct ServerSetup {
    /// The preset.
    pub preset: Preset,
    /// `bare_line_ending`.
    pub body_line_endings: BodyLineEndings,
    /// `bare_lf_in_commands` is `Accept` (else the preset's `Reject`).
    pub bare_lf_in_commands: bool,
    /// Settings turned around.
    pub flips: Flips,
    /// `auth_mechanisms`.
    pub auth: AuthMechanisms,
    /// Limits.
    pub limits: Limits,
}

impl ServerSetup {
    /// The configuration.
    pub fn config(&self) -> ServerConfig {
        let mut config = match self.preset {
            Preset::Default => ServerConfig::default(),
            Preset::Relay => ServerConfig::relay(server_name()),
            Preset::Submission => ServerConfig::submission(server_name()),
            Preset::Submissions => ServerConfig::submissions(server_name()),
            Preset::Lmtp => ServerConfig::lmtp(server_name()),
        };
        config.bare_line_ending = match self.body_line_endings {
            BodyLineEndings::Reject => BareLineEnding::Reject,
            BodyLineEndings::Normalize => BareLineEnding::Normalize,
            BodyLineEndings::Preserve => BareLineEnding::Preserve,
        };
        if self.bare_lf_in_commands {
            config.bare_lf_in_commands = BareLf::Accept;
        }

        let flips = self.flips;
        config.starttls ^= flips.starttls;
        config.implicit_tls ^= flips.implicit_tls;
        config.require_tls ^= flips.require_tls;
        config.require_auth ^= flips.require_auth;
        config.allow_plaintext_auth ^= flips.allow_plaintext_auth;
        config.chunking ^= flips.chunking;
        config.eight_bit_mime ^= flips.eight_bit_mime;
        config.smtputf8 ^= flips.smtputf8;
        config.dsn ^= flips.dsn;
        config.requiretls ^= flips.requiretls;
        config.accept_unknown_parameters ^= flips.accept_unknown_parameters;

        match self.auth {
            AuthMechanisms::Preset => {}
            AuthMechanisms::Only(bits) => {
                config.auth_mechanisms = Mechanism::ALL
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| bits & (1 << i) != 0)
                    .map(|(_, m)| *m)
                    .collect();
            }
            AuthMechanisms::None => config.auth_mechanisms.clear(),
        }

        let limits = self.limits;
        config.max_line_len = limits.line.pick([16, 80, 512, 2048]);
        config.max_message_size = limits.message.pick([0, 20, 200, 10_240_000]);
        config.max_recipients = limits.recipients.pick([0, 1, 3, 100]);
        config.max_errors = limits.errors.pick([0, 2, 5, 20]);
        config.max_buffered_input = limits.buffered_input.pick([64, 300, 4096, 1 << 20]);
        config
    }
}

/// The application's answer to one decision event.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// `accept()` (for `AuthStep`: `auth_step` with the [`Store`]).
    Accept,
    /// `accept_with` a `250` of the application's own; at the end of an LMTP message,
    /// `reply_each` with one reply per recipient (see [`Decisions::lmtp_refusals`]). For
    /// `AuthStep` the same as `Accept`.
    Reply,
    /// `reject` with a permanent reply: `550` (HELO, MAIL, RCPT), `554` (the message),
    /// `454` (AUTH, which has no permanent refusal of the application's own).
    Reject,
    /// `reject` with a temporary reply: `451` (HELO, MAIL, RCPT, the message); AUTH as for
    /// `Reject`.
    Defer,
}

/// The application's answers, in the order the events come; after the last, they start
/// over.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct Decisions {
    /// One answer per decision event.
    pub script: [Decision; 16],
    /// For [`Decision::Reply`] at the end of an LMTP message: bit `i % 32` set refuses
    /// recipient `i` (`452`), clear delivers to it (`250`).
    pub lmtp_refusals: u32,
}

/// The application of a server session: answers each event as the [`Decisions`] say.
#[derive(Debug)]
pub struct Application {
    decisions: Decisions,
    made: usize,
    lmtp: bool,
    now: Instant,
}

fn reply(code: u16, enhanced: (u8, u16, u16), text: &'static str) -> Reply<'static> {
    let (class, subject, detail) = enhanced;
    Reply::new(
        ReplyCode::new(code).expect("valid code"),
        Some(EnhancedStatusCode::new(class, subject, detail).expect("valid enhanced code")),
        [Cow::Borrowed(text.as_bytes())],
    )
    .expect("valid reply")
}

impl Application {
    /// An application answering with `decisions` for a server configured with `config`,
    /// whose clock stands at `now`.
    pub fn new(decisions: Decisions, config: &ServerConfig, now: Instant) -> Self {
        Application {
            decisions,
            made: 0,
            lmtp: config.mode == Mode::Lmtp,
            now,
        }
    }

    fn next(&mut self) -> Decision {
        let decision = self.decisions.script[self.made % self.decisions.script.len()];
        self.made += 1;
        decision
    }

    /// Answers `event`: a decision as scripted, `tls_established` after `StartTls`, nothing
    /// for the others. `Err` if the server refused the call.
    pub fn answer(&mut self, server: &mut Server, event: &Event) -> Result<(), ServerError> {
        match event {
            Event::Hello { .. } | Event::Mail { .. } | Event::Rcpt { .. } => match self.next() {
                Decision::Accept => server.accept(),
                Decision::Reply => {
                    server.accept_with(reply(250, (2, 0, 0), "Fine by the application"))
                }
                Decision::Reject => server.reject(reply(550, (5, 7, 1), "Refused")),
                Decision::Defer => server.reject(reply(451, (4, 3, 0), "Try later")),
            },
            Event::BodyEnd { recipients, .. } => match self.next() {
                Decision::Accept => server.accept(),
                Decision::Reply if self.lmtp => {
                    let replies: Vec<Reply<'static>> = (0..*recipients)
                        .map(|i| {
                            if self.decisions.lmtp_refusals & (1 << (i % 32)) == 0 {
                                reply(250, (2, 1, 5), "Delivered")
                            } else {
                                reply(452, (4, 2, 2), "Over quota")
                            }
                        })
                        .collect();
                    server.reply_each(&replies)
                }
                Decision::Reply => server.accept_with(reply(250, (2, 0, 0), "Queued as 4F1D3")),
                Decision::Reject => server.reject(reply(554, (5, 6, 0), "Content refused")),
                Decision::Defer => server.reject(reply(451, (4, 3, 0), "Try later")),
            },
            Event::AuthStep { .. } => match self.next() {
                Decision::Accept | Decision::Reply => {
                    server.auth_step(&Store::default(), server_nonce())
                }
                Decision::Reject | Decision::Defer => {
                    server.reject(reply(454, (4, 7, 0), "Temporary authentication failure"))
                }
            },
            Event::StartTls => server.tls_established(self.now),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use arbitrary::Unstructured;

    use super::*;

    /// fuzz/README.md gives the header's length: keep it true.
    #[test]
    fn the_header_is_121_octets_or_122_with_mechanisms() {
        let input = b"QUIT\r\n";
        let zeros = [&[0; 121][..], input].concat();
        let case = ServerCase::arbitrary_take_rest(Unstructured::new(&zeros)).unwrap();
        assert_eq!(case.input.0, input);
        assert_eq!(case.setup.auth, AuthMechanisms::Preset);

        let mut only = [&[0; 122][..], input].concat();
        // The AUTH choice follows preset (4), body line endings (4), bare LF (1), flips (11).
        only[20..24].copy_from_slice(&0x5555_5556_u32.to_le_bytes());
        only[24] = 0b1_0001;
        let case = ServerCase::arbitrary_take_rest(Unstructured::new(&only)).unwrap();
        assert_eq!(case.setup.auth, AuthMechanisms::Only(0b1_0001));
        assert_eq!(
            case.setup.config().auth_mechanisms,
            [Mechanism::ALL[0], Mechanism::ALL[4]]
        );
        assert_eq!(case.input.0, input);
    }

    /// Issue 13's two inputs, rebuilt from the target's old 16-octet header: the relay preset
    /// with implicit TLS, TLS required, plaintext AUTH and DSN, STARTTLS and CHUNKING off, bare
    /// CR or LF in a body refused; 16-octet lines, 20-octet messages, 3 recipients, 2 errors,
    /// 4096 octets of buffered input; reads of up to 64 octets from the old seed; an hour
    /// passing after the last read.
    #[test]
    fn the_issue_13_seeds_decode_to_the_configuration_they_were_found_with() {
        let seeds: [(&[u8], &[u8]); 2] = [
            (
                include_bytes!(
                    "../seeds/smtp_server_session/regression-issue-13-chunking-minimised"
                ),
                b"\xff\xffAST\r<x@",
            ),
            (
                include_bytes!(
                    "../seeds/smtp_server_session/regression-issue-13-chunking-original"
                ),
                b"T oleh1 LAST\r<x@",
            ),
        ];
        for (seed, start) in seeds {
            let case = ServerCase::arbitrary_take_rest(Unstructured::new(seed)).unwrap();
            assert!(case.input.0.starts_with(start));
            assert_eq!(case.input.0.len(), seed.len() - 121);
            let config = case.setup.config();
            let relay = ServerConfig::relay(server_name());
            assert_eq!(config.hostname, relay.hostname);
            assert_eq!(config.bare_line_ending, BareLineEnding::Reject);
            assert_eq!(config.bare_lf_in_commands, BareLf::Reject);
            assert!(!config.starttls && config.implicit_tls && config.require_tls);
            assert!(!config.require_auth && config.allow_plaintext_auth);
            assert!(!config.chunking && config.dsn && !config.requiretls);
            assert!(config.eight_bit_mime && config.smtputf8);
            assert!(!config.accept_unknown_parameters && config.auth_mechanisms.is_empty());
            assert_eq!(
                (
                    config.max_line_len,
                    config.max_message_size,
                    config.max_recipients,
                    config.max_errors,
                    config.max_buffered_input
                ),
                (16, 20, 3, 2, 4096)
            );
            assert_eq!(case.chunking.max, crate::chunk::MaxRead::SixtyFour);
            assert!(case.timeout_at_end);
        }
    }

    #[test]
    fn decisions_start_over_after_the_script() {
        let mut script = [Decision::Accept; 16];
        script[1] = Decision::Reject;
        let decisions = Decisions {
            script,
            lmtp_refusals: 0,
        };
        let mut app = Application::new(decisions, &ServerConfig::default(), Instant::now());
        let made: Vec<Decision> = (0..18).map(|_| app.next()).collect();
        assert_eq!(made[1], Decision::Reject);
        assert_eq!(made[17], Decision::Reject);
        assert_eq!(made.iter().filter(|d| **d == Decision::Reject).count(), 2);
    }
}
