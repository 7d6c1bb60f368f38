//! The query builder.

use super::encode::Encoder;
use super::{CLASS_IN, Edns, Header, Name, RecordType};

/// The EDNS payload size a query advertises unless told otherwise: 1232 octets, the size DNS
/// Flag Day 2020 recommends to avoid IP fragmentation.
pub const DEFAULT_UDP_PAYLOAD: u16 = 1232;

/// A query for one name and type in class IN, as a stub resolver sends it: recursion desired,
/// and EDNS(0) advertising [`DEFAULT_UDP_PAYLOAD`] unless changed. The caller supplies the ID,
/// which must be random (RFC 5452 section 9.2): this crate has no random source.
///
/// ```
/// use mx_resolve::wire::{Name, Query, RecordType};
///
/// let query = Query::new(0x1234, Name::from_ascii("example.org").unwrap(), RecordType::Mx)
///     .dnssec_ok(true);
/// let octets = query.encode();
/// // ID, flags (RD), one question, no answers or authority, one additional (OPT).
/// assert_eq!(&octets[..12], &[0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    id: u16,
    name: Name,
    qtype: RecordType,
    udp_payload_size: Option<u16>,
    dnssec_ok: bool,
    recursion_desired: bool,
}

impl Query {
    /// A query with ID `id` for `name` and `qtype`, class IN.
    pub fn new(id: u16, name: Name, qtype: RecordType) -> Query {
        Query {
            id,
            name,
            qtype,
            udp_payload_size: Some(DEFAULT_UDP_PAYLOAD),
            dnssec_ok: false,
            recursion_desired: true,
        }
    }

    /// Sends an EDNS(0) `OPT` record advertising `udp_payload_size` octets (RFC 6891 section
    /// 6.2.5; values under 512 are treated as 512 by servers).
    pub fn edns(mut self, udp_payload_size: u16) -> Query {
        self.udp_payload_size = Some(udp_payload_size);
        self
    }

    /// Sends no `OPT` record (a plain RFC 1035 query; answers are then limited to 512 octets
    /// over UDP). Also clears the `DO` bit, which only EDNS can carry.
    pub fn no_edns(mut self) -> Query {
        self.udp_payload_size = None;
        self.dnssec_ok = false;
        self
    }

    /// Sets the `DO` bit (RFC 3225): the answer may carry DNSSEC records. Setting it turns EDNS
    /// back on with [`DEFAULT_UDP_PAYLOAD`] after [`no_edns`](Query::no_edns).
    pub fn dnssec_ok(mut self, dnssec_ok: bool) -> Query {
        self.dnssec_ok = dnssec_ok;
        if dnssec_ok && self.udp_payload_size.is_none() {
            self.udp_payload_size = Some(DEFAULT_UDP_PAYLOAD);
        }
        self
    }

    /// Sets the `RD` bit (on by default: a stub resolver asks a recursive server).
    pub fn recursion_desired(mut self, recursion_desired: bool) -> Query {
        self.recursion_desired = recursion_desired;
        self
    }

    /// The query ID.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// The name asked about.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The type asked for.
    pub fn qtype(&self) -> RecordType {
        self.qtype
    }

    /// The EDNS payload size advertised, `None` without EDNS.
    pub fn udp_payload_size(&self) -> Option<u16> {
        self.udp_payload_size
    }

    /// Whether the `DO` bit is set.
    pub fn is_dnssec_ok(&self) -> bool {
        self.dnssec_ok
    }

    /// The query as octets, ready for a UDP datagram (over TCP, prefix the two-octet length).
    pub fn encode(&self) -> Vec<u8> {
        let header = Header {
            id: self.id,
            recursion_desired: self.recursion_desired,
            ..Header::default()
        };
        let mut encoder = Encoder::new();
        let additional = usize::from(self.udp_payload_size.is_some());
        encoder.header(&header, [1, 0, 0, additional]);
        encoder.name(&self.name);
        encoder.u16(self.qtype.into());
        encoder.u16(CLASS_IN);
        if let Some(udp_payload_size) = self.udp_payload_size {
            encoder.opt(&Edns {
                udp_payload_size,
                dnssec_ok: self.dnssec_ok,
                ..Edns::default()
            });
        }
        encoder.out
    }
}
