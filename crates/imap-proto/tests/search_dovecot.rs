//! The SEARCH table of `tests/search.rs` against a real server: Dovecot (Debian
//! `dovecot-imapd`, started on loopback with a temporary configuration, no full-text search
//! plugin) gets the corpus messages APPENDed with the table's flags and internal dates, at the
//! table's UIDs (filler messages take the UIDs between and are expunged), then every row's
//! `UID SEARCH`; `imap_proto::search` evaluates the same command over the same messages, with
//! the state Dovecot reports for them (flags with `\Recent`, INTERNALDATE, RFC822.SIZE,
//! MODSEQ: Dovecot computes sizes and mod-sequences itself). The `* SEARCH` lines must be
//! the same, except the rows of [`DELIBERATE`], where we answer differently on purpose
//! (`docs/imap.md`, SEARCH section, says why). Under `CI=true` the test never skips.
#![cfg(feature = "mime")]

#[path = "search_dovecot/dovecot.rs"]
mod dovecot;
// The table's sizes, mod-sequences and `\Recent` are left unread: Dovecot has its own.
#[allow(dead_code)]
#[path = "search_dovecot/mailbox.rs"]
mod mailbox;

use std::num::{NonZeroU32, NonZeroU64};

use imap_proto::Encode;
use imap_proto::command::{Command, CommandBody};
use imap_proto::datetime::DateTime;
use imap_proto::fetch::MessageDataItem;
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::message::ParsedMessage;
use imap_proto::response::{Data, Response};
use imap_proto::search::mime::StoredMessage;
use imap_proto::search::{self, SearchContext, SearchMessage};

use dovecot::{Dovecot, Imap};
use mailbox::{MAILBOX, TABLE};

/// Keys (as in the table) where our answer differs from Dovecot's on purpose, with Dovecot's
/// `* SEARCH` line.
const DELIBERATE: &[(&str, &str)] = &[
    // Dovecot reads a missing (UID 11) or unreadable (UID 20) Date: as 1 January 1970; we
    // match no SENT* key there: such a message has no Date: to be earlier than the date
    ("SENTBEFORE 4-Dec-2026", "* SEARCH 6 10 11 20"),
    ("SENTBEFORE 1-Jan-2100", "* SEARCH 3 5 6 9 10 11 20 21 30"),
    ("SENTBEFORE 2-Jan-1970", "* SEARCH 11 20"),
    ("SENTBEFORE 7-Dec-2026", "* SEARCH 5 6 10 11 20 21 30"),
    // Dovecot's BODY leaves out the header fields of MIME parts and of a nested message (its
    // TEXT finds them); they are octets of the body (RFC 5322 section 2.1), so our BODY
    // finds them
    ("BODY dunn", "* SEARCH"),
    ("BODY \"invoice.pdf\"", "* SEARCH"),
];

fn corpus(file: &str) -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/search/");
    std::fs::read(format!("{dir}{file}")).expect(file)
}

