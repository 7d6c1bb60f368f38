//! The values of a DNS message: header, questions, resource records and their data.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::Name;

/// The class of the Internet, `IN` (RFC 1035 section 3.2.4); the only class mail uses.
pub const CLASS_IN: u16 = 1;

/// A resource record type (RFC 1035 section 3.2.2 and later RFCs). The types mail needs have
/// names; every other value is `Other`. `From<u16>` maps the named values to their variants,
/// so `Other` never holds one of them when built that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// `A` (1): an IPv4 address (RFC 1035 section 3.4.1).
    A,
    /// `NS` (2): an authoritative name server (RFC 1035 section 3.3.11).
    Ns,
    /// `CNAME` (5): the canonical name of an alias (RFC 1035 section 3.3.1).
    Cname,
    /// `SOA` (6): the start of a zone of authority (RFC 1035 section 3.3.13).
    Soa,
    /// `MX` (15): a mail exchange (RFC 1035 section 3.3.9).
    Mx,
    /// `TXT` (16): text strings (RFC 1035 section 3.3.14).
    Txt,
    /// `AAAA` (28): an IPv6 address (RFC 3596).
    Aaaa,
    /// `OPT` (41): the EDNS(0) pseudo-record (RFC 6891).
    Opt,
    /// `TLSA` (52): a DANE certificate association (RFC 6698); its data is kept opaque.
    Tlsa,
    /// Any other type, by number.
    Other(u16),
}

impl From<u16> for RecordType {
    fn from(value: u16) -> RecordType {
        match value {
            1 => RecordType::A,
            2 => RecordType::Ns,
            5 => RecordType::Cname,
            6 => RecordType::Soa,
            15 => RecordType::Mx,
            16 => RecordType::Txt,
            28 => RecordType::Aaaa,
            41 => RecordType::Opt,
            52 => RecordType::Tlsa,
            other => RecordType::Other(other),
        }
    }
}

impl From<RecordType> for u16 {
    fn from(value: RecordType) -> u16 {
        match value {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
            RecordType::Opt => 41,
            RecordType::Tlsa => 52,
            RecordType::Other(other) => other,
        }
    }
}

/// A response code (RFC 1035 section 4.1.1; RFC 6895 for the registry). `From<u16>` maps the
/// named values to their variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rcode {
    /// 0: no error.
    #[default]
    NoError,
    /// 1: the server could not interpret the query.
    FormErr,
    /// 2: the server failed (a temporary failure to a mail sender).
    ServFail,
    /// 3: the name does not exist (NXDOMAIN, RFC 2308).
    NxDomain,
    /// 4: the server does not implement the kind of query.
    NotImp,
    /// 5: the server refuses to answer.
    Refused,
    /// Any other code, by number (up to 12 bits with EDNS, see [`Message::rcode`]).
    ///
    /// [`Message::rcode`]: super::Message::rcode
    Other(u16),
}

impl From<u16> for Rcode {
    fn from(value: u16) -> Rcode {
        match value {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            other => Rcode::Other(other),
        }
    }
}

impl From<Rcode> for u16 {
    fn from(value: Rcode) -> u16 {
        match value {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::Other(other) => other,
        }
    }
}

/// The header of a message (RFC 1035 section 4.1.1), without the section counts, which the
/// section vectors of [`Message`](super::Message) carry. The reserved `Z` bit is read as
/// nothing and written as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// The query identifier, copied from query to response.
    pub id: u16,
    /// `QR`: this is a response.
    pub response: bool,
    /// `OPCODE` (4 bits; 0 is a standard query). Only the low 4 bits are written.
    pub opcode: u8,
    /// `AA`: the answer is authoritative.
    pub authoritative: bool,
    /// `TC`: the message was truncated to fit the transport; ask again over TCP.
    pub truncated: bool,
    /// `RD`: recursion desired.
    pub recursion_desired: bool,
    /// `RA`: recursion available.
    pub recursion_available: bool,
    /// `AD`: authentic data, the resolver validated the answer with DNSSEC (RFC 4035 section
    /// 3.2.3).
    pub authentic_data: bool,
    /// `CD`: checking disabled (RFC 4035 section 3.2.2).
    pub checking_disabled: bool,
    /// `RCODE`: the low 4 bits of the response code as the header carries them; the EDNS
    /// extension adds 8 more ([`Message::rcode`](super::Message::rcode) combines them). Only
    /// the low 4 bits are written.
    pub rcode: Rcode,
}

