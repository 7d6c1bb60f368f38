//! Options of the mailbox commands: STATUS items (RFC 3501 section 6.3.10, RFC 9051 section
//! 6.3.11, CONDSTORE, STATUS=SIZE RFC 8438, APPENDLIMIT RFC 7889), LIST-EXTENDED selection and
//! return options (RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154), and SELECT/EXAMINE
//! parameters (CONDSTORE and QRESYNC, RFC 7162).

use super::{ModSeq, NonEmpty};
use crate::encode::{Encode, Writer};
use crate::error::{ErrorKind, ParseError};
use crate::list::List;
use crate::parse::{PResult, Reader};
use crate::sequence::SequenceSet;
use std::num::NonZeroU32;

/// `status-att`: what a STATUS command (or LIST's `RETURN (STATUS (...))`) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusItem {
    /// `MESSAGES`
    Messages,
    /// `RECENT` (RFC 3501 only)
    Recent,
    /// `UIDNEXT`
    UidNext,
    /// `UIDVALIDITY`
    UidValidity,
    /// `UNSEEN`
    Unseen,
    /// `DELETED` (RFC 9051)
    Deleted,
    /// `SIZE` (RFC 8438, RFC 9051)
    Size,
    /// `HIGHESTMODSEQ` (CONDSTORE)
    HighestModSeq,
    /// `APPENDLIMIT` (RFC 7889)
    AppendLimit,
    /// `DELETED-STORAGE` (RFC 9208 section 4.2.2)
    DeletedStorage,
}

impl StatusItem {
    /// The item's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::Deleted => "DELETED",
            StatusItem::Size => "SIZE",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
            StatusItem::AppendLimit => "APPENDLIMIT",
            StatusItem::DeletedStorage => "DELETED-STORAGE",
        }
    }

    /// `status-att`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        let start = r.pos();
        let mut buf = [0u8; 16];
        Ok(match super::read_name(r, &mut buf) {
            b"MESSAGES" => StatusItem::Messages,
            b"RECENT" => StatusItem::Recent,
            b"UIDNEXT" => StatusItem::UidNext,
            b"UIDVALIDITY" => StatusItem::UidValidity,
            b"UNSEEN" => StatusItem::Unseen,
            b"DELETED" => StatusItem::Deleted,
            b"SIZE" => StatusItem::Size,
            b"HIGHESTMODSEQ" => StatusItem::HighestModSeq,
            b"APPENDLIMIT" => StatusItem::AppendLimit,
            b"DELETED-STORAGE" => StatusItem::DeletedStorage,
            _ => return Err(ParseError::new(start, "status-att", ErrorKind::Syntax)),
        })
    }
}

impl Encode for StatusItem {
    fn encode(&self, w: &mut Writer) {
        w.raw(self.name().as_bytes());
    }
}

/// `"(" status-att *(SP status-att) ")"`.
pub(crate) fn read_status_items(r: &mut Reader<'_>) -> PResult<NonEmpty<StatusItem>> {
    r.expect(b'(', "\"(\"")?;
    let mut items = List::new();
    items.push(StatusItem::read(r)?);
    while !r.eat(b')') {
        r.sp()?;
        items.push(StatusItem::read(r)?);
    }
    Ok(NonEmpty(items))
}

pub(crate) fn encode_status_items(items: &[StatusItem], w: &mut Writer) {
    w.byte(b'(');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        s.encode(w);
    }
    w.byte(b')');
}

/// `list-select-opt` (RFC 5258, SPECIAL-USE RFC 6154).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListSelectOption {
    /// `SUBSCRIBED`: subscribed mailboxes only.
    Subscribed,
    /// `REMOTE`: include remote mailboxes.
    Remote,
    /// `RECURSIVEMATCH`: also parents of matching mailboxes.
    RecursiveMatch,
    /// `SPECIAL-USE`: mailboxes with a special use only (RFC 6154).
    SpecialUse,
}

