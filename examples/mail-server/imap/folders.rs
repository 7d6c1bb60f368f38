//! The folder commands of the IMAP service: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
//! LIST (with LIST-EXTENDED, LIST-STATUS, CHILDREN and SPECIAL-USE), LSUB and STATUS, answered
//! from the account's folders in [`crate::store::mailboxes`].
//!
//! The store holds folder names in UTF-8 with `/` as the hierarchy delimiter; this module
//! turns the names of the wire into them and back: modified UTF-7 (RFC 3501 section 5.1.3)
//! unless the session enabled UTF8=ACCEPT (RFC 6855) or IMAP4rev2 (RFC 9051 section 5.1),
//! then UTF-8 as sent. `INBOX` is case-insensitive, also as the first level of a longer
//! name (`inbox/Lists` is `INBOX/Lists`).
//!
//! What LIST shows (RFC 3501 section 6.3.8, RFC 5258, RFC 3348, RFC 6154, RFC 5819):
//! - a plain `LIST reference pattern` gives every matching folder with `\HasChildren` or
//!   `\HasNoChildren` and its special use (`\Sent`, ...), as Dovecot does; a level of the
//!   hierarchy that holds folders but is no folder itself (left behind by a DELETE, RFC 3501
//!   section 6.3.4) is `\Noselect`;
//! - an extended LIST (selection options, return options or several patterns) gives what
//!   was asked: `\Subscribed` (SUBSCRIBED), the children attributes (CHILDREN), the special
//!   uses (SPECIAL-USE), a `* STATUS` after each selectable folder (STATUS); a level that is
//!   no folder is `\NonExistent`, and so is a subscribed name that no longer exists;
//!   RECURSIVEMATCH adds `CHILDINFO ("SUBSCRIBED")`; REMOTE changes nothing (no folder is
//!   remote);
//! - `LIST "" ""` gives the delimiter: `* LIST (\Noselect) "/" ""`.
//!
//! `*` matches anything, `%` anything but the delimiter; patterns are matched against the
//! names as the session sees them on the wire (so `%` and `*` may stand inside modified
//! UTF-7), `INBOX` without regard to case. A pattern is matched in time proportional to its
//! length times a name's, and a pattern longer than [`MAX_PATTERN`] octets matches nothing.

use std::collections::{BTreeSet, HashMap, HashSet};

use imap_proto::command::{CommandBody, ListReturnOption, ListSelectOption, StatusItem};
use imap_proto::core::{Atom, Tag};
use imap_proto::flag::MailboxAttribute;
use imap_proto::list::List;
use imap_proto::mailbox::{ListMailbox, Mailbox, utf7};
use imap_proto::response::{
    Code, Data, Delimiter, ListData, ListExtendedItem, StatusKind, StatusValue,
};
use imap_proto::server::{Server, ServerError};

use crate::logsafe::Escaped;
use crate::store::mailboxes::{
    Account, DELIMITER, FolderInfo, FolderStatus, MailboxError, SpecialUse,
};

/// The longest LIST or LSUB pattern matched, reference included: 1024 octets. A longer one
/// matches nothing (the command still completes `OK`), which bounds the matching work of a
/// command at this many steps per octet of a name.
pub(crate) const MAX_PATTERN: usize = 1024;

/// The UTF-8 folder name of a mailbox argument (INBOX in any case is "INBOX"; modified UTF-7
/// decoded; a UTF-8 name as given when UTF8=ACCEPT is on).
///
/// A name that is neither valid modified UTF-7 nor UTF-8 is taken as its bytes (invalid
/// sequences replaced), so that it names no folder the store holds; the folder commands
/// themselves refuse such names with `NO [CANNOT]` through [`session_folder_name`].
pub(crate) fn folder_name(mailbox: &Mailbox<'_>) -> String {
    let name = match mailbox.to_utf8() {
        Ok(name) => name.into_owned(),
        Err(_) => String::from_utf8_lossy(mailbox.as_bytes()).into_owned(),
    };
    inbox_first(name)
}

/// The UTF-8 folder name of a mailbox argument as `server`'s session sends names: UTF-8
/// when it enabled UTF8=ACCEPT or IMAP4rev2, else modified UTF-7, decoded strictly.
///
/// # Errors
///
/// The reason the name is not valid in that encoding (control characters included).
pub(crate) fn session_folder_name(
    server: &Server,
    mailbox: &Mailbox<'_>,
) -> Result<String, &'static str> {
    if matches!(mailbox, Mailbox::Inbox) {
        return Ok("INBOX".to_owned());
    }
    let utf8 = utf8_names(server);
    match mailbox.to_utf8_as(utf8) {
        Ok(name) => Ok(inbox_first(name.into_owned())),
        Err(_) if utf8 => Err("Mailbox name is not valid UTF-8"),
        Err(_) => Err("Mailbox name is not valid modified UTF-7"),
    }
}

/// `INBOX` in any case as the first level of a name is `INBOX`.
fn inbox_first(name: String) -> String {
    let first = name.split(DELIMITER).next().unwrap_or_default();
    if first.eq_ignore_ascii_case("INBOX") && first != "INBOX" {
        format!("INBOX{}", &name[first.len()..])
    } else {
        name
    }
}

/// Whether the session reads and writes names in UTF-8 (RFC 6855 section 3, RFC 9051
/// section 5.1), as the machine encodes its strings.
fn utf8_names(server: &Server) -> bool {
    let enabled = server.enabled();
    enabled.utf8_accept || enabled.imap4rev2
}

/// Whether `body` is a folder command: CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE LIST LSUB STATUS.
pub(crate) fn is_folder_command(body: &CommandBody<'_>) -> bool {
    matches!(
        body,
        CommandBody::Create { .. }
            | CommandBody::Delete { .. }
            | CommandBody::Rename { .. }
            | CommandBody::Subscribe { .. }
            | CommandBody::Unsubscribe { .. }
            | CommandBody::List { .. }
            | CommandBody::Lsub { .. }
            | CommandBody::Status { .. }
    )
}

/// Answers a folder command completely (untagged data through `server.respond`, then
/// `server.complete`); `selected` is the session's selected folder, if any.
///
/// # Errors
///
/// The machine's misuse error, which a correct caller never sees (the command must be the
/// pending one).
pub(crate) fn answer(
    account: &Account,
    server: &mut Server,
    tag: &Tag<'static>,
    body: CommandBody<'static>,
    selected: Option<&str>,
) -> Result<(), ServerError> {
    let outcome = match body {
        CommandBody::Create {
            mailbox,
            special_use,
        } => create(account, server, &mailbox, !special_use.is_empty()),
        CommandBody::Delete { mailbox } => delete(account, server, &mailbox, selected),
        CommandBody::Rename { from, to } => rename(account, server, &from, &to, selected),
        CommandBody::Subscribe { mailbox } => subscribe(account, server, &mailbox, true),
        CommandBody::Unsubscribe { mailbox } => subscribe(account, server, &mailbox, false),
        CommandBody::List {
            selection,
            reference,
            patterns,
            return_options,
        } => {
            let request = Request::list(&selection, &return_options, patterns.len() > 1);
            list(account, server, &request, &reference, &patterns)
        }
        CommandBody::Lsub { reference, pattern } => {
            let request = Request::lsub();
            list(account, server, &request, &reference, &[pattern])
        }
        CommandBody::Status { mailbox, items } => {
            status(account, server, &mailbox, &items, selected)
        }
        _ => Err(Refusal::bad("Not a folder command")),
    };
    match outcome {
        Ok(done) => server.complete(StatusKind::Ok, done.code, done.text),
        Err(Refusal::Store(error)) => {
            let (code, text) = store_refusal(&error, tag);
            server.complete(StatusKind::No, code, &text)
        }
        Err(Refusal::No(code, text)) => server.complete(StatusKind::No, code, &text),
        Err(Refusal::Bad(text)) => server.complete(StatusKind::Bad, None, text),
        Err(Refusal::Machine(error)) => Err(error),
    }
}

