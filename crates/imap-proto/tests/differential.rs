//! Differential tests against imap-codec (2.0.0-alpha.10, the heavily fuzzed Rust IMAP codec):
//! on a corpus (every message of the RFC 3501 and RFC 9051 transcripts in `tests/transcripts/`,
//! and responses of real servers written down below) and on generated messages (proptest
//! generators writing commands and responses at the byte level across the grammar both
//! model), both parsers accept or both refuse, and where both accept, the fields both model
//! agree (the `facts` functions map each side's value to the same plain strings).
//!
//! Where the two differ on purpose (extensions imap-codec lacks, its quirks, grammar it reads
//! differently), [`deliberate`] names the reason; `docs/imap.md` ("Differential testing") lists
//! them. Any other disagreement fails the test with the message.

use std::path::Path;

use imap_codec::decode::Decoder;
use imap_codec::imap_types as t;
use imap_codec::{CommandCodec, GreetingCodec, ResponseCodec};
use imap_proto::Quirks;
use imap_proto::command::{Command, CommandBody};
use imap_proto::fetch::MessageDataItem;
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::framer::{Framed, Framer, FramerConfig, Side};
use imap_proto::mailbox::Mailbox;
use imap_proto::response::{Code, Data, Greeting, Response, StatusKind};
use imap_proto::sequence::{SeqOrUid, Sequence, SequenceSet};
use proptest::prelude::*;

// ---- facts: the fields both model, as plain strings -----------------------------------------

fn seq_or_uid(s: &SeqOrUid) -> String {
    match s {
        SeqOrUid::Value(n) => n.to_string(),
        SeqOrUid::Asterisk => "*".into(),
    }
}

