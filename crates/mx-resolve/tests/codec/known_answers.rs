//! Realistic packets (encoded by dnspython, see `packets.rs`) parse to the records they carry;
//! our queries match dnspython's octet for octet; `check_answers` and `negative_ttl`.

use std::net::{Ipv4Addr, Ipv6Addr};

use mx_resolve::wire::{
    CLASS_IN, Edns, Message, Mismatch, Query, Question, RData, Rcode, Record, RecordType, Soa,
};

use crate::packets::*;
use crate::support::{mx_of, name};

fn record(owner: &str, ttl: u32, data: RData) -> Record {
    let rtype = match data {
        RData::A(_) => RecordType::A,
        RData::Aaaa(_) => RecordType::Aaaa,
        RData::Cname(_) => RecordType::Cname,
        RData::Ns(_) => RecordType::Ns,
        RData::Mx { .. } => RecordType::Mx,
        RData::Soa(_) => RecordType::Soa,
        RData::Txt(_) => RecordType::Txt,
        RData::Opaque(_) => unreachable!("opaque records name their type"),
    };
    Record {
        name: name(owner),
        rtype,
        class: CLASS_IN,
        ttl,
        data,
    }
}

fn edns(udp_payload_size: u16, dnssec_ok: bool) -> Option<Edns> {
    Some(Edns {
        udp_payload_size,
        dnssec_ok,
        ..Edns::default()
    })
}

#[test]
fn mx_response_with_additional_addresses() {
    let message = Message::parse(GMAIL_MX).unwrap();
    let h = message.header;
    assert_eq!(h.id, 0x6b2a);
    assert!(h.response && h.recursion_desired && h.recursion_available);
    assert!(!h.authoritative && !h.truncated && !h.authentic_data && !h.checking_disabled);
    assert_eq!((h.opcode, h.rcode), (0, Rcode::NoError));
    assert_eq!(
        message.questions,
        [Question {
            name: name("gmail.com"),
            qtype: RecordType::Mx,
            qclass: CLASS_IN
        }]
    );
    assert_eq!(
        mx_of(&message),
        [
            (5, "gmail-smtp-in.l.google.com.".to_string()),
            (10, "alt1.gmail-smtp-in.l.google.com.".to_string()),
            (20, "alt2.gmail-smtp-in.l.google.com.".to_string()),
            (30, "alt3.gmail-smtp-in.l.google.com.".to_string()),
            (40, "alt4.gmail-smtp-in.l.google.com.".to_string()),
        ]
    );
    assert!(message.answers.iter().all(|r| r.name == name("gmail.com")
        && r.rtype == RecordType::Mx
        && r.ttl == 3600
        && r.class == CLASS_IN));
    assert_eq!(
        message.additional,
        [
            record(
                "gmail-smtp-in.l.google.com",
                293,
                RData::A(Ipv4Addr::new(142, 250, 27, 26))
            ),
            record(
                "gmail-smtp-in.l.google.com",
                293,
                RData::Aaaa("2a00:1450:4025:401::1a".parse().unwrap())
            ),
            record(
                "alt1.gmail-smtp-in.l.google.com",
                293,
                RData::A(Ipv4Addr::new(142, 250, 153, 27))
            ),
            record(
                "alt1.gmail-smtp-in.l.google.com",
                293,
                RData::Aaaa("2a00:1450:4013:c16::1b".parse().unwrap())
            ),
        ]
    );
    assert!(message.authority.is_empty());
    assert_eq!(message.edns, edns(1232, false));
    assert_eq!(message.negative_ttl(), None);
    let query = Query::new(0x6b2a, name("gmail.com"), RecordType::Mx);
    assert_eq!(message.check_answers(&query), Ok(()));
}

#[test]
fn nxdomain_with_soa_gives_the_negative_ttl() {
    let message = Message::parse(NXDOMAIN_SOA).unwrap();
    assert_eq!(message.header.rcode, Rcode::NxDomain);
    assert_eq!(message.rcode(), Rcode::NxDomain);
    assert!(message.answers.is_empty());
    assert_eq!(
        message.authority,
        [record(
            "example.com",
            3600,
            RData::Soa(Box::new(Soa {
                mname: name("ns.icann.org"),
                rname: name("noc.dns.icann.org"),
                serial: 2024081463,
                refresh: 7200,
                retry: 3600,
                expire: 1209600,
                minimum: 300,
            }))
        )]
    );
    // RFC 2308 section 5: the smaller of the SOA's TTL (3600) and its MINIMUM (300).
    assert_eq!(message.negative_ttl(), Some(300));
    let query = Query::new(0x0d17, name("nosuch.example.com"), RecordType::Mx);
    assert_eq!(message.check_answers(&query), Ok(()));
}