impl ListSelectOption {
    fn name(self) -> &'static [u8] {
        match self {
            ListSelectOption::Subscribed => b"SUBSCRIBED",
            ListSelectOption::Remote => b"REMOTE",
            ListSelectOption::RecursiveMatch => b"RECURSIVEMATCH",
            ListSelectOption::SpecialUse => b"SPECIAL-USE",
        }
    }
}

/// `list-select-opts`: `"(" [list-select-opt *(SP list-select-opt)] ")"`.
pub(crate) fn read_select_options(r: &mut Reader<'_>) -> PResult<List<ListSelectOption>> {
    r.expect(b'(', "\"(\"")?;
    let mut opts = List::new();
    if r.eat(b')') {
        return Ok(opts);
    }
    let mut recursive_at = None;
    loop {
        let at = r.pos();
        let o = if r.keyword("SUBSCRIBED") {
            ListSelectOption::Subscribed
        } else if r.keyword("REMOTE") {
            ListSelectOption::Remote
        } else if r.keyword("RECURSIVEMATCH") {
            recursive_at.get_or_insert(at);
            ListSelectOption::RecursiveMatch
        } else if r.keyword("SPECIAL-USE") {
            ListSelectOption::SpecialUse
        } else {
            return Err(r.error("list-select-opt"));
        };
        opts.push(o);
        if r.eat(b')') {
            break;
        }
        r.sp()?;
    }
    // RFC 5258 section 3: RECURSIVEMATCH needs a base option ("MUST NOT occur as the only
    // selection option", REMOTE aside); the server answers BAD
    let base = opts.iter().any(|o| {
        matches!(
            o,
            ListSelectOption::Subscribed | ListSelectOption::SpecialUse
        )
    });
    match recursive_at {
        Some(at) if !base => Err(ParseError::new(
            at,
            "list-select-base-opt with RECURSIVEMATCH",
            ErrorKind::Syntax,
        )),
        _ => Ok(opts),
    }
}

pub(crate) fn encode_select_options(opts: &[ListSelectOption], w: &mut Writer) {
    w.byte(b'(');
    for (i, o) in opts.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        w.raw(o.name());
    }
    w.byte(b')');
}

/// `return-option` of LIST (RFC 5258, LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListReturnOption {
    /// `SUBSCRIBED`: say which mailboxes are subscribed.
    Subscribed,
    /// `CHILDREN`: say which mailboxes have children.
    Children,
    /// `SPECIAL-USE`: give special-use attributes.
    SpecialUse,
    /// `STATUS (status-att ...)`: a STATUS response per mailbox (LIST-STATUS).
    Status(NonEmpty<StatusItem>),
}

/// `list-return-opts` after `RETURN`: `SP "(" [return-option *(SP return-option)] ")"`.
pub(crate) fn read_return_options(r: &mut Reader<'_>) -> PResult<List<ListReturnOption>> {
    super::read_return_list(r, |r| {
        Ok(if r.keyword("SUBSCRIBED") {
            ListReturnOption::Subscribed
        } else if r.keyword("CHILDREN") {
            ListReturnOption::Children
        } else if r.keyword("SPECIAL-USE") {
            ListReturnOption::SpecialUse
        } else if r.keyword("STATUS") {
            r.sp()?;
            ListReturnOption::Status(read_status_items(r)?)
        } else {
            return Err(r.error("return-option"));
        })
    })
}

pub(crate) fn encode_return_options(opts: &[ListReturnOption], w: &mut Writer) {
    w.raw(b"RETURN (");
    for (i, o) in opts.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        match o {
            ListReturnOption::Subscribed => w.raw(b"SUBSCRIBED"),
            ListReturnOption::Children => w.raw(b"CHILDREN"),
            ListReturnOption::SpecialUse => w.raw(b"SPECIAL-USE"),
            ListReturnOption::Status(items) => {
                w.raw(b"STATUS ");
                encode_status_items(items, w);
            }
        }
    }
    w.byte(b')');
}

