//! Generated messages encode then parse to themselves, octet for octet on a second encoding;
//! any truncation of a valid packet, and any octets at all, give an error or a message, never a
//! panic.

use mx_resolve::wire::{Message, Name};
use proptest::prelude::*;

use crate::strategies;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_parse(message in strategies::message(false)) {
        let octets = message.encode();
        let parsed = Message::parse(&octets).unwrap();
        prop_assert_eq!(&parsed, &message);
        // Names compare ignoring case; the octets show that the case was kept too.
        prop_assert_eq!(parsed.encode(), octets);
    }

    #[test]
    fn every_truncation_fails(message in strategies::message(false)) {
        let octets = message.encode();
        for cut in 0..octets.len() {
            prop_assert!(Message::parse(&octets[..cut]).is_err(), "cut at {}", cut);
        }
    }

    #[test]
    fn arbitrary_octets_never_panic(octets in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(message) = Message::parse(&octets) {
            // What parses encodes to something that parses to the same.
            prop_assert_eq!(Message::parse(&message.encode()).unwrap(), message);
        }
    }

    #[test]
    fn flipped_octets_in_a_valid_packet(
        message in strategies::message(false),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut octets = message.encode();
        for (at, value) in flips {
            let i = at.index(octets.len());
            octets[i] = value;
        }
        if let Ok(message) = Message::parse(&octets) {
            prop_assert_eq!(Message::parse(&message.encode()).unwrap(), message);
        }
    }

    #[test]
    fn names_display_and_parse_back(name in strategies::name(true)) {
        prop_assert_eq!(Name::from_ascii(&name.to_string()).unwrap(), name);
    }
}

#[test]
fn compression_points_at_earlier_suffixes() {
    let message = Message::parse(crate::packets::GMAIL_MX).unwrap();
    let octets = message.encode();
    // "gmail-smtp-in.l.google.com" appears once in full; every other mention is a pointer.
    let needle = b"\x0dgmail-smtp-in";
    let count = octets.windows(needle.len()).filter(|w| w == needle).count();
    assert_eq!(count, 1);
}

mod encode_limits {
    //! What `Message::encode` does with a message beyond what DNS can carry: it cuts it to
    //! fit, and the octets still parse.

    use mx_resolve::wire::{
        CLASS_IN, Edns, Header, Message, Name, RData, Rcode, Record, RecordType,
    };

    fn record(data: RData, rtype: RecordType) -> Record {
        Record {
            name: Name::root(),
            rtype,
            class: CLASS_IN,
            ttl: 0,
            data,
        }
    }

    fn txt(strings: Vec<Vec<u8>>) -> Message {
        Message {
            answers: vec![record(RData::Txt(strings), RecordType::Txt)],
            ..Message::default()
        }
    }

    #[test]
    fn txt_strings_over_255_octets_are_cut() {
        let parsed = Message::parse(&txt(vec![vec![b'x'; 300]]).encode()).unwrap();
        assert_eq!(parsed.answers[0].data, RData::Txt(vec![vec![b'x'; 255]]));
    }

    #[test]
    fn txt_strings_past_65535_octets_are_left_out() {
        // 255 strings of 255 octets take 65,280 octets; the 256th would pass 65,535.
        let parsed = Message::parse(&txt(vec![vec![b'y'; 255]; 300]).encode()).unwrap();
        assert_eq!(
            parsed.answers[0].data,
            RData::Txt(vec![vec![b'y'; 255]; 255])
        );
    }

    #[test]
    fn opaque_data_over_65535_octets_is_cut() {
        let message = Message {
            answers: vec![record(
                RData::Opaque(vec![7; 70_000]),
                RecordType::Other(65400),
            )],
            ..Message::default()
        };
        let parsed = Message::parse(&message.encode()).unwrap();
        assert_eq!(parsed.answers[0].data, RData::Opaque(vec![7; 65_535]));
    }

    #[test]
    fn edns_options_past_65535_octets_are_left_out() {
        let message = Message {
            edns: Some(Edns {
                options: vec![(65001, vec![1; 40_000]), (65002, vec![2; 40_000])],
                ..Edns::default()
            }),
            ..Message::default()
        };
        let parsed = Message::parse(&message.encode()).unwrap();
        assert_eq!(parsed.edns.unwrap().options, [(65001, vec![1; 40_000])]);
    }

    #[test]
    fn sections_past_65535_records_are_cut() {
        let a = record(RData::A([192, 0, 2, 1].into()), RecordType::A);
        let message = Message {
            answers: vec![a.clone(); 65_536],
            additional: vec![a; 65_535],
            edns: Some(Edns::default()),
            ..Message::default()
        };
        let parsed = Message::parse(&message.encode()).unwrap();
        assert_eq!(parsed.answers.len(), 65_535);
        // The OPT record takes the last place of the additional section.
        assert_eq!(parsed.additional.len(), 65_534);
        assert!(parsed.edns.is_some());
    }

    #[test]
    fn header_fields_wider_than_their_bits_keep_their_low_bits() {
        let message = Message {
            header: Header {
                opcode: 0x12,
                rcode: Rcode::Other(0x13),
                ..Header::default()
            },
            ..Message::default()
        };
        let parsed = Message::parse(&message.encode()).unwrap();
        assert_eq!(parsed.header.opcode, 2);
        assert_eq!(parsed.header.rcode, Rcode::NxDomain);
    }
}

#[test]
fn compression_stops_remembering_after_512_suffixes() {
    // 600 records with distinct owners "nN.example.", then n0, n510, n511 and n599 again. The
    // table holds "n0.example.", "example." and the next 510 owners (n1 to n510): n0 and n510
    // repeated are one pointer each, n511 and n599 repeated are their label again and a
    // pointer to "example.".
    let a = |owner: String| mx_resolve::wire::Record {
        name: Name::from_ascii(&owner).unwrap(),
        rtype: mx_resolve::wire::RecordType::A,
        class: 1,
        ttl: 0,
        data: mx_resolve::wire::RData::A([192, 0, 2, 1].into()),
    };
    let mut answers: Vec<_> = (0..600).map(|n| a(format!("n{n}.example"))).collect();
    for n in [0, 510, 511, 599] {
        answers.push(a(format!("n{n}.example")));
    }
    let message = Message {
        answers,
        ..Message::default()
    };
    let octets = message.encode();
    assert_eq!(Message::parse(&octets).unwrap(), message);
    let count = |needle: &[u8]| {
        octets
            .windows(needle.len())
            .filter(|w| *w == needle)
            .count()
    };
    assert_eq!(count(b"\x02n0"), 1);
    assert_eq!(count(b"\x04n510"), 1);
    assert_eq!(count(b"\x04n511"), 2);
    assert_eq!(count(b"\x04n599"), 2);
}
