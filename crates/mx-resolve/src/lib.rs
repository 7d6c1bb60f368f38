//! Sans-IO DNS for mail: a wire codec for the records a mail sender needs, and (module by
//! module) the RFC 5321 section 5.1 delivery planning built on it.
//!
//! The codec ([`wire`]) builds queries and parses responses (RFC 1035, EDNS(0) from RFC 6891,
//! `AAAA` from RFC 3596) with no I/O, no clock and no random source: the caller supplies the
//! query ID and moves the octets. It reads `A`, `AAAA`, `CNAME`, `NS`, `MX`, `SOA` and `TXT`
//! data, keeps every other type (`TLSA` among them) as octets, and refuses malformed messages
//! with a typed error carrying the octet offset; it never panics on what a peer sends.
//!
//! # Limits
//!
//! | limit | value | source |
//! |---|---|---|
//! | label | 63 octets ([`wire::MAX_LABEL_LEN`]) | RFC 1035 section 2.3.4 |
//! | name on the wire | 255 octets ([`wire::MAX_NAME_LEN`]) | RFC 1035 section 2.3.4 |
//! | compression pointers in one name | 127 ([`wire::MAX_POINTERS`]) | our choice: one per label at most |
//! | records announced by the header | what the message's length can hold (11 octets each) | checked before allocating |
//!
//! # A query and its answer
//!
//! ```
//! use mx_resolve::wire::{Message, Name, Query, RData, RecordType};
//!
//! // The caller picks a random ID; 0x1234 keeps the example readable.
//! let query = Query::new(0x1234, Name::from_ascii("example.org").unwrap(), RecordType::Mx);
//! let datagram = query.encode();
//! assert_eq!(datagram.len(), 12 + 17 + 11); // header, question, OPT record
//!
//! // The response a recursive server sent back: two MX records, and the address of the
//! // first exchange in the additional section, with compressed names.
//! let response: &[u8] = &[
//!     0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1, // ID, QR RD RA, counts
//!     7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'o', b'r', b'g', 0, 0, 15, 0, 1,
//!     0xc0, 12, 0, 15, 0, 1, 0, 0, 0x0e, 0x10, 0, 8, // example.org. MX, TTL 3600
//!     0, 10, 3, b'm', b'x', b'1', 0xc0, 12, //          10 mx1.example.org.
//!     0xc0, 12, 0, 15, 0, 1, 0, 0, 0x0e, 0x10, 0, 8,
//!     0, 20, 3, b'm', b'x', b'2', 0xc0, 12, //          20 mx2.example.org.
//!     0xc0, 43, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, //  mx1.example.org. A
//!     192, 0, 2, 7,
//! ];
//! let message = Message::parse(response).unwrap();
//! message.check_answers(&query).unwrap();
//!
//! let mut exchanges: Vec<(u16, String)> = message
//!     .answers
//!     .iter()
//!     .filter_map(|record| match &record.data {
//!         RData::Mx { preference, exchange } => Some((*preference, exchange.to_string())),
//!         _ => None,
//!     })
//!     .collect();
//! exchanges.sort();
//! assert_eq!(
//!     exchanges,
//!     [(10, "mx1.example.org.".to_string()), (20, "mx2.example.org.".to_string())]
//! );
//! assert_eq!(message.additional[0].data, RData::A([192, 0, 2, 7].into()));
//! ```
//!
//! # Delivery planning
//!
//! The planner ([`plan`]) turns DNS answers into the ordered list of addresses a message for a
//! domain is delivered to, by the rules of RFC 5321 section 5.1 and RFC 7505: MX records
//! followed through CNAMEs, the implicit MX, the null MX, equal preferences shuffled with a
//! random source the caller supplies, bad records dropped one at a time, caps and IPv4/IPv6
//! balance, loop detection against the addresses the caller declares as its own, address
//! literals, IDNA. It is sans-IO too: it asks for lookups and is handed the answers. Every
//! failure is classed permanent or temporary, with the enhanced status code a bounce carries.
//!
//! ```
//! use mx_resolve::plan::{plan_with, PlanConfig, SeededRng};
//!
//! // An address literal needs no DNS.
//! let candidates = plan_with("[192.0.2.7]", PlanConfig::default(), SeededRng::new(1), |_, _| {
//!     unreachable!("no lookup for a literal")
//! })
//! .unwrap();
//! assert_eq!(candidates[0].to_string(), "0 . 192.0.2.7");
//! ```
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `tokio` | [`tokio::Resolver`](crate::tokio): a stub resolver (nameservers from `/etc/resolv.conf` or given, UDP with retries and a random ID and port, TCP after truncation, a TTL cache) and `Resolver::plan`, which drives the planner with it |
//!
//! Without features the crate depends on no async runtime and does no I/O.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod wire;

pub mod plan;

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