/// How a folder command completed `OK`.
struct Done {
    code: Option<Code<'static>>,
    text: &'static str,
}

impl Done {
    fn ok(text: &'static str) -> Result<Done, Refusal> {
        Ok(Done { code: None, text })
    }
}

/// Why a folder command did not complete `OK`.
enum Refusal {
    /// The store refused.
    Store(MailboxError),
    /// `NO`, with a code.
    No(Option<Code<'static>>, String),
    /// `BAD`.
    Bad(&'static str),
    /// The machine refused a response (answered by the caller's `?`).
    Machine(ServerError),
}

impl Refusal {
    fn no(code: Code<'static>, text: impl Into<String>) -> Refusal {
        Refusal::No(Some(code), text.into())
    }

    fn bad(text: &'static str) -> Refusal {
        Refusal::Bad(text)
    }
}

impl From<MailboxError> for Refusal {
    fn from(error: MailboxError) -> Refusal {
        Refusal::Store(error)
    }
}

impl From<ServerError> for Refusal {
    fn from(error: ServerError) -> Refusal {
        Refusal::Machine(error)
    }
}

/// The code and text of `NO` for what the store refused (RFC 5530 codes). A file-system
/// failure is logged, and the client told only that the command failed.
fn store_refusal(error: &MailboxError, tag: &Tag<'static>) -> (Option<Code<'static>>, String) {
    match error {
        MailboxError::NoSuchMailbox => {
            (Some(Code::NonExistent), "Mailbox doesn't exist".to_owned())
        }
        MailboxError::AlreadyExists => (
            Some(Code::AlreadyExists),
            "Mailbox already exists".to_owned(),
        ),
        MailboxError::BadName(reason) => (
            Some(Code::Cannot),
            format!("Invalid mailbox name: {reason}"),
        ),
        MailboxError::Cannot(reason) => (Some(Code::Cannot), (*reason).to_owned()),
        MailboxError::OverQuota => (Some(Code::OverQuota), "Quota exceeded".to_owned()),
        MailboxError::UidsExhausted => (Some(Code::Limit), "No UIDs left".to_owned()),
        MailboxError::TooManyKeywords => (Some(Code::Limit), "Too many keywords".to_owned()),
        MailboxError::Io(io) => {
            tracing::warn!(tag = %Escaped(tag.as_str()), error = %io, "IMAP folder command failed");
            (None, "Internal error, the command failed".to_owned())
        }
    }
}

/// A mailbox argument as a folder name (without a trailing delimiter, as the store keeps
/// it), or `NO [CANNOT]`.
fn name_arg(server: &Server, mailbox: &Mailbox<'_>) -> Result<String, Refusal> {
    let mut name =
        session_folder_name(server, mailbox).map_err(|reason| Refusal::no(Code::Cannot, reason))?;
    if name.len() > 1 && name.ends_with(DELIMITER) {
        name.pop();
    }
    Ok(name)
}

/// Whether `name` is `ancestor` or sits under it.
fn is_within(name: &str, ancestor: &str) -> bool {
    name == ancestor || is_below(name, ancestor)
}

/// Whether `name` sits under `ancestor` (at any depth).
fn is_below(name: &str, ancestor: &str) -> bool {
    name.len() > ancestor.len()
        && name.starts_with(ancestor)
        && name[ancestor.len()..].starts_with(DELIMITER)
}

fn create(
    account: &Account,
    server: &Server,
    mailbox: &Mailbox<'_>,
    special_use: bool,
) -> Result<Done, Refusal> {
    if special_use {
        // CREATE-SPECIAL-USE (RFC 6154 section 3) is not offered: the folder is not created.
        return Err(Refusal::no(
            Code::UseAttr,
            "Special-use attributes cannot be given at CREATE",
        ));
    }
    let name = name_arg(server, mailbox)?;
    account.create(&name)?;
    Done::ok("CREATE completed")
}

fn delete(
    account: &Account,
    server: &Server,
    mailbox: &Mailbox<'_>,
    selected: Option<&str>,
) -> Result<Done, Refusal> {
    let name = name_arg(server, mailbox)?;
    if name == "INBOX" {
        return Err(Refusal::no(Code::Cannot, "INBOX cannot be deleted"));
    }
    if selected == Some(name.as_str()) {
        return Err(Refusal::no(
            Code::InUse,
            "The selected mailbox cannot be deleted: close it first",
        ));
    }
    let folders = account.list()?;
    let exists = folders.iter().any(|f| f.name == name);
    if !exists && folders.iter().any(|f| is_below(&f.name, &name)) {
        // RFC 9051 section 6.3.4: a name with inferiors that is no mailbox itself.
        return Err(Refusal::no(
            Code::HasChildren,
            "The name has inferior hierarchical names and is no mailbox",
        ));
    }
    account.delete(&name)?;
    Done::ok("DELETE completed")
}

fn rename(
    account: &Account,
    server: &Server,
    from: &Mailbox<'_>,
    to: &Mailbox<'_>,
    selected: Option<&str>,
) -> Result<Done, Refusal> {
    let from = name_arg(server, from)?;
    let to = name_arg(server, to)?;
    if from != "INBOX" {
        if is_below(&to, &from) {
            return Err(Refusal::no(
                Code::Cannot,
                "A mailbox cannot be moved under itself",
            ));
        }
        if selected.is_some_and(|s| is_within(s, &from)) {
            return Err(Refusal::no(
                Code::InUse,
                "The selected mailbox cannot be renamed: close it first",
            ));
        }
    }
    if from != "INBOX" {
        let folders = account.list()?;
        let existing: HashSet<&str> = folders.iter().map(|f| f.name.as_str()).collect();
        if !existing.contains(from.as_str()) {
            // A level of the hierarchy that is no folder (RFC 3501 section 6.3.5's `foo`):
            // the folders under it move, each with the folders under it.
            let tops: Vec<&str> = existing
                .iter()
                .copied()
                .filter(|n| is_below(n, &from))
                .filter(|n| !ancestors(n).any(|a| is_below(a, &from) && existing.contains(a)))
                .collect();
            if !tops.is_empty() {
                if existing.iter().any(|n| is_within(n, &to)) {
                    return Err(MailboxError::AlreadyExists.into());
                }
                for top in tops {
                    let rest = top.get(from.len()..).unwrap_or_default();
                    account.rename(top, &format!("{to}{rest}"))?;
                }
                return Done::ok("RENAME completed");
            }
        }
    }
    account.rename(&from, &to)?;
    Done::ok("RENAME completed")
}

fn subscribe(
    account: &Account,
    server: &Server,
    mailbox: &Mailbox<'_>,
    on: bool,
) -> Result<Done, Refusal> {
    let name = name_arg(server, mailbox)?;
    account.subscribe(&name, on)?;
    Done::ok(if on {
        "SUBSCRIBE completed"
    } else {
        "UNSUBSCRIBE completed"
    })
}

fn status(
    account: &Account,
    server: &mut Server,
    mailbox: &Mailbox<'_>,
    items: &[StatusItem],
    selected: Option<&str>,
) -> Result<Done, Refusal> {
    if items.contains(&StatusItem::DeletedStorage) {
        return Err(Refusal::bad("STATUS DELETED-STORAGE is not supported"));
    }
    let name = name_arg(server, mailbox)?;
    let values = account.status(&name)?;
    let items = status_values(server, items, &values);
    let mailbox = wire_mailbox(server, &name)
        .ok_or_else(|| Refusal::no(Code::Cannot, "The mailbox name cannot be sent"))?;
    server.respond(Data::Status { mailbox, items })?;
    if selected == Some(name.as_str()) {
        // As Dovecot: allowed, but RFC 9051 section 6.3.11 asks clients not to.
        return Ok(Done {
            code: Some(Code::ClientBug),
            text: "STATUS on the selected mailbox completed",
        });
    }
    Done::ok("STATUS completed")
}

/// The STATUS values asked for, each once, in Dovecot's order.
fn status_values(
    server: &Server,
    items: &[StatusItem],
    status: &FolderStatus,
) -> List<StatusValue<'static>, 2> {
    let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let order = [
        StatusItem::Messages,
        StatusItem::Recent,
        StatusItem::UidNext,
        StatusItem::UidValidity,
        StatusItem::Unseen,
        StatusItem::Deleted,
        StatusItem::HighestModSeq,
        StatusItem::Size,
        StatusItem::AppendLimit,
    ];
    order
        .into_iter()
        .filter(|item| items.contains(item))
        .filter_map(|item| {
            Some(match item {
                StatusItem::Messages => StatusValue::Messages(status.messages),
                StatusItem::Recent => StatusValue::Recent(status.recent),
                StatusItem::UidNext => StatusValue::UidNext(status.uid_next.get()),
                StatusItem::UidValidity => StatusValue::UidValidity(status.uid_validity.get()),
                StatusItem::Unseen => StatusValue::Unseen(status.unseen),
                StatusItem::Deleted => StatusValue::Deleted(status.deleted),
                StatusItem::HighestModSeq => {
                    StatusValue::HighestModSeq(status.highest_modseq.get())
                }
                StatusItem::Size => StatusValue::Size(status.size),
                StatusItem::AppendLimit => {
                    StatusValue::AppendLimit(server.config().append_limit.map(clamp))
                }
                _ => return None,
            })
        })
        .collect()
}

/// `name` as the session's wire shows it.
fn wire_name(utf8: bool, name: &str) -> String {
    if utf8 || name == "INBOX" {
        name.to_owned()
    } else {
        utf7::encode(name)
    }
}

/// `name` as a mailbox of a response; `None` for a name the codec refuses (one with a
/// control character, which the store does not make).
fn wire_mailbox(server: &Server, name: &str) -> Option<Mailbox<'static>> {
    Mailbox::from_utf8(name, utf8_names(server)).ok()
}