/// A question (RFC 1035 section 4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// `QNAME`.
    pub name: Name,
    /// `QTYPE`.
    pub qtype: RecordType,
    /// `QCLASS`; [`CLASS_IN`] for every question mail asks.
    pub qclass: u16,
}

/// A resource record (RFC 1035 section 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub name: Name,
    /// The type; says how `data` was read.
    pub rtype: RecordType,
    /// The class; [`CLASS_IN`] for the Internet.
    pub class: u16,
    /// Seconds the record may be cached, as received (RFC 2181 section 8 asks readers to treat
    /// values with the top bit set as zero; that is the cache's decision).
    pub ttl: u32,
    /// The data, read by `rtype`.
    pub data: RData,
}

/// The data of a resource record. The types mail needs are read into values; every other type
/// (TLSA among them, kept for DANE) is kept as its octets. Names inside the data are read
/// through compression pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// `A`: an IPv4 address.
    A(Ipv4Addr),
    /// `AAAA`: an IPv6 address (RFC 3596 section 2.2).
    Aaaa(Ipv6Addr),
    /// `CNAME`: the canonical name.
    Cname(Name),
    /// `NS`: a name server.
    Ns(Name),
    /// `MX`: a mail exchange and its preference (lower is preferred).
    Mx {
        /// `PREFERENCE`.
        preference: u16,
        /// `EXCHANGE`; the root for a null MX (RFC 7505).
        exchange: Name,
    },
    /// `SOA`: the start of a zone of authority. Boxed: it holds two names, and inline it
    /// would make every record 160 octets instead of 104, which moving records into their
    /// section costs on every parse (about a fifth of parsing an MX response).
    Soa(Box<Soa>),
    /// `TXT`: one or more character strings, each at most 255 octets.
    Txt(Vec<Vec<u8>>),
    /// Any other type: the RDATA octets as received (compression pointers in them, which RFC
    /// 3597 forbids for new types, are not followed).
    Opaque(Vec<u8>),
}

/// The data of an `SOA` record (RFC 1035 section 3.3.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// `MNAME`: the primary name server of the zone.
    pub mname: Name,
    /// `RNAME`: the mailbox of the person responsible, as a name.
    pub rname: Name,
    /// `SERIAL`: the version of the zone.
    pub serial: u32,
    /// `REFRESH`, seconds.
    pub refresh: u32,
    /// `RETRY`, seconds.
    pub retry: u32,
    /// `EXPIRE`, seconds.
    pub expire: u32,
    /// `MINIMUM`: since RFC 2308, the TTL of negative answers from the zone.
    pub minimum: u32,
}

/// The EDNS(0) `OPT` pseudo-record (RFC 6891 section 6.1), carried in the additional section
/// and kept apart from the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edns {
    /// The largest UDP payload the sender can reassemble (the record's CLASS field).
    pub udp_payload_size: u16,
    /// The upper 8 bits of the 12-bit response code.
    pub extended_rcode: u8,
    /// The EDNS version; 0 is the only one defined.
    pub version: u8,
    /// `DO`: the sender understands DNSSEC records (RFC 3225).
    pub dnssec_ok: bool,
    /// The options as (code, data) pairs, in order.
    pub options: Vec<(u16, Vec<u8>)>,
}

impl Default for Edns {
    /// Version 0, no flags, no options, and the 1232-octet payload DNS Flag Day 2020
    /// recommends (a size that avoids IP fragmentation on common paths).
    fn default() -> Edns {
        Edns {
            udp_payload_size: 1232,
            extended_rcode: 0,
            version: 0,
            dnssec_ok: false,
            options: Vec::new(),
        }
    }
}
