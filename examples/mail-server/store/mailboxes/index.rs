//! The on-disk index of one folder: its snapshot file, its log of changes, and the in-memory
//! form both are read into.
//!
//! Both files are lines of text (UTF-8), so a person can read them:
//!
//! ```text
//! sansmail-index                       the snapshot, replaced whole (tmp, fsync, rename, fsync dir)
//!   sansmail-imap-index 1              magic and format version
//!   <uidvalidity> <uidnext> <highestmodseq> <messages>
//!   <uid> <modseq> <secs> <zone> <size> <flags> <name> [<keyword> ...]     one per message
//!   end <crc32 of every byte before this line, 8 hex digits>
//! sansmail-index.log                   the changes since the snapshot, appended
//!   sansmail-imap-log 1 <uidvalidity>  magic, version, and the index it belongs to
//!   <crc32 of the payload> <payload>   one record a line, payload one of
//!     a <modseq> <uid> <secs> <zone> <size> <flags> <name> [<keyword> ...]   added
//!     f <modseq> <uid> <flags> [<keyword> ...]                               flags now
//!     x <modseq> <uid>                                                       expunged
//! ```
//!
//! `<flags>` is a bit set of the system flags ([`ANSWERED`] ... [`DRAFT`]), `<secs>` and
//! `<zone>` the INTERNALDATE (seconds since 1970 UTC, the zone in minutes east), `<size>` the
//! RFC822.SIZE, `<name>` the Maildir unique name; names and keywords are written with
//! [`escape`] (`%XX` for space, `%` and every octet outside the printable ASCII range).
//!
//! Every record carries the mod-sequence it made, and the mod-sequences only grow, so a
//! record at or below the snapshot's HIGHESTMODSEQ is already in the snapshot: replaying a
//! log twice, or a log the snapshot already absorbed, changes nothing.

use std::fmt::Write as _;

use imap_proto::datetime::{Date, DateTime};
use imap_proto::flag::Flag;

/// The format version of both files; a file with another version is not read (the folder
/// is indexed again from its files with a new UIDVALIDITY).
pub(super) const VERSION: u32 = 1;
/// The first line of a snapshot, before the version.
pub(super) const SNAPSHOT_MAGIC: &str = "sansmail-imap-index";
/// The first line of a log, before the version.
pub(super) const LOG_MAGIC: &str = "sansmail-imap-log";
/// The snapshot's file name in the folder's directory.
pub(super) const SNAPSHOT_FILE: &str = "sansmail-index";
/// The log's file name in the folder's directory.
pub(super) const LOG_FILE: &str = "sansmail-index.log";

/// `\Answered` (Maildir `R`).
pub(super) const ANSWERED: u8 = 1;
/// `\Flagged` (Maildir `F`).
pub(super) const FLAGGED: u8 = 2;
/// `\Deleted` (Maildir `T`).
pub(super) const DELETED: u8 = 4;
/// `\Seen` (Maildir `S`).
pub(super) const SEEN: u8 = 8;
/// `\Draft` (Maildir `D`).
pub(super) const DRAFT: u8 = 16;
/// Every system flag bit.
pub(super) const ALL_SYSTEM: u8 = 31;

/// The Maildir info letters of the system flags, in ASCII order as the Maildir
/// specification asks.
const LETTERS: [(char, u8); 5] = [
    ('D', DRAFT),
    ('F', FLAGGED),
    ('R', ANSWERED),
    ('S', SEEN),
    ('T', DELETED),
];

/// The flags and keywords of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Flags {
    /// The system flags (bits).
    pub(super) system: u8,
    /// The keywords, sorted, without repeats.
    pub(super) keywords: Vec<Box<str>>,
}

impl Flags {
    /// The flags of `list` (`\Recent` and unknown `\` extensions are not kept).
    pub(super) fn from_list(list: &[Flag<'_>]) -> Flags {
        let mut flags = Flags::default();
        for flag in list {
            match flag {
                Flag::Answered => flags.system |= ANSWERED,
                Flag::Flagged => flags.system |= FLAGGED,
                Flag::Deleted => flags.system |= DELETED,
                Flag::Seen => flags.system |= SEEN,
                Flag::Draft => flags.system |= DRAFT,
                Flag::Keyword(k) => flags.keywords.push(k.as_str().into()),
                _ => {}
            }
        }
        flags.keywords.sort();
        flags.keywords.dedup();
        flags
    }

    /// As IMAP flags: the system flags, then the keywords.
    pub(super) fn to_list(&self) -> Vec<Flag<'static>> {
        // Exactly sized: no allocation for a message without flags.
        let mut out = Vec::with_capacity(self.system.count_ones() as usize + self.keywords.len());
        for (bit, flag) in [
            (ANSWERED, Flag::Answered),
            (FLAGGED, Flag::Flagged),
            (DELETED, Flag::Deleted),
            (SEEN, Flag::Seen),
            (DRAFT, Flag::Draft),
        ] {
            if self.system & bit != 0 {
                out.push(flag);
            }
        }
        for k in &self.keywords {
            if let Ok(flag) = Flag::keyword(k.to_string()) {
                out.push(flag);
            }
        }
        out
    }

