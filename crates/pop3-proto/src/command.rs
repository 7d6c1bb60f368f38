//! POP3 commands (RFC 1939, RFC 2449 `CAPA`, RFC 2595 `STLS`, RFC 5034 `AUTH`, RFC 6856
//! `UTF8` and `LANG`): one type for both directions, parsed by [`Command::parse`] and
//! written by [`Command::encode`].

use std::fmt;

use bytes::BytesMut;
use mail_wire::Secret;

use crate::error::{CommandError, ValueError};

/// The longest command line a client may send: 255 octets including CRLF (RFC 2449
/// section 4). An `AUTH` continuation line is exempt (RFC 5034 section 4).
pub const MAX_COMMAND_LINE: usize = 255;

/// One POP3 command. Arguments borrow from the line; the password of `PASS` and the initial
/// response of `AUTH` are credentials and are held in a [`Secret`] (their `Debug` hides them).
///
/// ```
/// use bytes::BytesMut;
/// use pop3_proto::Command;
///
/// let command = Command::parse(b"TOP 3 10").unwrap();
/// assert_eq!(command, Command::Top { message: 3, lines: 10 });
/// let mut wire = BytesMut::new();
/// command.encode(&mut wire).unwrap();
/// assert_eq!(&wire[..], b"TOP 3 10\r\n");
/// assert_eq!(format!("{:?}", Command::parse(b"PASS hunter2").unwrap()), "Pass(Secret([REDACTED]))");
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command<'a> {
    /// `USER name` (RFC 1939 section 7).
    User(&'a str),
    /// `PASS string` (RFC 1939 section 7): the rest of the line, spaces included.
    Pass(Secret<String>),
    /// `APOP name digest` (RFC 1939 section 7): `digest` is 32 lower-case hex digits.
    Apop {
        /// The mailbox name.
        name: &'a str,
        /// The MD5 digest of the greeting's timestamp and the shared secret.
        digest: &'a str,
    },
    /// `AUTH mechanism [initial-response]` (RFC 5034 section 4).
    Auth {
        /// The SASL mechanism name, as sent (upper-cased by the client).
        mechanism: &'a str,
        /// The base64 initial response (`=` for an empty one), if any.
        initial_response: Option<Secret<String>>,
    },
    /// `STAT`.
    Stat,
    /// `LIST [msg]`.
    List(Option<u32>),
    /// `RETR msg`.
    Retr(u32),
    /// `DELE msg`.
    Dele(u32),
    /// `NOOP`.
    Noop,
    /// `RSET`.
    Rset,
    /// `QUIT`.
    Quit,
    /// `TOP msg n` (RFC 1939 section 7).
    Top {
        /// The message number.
        message: u32,
        /// How many lines of the body to send after the header. RFC 1939 allows any
        /// non-negative number: the parser reads a count past `u32::MAX` as `u32::MAX`, which
        /// the server takes as every line (the encoder writes it as `4294967295`).
        lines: u32,
    },
    /// `UIDL [msg]` (RFC 1939 section 7).
    Uidl(Option<u32>),
    /// `CAPA` (RFC 2449 section 5).
    Capa,
    /// `STLS` (RFC 2595 section 4).
    Stls,
    /// `UTF8` (RFC 6856 section 2).
    Utf8,
    /// `LANG [lang-range]` (RFC 6856 section 3): list languages, or choose one (`*` for
    /// the server's default).
    Lang(Option<&'a str>),
}

impl fmt::Debug for Command<'_> {
    // The initial response is left out of `Debug` by its `Secret`; the rest is harmless.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::User(name) => f.debug_tuple("User").field(name).finish(),
            Command::Pass(secret) => f.debug_tuple("Pass").field(secret).finish(),
            Command::Apop { name, digest } => f
                .debug_struct("Apop")
                .field("name", name)
                .field("digest", digest)
                .finish(),
            Command::Auth {
                mechanism,
                initial_response,
            } => f
                .debug_struct("Auth")
                .field("mechanism", mechanism)
                .field("initial_response", initial_response)
                .finish(),
            Command::Stat => f.write_str("Stat"),
            Command::List(n) => f.debug_tuple("List").field(n).finish(),
            Command::Retr(n) => f.debug_tuple("Retr").field(n).finish(),
            Command::Dele(n) => f.debug_tuple("Dele").field(n).finish(),
            Command::Noop => f.write_str("Noop"),
            Command::Rset => f.write_str("Rset"),
            Command::Quit => f.write_str("Quit"),
            Command::Top { message, lines } => f
                .debug_struct("Top")
                .field("message", message)
                .field("lines", lines)
                .finish(),
            Command::Uidl(n) => f.debug_tuple("Uidl").field(n).finish(),
            Command::Capa => f.write_str("Capa"),
            Command::Stls => f.write_str("Stls"),
            Command::Utf8 => f.write_str("Utf8"),
            Command::Lang(range) => f.debug_tuple("Lang").field(range).finish(),
        }
    }
}

