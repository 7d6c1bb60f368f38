//! DNS message parser: arbitrary bytes as one message into `mx_resolve::wire::Message::parse`.
//! Asserts: no panic; an error's offset is within the message; whatever parses encodes to
//! octets that parse to the same message, and encoding that again gives the same octets (the
//! encoder is stable); every name displays as text that parses back to the same name;
//! `check_answers` against a query for the first question never fails on the ID, QR bit or
//! question when the response is the query's echo.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mx_resolve::wire::{Message, Name, Query, RData};

fn check_name(name: &Name) {
    assert!(name.wire_len() <= 255);
    assert!(name.labels().all(|l| !l.is_empty() && l.len() <= 63));
    let text = name.to_string();
    assert_eq!(Name::from_ascii(&text).as_ref(), Ok(name), "{text}");
}

fuzz_target!(|octets: &[u8]| {
    let message = match Message::parse(octets) {
        Ok(message) => message,
        Err(e) => {
            assert!(e.offset() <= octets.len());
            return;
        }
    };
    let encoded = message.encode();
    let again = Message::parse(&encoded).expect("an encoded message parses");
    assert_eq!(again, message);
    assert_eq!(again.encode(), encoded);

    let records = message
        .answers
        .iter()
        .chain(&message.authority)
        .chain(&message.additional);
    for record in records {
        check_name(&record.name);
        match &record.data {
            RData::Cname(n) | RData::Ns(n) => check_name(n),
            RData::Mx { exchange, .. } => check_name(exchange),
            RData::Soa(soa) => {
                check_name(&soa.mname);
                check_name(&soa.rname);
            }
            _ => {}
        }
    }
    let _ = message.negative_ttl();
    let _ = message.rcode();
    if let [question] = message.questions.as_slice() {
        check_name(&question.name);
        let query = Query::new(message.header.id, question.name.clone(), question.qtype);
        let mut echo = message.clone();
        echo.header.response = true;
        echo.header.opcode = 0;
        echo.questions[0].qclass = 1;
        echo.answers.iter_mut().for_each(|r| r.class = 1);
        assert_eq!(echo.check_answers(&query), Ok(()));
    }
});
