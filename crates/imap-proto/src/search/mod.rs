//! SEARCH evaluation (RFC 3501 section 6.4.4, RFC 9051 section 6.4.4, ESEARCH RFC 4731,
//! SEARCHRES RFC 5182, CONDSTORE RFC 7162 section 3.1.5) over a trait that exposes what a key
//! looks at: flags, dates, size, header fields and text.