    /// Adds every flag of `other`.
    pub(super) fn add(&mut self, other: &Flags) {
        self.system |= other.system;
        for k in &other.keywords {
            self.add_keyword(k);
        }
    }

    /// Adds the keyword `k` (nothing copied when it is there already).
    pub(super) fn add_keyword(&mut self, k: &str) {
        if let Err(at) = self.keywords.binary_search_by(|mine| (**mine).cmp(k)) {
            self.keywords.insert(at, k.into());
        }
    }

    /// Removes every flag of `other`.
    pub(super) fn remove(&mut self, other: &Flags) {
        self.system &= !other.system;
        self.keywords
            .retain(|k| other.keywords.binary_search(k).is_err());
    }
}

/// The system flags in a Maildir file name's info (`:2,DFRST`).
pub(super) fn flags_from_info(file_name: &str) -> u8 {
    let Some((_, info)) = file_name.split_once(":2,") else {
        return 0;
    };
    let mut bits = 0;
    for c in info.chars() {
        if let Some((_, bit)) = LETTERS.iter().find(|(l, _)| *l == c) {
            bits |= bit;
        }
    }
    bits
}

/// The file name of a message with unique name `name` and system flags `bits`: the letters
/// of other Maildir flags already in `old` (the file name now, `P` for passed, lowercase
/// keyword letters of other readers) are kept.
pub(super) fn file_name_with(name: &str, old: &str, bits: u8) -> String {
    let mut letters: Vec<char> = match old.split_once(":2,") {
        Some((_, info)) => info
            .chars()
            .filter(|c| !LETTERS.iter().any(|(l, _)| l == c))
            .collect(),
        None => Vec::new(),
    };
    for (l, bit) in LETTERS {
        if bits & bit != 0 {
            letters.push(l);
        }
    }
    letters.sort_unstable();
    letters.dedup();
    let info: String = letters.into_iter().collect();
    format!("{name}:2,{info}")
}

/// Writes `s` with `%XX` for space, `%`, and every octet outside printable ASCII.
pub(super) fn escape(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b > b' ' && b < 0x7f && b != b'%' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// The string [`escape`] wrote; `None` when it is not one (a bad escape, not UTF-8).
pub(super) fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One message in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    /// Its UID.
    pub(super) uid: u32,
    /// Its mod-sequence.
    pub(super) modseq: u64,
    /// INTERNALDATE: seconds since 1970 UTC.
    pub(super) secs: i64,
    /// INTERNALDATE's zone, minutes east of UTC.
    pub(super) zone: i16,
    /// RFC822.SIZE.
    pub(super) size: u64,
    /// Its flags.
    pub(super) flags: Flags,
    /// The Maildir unique name.
    pub(super) name: Box<str>,
}

/// A change, as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Record {
    /// A message was added.
    Add(Entry),
    /// A message's flags are now these.
    Flags {
        /// Its new mod-sequence.
        modseq: u64,
        /// The message.
        uid: u32,
        /// Every flag it has now.
        flags: Flags,
    },
    /// A message was expunged.
    Expunge {
        /// The mod-sequence of the expunge.
        modseq: u64,
        /// The message.
        uid: u32,
    },
}

impl Record {
    /// The mod-sequence the record made.
    pub(super) fn modseq(&self) -> u64 {
        match self {
            Record::Add(e) => e.modseq,
            Record::Flags { modseq, .. } | Record::Expunge { modseq, .. } => *modseq,
        }
    }
}

/// The folder's state as the files say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Index {
    /// UIDVALIDITY.
    pub(super) uid_validity: u32,
    /// UIDNEXT.
    pub(super) uid_next: u32,
    /// HIGHESTMODSEQ.
    pub(super) highest_modseq: u64,
    /// The messages, ascending by UID.
    pub(super) entries: Vec<Entry>,
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Bad {
    /// Another format version.
    Version(String),
    /// Damaged: a checksum or syntax error, or records that contradict the index.
    Corrupt(&'static str),
}

impl std::fmt::Display for Bad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bad::Version(v) => write!(f, "unknown index version {v:?}"),
            Bad::Corrupt(why) => write!(f, "corrupt index: {why}"),
        }
    }
}

