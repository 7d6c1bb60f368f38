//! The message encoder, with name compression (RFC 1035 section 4.1.4).

use super::{Edns, Header, Message, Name, Question, RData, Record, RecordType};

/// The most entries a section count, and the most octets an RDLENGTH, can announce.
const MAX_COUNT: usize = u16::MAX as usize;
/// A compression pointer holds a 14-bit offset.
const MAX_POINTER_TARGET: usize = 0x3fff;
/// Name suffixes remembered for compression: enough for any ordinary response, and a bound on
/// the work per name in a huge message.
const MAX_SUFFIXES: usize = 512;

/// Writes a message into a buffer, remembering where each name suffix was written so that a
/// later name can point at it.
pub(crate) struct Encoder<'a> {
    pub(crate) out: Vec<u8>,
    /// Name suffixes already written (wire octets without the root) and their offsets.
    suffixes: Vec<(&'a [u8], u16)>,
}

impl<'a> Encoder<'a> {
    pub(crate) fn new() -> Encoder<'a> {
        Encoder {
            out: Vec::with_capacity(512),
            suffixes: Vec::new(),
        }
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn header(&mut self, header: &Header, counts: [usize; 4]) {
        self.u16(header.id);
        let rcode = u16::from(header.rcode) & 0xf;
        let flags = (u16::from(header.response) << 15)
            | (u16::from(header.opcode & 0xf) << 11)
            | (u16::from(header.authoritative) << 10)
            | (u16::from(header.truncated) << 9)
            | (u16::from(header.recursion_desired) << 8)
            | (u16::from(header.recursion_available) << 7)
            | (u16::from(header.authentic_data) << 5)
            | (u16::from(header.checking_disabled) << 4)
            | rcode;
        self.u16(flags);
        for count in counts {
            self.u16(count.min(MAX_COUNT) as u16);
        }
    }

    /// Writes a name, pointing at an earlier copy of its longest suffix already written
    /// (compared octet for octet, so the case of every name is kept).
    pub(crate) fn name(&mut self, name: &'a Name) {
        let mut suffix = name.wire_labels();
        while let Some((&len, tail)) = suffix.split_first() {
            if let Some(&(_, offset)) = self.suffixes.iter().find(|(s, _)| *s == suffix) {
                self.u16(0xc000 | offset);
                return;
            }
            let here = self.out.len();
            if here <= MAX_POINTER_TARGET && self.suffixes.len() < MAX_SUFFIXES {
                self.suffixes.push((suffix, here as u16));
            }
            let (label, rest) = tail
                .split_at_checked(usize::from(len))
                .unwrap_or((tail, &[]));
            self.out.push(len);
            self.out.extend_from_slice(label);
            suffix = rest;
        }
        self.out.push(0);
    }

    pub(crate) fn question(&mut self, question: &'a Question) {
        self.name(&question.name);
        self.u16(question.qtype.into());
        self.u16(question.qclass);
    }

    pub(crate) fn record(&mut self, record: &'a Record) {
        self.name(&record.name);
        self.u16(record.rtype.into());
        self.u16(record.class);
        self.u32(record.ttl);
        let length_at = self.out.len();
        self.u16(0);
        let start = self.out.len();
        match &record.data {
            RData::A(address) => self.out.extend_from_slice(&address.octets()),
            RData::Aaaa(address) => self.out.extend_from_slice(&address.octets()),
            RData::Cname(name) | RData::Ns(name) => self.name(name),
            RData::Mx {
                preference,
                exchange,
            } => {
                self.u16(*preference);
                self.name(exchange);
            }
            RData::Soa(soa) => {
                self.name(&soa.mname);
                self.name(&soa.rname);
                for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] {
                    self.u32(value);
                }
            }
            RData::Txt(strings) => {
                for string in strings {
                    let string = string.get(..255).unwrap_or(string);
                    if self.out.len() - start + 1 + string.len() > MAX_COUNT {
                        break;
                    }
                    self.out.push(string.len() as u8);
                    self.out.extend_from_slice(string);
                }
            }
            RData::Opaque(octets) => {
                self.out
                    .extend_from_slice(octets.get(..MAX_COUNT).unwrap_or(octets));
            }
        }
        self.patch_length(length_at, start);
    }

    /// The `OPT` pseudo-record (RFC 6891 section 6.1.2).
    pub(crate) fn opt(&mut self, edns: &Edns) {
        self.out.push(0);
        self.u16(RecordType::Opt.into());
        self.u16(edns.udp_payload_size);
        let ttl = (u32::from(edns.extended_rcode) << 24)
            | (u32::from(edns.version) << 16)
            | (u32::from(edns.dnssec_ok) << 15);
        self.u32(ttl);
        let length_at = self.out.len();
        self.u16(0);
        let start = self.out.len();
        for (code, data) in &edns.options {
            let data = data.get(..MAX_COUNT).unwrap_or(data);
            if self.out.len() - start + 4 + data.len() > MAX_COUNT {
                break;
            }
            self.u16(*code);
            self.u16(data.len() as u16);
            self.out.extend_from_slice(data);
        }
        self.patch_length(length_at, start);
    }

    fn patch_length(&mut self, length_at: usize, start: usize) {
        let length = (self.out.len() - start).min(MAX_COUNT) as u16;
        if let Some(slot) = self.out.get_mut(length_at..length_at + 2) {
            slot.copy_from_slice(&length.to_be_bytes());
        }
    }

    pub(crate) fn message(mut self, message: &'a Message) -> Vec<u8> {
        let additional =
            message.additional.len().min(MAX_COUNT - 1) + usize::from(message.edns.is_some());
        let counts = [
            message.questions.len(),
            message.answers.len(),
            message.authority.len(),
            additional,
        ];
        self.header(&message.header, counts);
        for question in message.questions.iter().take(MAX_COUNT) {
            self.question(question);
        }
        for record in message.answers.iter().take(MAX_COUNT) {
            self.record(record);
        }
        for record in message.authority.iter().take(MAX_COUNT) {
            self.record(record);
        }
        for record in message.additional.iter().take(MAX_COUNT - 1) {
            self.record(record);
        }
        if let Some(edns) = &message.edns {
            self.opt(edns);
        }
        self.out
    }
}
