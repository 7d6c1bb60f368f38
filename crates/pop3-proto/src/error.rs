//! Codec errors: typed, naming the rule that failed and the offset, never echoing the input
//! (a `PASS` or `AUTH` line carries credentials; docs/design.md section 3.6).

/// Why a command line does not parse (RFC 1939 section 3, RFC 2449 section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The line is empty or the keyword is not one POP3 defines.
    #[error("unknown command")]
    UnknownCommand,
    /// The keyword is known but an argument it needs is missing.
    #[error("{verb}: missing argument")]
    MissingArgument {
        /// The keyword.
        verb: &'static str,
    },
    /// The keyword takes no (more) arguments, but the line goes on at `offset`.
    #[error("{verb}: unexpected argument at octet {offset}")]
    UnexpectedArgument {
        /// The keyword.
        verb: &'static str,
        /// Where the surplus begins.
        offset: usize,
    },
    /// An argument is malformed (a message number that is not a decimal number, a digest
    /// that is not 32 hex digits, a control character).
    #[error("{verb}: malformed argument at octet {offset}")]
    BadArgument {
        /// The keyword.
        verb: &'static str,
        /// Where the argument begins.
        offset: usize,
    },
    /// The line holds octets that are not UTF-8 (RFC 6856 allows UTF-8; nothing else).
    #[error("invalid UTF-8 at octet {offset}")]
    NotUtf8 {
        /// The first bad octet.
        offset: usize,
    },
}

/// Why a response line does not parse (RFC 1939 section 3, RFC 2449 section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The line starts with neither `+OK` nor `-ERR` (nor `+ ` where a continuation may come).
    #[error("response status indicator missing")]
    BadStatus,
    /// A response code opened with `[` is not closed, or is malformed, at `offset`.
    #[error("malformed response code at octet {offset}")]
    BadCode {
        /// Where the code begins.
        offset: usize,
    },
    /// A field of a positive response (a message number, a size, a unique-id) is malformed.
    #[error("malformed {field} at octet {offset}")]
    BadField {
        /// Which field.
        field: &'static str,
        /// Where it begins.
        offset: usize,
    },
    /// The line holds octets that are not UTF-8 or control characters.
    #[error("invalid text at octet {offset}")]
    BadText {
        /// The first bad octet.
        offset: usize,
    },
}

/// A value that would not encode to itself (CR, LF, a space where none may be, a length over
/// the limit): refused when it is constructed (docs/design.md section 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value is empty or longer than `limit` octets.
    #[error("length must be 1 to {limit} octets")]
    Length {
        /// The largest length allowed.
        limit: usize,
    },
    /// The octet at `offset` is not allowed in this value.
    #[error("octet at {offset} is not allowed here")]
    Octet {
        /// Where it is.
        offset: usize,
    },
}
