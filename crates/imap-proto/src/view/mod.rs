//! The per-session view of the selected mailbox (sans-IO): the sequence number to UID map,
//! UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, and the changes other sessions made, queued until the
//! protocol allows them to be announced (RFC 3501 section 7.4.1, RFC 2180 section 4, RFC 9051
//! section 7.5.1, RFC 7162 section 3.2.10).