impl<'a> Command<'a> {
    /// Parses one command line, without its CRLF. Keywords are case-insensitive (RFC 1939
    /// section 3); arguments are separated by single spaces.
    ///
    /// # Errors
    ///
    /// A [`CommandError`] naming the keyword and the offset, never quoting the line.
    pub fn parse(line: &'a [u8]) -> Result<Self, CommandError> {
        crate::parse::command::command(line)
    }

    /// Writes the command and its CRLF, after [`Command::check`]: a command whose arguments
    /// would not parse back to themselves writes nothing.
    ///
    /// # Errors
    ///
    /// As [`Command::check`].
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), ValueError> {
        self.check()?;
        crate::encode::command::command(self, out);
        Ok(())
    }

    /// Checks that the arguments can go on the command line and parse back to themselves:
    /// no argument is empty, none holds a control octet (a CR or LF would cut the line and
    /// send the rest as a command of its own), the one-word arguments (`USER`, `APOP` name,
    /// `AUTH` mechanism and initial response, `LANG`) hold no space, the `APOP` digest is 32
    /// hex digits and the `AUTH` mechanism 1 to 20 letters, digits, `-` or `_`. The length
    /// of the line is the receiving server's business ([`MAX_COMMAND_LINE`]).
    ///
    /// # Errors
    ///
    /// [`ValueError::Length`] for an empty or over-long argument, [`ValueError::Octet`] with
    /// the offset of the first refused octet in its argument.
    pub fn check(&self) -> Result<(), ValueError> {
        fn text(arg: &str) -> Result<(), ValueError> {
            if arg.is_empty() {
                return Err(ValueError::Length { limit: usize::MAX });
            }
            match arg.bytes().position(|b| b < 0x20 || b == 0x7f) {
                Some(offset) => Err(ValueError::Octet { offset }),
                None => Ok(()),
            }
        }
        fn word(arg: &str) -> Result<(), ValueError> {
            text(arg)?;
            match arg.find(' ') {
                Some(offset) => Err(ValueError::Octet { offset }),
                None => Ok(()),
            }
        }
        match self {
            Command::User(name) => word(name),
            Command::Pass(password) => text(password.expose()),
            Command::Apop { name, digest } => {
                word(name)?;
                if let Some(offset) = digest.bytes().position(|b| !b.is_ascii_hexdigit()) {
                    return Err(ValueError::Octet { offset });
                }
                if digest.len() != 32 {
                    return Err(ValueError::Length { limit: 32 });
                }
                Ok(())
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                if let Some(offset) = mechanism
                    .bytes()
                    .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
                {
                    return Err(ValueError::Octet { offset });
                }
                if mechanism.is_empty() || mechanism.len() > 20 {
                    return Err(ValueError::Length { limit: 20 });
                }
                match initial_response {
                    Some(initial) => word(initial.expose()),
                    None => Ok(()),
                }
            }
            Command::Lang(Some(range)) => word(range),
            _ => Ok(()),
        }
    }

    /// The keyword, upper case.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::User(_) => "USER",
            Command::Pass(_) => "PASS",
            Command::Apop { .. } => "APOP",
            Command::Auth { .. } => "AUTH",
            Command::Stat => "STAT",
            Command::List(_) => "LIST",
            Command::Retr(_) => "RETR",
            Command::Dele(_) => "DELE",
            Command::Noop => "NOOP",
            Command::Rset => "RSET",
            Command::Quit => "QUIT",
            Command::Top { .. } => "TOP",
            Command::Uidl(_) => "UIDL",
            Command::Capa => "CAPA",
            Command::Stls => "STLS",
            Command::Utf8 => "UTF8",
            Command::Lang(_) => "LANG",
        }
    }

    /// Whether the command's response is multi-line when positive: `LIST` and `UIDL`
    /// without an argument, `RETR`, `TOP`, `CAPA`, and `LANG` without an argument.
    pub fn is_multiline(&self) -> bool {
        matches!(
            self,
            Command::List(None)
                | Command::Uidl(None)
                | Command::Retr(_)
                | Command::Top { .. }
                | Command::Capa
                | Command::Lang(None)
        )
    }
}