fn sequence_set(s: &SequenceSet) -> String {
    match s {
        SequenceSet::Saved => "$".into(),
        SequenceSet::Set(list) => list
            .iter()
            .map(|q| match q {
                Sequence::Single(a) => seq_or_uid(a),
                Sequence::Range(a, b) => format!("{}:{}", seq_or_uid(a), seq_or_uid(b)),
            })
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn t_seq_or_uid(s: &t::sequence::SeqOrUid) -> String {
    match s {
        t::sequence::SeqOrUid::Value(n) => n.to_string(),
        t::sequence::SeqOrUid::Asterisk => "*".into(),
    }
}

fn t_sequence_set(s: &t::sequence::SequenceSet) -> String {
    s.0.as_ref()
        .iter()
        .map(|q| match q {
            t::sequence::Sequence::Single(a) => t_seq_or_uid(a),
            t::sequence::Sequence::Range(a, b) => {
                format!("{}:{}", t_seq_or_uid(a), t_seq_or_uid(b))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn flag(f: &Flag) -> String {
    match f {
        Flag::Answered => "\\answered".into(),
        Flag::Flagged => "\\flagged".into(),
        Flag::Deleted => "\\deleted".into(),
        Flag::Seen => "\\seen".into(),
        Flag::Draft => "\\draft".into(),
        Flag::Keyword(a) => a.as_str().to_string(),
        Flag::Extension(a) => format!("\\{}", a.as_str().to_ascii_lowercase()),
        other => format!("{other:?}"),
    }
}

fn t_flag(f: &t::flag::Flag) -> String {
    match f {
        t::flag::Flag::Answered => "\\answered".into(),
        t::flag::Flag::Flagged => "\\flagged".into(),
        t::flag::Flag::Deleted => "\\deleted".into(),
        t::flag::Flag::Seen => "\\seen".into(),
        t::flag::Flag::Draft => "\\draft".into(),
        t::flag::Flag::Keyword(a) => a.inner().to_string(),
        other => other.to_string().to_ascii_lowercase(),
    }
}

fn flag_fetch(f: &FlagFetch) -> String {
    match f {
        FlagFetch::Flag(f) => flag(f),
        FlagFetch::Recent => "\\recent".into(),
    }
}

fn t_flag_fetch(f: &t::flag::FlagFetch) -> String {
    match f {
        t::flag::FlagFetch::Flag(f) => t_flag(f),
        t::flag::FlagFetch::Recent => "\\recent".into(),
    }
}

fn mailbox(m: &Mailbox) -> String {
    match m {
        Mailbox::Inbox => "INBOX".into(),
        Mailbox::Other(a) => String::from_utf8_lossy(a.data()).into_owned(),
    }
}

fn t_mailbox(m: &t::mailbox::Mailbox) -> String {
    match m {
        t::mailbox::Mailbox::Inbox => "INBOX".into(),
        t::mailbox::Mailbox::Other(o) => String::from_utf8_lossy(o.as_ref()).into_owned(),
    }
}

fn bytes(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn part(p: &imap_proto::fetch::Part) -> String {
    p.numbers()
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

fn t_part(p: &t::fetch::Part) -> String {
    p.0.as_ref()
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

fn with_part(p: Option<String>, what: &str) -> String {
    match p {
        Some(p) => format!("{p}.{what}"),
        None => what.to_string(),
    }
}

fn section(s: &imap_proto::fetch::Section) -> String {
    use imap_proto::fetch::Section as S;
    let names = |l: &[imap_proto::core::AString]| {
        l.iter()
            .map(|a| bytes(a.data()).to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match s {
        S::Part(p) => part(p),
        S::Header(p) => with_part(p.as_ref().map(part), "HEADER"),
        S::HeaderFields(p, l) => with_part(
            p.as_ref().map(part),
            &format!("HEADER.FIELDS ({})", names(&l.to_list())),
        ),
        S::HeaderFieldsNot(p, l) => with_part(
            p.as_ref().map(part),
            &format!("HEADER.FIELDS.NOT ({})", names(&l.to_list())),
        ),
        S::Text(p) => with_part(p.as_ref().map(part), "TEXT"),
        S::Mime(p) => format!("{}.MIME", part(p)),
        other => format!("{other:?}"),
    }
}

fn t_section(s: &t::fetch::Section) -> String {
    use t::fetch::Section as S;
    let names = |l: &[t::core::AString]| {
        l.iter()
            .map(|a| bytes(a.as_ref()).to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match s {
        S::Part(p) => t_part(p),
        S::Header(p) => with_part(p.as_ref().map(t_part), "HEADER"),
        S::HeaderFields(p, l) => with_part(
            p.as_ref().map(t_part),
            &format!("HEADER.FIELDS ({})", names(l.as_ref())),
        ),
        S::HeaderFieldsNot(p, l) => with_part(
            p.as_ref().map(t_part),
            &format!("HEADER.FIELDS.NOT ({})", names(l.as_ref())),
        ),
        S::Text(p) => with_part(p.as_ref().map(t_part), "TEXT"),
        S::Mime(p) => format!("{}.MIME", t_part(p)),
    }
}

fn fetch_items(items: &imap_proto::command::FetchItems) -> Vec<String> {
    use imap_proto::command::{FetchAttribute as A, FetchItems as I};
    match items {
        I::All => vec!["ALL".into()],
        I::Fast => vec!["FAST".into()],
        I::Full => vec!["FULL".into()],
        I::Attributes(list) => list
            .iter()
            .map(|a| match a {
                A::Envelope => "ENVELOPE".into(),
                A::Flags => "FLAGS".into(),
                A::InternalDate => "INTERNALDATE".into(),
                A::Rfc822 => "RFC822".into(),
                A::Rfc822Header => "RFC822.HEADER".into(),
                A::Rfc822Size => "RFC822.SIZE".into(),
                A::Rfc822Text => "RFC822.TEXT".into(),
                A::Body => "BODY".into(),
                A::BodyStructure => "BODYSTRUCTURE".into(),
                A::Uid => "UID".into(),
                A::BodySection {
                    peek,
                    section: s,
                    partial,
                } => format!(
                    "BODY peek={peek} [{}] {:?}",
                    s.as_ref().map(section).unwrap_or_default(),
                    partial.map(|p| (p.start, p.length))
                ),
                other => format!("{other:?}"),
            })
            .collect(),
        other => vec![format!("{other:?}")],
    }
}

fn t_fetch_items(items: &t::fetch::MacroOrMessageDataItemNames) -> Vec<String> {
    use t::fetch::{Macro as M, MacroOrMessageDataItemNames as I, MessageDataItemName as A};
    match items {
        I::Macro(M::All) => vec!["ALL".into()],
        I::Macro(M::Fast) => vec!["FAST".into()],
        I::Macro(M::Full) => vec!["FULL".into()],
        I::Macro(other) => vec![format!("{other:?}")],
        I::MessageDataItemNames(list) => list
            .iter()
            .map(|a| match a {
                A::Envelope => "ENVELOPE".into(),
                A::Flags => "FLAGS".into(),
                A::InternalDate => "INTERNALDATE".into(),
                A::Rfc822 => "RFC822".into(),
                A::Rfc822Header => "RFC822.HEADER".into(),
                A::Rfc822Size => "RFC822.SIZE".into(),
                A::Rfc822Text => "RFC822.TEXT".into(),
                A::Body => "BODY".into(),
                A::BodyStructure => "BODYSTRUCTURE".into(),
                A::Uid => "UID".into(),
                A::BodyExt {
                    peek,
                    section: s,
                    partial,
                } => format!(
                    "BODY peek={peek} [{}] {partial:?}",
                    s.as_ref().map(t_section).unwrap_or_default()
                ),
                other => format!("{other:?}"),
            })
            .collect(),
    }
}

fn date(d: &imap_proto::datetime::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// imap-codec's dates (a wrapper of chrono's `NaiveDate`, whose `Debug` is `YYYY-MM-DD`), as
/// [`date`] writes ours.
fn t_date(d: &impl std::fmt::Debug) -> String {
    format!("{d:?}")
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '-')
        .collect()
}

fn charset_name(c: &imap_proto::core::Charset) -> String {
    match c {
        imap_proto::core::Charset::Atom(a) => a.as_str().to_string(),
        imap_proto::core::Charset::Quoted(q) => bytes(q.data()),
    }
}

fn t_charset_name(c: &t::core::Charset) -> String {
    match c {
        t::core::Charset::Atom(a) => a.inner().to_string(),
        t::core::Charset::Quoted(q) => q.inner().to_string(),
    }
}

/// A SEARCH key as a canonical string.
fn search_key(k: &imap_proto::command::SearchKey) -> String {
    use imap_proto::command::SearchKey as K;
    let a = |s: &imap_proto::core::AString| bytes(s.data());
    match k {
        K::All => "ALL".into(),
        K::Answered => "ANSWERED".into(),
        K::Bcc(s) => format!("BCC {}", a(s)),
        K::Before(d) => format!("BEFORE {}", date(d)),
        K::Body(s) => format!("BODY {}", a(s)),
        K::Cc(s) => format!("CC {}", a(s)),
        K::Deleted => "DELETED".into(),
        K::Draft => "DRAFT".into(),
        K::Flagged => "FLAGGED".into(),
        K::From(s) => format!("FROM {}", a(s)),
        K::Header(h, v) => format!("HEADER {} {}", a(h), a(v)),
        K::Keyword(w) => format!("KEYWORD {}", w.as_str()),
        K::Larger(n) => format!("LARGER {n}"),
        K::New => "NEW".into(),
        K::Not(k) => format!("NOT {}", search_key(k)),
        K::Old => "OLD".into(),
        K::On(d) => format!("ON {}", date(d)),
        K::Or(pair) => format!("OR {} {}", search_key(&pair.0), search_key(&pair.1)),
        K::Recent => "RECENT".into(),
        K::Seen => "SEEN".into(),
        K::SentBefore(d) => format!("SENTBEFORE {}", date(d)),
        K::SentOn(d) => format!("SENTON {}", date(d)),
        K::SentSince(d) => format!("SENTSINCE {}", date(d)),
        K::Since(d) => format!("SINCE {}", date(d)),
        K::Smaller(n) => format!("SMALLER {n}"),
        K::Subject(s) => format!("SUBJECT {}", a(s)),
        K::Text(s) => format!("TEXT {}", a(s)),
        K::To(s) => format!("TO {}", a(s)),
        K::Uid(set) => format!("UID {}", sequence_set(set)),
        K::Unanswered => "UNANSWERED".into(),
        K::Undeleted => "UNDELETED".into(),
        K::Undraft => "UNDRAFT".into(),
        K::Unflagged => "UNFLAGGED".into(),
        K::Unkeyword(w) => format!("UNKEYWORD {}", w.as_str()),
        K::Unseen => "UNSEEN".into(),
        K::SequenceSet(set) => sequence_set(set),
        K::And(keys) => format!(
            "({})",
            keys.iter().map(search_key).collect::<Vec<_>>().join(" ")
        ),
        other => format!("{other:?}"),
    }
}

/// imap-codec's SEARCH key as [`search_key`] writes ours.
fn t_search_key(k: &t::search::SearchKey) -> String {
    use t::search::SearchKey as K;
    let a = |s: &t::core::AString| bytes(s.as_ref());
    match k {
        K::All => "ALL".into(),
        K::Answered => "ANSWERED".into(),
        K::Bcc(s) => format!("BCC {}", a(s)),
        K::Before(x) => format!("BEFORE {}", t_date(x)),
        K::Body(s) => format!("BODY {}", a(s)),
        K::Cc(s) => format!("CC {}", a(s)),
        K::Deleted => "DELETED".into(),
        K::Draft => "DRAFT".into(),
        K::Flagged => "FLAGGED".into(),
        K::From(s) => format!("FROM {}", a(s)),
        K::Header(h, v) => format!("HEADER {} {}", a(h), a(v)),
        K::Keyword(w) => format!("KEYWORD {}", w.inner()),
        K::Larger(n) => format!("LARGER {n}"),
        K::New => "NEW".into(),
        K::Not(k) => format!("NOT {}", t_search_key(k)),
        K::Old => "OLD".into(),
        K::On(x) => format!("ON {}", t_date(x)),
        K::Or(x, y) => format!("OR {} {}", t_search_key(x), t_search_key(y)),
        K::Recent => "RECENT".into(),
        K::Seen => "SEEN".into(),
        K::SentBefore(x) => format!("SENTBEFORE {}", t_date(x)),
        K::SentOn(x) => format!("SENTON {}", t_date(x)),
        K::SentSince(x) => format!("SENTSINCE {}", t_date(x)),
        K::Since(x) => format!("SINCE {}", t_date(x)),
        K::Smaller(n) => format!("SMALLER {n}"),
        K::Subject(s) => format!("SUBJECT {}", a(s)),
        K::Text(s) => format!("TEXT {}", a(s)),
        K::To(s) => format!("TO {}", a(s)),
        K::Uid(set) => format!("UID {}", t_sequence_set(set)),
        K::Unanswered => "UNANSWERED".into(),
        K::Undeleted => "UNDELETED".into(),
        K::Undraft => "UNDRAFT".into(),
        K::Unflagged => "UNFLAGGED".into(),
        K::Unkeyword(w) => format!("UNKEYWORD {}", w.inner()),
        K::Unseen => "UNSEEN".into(),
        K::SequenceSet(set) => t_sequence_set(set),
        K::And(keys) => format!(
            "({})",
            keys.as_ref()
                .iter()
                .map(t_search_key)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => format!("{other:?}"),
    }
}

/// The facts of one of our commands. Variants beyond the ones mapped give their name only.
fn command_facts(c: &Command) -> Vec<String> {
    let mut f = vec![format!("tag {}", c.tag.as_str())];
    match &c.body {
        CommandBody::Capability => f.push("CAPABILITY".into()),
        CommandBody::Noop => f.push("NOOP".into()),
        CommandBody::Logout => f.push("LOGOUT".into()),
        CommandBody::StartTls => f.push("STARTTLS".into()),
        CommandBody::Check => f.push("CHECK".into()),
        CommandBody::Close => f.push("CLOSE".into()),
        CommandBody::Expunge => f.push("EXPUNGE".into()),
        CommandBody::Idle => f.push("IDLE".into()),
        CommandBody::Unselect => f.push("UNSELECT".into()),
        CommandBody::Namespace => f.push("NAMESPACE".into()),
        CommandBody::Login { username, password } => {
            f.push("LOGIN".into());
            f.push(bytes(username.data()));
            f.push(bytes(password.data()));
        }
        CommandBody::Select { mailbox: m, .. } => f.extend(["SELECT".into(), mailbox(m)]),
        CommandBody::Examine { mailbox: m, .. } => f.extend(["EXAMINE".into(), mailbox(m)]),
        CommandBody::Create { mailbox: m, .. } => f.extend(["CREATE".into(), mailbox(m)]),
        CommandBody::Delete { mailbox: m } => f.extend(["DELETE".into(), mailbox(m)]),
        CommandBody::Subscribe { mailbox: m } => f.extend(["SUBSCRIBE".into(), mailbox(m)]),
        CommandBody::Unsubscribe { mailbox: m } => f.extend(["UNSUBSCRIBE".into(), mailbox(m)]),
        CommandBody::Rename { from, to } => f.extend(["RENAME".into(), mailbox(from), mailbox(to)]),
        CommandBody::Fetch {
            uid,
            sequence_set: s,
            items,
            ..
        } => {
            f.extend([format!("FETCH uid={uid}"), sequence_set(s)]);
            f.extend(fetch_items(items));
        }
        CommandBody::Store {
            uid,
            sequence_set: s,
            silent,
            flags,
            ..
        } => {
            f.extend([format!("STORE uid={uid} silent={silent}"), sequence_set(s)]);
            f.extend(flags.iter().map(flag));
        }
        CommandBody::Copy {
            uid,
            sequence_set: s,
            mailbox: m,
        } => f.extend([format!("COPY uid={uid}"), sequence_set(s), mailbox(m)]),
        CommandBody::Move {
            uid,
            sequence_set: s,
            mailbox: m,
        } => f.extend([format!("MOVE uid={uid}"), sequence_set(s), mailbox(m)]),
        CommandBody::Search {
            uid,
            charset,
            criteria,
            ..
        } => {
            f.push(format!("SEARCH uid={uid} keys={}", criteria.len()));
            f.push(format!("charset {:?}", charset.as_ref().map(charset_name)));
            f.extend(criteria.iter().map(search_key));
        }
        CommandBody::Append { mailbox: m, .. } => f.extend(["APPEND".into(), mailbox(m)]),
        other => f.push(format!("{:?}", std::mem::discriminant(other))),
    }
    f
}

/// The facts of imap-codec's command, written to match [`command_facts`].
fn t_command_facts(c: &t::command::Command) -> Vec<String> {
    use t::command::CommandBody as B;
    let mut f = vec![format!("tag {}", c.tag.inner())];
    match &c.body {
        B::Capability => f.push("CAPABILITY".into()),
        B::Noop => f.push("NOOP".into()),
        B::Logout => f.push("LOGOUT".into()),
        B::StartTLS => f.push("STARTTLS".into()),
        B::Check => f.push("CHECK".into()),
        B::Close => f.push("CLOSE".into()),
        B::Expunge => f.push("EXPUNGE".into()),
        B::Idle => f.push("IDLE".into()),
        B::Unselect => f.push("UNSELECT".into()),
        B::Namespace => f.push("NAMESPACE".into()),
        B::Login { username, password } => {
            f.push("LOGIN".into());
            f.push(bytes(username.as_ref()));
            f.push(bytes(password.declassify().as_ref()));
        }
        B::Select { mailbox: m, .. } => f.extend(["SELECT".into(), t_mailbox(m)]),
        B::Examine { mailbox: m, .. } => f.extend(["EXAMINE".into(), t_mailbox(m)]),
        B::Create { mailbox: m } => f.extend(["CREATE".into(), t_mailbox(m)]),
        B::Delete { mailbox: m } => f.extend(["DELETE".into(), t_mailbox(m)]),
        B::Subscribe { mailbox: m } => f.extend(["SUBSCRIBE".into(), t_mailbox(m)]),
        B::Unsubscribe { mailbox: m } => f.extend(["UNSUBSCRIBE".into(), t_mailbox(m)]),
        B::Rename { from, to } => f.extend(["RENAME".into(), t_mailbox(from), t_mailbox(to)]),
        B::Fetch {
            uid,
            sequence_set,
            macro_or_item_names,
            ..
        } => {
            f.extend([format!("FETCH uid={uid}"), t_sequence_set(sequence_set)]);
            f.extend(t_fetch_items(macro_or_item_names));
        }
        B::Store {
            uid,
            sequence_set,
            response,
            flags,
            ..
        } => {
            let silent = matches!(response, t::flag::StoreResponse::Silent);
            f.extend([
                format!("STORE uid={uid} silent={silent}"),
                t_sequence_set(sequence_set),
            ]);
            f.extend(flags.iter().map(t_flag));
        }
        B::Copy {
            uid,
            sequence_set,
            mailbox: m,
        } => f.extend([
            format!("COPY uid={uid}"),
            t_sequence_set(sequence_set),
            t_mailbox(m),
        ]),
        B::Move {
            uid,
            sequence_set,
            mailbox: m,
        } => f.extend([
            format!("MOVE uid={uid}"),
            t_sequence_set(sequence_set),
            t_mailbox(m),
        ]),
        B::Search {
            uid,
            charset,
            criteria,
        } => {
            f.push(format!("SEARCH uid={uid} keys={}", criteria.as_ref().len()));
            f.push(format!(
                "charset {:?}",
                charset.as_ref().map(t_charset_name)
            ));
            f.extend(criteria.as_ref().iter().map(t_search_key));
        }
        B::Append { mailbox: m, .. } => f.extend(["APPEND".into(), t_mailbox(m)]),
        other => f.push(format!("other {}", other.name())),
    }
    f
}

/// Whether both sides mapped the command (rather than giving an unmapped variant's name).
fn mapped(facts: &[String]) -> bool {
    facts
        .get(1)
        .is_some_and(|s| !s.starts_with("other ") && !s.starts_with("Discriminant"))
}

fn status_kind(k: StatusKind) -> &'static str {
    match k {
        StatusKind::Ok => "OK",
        StatusKind::No => "NO",
        StatusKind::Bad => "BAD",
        StatusKind::Bye => "BYE",
        StatusKind::PreAuth => "PREAUTH",
    }
}

fn code(c: &Code) -> String {
    match c {
        Code::Alert => "ALERT".into(),
        Code::Parse => "PARSE".into(),
        Code::ReadOnly => "READ-ONLY".into(),
        Code::ReadWrite => "READ-WRITE".into(),
        Code::TryCreate => "TRYCREATE".into(),
        Code::UidNext(n) => format!("UIDNEXT {n}"),
        Code::UidValidity(n) => format!("UIDVALIDITY {n}"),
        Code::Unseen(n) => format!("UNSEEN {n}"),
        Code::PermanentFlags(l) => format!("PERMANENTFLAGS {}", l.len()),
        Code::Capability(l) => format!("CAPABILITY {}", l.len()),
        _ => "code".into(),
    }
}

fn t_code(c: &t::response::Code) -> String {
    use t::response::Code as C;
    match c {
        C::Alert => "ALERT".into(),
        C::Parse => "PARSE".into(),
        C::ReadOnly => "READ-ONLY".into(),
        C::ReadWrite => "READ-WRITE".into(),
        C::TryCreate => "TRYCREATE".into(),
        C::UidNext(n) => format!("UIDNEXT {n}"),
        C::UidValidity(n) => format!("UIDVALIDITY {n}"),
        C::Unseen(n) => format!("UNSEEN {n}"),
        C::PermanentFlags(l) => format!("PERMANENTFLAGS {}", l.len()),
        C::Capability(l) => format!("CAPABILITY {}", l.as_ref().len()),
        _ => "code".into(),
    }
}

/// An address as both sides' comparators write it, from its four fields as strings.
fn address_string(fields: [Option<String>; 4]) -> String {
    let [name, adl, mailbox, host] = fields;
    format!("({name:?} {adl:?} {mailbox:?} {host:?})")
}

/// An ENVELOPE as both sides' comparators write it: the date and subject, the six address
/// lists (each already written by [`address_string`]), In-Reply-To and Message-ID.
fn envelope_string(
    [date, subject]: [Option<String>; 2],
    lists: [String; 6],
    [in_reply_to, message_id]: [Option<String>; 2],
) -> String {
    let [from, sender, reply_to, to, cc, bcc] = lists;
    format!(
        "ENVELOPE {date:?} {subject:?} {from} {sender} {reply_to} {to} {cc} {bcc} \
         {in_reply_to:?} {message_id:?}"
    )
}

/// An ENVELOPE, every field, as a string (ours).
fn envelope(e: &imap_proto::fetch::Envelope) -> String {
    let n = |s: &imap_proto::core::NString| s.data().map(bytes);
    let list = |l: &[imap_proto::fetch::Address]| {
        l.iter()
            .map(|a| address_string([n(&a.name), n(&a.adl), n(&a.mailbox), n(&a.host)]))
            .collect::<String>()
    };
    envelope_string(
        [n(&e.date), n(&e.subject)],
        [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc].map(|l| list(l)),
        [n(&e.in_reply_to), n(&e.message_id)],
    )
}

/// imap-codec's ENVELOPE as [`envelope`] writes ours.
fn t_envelope(e: &t::envelope::Envelope) -> String {
    let n = t_nstring;
    let list = |l: &[t::envelope::Address]| {
        l.iter()
            .map(|a| address_string([n(&a.name), n(&a.adl), n(&a.mailbox), n(&a.host)]))
            .collect::<String>()
    };
    envelope_string(
        [n(&e.date), n(&e.subject)],
        [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc].map(|l| list(l)),
        [n(&e.in_reply_to), n(&e.message_id)],
    )
}

/// A body structure's parts, types, parameters, encodings, sizes and line counts as a string
/// (ours; extension data is not compared).
fn body(b: &imap_proto::fetch::BodyStructure) -> String {
    use imap_proto::fetch::{BodyStructure as B, PartKind as P};
    let low = |s: &imap_proto::core::IString| bytes(s.data()).to_ascii_lowercase();
    match b {
        B::Single(p) => {
            let f = &p.fields;
            let params: Vec<String> = f
                .parameters
                .iter()
                .map(|(k, v)| format!("{}={}", low(k), bytes(v.data())))
                .collect();
            let kind = match &p.kind {
                P::Basic(m) => format!("{}/{}", low(m.media_type()), low(m.subtype())),
                P::Text { subtype, lines } => format!("text/{} lines={lines}", low(subtype)),
                P::Message(m) => format!(
                    "message/rfc822 lines={} {} {}",
                    m.lines,
                    envelope(&m.envelope),
                    body(&m.body)
                ),
            };
            format!(
                "({kind} {params:?} {:?} {:?} {} {})",
                f.id.data().map(bytes),
                f.description.data().map(bytes),
                low(&f.encoding),
                f.octets
            )
        }
        B::Multi(m) => format!(
            "({} multipart/{})",
            m.bodies().iter().map(body).collect::<String>(),
            low(&m.subtype)
        ),
    }
}

/// imap-codec's body structure as [`body`] writes ours.
fn t_body(b: &t::body::BodyStructure) -> String {
    use t::body::{BodyStructure as B, SpecificFields as P};
    let low = |s: &t::core::IString| bytes(s.as_ref()).to_ascii_lowercase();
    match b {
        B::Single { body: x, .. } => {
            let f = &x.basic;
            let params: Vec<String> = f
                .parameter_list
                .iter()
                .map(|(k, v)| format!("{}={}", low(k), bytes(v.as_ref())))
                .collect();
            let kind = match &x.specific {
                P::Basic { r#type, subtype } => format!("{}/{}", low(r#type), low(subtype)),
                P::Text {
                    subtype,
                    number_of_lines,
                } => format!("text/{} lines={number_of_lines}", low(subtype)),
                P::Message {
                    envelope: e,
                    body_structure,
                    number_of_lines,
                } => format!(
                    "message/rfc822 lines={number_of_lines} {} {}",
                    t_envelope(e),
                    t_body(body_structure)
                ),
            };
            format!(
                "({kind} {params:?} {:?} {:?} {} {})",
                t_nstring(&f.id),
                t_nstring(&f.description),
                low(&f.content_transfer_encoding),
                f.size
            )
        }
        B::Multi {
            bodies, subtype, ..
        } => format!(
            "({} multipart/{})",
            bodies.as_ref().iter().map(t_body).collect::<String>(),
            low(subtype)
        ),
    }
}

fn item(i: &MessageDataItem) -> String {
    match i {
        MessageDataItem::Flags(l) => format!(
            "FLAGS {}",
            l.iter().map(flag_fetch).collect::<Vec<_>>().join(" ")
        ),
        MessageDataItem::Uid(n) => format!("UID {n}"),
        MessageDataItem::Rfc822Size(n) => format!("RFC822.SIZE {n}"),
        MessageDataItem::Rfc822(s) => format!("RFC822 {:?}", s.data().map(bytes)),
        MessageDataItem::Rfc822Header(s) => format!("RFC822.HEADER {:?}", s.data().map(bytes)),
        MessageDataItem::Rfc822Text(s) => format!("RFC822.TEXT {:?}", s.data().map(bytes)),
        MessageDataItem::BodySection { origin, data, .. } => {
            format!("BODY[] {origin:?} {:?}", data.data().map(bytes))
        }
        MessageDataItem::Envelope(e) => envelope(e),
        MessageDataItem::InternalDate(_) => "INTERNALDATE".into(),
        MessageDataItem::Body(b) => format!("BODY {}", body(b)),
        MessageDataItem::BodyStructure(b) => format!("BODYSTRUCTURE {}", body(b)),
        other => format!("{:?}", std::mem::discriminant(other)),
    }
}

fn t_nstring(s: &t::core::NString) -> Option<String> {
    s.0.as_ref().map(|s| bytes(s.as_ref()))
}

fn t_item(i: &t::fetch::MessageDataItem) -> String {
    use t::fetch::MessageDataItem as I;
    match i {
        I::Flags(l) => format!(
            "FLAGS {}",
            l.iter().map(t_flag_fetch).collect::<Vec<_>>().join(" ")
        ),
        I::Uid(n) => format!("UID {n}"),
        I::Rfc822Size(n) => format!("RFC822.SIZE {n}"),
        I::Rfc822(s) => format!("RFC822 {:?}", t_nstring(s)),
        I::Rfc822Header(s) => format!("RFC822.HEADER {:?}", t_nstring(s)),
        I::Rfc822Text(s) => format!("RFC822.TEXT {:?}", t_nstring(s)),
        I::BodyExt { origin, data, .. } => format!("BODY[] {origin:?} {:?}", t_nstring(data)),
        I::Envelope(e) => t_envelope(e),
        I::InternalDate(_) => "INTERNALDATE".into(),
        I::Body(b) => format!("BODY {}", t_body(b)),
        I::BodyStructure(b) => format!("BODYSTRUCTURE {}", t_body(b)),
        _ => "other".into(),
    }
}

/// The facts of one of our responses.
fn response_facts(r: &Response) -> Vec<String> {
    match r {
        Response::Status(s) => vec![
            format!("tag {:?}", s.tag().map(|t| t.as_str().to_string())),
            status_kind(s.kind()).into(),
            format!("code {:?}", s.code().map(code)),
            // Trailing spaces are not compared (imap-codec and we treat them differently
            // under quirks); a text of spaces only counts as none on both sides.
            format!(
                "text {:?}",
                s.text()
                    .map(|t| t.as_str().trim_end().to_string())
                    .filter(|t| !t.is_empty())
            ),
        ],
        Response::Data(d) => match d {
            Data::Exists(n) => vec![format!("EXISTS {n}")],
            Data::Recent(n) => vec![format!("RECENT {n}")],
            Data::Expunge(n) => vec![format!("EXPUNGE {n}")],
            Data::Flags(l) => vec![format!(
                "FLAGS {}",
                l.iter().map(flag).collect::<Vec<_>>().join(" ")
            )],
            Data::Search { ids, .. } => vec![format!("SEARCH {ids:?}")],
            Data::Fetch { seq, items } => {
                let mut f = vec![format!("FETCH {seq}")];
                f.extend(items.iter().map(item));
                f
            }
            Data::Capability(l) => vec![format!("CAPABILITY {}", l.len())],
            Data::Other { name, .. } => vec![format!("kept unknown {}", name.as_str())],
            other => vec![format!("{:?}", std::mem::discriminant(other))],
        },
        Response::Continuation(_) => vec!["+".into()],
    }
}

/// The facts of imap-codec's response, written to match [`response_facts`].
fn t_response_facts(r: &t::response::Response) -> Vec<String> {
    use t::response::{Data as D, Response as R, Status as S, StatusKind as K};
    match r {
        R::Status(s) => {
            let (tag, kind, code, text) = match s {
                S::Untagged(b) => (None, b.kind, b.code.as_ref(), &b.text),
                S::Tagged(tg) => (
                    Some(tg.tag.inner().to_string()),
                    tg.body.kind,
                    tg.body.code.as_ref(),
                    &tg.body.text,
                ),
                S::Bye(b) => (None, K::Ok, b.code.as_ref(), &b.text),
            };
            let kind = match (s, kind) {
                (S::Bye(_), _) => "BYE",
                (_, K::Ok) => "OK",
                (_, K::No) => "NO",
                (_, K::Bad) => "BAD",
            };
            // imap-codec reads a missing text (a quirk) as an empty one.
            let text = Some(text.inner().trim_end().to_string()).filter(|t| !t.is_empty());
            vec![
                format!("tag {tag:?}"),
                kind.into(),
                format!("code {:?}", code.map(t_code)),
                format!("text {text:?}"),
            ]
        }
        R::Data(d) => match d {
            D::Exists(n) => vec![format!("EXISTS {n}")],
            D::Recent(n) => vec![format!("RECENT {n}")],
            D::Expunge(n) => vec![format!("EXPUNGE {n}")],
            D::Flags(l) => vec![format!(
                "FLAGS {}",
                l.iter().map(t_flag).collect::<Vec<_>>().join(" ")
            )],
            D::Search(ids, ..) => vec![format!("SEARCH {ids:?}")],
            D::Fetch { seq, items } => {
                let mut f = vec![format!("FETCH {seq}")];
                f.extend(items.as_ref().iter().map(t_item));
                f
            }
            D::Capability(l) => vec![format!("CAPABILITY {}", l.as_ref().len())],
            _ => vec!["other data".into()],
        },
        R::CommandContinuationRequest(_) => vec!["+".into()],
    }
}

/// Whether the facts of a response are mapped on both sides (unmapped ones give a variant's
/// discriminant or "other").
fn response_mapped(ours: &[String], theirs: &[String]) -> bool {
    let unmapped = |f: &[String]| {
        f.iter()
            .any(|s| s.starts_with("Discriminant") || s == "other" || s == "other data")
    };
    !unmapped(ours) && !unmapped(theirs)
}

// ---- one message, both parsers --------------------------------------------------------------

/// What happened to one message on both sides.
#[derive(Debug)]
struct Outcome {
    ours: Result<Vec<String>, String>,
    theirs: Result<Vec<String>, ()>,
}

fn run_command(m: &[u8]) -> Outcome {
    let ours = Command::parse(m)
        .map(|c| command_facts(&c))
        .map_err(|e| format!("{:?}", e.error));
    let theirs = match CommandCodec::default().decode(m) {
        Ok((b"", c)) => Ok(t_command_facts(&c)),
        _ => Err(()),
    };
    Outcome { ours, theirs }
}

fn run_response(m: &[u8]) -> Outcome {
    let ours = Response::parse(m)
        .map(|r| response_facts(&r))
        .map_err(|e| e.to_string());
    let theirs = match ResponseCodec::default().decode(m) {
        Ok((b"", r)) => Ok(t_response_facts(&r)),
        _ => Err(()),
    };
    Outcome { ours, theirs }
}

fn run_greeting(m: &[u8]) -> Outcome {
    let ours = Greeting::parse(m)
        .map(|_| vec!["greeting".to_string()])
        .map_err(|e| e.to_string());
    let theirs = match GreetingCodec::default().decode(m) {
        Ok((b"", _)) => Ok(vec!["greeting".to_string()]),
        _ => Err(()),
    };
    Outcome { ours, theirs }
}

/// Why the two parsers differ on `m` (accepting or refusing), when they do so on purpose.
/// Each reason is listed in `docs/imap.md`, "Differential testing".
fn deliberate(m: &[u8], ours_accepts: bool) -> Option<&'static str> {
    let text = String::from_utf8_lossy(m);
    let upper = text.to_ascii_uppercase();
    let has = |s: &str| upper.contains(s);
    let words: Vec<&str> = upper.split(' ').collect();
    let command = words.get(1).copied().unwrap_or("");
    if !ours_accepts {
        return None;
    }
    // Grammar outside imap-codec's model: we accept, it refuses.
    if command == "LIST"
        && (words.get(2).is_some_and(|w| w.starts_with('('))
            || has(" RETURN (")
            || words.get(3).is_some_and(|w| w.starts_with('(')))
    {
        return Some("LIST-EXTENDED selection/return options, pattern lists, LIST-STATUS");
    }
    if upper.starts_with("* LIST ") && text.trim_end().ends_with("))") {
        return Some("LIST-EXTENDED extended data items (CHILDINFO, OLDNAME, others)");
    }
    if has(" RETURN (") && (command == "SEARCH" || has("UID SEARCH")) {
        return Some("ESEARCH / SEARCHRES return options");
    }
    if upper.starts_with("* ESEARCH") {
        return Some("ESEARCH responses");
    }
    if words
        .iter()
        .any(|w| *w == "$" || w.starts_with("$)") || *w == "($")
    {
        return Some("SEARCHRES `$` as a sequence set");
    }
    if upper.starts_with("* ") && has(" FETCH (") {
        // Unknown FETCH items (X-GM-*, EMAILID, PREVIEW, ...) are kept as
        // `MessageDataItem::Other`; imap-codec refuses the whole response.
        if let Ok(Response::Data(imap_proto::response::Data::Fetch { items, .. })) =
            Response::parse(m)
        {
            if items
                .iter()
                .any(|i| matches!(i, imap_proto::fetch::MessageDataItem::Other { .. }))
            {
                return Some("unknown FETCH items kept (MessageDataItem::Other)");
            }
        }
    }
    if has("  ") || (upper.starts_with("* NAMESPACE") && has(") (")) {
        return Some("Quirks::extra_spaces: more than one space where the grammar has one");
    }
    None
}

/// A status response whose text starts with a `[` that opens no valid resp-text-code: RFC 3501
/// `text` may hold `[`, so we read it as text; imap-codec commits to a code at the `[` and
/// refuses the message (listed in `docs/imap.md`).
fn bracket_text(ours: &[String]) -> bool {
    ours.iter().any(|f| f == "code None") && ours.iter().any(|f| f.starts_with("text Some(\"["))
}

/// Whether a quirk of [`Quirks::LENIENT`] (our response parser's default) changes what `m`
/// parses to: refused, or read otherwise, under [`Quirks::STRICT`]. What only the quirks
/// accept is a deliberate difference, listed with the quirks in `docs/imap.md`.
fn lenient_effect(m: &[u8], lenient: &[String]) -> bool {
    match Response::parse_with(m, Quirks::STRICT) {
        Err(_) => true,
        Ok(r) => response_facts(&r) != lenient,
    }
}

/// Why we refuse a message imap-codec accepts, when we do so on purpose; `error` is our error.
fn deliberate_refusal(error: &str) -> Option<&'static str> {
    if error.contains("bad encoding") || error.contains("Encoding") {
        return Some(
            "text, quoted strings and codes must be UTF-8 (RFC 9051, RFC 6855); imap-codec keeps other bytes in an unknown response code",
        );
    }
    None
}

/// A `text` body part whose line count (`body-fld-lines`, which RFC 3501 and RFC 9051 require
/// of `body-type-text`) is missing: we refuse it; imap-codec reads the part as a basic one (its
/// `NIL` then becoming the MD5 extension). Listed in `docs/imap.md`. `error` is our error,
/// which points at where the number (or the SP before it) was expected, inside a part opened
/// by `("TEXT"`.
fn text_part_without_lines(m: &[u8], error: &str) -> bool {
    let Some(offset) = error
        .split("offset ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return false;
    };
    if !error.contains("expected number") && !error.contains("expected SP") {
        return false;
    }
    let before = m.get(..offset).unwrap_or(m).to_ascii_uppercase();
    let Some(start) = before.windows(7).rposition(|w| w == b"(\"TEXT\"") else {
        return false;
    };
    // Inside that part: its parenthesis is still open at the offset (quoted strings and
    // literals skipped).
    let mut depth = 0usize;
    let mut i = start;
    while i < before.len() {
        match before[i] {
            b'"' => {
                i += 1;
                while i < before.len() && before[i] != b'"' {
                    i += if before[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => {
                let digits: Vec<u8> = before[i + 1..]
                    .iter()
                    .copied()
                    .take_while(u8::is_ascii_digit)
                    .collect();
                let n: usize = String::from_utf8_lossy(&digits).parse().unwrap_or(0);
                // `{n}` CRLF, then n octets
                i += 1 + digits.len() + 3 + n;
                continue;
            }
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    depth > 0
}

/// Why the two parsers' values differ on `m`, when they do so on purpose.
fn deliberate_values(m: &[u8], ours: &[String], theirs: &[String]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(m);
    let long_number = text
        .split(|c: char| !c.is_ascii_digit())
        .any(|d| d.len() >= 10 && d.parse::<u64>().is_ok_and(|n| n > u64::from(u32::MAX)));
    if long_number && ours.iter().any(|f| f.contains("4294967295")) {
        return Some(
            "Quirks::clamp_numbers: a number beyond 32 bits is clamped (imap-codec keeps the code as unknown)",
        );
    }
    if ours.iter().any(|f| f == "code None")
        && theirs.iter().any(|f| f == "code Some(\"code\")")
        && ours.iter().any(|f| f.starts_with("text Some(\"["))
    {
        return Some(
            "a `[` that does not open a valid resp-text-code starts the text (RFC 3501 `text` may hold `[`); imap-codec reads an unknown code",
        );
    }
    None
}

/// imap-codec fills a missing status text (its `quirk_missing_text`) with `...`: read that as
/// no text, as ours reports it, unless the message has that text.
fn normalise_missing_text(m: &[u8], facts: &mut [String]) {
    let has_dots = String::from_utf8_lossy(m).contains("...");
    for f in facts.iter_mut() {
        if f == "text Some(\"...\")" && !has_dots {
            *f = "text None".into();
        }
    }
}

/// Compare one message; `Err` describes an unexplained disagreement.
fn compare(kind: &str, m: &[u8], o: &Outcome, mapped_check: bool) -> Result<(), String> {
    match (&o.ours, &o.theirs) {
        (Ok(a), Ok(b)) => {
            let both = match kind {
                "command" => mapped(a) && mapped(b),
                "response" => response_mapped(a, b),
                _ => true,
            };
            let mut b = b.clone();
            normalise_missing_text(m, &mut b);
            let lenient_only = kind == "response" && lenient_effect(m, a);
            if mapped_check
                && both
                && *a != b
                && !lenient_only
                && deliberate_values(m, a, &b).is_none()
            {
                return Err(format!(
                    "{kind} {:?}: values differ\n  ours:       {a:?}\n  imap-codec: {b:?}",
                    bytes(m)
                ));
            }
            Ok(())
        }
        (Err(_), Err(())) => Ok(()),
        (Ok(_), Err(())) if deliberate(m, true).is_some() => Ok(()),
        (Ok(a), Err(())) if bracket_text(a) || m.starts_with(b"+ [") => Ok(()),
        // Our response parser's default is Quirks::LENIENT (clamped numbers, extra spaces,
        // ...): what only that accepts is a deliberate difference, listed with the quirks.
        (Ok(a), Err(())) if kind == "response" && lenient_effect(m, a) => Ok(()),
        // RFC 9051 makes the text of resp-text optional (`* BYE` SP CRLF); imap-codec follows
        // RFC 3501, where it is required.
        (Ok(a), Err(())) if a.iter().any(|f| f == "text None") => Ok(()),
        // Unknown untagged responses are kept, never errors (the scope).
        (Ok(a), Err(())) if a.first().is_some_and(|f| f.starts_with("kept unknown")) => Ok(()),
        (Ok(_), Err(())) => Err(format!(
            "{kind} {:?}: we accept, imap-codec refuses",
            bytes(m)
        )),
        (Err(e), Ok(_)) if deliberate_refusal(e).is_some() => Ok(()),
        (Err(e), Ok(_)) if text_part_without_lines(m, e) => Ok(()),
        (Err(e), Ok(_)) => Err(format!(
            "{kind} {:?}: imap-codec accepts, we refuse: {e}",
            bytes(m)
        )),
    }
}

// ---- the corpus -----------------------------------------------------------------------------

/// Frame one side of a transcript; each message with the prefix of its first line.
fn frame(
    side: Side,
    stream: &[u8],
    kinds: &[(usize, &'static str)],
) -> Vec<(&'static str, Vec<u8>)> {
    let mut framer = Framer::new(FramerConfig::default(), side);
    let mut rest = stream;
    let mut out = Vec::new();
    loop {
        let start = stream.len() - rest.len();
        match framer.next_frame(&mut rest) {
            Some(Framed::Message(m)) => {
                let kind = kinds
                    .iter()
                    .rev()
                    .find(|(at, _)| *at <= start)
                    .map_or("?", |(_, k)| *k);
                out.push((kind, m.to_vec()));
            }
            Some(Framed::Literal(_)) => framer.accept_literal(),
            Some(Framed::Error(e)) => panic!("framing: {e}"),
            None => break,
        }
    }
    out
}

/// Every message of every transcript, as (kind, bytes): kind is `C:`, `C!`, `S:` or `G:`.
fn transcript_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/transcripts")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert!(paths.len() > 50, "the transcripts are there");
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("readable");
        let (mut client, mut server) = (Vec::new(), Vec::new());
        let (mut ck, mut sk) = (Vec::new(), Vec::new());
        for line in text.lines() {
            let (prefix, rest) = (line.get(..2).unwrap_or(""), line.get(3..).unwrap_or(""));
            let (buf, kinds, kind): (&mut Vec<u8>, &mut Vec<(usize, &str)>, &str) = match prefix {
                "C:" => (&mut client, &mut ck, "C:"),
                "C!" => (&mut client, &mut ck, "C!"),
                "A:" => (&mut client, &mut ck, "A:"),
                "D:" => (&mut client, &mut ck, "D:"),
                "S:" => (&mut server, &mut sk, "S:"),
                "G:" => (&mut server, &mut sk, "G:"),
                _ => continue,
            };
            kinds.push((buf.len(), kind));
            buf.extend_from_slice(rest.as_bytes());
            buf.extend_from_slice(b"\r\n");
        }
        out.extend(frame(Side::Server, &client, &ck));
        out.extend(frame(Side::Client, &server, &sk));
    }
    out
}

/// Responses of real servers, written down from sessions (names and numbers changed).
const REAL_SERVER_RESPONSES: &[&[u8]] = &[
    // Dovecot 2.3
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n",
    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk $NotJunk)\r\n",
    b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk $NotJunk \\*)] Flags permitted.\r\n",
    b"* 4821 EXISTS\r\n",
    b"* 0 RECENT\r\n",
    b"* OK [UNSEEN 4790] First unseen.\r\n",
    b"* OK [UIDVALIDITY 1600000000] UIDs valid\r\n",
    b"* OK [UIDNEXT 98766] Predicted next UID\r\n",
    b"a2 OK [READ-WRITE] Select completed (0.002 + 0.000 + 0.001 secs).\r\n",
    b"* 1 FETCH (UID 4 FLAGS (\\Seen))\r\n",
    b"* 12 FETCH (UID 4827 RFC822.SIZE 3451 FLAGS (\\Seen $NotJunk))\r\n",
    b"* SEARCH 2 84 882\r\n",
    b"* SEARCH\r\n",
    b"a5 OK Search completed (0.001 + 0.000 secs).\r\n",
    b"* 3 EXPUNGE\r\n",
    b"a9 NO [TRYCREATE] Mailbox doesn't exist: Archive\r\n",
    b"* BYE Logging out\r\n",
    b"+ idling\r\n",
    // Gmail
    b"* OK Gimap ready for requests from 192.0.2.1 a1mb123456abc\r\n",
    b"* 1234 FETCH (X-GM-THRID 1628000000000000000 UID 98765 FLAGS (\\Seen))\r\n",
    b"* 7 FETCH (UID 33 INTERNALDATE \"14-Mar-2024 09:21:07 +0000\" RFC822.SIZE 48213 ENVELOPE (\"Thu, 14 Mar 2024 09:20:58 +0100\" \"Re: figures\" ((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) ((NIL NIL \"bob\" \"example.net\")) NIL NIL \"<a@example.net>\" \"<b@example.org>\"))\r\n",
    b"* 7 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 12 1 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 40 1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"0000\") NIL NIL NIL))\r\n",
    b"A4 OK Success\r\n",
    // Exchange / Outlook.com
    b"* OK The Microsoft Exchange IMAP4 service is ready. [QwBIADIAUABSADAAMQBDAEEAMAAwADEANgAuAG4AYQBtAHAAcgBkADAAMQAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]\r\n",
    b"* 2 FETCH (UID 25 BODY[HEADER.FIELDS (SUBJECT)] {20}\r\nSubject: hello\r\n\r\n\r\n)\r\n",
    b"a3 OK FETCH completed.\r\n",
    // Cyrus
    b"* 1 FETCH (FLAGS (\\Recent) UID 1 BODY[] {5}\r\nhello)\r\n",
    b"* OK [ALERT] System shutdown in 10 minutes\r\n",
    b"a1 BAD [PARSE] Unrecognized command\r\n",
];

#[test]
fn corpus_transcripts_agree() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for (kind, m) in transcript_corpus() {
        let r = match kind {
            "C:" | "C!" => compare("command", &m, &run_command(&m), true),
            "S:" => compare("response", &m, &run_response(&m), true),
            "G:" => compare("greeting", &m, &run_greeting(&m), true),
            _ => continue,
        };
        compared += 1;
        if let Err(e) = r {
            failures.push(e);
        }
    }
    assert!(compared > 200, "compared {compared} messages");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_real_servers_agree() {
    let mut failures = Vec::new();
    for m in REAL_SERVER_RESPONSES {
        if let Err(e) = compare("response", m, &run_response(m), true) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---- generated messages ---------------------------------------------------------------------

fn tag() -> impl Strategy<Value = String> {
    "[A-Za-z0-9.]{1,8}"
}

/// An `astring` on the wire: an atom, a quoted string (with escapes) or a literal.
fn astring() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_.@!&-]{1,12}",
        "[ A-Za-z0-9_.@\"\\\\()*%{}-]{0,12}"
            .prop_map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))),
        "[ -~]{0,12}".prop_map(|s| format!("{{{}}}\r\n{s}", s.len())),
    ]
}

fn mailbox_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("INBOX".to_string()),
        Just("inbox".to_string()),
        astring()
    ]
}

fn number() -> impl Strategy<Value = u32> {
    1..100_000u32
}

fn seq_set() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            number().prop_map(|n| n.to_string()),
            Just("*".to_string()),
            (number(), number()).prop_map(|(a, b)| format!("{a}:{b}")),
            number().prop_map(|a| format!("{a}:*")),
        ],
        1..4,
    )
    .prop_map(|v| v.join(","))
}

fn system_flag() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\\Seen"),
        Just("\\Answered"),
        Just("\\Flagged"),
        Just("\\Deleted"),
        Just("\\Draft"),
        Just("\\seen"),
    ]
    .prop_map(str::to_string)
}

fn flag_arg() -> impl Strategy<Value = String> {
    prop_oneof![
        system_flag(),
        "\\$?[A-Za-z][A-Za-z0-9]{0,8}".prop_map(|s| s.replacen('\\', "", 1))
    ]
}

fn flags(min: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(flag_arg(), min..5).prop_map(|v| format!("({})", v.join(" ")))
}

fn gen_date() -> impl Strategy<Value = String> {
    (1..=28u32, 0..12usize, 1990..2030u32).prop_map(|(d, m, y)| {
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!("{d}-{}-{y}", months[m])
    })
}

fn gen_search_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![
            Just("ALL"),
            Just("SEEN"),
            Just("UNSEEN"),
            Just("DELETED"),
            Just("UNDELETED"),
            Just("FLAGGED"),
            Just("ANSWERED"),
            Just("NEW"),
            Just("OLD"),
            Just("RECENT"),
            Just("DRAFT"),
        ]
        .prop_map(str::to_string),
        astring().prop_map(|s| format!("FROM {s}")),
        astring().prop_map(|s| format!("SUBJECT {s}")),
        astring().prop_map(|s| format!("TEXT {s}")),
        (astring(), astring()).prop_map(|(a, b)| format!("HEADER {a} {b}")),
        gen_date().prop_map(|d| format!("SINCE {d}")),
        gen_date().prop_map(|d| format!("BEFORE {d}")),
        gen_date().prop_map(|d| format!("SENTON {d}")),
        number().prop_map(|n| format!("LARGER {n}")),
        number().prop_map(|n| format!("SMALLER {n}")),
        seq_set(),
        seq_set().prop_map(|s| format!("UID {s}")),
        "[A-Za-z][A-Za-z0-9]{0,6}".prop_map(|k| format!("KEYWORD {k}")),
    ]
    .prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|k| format!("NOT {k}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("OR {a} {b}")),
            proptest::collection::vec(inner, 1..4).prop_map(|v| format!("({})", v.join(" "))),
        ]
    })
}