#[test]
fn nodata_is_noerror_without_answers_and_with_soa() {
    let message = Message::parse(NODATA_SOA).unwrap();
    assert_eq!(message.rcode(), Rcode::NoError);
    assert!(message.answers.is_empty());
    assert_eq!(message.authority.len(), 1);
    // Here the SOA's TTL (900) is the smaller.
    assert_eq!(message.negative_ttl(), Some(900));
}

#[test]
fn truncated_answer_sets_tc() {
    let message = Message::parse(TRUNCATED_TC).unwrap();
    assert!(message.header.truncated);
    assert!(message.answers.is_empty());
    assert_eq!(message.edns, None);
    let query = Query::new(0x2222, name("big.example.org"), RecordType::Txt);
    assert_eq!(message.check_answers(&query), Ok(()));
}

#[test]
fn cname_chain_to_mx() {
    let message = Message::parse(CNAME_CHAIN).unwrap();
    let chain: Vec<(String, String)> = message
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::Cname(target) => Some((r.name.to_string(), target.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        chain,
        [
            ("mail.example.net.".into(), "relay.example.net.".into()),
            ("relay.example.net.".into(), "mx.provider.example.".into()),
        ]
    );
    assert_eq!(
        mx_of(&message),
        [
            (10, "in1.provider.example.".to_string()),
            (10, "in2.provider.example.".to_string())
        ]
    );
    assert_eq!(
        message.additional,
        [
            record(
                "in1.provider.example",
                300,
                RData::A(Ipv4Addr::new(198, 51, 100, 25))
            ),
            record(
                "in2.provider.example",
                300,
                RData::Aaaa(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x25))
            ),
        ]
    );
    assert_eq!(message.edns, edns(4096, false));
}

#[test]
fn txt_with_several_strings() {
    let message = Message::parse(TXT_STRINGS).unwrap();
    let mut texts: Vec<Vec<Vec<u8>>> = message
        .answers
        .iter()
        .map(|r| match &r.data {
            RData::Txt(strings) => strings.clone(),
            other => panic!("not TXT: {other:?}"),
        })
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            vec![b"google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ".to_vec()],
            vec![
                b"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 ".to_vec(),
                b"include:_spf.example.net -all".to_vec()
            ],
        ]
    );
}

#[test]
fn tlsa_is_kept_opaque_with_dnssec_flags() {
    let message = Message::parse(TLSA_DNSSEC).unwrap();
    assert!(message.header.authentic_data);
    assert_eq!(message.edns, edns(1232, true));
    let [answer] = message.answers.as_slice() else {
        panic!("one answer expected: {:?}", message.answers)
    };
    assert_eq!(answer.rtype, RecordType::Tlsa);
    assert_eq!(answer.name, name("_25._tcp.mx.example.org"));
    let mut expected = vec![3, 1, 1];
    expected.extend_from_slice(&[
        0x8e, 0xca, 0xdf, 0x0a, 0x1d, 0x5f, 0x3f, 0x2b, 0x4b, 0x8e, 0x3a, 0x9c, 0x1f, 0x0d, 0x6e,
        0x2a, 0x7b, 0x5c, 0x4d, 0x3e, 0x2f, 0x1a, 0x0b, 0x9c, 0x8d, 0x7e, 0x6f, 0x5a, 0x4b, 0x3c,
        0x2d, 0x1e,
    ]);
    assert_eq!(answer.data, RData::Opaque(expected));
}

#[test]
fn null_mx() {
    let message = Message::parse(NULL_MX).unwrap();
    let [answer] = message.answers.as_slice() else {
        panic!("one answer expected")
    };
    match &answer.data {
        RData::Mx {
            preference,
            exchange,
        } => {
            assert_eq!(*preference, 0);
            assert!(exchange.is_root());
            assert_eq!(exchange.to_string(), ".");
        }
        other => panic!("not MX: {other:?}"),
    }
}

#[test]
fn servfail_without_edns() {
    let message = Message::parse(SERVFAIL).unwrap();
    assert_eq!(message.rcode(), Rcode::ServFail);
    assert_eq!(message.edns, None);
    assert_eq!(message.negative_ttl(), None);
}

#[test]
fn extended_rcode_combines_with_the_header() {
    // BADVERS (16): header RCODE 0, OPT extended RCODE 1 (RFC 6891 section 6.1.3).
    let mut octets = SERVFAIL.to_vec();
    octets[3] &= 0xf0;
    octets[11] = 1; // ARCOUNT
    octets.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 0]);
    let message = Message::parse(&octets).unwrap();
    assert_eq!(message.header.rcode, Rcode::NoError);
    assert_eq!(message.edns.as_ref().unwrap().extended_rcode, 1);
    assert_eq!(message.rcode(), Rcode::Other(16));
}

