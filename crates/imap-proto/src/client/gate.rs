//! The capability gates: what a command needs the server to advertise before the client
//! sends it (docs/imap.md, "Client session").
//!
//! [`missing`] names the first capability a command lacks, given the capabilities last
//! learnt. IMAP4rev2 (RFC 9051 appendix E lists what it folds in) stands for `MOVE`,
//! `UIDPLUS`, `ENABLE`, `NAMESPACE`, `UNSELECT`, `ESEARCH`, `SEARCHRES`, `LIST-EXTENDED`,
//! `LIST-STATUS`, `SPECIAL-USE`, `STATUS=SIZE`, `BINARY` and `IDLE`; `ID`, `CONDSTORE`,
//! `QRESYNC`, `MULTIAPPEND`, `QUOTA`, `SORT`, `THREAD`, `CREATE-SPECIAL-USE`, `UTF8=ACCEPT`,
//! `APPENDLIMIT` and `COMPRESS` stay extensions of their own.

use crate::command::{
    AppendData, CommandBody, FetchAttribute, FetchItems, ListReturnOption, ListSelectOption,
    SearchKey, SearchReturnOption, StatusItem, ThreadAlgorithm,
};
use crate::core::Atom;
use crate::response::Capability;
use crate::sequence::SequenceSet;

/// The capabilities last learnt, asked about.
struct Caps<'c> {
    list: &'c [Capability<'static>],
    rev2: bool,
}

impl Caps<'_> {
    fn has(&self, capability: &Capability<'_>) -> bool {
        self.list.iter().any(|c| c == capability)
    }

    /// `capability`, or IMAP4rev2 when `in_rev2`; `Err(name)` without either.
    fn need(&self, capability: Capability<'_>, in_rev2: bool, name: &'static str) -> Gate {
        if (in_rev2 && self.rev2) || self.has(&capability) {
            Ok(())
        } else {
            Err(name)
        }
    }

    /// A capability with a parameter (`THREAD=`, `COMPRESS=`, `QUOTA=RES-`), matched without
    /// regard to case.
    fn need_param(
        &self,
        wanted: &str,
        pick: for<'x> fn(&'x Capability<'static>) -> Option<&'x str>,
        name: &'static str,
    ) -> Gate {
        if self
            .list
            .iter()
            .filter_map(pick)
            .any(|p| p.eq_ignore_ascii_case(wanted))
        {
            Ok(())
        } else {
            Err(name)
        }
    }
}

type Gate = Result<(), &'static str>;

/// The name of the first capability `body` needs that `capabilities` lacks; `None` when
/// it may go. An empty `capabilities` (not known yet) lets everything go: the server
/// answers.
pub(super) fn missing(
    body: &CommandBody<'_>,
    capabilities: &[Capability<'static>],
) -> Option<&'static str> {
    if capabilities.is_empty() {
        return None;
    }
    let caps = Caps {
        list: capabilities,
        rev2: capabilities.contains(&Capability::Imap4Rev2),
    };
    check(body, &caps).err()
}

