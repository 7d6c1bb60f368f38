//! IMAP FETCH helpers: arbitrary bytes as a stored message into
//! `imap_proto::message::ParsedMessage`. Asserts: no panic; ENVELOPE, BODY and BODYSTRUCTURE
//! encode to bytes that the codec parses back to the same value; HEADER and TEXT together
//! are the message; a partial range is the same slice of the whole section; BINARY fails
//! only with the typed errors; every FETCH attribute the message answers gives an item.
//!
//! `mail-parser` 0.11.9 has debug assertions (on in fuzz builds) that some malformed
//! messages trip; `ParsedMessage::parse` catches them and reads the message as one part.
//! libfuzzer-sys's panic hook would abort at the panic itself, so the target lets panics
//! raised inside `mail-parser` unwind to that catch; every other panic aborts as before.
#![no_main]

use imap_proto::Encode;
use imap_proto::command::{Command, CommandBody};
use imap_proto::fetch::{BodyStructure, Envelope, Part, Partial, Section};
use imap_proto::message::{ParsedMessage, SectionError};
use libfuzzer_sys::fuzz_target;
use std::num::NonZeroU64;

const SECTIONS: &[&str] = &[
    "1",
    "2",
    "1.1",
    "1.2",
    "2.1",
    "1.MIME",
    "2.MIME",
    "1.1.MIME",
    "2.HEADER",
    "2.TEXT",
    "1.HEADER",
    "HEADER.FIELDS (FROM SUBJECT)",
    "HEADER.FIELDS.NOT (DATE)",
    "2.HEADER.FIELDS (TO)",
];

const ITEMS: &str = "a FETCH 1 (ENVELOPE BODY BODYSTRUCTURE RFC822.SIZE RFC822.HEADER RFC822.TEXT \
                     BODY.PEEK[] BODY.PEEK[TEXT]<3.7> BINARY.PEEK[1] BINARY.SIZE[2] FLAGS)\r\n";

fn let_mail_parser_assertions_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_mail_parser = info
                .location()
                .is_some_and(|l| l.file().contains("/mail-parser-"));
            if !in_mail_parser {
                previous(info);
            }
        }));
    });
}

fuzz_target!(|raw: &[u8]| {
    let_mail_parser_assertions_unwind();
    let m = ParsedMessage::parse(raw);
    let envelope = m.envelope();
    assert_eq!(
        Envelope::parse(&envelope.to_bytes()).expect("envelope reads back"),
        envelope
    );
    for extensions in [false, true] {
        let s = m.body_structure(extensions);
        assert_eq!(
            BodyStructure::parse(&s.to_bytes()).expect("structure reads back"),
            s
        );
    }
    let header = m
        .section(Some(&Section::Header(None)), None)
        .expect("HEADER");
    let text = m.section(Some(&Section::Text(None)), None).expect("TEXT");
    assert_eq!([&header[..], &text[..]].concat(), raw);
    let partial = Partial {
        start: (raw.len() / 3) as u64,
        length: NonZeroU64::new((raw.len() / 2) as u64 + 1).expect("non-zero"),
    };
    for spec in SECTIONS {
        let section = Section::parse(spec.as_bytes()).expect("a section");
        let whole = m.section(Some(&section), None).expect("a section");
        let cut = m.section(Some(&section), Some(partial)).expect("a section");
        let start = (partial.start as usize).min(whole.len());
        let end = (start + partial.length.get() as usize).min(whole.len());
        assert_eq!(&cut[..], &whole[start..end]);
    }
    for part in [None, Some("1"), Some("2"), Some("1.1")] {
        let part = part.map(|p| Part::parse(p.as_bytes()).expect("a part"));
        match (m.binary(part.as_ref(), None), m.binary_size(part.as_ref())) {
            (Ok(data), Ok(size)) => assert_eq!(data.len() as u64, size),
            (Err(a), Err(b)) => {
                assert_eq!(a, b);
                assert!(matches!(
                    a,
                    SectionError::UnknownCte { .. } | SectionError::Corrupt { .. }
                ));
            }
            (a, b) => panic!("BINARY and BINARY.SIZE disagree: {a:?} {b:?}"),
        }
    }
    let Ok(Command {
        body: CommandBody::Fetch { items, .. },
        ..
    }) = Command::parse(ITEMS.as_bytes())
    else {
        panic!("the FETCH command parses")
    };
    for attribute in items.expand().iter() {
        match m.fetch(attribute) {
            Ok(Some(item)) => assert!(!item.to_bytes().is_empty()),
            Ok(None) => assert!(matches!(
                attribute,
                imap_proto::command::FetchAttribute::Flags
            )),
            Err(e) => assert!(matches!(
                e,
                SectionError::UnknownCte { .. } | SectionError::Corrupt { .. }
            )),
        }
    }
});