/// `key` with every quoted string that holds a non-ASCII character sent as a LITERAL+
/// literal, as a client must (RFC 9051 section 4.3: quoted strings are 7-bit).
fn literalize(key: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = key;
    while let Some(open) = rest.find('"') {
        out.extend_from_slice(&rest.as_bytes()[..open]);
        let after = &rest[open + 1..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let end = end.expect("a closed quoted string");
        let inner = &after[..end];
        if inner.is_ascii() {
            out.extend_from_slice(&rest.as_bytes()[open..open + 1 + end + 1]);
        } else {
            out.extend_from_slice(format!("{{{}+}}\r\n{inner}", inner.len()).as_bytes());
        }
        rest = &after[end + 1..];
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

/// What Dovecot knows of one message.
#[derive(Debug, Default)]
struct State {
    flags: Vec<Flag<'static>>,
    recent: bool,
    internal_date: Option<DateTime>,
    size: u64,
    modseq: Option<NonZeroU64>,
}

fn ok(imap: &mut Imap, command: &[u8]) -> Vec<String> {
    let (status, lines) = imap.command(command);
    assert!(
        status.starts_with("OK"),
        "{}: {status}",
        String::from_utf8_lossy(command)
    );
    lines
}

/// Fills Dovecot's INBOX: the corpus at the table's UIDs, and returns its state by UID.
fn fill(imap: &mut Imap) -> Vec<(u32, State)> {
    ok(imap, b"ENABLE CONDSTORE");
    let last = MAILBOX.iter().map(|e| e.uid).max().unwrap();
    let mut fillers = Vec::new();
    for uid in 1..=last {
        let (octets, flags, date) = match MAILBOX.iter().find(|e| e.uid == uid) {
            Some(e) => (corpus(e.file), e.flags.join(" "), e.internal_date),
            None => {
                fillers.push(uid.to_string());
                (
                    b"Subject: filler\r\n\r\nfiller\r\n".to_vec(),
                    String::new(),
                    "01-Jan-2000 00:00:00 +0000",
                )
            }
        };
        let mut command = format!(
            "APPEND INBOX ({flags}) \"{date}\" {{{}+}}\r\n",
            octets.len()
        )
        .into_bytes();
        command.extend_from_slice(&octets);
        ok(imap, &command);
    }
    ok(imap, b"SELECT INBOX");
    let fillers = fillers.join(",");
    ok(
        imap,
        format!("UID STORE {fillers} +FLAGS.SILENT (\\Deleted)").as_bytes(),
    );
    ok(imap, format!("UID EXPUNGE {fillers}").as_bytes());
    let lines = ok(
        imap,
        b"FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ)",
    );
    let mut states = Vec::new();
    for line in lines {
        let bytes = format!("{line}\r\n");
        let Ok(Response::Data(Data::Fetch { items, .. })) = Response::parse(bytes.as_bytes())
        else {
            continue;
        };
        let mut state = State::default();
        let mut uid = 0;
        for item in &items {
            match item {
                MessageDataItem::Uid(u) => uid = u.get(),
                MessageDataItem::Flags(flags) => {
                    for f in flags {
                        match f {
                            FlagFetch::Recent => state.recent = true,
                            FlagFetch::Flag(f) => state.flags.push(f.clone().into_static()),
                        }
                    }
                }
                MessageDataItem::InternalDate(d) => state.internal_date = Some(*d),
                MessageDataItem::Rfc822Size(n) => state.size = *n,
                MessageDataItem::ModSeq(m) => state.modseq = Some(*m),
                _ => {}
            }
        }
        states.push((uid, state));
    }
    states
}

/// Our `* SEARCH` line for `command` over the messages.
fn ours(command: &[u8], messages: &[StoredMessage<'_, '_>]) -> String {
    let command = Command::parse(command)
        .unwrap_or_else(|e| panic!("{:?}: {e:?}", String::from_utf8_lossy(command)));
    let CommandBody::Search {
        charset, criteria, ..
    } = &command.body
    else {
        panic!("not a SEARCH");
    };
    let ctx = SearchContext {
        exists: u32::try_from(messages.len()).unwrap(),
        largest_uid: messages.last().map(|m| m.uid),
        saved: None,
    };
    let list = messages.iter().enumerate().map(|(i, m)| {
        (
            NonZeroU32::new(u32::try_from(i + 1).unwrap()).unwrap(),
            m as &dyn SearchMessage,
        )
    });
    match search::search(charset.as_ref(), criteria, list, &ctx) {
        Ok(result) => String::from_utf8(result.to_search_data(true).to_bytes())
            .unwrap()
            .trim_end()
            .to_owned(),
        Err(e) => format!("error {e:?}"),
    }
}

#[test]
fn every_row_against_dovecot() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    let mut imap = dovecot.login();
    let states = fill(&mut imap);
    assert_eq!(
        states.iter().map(|(u, _)| *u).collect::<Vec<_>>(),
        MAILBOX.iter().map(|e| e.uid).collect::<Vec<_>>(),
        "Dovecot's UIDs are the table's"
    );
    for (entry, (_, state)) in MAILBOX.iter().zip(&states) {
        let want: Vec<String> = entry.flags.iter().map(|f| f.to_ascii_lowercase()).collect();
        let mut got: Vec<String> = state
            .flags
            .iter()
            .map(|f| {
                String::from_utf8(f.to_bytes())
                    .unwrap()
                    .to_ascii_lowercase()
            })
            .collect();
        got.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got, want, "the flags of {}", entry.file);
    }
    let raws: Vec<Vec<u8>> = MAILBOX.iter().map(|e| corpus(e.file)).collect();
    let parsed: Vec<ParsedMessage<'_>> = raws.iter().map(|r| ParsedMessage::parse(r)).collect();
    let messages: Vec<StoredMessage<'_, '_>> = parsed
        .iter()
        .zip(&states)
        .map(|(p, (uid, state))| {
            let mut m = StoredMessage::new(
                p,
                NonZeroU32::new(*uid).unwrap(),
                state.internal_date.expect("INTERNALDATE"),
            );
            m.flags = &state.flags;
            m.recent = state.recent;
            m.size = state.size;
            m.modseq = state.modseq;
            m
        })
        .collect();
    // LARGER and SMALLER at each message's exact size, as Dovecot counts it, and one below
    let sizes: Vec<String> = states
        .iter()
        .flat_map(|(_, s)| {
            let n = s.size;
            [
                format!("LARGER {n}"),
                format!("SMALLER {n}"),
                format!("LARGER {}", n - 1),
            ]
        })
        .collect();
    let keys: Vec<&str> = TABLE
        .iter()
        .map(|(k, _)| *k)
        .chain(sizes.iter().map(String::as_str))
        .collect();
    let differences = compare(&mut imap, &keys, &messages);
    let report: Vec<String> = differences
        .iter()
        .map(|(k, theirs, ours)| format!("{k}: dovecot {theirs:?}, ours {ours:?}"))
        .collect();
    let found: Vec<(&str, &str)> = differences
        .iter()
        .map(|(k, theirs, _)| (*k, theirs.as_str()))
        .collect();
    assert_eq!(
        found,
        DELIBERATE,
        "differences from Dovecot:\n{}",
        report.join("\n")
    );

    // An empty mailbox: `*` names no message, by UID or by number
    ok(&mut imap, b"CREATE Empty");
    ok(&mut imap, b"SELECT Empty");
    let keys = ["UID *", "*", "UID 1:*", "ALL", "NOT UID *", "$"];
    let differences = compare(&mut imap, &keys, &[]);
    assert!(differences.is_empty(), "{differences:?}");
    for key in keys {
        let mut command = b"t UID SEARCH ".to_vec();
        command.extend(key.as_bytes());
        command.extend(b"\r\n");
        assert_eq!(ours(&command, &[]), "* SEARCH", "{key}");
    }
}

/// Runs `UID SEARCH CHARSET UTF-8 key` for every key on Dovecot and on `messages`, and
/// returns the keys whose answers differ: (key, Dovecot's, ours). An answer is the
/// `* SEARCH` line, or the text after the tag of a NO or BAD.
fn compare<'k>(
    imap: &mut Imap,
    keys: &[&'k str],
    messages: &[StoredMessage<'_, '_>],
) -> Vec<(&'k str, String, String)> {
    let mut differences = Vec::new();
    for &key in keys {
        let mut command = b"UID SEARCH CHARSET UTF-8 ".to_vec();
        command.extend(literalize(key));
        let (status, lines) = imap.command(&command);
        let theirs = if status.starts_with("OK") {
            lines
                .into_iter()
                .find(|l| l.starts_with("* SEARCH"))
                .unwrap_or_default()
        } else {
            status
                .split_once(' ')
                .map_or(status.clone(), |(_, s)| s.to_owned())
        };
        let mut full = b"t ".to_vec();
        full.extend(&command);
        full.extend(b"\r\n");
        let ours = ours(&full, messages);
        if ours != theirs {
            differences.push((key, theirs, ours));
        }
    }
    differences
}
