//! The test mailbox of the SEARCH tables: the corpus messages (`tests/corpus/search/`) with
//! the flags, internal dates, sizes and mod-sequences the store keeps beside them, and the table
//! of keys with the UIDs each finds. `tests/search.rs` evaluates the table with
//! `imap_proto::search`; `tests/search_dovecot.rs` runs every row against Dovecot too.

/// One message of the test mailbox: its file and what the store keeps beside it.
pub(crate) struct Entry {
    pub(crate) file: &'static str,
    pub(crate) uid: u32,
    pub(crate) flags: &'static [&'static str],
    pub(crate) recent: bool,
    pub(crate) internal_date: &'static str,
    pub(crate) size: u64,
    pub(crate) modseq: u64,
}

/// The mailbox, in sequence-number order (seq 1 is UID 3, ..., seq 9 is UID 30).
pub(crate) const MAILBOX: [Entry; 9] = [
    Entry {
        file: "plain.eml",
        uid: 3,
        flags: &["\\Seen", "\\Answered"],
        recent: false,
        internal_date: "07-Dec-2026 09:16:00 +0100",
        size: 1200,
        modseq: 100,
    },
    Entry {
        file: "alternative.eml",
        uid: 5,
        flags: &["\\Flagged", "$Important"],
        recent: true,
        internal_date: "05-Dec-2026 12:00:00 +0000",
        size: 3000,
        modseq: 250,
    },
    Entry {
        file: "nested.eml",
        uid: 6,
        flags: &["\\Seen", "\\Deleted"],
        recent: false,
        internal_date: "01-Dec-2026 08:00:00 -0500",
        size: 5000,
        modseq: 180,
    },
    Entry {
        file: "base64.eml",
        uid: 9,
        flags: &["\\Draft", "\\Seen"],
        recent: true,
        internal_date: "07-Dec-2026 10:00:00 +0100",
        size: 800,
        modseq: 300,
    },
    Entry {
        file: "eightbit.eml",
        uid: 10,
        flags: &["\\Seen", "$Work"],
        recent: false,
        internal_date: "30-Nov-2026 23:59:59 +0000",
        size: 1500,
        modseq: 90,
    },
    Entry {
        file: "nodate.eml",
        uid: 11,
        flags: &[],
        recent: true,
        internal_date: "02-Dec-2026 12:00:00 +0000",
        size: 600,
        modseq: 400,
    },
    Entry {
        file: "garbled-date.eml",
        uid: 20,
        flags: &["\\Seen", "\\Flagged"],
        recent: false,
        internal_date: "03-Dec-2026 12:00:00 +0000",
        size: 9000,
        modseq: 120,
    },
    Entry {
        file: "latin1-body.eml",
        uid: 21,
        flags: &["\\Answered"],
        recent: false,
        internal_date: "04-Dec-2026 12:00:00 +0000",
        size: 700,
        modseq: 110,
    },
    Entry {
        file: "zone.eml",
        // Received at 16:30 Pacific on the 6th: the 7th in UTC, the 6th in its own zone.
        uid: 30,
        flags: &["\\Seen"],
        recent: false,
        internal_date: "06-Dec-2026 16:30:00 -0800",
        size: 2000,
        modseq: 500,
    },
];