fn fetch_att() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![
            Just("FLAGS"),
            Just("UID"),
            Just("RFC822.SIZE"),
            Just("ENVELOPE"),
            Just("BODYSTRUCTURE"),
            Just("BODY"),
            Just("INTERNALDATE"),
            Just("RFC822.HEADER"),
            Just("BODY[]"),
            Just("BODY.PEEK[HEADER]"),
            Just("BODY[TEXT]"),
            Just("BODY[1.2.MIME]"),
            Just("BODY[1.2]<0.2048>"),
            Just("BODY.PEEK[]<100.50>"),
        ]
        .prop_map(str::to_string),
        proptest::collection::vec("[A-Za-z][A-Za-z-]{0,10}", 1..5)
            .prop_map(|v| format!("BODY.PEEK[HEADER.FIELDS ({})]", v.join(" "))),
        proptest::collection::vec("[A-Za-z][A-Za-z-]{0,10}", 1..3)
            .prop_map(|v| format!("BODY[1.HEADER.FIELDS.NOT ({})]", v.join(" "))),
    ]
}

/// A valid command of the grammar both parsers model, on the wire.
fn command() -> impl Strategy<Value = Vec<u8>> {
    let uid = prop_oneof![Just(""), Just("UID ")];
    let body = prop_oneof![
        prop_oneof![
            Just("NOOP"),
            Just("CAPABILITY"),
            Just("LOGOUT"),
            Just("STARTTLS"),
            Just("CHECK"),
            Just("CLOSE"),
            Just("EXPUNGE"),
            Just("UNSELECT"),
            Just("IDLE"),
            Just("NAMESPACE"),
            Just("noop"),
        ]
        .prop_map(str::to_string),
        (astring(), astring()).prop_map(|(u, p)| format!("LOGIN {u} {p}")),
        (
            prop_oneof![
                Just("SELECT"),
                Just("EXAMINE"),
                Just("CREATE"),
                Just("DELETE"),
                Just("SUBSCRIBE"),
                Just("UNSUBSCRIBE")
            ],
            mailbox_arg()
        )
            .prop_map(|(c, m)| format!("{c} {m}")),
        (mailbox_arg(), mailbox_arg()).prop_map(|(a, b)| format!("RENAME {a} {b}")),
        (
            uid.clone(),
            seq_set(),
            prop_oneof![
                Just("ALL".to_string()),
                Just("FAST".to_string()),
                Just("FULL".to_string()),
                fetch_att(),
                proptest::collection::vec(fetch_att(), 1..5)
                    .prop_map(|v| format!("({})", v.join(" "))),
            ]
        )
            .prop_map(|(u, s, a)| format!("{u}FETCH {s} {a}")),
        (
            uid.clone(),
            seq_set(),
            prop_oneof![Just("+"), Just("-"), Just("")],
            prop_oneof![Just(""), Just(".SILENT")],
            flags(0)
        )
            .prop_map(|(u, s, k, q, f)| format!("{u}STORE {s} {k}FLAGS{q} {f}")),
        (
            uid.clone(),
            prop_oneof![Just("COPY"), Just("MOVE")],
            seq_set(),
            mailbox_arg()
        )
            .prop_map(|(u, c, s, m)| format!("{u}{c} {s} {m}")),
        (
            uid,
            prop_oneof![
                Just(String::new()),
                Just("CHARSET UTF-8 ".to_string()),
                Just("CHARSET \"US-ASCII\" ".to_string())
            ],
            proptest::collection::vec(gen_search_key(), 1..4)
        )
            .prop_map(|(u, c, k)| format!("{u}SEARCH {c}{}", k.join(" "))),
    ];
    (tag(), body).prop_map(|(t, b)| format!("{t} {b}\r\n").into_bytes())
}

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][ A-Za-z0-9.,:()'-]{0,30}".prop_map(|s| s.trim_end().to_string())
}

