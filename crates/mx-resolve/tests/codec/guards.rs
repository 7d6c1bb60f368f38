//! Every guard of the parser, breached by its own test, with the kind and the offset the error
//! names.

use mx_resolve::wire::{MAX_POINTERS, Message, ParseErrorKind::*, RData};

use crate::packets::{GMAIL_MX, QUERY_MX};
use crate::support::{Packet, error_of, name};

const MX: u16 = 15;
const A: u16 = 1;
const TXT: u16 = 16;
const OPT: u16 = 41;
const PRIVATE: u16 = 65280;

#[test]
fn truncated_header() {
    assert_eq!(error_of(&[]), (Truncated, 0));
    assert_eq!(error_of(&GMAIL_MX[..3]), (Truncated, 2));
    assert_eq!(error_of(&GMAIL_MX[..11]), (Truncated, 10));
}

#[test]
fn truncated_inside_a_name_and_a_fixed_field() {
    // The question's name "example.org" starts at 12; cut inside its first label (after 6
    // octets, enough for the count check's smallest question).
    let mut p = Packet::response(1, 0, 0, 0);
    p.name("example.org").qtype(MX);
    assert_eq!(error_of(&p.0[..18]), (Truncated, 12));
    // Cut inside QCLASS: the error names the start of the fixed fields (QTYPE, QCLASS).
    let len = p.len();
    assert_eq!(error_of(&p.0[..len - 1]), (Truncated, len - 4));
}