impl Index {
    /// An empty index.
    pub(super) fn new(uid_validity: u32) -> Index {
        Index {
            uid_validity,
            uid_next: 1,
            highest_modseq: 1,
            entries: Vec::new(),
        }
    }

    /// The position of `uid`.
    pub(super) fn find(&self, uid: u32) -> Option<usize> {
        self.entries.binary_search_by_key(&uid, |e| e.uid).ok()
    }

    /// Applies `record` unless the index already holds it (its mod-sequence is not above
    /// HIGHESTMODSEQ).
    pub(super) fn apply(&mut self, record: &Record) -> Result<(), Bad> {
        if record.modseq() <= self.highest_modseq {
            return Ok(());
        }
        match record {
            Record::Add(entry) => {
                if entry.uid < self.uid_next {
                    return Err(Bad::Corrupt("a UID added below UIDNEXT"));
                }
                self.uid_next = entry
                    .uid
                    .checked_add(1)
                    .ok_or(Bad::Corrupt("UID out of range"))?;
                self.entries.push(entry.clone());
            }
            Record::Flags { modseq, uid, flags } => {
                let at = self
                    .find(*uid)
                    .ok_or(Bad::Corrupt("flags of a message not in the index"))?;
                let entry = &mut self.entries[at];
                entry.flags = flags.clone();
                entry.modseq = *modseq;
            }
            Record::Expunge { uid, .. } => {
                let at = self
                    .find(*uid)
                    .ok_or(Bad::Corrupt("expunge of a message not in the index"))?;
                self.entries.remove(at);
            }
        }
        self.highest_modseq = record.modseq();
        Ok(())
    }

    /// The snapshot file's bytes.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = String::with_capacity(64 + self.entries.len() * 96);
        let _ = writeln!(out, "{SNAPSHOT_MAGIC} {VERSION}");
        let _ = writeln!(
            out,
            "{} {} {} {}",
            self.uid_validity,
            self.uid_next,
            self.highest_modseq,
            self.entries.len()
        );
        for e in &self.entries {
            let _ = write!(out, "{} ", e.uid);
            write_entry_tail(e, &mut out);
            out.push('\n');
        }
        let crc = crc32(out.as_bytes());
        let _ = writeln!(out, "end {crc:08x}");
        out.into_bytes()
    }

    /// Reads a snapshot file.
    pub(super) fn decode(bytes: &[u8]) -> Result<Index, Bad> {
        let text = std::str::from_utf8(bytes).map_err(|_| Bad::Corrupt("not UTF-8"))?;
        let mut lines = text.split_inclusive('\n');
        let first = lines.next().ok_or(Bad::Corrupt("empty"))?;
        let version = first
            .strip_suffix('\n')
            .and_then(|l| l.strip_prefix(SNAPSHOT_MAGIC))
            .and_then(|l| l.strip_prefix(' '))
            .ok_or(Bad::Corrupt("not an index"))?;
        if version != VERSION.to_string() {
            return Err(Bad::Version(version.chars().take(20).collect()));
        }
        let mut consumed = first.len();
        let head = lines.next().ok_or(Bad::Corrupt("no header"))?;
        consumed += head.len();
        let mut f = head.trim_end_matches('\n').split(' ');
        let uid_validity = num(f.next())?;
        let uid_next = num(f.next())?;
        let highest_modseq = num(f.next())?;
        let count: usize = num(f.next())?;
        if uid_validity == 0 || uid_next == 0 || highest_modseq == 0 {
            return Err(Bad::Corrupt("zero in the header"));
        }
        let mut entries = Vec::with_capacity(count.min(1 << 20));
        for line in lines.by_ref() {
            if let Some(end) = line.strip_prefix("end ") {
                let crc = u32::from_str_radix(end.trim_end_matches('\n'), 16)
                    .map_err(|_| Bad::Corrupt("bad checksum line"))?;
                if !line.ends_with('\n') || crc != crc32(&bytes[..consumed]) {
                    return Err(Bad::Corrupt("checksum mismatch"));
                }
                if entries.len() != count {
                    return Err(Bad::Corrupt("message count mismatch"));
                }
                let index = Index {
                    uid_validity,
                    uid_next,
                    highest_modseq,
                    entries,
                };
                index.check()?;
                return Ok(index);
            }
            consumed += line.len();
            let line = line.strip_suffix('\n').ok_or(Bad::Corrupt("truncated"))?;
            let mut f = line.split(' ');
            let uid = num(f.next())?;
            entries.push(read_entry_tail(uid, &mut f)?);
        }
        Err(Bad::Corrupt("truncated"))
    }

    /// UIDs ascending and below UIDNEXT, mod-sequences at most HIGHESTMODSEQ.
    fn check(&self) -> Result<(), Bad> {
        let mut last = 0;
        for e in &self.entries {
            if e.uid <= last || e.uid >= self.uid_next || e.modseq > self.highest_modseq {
                return Err(Bad::Corrupt("entries out of order"));
            }
            last = e.uid;
        }
        Ok(())
    }
}