/// Parameters of SELECT and EXAMINE (`select-params` of RFC 4466 with the CONDSTORE and
/// QRESYNC parameters of RFC 7162). The default is none: a plain `SELECT mailbox`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SelectParams {
    /// `CONDSTORE`: enable CONDSTORE for the mailbox.
    pub condstore: bool,
    /// `QRESYNC (...)`: quick resynchronisation.
    pub qresync: Option<QResync>,
}

/// The `QRESYNC` select parameter (RFC 7162 section 3.2.5): `"QRESYNC" SP "(" uidvalidity SP
/// mod-sequence-value [SP known-uids] [SP seq-match-data] ")"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QResync {
    /// The UIDVALIDITY the client last knew.
    pub uid_validity: NonZeroU32,
    /// The last known mod-sequence.
    pub mod_seq: ModSeq,
    /// The UIDs the client knows.
    pub known_uids: Option<SequenceSet>,
    /// `(known-sequence-set known-uid-set)`: message numbers and their UIDs.
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

impl SelectParams {
    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        !self.condstore && self.qresync.is_none()
    }

    /// `select-params` after the mailbox's SP: `"(" select-param *(SP select-param) ")"`.
    pub(crate) fn read(r: &mut Reader<'_>) -> PResult<Self> {
        r.expect(b'(', "\"(\"")?;
        let mut params = SelectParams::default();
        loop {
            if r.keyword("CONDSTORE") {
                params.condstore = true;
            } else if r.keyword("QRESYNC") {
                r.sp()?;
                r.expect(b'(', "\"(\"")?;
                let uid_validity = r.nz_number()?;
                r.sp()?;
                let mod_seq = ModSeq::read(r)?;
                let mut known_uids = None;
                let mut seq_match = None;
                if r.peek() == Some(b' ') {
                    r.sp()?;
                    if r.peek() != Some(b'(') {
                        known_uids = Some(SequenceSet::read(r)?);
                        if r.peek() == Some(b' ') {
                            r.sp()?;
                            seq_match = Some(read_seq_match(r)?);
                        }
                    } else {
                        seq_match = Some(read_seq_match(r)?);
                    }
                }
                r.expect(b')', "\")\"")?;
                params.qresync = Some(QResync {
                    uid_validity,
                    mod_seq,
                    known_uids,
                    seq_match,
                });
            } else {
                return Err(r.error("select-param"));
            }
            if r.eat(b')') {
                return Ok(params);
            }
            r.sp()?;
        }
    }
}

/// `seq-match-data`: `"(" known-sequence-set SP known-uid-set ")"`.
fn read_seq_match(r: &mut Reader<'_>) -> PResult<(SequenceSet, SequenceSet)> {
    r.expect(b'(', "\"(\"")?;
    let seqs = SequenceSet::read(r)?;
    r.sp()?;
    let uids = SequenceSet::read(r)?;
    r.expect(b')', "\")\"")?;
    Ok((seqs, uids))
}

impl Encode for SelectParams {
    /// Writes `(...)`; nothing when there are no parameters.
    fn encode(&self, w: &mut Writer) {
        if self.is_empty() {
            return;
        }
        w.byte(b'(');
        if self.condstore {
            w.raw(b"CONDSTORE");
            if self.qresync.is_some() {
                w.sp();
            }
        }
        if let Some(q) = &self.qresync {
            w.raw(b"QRESYNC (");
            w.number(u64::from(q.uid_validity.get()));
            w.sp();
            q.mod_seq.encode(w);
            if let Some(k) = &q.known_uids {
                w.sp();
                k.encode(w);
            }
            if let Some((s, u)) = &q.seq_match {
                w.raw(b" (");
                s.encode(w);
                w.sp();
                u.encode(w);
                w.byte(b')');
            }
            w.byte(b')');
        }
        w.byte(b')');
    }
}
