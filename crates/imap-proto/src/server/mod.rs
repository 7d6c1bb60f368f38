//! The IMAP server state machine (RFC 3501, RFC 9051 and the extensions of the codec):
//! not authenticated, authenticated, selected, logout.
