//! The lexical layer from the outside: generated values encode and parse back to themselves,
//! constructors refuse what would not, and no input makes a parser panic.

use std::borrow::Cow;

use imap_proto::core::{
    AString, Atom, AtomExt, Charset, IString, Literal, Literal8, LiteralMode, NString, NString8,
    QUOTED_MAX, Quoted, Tag, Text,
};
use imap_proto::datetime::{Date, DateTime};
use imap_proto::flag::{Flag, FlagFetch, FlagPerm, MailboxAttribute, write_list};
use imap_proto::mailbox::{ListMailbox, Mailbox, utf7};
use imap_proto::sequence::{SeqOrUid, Sequence, SequenceSet};
use imap_proto::{Encode, EncodeOptions, ErrorKind, List, Writer};
use proptest::prelude::*;

fn options(utf8: bool) -> EncodeOptions {
    let mut o = EncodeOptions::default();
    o.utf8 = utf8;
    o
}

fn utf8_options() -> EncodeOptions {
    options(true)
}

/// `parse(wire)` equals `want`, where `wire` is bound first (the parse borrows it).
macro_rules! assert_parses {
    ($parse:expr, $wire:expr, $want:expr) => {{
        let wire: &[u8] = &$wire;
        assert_eq!($parse(wire).unwrap(), $want);
    }};
}

/// The kind of a parse error, `None` when the input parses.
type KindOf = fn(&[u8]) -> Option<ErrorKind>;

fn bytes_with(v: &impl Encode, options: EncodeOptions) -> Vec<u8> {
    let mut w = Writer::new(options);
    v.encode(&mut w);
    w.finish().into_bytes()
}

/// `ATOM-CHAR`s, `]` and `+` aside.
const ATOM_BASE: &str =
    "!#$&',-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~[";

fn from_chars(chars: &'static str, extra: &'static str) -> impl Strategy<Value = String> {
    let pool: Vec<char> = chars.chars().chain(extra.chars()).collect();
    prop::collection::vec(prop::sample::select(pool), 1..24).prop_map(|v| v.into_iter().collect())
}

fn tag() -> impl Strategy<Value = String> {
    from_chars(ATOM_BASE, "]")
}

fn atom() -> impl Strategy<Value = String> {
    from_chars(ATOM_BASE, "+")
}

fn astring_atom() -> impl Strategy<Value = String> {
    from_chars(ATOM_BASE, "+]")
}

/// Text without NUL, CR and LF, UTF-8 included.
fn text_chars() -> impl Strategy<Value = String> {
    "[^\r\n\u{0}]{0,40}"
}

/// Bytes without NUL: any CHAR8.
fn char8() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(1u8..=255, 0..64)
}

fn mode() -> impl Strategy<Value = LiteralMode> {
    prop_oneof![Just(LiteralMode::Sync), Just(LiteralMode::NonSync)]
}

fn seq_or_uid() -> impl Strategy<Value = SeqOrUid> {
    prop_oneof![
        1 => Just(SeqOrUid::Asterisk),
        6 => (1u32..=u32::MAX).prop_map(|n| SeqOrUid::Value(n.try_into().unwrap())),
    ]
}

fn sequence() -> impl Strategy<Value = Sequence> {
    prop_oneof![
        seq_or_uid().prop_map(Sequence::Single),
        (seq_or_uid(), seq_or_uid()).prop_map(|(a, b)| Sequence::Range(a, b)),
    ]
}

fn sequence_set() -> impl Strategy<Value = SequenceSet> {
    prop_oneof![
        1 => Just(SequenceSet::Saved),
        8 => prop::collection::vec(sequence(), 1..12)
            .prop_map(|v| SequenceSet::new(List::from(v)).unwrap()),
    ]
}

fn flag() -> impl Strategy<Value = Flag<'static>> {
    prop_oneof![
        Just(Flag::Answered),
        Just(Flag::Flagged),
        Just(Flag::Deleted),
        Just(Flag::Seen),
        Just(Flag::Draft),
        atom().prop_map(|a| Flag::keyword(a).unwrap()),
        atom().prop_map(|a| Flag::extension(a).unwrap()),
    ]
}

