//! Differential test against hickory-proto, an independent DNS codec: messages generated here
//! are built as hickory messages and encoded by hickory, then parsed by ours to the same
//! records; encoded by ours, they parse in hickory to the same records.

use hickory_proto::op::{
    Edns as HEdns, Message as HMessage, MessageType, OpCode, Query as HQuery, ResponseCode,
};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::rdata::{A as HA, AAAA as HAAAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{
    DNSClass, Name as HName, RData as HRData, Record as HRecord, RecordType as HType,
};
use hickory_proto::serialize::binary::{BinDecoder, BinEncodable, BinEncoder, Restrict};
use mx_resolve::wire::{
    Edns, Header, Message, Name, Question, RData, Rcode, Record, RecordType, Soa,
};
use proptest::prelude::*;

use crate::packets;
use crate::strategies;

fn to_hname(name: &Name) -> HName {
    HName::from_labels(name.labels()).unwrap()
}

fn from_hname(name: &HName) -> Name {
    Name::from_labels(name.iter()).unwrap()
}

fn to_hrdata(rtype: RecordType, data: &RData) -> HRData {
    match data {
        RData::A(address) => HRData::A(HA(*address)),
        RData::Aaaa(address) => HRData::AAAA(HAAAA(*address)),
        RData::Cname(target) => HRData::CNAME(CNAME(to_hname(target))),
        RData::Ns(target) => HRData::NS(NS(to_hname(target))),
        RData::Mx {
            preference,
            exchange,
        } => HRData::MX(MX::new(*preference, to_hname(exchange))),
        RData::Soa(soa) => HRData::SOA(SOA::new(
            to_hname(&soa.mname),
            to_hname(&soa.rname),
            soa.serial,
            soa.refresh as i32,
            soa.retry as i32,
            soa.expire as i32,
            soa.minimum,
        )),
        RData::Txt(strings) => {
            HRData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
        }
        RData::Opaque(octets) => {
            // hickory reads the octets as it would off the wire (TLSA into its own type).
            let mut decoder = BinDecoder::new(octets);
            let length = Restrict::new(octets.len() as u16);
            HRData::read(&mut decoder, HType::from(u16::from(rtype)), length).unwrap()
        }
    }
}

fn from_hrdata(data: &HRData) -> RData {
    match data {
        HRData::A(a) => RData::A(a.0),
        HRData::AAAA(a) => RData::Aaaa(a.0),
        HRData::CNAME(c) => RData::Cname(from_hname(&c.0)),
        HRData::NS(n) => RData::Ns(from_hname(&n.0)),
        HRData::MX(mx) => RData::Mx {
            preference: mx.preference(),
            exchange: from_hname(mx.exchange()),
        },
        HRData::SOA(soa) => RData::Soa(Box::new(Soa {
            mname: from_hname(soa.mname()),
            rname: from_hname(soa.rname()),
            serial: soa.serial(),
            refresh: soa.refresh() as u32,
            retry: soa.retry() as u32,
            expire: soa.expire() as u32,
            minimum: soa.minimum(),
        })),
        HRData::TXT(txt) => RData::Txt(txt.iter().map(|s| s.to_vec()).collect()),
        other => {
            let mut octets = Vec::new();
            other.emit(&mut BinEncoder::new(&mut octets)).unwrap();
            RData::Opaque(octets)
        }
    }
}

fn to_hrecord(record: &Record) -> HRecord {
    let mut r = HRecord::from_rdata(
        to_hname(&record.name),
        record.ttl,
        to_hrdata(record.rtype, &record.data),
    );
    r.set_dns_class(DNSClass::from(record.class));
    r
}

fn from_hrecord(record: &HRecord) -> Record {
    Record {
        name: from_hname(record.name()),
        rtype: RecordType::from(u16::from(record.record_type())),
        class: u16::from(record.dns_class()),
        ttl: record.ttl(),
        data: from_hrdata(record.data()),
    }
}

fn to_hmessage(message: &Message) -> HMessage {
    let h = &message.header;
    let mut m = HMessage::new();
    m.set_id(h.id)
        .set_message_type(if h.response {
            MessageType::Response
        } else {
            MessageType::Query
        })
        .set_op_code(OpCode::from_u8(h.opcode))
        .set_authoritative(h.authoritative)
        .set_truncated(h.truncated)
        .set_recursion_desired(h.recursion_desired)
        .set_recursion_available(h.recursion_available)
        .set_authentic_data(h.authentic_data)
        .set_checking_disabled(h.checking_disabled)
        .set_response_code(ResponseCode::from(0, u16::from(h.rcode) as u8));
    for q in &message.questions {
        let mut query = HQuery::query(to_hname(&q.name), HType::from(u16::from(q.qtype)));
        query.set_query_class(DNSClass::from(q.qclass));
        m.add_query(query);
    }
    m.add_answers(message.answers.iter().map(to_hrecord));
    m.add_name_servers(message.authority.iter().map(to_hrecord));
    m.add_additionals(message.additional.iter().map(to_hrecord));
    if let Some(edns) = &message.edns {
        let mut e = HEdns::new();
        e.set_max_payload(edns.udp_payload_size)
            .set_version(edns.version)
            .set_dnssec_ok(edns.dnssec_ok);
        for (code, data) in &edns.options {
            e.options_mut()
                .insert(EdnsOption::Unknown(*code, data.clone()));
        }
        m.set_edns(e);
    }
    m
}

fn from_hmessage(m: &HMessage) -> Message {
    Message {
        header: Header {
            id: m.id(),
            response: m.message_type() == MessageType::Response,
            opcode: u8::from(m.op_code()),
            authoritative: m.authoritative(),
            truncated: m.truncated(),
            recursion_desired: m.recursion_desired(),
            recursion_available: m.recursion_available(),
            authentic_data: m.authentic_data(),
            checking_disabled: m.checking_disabled(),
            rcode: Rcode::from(u16::from(m.response_code().low())),
        },
        questions: m
            .queries()
            .iter()
            .map(|q| Question {
                name: from_hname(q.name()),
                qtype: RecordType::from(u16::from(q.query_type())),
                qclass: u16::from(q.query_class()),
            })
            .collect(),
        answers: m.answers().iter().map(from_hrecord).collect(),
        authority: m.name_servers().iter().map(from_hrecord).collect(),
        additional: m.additionals().iter().map(from_hrecord).collect(),
        edns: m.extensions().as_ref().map(|e| Edns {
            udp_payload_size: e.max_payload(),
            extended_rcode: e.rcode_high(),
            version: e.version(),
            dnssec_ok: e.flags().dnssec_ok,
            options: e
                .options()
                .as_ref()
                .iter()
                .map(|(code, option)| match option {
                    EdnsOption::Unknown(_, data) => (u16::from(*code), data.clone()),
                    other => panic!("unexpected option {other:?}"),
                })
                .collect(),
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hickory_encodes_we_parse(message in strategies::message(true)) {
        let octets = to_hmessage(&message).to_vec().unwrap();
        let parsed = Message::parse(&octets).unwrap();
        prop_assert_eq!(parsed, message);
    }

    #[test]
    fn we_encode_hickory_parses(message in strategies::message(true)) {
        let octets = message.encode();
        let parsed = HMessage::from_vec(&octets).unwrap();
        prop_assert_eq!(from_hmessage(&parsed), message);
    }
}

#[test]
fn known_packets_parse_the_same_in_both() {
    for packet in [
        packets::GMAIL_MX,
        packets::NXDOMAIN_SOA,
        packets::NODATA_SOA,
        packets::TRUNCATED_TC,
        packets::CNAME_CHAIN,
        packets::TXT_STRINGS,
        packets::TLSA_DNSSEC,
        packets::NULL_MX,
        packets::SERVFAIL,
        packets::QUERY_MX,
        packets::QUERY_AAAA_DO,
    ] {
        let ours = Message::parse(packet).unwrap();
        let theirs = from_hmessage(&HMessage::from_vec(packet).unwrap());
        assert_eq!(ours, theirs);
    }
}
