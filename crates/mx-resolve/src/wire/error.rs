//! Errors of the codec: a message that does not parse, and a response that does not answer
//! the query.

use std::fmt;

use super::{Name, RecordType};

/// Why a message did not parse, and where: [`Message::parse`](super::Message::parse) never
/// panics and never allocates more than a small multiple of the message's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub(crate) offset: usize,
    pub(crate) kind: ParseErrorKind,
}

impl ParseError {
    /// The octet offset in the message where the fault was found (for a bad name, the
    /// offending length octet or pointer).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad DNS message at octet {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for ParseError {}

/// What was wrong with a message; see `docs/mx.md`, "DNS wire codec", for each guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The message ends inside the header, a name, or a fixed field.
    #[error("message truncated")]
    Truncated,
    /// The header's section counts promise more entries than the rest of the message could
    /// hold (a question takes at least 5 octets, a record at least 11); checked before anything
    /// is allocated for them.
    #[error("section counts larger than the message")]
    CountTooLarge,
    /// A label length octet from 64 to 191: over 63 and not a compression pointer (the
    /// reserved `01` and `10` label types of RFC 1035 section 4.1.4 and RFC 6891 section 5).
    #[error("label longer than 63 octets")]
    LabelTooLong,
    /// A name longer than 255 octets once its compression pointers are followed.
    #[error("name longer than 255 octets")]
    NameTooLong,
    /// A compression pointer to itself or to a later octet; RFC 1035 section 4.1.4 allows only
    /// pointers to a prior occurrence, which also rules out every loop through later octets.
    #[error("compression pointer not pointing backwards")]
    ForwardPointer,
    /// A name reached through a compression pointer runs into that pointer without ending
    /// (a loop through earlier octets).
    #[error("compression pointer loop")]
    PointerLoop,
    /// More than 127 compression pointers in one name (more than it could have labels).
    #[error("too many compression pointers in one name")]
    TooManyPointers,
    /// A record's RDLENGTH runs past the end of the message.
    #[error("RDLENGTH past the end of the message")]
    RdataOverrun,
    /// A record's data does not fill its RDLENGTH exactly: a name or field runs past it, or
    /// octets are left over (an `A` record of other than 4 octets, an `AAAA` of other than 16).
    #[error("record data does not match RDLENGTH")]
    RdataLength,
    /// Octets after the last record the counts announce.
    #[error("octets after the last record")]
    TrailingData,
    /// An `OPT` record outside the additional section (RFC 6891 section 6.1.1).
    #[error("OPT record outside the additional section")]
    MisplacedOpt,
    /// A second `OPT` record (RFC 6891 section 6.1.1: FORMERR).
    #[error("more than one OPT record")]
    DuplicateOpt,
    /// An `OPT` record whose owner is not the root (RFC 6891 section 6.1.2).
    #[error("OPT record owned by a name other than the root")]
    OptName,
}

/// Why a response does not answer a query ([`Message::check_answers`]): a resolver drops such a
/// response and keeps waiting, since anyone can send a datagram to its port.
///
/// [`Message::check_answers`]: super::Message::check_answers
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The `QR` bit is clear: the message is a query.
    #[error("not a response")]
    NotResponse,
    /// The ID differs from the query's.
    #[error("response ID {got} does not match query ID {expected}")]
    Id {
        /// The query's ID.
        expected: u16,
        /// The response's.
        got: u16,
    },
    /// The opcode is not that of a standard query (0).
    #[error("response opcode {0} is not QUERY")]
    Opcode(u8),
    /// The response does not carry exactly one question (RFC 1035 section 7.3: the question
    /// must be echoed).
    #[error("response carries {0} questions, not 1")]
    QuestionCount(usize),
    /// The echoed question is not the one asked: another name (compared ignoring ASCII case),
    /// type or class.
    #[error("response question {name} {qtype:?} class {qclass} is not the one asked")]
    Question {
        /// The echoed name.
        name: Name,
        /// The echoed type.
        qtype: RecordType,
        /// The echoed class.
        qclass: u16,
    },
    /// An answer record is not of class IN.
    #[error("answer record for {name} has class {class}, not IN")]
    AnswerClass {
        /// The record's owner.
        name: Name,
        /// Its class.
        class: u16,
    },
}