fn check(body: &CommandBody<'_>, caps: &Caps<'_>) -> Gate {
    use Capability as C;
    match body {
        // RFC 2177; RFC 9051 section 6.3.13.
        CommandBody::Idle => caps.need(C::Idle, true, "IDLE"),
        // RFC 6851; RFC 9051 section 6.4.8.
        CommandBody::Move { sequence_set, .. } => {
            caps.need(C::Move, true, "MOVE")?;
            saved(sequence_set, caps)
        }
        // RFC 4315 section 2.1; RFC 9051 section 6.4.9.
        CommandBody::UidExpunge { uids } => {
            caps.need(C::UidPlus, true, "UIDPLUS")?;
            saved(uids, caps)
        }
        // RFC 5161; RFC 9051 section 6.3.1.
        CommandBody::Enable { .. } => caps.need(C::Enable, true, "ENABLE"),
        // RFC 2342; RFC 9051 section 6.3.10.
        CommandBody::Namespace => caps.need(C::Namespace, true, "NAMESPACE"),
        // RFC 2971 (not in IMAP4rev2).
        CommandBody::Id { .. } => caps.need(C::Id, false, "ID"),
        // RFC 3691; RFC 9051 section 6.4.2.
        CommandBody::Unselect => caps.need(C::Unselect, true, "UNSELECT"),
        CommandBody::Select { params, .. } | CommandBody::Examine { params, .. } => {
            // RFC 7162 sections 3.1.8 and 3.2.5.
            if params.condstore {
                caps.need(C::CondStore, false, "CONDSTORE")?;
            }
            if params.qresync.is_some() {
                caps.need(C::QResync, false, "QRESYNC")?;
            }
            Ok(())
        }
        CommandBody::Create { special_use, .. } if !special_use.is_empty() => {
            // RFC 6154 section 3.
            caps.need(C::CreateSpecialUse, false, "CREATE-SPECIAL-USE")
        }
        CommandBody::List {
            selection,
            patterns,
            return_options,
            ..
        } => list(selection, patterns.len(), return_options, caps),
        CommandBody::Status { items, .. } => items.iter().try_for_each(|&i| status(i, caps)),
        CommandBody::Append { messages, .. } => {
            // RFC 3502.
            if messages.len() > 1 {
                caps.need(C::MultiAppend, false, "MULTIAPPEND")?;
            }
            messages.iter().try_for_each(|m| match m.data {
                // RFC 3516 section 4.4; RFC 9051 section 6.3.12 (literal8).
                AppendData::Binary(_) => caps.need(C::Binary, true, "BINARY"),
                // RFC 6855 section 4.
                AppendData::Utf8(_) => caps.need(C::Utf8Accept, false, "UTF8=ACCEPT"),
                _ => Ok(()),
            })
        }
        CommandBody::Search {
            return_options,
            criteria,
            ..
        } => {
            if let Some(options) = return_options {
                // RFC 4731 section 3.1; RFC 9051 section 6.4.4.
                caps.need(C::Esearch, true, "ESEARCH")?;
                if options.contains(&SearchReturnOption::Save) {
                    // RFC 5182 section 2.
                    caps.need(C::SearchRes, true, "SEARCHRES")?;
                }
            }
            criteria.iter().try_for_each(|k| search_key(k, caps))
        }
        CommandBody::Fetch {
            sequence_set,
            items,
            changed_since,
            vanished,
            ..
        } => {
            saved(sequence_set, caps)?;
            // RFC 7162 section 3.1.4.1 and 3.2.6.
            if changed_since.is_some() {
                caps.need(C::CondStore, false, "CONDSTORE")?;
            }
            if *vanished {
                caps.need(C::QResync, false, "QRESYNC")?;
            }
            if let FetchItems::Attributes(list) = items {
                list.iter().try_for_each(|a| fetch_attribute(a, caps))?;
            }
            Ok(())
        }
        CommandBody::Store {
            sequence_set,
            unchanged_since,
            ..
        } => {
            saved(sequence_set, caps)?;
            // RFC 7162 section 3.1.3.
            if unchanged_since.is_some() {
                caps.need(C::CondStore, false, "CONDSTORE")?;
            }
            Ok(())
        }
        CommandBody::Copy { sequence_set, .. } => saved(sequence_set, caps),
        // RFC 9208 sections 4.1.1, 4.1.2 and 4.1.3.
        CommandBody::GetQuota { .. } | CommandBody::GetQuotaRoot { .. } => {
            caps.need(C::Quota, false, "QUOTA")
        }
        CommandBody::SetQuota { .. } => caps.need(C::QuotaSet, false, "QUOTASET"),
        // RFC 5256 section 3.
        CommandBody::Sort { search, .. } => {
            caps.need(C::Sort, false, "SORT")?;
            search.iter().try_for_each(|k| search_key(k, caps))
        }
        CommandBody::Thread {
            algorithm, search, ..
        } => {
            let name = match algorithm {
                ThreadAlgorithm::OrderedSubject => "ORDEREDSUBJECT",
                ThreadAlgorithm::References => "REFERENCES",
                ThreadAlgorithm::Other(a) => a.as_str(),
            };
            caps.need_param(name, thread_param, "THREAD")?;
            search.iter().try_for_each(|k| search_key(k, caps))
        }
        // RFC 4978 section 3.
        CommandBody::Compress { algorithm } => {
            caps.need_param(algorithm.as_str(), compress_param, "COMPRESS")
        }
        _ => Ok(()),
    }
}

fn thread_param<'x>(c: &'x Capability<'static>) -> Option<&'x str> {
    match c {
        Capability::Thread(a) => Some(Atom::as_str(a)),
        _ => None,
    }
}