fn nstring() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("NIL".to_string()),
        "[ A-Za-z0-9.@<>-]{0,16}".prop_map(|s| format!("\"{s}\"")),
        "[ -~]{0,16}".prop_map(|s| format!("{{{}}}\r\n{s}", s.len())),
    ]
}

fn address() -> impl Strategy<Value = String> {
    (nstring(), nstring(), nstring(), nstring())
        .prop_map(|(a, b, c, d)| format!("({a} {b} {c} {d})"))
}

fn addresses() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("NIL".to_string()),
        proptest::collection::vec(address(), 1..3).prop_map(|v| format!("({})", v.concat())),
    ]
}

fn gen_envelope() -> impl Strategy<Value = String> {
    (
        (nstring(), nstring()),
        (addresses(), addresses(), addresses()),
        (addresses(), addresses(), addresses()),
        (nstring(), nstring()),
    )
        .prop_map(|((d, s), (f, se, r), (t, c, b), (i, m))| {
            format!("ENVELOPE ({d} {s} {f} {se} {r} {t} {c} {b} {i} {m})")
        })
}

/// A `body` on the wire: a text or basic part (parameters, id, description, encoding, size,
/// lines, optional extension data) or a multipart of such parts.
fn gen_body() -> impl Strategy<Value = String> {
    let params = prop_oneof![
        Just("NIL".to_string()),
        proptest::collection::vec(("[a-z]{1,8}", "[A-Za-z0-9 ._-]{0,12}"), 1..3).prop_map(|v| {
            format!(
                "({})",
                v.iter()
                    .map(|(k, v)| format!("\"{k}\" \"{v}\""))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }),
    ];
    let enc = prop_oneof![
        Just("\"7BIT\""),
        Just("\"base64\""),
        Just("\"quoted-printable\"")
    ];
    let ext = prop_oneof![
        Just(""),
        Just(" NIL"),
        Just(" NIL (\"attachment\" (\"filename\" \"a.pdf\")) NIL NIL"),
    ];
    let leaf = (
        prop_oneof![
            "[a-z]{1,8}".prop_map(|s| format!("\"text\" \"{s}\"")),
            ("[a-z]{2,8}", "[a-z]{1,8}").prop_map(|(t, s)| format!("\"{t}\" \"{s}\"")),
        ],
        params,
        nstring(),
        enc,
        0..100_000u32,
        0..5_000u32,
        ext,
    )
        .prop_map(|(ty, p, id, e, size, lines, x)| {
            let lines = if ty.starts_with("\"text\"") {
                format!(" {lines}")
            } else {
                String::new()
            };
            format!("({ty} {p} {id} NIL {e} {size}{lines}{x})")
        });
    leaf.prop_recursive(2, 8, 3, |inner| {
        (
            proptest::collection::vec(inner, 1..4),
            "[a-z]{1,10}",
            prop_oneof![Just(""), Just(" (\"boundary\" \"xyz\") NIL NIL")],
        )
            .prop_map(|(parts, sub, x)| format!("({} \"{sub}\"{x})", parts.concat()))
    })
}

fn msg_att() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(
            prop_oneof![system_flag(), Just("\\Recent".to_string())],
            0..4
        )
        .prop_map(|v| format!("FLAGS ({})", v.join(" "))),
        number().prop_map(|n| format!("UID {n}")),
        number().prop_map(|n| format!("RFC822.SIZE {n}")),
        nstring().prop_map(|s| format!("BODY[] {s}")),
        nstring().prop_map(|s| format!("BODY[HEADER] {s}")),
        (number(), nstring()).prop_map(|(o, s)| format!("BODY[TEXT]<{o}> {s}")),
        nstring().prop_map(|s| format!("RFC822.HEADER {s}")),
        gen_envelope(),
        Just("INTERNALDATE \"17-Jul-1996 02:44:25 -0700\"".to_string()),
        gen_body().prop_map(|b| format!("BODYSTRUCTURE {b}")),
        gen_body().prop_map(|b| format!("BODY {b}")),
    ]
}