fn date() -> impl Strategy<Value = Date> {
    (0u16..=9999, 1u8..=12, 1u8..=31)
        .prop_filter_map("a day of the month", |(y, m, d)| Date::new(y, m, d).ok())
}

fn date_time() -> impl Strategy<Value = DateTime> {
    (date(), 0u8..24, 0u8..60, 0u8..=60, -5999i16..=5999)
        .prop_map(|(d, h, m, s, z)| DateTime::new(d, h, m, s, z).unwrap())
}

proptest! {
    #[test]
    fn tokens_round_trip(t in tag(), a in atom(), x in astring_atom()) {
        let v = Tag::new(t.clone()).unwrap();
        assert_parses!(Tag::parse, v.to_bytes(), v);
        let v = Atom::new(a).unwrap();
        assert_parses!(Atom::parse, v.to_bytes(), v);
        let v = AtomExt::new(x).unwrap();
        assert_parses!(AtomExt::parse, v.to_bytes(), v);
        let v = Charset::new(t).unwrap();
        assert_parses!(Charset::parse, v.to_bytes(), v);
    }

    #[test]
    fn quoted_and_text_round_trip(s in text_chars()) {
        let q = Quoted::new(s.as_bytes()).unwrap();
        let wire = q.to_bytes();
        assert_parses!(Quoted::parse, wire, q.clone());
        assert_eq!(Quoted::parse(&wire).unwrap().as_str(), s.as_str());
        if !s.is_empty() {
            let t = Text::new(s.as_str()).unwrap();
            assert_parses!(Text::parse, t.to_bytes(), t);
        }
    }

    #[test]
    fn strings_round_trip(data in char8(), long in 0usize..2, m in mode()) {
        let mut data = data;
        if long == 1 {
            data.resize(QUOTED_MAX + 1, b'x');
        }
        let s = IString::from_bytes(data.clone()).unwrap();
        // with UTF-8 enabled the value comes back as it is
        assert_parses!(IString::parse, bytes_with(&s, utf8_options()), s.clone());
        // without, the content does (UTF-8 travels in a literal)
        assert_eq!(IString::parse(&s.to_bytes()).unwrap().data(), &data[..]);
        let a = AString::from_bytes(data.clone()).unwrap();
        assert_parses!(AString::parse, bytes_with(&a, utf8_options()), a.clone());
        assert_eq!(AString::parse(&a.to_bytes()).unwrap().data(), &data[..]);
        let n = NString(Some(s));
        assert_parses!(NString::parse, bytes_with(&n, utf8_options()), n);
        let l = Literal::new(data.clone(), m).unwrap();
        assert_parses!(Literal::parse, l.to_bytes(), l);
    }

    #[test]
    fn literal8_round_trips(data in prop::collection::vec(any::<u8>(), 0..64), m in mode()) {
        let l = Literal8::new(data, m);
        assert_parses!(Literal8::parse, l.to_bytes(), l.clone());
        let n = NString8::Literal8(l);
        assert_parses!(NString8::parse, n.to_bytes(), n);
    }

    #[test]
    fn utf7_round_trips(s in "\\PC{0,24}") {
        let wire = utf7::encode(&s);
        assert!(wire.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        assert_eq!(utf7::decode(wire.as_bytes()).unwrap(), s);
    }

    /// Strictness: whatever decodes is in the one shortest form, so encoding gives the bytes
    /// back.
    #[test]
    fn utf7_decode_is_canonical(
        input in prop::collection::vec(
            prop::sample::select(b"&-AOkQDpAGUBTFZeVnLIqe2D3a ,+/x\x80".to_vec()),
            0..16,
        )
    ) {
        if let Ok(s) = utf7::decode(&input) {
            assert_eq!(utf7::encode(&s).as_bytes(), &input[..]);
        }
    }

    #[test]
    fn mailboxes_round_trip(s in "[^\\p{Cc}]{0,24}", utf8 in any::<bool>()) {
        let m = Mailbox::from_utf8(&s, utf8).unwrap();
        let wire = bytes_with(&m, options(utf8));
        let back = Mailbox::parse(&wire).unwrap();
        assert_eq!(&back, &m);
        let name = back.to_utf8_as(utf8).unwrap();
        if s.eq_ignore_ascii_case("INBOX") {
            assert_eq!(name, "INBOX");
        } else {
            assert_eq!(name, s.as_str());
        }
        let l = ListMailbox::from_utf8(&s, utf8).unwrap();
        let wire = bytes_with(&l, options(utf8));
        assert_eq!(ListMailbox::parse(&wire).unwrap().as_bytes(), l.as_bytes());
    }

    #[test]
    fn sequence_sets_round_trip(s in sequence_set()) {
        let wire = s.to_bytes();
        assert_parses!(SequenceSet::parse, wire, s.clone());
        assert_eq!(SequenceSet::parse_uid_set(&wire).is_ok(), s.is_uid_set());
    }

    #[test]
    fn sequence_membership(s in sequence_set(), n in 1u32..50, largest in 1u32..50) {
        let naive = match &s {
            SequenceSet::Saved => false,
            SequenceSet::Set(items) => items.iter().any(|i| {
                let r = |x: SeqOrUid| match x {
                    SeqOrUid::Value(v) => v.get(),
                    SeqOrUid::Asterisk => largest,
                };
                match *i {
                    Sequence::Single(a) => r(a) == n,
                    Sequence::Range(a, b) => (r(a).min(r(b))..=r(a).max(r(b))).contains(&n),
                }
            }),
        };
        assert_eq!(s.contains(n, largest), naive);
    }

    #[test]
    fn flag_lists_round_trip(flags in prop::collection::vec(flag(), 0..8), recent in any::<bool>()) {
        let mut w = Writer::new(EncodeOptions::default());
        write_list(&mut w, &flags);
        let wire = w.finish().into_bytes();
        assert_eq!(&Flag::parse_list(&wire).unwrap()[..], &flags[..]);
        let mut fetch: Vec<FlagFetch> = flags.iter().cloned().map(FlagFetch::Flag).collect();
        if recent {
            fetch.push(FlagFetch::Recent);
        }
        let mut w = Writer::new(EncodeOptions::default());
        write_list(&mut w, &fetch);
        assert_eq!(&FlagFetch::parse_list(&w.finish().into_bytes()).unwrap()[..], &fetch[..]);
        let mut perm: Vec<FlagPerm> = flags.into_iter().map(FlagPerm::Flag).collect();
        perm.push(FlagPerm::Wildcard);
        let mut w = Writer::new(EncodeOptions::default());
        write_list(&mut w, &perm);
        assert_eq!(&FlagPerm::parse_list(&w.finish().into_bytes()).unwrap()[..], &perm[..]);
    }

    #[test]
    fn mailbox_attributes_round_trip(names in prop::collection::vec(atom(), 0..6)) {
        let attrs: Vec<_> = names.into_iter().map(|n| MailboxAttribute::new(n).unwrap()).collect();
        let mut w = Writer::new(EncodeOptions::default());
        write_list(&mut w, &attrs);
        let wire = w.finish().into_bytes();
        assert_eq!(&MailboxAttribute::parse_list(&wire).unwrap()[..], &attrs[..]);
    }

    #[test]
    fn dates_round_trip(d in date(), t in date_time()) {
        assert_parses!(Date::parse, d.to_bytes(), d);
        let quoted = format!("\"{d}\"");
        assert_eq!(Date::parse(quoted.as_bytes()).unwrap(), d);
        assert_parses!(DateTime::parse, t.to_bytes(), t);
    }

    #[test]
    fn invalid_days_are_refused(y in 0u16..=9999, m in 1u8..=12, d in 29u8..=40) {
        let valid = Date::new(y, m, d).is_ok();
        let wire = format!("{d}-{}-{y:04}", ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
            "Aug", "Sep", "Oct", "Nov", "Dec"][usize::from(m - 1)]);
        match Date::parse(wire.as_bytes()) {
            Ok(parsed) => assert!(valid && parsed.day() == d),
            Err(e) => assert!(!valid && e.kind() == ErrorKind::Invalid && e.offset() == 0),
        }
    }

    /// Constructors refuse a value with one byte that its form cannot carry.
    #[test]
    fn constructors_refuse(a in atom(), at in any::<prop::sample::Index>(), bad in 0usize..4) {
        let insert = |c: char| {
            let mut s = a.clone();
            let i = at.index(s.len() + 1);
            s.insert(i, c);
            s
        };
        let special = ['(', ')', '{', ' ', '%', '*', '"', '\\', '\u{1}', '\u{7f}', '\u{e9}'];
        for c in special {
            assert!(Tag::new(insert(c)).is_err());
            assert!(Atom::new(insert(c)).is_err());
            assert!(AtomExt::new(insert(c)).is_err());
            assert!(Flag::keyword(insert(c)).is_err());
            assert!(MailboxAttribute::new(insert(c)).is_err());
        }
        assert!(Tag::new(insert('+')).is_err());
        assert!(Atom::new(insert(']')).is_err());
        let cut = ['\r', '\n', '\0', '\r'][bad];
        assert!(Quoted::new(insert(cut).into_bytes()).is_err());
        assert!(Text::new(insert(cut)).is_err());
        assert!(Charset::new(insert(cut)).is_err());
        assert!(Mailbox::from_utf8(&insert(cut), false).is_err());
        assert!(Mailbox::from_bytes(insert(cut).into_bytes()).is_err());
        assert!(IString::from_bytes(insert('\0').into_bytes()).is_err());
        assert!(AString::from_bytes(insert('\0').into_bytes()).is_err());
        assert!(Literal::new(insert('\0').into_bytes(), LiteralMode::Sync).is_err());
    }

    /// A literal longer than the rest of the input is incomplete at its brace.
    #[test]
    fn literal_length_is_bounded_by_the_input(n in 1u64..u64::MAX / 2, have in 0usize..64) {
        let mut wire = format!("{{{n}}}\r\n").into_bytes();
        wire.resize(wire.len() + have.min(n as usize - 1), b'x');
        let e = Literal::parse(&wire).unwrap_err();
        assert_eq!((e.offset(), e.kind()), (0, ErrorKind::Incomplete));
        let mut wire8 = b"~".to_vec();
        wire8.extend_from_slice(&wire);
        let e = Literal8::parse(&wire8).unwrap_err();
        assert_eq!((e.offset(), e.kind()), (0, ErrorKind::Incomplete));
    }

    /// Every strict prefix of a quoted string, literal, date-time or flag list is
    /// incomplete (so a caller can tell "send more" from "wrong").
    #[test]
    fn prefixes_are_incomplete(
        q in text_chars(),
        data in char8(),
        t in date_time(),
        flags in prop::collection::vec(flag(), 0..4),
    ) {
        let mut w = Writer::new(EncodeOptions::default());
        write_list(&mut w, &flags);
        let cases: [(Vec<u8>, KindOf); 6] = [
            (Quoted::new(q.as_bytes()).unwrap().to_bytes(), |i| Quoted::parse(i).err().map(|e| e.kind())),
            (Literal::new(data.clone(), LiteralMode::Sync).unwrap().to_bytes(), |i| Literal::parse(i).err().map(|e| e.kind())),
            (Literal8::new(data, LiteralMode::NonSync).to_bytes(), |i| Literal8::parse(i).err().map(|e| e.kind())),
            (t.to_bytes(), |i| DateTime::parse(i).err().map(|e| e.kind())),
            (format!("\"{}\"", t.date()).into_bytes(), |i| Date::parse(i).err().map(|e| e.kind())),
            (w.finish().into_bytes(), |i| Flag::parse_list(i).err().map(|e| e.kind())),
        ];
        for (wire, parse) in cases {
            prop_assert_eq!(parse(&wire), None);
            for end in 0..wire.len() {
                let kind = parse(&wire[..end]);
                prop_assert_eq!(kind, Some(ErrorKind::Incomplete), "{:?}", String::from_utf8_lossy(&wire[..end]));
            }
        }
    }

    /// The quoted-string reader (a word-at-a-time fast path, then a memchr loop) agrees with
    /// a byte-by-byte reading of the grammar on values, error offsets and error kinds.
    #[test]
    fn quoted_reader_matches_a_byte_loop(
        body in prop::collection::vec(
            prop::sample::select(b"a \"\\\r\n\0\x7f\t\xc3\xa9\xe2\x82\xac\xff\x80".to_vec()),
            0..150,
        ),
        close in any::<bool>(),
    ) {
        let mut input = b"\"".to_vec();
        input.extend_from_slice(&body);
        if close {
            input.push(b'"');
        }
        let got = Quoted::parse(&input).map(|q| q.data().to_vec()).map_err(|e| (e.offset(), e.kind()));
        assert_eq!(got, reference_quoted(&input), "{:?}", input);
    }

    /// The text reader (a word-at-a-time fast path, then memchr and UTF-8 checks) agrees
    /// with a byte-by-byte reading of the grammar.
    #[test]
    fn text_reader_matches_a_byte_loop(
        body in prop::collection::vec(
            prop::sample::select(b"a [\r\n\0\x7f\t\xc3\xa9\xe2\x82\xac\xff\x80".to_vec()),
            0..100,
        ),
    ) {
        let mut text = None;
        // reference: TEXT-CHARs up to CR, LF or the end; then the whole input must be used
        let end = body.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(body.len());
        let seg = &body[..end];
        let reference = if seg.is_empty() {
            Err((0, if body.is_empty() { ErrorKind::Incomplete } else { ErrorKind::Syntax }))
        } else if let Some(p) = seg
            .iter()
            .position(|&b| b == 0)
            .filter(|&p| std::str::from_utf8(&seg[..p]).is_ok())
        {
            Err((p, ErrorKind::Syntax))
        } else {
            match std::str::from_utf8(seg) {
                Err(e) if e.error_len().is_none() && end == body.len() => Err((e.valid_up_to(), ErrorKind::Incomplete)),
                Err(e) => Err((e.valid_up_to(), ErrorKind::Encoding)),
                Ok(s) if end == body.len() => { text = Some(s.to_owned()); Ok(()) }
                Ok(_) => Err((end, ErrorKind::Syntax)),
            }
        };
        let got = Text::parse(&body).map(|t| { assert_eq!(Some(t.as_str().to_owned()), text); }).map_err(|e| (e.offset(), e.kind()));
        assert_eq!(got, reference, "{:?}", body);
    }

    /// No input makes a parser panic, errors point inside the input, and whatever parses
    /// encodes to something that parses to the same value.
    #[test]
    fn parsers_never_panic(input in prop::collection::vec(any::<u8>(), 0..48)) {
        let offsets = [
            AString::parse(&input).err(),
            NString8::parse(&input).err(),
            Mailbox::parse(&input).err(),
            ListMailbox::parse(&input).err(),
            Text::parse(&input).err(),
            Charset::parse(&input).err(),
            SequenceSet::parse(&input).err(),
            SequenceSet::parse_uid_set(&input).err(),
            Flag::parse_list(&input).err(),
            FlagPerm::parse_list(&input).err(),
            FlagFetch::parse_list(&input).err(),
            MailboxAttribute::parse_list(&input).err(),
            Date::parse(&input).err(),
            DateTime::parse(&input).err(),
            Literal8::parse(&input).err(),
            Tag::parse(&input).err(),
        ];
        for e in offsets.into_iter().flatten() {
            assert!(e.offset() <= input.len(), "{e}");
        }
        if let Ok(v) = AString::parse(&input) {
            assert_parses!(AString::parse, bytes_with(&v, utf8_options()), v);
        }
        if let Ok(v) = NString8::parse(&input) {
            assert_parses!(NString8::parse, bytes_with(&v, utf8_options()), v);
        }
        if let Ok(v) = Mailbox::parse(&input) {
            assert_parses!(Mailbox::parse, bytes_with(&v, utf8_options()), v.clone());
            let _ = v.to_utf8();
        }
        if let Ok(v) = ListMailbox::parse(&input) {
            assert_parses!(ListMailbox::parse, bytes_with(&v, utf8_options()), v);
        }
        if let Ok(v) = Text::parse(&input) {
            assert_parses!(Text::parse, v.to_bytes(), v);
        }
        if let Ok(v) = Charset::parse(&input) {
            assert_parses!(Charset::parse, v.to_bytes(), v);
        }
        if let Ok(v) = SequenceSet::parse(&input) {
            assert_parses!(SequenceSet::parse, v.to_bytes(), v);
        }
        if let Ok(v) = Flag::parse_list(&input) {
            let mut w = Writer::new(EncodeOptions::default());
            write_list(&mut w, &v);
            let wire = w.finish();
            assert_eq!(&Flag::parse_list(wire.as_bytes()).unwrap()[..], &v[..]);
        }
        if let Ok(v) = MailboxAttribute::parse_list(&input) {
            let mut w = Writer::new(EncodeOptions::default());
            write_list(&mut w, &v);
            let wire = w.finish();
            assert_eq!(&MailboxAttribute::parse_list(wire.as_bytes()).unwrap()[..], &v[..]);
        }
        if let Ok(v) = Date::parse(&input) {
            assert_parses!(Date::parse, v.to_bytes(), v);
        }
        if let Ok(v) = DateTime::parse(&input) {
            assert_parses!(DateTime::parse, v.to_bytes(), v);
        }
        if let Ok(s) = utf7::decode(&input) {
            assert_eq!(utf7::encode(&s).as_bytes(), &input[..]);
        }
    }
}

