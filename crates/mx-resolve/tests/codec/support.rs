//! Helpers to assemble packets octet by octet, and to read results.

use mx_resolve::wire::{Message, Name, ParseErrorKind, RData};

/// A message under construction: `header` writes the 12-octet header, the other methods append.
pub(crate) struct Packet(pub(crate) Vec<u8>);

impl Packet {
    /// A header with ID 0x0101, QR and RD set, and the given counts.
    pub(crate) fn response(qd: u16, an: u16, ns: u16, ar: u16) -> Packet {
        let mut p = Packet(vec![0x01, 0x01, 0x81, 0x00]);
        for count in [qd, an, ns, ar] {
            p.u16(count);
        }
        p
    }

    pub(crate) fn bytes(&mut self, octets: &[u8]) -> &mut Packet {
        self.0.extend_from_slice(octets);
        self
    }

    pub(crate) fn u16(&mut self, value: u16) -> &mut Packet {
        self.bytes(&value.to_be_bytes())
    }

    /// An uncompressed name from dotted text (`""` for the root).
    pub(crate) fn name(&mut self, dotted: &str) -> &mut Packet {
        for label in dotted.split('.').filter(|l| !l.is_empty()) {
            self.0.push(label.len() as u8);
            self.0.extend_from_slice(label.as_bytes());
        }
        self.0.push(0);
        self
    }

    /// Type and class IN of a question.
    pub(crate) fn qtype(&mut self, qtype: u16) -> &mut Packet {
        self.u16(qtype).u16(1)
    }

    /// Type, class, TTL 300 and RDLENGTH of a record (the owner name already written).
    pub(crate) fn rr(&mut self, rtype: u16, class: u16, rdlength: u16) -> &mut Packet {
        self.u16(rtype)
            .u16(class)
            .bytes(&[0, 0, 1, 44])
            .u16(rdlength)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// The kind and offset of the error parsing `octets`; panics (failing the test) if it parses.
pub(crate) fn error_of(octets: &[u8]) -> (ParseErrorKind, usize) {
    match Message::parse(octets) {
        Ok(message) => panic!("parsed: {message:?}"),
        Err(e) => (e.kind(), e.offset()),
    }
}

pub(crate) fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

/// The MX records of the answer section as (preference, exchange text), sorted.
pub(crate) fn mx_of(message: &Message) -> Vec<(u16, String)> {
    let mut mx: Vec<(u16, String)> = message
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::Mx {
                preference,
                exchange,
            } => Some((*preference, exchange.to_string())),
            _ => None,
        })
        .collect();
    mx.sort();
    mx
}