#[test]
fn every_truncation_of_a_real_response_fails() {
    for cut in 0..GMAIL_MX.len() {
        assert!(Message::parse(&GMAIL_MX[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn counts_larger_than_the_packet() {
    // 65535 answers announced, 17 octets follow: refused before anything is reserved.
    let mut p = Packet::response(1, u16::MAX, 0, 0);
    p.name("example.org").qtype(MX);
    assert_eq!(error_of(&p.0), (CountTooLarge, 4));
    // One smallest question (5 octets) and one octet short of a smallest record (11).
    let mut p = Packet::response(1, 1, 0, 0);
    p.name("").qtype(MX).bytes(&[0; 10]);
    assert_eq!(error_of(&p.0), (CountTooLarge, 4));
    // With the eleventh octet the counts fit, and the record is parsed: a root owner, type 0,
    // class 0, TTL 0, no data.
    p.bytes(&[0]);
    assert_eq!(Message::parse(&p.0).unwrap().answers.len(), 1);
    // The questions alone: 5 octets each.
    let p = Packet::response(3, 0, 0, 0).bytes(&[0; 14]).0.clone();
    assert_eq!(error_of(&p), (CountTooLarge, 4));
}

#[test]
fn label_length_over_63() {
    for octet in [0x40, 0x41, 0x7f, 0x80, 0xbf] {
        let mut p = Packet::response(1, 0, 0, 0);
        p.bytes(&[3, b'a', b'b', b'c', octet]).bytes(&[0; 80]);
        assert_eq!(
            error_of(&p.0),
            (LabelTooLong, 16),
            "length octet {octet:#x}"
        );
    }
}

#[test]
fn name_over_255_octets() {
    // Four labels of 63 octets: 257 octets on the wire; the fourth label is refused.
    let label = "a".repeat(63);
    let mut p = Packet::response(1, 0, 0, 0);
    p.name(&[label.as_str(); 4].join(".")).qtype(MX);
    assert_eq!(error_of(&p.0), (NameTooLong, 12 + 3 * 64));
    // The longest name, 255 octets, parses.
    let longest = format!("{0}.{0}.{0}.{1}", label, "a".repeat(61));
    let mut p = Packet::response(1, 0, 0, 0);
    p.name(&longest).qtype(MX);
    let message = Message::parse(&p.0).unwrap();
    assert_eq!(message.questions[0].name, name(&longest));
}

#[test]
fn name_over_255_octets_through_a_pointer() {
    // Question: three labels of 63 (193 octets with the root). An answer owner of a 62-octet
    // label and a pointer to it makes 63 + 193 = 256 octets.
    let label = "b".repeat(63);
    let mut p = Packet::response(1, 1, 0, 0);
    p.name(&[label.as_str(); 3].join(".")).qtype(MX);
    let owner_at = p.len();
    p.bytes(&[62]).bytes(&[b'c'; 62]).bytes(&[0xc0, 12]);
    p.rr(A, 1, 4).bytes(&[192, 0, 2, 1]);
    // The walk fails at the root octet of the question's name, the 256th octet.
    let (kind, offset) = error_of(&p.0);
    assert_eq!(kind, NameTooLong);
    assert!(offset >= 12 && offset < owner_at, "offset {offset}");
    // One octet shorter (61): 255 octets, accepted.
    let mut p = Packet::response(1, 1, 0, 0);
    p.name(&[label.as_str(); 3].join(".")).qtype(MX);
    p.bytes(&[61]).bytes(&[b'c'; 61]).bytes(&[0xc0, 12]);
    p.rr(A, 1, 4).bytes(&[192, 0, 2, 1]);
    let message = Message::parse(&p.0).unwrap();
    assert_eq!(message.answers[0].name.wire_len(), 255);
}

#[test]
fn pointer_to_itself() {
    let mut p = Packet::response(1, 0, 0, 0);
    p.bytes(&[0xc0, 12]).qtype(MX);
    assert_eq!(error_of(&p.0), (ForwardPointer, 12));
}

#[test]
fn pointer_forward() {
    // The question's name points at a name that follows it.
    let mut p = Packet::response(1, 0, 0, 0);
    p.bytes(&[0xc0, 18]).qtype(MX).name("example.org");
    assert_eq!(error_of(&p.0), (ForwardPointer, 12));
}

#[test]
fn pointers_pointing_at_each_other() {
    // Two answers whose owners point at each other: the first pointer points forward.
    let mut p = Packet::response(0, 2, 0, 0);
    p.bytes(&[0xc0, 25]).rr(A, 1, 4).bytes(&[192, 0, 2, 1]);
    assert_eq!(p.len(), 28);
    let mut p = Packet::response(0, 2, 0, 0);
    p.bytes(&[0xc0, 28]).rr(A, 1, 4).bytes(&[192, 0, 2, 1]);
    p.bytes(&[0xc0, 12]).rr(A, 1, 4).bytes(&[192, 0, 2, 2]);
    assert_eq!(error_of(&p.0), (ForwardPointer, 12));
}

#[test]
fn pointer_loop_through_earlier_octets() {
    // At 12: a label "a" then a pointer back to 12. Followed, the name would repeat forever;
    // the region the pointer leads to ends at the pointer itself.
    let mut p = Packet::response(1, 0, 0, 0);
    p.bytes(&[1, b'a', 0xc0, 12]).qtype(MX);
    assert_eq!(error_of(&p.0), (PointerLoop, 14));
}

#[test]
fn pointer_into_the_middle_of_a_label_that_runs_into_the_pointer() {
    // The pointer at 16 targets 13, inside the label at 12, whose octet 5 read as a length
    // runs past the pointer.
    let mut p = Packet::response(1, 0, 0, 0);
    p.bytes(&[3, 5, b'x', b'y', 0xc0, 13]).qtype(MX);
    assert_eq!(error_of(&p.0), (PointerLoop, 13));
}

/// An opaque record whose data is a chain of `hops - 1` pointers, each pointing at the one
/// before, the first at the question's root name; then an A record whose owner points at the
/// last: following its name takes `hops` pointers.
fn pointer_chain(hops: u16) -> Packet {
    let mut p = Packet::response(1, 2, 0, 0);
    p.name("").qtype(MX); // the root at 12
    p.name("").rr(PRIVATE, 1, 2 * (hops - 1));
    let mut previous = 12u16;
    for _ in 0..hops - 1 {
        let here = p.len() as u16;
        p.u16(0xc000 | previous);
        previous = here;
    }
    p.u16(0xc000 | previous).rr(A, 1, 4).bytes(&[192, 0, 2, 1]);
    p
}

#[test]
fn too_many_pointers() {
    let allowed = pointer_chain(MAX_POINTERS as u16);
    let message = Message::parse(&allowed.0).unwrap();
    assert!(message.answers[1].name.is_root());
    let p = pointer_chain(MAX_POINTERS as u16 + 1);
    let (kind, offset) = error_of(&p.0);
    assert_eq!(kind, TooManyPointers);
    // The 128th pointer followed is the first of the chain, right after the opaque header.
    assert_eq!(offset, 12 + 5 + 11);
}

#[test]
fn rdlength_past_the_end() {
    let mut p = Packet::response(1, 1, 0, 0);
    p.name("example.org").qtype(MX);
    p.bytes(&[0xc0, 12]).rr(MX, 1, 40).bytes(&[0, 10, 0]);
    let rdlength_at = p.len() - 3 - 2;
    assert_eq!(error_of(&p.0), (RdataOverrun, rdlength_at));
}

#[test]
fn rdata_longer_than_its_content() {
    // An MX whose name ends two octets before RDLENGTH does: the extra octets are refused.
    let mut p = Packet::response(1, 1, 0, 0);
    p.name("example.org").qtype(MX);
    p.bytes(&[0xc0, 12]).rr(MX, 1, 2 + 2 + 2);
    let end_of_name = p.len() + 4;
    p.bytes(&[0, 10, 0xc0, 12, 0xde, 0xad]);
    assert_eq!(error_of(&p.0), (RdataLength, end_of_name));
}

#[test]
fn rdata_shorter_than_its_content() {
    // An MX whose exchange name runs past RDLENGTH (3: the preference and one octet).
    let mut p = Packet::response(1, 1, 0, 0);
    p.name("example.org").qtype(MX);
    p.bytes(&[0xc0, 12]).rr(MX, 1, 3);
    let name_at = p.len() + 2;
    p.bytes(&[0, 10, 2, b'm', b'x', 0]);
    // The counts still fit; the name's label runs out of RDATA.
    let (kind, offset) = error_of(&p.0);
    assert_eq!((kind, offset), (RdataLength, name_at));
    // An SOA cut inside its numbers.
    let mut p = Packet::response(0, 1, 0, 0);
    p.name("").rr(6, 1, 2 + 4).bytes(&[0, 0, 0, 0, 0, 1]);
    assert_eq!(error_of(&p.0).0, RdataLength);
}

#[test]
fn address_records_of_the_wrong_length() {
    for (rtype, length) in [(A, 3u16), (A, 5), (28, 4), (28, 17)] {
        let mut p = Packet::response(0, 1, 0, 0);
        p.name("").rr(rtype, 1, length);
        let rdata_at = p.len();
        p.bytes(&vec![1; usize::from(length)]);
        assert_eq!(
            error_of(&p.0),
            (RdataLength, rdata_at),
            "type {rtype} length {length}"
        );
    }
}

#[test]
fn txt_string_past_rdlength() {
    let mut p = Packet::response(0, 1, 0, 0);
    p.name("").rr(TXT, 1, 6);
    let second_at = p.len() + 3;
    p.bytes(&[2, b'h', b'i', 5, b'a', b'b']);
    assert_eq!(error_of(&p.0), (RdataLength, second_at));
    // The same with an exact length parses to two strings.
    let mut p = Packet::response(0, 1, 0, 0);
    p.name("").rr(TXT, 1, 5).bytes(&[2, b'h', b'i', 1, b'!']);
    let message = Message::parse(&p.0).unwrap();
    assert_eq!(
        message.answers[0].data,
        RData::Txt(vec![b"hi".to_vec(), b"!".to_vec()])
    );
}

#[test]
fn edns_option_past_rdlength() {
    let mut p = Packet::response(0, 0, 0, 1);
    p.name("").rr(OPT, 1232, 6);
    let option_at = p.len();
    p.bytes(&[0, 10, 0, 8, 1, 2]);
    assert_eq!(error_of(&p.0), (RdataLength, option_at));
}

#[test]
fn trailing_octets() {
    let mut octets = QUERY_MX.to_vec();
    octets.push(0);
    assert_eq!(error_of(&octets), (TrailingData, QUERY_MX.len()));
}

#[test]
fn opt_outside_the_additional_section() {
    let mut p = Packet::response(0, 1, 0, 0);
    p.name("").rr(OPT, 1232, 0);
    assert_eq!(error_of(&p.0), (MisplacedOpt, 12));
    let mut p = Packet::response(0, 0, 1, 0);
    p.name("").rr(OPT, 1232, 0);
    assert_eq!(error_of(&p.0), (MisplacedOpt, 12));
}

#[test]
fn two_opt_records() {
    let mut p = Packet::response(0, 0, 0, 2);
    p.name("").rr(OPT, 1232, 0);
    p.name("").rr(OPT, 1232, 0);
    assert_eq!(error_of(&p.0), (DuplicateOpt, 12 + 11));
}

#[test]
fn opt_owned_by_a_name() {
    let mut p = Packet::response(0, 0, 0, 1);
    p.name("example.org").rr(OPT, 1232, 0);
    assert_eq!(error_of(&p.0), (OptName, 12));
}

#[test]
fn errors_display_offset_and_kind() {
    let error = Message::parse(&[0; 5]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "bad DNS message at octet 4: message truncated"
    );
}

#[test]
fn too_many_pointers_through_a_name_read_before() {
    // Owner 1: the label "a", then the chain: 127 pointers, accepted. Owner 2: a pointer to
    // owner 1, one more: refused although owner 1 was read (and remembered) already.
    let mut p = pointer_chain(MAX_POINTERS as u16);
    // Turn the last record's owner (a bare pointer) into "a" + pointer, and add a second
    // record owned by a pointer to it.
    let last_pointer = p.0.split_off(p.len() - 2 - 10 - 4);
    let owner_at = p.len() as u16;
    p.bytes(&[1, b'a']).bytes(&last_pointer);
    p.0[7] = 3; // ANCOUNT
    let accepted = Message::parse(&{
        let mut q = Packet(p.0.clone());
        q.0[7] = 2;
        q.0
    })
    .unwrap();
    assert_eq!(accepted.answers[1].name.labels().count(), 1);
    p.u16(0xc000 | owner_at).rr(A, 1, 4).bytes(&[192, 0, 2, 2]);
    assert_eq!(error_of(&p.0).0, TooManyPointers);
}