/// `quoted` read one byte at a time, straight from the grammar: the content, or the offset
/// and kind of the first fault.
fn reference_quoted(input: &[u8]) -> Result<Vec<u8>, (usize, ErrorKind)> {
    let n = input.len();
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        let Some(&b) = input.get(i) else {
            return Err((n, ErrorKind::Incomplete));
        };
        match b {
            b'"' => {
                return if i + 1 == n {
                    Ok(out)
                } else {
                    Err((i + 1, ErrorKind::Syntax))
                };
            }
            b'\\' => match input.get(i + 1) {
                Some(&c @ (b'"' | b'\\')) => {
                    out.push(c);
                    i += 2;
                }
                Some(_) => return Err((i + 1, ErrorKind::Syntax)),
                None => return Err((i + 1, ErrorKind::Incomplete)),
            },
            0 | b'\r' | b'\n' => return Err((i, ErrorKind::Syntax)),
            0x01..=0x7f => {
                out.push(b);
                i += 1;
            }
            _ => {
                let window = &input[i..n.min(i + 4)];
                match std::str::from_utf8(window) {
                    Ok(s) => {
                        let len = s.chars().next().map_or(1, char::len_utf8);
                        out.extend_from_slice(&window[..len]);
                        i += len;
                    }
                    Err(e) if e.valid_up_to() > 0 => {
                        let s = std::str::from_utf8(&window[..e.valid_up_to()]).unwrap();
                        let len = s.chars().next().map_or(1, char::len_utf8);
                        out.extend_from_slice(&window[..len]);
                        i += len;
                    }
                    Err(e) if e.error_len().is_none() => return Err((i, ErrorKind::Incomplete)),
                    Err(_) => return Err((i, ErrorKind::Encoding)),
                }
            }
        }
    }
}

