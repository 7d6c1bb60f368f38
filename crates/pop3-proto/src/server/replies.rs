//! The text of every response the server sends by itself, in one place.

pub(super) const CRLF: &[u8] = b"\r\n";
pub(super) const UNKNOWN: &[u8] = b"-ERR Unknown command";
pub(super) const SYNTAX: &[u8] = b"-ERR Syntax error in arguments";
pub(super) const NOT_UTF8: &[u8] = b"-ERR Command is not valid UTF-8";
pub(super) const BAD_SEQUENCE_AUTH: &[u8] = b"-ERR Not valid before login";
pub(super) const BAD_SEQUENCE_TRANSACTION: &[u8] = b"-ERR Not valid after login";
pub(super) const PASS_WITHOUT_USER: &[u8] = b"-ERR Send USER first";
pub(super) const USER_OK: &[u8] = b"+OK Send PASS";
pub(super) const USER_DISABLED: &[u8] = b"-ERR USER is not offered";
pub(super) const TLS_FIRST: &[u8] = b"-ERR Use STLS first: no credentials before TLS";
pub(super) const APOP_DISABLED: &[u8] = b"-ERR APOP is not offered";
pub(super) const UNKNOWN_MECHANISM: &[u8] = b"-ERR Unsupported authentication mechanism";
pub(super) const CANNOT_DECODE: &[u8] = b"-ERR Cannot decode the response";
pub(super) const AUTH_CANCELLED: &[u8] = b"-ERR Authentication cancelled";
pub(super) const AUTH_FAILED: &[u8] = b"-ERR [AUTH] Authentication failed";
pub(super) const AUTH_FAILED_LAST: &[u8] =
    b"-ERR [AUTH] Authentication failed; too many failures, closing";
pub(super) const CHALLENGE: &[u8] = b"+ ";
pub(super) const TLS_OK: &[u8] = b"+OK Begin TLS negotiation";
pub(super) const TLS_UNAVAILABLE: &[u8] = b"-ERR STLS not available";
pub(super) const PIPELINED_AFTER_STLS: &[u8] = b"-ERR Commands pipelined after STLS, closing";
pub(super) const CAPA: &[u8] = b"+OK Capability list follows";
pub(super) const NO_SUCH_MESSAGE: &[u8] = b"-ERR No such message";
pub(super) const ALREADY_DELETED: &[u8] = b"-ERR Message already deleted";
pub(super) const DELETED: &[u8] = b"+OK Message deleted";
pub(super) const NOOP: &[u8] = b"+OK";
pub(super) const MESSAGE_FOLLOWS: &[u8] = b"+OK Message follows";
pub(super) const UTF8_OK: &[u8] = b"+OK UTF8 enabled";
pub(super) const UTF8_UNAVAILABLE: &[u8] = b"-ERR UTF8 not available";
pub(super) const LANG_LIST: &[u8] = b"+OK Language listing follows";
pub(super) const LANG_UNAVAILABLE: &[u8] = b"-ERR LANG not available";
pub(super) const LANG_UNKNOWN: &[u8] = b"-ERR Unsupported language";
pub(super) const BYE: &[u8] = b"+OK Bye";
pub(super) const UPDATE_OK: &[u8] = b"+OK Bye, deleted messages removed";
pub(super) const LINE_TOO_LONG: &[u8] = b"-ERR Line too long, closing";
pub(super) const TOO_MANY_ERRORS: &[u8] = b"-ERR Too many errors, closing";
pub(super) const TOO_MUCH_INPUT: &[u8] = b"-ERR Too much input, closing";
pub(super) const TIMEOUT: &[u8] = b"-ERR Disconnected for inactivity";
pub(super) const LOGIN_TIMEOUT: &[u8] = b"-ERR No login in time, closing";
pub(super) const HTTP_REQUEST: &[u8] =
    b"-ERR This is a POP3 server, not a web server: HTTP request refused, closing";
pub(super) const SHUTDOWN: &[u8] = b"-ERR [SYS/TEMP] Server shutting down";
pub(super) const END: &[u8] = b".\r\n";