fn compress_param<'x>(c: &'x Capability<'static>) -> Option<&'x str> {
    match c {
        Capability::Compress(a) => Some(Atom::as_str(a)),
        _ => None,
    }
}

fn quota_res_param<'x>(c: &'x Capability<'static>) -> Option<&'x str> {
    match c {
        Capability::QuotaRes(a) => Some(Atom::as_str(a)),
        _ => None,
    }
}

/// `$` (RFC 5182 section 2; RFC 9051 section 6.4.4.1) needs SEARCHRES.
fn saved(set: &SequenceSet, caps: &Caps<'_>) -> Gate {
    if *set == SequenceSet::Saved {
        caps.need(Capability::SearchRes, true, "SEARCHRES")
    } else {
        Ok(())
    }
}

fn list(
    selection: &[ListSelectOption],
    patterns: usize,
    return_options: &[ListReturnOption],
    caps: &Caps<'_>,
) -> Gate {
    use Capability as C;
    // RFC 5258 section 3: selection options and several patterns; RFC 9051 section 6.3.9.
    if !selection.is_empty() || patterns > 1 {
        caps.need(C::ListExtended, true, "LIST-EXTENDED")?;
    }
    if selection.contains(&ListSelectOption::SpecialUse) {
        // RFC 6154 section 3.
        caps.need(C::SpecialUse, true, "SPECIAL-USE")?;
    }
    return_options.iter().try_for_each(|option| match option {
        // RFC 5819 section 2.
        ListReturnOption::Status(items) => {
            caps.need(C::ListStatus, true, "LIST-STATUS")?;
            items.iter().try_for_each(|&i| status(i, caps))
        }
        // RFC 6154 section 3: the return option needs SPECIAL-USE alone.
        ListReturnOption::SpecialUse => caps.need(C::SpecialUse, true, "SPECIAL-USE"),
        // RFC 5258 section 3.
        _ => caps.need(C::ListExtended, true, "LIST-EXTENDED"),
    })
}

fn status(item: StatusItem, caps: &Caps<'_>) -> Gate {
    use Capability as C;
    match item {
        // RFC 8438; RFC 9051 section 6.3.11.
        StatusItem::Size => caps.need(C::StatusSize, true, "STATUS=SIZE"),
        // RFC 7162 section 3.1.9.
        StatusItem::HighestModSeq => caps.need(C::CondStore, false, "CONDSTORE"),
        // RFC 7889 section 4.
        StatusItem::AppendLimit => {
            if caps.list.iter().any(|c| matches!(c, C::AppendLimit(_))) {
                Ok(())
            } else {
                Err("APPENDLIMIT")
            }
        }
        // RFC 9051 section 6.3.11, or RFC 9208 section 4.2.2 with QUOTA=RES-MESSAGE.
        StatusItem::Deleted => caps
            .need(C::Imap4Rev2, true, "IMAP4rev2")
            .or_else(|_| caps.need_param("MESSAGE", quota_res_param, "IMAP4rev2")),
        // RFC 9208 section 4.2.2.
        StatusItem::DeletedStorage => {
            caps.need_param("STORAGE", quota_res_param, "QUOTA=RES-STORAGE")
        }
        _ => Ok(()),
    }
}

fn fetch_attribute(attribute: &FetchAttribute<'_>, caps: &Caps<'_>) -> Gate {
    match attribute {
        // RFC 3516 section 4.2; RFC 9051 section 6.4.5.
        FetchAttribute::Binary { .. } | FetchAttribute::BinarySize { .. } => {
            caps.need(Capability::Binary, true, "BINARY")
        }
        // RFC 7162 section 3.1.4.1.
        FetchAttribute::ModSeq => caps.need(Capability::CondStore, false, "CONDSTORE"),
        _ => Ok(()),
    }
}

fn search_key(key: &SearchKey<'_>, caps: &Caps<'_>) -> Gate {
    match key {
        // RFC 7162 section 3.1.5.
        SearchKey::ModSeq(_) => caps.need(Capability::CondStore, false, "CONDSTORE"),
        SearchKey::SequenceSet(set) | SearchKey::Uid(set) => saved(set, caps),
        SearchKey::Not(k) => search_key(k, caps),
        SearchKey::Or(pair) => {
            search_key(&pair.0, caps)?;
            search_key(&pair.1, caps)
        }
        SearchKey::And(keys) => keys.iter().try_for_each(|k| search_key(k, caps)),
        _ => Ok(()),
    }
}
