//! A whole message: its sections, parsing and encoding, and what a resolver asks of a
//! response.

use super::encode::Encoder;
use super::{
    CLASS_IN, Edns, Header, Mismatch, ParseError, Query, Question, RData, Rcode, Record, RecordType,
};

/// A DNS message (RFC 1035 section 4.1): the header, then the question, answer, authority and
/// additional sections. The EDNS `OPT` pseudo-record is not among `additional`: it is parsed
/// into `edns`, and written at the end of the additional section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The header; its section counts are the lengths of the vectors below.
    pub header: Header,
    /// The question section.
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<Record>,
    /// The authority section (name servers, or the `SOA` of a negative answer).
    pub authority: Vec<Record>,
    /// The additional section, without the `OPT` record.
    pub additional: Vec<Record>,
    /// The EDNS(0) `OPT` record, when the message carries one (RFC 6891).
    pub edns: Option<Edns>,
}

impl Message {
    /// Parses a message, as received over UDP or with its TCP length prefix removed.
    ///
    /// Names are followed through compression pointers; `A`, `AAAA`, `CNAME`, `NS`, `MX`,
    /// `SOA` and `TXT` data is read into [`RData`] values and every other type kept as octets.
    /// The whole message must be well formed: every guard `docs/mx.md` lists ends the parse with
    /// a [`ParseError`] saying where and what. Never panics; allocates at most a small multiple
    /// of the message's length.
    pub fn parse(octets: &[u8]) -> Result<Message, ParseError> {
        super::parse::message(octets)
    }

    /// Encodes the message, compressing the owner names, questions and the names in `CNAME`,
    /// `NS`, `MX` and `SOA` data (RFC 1035 section 4.1.4, RFC 3597 section 4), pointing at
    /// any of the first 512 name suffixes written. The `OPT` record, when `edns` is set, is the
    /// last record.
    ///
    /// A message beyond what DNS can carry is cut to fit: at most 65,535 entries per section,
    /// RDATA of at most 65,535 octets, `TXT` strings of at most 255 octets (each cut, and the
    /// strings that would overflow the RDATA left out).
    pub fn encode(&self) -> Vec<u8> {
        Encoder::new().message(self)
    }

    /// The full response code: the header's 4 bits, extended by the `OPT` record's 8 upper bits
    /// when there is one (RFC 6891 section 6.1.3).
    pub fn rcode(&self) -> Rcode {
        let low = u16::from(self.header.rcode) & 0xf;
        let high = self
            .edns
            .as_ref()
            .map_or(0, |e| u16::from(e.extended_rcode));
        Rcode::from((high << 4) | low)
    }

    /// The TTL of a negative answer (NXDOMAIN or NODATA): the smaller of the TTL of the
    /// authority section's `SOA` record and that record's `MINIMUM` field (RFC 2308 section 5).
    /// `None` without an `SOA` in the authority section: RFC 2308 says such a negative answer
    /// is not cached.
    pub fn negative_ttl(&self) -> Option<u32> {
        self.authority.iter().find_map(|record| match &record.data {
            RData::Soa(soa) if record.rtype == RecordType::Soa => Some(record.ttl.min(soa.minimum)),
            _ => None,
        })
    }

    /// Checks that this message answers `query` (RFC 1035 section 7.3, RFC 5452 section 9.1):
    /// the `QR` bit, the ID, a standard query's opcode, exactly the question asked (the name
    /// compared ignoring ASCII case, the type, class IN), and class IN on every answer
    /// record. The response code is not checked: an NXDOMAIN can be the answer.
    pub fn check_answers(&self, query: &Query) -> Result<(), Mismatch> {
        if !self.header.response {
            return Err(Mismatch::NotResponse);
        }
        if self.header.id != query.id() {
            return Err(Mismatch::Id {
                expected: query.id(),
                got: self.header.id,
            });
        }
        if self.header.opcode != 0 {
            return Err(Mismatch::Opcode(self.header.opcode));
        }
        let [question] = self.questions.as_slice() else {
            return Err(Mismatch::QuestionCount(self.questions.len()));
        };
        if question.name != *query.name()
            || question.qtype != query.qtype()
            || question.qclass != CLASS_IN
        {
            return Err(Mismatch::Question {
                name: question.name.clone(),
                qtype: question.qtype,
                qclass: question.qclass,
            });
        }
        if let Some(record) = self.answers.iter().find(|r| r.class != CLASS_IN) {
            return Err(Mismatch::AnswerClass {
                name: record.name.clone(),
                class: record.class,
            });
        }
        Ok(())
    }
}