#[test]
fn queries_match_dnspython_octet_for_octet() {
    let mx = Query::new(0x1234, name("example.org"), RecordType::Mx);
    assert_eq!(mx.encode(), QUERY_MX);
    let aaaa = Query::new(0xbeef, name("mx1.example.org."), RecordType::Aaaa).dnssec_ok(true);
    assert_eq!(aaaa.encode(), QUERY_AAAA_DO);
    let txt = Query::new(7, name("example.org"), RecordType::Txt).no_edns();
    assert_eq!(txt.encode(), QUERY_TXT_NO_EDNS);
}

#[test]
fn query_builder_options() {
    let query = Query::new(9, name("example.org"), RecordType::A)
        .edns(4096)
        .recursion_desired(false);
    let message = Message::parse(&query.encode()).unwrap();
    assert!(!message.header.recursion_desired && !message.header.response);
    assert_eq!(message.edns, edns(4096, false));
    assert_eq!(query.udp_payload_size(), Some(4096));
    // DO needs EDNS: setting it after no_edns() turns EDNS back on at the default size.
    let query = Query::new(9, name("example.org"), RecordType::A)
        .no_edns()
        .dnssec_ok(true);
    assert!(query.is_dnssec_ok());
    let message = Message::parse(&query.encode()).unwrap();
    assert_eq!(message.edns, edns(1232, true));
    let query = query.no_edns();
    assert!(!query.is_dnssec_ok());
    assert_eq!(Message::parse(&query.encode()).unwrap().edns, None);
}

#[test]
fn check_answers_compares_names_ignoring_case() {
    let message = Message::parse(GMAIL_MX).unwrap();
    let query = Query::new(0x6b2a, name("GMail.COM."), RecordType::Mx);
    assert_eq!(message.check_answers(&query), Ok(()));
}

#[test]
fn check_answers_refuses_what_does_not_answer_the_query() {
    let query = Query::new(0x6b2a, name("gmail.com"), RecordType::Mx);
    let good = Message::parse(GMAIL_MX).unwrap();

    // A query is not a response.
    let asked = Message::parse(&query.encode()).unwrap();
    assert_eq!(asked.check_answers(&query), Err(Mismatch::NotResponse));

    // A spoofed ID.
    let other_id = Query::new(0x6b2b, name("gmail.com"), RecordType::Mx);
    assert_eq!(
        good.check_answers(&other_id),
        Err(Mismatch::Id {
            expected: 0x6b2b,
            got: 0x6b2a
        })
    );

    // Another opcode (NOTIFY, 4).
    let mut notify = good.clone();
    notify.header.opcode = 4;
    assert_eq!(notify.check_answers(&query), Err(Mismatch::Opcode(4)));

    // No question echoed, or two.
    let mut none = good.clone();
    none.questions.clear();
    assert_eq!(none.check_answers(&query), Err(Mismatch::QuestionCount(0)));
    let mut two = good.clone();
    two.questions.push(two.questions[0].clone());
    assert_eq!(two.check_answers(&query), Err(Mismatch::QuestionCount(2)));

    // Another name, type or class in the question.
    let wrong_name = Query::new(0x6b2a, name("gmail.co"), RecordType::Mx);
    assert!(matches!(
        good.check_answers(&wrong_name),
        Err(Mismatch::Question { .. })
    ));
    let wrong_type = Query::new(0x6b2a, name("gmail.com"), RecordType::Aaaa);
    assert_eq!(
        good.check_answers(&wrong_type),
        Err(Mismatch::Question {
            name: name("gmail.com"),
            qtype: RecordType::Mx,
            qclass: CLASS_IN
        })
    );
    let mut chaos = good.clone();
    chaos.questions[0].qclass = 3;
    assert!(matches!(
        chaos.check_answers(&query),
        Err(Mismatch::Question { qclass: 3, .. })
    ));

    // An answer of another class.
    let mut answer_class = good.clone();
    answer_class.answers[2].class = 3;
    assert_eq!(
        answer_class.check_answers(&query),
        Err(Mismatch::AnswerClass {
            name: name("gmail.com"),
            class: 3
        })
    );
}

#[test]
fn every_known_packet_encodes_back_to_itself() {
    for packet in [
        GMAIL_MX,
        NXDOMAIN_SOA,
        NODATA_SOA,
        TRUNCATED_TC,
        CNAME_CHAIN,
        TXT_STRINGS,
        TLSA_DNSSEC,
        NULL_MX,
        SERVFAIL,
        QUERY_MX,
        QUERY_AAAA_DO,
        QUERY_TXT_NO_EDNS,
    ] {
        let message = Message::parse(packet).unwrap();
        let encoded = message.encode();
        assert_eq!(Message::parse(&encoded).unwrap(), message);
        // Our compression is at least as tight as dnspython's on these packets.
        assert!(encoded.len() <= packet.len(), "{encoded:x?}");
    }
}