fn resp_code() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[ALERT] ".to_string()),
        Just("[PARSE] ".to_string()),
        Just("[READ-ONLY] ".to_string()),
        Just("[READ-WRITE] ".to_string()),
        Just("[TRYCREATE] ".to_string()),
        number().prop_map(|n| format!("[UIDVALIDITY {n}] ")),
        number().prop_map(|n| format!("[UIDNEXT {n}] ")),
        number().prop_map(|n| format!("[UNSEEN {n}] ")),
        proptest::collection::vec(system_flag(), 0..4)
            .prop_map(|v| format!("[PERMANENTFLAGS ({})] ", v.join(" "))),
        Just(String::new()),
    ]
}

/// A valid response of the grammar both parsers model, on the wire.
fn response() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            prop_oneof![tag(), Just("*".to_string())],
            prop_oneof![Just("OK"), Just("NO"), Just("BAD")],
            resp_code(),
            text()
        )
            .prop_map(|(t, k, c, x)| format!("{t} {k} {c}{x}\r\n")),
        (resp_code(), text()).prop_map(|(c, x)| format!("* BYE {c}{x}\r\n")),
        (0..100_000u32, prop_oneof![Just("EXISTS"), Just("RECENT")])
            .prop_map(|(n, k)| format!("* {n} {k}\r\n")),
        number().prop_map(|n| format!("* {n} EXPUNGE\r\n")),
        flags(0).prop_map(|f| format!("* FLAGS {f}\r\n")),
        proptest::collection::vec(number(), 0..6).prop_map(|v| format!(
            "* SEARCH{}\r\n",
            v.iter().map(|n| format!(" {n}")).collect::<String>()
        )),
        (number(), proptest::collection::vec(msg_att(), 1..4))
            .prop_map(|(n, a)| format!("* {n} FETCH ({})\r\n", a.join(" "))),
        proptest::collection::vec("[A-Z][A-Z0-9=+-]{0,10}", 0..5).prop_map(|v| format!(
            "* CAPABILITY IMAP4rev1{}\r\n",
            v.iter().map(|c| format!(" {c}")).collect::<String>()
        )),
        text().prop_map(|x| format!("+ {x}\r\n")),
    ]
    .prop_map(String::into_bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_commands_agree(m in command()) {
        let o = run_command(&m);
        prop_assert!(o.ours.is_ok(), "we refuse {:?}: {:?}", bytes(&m), o.ours);
        if let Err(e) = compare("command", &m, &o, true) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn generated_responses_agree(m in response()) {
        let o = run_response(&m);
        prop_assert!(o.ours.is_ok(), "we refuse {:?}: {:?}", bytes(&m), o.ours);
        if let Err(e) = compare("response", &m, &o, true) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// A generated message with one byte replaced, inserted or removed: both accept or both refuse
/// (values compared where both accept).
fn mutate(m: Vec<u8>, at: usize, byte: u8, how: u8) -> Vec<u8> {
    let mut m = m;
    // Keep the final CRLF: a message without it is not a frame.
    let body = m.len().saturating_sub(2).max(1);
    let at = at % body;
    match how % 3 {
        0 => m[at] = byte,
        1 => m.insert(at, byte),
        _ => {
            m.remove(at);
        }
    }
    m
}

fn mutation_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b' '),
        Just(b'('),
        Just(b')'),
        Just(b'"'),
        Just(b'\\'),
        Just(b'{'),
        Just(b'*'),
        Just(b'0'),
        Just(b'['),
        Just(b']'),
        Just(b'A'),
        Just(b'%'),
        Just(0x80),
        Just(b'\r'),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn mutated_commands_agree(m in command(), at in any::<usize>(), b in mutation_byte(), how in any::<u8>()) {
        let m = mutate(m, at, b, how);
        if let Err(e) = compare("command", &m, &run_command(&m), true) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn mutated_responses_agree(m in response(), at in any::<usize>(), b in mutation_byte(), how in any::<u8>()) {
        let m = mutate(m, at, b, how);
        if let Err(e) = compare("response", &m, &run_response(&m), true) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The comparison is not vacuous: values that differ in a field both model are reported.
#[test]
fn a_difference_in_values_is_reported() {
    let ours = run_command(b"a1 UID FETCH 1:5 FLAGS\r\n").ours;
    let theirs = run_command(b"a1 UID FETCH 1:6 FLAGS\r\n").theirs;
    let o = Outcome { ours, theirs };
    let e = compare("command", b"a1 UID FETCH 1:5 FLAGS\r\n", &o, true).unwrap_err();
    assert!(e.contains("values differ"), "{e}");
    let ours = run_response(b"* 3 FETCH (UID 7 FLAGS (\\Seen))\r\n").ours;
    let theirs = run_response(b"* 3 FETCH (UID 7 FLAGS (\\Deleted))\r\n").theirs;
    let o = Outcome { ours, theirs };
    assert!(
        compare(
            "response",
            b"* 3 FETCH (UID 7 FLAGS (\\Seen))\r\n",
            &o,
            true
        )
        .is_err()
    );
    // And a one-sided refusal without a reason.
    let o = Outcome {
        ours: Err("syntax error".into()),
        theirs: run_command(b"a1 NOOP\r\n").theirs,
    };
    assert!(compare("command", b"a1 NOOP\r\n", &o, true).is_err());
}
