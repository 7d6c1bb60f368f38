//! Parse errors: where the input went wrong and what was expected there.

use std::fmt;

/// What kind of fault a [`ParseError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes do not match the grammar at the offset.
    Syntax,
    /// The input ended before the message did (a parser was handed less than one frame).
    Incomplete,
    /// A number does not fit its type (`number` is 32 bits, `number64` 63 bits) or is zero
    /// where the grammar requires `nz-number`.
    Number,
    /// Lists, parentheses or body structures nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Bytes that must be UTF-8 (or 7-bit) are not.
    Encoding,
    /// The message is well formed but a value is not allowed (an invalid date, a mailbox name
    /// that is not valid modified UTF-7, ...).
    Invalid,
}

/// Nesting bound for parenthesised lists, search keys and body structures; deeper input is
/// refused with [`ErrorKind::TooDeep`] instead of recursing without bound.
pub const MAX_DEPTH: u32 = 64;

/// A message that does not parse: the byte offset (from the start of the message) where it went
/// wrong and what the grammar expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    offset: usize,
    expected: &'static str,
    kind: ErrorKind,
}

impl ParseError {
    /// An error at `offset` where `expected` (a grammar rule or a literal token, for people)
    /// was due.
    pub fn new(offset: usize, expected: &'static str, kind: ErrorKind) -> Self {
        Self {
            offset,
            expected,
            kind,
        }
    }

    /// Byte offset from the start of the message.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was expected at the offset, e.g. `"SP"` or `"sequence-set"`.
    pub fn expected(&self) -> &'static str {
        self.expected
    }

    /// The kind of fault.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Incomplete => "message ends early",
            ErrorKind::Number => "number out of range",
            ErrorKind::TooDeep => "nesting too deep",
            ErrorKind::Encoding => "bad encoding",
            ErrorKind::Invalid => "invalid value",
        };
        write!(
            f,
            "{what} at offset {}: expected {}",
            self.offset, self.expected
        )
    }
}

impl std::error::Error for ParseError {}

/// A value handed to a constructor cannot be encoded faithfully (a CR or LF in a quoted
/// string, an empty atom, a tag with a `+`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct ValidationError {
    /// The type being built, e.g. `"atom"`.
    pub what: &'static str,
    /// Why the value was refused.
    pub reason: &'static str,
}

impl ValidationError {
    /// A refusal of a value for `what` because of `reason`.
    pub const fn new(what: &'static str, reason: &'static str) -> Self {
        Self { what, reason }
    }
}
