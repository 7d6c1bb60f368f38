//! The DNS wire codec (RFC 1035 section 4, with EDNS(0) from RFC 6891): a query builder and a
//! message parser and encoder, without I/O.
//!
//! | type | what |
//! |---|---|
//! | [`Query`] | the question a stub resolver sends, with EDNS(0) and the `DO` bit |
//! | [`Message`] | a whole message: [`Message::parse`], [`Message::encode`], [`Message::check_answers`], [`Message::negative_ttl`] |
//! | [`Name`] | an absolute domain name, compared ignoring ASCII case |
//! | [`Record`], [`RData`], [`Soa`], [`Edns`], [`Header`], [`Question`] | the parts of a message |
//! | [`ParseError`], [`ParseErrorKind`], [`Mismatch`] | a message that does not parse; a response that does not answer the query |

mod encode;
mod error;
mod message;
mod name;
mod parse;
mod query;
mod types;

pub use error::{Mismatch, ParseError, ParseErrorKind};
pub use message::Message;
pub use name::{Labels, MAX_LABEL_LEN, MAX_NAME_LEN, Name, NameError};
pub use parse::MAX_POINTERS;
pub use query::{DEFAULT_UDP_PAYLOAD, Query};
pub use types::{CLASS_IN, Edns, Header, Question, RData, Rcode, Record, RecordType, Soa};