/// `<modseq> <secs> <zone> <size> <flags> <name> [<keyword> ...]`.
fn write_entry_tail(e: &Entry, out: &mut String) {
    let _ = write!(
        out,
        "{} {} {} {} {} ",
        e.modseq, e.secs, e.zone, e.size, e.flags.system
    );
    escape(&e.name, out);
    for k in &e.flags.keywords {
        out.push(' ');
        escape(k, out);
    }
}

fn read_entry_tail<'a>(uid: u32, f: &mut impl Iterator<Item = &'a str>) -> Result<Entry, Bad> {
    let modseq = num(f.next())?;
    let secs = num(f.next())?;
    let zone = num(f.next())?;
    let size = num(f.next())?;
    let system: u8 = num(f.next())?;
    let name =
        unescape(f.next().ok_or(Bad::Corrupt("missing name"))?).ok_or(Bad::Corrupt("bad name"))?;
    let keywords = read_keywords(f)?;
    if uid == 0 || modseq == 0 || system & !ALL_SYSTEM != 0 || name.is_empty() {
        return Err(Bad::Corrupt("bad message line"));
    }
    Ok(Entry {
        uid,
        modseq,
        secs,
        zone,
        size,
        flags: Flags { system, keywords },
        name: name.into(),
    })
}

fn read_keywords<'a>(f: &mut impl Iterator<Item = &'a str>) -> Result<Vec<Box<str>>, Bad> {
    let mut keywords = Vec::new();
    for k in f {
        let k = unescape(k).ok_or(Bad::Corrupt("bad keyword"))?;
        keywords.push(k.into_boxed_str());
    }
    keywords.sort();
    keywords.dedup();
    Ok(keywords)
}

fn num<T: std::str::FromStr>(field: Option<&str>) -> Result<T, Bad> {
    field
        .and_then(|f| f.parse().ok())
        .ok_or(Bad::Corrupt("bad number"))
}

/// The first line of a log for the index with `uid_validity`.
pub(super) fn log_header(uid_validity: u32) -> String {
    format!("{LOG_MAGIC} {VERSION} {uid_validity}\n")
}

/// One log line (with its newline) for `record`.
pub(super) fn encode_record(record: &Record, out: &mut String) {
    let mut payload = String::with_capacity(96);
    match record {
        Record::Add(e) => {
            let _ = write!(
                payload,
                "a {} {} {} {} {} {} ",
                e.modseq, e.uid, e.secs, e.zone, e.size, e.flags.system
            );
            escape(&e.name, &mut payload);
            for k in &e.flags.keywords {
                payload.push(' ');
                escape(k, &mut payload);
            }
        }
        Record::Flags { modseq, uid, flags } => {
            let _ = write!(payload, "f {modseq} {uid} {}", flags.system);
            for k in &flags.keywords {
                payload.push(' ');
                escape(k, &mut payload);
            }
        }
        Record::Expunge { modseq, uid } => {
            let _ = write!(payload, "x {modseq} {uid}");
        }
    }
    let _ = writeln!(out, "{:08x} {payload}", crc32(payload.as_bytes()));
}

fn decode_record(payload: &str) -> Result<Record, Bad> {
    let mut f = payload.split(' ');
    match f.next() {
        Some("a") => {
            let modseq = f.next();
            let uid = num(f.next())?;
            let mut tail = modseq.into_iter().chain(f);
            read_entry_tail(uid, &mut tail).map(Record::Add)
        }
        Some("f") => {
            let modseq = num(f.next())?;
            let uid = num(f.next())?;
            let system: u8 = num(f.next())?;
            if system & !ALL_SYSTEM != 0 {
                return Err(Bad::Corrupt("bad flags"));
            }
            let keywords = read_keywords(&mut f)?;
            Ok(Record::Flags {
                modseq,
                uid,
                flags: Flags { system, keywords },
            })
        }
        Some("x") => {
            let modseq = num(f.next())?;
            let uid = num(f.next())?;
            if f.next().is_some() {
                return Err(Bad::Corrupt("bad expunge record"));
            }
            Ok(Record::Expunge { modseq, uid })
        }
        _ => Err(Bad::Corrupt("unknown record")),
    }
}