/// What a LIST or LSUB asks for.
#[derive(Debug, Default)]
struct Request {
    /// LSUB: `* LSUB` lines over the subscriptions.
    lsub: bool,
    /// An extended LIST (RFC 5258): only the attributes asked for.
    extended: bool,
    /// Selection: subscribed names only.
    subscribed: bool,
    /// Selection: folders with a special use only.
    special_use: bool,
    /// Selection: parents of selected names too, with CHILDINFO.
    recursive: bool,
    /// Return `\Subscribed`.
    return_subscribed: bool,
    /// Return the children attributes.
    return_children: bool,
    /// Return the special uses.
    return_special_use: bool,
    /// Return a STATUS of each selectable folder with these items.
    return_status: Vec<StatusItem>,
}

impl Request {
    fn list(
        selection: &[ListSelectOption],
        return_options: &[ListReturnOption],
        several_patterns: bool,
    ) -> Request {
        let mut r = Request {
            extended: !selection.is_empty() || !return_options.is_empty() || several_patterns,
            ..Request::default()
        };
        for option in selection {
            match option {
                ListSelectOption::Subscribed => r.subscribed = true,
                ListSelectOption::SpecialUse => r.special_use = true,
                ListSelectOption::RecursiveMatch => r.recursive = true,
                _ => {}
            }
        }
        for option in return_options {
            match option {
                ListReturnOption::Subscribed => r.return_subscribed = true,
                ListReturnOption::Children => r.return_children = true,
                ListReturnOption::SpecialUse => r.return_special_use = true,
                ListReturnOption::Status(items) => {
                    for item in items.iter() {
                        if !r.return_status.contains(item) {
                            r.return_status.push(*item);
                        }
                    }
                }
                _ => {}
            }
        }
        // RFC 5258 section 3: the SUBSCRIBED selection implies the SUBSCRIBED return option;
        // RFC 6154 section 2: the SPECIAL-USE selection implies its return option.
        r.return_subscribed |= r.subscribed;
        r.return_special_use |= r.special_use;
        if !r.extended {
            r.return_children = true;
            r.return_special_use = true;
        }
        r
    }

    fn lsub() -> Request {
        Request {
            lsub: true,
            subscribed: true,
            return_special_use: true,
            ..Request::default()
        }
    }

    /// Whether a name must be selected by the selection options.
    fn selects(&self, name: &Entry) -> bool {
        (!self.subscribed || name.subscribed) && (!self.special_use || name.special_use.is_some())
    }
}

/// A name LIST may show.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    /// A folder (selectable); otherwise a level of the hierarchy or a subscription only.
    exists: bool,
    subscribed: bool,
    special_use: Option<SpecialUse>,
    has_children: bool,
}

/// Every name LIST and LSUB may show, INBOX and its children first, then by name: the folders, the levels
/// of the hierarchy above them that are no folder, and the subscribed names (with the
/// levels above them).
fn entries(folders: &[FolderInfo], subscriptions: &[String]) -> Vec<Entry> {
    let existing: BTreeSet<&str> = folders.iter().map(|f| f.name.as_str()).collect();
    let by_name: HashMap<&str, &FolderInfo> =
        folders.iter().map(|f| (f.name.as_str(), f)).collect();
    let subscribed: HashSet<&str> = subscriptions
        .iter()
        .map(String::as_str)
        .chain(
            folders
                .iter()
                .filter(|f| f.subscribed)
                .map(|f| f.name.as_str()),
        )
        .collect();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for name in existing.iter().chain(subscribed.iter()) {
        names.insert(name);
        for parent in ancestors(name) {
            names.insert(parent);
        }
    }
    let mut out: Vec<Entry> = names
        .into_iter()
        .map(|name| {
            let folder = by_name.get(name);
            let prefix = format!("{name}{DELIMITER}");
            Entry {
                name: name.to_owned(),
                exists: folder.is_some(),
                subscribed: subscribed.contains(name),
                special_use: folder.and_then(|f| f.special_use),
                has_children: existing
                    .range(prefix.as_str()..)
                    .next()
                    .is_some_and(|n| n.starts_with(&prefix)),
            }
        })
        .collect();
    // INBOX and the folders under it first
    out.sort_by(|a, b| {
        (!is_within(&a.name, "INBOX"), &a.name).cmp(&(!is_within(&b.name, "INBOX"), &b.name))
    });
    out
}