#[test]
fn parsing_without_escapes_borrows() {
    let input = b"\"no escapes here\"";
    match AString::parse(input).unwrap() {
        AString::String(IString::Quoted(q)) => {
            assert!(matches!(q.into_inner(), Cow::Borrowed(_)))
        }
        other => panic!("{other:?}"),
    }
    let input = b"{5}\r\nhello";
    match IString::parse(input).unwrap() {
        IString::Literal(l) => assert!(matches!(l.into_inner(), Cow::Borrowed(b"hello"))),
        other => panic!("{other:?}"),
    }
    let t = Text::parse(b"Completed").unwrap();
    assert!(matches!(t.into_inner(), Cow::Borrowed("Completed")));
}

#[test]
fn into_static_outlives_the_input() {
    let input = b"(\\Seen $Junk \\Foo)".to_vec();
    let flags: Vec<Flag<'static>> = Flag::parse_list(&input)
        .unwrap()
        .into_iter()
        .map(Flag::into_static)
        .collect();
    let mailbox = Mailbox::parse(b"\"a b\"").unwrap().into_static();
    let list = ListMailbox::parse(b"a/%").unwrap().into_static();
    let n8 = NString8::parse(b"~{1}\r\n\0").unwrap().into_static();
    drop(input);
    assert_eq!(flags[1], Flag::keyword("$Junk").unwrap());
    assert_eq!(mailbox.as_bytes(), b"a b");
    assert_eq!(list.as_bytes(), b"a/%");
    assert_eq!(n8.data(), Some(&b"\0"[..]));
}