/// Every key, as a client writes it, and the UIDs it finds in the test mailbox.
pub(crate) const TABLE: &[(&str, &str)] = &[
    ("ALL", "3 5 6 9 10 11 20 21 30"),
    ("ANSWERED", "3 21"),
    ("UNANSWERED", "5 6 9 10 11 20 30"),
    ("DELETED", "6"),
    ("UNDELETED", "3 5 9 10 11 20 21 30"),
    ("DRAFT", "9"),
    ("UNDRAFT", "3 5 6 10 11 20 21 30"),
    ("FLAGGED", "5 20"),
    ("UNFLAGGED", "3 6 9 10 11 21 30"),
    ("SEEN", "3 6 9 10 20 30"),
    ("UNSEEN", "5 11 21"),
    ("KEYWORD $Important", "5"),
    // keywords compare case-insensitively
    ("KEYWORD $IMPORTANT", "5"),
    ("KEYWORD $Nothing", ""),
    ("UNKEYWORD $work", "3 5 6 9 11 20 21 30"),
    ("UNKEYWORD $Work", "3 5 6 9 11 20 21 30"),
    ("RECENT", "5 9 11"),
    ("OLD", "3 6 10 20 21 30"),
    // RECENT and UNSEEN
    ("NEW", "5 11"),
    // the internal date's day in its own zone: UID 30 arrived on the 6th at -0800
    ("BEFORE 3-Dec-2026", "6 10 11"),
    ("ON 7-Dec-2026", "3 9"),
    ("ON 6-Dec-2026", "30"),
    ("SINCE 6-Dec-2026", "3 9 30"),
    ("SINCE \"1-Jan-2027\"", ""),
    // the Date: field's day as written; no Date (11) or an unreadable one (20): never
    ("SENTBEFORE 4-Dec-2026", "6 10"),
    ("SENTON 6-Dec-2026", "30"),
    ("SENTON 7-Dec-2026", "3 9"),
    ("SENTSINCE 5-Dec-2026", "3 5 9 30"),
    ("SENTBEFORE 1-Jan-2100", "3 5 6 9 10 21 30"),
    // no fallback for a missing or unreadable Date: to the internal date (UID 11 arrived on
    // the 2nd, UID 20 on the 3rd) or to the epoch
    ("SENTON 2-Dec-2026", ""),
    ("SENTON 3-Dec-2026", ""),
    ("SENTBEFORE 2-Jan-1970", ""),
    ("NOT SENTON 7-Dec-2026", "5 6 10 11 20 21 30"),
    // 16:30 -0800 on the 6th is the 7th in UTC: the day as written counts
    ("SENTSINCE 7-Dec-2026", "3 9"),
    ("SENTBEFORE 7-Dec-2026", "5 6 10 21 30"),
    ("LARGER 2000", "5 6 20"),
    // at the exact size (UID 30 has 2000 octets): LARGER and SMALLER are strict
    ("LARGER 1999", "5 6 20 30"),
    ("SMALLER 2000", "3 9 10 11 21"),
    ("LARGER 0", "3 5 6 9 10 11 20 21 30"),
    ("SMALLER 800", "11 21"),
    ("SMALLER 0", ""),
    ("FROM alice", "3"),
    ("FROM example.org", "3 11"),
    // ISO-8859-1 encoded word, matched in any case
    ("FROM \"jörg\"", "5"),
    ("FROM \"JÖRG MÜLLER\"", "5"),
    // 8-bit UTF-8 header (RFC 6532)
    ("FROM \"галина\"", "10"),
    // a nested message's fields are not the message's
    ("FROM dunn", ""),
    ("TO team", "5"),
    ("TO carol", "21"),
    ("CC carol", "3"),
    ("BCC secret-archive", "10"),
    ("BCC bob", ""),
    // UTF-8 base64 encoded words, the second folded onto its own line
    ("SUBJECT \"aus köln\"", "5"),
    ("SUBJECT \"gr\"", "5"),
    // the first word ends inside ü: each encoded word must hold whole characters (RFC 2047
    // section 5), the halves are not joined (Dovecot neither)
    ("SUBJECT \"grüße aus köln\"", ""),
    // ISO-8859-1 quoted-printable encoded word
    ("SUBJECT \"CAFÉ CRÈME\"", "9"),
    // two adjacent encoded words: the space between them is not text (RFC 2047 section 6.2)
    ("SUBJECT \"crème\"", "9"),
    ("SUBJECT \"cr è\"", ""),
    ("SUBJECT \"?= =?\"", ""),
    ("SUBJECT \"ОТЧЁТ\"", "10"),
    // a folded field is unfolded
    ("SUBJECT \"is folded across\"", "11"),
    ("SUBJECT \"\"", "3 5 6 9 10 11 20 21 30"),
    ("SUBJECT report", "3"),
    ("HEADER X-Ticket 4711", "11"),
    ("HEADER x-ticket \"\"", "11"),
    // an empty field: has it
    ("HEADER X-Empty \"\"", "11"),
    ("HEADER X-Missing \"\"", ""),
    ("HEADER X-Empty x", ""),
    ("HEADER X-Missing x", ""),
    ("HEADER Message-ID q4-2026", "3"),
    ("HEADER X-Inner-Only marker", ""),
    ("HEADER \"\" \"\"", ""),
    ("BODY quarterly", "3"),
    ("BODY \"QUARTERLY NUMBERS\"", "3"),
    // quoted-printable UTF-8 text part of multipart/alternative
    ("BODY \"grüße vom dom\"", "5"),
    // the HTML part is searched as its text
    ("BODY \"<b>dom</b>\"", "5"),
    // the nested message/rfc822: its text and its header fields are body text
    ("BODY kumquat", "6"),
    ("BODY dunn", "6"),
    // base64 UTF-8 part
    ("BODY \"straßenfest\"", "9"),
    ("BODY \"MÜNCHEN\"", "9"),
    // simple case folding keeps ß: no match for SS
    ("BODY STRASSENFEST", ""),
    // ISO-8859-1 quoted-printable part
    ("BODY \"café au lait\"", "21"),
    // 8-bit part
    ("BODY \"МИР\"", "10"),
    ("BODY \"date header\"", "11"),
    // headers are not body
    ("BODY \"Return-Path\"", ""),
    // an attachment: its part's header fields are body octets, its content is not text
    ("BODY \"invoice.pdf\"", "20"),
    ("BODY JVBERi0", ""),
    ("BODY \"\"", "3 5 6 9 10 11 20 21 30"),
    ("TEXT \"Return-Path: <alice\"", "3"),
    ("TEXT marker-xyzzy", "6"),
    // field names are header text too
    ("TEXT x-ticket", "11"),
    ("TEXT \" 4711\"", "11"),
    ("TEXT quarterly", "3"),
    ("TEXT bob@example.net", "3 6 9 10 11 20 21 30"),
    ("TEXT invoice.pdf", "20"),
    ("TEXT content-disposition", "20"),
    ("UID 5:10", "5 6 9 10"),
    ("UID 20:*", "20 21 30"),
    // `*` is the largest UID, 30: 31:* is 30:31
    ("UID 31:*", "30"),
    ("UID 1,4,7", ""),
    ("UID 3,30", "3 30"),
    ("1:3", "3 5 6"),
    ("8:*", "21 30"),
    ("*", "30"),
    ("2,4", "5 9"),
    ("10:12", ""),
    // nothing saved yet: `$` is the empty set (RFC 5182 section 2.1)
    ("$", ""),
    ("NOT SEEN", "5 11 21"),
    ("NOT NOT SEEN", "3 6 9 10 20 30"),
    ("OR FLAGGED DRAFT", "5 9 20"),
    ("OR (FROM alice) (BODY kumquat)", "3 6"),
    ("(SEEN FLAGGED)", "20"),
    ("(SEEN (FROM alice))", "3"),
    ("SEEN SINCE 6-Dec-2026", "3 9 30"),
    ("UNSEEN UNANSWERED RECENT", "5 11"),
    // a per-message mod-sequence (entry names are not kept apart)
    ("MODSEQ 300", "9 11 30"),
    ("MODSEQ \"/flags/\\\\seen\" all 200", "5 9 11 30"),
    ("MODSEQ 501", ""),
];