/// What reading a log found.
#[derive(Debug)]
pub(super) struct Replay {
    /// The records, in order.
    pub(super) records: Vec<Record>,
    /// The length of the good part: a torn tail after it is to be cut off.
    pub(super) good_len: u64,
    /// Whether a torn tail was dropped.
    pub(super) torn: bool,
}

/// Reads a log written for `uid_validity`. A damaged tail (an unfinished last line, or lines
/// with bad checksums that no good line follows) was never acknowledged: it is dropped. A bad
/// line followed by a good one is damage, not a torn write: the whole index is refused.
pub(super) fn decode_log(bytes: &[u8], uid_validity: u32) -> Result<Replay, Bad> {
    let header = log_header(uid_validity);
    if bytes.len() < header.len() {
        // A log torn while its header was written holds no record.
        if header.as_bytes().starts_with(bytes) {
            return Ok(Replay {
                records: Vec::new(),
                good_len: 0,
                torn: !bytes.is_empty(),
            });
        }
    }
    if !bytes.starts_with(header.as_bytes()) {
        let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let only_header = bytes.len() == first.len() + 1;
        let first = String::from_utf8_lossy(first);
        return match first
            .strip_prefix(LOG_MAGIC)
            .and_then(|r| r.strip_prefix(' '))
        {
            Some(rest) if rest.split(' ').next() != Some(&VERSION.to_string()) => {
                Err(Bad::Version(rest.chars().take(20).collect()))
            }
            // An empty log of the index before a new UIDVALIDITY (a crash between writing
            // the new snapshot and emptying the log): nothing to replay.
            Some(_) if only_header => Ok(Replay {
                records: Vec::new(),
                good_len: 0,
                torn: true,
            }),
            _ => Err(Bad::Corrupt("log of another index")),
        };
    }
    let mut records = Vec::new();
    let mut pos = header.len();
    let mut good_len = pos as u64;
    let mut bad_seen = false;
    let mut torn = false;
    for line in bytes[pos..].split_inclusive(|&b| b == b'\n') {
        pos += line.len();
        let parsed = line
            .strip_suffix(b"\n")
            .and_then(|l| std::str::from_utf8(l).ok())
            .and_then(|l| l.split_once(' '))
            .and_then(|(crc, payload)| {
                let crc = u32::from_str_radix(crc, 16).ok()?;
                (crc == crc32(payload.as_bytes())).then_some(payload)
            });
        match parsed {
            Some(payload) => {
                if bad_seen {
                    return Err(Bad::Corrupt("damaged record before good ones"));
                }
                records.push(decode_record(payload)?);
                good_len = pos as u64;
            }
            None => {
                bad_seen = true;
                torn = true;
            }
        }
    }
    Ok(Replay {
        records,
        good_len,
        torn,
    })
}

/// CRC-32 (IEEE 802.3, the zlib one).
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// An INTERNALDATE from seconds since 1970 and a zone (minutes east of UTC); a moment
/// outside years 0 to 9999 is clamped to 1970.
pub(super) fn datetime_from(secs: i64, zone: i16) -> DateTime {
    let local = secs.saturating_add(i64::from(zone) * 60);
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let made = u16::try_from(y)
        .ok()
        .and_then(|y| Date::new(y, m, d).ok())
        .and_then(|date| {
            DateTime::new(
                date,
                (rem / 3600) as u8,
                (rem / 60 % 60) as u8,
                (rem % 60) as u8,
                zone,
            )
            .ok()
        });
    made.unwrap_or_else(epoch)
}

/// 1-Jan-1970 00:00:00 +0000.
fn epoch() -> DateTime {
    Date::new(1970, 1, 1)
        .and_then(|date| DateTime::new(date, 0, 0, 0, 0))
        .expect("1-Jan-1970 00:00:00 +0000 is a valid date-time")
}

/// Seconds since 1970 UTC and the zone of `dt`.
pub(super) fn secs_of(dt: &DateTime) -> (i64, i16) {
    let date = dt.date();
    let days = days_from_civil(i64::from(date.year()), date.month(), date.day());
    let local = days * 86_400
        + i64::from(dt.hour()) * 3600
        + i64::from(dt.minute()) * 60
        + i64::from(dt.second());
    (local - i64::from(dt.zone_minutes()) * 60, dt.zone_minutes())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}
