//! What the IMAP codec targets (`imap_command`, `imap_response`) share: the quirks a control
//! byte picks, the framer's view of a message, and the round trip of a parsed value through
//! the encoder.

use imap_proto::encode::{EncodeOptions, Writer};
use imap_proto::framer::{Framed, Framer, FramerConfig, Side};
use imap_proto::{Encode, Quirks};

/// The quirks the first byte of an input picks: strict when its low bit is 0, else lenient.
pub fn quirks(control: u8) -> Quirks {
    if control & 1 == 0 {
        Quirks::STRICT
    } else {
        Quirks::LENIENT
    }
}

/// The first message a framer on `side` (accepting every literal) finds in `bytes`, and
/// whether it is all of them.
pub fn first_message(bytes: &[u8], side: Side) -> Option<(&[u8], bool)> {
    let mut framer = Framer::new(FramerConfig::default(), side);
    let mut input = bytes;
    loop {
        match framer.next_frame(&mut input) {
            Some(Framed::Message(m)) => return Some((m, input.is_empty())),
            Some(Framed::Literal(_)) => framer.accept_literal(),
            _ => return None,
        }
    }
}

/// `value` encoded (UTF-8 allowed in quoted strings, as the parsers allow it). Panics unless
/// the encoding is exactly one message for a framer on `side`.
pub fn encoded_message(value: &impl Encode, side: Side) -> Vec<u8> {
    let mut options = EncodeOptions::default();
    options.utf8 = true;
    let mut w = Writer::new(options);
    value.encode(&mut w);
    let encoded = w.finish().into_bytes();
    let (_, whole) = first_message(&encoded, side).expect("an encoded value frames");
    assert!(whole, "an encoded value is one message");
    encoded
}
