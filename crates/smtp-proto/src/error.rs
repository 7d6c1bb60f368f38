//! Error types.
//!
//! Every public error says which grammar rule failed and at which byte offset of the input
//! (the line handed to the parser, or the string handed to a constructor). The nom error type
//! used inside the parsers stays private.

use thiserror::Error;

/// Why a command line could not be parsed.
///
/// A server answers these with `500 5.5.2` (unknown command, syntax error), `501 5.5.4`
/// (syntax error in parameters or arguments) or `555 5.5.4`; the state machine decides.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The verb is not one of the commands this crate knows.
    #[error("unknown command verb")]
    UnknownCommand,
    /// The line does not match the grammar.
    #[error("syntax error in {rule} at byte {offset}")]
    Syntax {
        /// The ABNF rule (RFC 5321 or the extension's RFC) that failed.
        rule: &'static str,
        /// Byte offset in the line.
        offset: usize,
    },
    /// A command that takes no argument (DATA, RSET, QUIT, STARTTLS; RFC 5321 section 4.1.1)
    /// was followed by something.
    #[error("{verb} takes no argument (byte {offset})")]
    UnexpectedArgument {
        /// The command verb, upper case.
        verb: &'static str,
        /// Byte offset of the unexpected text in the line.
        offset: usize,
    },
    /// A number (SIZE, BDAT chunk size) does not fit in 64 bits.
    #[error("number in {rule} overflows 64 bits at byte {offset}")]
    Overflow {
        /// The rule holding the number.
        rule: &'static str,
        /// Byte offset of the number in the line.
        offset: usize,
    },
    /// A parameter appears twice.
    #[error("duplicate parameter {keyword} at byte {offset}")]
    DuplicateParameter {
        /// The parameter keyword, upper case.
        keyword: &'static str,
        /// Byte offset of the second occurrence.
        offset: usize,
    },
    /// Bytes that are not valid UTF-8 where UTF-8 is allowed.
    #[error("invalid UTF-8 in {rule} at byte {offset}")]
    InvalidUtf8 {
        /// The rule in which the bytes appeared.
        rule: &'static str,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A local part longer than 64 octets (RFC 5321 section 4.5.3.1.1: "The maximum total
    /// length of a user name or other local-part is 64 octets"), counted as sent, quotes and
    /// backslashes included.
    #[error("local-part longer than 64 octets at byte {offset}")]
    LocalPartTooLong {
        /// Byte offset of the 65th octet of the local part.
        offset: usize,
    },
    /// A reverse-path or forward-path longer than 256 octets (RFC 5321 section 4.5.3.1.3:
    /// "The maximum total length of a reverse-path or forward-path is 256 octets (including
    /// the punctuation and element separators)"), counted from `<` to `>` inclusive.
    #[error("path longer than 256 octets at byte {offset}")]
    PathTooLong {
        /// Byte offset of the 257th octet of the path.
        offset: usize,
    },
    /// A character that breaks lines or reorders text (a C1 control such as U+0085, U+2028,
    /// U+2029, or a bidirectional control such as U+202E) in the UTF-8 text of an address,
    /// an EHLO name or a parameter: refused although RFC 6531's grammar admits it, since
    /// shown or logged it can forge lines (issue 14). The server answers `501 5.5.4`.
    #[error("forbidden character U+{:04X} in {rule} at byte {offset}", u32::from(*.character))]
    ForbiddenCharacter {
        /// The rule in which the character appeared.
        rule: &'static str,
        /// Byte offset of its first octet.
        offset: usize,
        /// The character.
        character: char,
    },
    /// Non-ASCII text in an address or parameter without SMTPUTF8 (RFC 6531 section 3.2).
    #[error("non-ASCII in {rule} at byte {offset} requires SMTPUTF8")]
    Utf8NotAllowed {
        /// The rule in which the bytes appeared.
        rule: &'static str,
        /// Byte offset of the first non-ASCII byte.
        offset: usize,
    },
}

impl CommandError {
    /// The byte offset the error points at, if any.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            CommandError::UnknownCommand => Some(0),
            CommandError::Syntax { offset, .. }
            | CommandError::UnexpectedArgument { offset, .. }
            | CommandError::Overflow { offset, .. }
            | CommandError::DuplicateParameter { offset, .. }
            | CommandError::InvalidUtf8 { offset, .. }
            | CommandError::Utf8NotAllowed { offset, .. }
            | CommandError::ForbiddenCharacter { offset, .. }
            | CommandError::LocalPartTooLong { offset }
            | CommandError::PathTooLong { offset } => Some(offset),
        }
    }
}

/// Why a value could not be built by a validating constructor (for example [`crate::Domain::new`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {rule} at byte {offset}")]
pub struct ValueError {
    /// The ABNF rule the value must match.
    pub rule: &'static str,
    /// Byte offset of the first offending byte.
    pub offset: usize,
}

/// Why a reply (or a line of one) could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// A reply line does not match the grammar (RFC 5321 section 4.2).
    #[error("syntax error in {rule} at byte {offset} of reply line {line}")]
    Syntax {
        /// The ABNF rule that failed.
        rule: &'static str,
        /// Zero-based index of the line within the reply.
        line: usize,
        /// Byte offset within that line.
        offset: usize,
    },
    /// A continuation line carries a different reply code than the first line.
    #[error("reply line {line} has code {found}, expected {expected}")]
    CodeMismatch {
        /// Zero-based index of the line within the reply.
        line: usize,
        /// The code of the first line.
        expected: u16,
        /// The code found on this line.
        found: u16,
    },
    /// The reply has more lines than the limit.
    #[error("reply has more than {limit} lines")]
    TooManyLines {
        /// The limit in force.
        limit: usize,
    },
    /// The input ended in the middle of a multi-line reply ([`crate::Reply::parse`]).
    #[error("reply ends after a continuation line")]
    Incomplete,
    /// [`crate::Reply::parse`] was given more than one reply.
    #[error("trailing data after the last line of the reply, at line {line}")]
    TrailingData {
        /// Zero-based index of the first extra line.
        line: usize,
    },
    /// A value built from the reply (for example an EHLO capability) is invalid.
    #[error("invalid {rule} at byte {offset} of reply line {line}")]
    Value {
        /// The rule that failed.
        rule: &'static str,
        /// Zero-based index of the line within the reply.
        line: usize,
        /// Byte offset within that line.
        offset: usize,
    },
}