/// The levels above `name`, nearest first (`a/b` and `a` for `a/b/c`).
fn ancestors(name: &str) -> impl Iterator<Item = &str> {
    let mut at = name.len();
    std::iter::from_fn(move || {
        let cut = name.get(..at)?.rfind(DELIMITER)?;
        at = cut;
        Some(&name[..cut])
    })
    .filter(|parent| !parent.is_empty())
}

fn list(
    account: &Account,
    server: &mut Server,
    request: &Request,
    reference: &Mailbox<'_>,
    patterns: &[ListMailbox<'_>],
) -> Result<Done, Refusal> {
    let completed = if request.lsub {
        "LSUB completed"
    } else {
        "LIST completed"
    };
    let utf8 = utf8_names(server);
    let mut full: Vec<Vec<u8>> = Vec::new();
    for pattern in patterns {
        if pattern.as_bytes().is_empty() {
            if !request.lsub {
                // RFC 3501 section 6.3.8: the delimiter and the root of the name space.
                let root = Mailbox::from_bytes(Vec::new())
                    .map_err(|_| ServerError::Invalid("the empty name"))?;
                let mut attributes = List::new();
                attributes.push(MailboxAttribute::Noselect);
                server.respond(Data::List(ListData {
                    attributes,
                    delimiter: delimiter(),
                    mailbox: root,
                    extended: List::new(),
                }))?;
            }
            continue;
        }
        let mut joined = reference.as_bytes().to_vec();
        joined.extend_from_slice(pattern.as_bytes());
        full.push(joined);
    }
    if full.is_empty() {
        return Done::ok(completed);
    }
    let folders = account.list()?;
    let subscriptions = if request.subscribed || request.return_subscribed {
        account.subscriptions()?
    } else {
        Vec::new()
    };
    let all = entries(&folders, &subscriptions);
    let matched: Vec<bool> = all
        .iter()
        .map(|e| {
            let wire = wire_name(utf8, &e.name);
            full.iter().any(|p| wildcard(p, wire.as_bytes()))
        })
        .collect();
    // Names with a name under them that the selection picks (RECURSIVEMATCH), and with
    // one that the pattern does not match: for RECURSIVEMATCH, and for LSUB, where the
    // level `%` stops at is shown `\Noselect` (RFC 3501 section 6.3.9).
    let mut picked_below: HashSet<&str> = HashSet::new();
    let mut hidden_below: HashSet<&str> = HashSet::new();
    for (entry, &matched) in all.iter().zip(&matched) {
        if request.selects(entry) {
            picked_below.extend(ancestors(&entry.name));
            if !matched {
                hidden_below.extend(ancestors(&entry.name));
            }
        }
    }
    for (entry, &matched) in all.iter().zip(&matched) {
        if !matched {
            continue;
        }
        let selected = request.selects(entry);
        // RFC 5258 section 3.5: a name the selection does not pick is shown for its
        // CHILDINFO only when a name under it that it picks is not shown itself.
        let hidden = hidden_below.contains(entry.name.as_str());
        let childinfo = request.recursive
            && if selected {
                picked_below.contains(entry.name.as_str())
            } else {
                hidden
            };
        let show = if request.lsub {
            entry.subscribed || hidden
        } else if request.subscribed || request.special_use {
            selected || childinfo
        } else {
            entry.exists || entry.has_children
        };
        if !show {
            continue;
        }
        let mut attributes: List<MailboxAttribute<'static>, 2> = List::new();
        if request.return_subscribed && entry.subscribed {
            attributes.push(MailboxAttribute::Subscribed);
        }
        if request.lsub {
            if !entry.subscribed {
                attributes.push(MailboxAttribute::Noselect);
            }
        } else if !entry.exists {
            attributes.push(if request.extended {
                MailboxAttribute::NonExistent
            } else {
                MailboxAttribute::Noselect
            });
        }
        if request.return_children {
            attributes.push(if entry.has_children {
                MailboxAttribute::HasChildren
            } else {
                MailboxAttribute::HasNoChildren
            });
        }
        if request.return_special_use {
            if let Some(special) = entry.special_use {
                attributes.push(special_use_attribute(special));
            }
        }
        let mut extended: List<ListExtendedItem<'static>, 1> = List::new();
        if childinfo {
            let mut why: List<Atom<'static>, 1> = List::new();
            if request.subscribed {
                why.push(atom("SUBSCRIBED")?);
            }
            if request.special_use {
                why.push(atom("SPECIAL-USE")?);
            }
            extended.push(ListExtendedItem::ChildInfo(why));
        }
        let Some(mailbox) = wire_mailbox(server, &entry.name) else {
            tracing::warn!(folder = %Escaped(&entry.name), "IMAP LIST: a folder name that cannot be sent");
            continue;
        };
        let data = ListData {
            attributes,
            delimiter: delimiter(),
            mailbox: mailbox.clone(),
            extended,
        };
        server.respond(if request.lsub {
            Data::Lsub(data)
        } else {
            Data::List(data)
        })?;
        if !request.return_status.is_empty() && entry.exists {
            // RFC 5819 section 2: a folder that cannot be read now gets no STATUS.
            if let Ok(status) = account.status(&entry.name) {
                let items = status_values(server, &request.return_status, &status);
                server.respond(Data::Status { mailbox, items })?;
            }
        }
    }
    Done::ok(completed)
}

fn delimiter() -> Option<Delimiter> {
    Delimiter::new(DELIMITER).ok()
}

fn atom(name: &'static str) -> Result<Atom<'static>, ServerError> {
    Atom::new(name).map_err(|_| ServerError::Invalid("atom"))
}

fn special_use_attribute(special: SpecialUse) -> MailboxAttribute<'static> {
    match special {
        SpecialUse::Sent => MailboxAttribute::Sent,
        SpecialUse::Drafts => MailboxAttribute::Drafts,
        SpecialUse::Trash => MailboxAttribute::Trash,
        SpecialUse::Junk => MailboxAttribute::Junk,
        SpecialUse::Archive => MailboxAttribute::Archive,
    }
}

/// Whether `name` (as on the wire) matches `pattern`: `*` any run of octets, `%` any run
/// without the delimiter, the first five octets of `INBOX` (alone or followed by the
/// delimiter) without regard to case, every other octet as itself. Dynamic programming over
/// the name: `pattern.len() * name.len()` steps at most; a pattern longer than
/// [`MAX_PATTERN`] matches nothing.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    if pattern.len() > MAX_PATTERN {
        return false;
    }
    let inbox = name.len() >= 5
        && name.starts_with(b"INBOX")
        && (name.len() == 5 || name.get(5) == Some(&(DELIMITER as u8)));
    // can[j]: the pattern so far matches the first j octets of the name.
    let mut can = vec![false; name.len() + 1];
    if let Some(first) = can.first_mut() {
        *first = true;
    }
    let mut next = vec![false; name.len() + 1];
    for &p in pattern {
        match p {
            b'*' => {
                let mut any = false;
                for (slot, &c) in next.iter_mut().zip(&can) {
                    any |= c;
                    *slot = any;
                }
            }
            b'%' => {
                // a run that reached octet j may take it unless it is the delimiter
                let mut run = false;
                let before = std::iter::once(None).chain(name.iter().map(Some));
                for ((slot, &c), prev) in next.iter_mut().zip(&can).zip(before) {
                    let crosses = prev == Some(&(DELIMITER as u8));
                    run = c || (run && !crosses);
                    *slot = run;
                }
            }
            _ => {
                next[0] = false;
                for (j, ((slot, &c), &n)) in next.iter_mut().skip(1).zip(&can).zip(name).enumerate()
                {
                    let same = if inbox && j < 5 {
                        n.eq_ignore_ascii_case(&p)
                    } else {
                        n == p
                    };
                    *slot = c && same;
                }
            }
        }
        std::mem::swap(&mut can, &mut next);
        if !can.iter().any(|&c| c) {
            return false;
        }
    }
    can.last().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use imap_proto::response::Capability;
    use imap_proto::server::{Event, ServerConfig};

    use super::*;
    use crate::accounts::Address;
    use crate::store::Store;

    /// A directory under the system's temporary one, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("imap-folders-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A session driven to the authenticated state (PREAUTH) over a real store, the
    /// machine offering what the mail server offers.
    struct Session {
        server: Server,
        account: Account,
        store: Store,
        selected: Option<String>,
        now: Instant,
        _dir: TempDir,
    }

    impl Session {
        fn new() -> Session {
            Session::with(|_| {})
        }

        fn with(change: impl FnOnce(&mut ServerConfig)) -> Session {
            let dir = TempDir::new();
            let store = Store::open(&dir.0, "test.example").unwrap();
            let account = store
                .account(&Address::new("alice", "example.org").unwrap())
                .unwrap();
            let mut config = ServerConfig::default();
            config.allow_plaintext_auth = true;
            config.preauth = Some("ready".into());
            config.capabilities = vec![
                Capability::ListExtended,
                Capability::ListStatus,
                Capability::SpecialUse,
                Capability::Children,
                Capability::Utf8Accept,
            ];
            change(&mut config);
            let now = Instant::now();
            let mut session = Session {
                server: Server::new(config, now),
                account,
                store,
                selected: None,
                now,
                _dir: dir,
            };
            let greeting = session.read();
            assert!(greeting.starts_with("* PREAUTH "), "{greeting}");
            session
        }

        fn read(&mut self) -> String {
            let mut out = Vec::new();
            while let Some(bytes) = self.server.poll_transmit() {
                out.extend_from_slice(&bytes);
            }
            String::from_utf8(out).unwrap()
        }

        /// Sends `line` (CRLF added) and answers its folder command: what came back.
        fn send(&mut self, line: &str) -> String {
            self.server.feed(self.now, format!("{line}\r\n").as_bytes());
            while let Some(event) = self.server.poll_event() {
                if let Event::Command { command, .. } = event {
                    if is_folder_command(&command.body) {
                        answer(
                            &self.account,
                            &mut self.server,
                            &command.tag,
                            command.body,
                            self.selected.as_deref(),
                        )
                        .unwrap();
                    } else {
                        self.server
                            .complete(StatusKind::No, None, "not a folder command")
                            .unwrap();
                    }
                }
            }
            self.read()
        }

        /// The lines `send(line)` got back, without their CRLF.
        fn lines(&mut self, line: &str) -> Vec<String> {
            self.send(line)
                .split("\r\n")
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        }

        fn names(&self) -> Vec<String> {
            self.account
                .list()
                .unwrap()
                .into_iter()
                .map(|f| f.name)
                .collect()
        }
    }

    fn strs(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| (*l).to_owned()).collect()
    }

    /// The special-use folders every account has, as a plain LIST shows them.
    const SPECIAL: [&str; 5] = [
        "* LIST (\\HasNoChildren \\Archive) \"/\" Archive",
        "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts",
        "* LIST (\\HasNoChildren \\Junk) \"/\" Junk",
        "* LIST (\\HasNoChildren \\Sent) \"/\" Sent",
        "* LIST (\\HasNoChildren \\Trash) \"/\" Trash",
    ];

    #[test]
    fn list_shows_every_folder_with_children_and_special_use() {
        let mut s = Session::new();
        let mut want = vec!["* LIST (\\HasNoChildren) \"/\" INBOX"];
        want.extend(SPECIAL);
        want.push("a1 OK LIST completed");
        assert_eq!(s.lines("a1 LIST \"\" *"), strs(&want));
        // `%` stops at the delimiter; INBOX matches in any case
        assert_eq!(
            s.send("a2 CREATE Work/2026/Q1"),
            "a2 OK CREATE completed\r\n"
        );
        assert_eq!(
            s.lines("a3 LIST \"\" W%"),
            strs(&["* LIST (\\HasChildren) \"/\" Work", "a3 OK LIST completed"])
        );
        assert_eq!(
            s.lines("a4 LIST \"\" Work/*"),
            strs(&[
                "* LIST (\\HasChildren) \"/\" Work/2026",
                "* LIST (\\HasNoChildren) \"/\" Work/2026/Q1",
                "a4 OK LIST completed",
            ])
        );
        assert_eq!(
            s.lines("a5 LIST \"\" in%"),
            strs(&[
                "* LIST (\\HasNoChildren) \"/\" INBOX",
                "a5 OK LIST completed"
            ])
        );
        // the reference is put before the pattern
        assert_eq!(
            s.lines("a6 LIST Work/ %"),
            strs(&[
                "* LIST (\\HasChildren) \"/\" Work/2026",
                "a6 OK LIST completed"
            ])
        );
        assert_eq!(
            s.lines("a7 LIST \"\" */Q1"),
            strs(&[
                "* LIST (\\HasNoChildren) \"/\" Work/2026/Q1",
                "a7 OK LIST completed"
            ])
        );
        assert_eq!(
            s.lines("a8 LIST \"\" nothing*"),
            strs(&["a8 OK LIST completed"])
        );
        // the delimiter and the root
        assert_eq!(
            s.lines("a9 LIST Work \"\""),
            strs(&["* LIST (\\Noselect) \"/\" \"\"", "a9 OK LIST completed"])
        );
    }

    #[test]
    fn create_makes_parents_and_refuses_what_exists_or_cannot_be() {
        let mut s = Session::new();
        assert_eq!(s.send("c1 CREATE a/b/c"), "c1 OK CREATE completed\r\n");
        assert!(s.names().contains(&"a".to_owned()), "{:?}", s.names());
        assert!(s.names().contains(&"a/b".to_owned()));
        assert!(s.names().contains(&"a/b/c".to_owned()));
        // a trailing delimiter only says children will come (RFC 3501 section 6.3.3)
        assert_eq!(s.send("c2 CREATE x/"), "c2 OK CREATE completed\r\n");
        assert!(s.names().contains(&"x".to_owned()));
        assert_eq!(
            s.send("c3 CREATE a/b"),
            "c3 NO [ALREADYEXISTS] Mailbox already exists\r\n"
        );
        assert_eq!(
            s.send("c4 CREATE inbox"),
            "c4 NO [ALREADYEXISTS] Mailbox already exists\r\n"
        );
        assert!(
            s.send("c5 CREATE \"\"")
                .starts_with("c5 NO [CANNOT] Invalid mailbox name: ")
        );
        assert!(
            s.send("c6 CREATE a//b")
                .starts_with("c6 NO [CANNOT] Invalid mailbox name: ")
        );
        assert!(
            s.send("c7 CREATE a/../b")
                .starts_with("c7 NO [CANNOT] Invalid mailbox name: ")
        );
        // not modified UTF-7: "a" must stand for itself
        assert_eq!(
            s.send("c8 CREATE &AGE-"),
            "c8 NO [CANNOT] Mailbox name is not valid modified UTF-7\r\n"
        );
        assert_eq!(
            s.send("c9 CREATE Drafts2 (USE (\\Drafts))"),
            "c9 NO [USEATTR] Special-use attributes cannot be given at CREATE\r\n"
        );
        assert!(!s.names().contains(&"Drafts2".to_owned()));
        // a child of INBOX, whatever the case of INBOX
        assert_eq!(
            s.send("d1 CREATE inbox/Lists"),
            "d1 OK CREATE completed\r\n"
        );
        assert_eq!(
            s.lines("d2 LIST \"\" INBOX*"),
            strs(&[
                "* LIST (\\HasChildren) \"/\" INBOX",
                "* LIST (\\HasNoChildren) \"/\" INBOX/Lists",
                "d2 OK LIST completed",
            ])
        );
    }

    #[test]
    fn international_names_travel_in_modified_utf7_unless_utf8_is_enabled() {
        let mut s = Session::new();
        assert_eq!(
            s.send("u1 CREATE R&AOk-pertoire/&ZeVnLIqe-"),
            "u1 OK CREATE completed\r\n"
        );
        assert!(
            s.names().contains(&"Répertoire/日本語".to_owned()),
            "{:?}",
            s.names()
        );
        assert_eq!(
            s.lines("u2 LIST \"\" R*"),
            strs(&[
                "* LIST (\\HasChildren) \"/\" R&AOk-pertoire",
                "* LIST (\\HasNoChildren) \"/\" R&AOk-pertoire/&ZeVnLIqe-",
                "u2 OK LIST completed",
            ])
        );
        assert_eq!(
            s.send("u3 CREATE \"Tom &- Jerry\""),
            "u3 OK CREATE completed\r\n"
        );
        assert_eq!(
            s.lines("u4 LIST \"\" Tom*"),
            strs(&[
                "* LIST (\\HasNoChildren) \"/\" \"Tom &- Jerry\"",
                "u4 OK LIST completed"
            ])
        );
        assert!(
            s.send("u5 ENABLE UTF8=ACCEPT")
                .contains("* ENABLED UTF8=ACCEPT")
        );
        assert_eq!(
            s.lines("u6 LIST \"\" R*"),
            strs(&[
                "* LIST (\\HasChildren) \"/\" \"Répertoire\"",
                "* LIST (\\HasNoChildren) \"/\" \"Répertoire/日本語\"",
                "u6 OK LIST completed",
            ])
        );
        // now a name is taken as sent: "&-" is two characters
        assert_eq!(
            s.send("u7 CREATE \"Café &-\""),
            "u7 OK CREATE completed\r\n"
        );
        assert!(s.names().contains(&"Café &-".to_owned()), "{:?}", s.names());
        assert_eq!(
            s.lines("u8 STATUS \"Répertoire/日本語\" (MESSAGES)"),
            strs(&[
                "* STATUS \"Répertoire/日本語\" (MESSAGES 0)",
                "u8 OK STATUS completed"
            ])
        );
        // and the interface the service uses decodes the same names
        assert_eq!(
            folder_name(&Mailbox::parse(b"R&AOk-pertoire").unwrap()),
            "Répertoire"
        );
        assert_eq!(folder_name(&Mailbox::parse(b"inbox").unwrap()), "INBOX");
        assert_eq!(folder_name(&Mailbox::parse(b"Inbox/x").unwrap()), "INBOX/x");
        assert_eq!(
            folder_name(&Mailbox::parse("\"Café\"".as_bytes()).unwrap()),
            "Café"
        );
    }

    #[test]
    fn imap4rev2_sessions_use_utf8_names() {
        let mut s = Session::with(|config| config.imap4rev2 = true);
        assert_eq!(
            s.send("v1 CREATE R&AOk-sum&AOk-"),
            "v1 OK CREATE completed\r\n"
        );
        assert!(
            s.send("v2 ENABLE IMAP4rev2")
                .contains("* ENABLED IMAP4rev2")
        );
        assert_eq!(
            s.lines("v3 LIST \"\" R%"),
            strs(&[
                "* LIST (\\HasNoChildren) \"/\" \"Résumé\"",
                "v3 OK LIST completed"
            ])
        );
        // a 7-bit name is now taken as sent, "&" and all
        assert_eq!(s.send("v4 CREATE A&B"), "v4 OK CREATE completed\r\n");
        assert_eq!(
            s.lines("v5 STATUS A&B (MESSAGES)"),
            strs(&["* STATUS A&B (MESSAGES 0)", "v5 OK STATUS completed"])
        );
    }

    #[test]
    fn delete_keeps_children_and_refuses_inbox_and_levels_that_are_no_folder() {
        let mut s = Session::new();
        s.send("d0 CREATE p/q");
        assert_eq!(s.send("d1 DELETE p"), "d1 OK DELETE completed\r\n");
        assert!(!s.names().contains(&"p".to_owned()));
        assert!(s.names().contains(&"p/q".to_owned()));
        // the level stays, \Noselect (RFC 3501 section 6.3.4)
        assert_eq!(
            s.lines("d2 LIST \"\" p*"),
            strs(&[
                "* LIST (\\Noselect \\HasChildren) \"/\" p",
                "* LIST (\\HasNoChildren) \"/\" p/q",
                "d2 OK LIST completed",
            ])
        );
        assert_eq!(
            s.lines("d3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" p"),
            strs(&["d3 OK LIST completed"])
        );
        assert_eq!(
            s.lines("d4 LIST \"\" p RETURN (CHILDREN)"),
            strs(&[
                "* LIST (\\NonExistent \\HasChildren) \"/\" p",
                "d4 OK LIST completed"
            ])
        );
        // RFC 9051 section 6.3.4
        assert_eq!(
            s.send("d5 DELETE p"),
            "d5 NO [HASCHILDREN] The name has inferior hierarchical names and is no mailbox\r\n"
        );
        assert_eq!(
            s.send("d6 DELETE nosuch"),
            "d6 NO [NONEXISTENT] Mailbox doesn't exist\r\n"
        );
        assert_eq!(
            s.send("d7 DELETE Inbox"),
            "d7 NO [CANNOT] INBOX cannot be deleted\r\n"
        );
        s.selected = Some("p/q".into());
        assert_eq!(
            s.send("d8 DELETE p/q"),
            "d8 NO [INUSE] The selected mailbox cannot be deleted: close it first\r\n"
        );
        s.selected = None;
        assert_eq!(s.send("d9 DELETE p/q/"), "d9 OK DELETE completed\r\n");
        assert_eq!(s.lines("e1 LIST \"\" p*"), strs(&["e1 OK LIST completed"]));
    }

    #[test]
    fn rename_moves_children_and_inbox_per_rfc() {
        let mut s = Session::new();
        s.send("r0 CREATE p/q");
        assert_eq!(s.send("r1 RENAME p r"), "r1 OK RENAME completed\r\n");
        let names = s.names();
        assert!(names.contains(&"r".to_owned()) && names.contains(&"r/q".to_owned()));
        assert!(!names.iter().any(|n| n.starts_with('p')), "{names:?}");
        assert_eq!(
            s.send("r2 RENAME nosuch z"),
            "r2 NO [NONEXISTENT] Mailbox doesn't exist\r\n"
        );
        assert_eq!(
            s.send("r3 RENAME r Sent"),
            "r3 NO [ALREADYEXISTS] Mailbox already exists\r\n"
        );
        assert_eq!(
            s.send("r4 RENAME r r/s"),
            "r4 NO [CANNOT] A mailbox cannot be moved under itself\r\n"
        );
        s.selected = Some("r/q".into());
        assert_eq!(
            s.send("r5 RENAME r t"),
            "r5 NO [INUSE] The selected mailbox cannot be renamed: close it first\r\n"
        );
        s.selected = None;
        assert!(
            s.send("r6 RENAME r \"\"")
                .starts_with("r6 NO [CANNOT] Invalid mailbox name: ")
        );
        // a level that is no folder: the folders under it move (RFC 3501 section 6.3.5)
        s.send("l0 CREATE foo/bar/baz");
        s.send("l1 CREATE foo/qux");
        s.send("l2 DELETE foo");
        assert_eq!(s.send("l3 RENAME foo zowie"), "l3 OK RENAME completed\r\n");
        let names = s.names();
        for name in ["zowie/bar", "zowie/bar/baz", "zowie/qux"] {
            assert!(names.contains(&name.to_owned()), "{names:?}");
        }
        assert!(!names.iter().any(|n| n.starts_with("foo")), "{names:?}");
        s.send("l4 CREATE lvl/a");
        s.send("l5 DELETE lvl");
        assert_eq!(
            s.send("l6 RENAME lvl zowie"),
            "l6 NO [ALREADYEXISTS] Mailbox already exists\r\n"
        );
        // INBOX: its messages move to the new folder, INBOX stays (RFC 3501 section 6.3.5)
        let inbox = s
            .store
            .maildir(&Address::new("alice", "example.org").unwrap());
        std::fs::write(
            inbox.join("new").join("1.test"),
            b"Subject: x\r\n\r\nhi\r\n",
        )
        .unwrap();
        assert_eq!(
            s.lines("r7 STATUS INBOX (MESSAGES)"),
            strs(&["* STATUS INBOX (MESSAGES 1)", "r7 OK STATUS completed"])
        );
        assert_eq!(
            s.send("r8 RENAME INBOX INBOX/old"),
            "r8 OK RENAME completed\r\n"
        );
        assert_eq!(
            s.lines("r9 LIST \"\" INBOX* RETURN (STATUS (MESSAGES))"),
            strs(&[
                "* LIST () \"/\" INBOX",
                "* STATUS INBOX (MESSAGES 0)",
                "* LIST () \"/\" INBOX/old",
                "* STATUS INBOX/old (MESSAGES 1)",
                "r9 OK LIST completed",
            ])
        );
    }

    #[test]
    fn subscriptions_lsub_and_list_subscribed() {
        let mut s = Session::new();
        s.send("s0 CREATE p/q/r");
        assert_eq!(
            s.send("s1 SUBSCRIBE p/q/r"),
            "s1 OK SUBSCRIBE completed\r\n"
        );
        assert_eq!(
            s.send("s2 SUBSCRIBE nosuch"),
            "s2 NO [NONEXISTENT] Mailbox doesn't exist\r\n"
        );
        assert_eq!(
            s.send("s3 UNSUBSCRIBE nosuch"),
            "s3 OK UNSUBSCRIBE completed\r\n"
        );
        // the special-use folders are subscribed from the start
        let lsub = s.lines("s4 LSUB \"\" *");
        for name in ["Archive", "Drafts", "Junk", "Sent", "Trash"] {
            assert!(
                lsub.iter()
                    .any(|l| l.starts_with("* LSUB (\\") && l.ends_with(&format!("\"/\" {name}"))),
                "{lsub:?}"
            );
        }
        assert!(
            lsub.contains(&"* LSUB () \"/\" p/q/r".to_owned()),
            "{lsub:?}"
        );
        assert!(
            !lsub
                .iter()
                .any(|l| l.ends_with(" p") || l.ends_with(" p/q"))
        );
        // `%` stops above p/q/r: the level is \Noselect (RFC 3501 section 6.3.9)
        assert_eq!(
            s.lines("s5 LSUB \"\" p%"),
            strs(&["* LSUB (\\Noselect) \"/\" p", "s5 OK LSUB completed"])
        );
        assert_eq!(
            s.lines("s6 LSUB p/ %"),
            strs(&["* LSUB (\\Noselect) \"/\" p/q", "s6 OK LSUB completed"])
        );
        assert_eq!(
            s.lines("s7 LSUB \"\" \"\""),
            strs(&["s7 OK LSUB completed"])
        );
        // LIST-EXTENDED
        assert_eq!(
            s.lines("s8 LIST (SUBSCRIBED) \"\" p*"),
            strs(&["* LIST (\\Subscribed) \"/\" p/q/r", "s8 OK LIST completed"])
        );
        assert_eq!(
            s.lines("s9 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %"),
            strs(&[
                "* LIST (\\Subscribed) \"/\" Archive",
                "* LIST (\\Subscribed) \"/\" Drafts",
                "* LIST (\\Subscribed) \"/\" Junk",
                "* LIST (\\Subscribed) \"/\" Sent",
                "* LIST (\\Subscribed) \"/\" Trash",
                "* LIST () \"/\" p (\"CHILDINFO\" (\"SUBSCRIBED\"))",
                "s9 OK LIST completed",
            ])
        );
        // with `*` the subscribed p/q/r is listed itself: no line for the levels above it
        assert_eq!(
            s.lines("s10 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" p*"),
            strs(&["* LIST (\\Subscribed) \"/\" p/q/r", "s10 OK LIST completed"])
        );
        // a subscribed name with a subscribed child carries CHILDINFO
        s.send("s11 SUBSCRIBE p/q");
        assert_eq!(
            s.lines("s12 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" p/*"),
            strs(&[
                "* LIST (\\Subscribed) \"/\" p/q (\"CHILDINFO\" (\"SUBSCRIBED\"))",
                "* LIST (\\Subscribed) \"/\" p/q/r",
                "s12 OK LIST completed",
            ])
        );
        s.send("s13 UNSUBSCRIBE p/q");
        // a subscription outlives its folder: \NonExistent
        s.send("t0 CREATE gone");
        s.send("t1 SUBSCRIBE gone");
        assert_eq!(s.send("t2 DELETE gone"), "t2 OK DELETE completed\r\n");
        assert_eq!(
            s.lines("t3 LIST (SUBSCRIBED) \"\" g* RETURN (CHILDREN)"),
            strs(&[
                "* LIST (\\Subscribed \\NonExistent \\HasNoChildren) \"/\" gone",
                "t3 OK LIST completed"
            ])
        );
        assert_eq!(
            s.lines("t4 LSUB \"\" g*"),
            strs(&["* LSUB () \"/\" gone", "t4 OK LSUB completed"])
        );
        assert_eq!(
            s.send("t5 UNSUBSCRIBE gone"),
            "t5 OK UNSUBSCRIBE completed\r\n"
        );
        assert_eq!(s.lines("t6 LSUB \"\" g*"), strs(&["t6 OK LSUB completed"]));
        // RETURN (SUBSCRIBED) marks without selecting
        assert_eq!(
            s.lines("t7 LIST \"\" (p/q/r Sent INBOX) RETURN (SUBSCRIBED)"),
            strs(&[
                "* LIST () \"/\" INBOX",
                "* LIST (\\Subscribed) \"/\" Sent",
                "* LIST (\\Subscribed) \"/\" p/q/r",
                "t7 OK LIST completed",
            ])
        );
    }

    #[test]
    fn special_use_selection_and_return() {
        let mut s = Session::new();
        s.send("x0 CREATE Sent/2026");
        assert_eq!(
            s.lines("x1 LIST (SPECIAL-USE) \"\" * RETURN (CHILDREN)"),
            strs(&[
                "* LIST (\\HasNoChildren \\Archive) \"/\" Archive",
                "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts",
                "* LIST (\\HasNoChildren \\Junk) \"/\" Junk",
                "* LIST (\\HasChildren \\Sent) \"/\" Sent",
                "* LIST (\\HasNoChildren \\Trash) \"/\" Trash",
                "x1 OK LIST completed",
            ])
        );
        assert_eq!(
            s.lines("x2 LIST \"\" % RETURN (SPECIAL-USE)"),
            strs(&[
                "* LIST () \"/\" INBOX",
                "* LIST (\\Archive) \"/\" Archive",
                "* LIST (\\Drafts) \"/\" Drafts",
                "* LIST (\\Junk) \"/\" Junk",
                "* LIST (\\Sent) \"/\" Sent",
                "* LIST (\\Trash) \"/\" Trash",
                "x2 OK LIST completed",
            ])
        );
        // an extended LIST shows no attribute it was not asked for
        assert_eq!(
            s.lines("x3 LIST (REMOTE) \"\" Sent*"),
            strs(&[
                "* LIST () \"/\" Sent",
                "* LIST () \"/\" Sent/2026",
                "x3 OK LIST completed"
            ])
        );
        // several patterns make an extended LIST too (RFC 5258 section 3)
        assert_eq!(
            s.lines("x4 LIST \"\" (Sent Drafts)"),
            strs(&[
                "* LIST () \"/\" Drafts",
                "* LIST () \"/\" Sent",
                "x4 OK LIST completed"
            ])
        );
    }

    #[test]
    fn special_use_options_need_the_capability() {
        let mut s =
            Session::with(|config| config.capabilities.retain(|c| *c != Capability::SpecialUse));
        assert_eq!(
            s.send("n1 LIST (SPECIAL-USE) \"\" *"),
            "n1 BAD SPECIAL-USE is not supported\r\n"
        );
    }

    #[test]
    fn status_gives_every_item_the_store_knows() {
        let mut s = Session::new();
        let inbox = s
            .store
            .maildir(&Address::new("alice", "example.org").unwrap());
        std::fs::write(
            inbox.join("new").join("1.test"),
            b"Subject: x\r\n\r\nhi\r\n",
        )
        .unwrap();
        std::fs::write(
            inbox.join("cur").join("2.test:2,S"),
            b"Subject: y\n\nhello\n",
        )
        .unwrap();
        let lines = s.lines(
            "t1 STATUS INBOX (UNSEEN SIZE HIGHESTMODSEQ UIDVALIDITY RECENT UIDNEXT MESSAGES DELETED APPENDLIMIT)",
        );
        let status = s.account.status("INBOX").unwrap();
        assert_eq!(
            lines,
            strs(&[
                &format!(
                    "* STATUS INBOX (MESSAGES 2 RECENT 2 UIDNEXT {} UIDVALIDITY {} UNSEEN 1 DELETED 0 HIGHESTMODSEQ {} SIZE 39 APPENDLIMIT 67108864)",
                    status.uid_next, status.uid_validity, status.highest_modseq
                ),
                "t1 OK STATUS completed",
            ])
        );
        assert_eq!(status.uid_next.get(), 3);
        assert_eq!(
            s.send("t2 STATUS nosuch (MESSAGES)"),
            "t2 NO [NONEXISTENT] Mailbox doesn't exist\r\n"
        );
        assert_eq!(
            s.send("t3 STATUS INBOX (DELETED-STORAGE)"),
            "t3 BAD STATUS DELETED-STORAGE is not supported\r\n"
        );
        // allowed on the selected mailbox, with Dovecot's hint
        s.selected = Some("INBOX".into());
        assert_eq!(
            s.lines("t4 STATUS inbox (MESSAGES)"),
            strs(&[
                "* STATUS INBOX (MESSAGES 2)",
                "t4 OK [CLIENTBUG] STATUS on the selected mailbox completed",
            ])
        );
        // LIST-STATUS: a STATUS after each selectable folder, none for a level
        s.send("t5 CREATE a/b");
        s.send("t6 DELETE a");
        assert_eq!(
            s.lines("t7 LIST \"\" (INBOX a*) RETURN (STATUS (UNSEEN MESSAGES))"),
            strs(&[
                "* LIST () \"/\" INBOX",
                "* STATUS INBOX (MESSAGES 2 UNSEEN 1)",
                "* LIST (\\NonExistent) \"/\" a",
                "* LIST () \"/\" a/b",
                "* STATUS a/b (MESSAGES 0 UNSEEN 0)",
                "t7 OK LIST completed",
            ])
        );
        // without an APPEND limit: NIL (RFC 7889)
        let mut s = Session::with(|c| c.append_limit = None);
        assert_eq!(
            s.lines("t8 STATUS Sent (APPENDLIMIT)"),
            strs(&["* STATUS Sent (APPENDLIMIT NIL)", "t8 OK STATUS completed"])
        );
    }

    #[test]
    fn a_pattern_over_the_limit_matches_nothing() {
        let mut s = Session::new();
        let at_limit = format!("{}INBOX", "*".repeat(MAX_PATTERN - 5));
        assert_eq!(
            s.lines(&format!("l1 LIST \"\" {at_limit}")),
            strs(&[
                "* LIST (\\HasNoChildren) \"/\" INBOX",
                "l1 OK LIST completed"
            ])
        );
        let over = format!("{}INBOX", "*".repeat(MAX_PATTERN - 4));
        assert_eq!(
            s.lines(&format!("l2 LIST \"\" {over}")),
            strs(&["l2 OK LIST completed"])
        );
        // the reference counts
        assert_eq!(
            s.lines(&format!("l3 LIST x {at_limit}")),
            strs(&["l3 OK LIST completed"])
        );
    }

    #[test]
    fn wildcards() {
        let yes = |p: &str, n: &str| assert!(wildcard(p.as_bytes(), n.as_bytes()), "{p} {n}");
        let no = |p: &str, n: &str| assert!(!wildcard(p.as_bytes(), n.as_bytes()), "{p} {n}");
        yes("*", "");
        yes("*", "a/b/c");
        yes("%", "abc");
        no("%", "a/b");
        yes("%/%", "a/b");
        yes("a/%/c", "a/bbb/c");
        no("a/%/c", "a/b/b/c");
        yes("a/*/c", "a/b/b/c");
        yes("*b*", "abc");
        no("*x*", "abc");
        yes("", "");
        no("", "a");
        no("a", "");
        yes("inbox", "INBOX");
        yes("InBox/%", "INBOX/x");
        no("inbox/X", "INBOX/x");
        no("inboxes", "INBOXES");
        no("a", "A");
        yes("R*", "R&AOk-pertoire");
        // the work is bounded: a pathological pattern answers at once
        let long = "*a".repeat(MAX_PATTERN / 2);
        no(&long, &"a".repeat(300));
    }
}
