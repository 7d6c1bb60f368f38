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
