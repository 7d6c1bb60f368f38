//! Issue 14, item 5: the UTF-8 text of SMTPUTF8 addresses and EHLO names. Line separators,
//! controls and bidirectional controls are refused in every part of a path (dot-atom and
//! quoted local parts, domains, source routes) and in EHLO names; a domain's U-labels must
//! pass IDNA. Before, any octet of 0x80 or more was accepted in a domain, and such an
//! address, written to a log, could forge a line. Ordinary UTF-8 addresses still parse.

use smtp_proto::*;

fn utf8() -> ParseOptions {
    ParseOptions::default().with_smtputf8(true)
}

/// Every code point the issue names, and the other bidi marks: C1 controls (U+0085 among
/// them), the line and paragraph separators, the embeddings, overrides and isolates, and
/// the marks LRM, RLM and ALM.
const FORBIDDEN: &[char] = &[
    '\u{80}', '\u{85}', '\u{9f}', '\u{2028}', '\u{2029}', '\u{202a}', '\u{202b}', '\u{202c}',
    '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200e}', '\u{200f}',
    '\u{61c}',
];

/// The command lines that carry `c`, with the rule and offset the error must name: a local
/// part as a dot-atom and quoted, a domain, a source-route domain, an EHLO name.
fn lines_with(c: char) -> Vec<(String, &'static str, usize)> {
    vec![
        (format!("MAIL FROM:<us{c}er@例子.广告>"), "Local-part", 13),
        (
            format!("RCPT TO:<\"us{c}er\"@example.org>"),
            "Local-part",
            12,
        ),
        (format!("RCPT TO:<user@exa{c}mple.org>"), "Domain", 17),
        (
            format!("MAIL FROM:<@relay{c}.example:user@example.org>"),
            "Domain",
            17,
        ),
        (format!("EHLO client{c}.example"), "Domain", 11),
        (format!("LHLO {c}client.example"), "Domain", 5),
        (format!("HELO client.example{c}"), "Domain", 19),
    ]
}

#[test]
fn forbidden_characters_are_refused_in_every_part_of_a_path_and_in_ehlo() {
    for &c in FORBIDDEN {
        for (line, rule, offset) in lines_with(c) {
            assert_eq!(
                Command::parse_with(line.as_bytes(), utf8()),
                Err(CommandError::ForbiddenCharacter {
                    rule,
                    offset,
                    character: c
                }),
                "{line:?}"
            );
        }
        // The value constructors use the same grammar.
        assert!(
            Mailbox::parse(&format!("a{c}b@example.org")).is_err(),
            "{c:?}"
        );
        assert!(Domain::new(format!("a{c}b.example")).is_err(), "{c:?}");
    }
}

#[test]
fn the_error_names_the_code_point() {
    let error =
        Command::parse_with("MAIL FROM:<a\u{2028}b@example.org>".as_bytes(), utf8()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "forbidden character U+2028 in Local-part at byte 12"
    );
    assert_eq!(error.offset(), Some(12));
}

/// ASCII controls were refused by the grammar already, with or without SMTPUTF8.
#[test]
fn ascii_controls_stay_refused() {
    for c in (0u8..0x20).chain([0x7f]) {
        for line in [
            [&b"MAIL FROM:<a"[..], &[c], b"b@example.org>"].concat(),
            [&b"RCPT TO:<\"a"[..], &[c], b"b\"@example.org>"].concat(),
            [&b"EHLO a"[..], &[c], b"b.example"].concat(),
        ] {
            assert!(Command::parse_with(&line, utf8()).is_err(), "{line:?}");
        }
    }
}

/// Domains whose U-labels are not IDNA are refused with the rule `U-label`, at the domain.
#[test]
fn u_labels_must_pass_idna() {
    let cases = [
        // A combining mark first (UTS #46 validity criterion 5).
        "\u{301}x.example",
        // U+FFFD is disallowed.
        "x\u{fffd}.example",
        // An unassigned code point.
        "x\u{378}.example",
        // A zero width joiner outside the context IDNA allows (CONTEXTJ).
        "a\u{200d}b.example",
        // A right-to-left label with a left-to-right letter in it (the bidi rule).
        "\u{5d0}a.example",
        // A U-label of 63 octets (21 CJK ideographs far apart) whose A-label is 67.
        &format!("{}.example", spread_label()),
    ];
    for domain in cases {
        let line = format!("RCPT TO:<user@{domain}>");
        assert_eq!(
            Command::parse_with(line.as_bytes(), utf8()),
            Err(CommandError::Syntax {
                rule: "U-label",
                offset: 14
            }),
            "{line:?}"
        );
        let ehlo = format!("EHLO {domain}");
        assert_eq!(
            Command::parse_with(ehlo.as_bytes(), utf8()),
            Err(CommandError::Syntax {
                rule: "U-label",
                offset: 5
            }),
            "{ehlo:?}"
        );
    }
}

/// 21 ideographs from U+4E00 in steps of 997: 63 octets of UTF-8, and a 67-octet A-label
/// (punycode encodes each large step in several digits).
fn spread_label() -> String {
    (0..21)
        .filter_map(|k| char::from_u32(0x4e00 + k * 997))
        .collect()
}

/// Ordinary internationalized addresses and names still parse, and round-trip.
#[test]
fn ordinary_utf8_addresses_still_parse() {
    for address in [
        "用户@例子.广告",
        "δοκιμή@παράδειγμα.δοκιμή",
        "аджай@экзампл.рус",
        "θσερ@εχαμπλε.ψομ",
        "\"用 户\"@例子.广告",
        "josé@bücher.example",
        "user@xn--fsqu00a.xn--3lr804guic",
        // Hebrew and Arabic labels, right to left throughout.
        "משתמש@דוגמה.קום",
        "مستخدم@مثال.موقع",
    ] {
        for line in [
            format!("MAIL FROM:<{address}> SMTPUTF8"),
            format!("RCPT TO:<{address}>"),
        ] {
            let command = Command::parse_with(line.as_bytes(), utf8())
                .unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let mut wire = bytes::BytesMut::new();
            command.encode(&mut wire);
            assert_eq!(
                Command::parse_with(&wire[..wire.len() - 2], utf8()).as_ref(),
                Ok(&command)
            );
        }
        let domain = address.rsplit('@').next().unwrap_or_default();
        assert!(
            Command::parse_with(format!("EHLO {domain}").as_bytes(), utf8()).is_ok(),
            "EHLO {domain}"
        );
    }
}
