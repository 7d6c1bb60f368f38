//! The storage commands of one IMAP session, answered from the store: SELECT and EXAMINE,
//! FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, UID EXPUNGE, CLOSE and APPEND (folder
//! commands go to [`super::folders`]). Every method here does blocking file I/O: the driver
//! calls them under `block_in_place`.
//!
//! As the test application of imap-proto (`crates/imap-proto/tests/support/app.rs`): a
//! session's own new messages, expunges and (unless `.SILENT`) flag changes are handed to
//! the machine before its command completes ([`Mail::deliver`]), so that the machine
//! announces them in the answer.

use std::cell::RefCell;
use std::collections::HashSet;
use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Arc;

use bytes::Bytes;
use imap_proto::command::{CommandBody, FetchAttribute, StoreKind};
use imap_proto::core::Tag;
use imap_proto::datetime::DateTime;
use imap_proto::fetch::{MessageDataItem, Section, binary_content, body_content};
use imap_proto::flag::{Flag, FlagFetch, MailboxAttribute};
use imap_proto::list::List;
use imap_proto::mailbox::Mailbox;
use imap_proto::message::{ParsedMessage, SectionError};
use imap_proto::response::{Code, Delimiter, StatusKind};
use imap_proto::search::mime::StoredMessage;
use imap_proto::search::{self, SearchContext, SearchMessage};
use imap_proto::sequence::{SeqOrUid, Sequence, SequenceSet, UidSet};
use imap_proto::server::{Event, SelectInfo, Server, ServerError};
use imap_proto::view::Change;
use tracing::warn;

use super::folders;
use crate::logsafe::Escaped;
use crate::smtp::Policy;
use crate::store::mailboxes::{
    Account, DELIMITER, FlagSet, Interrupted, MailboxError, MessageMeta, NewMessage, Selected,
    SpecialUse, Stored,
};

/// How many octets of message content one piece of a FETCH answer holds before the driver
/// writes it out: 256 KiB, the machine's output high-water mark.
const FETCH_PIECE: u64 = 256 * 1024;

/// The most messages one MULTIAPPEND stages before it is refused with `NO [LIMIT]`: each is a
/// file on disk until the last arrives.
pub(crate) const MAX_MULTIAPPEND: usize = 1000;

/// How many octets at the start of a message are read to find where its header ends, for a
/// partial `BODY[TEXT]<o.n>` answered from a range of the file ([`ranged_content`]); a
/// message whose header is longer is read whole.
const HEADER_PROBE: u64 = 64 * 1024;

/// How many times the append limit (`--max-message-size`) of content octets one FETCH may
/// put in memory for one message, summed over its content items ([`content_bound`]): two,
/// since an ordinary client asks at most `BODY[HEADER]` and `BODY[TEXT]`, or `BODY[]`, once.
/// A FETCH over it is completed with `NO [LIMIT]`: without it, thousands of distinct items
/// of one large message (`BODY.PEEK[]<0.N> BODY.PEEK[]<1.N> ...`) would be encoded into
/// memory at once. One whole copy of a message is allowed whatever its size.
const FETCH_CONTENT_LIMITS: u64 = 2;

/// The content cap per message when the configuration has no append limit: twice the
/// mail server's default `--max-message-size` of 50 MiB.
const FETCH_CONTENT_CAP: u64 = 2 * 52_428_800;

/// What the driver does after an answer.
pub(crate) enum Step {
    /// The event is answered.
    Done,
    /// A FETCH with more messages to answer once what is queued was written.
    More(Box<FetchJob>),
}

/// A FETCH being answered, in pieces of [`FETCH_PIECE`] octets of content.
pub(crate) struct FetchJob {
    attributes: List<FetchAttribute<'static>>,
    /// (sequence number, UID) of every message named, ascending.
    messages: Vec<(NonZeroU32, NonZeroU32)>,
    /// The next message to answer.
    next: usize,
    /// CHANGEDSINCE: only messages whose mod-sequence is above it (RFC 7162 section 3.1.4).
    changed_since: Option<u64>,
    /// Some messages were expunged meanwhile.
    missing: bool,
    /// A BINARY of a part this server cannot decode.
    unknown_cte: bool,
    /// A message whose content items would exceed the cap ([`FETCH_CONTENT_LIMITS`]): the
    /// FETCH stopped before it.
    over_limit: bool,
    /// Messages this FETCH set `\Seen` on, whose answers carry their new flags (a batch's
    /// store call may precede a piece's end).
    seen: Vec<NonZeroU32>,
}

/// An APPEND in progress: its messages stream to `tmp/` as they arrive.
struct Appending {
    folder: String,
    /// The message receiving data, with its flags and date.
    current: Option<(NewMessage, Vec<Flag<'static>>, Option<DateTime>)>,
    /// Messages received whole, stored together when the command's last is in
    /// (MULTIAPPEND is all or nothing, RFC 3502).
    staged: Vec<(NewMessage, Vec<Flag<'static>>, Option<DateTime>)>,
}

/// One session's mail: the account once logged in, the selected folder, an APPEND.
pub(crate) struct Mail {
    policy: Arc<Policy>,
    peer: std::net::SocketAddr,
    max_pending: usize,
    account: Option<Account>,
    logged_in: bool,
    selected: Option<Selected>,
    /// The UIDs recent to this session in its selected folder, ascending.
    recent: Vec<NonZeroU32>,
    appending: Option<Appending>,
    /// The selected folder's queue overflowed, or the folder is gone: the session must end.
    interrupted: Option<Interrupted>,
}

impl Mail {
    pub(crate) fn new(policy: Arc<Policy>, peer: std::net::SocketAddr, max_pending: usize) -> Self {
        Mail {
            policy,
            peer,
            max_pending,
            account: None,
            logged_in: false,
            selected: None,
            recent: Vec::new(),
            appending: None,
            interrupted: None,
        }
    }

    /// Whether the session logged in.
    pub(crate) fn logged_in(&self) -> bool {
        self.logged_in
    }

    /// The selected folder, if any.
    pub(crate) fn selected(&self) -> Option<&Selected> {
        self.selected.as_ref()
    }

    /// Closes the selected folder in the store (it hears no more changes).
    pub(crate) fn deselect(&mut self) {
        self.selected = None;
        self.recent = Vec::new();
    }

    /// Whether the selected folder's queue overflowed or the folder is gone (once).
    pub(crate) fn take_interrupted(&mut self) -> Option<Interrupted> {
        self.interrupted.take()
    }

    /// Opens the store of the account `user` logged in as (found in any case).
    pub(crate) fn log_in(&mut self, user: &str) {
        self.logged_in = true;
        let Some(address) = self.policy.mailboxes.accounts.lookup(user).cloned() else {
            // The accounts authenticated the name: cannot happen, refused all the same.
            warn!(peer = %self.peer, user = %Escaped(user), "logged in without an account");
            return;
        };
        match self.policy.store.account(&address) {
            // `--quota` holds for APPEND and COPY as for SMTP deliveries.
            Ok(account) => self.account = Some(account.with_quota(self.policy.guards.quota)),
            Err(error) => {
                warn!(peer = %self.peer, account = %address, %error, "cannot open the mailboxes")
            }
        }
    }

    /// Hands the selected folder's queued changes to the machine.
    /// A message that arrived while the folder is selected is `\Recent` to the first
    /// read-write session to hear of it (the store arbitrates), for IMAP4rev1 clients.
    pub(crate) fn deliver(&mut self, server: &mut Server) {
        let Mail {
            selected, recent, ..
        } = self;
        let Some(selected) = selected else {
            return;
        };
        match selected.changes() {
            Ok(changes) => {
                for change in changes {
                    if let Change::Added { uid, .. } = &change {
                        if selected.claim_recent(*uid) {
                            server.mark_recent(*uid);
                            if let Err(at) = recent.binary_search(uid) {
                                recent.insert(at, *uid);
                            }
                        }
                    }
                    if let Err(error) = server.mailbox_changed(change) {
                        // The machine's overflow has queued its BYE; anything else is a
                        // store bug, which the client must not pay for beyond a log line.
                        warn!(peer = %self.peer, %error, "change refused by the view");
                    }
                }
            }
            Err(interrupted) => self.interrupted = Some(interrupted),
        }
    }

    /// Answers `event` (a command or a step of APPEND).
    ///
    /// # Errors
    ///
    /// The machine's misuse error, which a correct answer never sees.
    pub(crate) fn answer(
        &mut self,
        server: &mut Server,
        event: Event,
    ) -> Result<Step, ServerError> {
        match event {
            Event::Command { command, messages } => {
                self.command(server, command.tag, command.body, messages)
            }
            Event::AppendStart {
                mailbox,
                flags,
                date,
                index,
                ..
            } => self
                .append_start(server, &mailbox, flags, date, index)
                .map(done),
            Event::AppendData(piece) => self.append_data(server, &piece).map(done),
            Event::AppendEnd { last, .. } => self.append_end(server, last).map(done),
            Event::AppendAborted { .. } => {
                // The staged files are removed as they drop.
                self.appending = None;
                Ok(Step::Done)
            }
            _ => Ok(Step::Done),
        }
    }

    fn command(
        &mut self,
        server: &mut Server,
        tag: Tag<'static>,
        body: CommandBody<'static>,
        messages: Vec<(NonZeroU32, NonZeroU32)>,
    ) -> Result<Step, ServerError> {
        let Some(account) = self.account.clone() else {
            return no(server, Some(Code::Unavailable), "Mailboxes unavailable").map(done);
        };
        if folders::is_folder_command(&body) {
            let selected = self.selected.as_ref().map(|s| s.name().to_owned());
            folders::answer(&account, server, &tag, body, selected.as_deref())?;
            // A STATUS or RENAME of the selected folder may have queued changes for it.
            self.deliver(server);
            return Ok(Step::Done);
        }
        match body {
            CommandBody::Select { mailbox, .. } => self.select(server, &account, &mailbox, false),
            CommandBody::Examine { mailbox, .. } => self.select(server, &account, &mailbox, true),
            CommandBody::Fetch {
                items,
                changed_since,
                ..
            } => {
                // Exact duplicates answered once: an ordinary client never repeats an item,
                // and each copy of a content item would be another copy in memory.
                let mut distinct = HashSet::new();
                let attributes = items
                    .expand()
                    .into_vec()
                    .into_iter()
                    .filter(|a| distinct.insert(a.clone()))
                    .collect();
                let mut job = Box::new(FetchJob {
                    attributes,
                    messages,
                    next: 0,
                    changed_since: changed_since.map(|m| m.get()),
                    missing: false,
                    seen: Vec::new(),
                    unknown_cte: false,
                    over_limit: false,
                });
                if self.fetch_more(server, &mut job)? {
                    Ok(Step::Done)
                } else {
                    Ok(Step::More(job))
                }
            }
            CommandBody::Store {
                uid,
                unchanged_since,
                kind,
                silent,
                flags,
                ..
            } => {
                let flags: Vec<Flag<'static>> = flags.iter().cloned().collect();
                let since = unchanged_since.map(|m| m.get());
                self.store(server, &messages, uid, kind, silent, &flags, since)
                    .map(done)
            }
            CommandBody::Search {
                uid,
                return_options,
                charset,
                criteria,
            } => {
                let Some(selected) = &self.selected else {
                    return no(server, None, "No mailbox selected").map(done);
                };
                let uids: Vec<NonZeroU32> = messages.iter().map(|&(_, uid)| uid).collect();
                let last_read = RefCell::new(None);
                let mut candidates: Vec<(NonZeroU32, Candidate<'_>)> =
                    Vec::with_capacity(messages.len());
                // What the index knows, copied out under its lock (no path): the keys that
                // read a file do so after it is released.
                let mut seqs = messages.iter().map(|&(seq, _)| seq);
                selected.with_metas(&uids, |uid, meta| {
                    let seq = seqs.next();
                    if let (Some(seq), Some(meta)) = (seq, meta) {
                        candidates.push((
                            seq,
                            Candidate {
                                uid,
                                flags: meta.flag_set(),
                                internal_date: meta.internal_date(),
                                size: meta.size(),
                                modseq: meta.modseq(),
                                recent: self.recent.binary_search(&uid).is_ok(),
                                selected,
                                last_read: &last_read,
                            },
                        ));
                    }
                });
                let ctx = SearchContext {
                    exists: server.view().map_or(0, |v| v.exists()),
                    largest_uid: server.view().and_then(|v| v.largest_uid()),
                    saved: server.saved_search(),
                };
                let result = search::search(
                    charset.as_ref(),
                    &criteria,
                    candidates
                        .iter()
                        .map(|(seq, c)| (*seq, c as &dyn SearchMessage)),
                    &ctx,
                );
                drop(candidates);
                match result {
                    Ok(result) => {
                        match &return_options {
                            // RFC 9051 section 7.3.4: an IMAP4rev2 session gets ESEARCH for
                            // a SEARCH without RETURN too.
                            None if server.enabled().imap4rev2 => {
                                if let Some(data) = result.to_esearch(Some(&tag), uid, &[]) {
                                    server.respond(data)?;
                                }
                            }
                            None => server.respond(result.to_search_data(uid))?,
                            Some(options) => {
                                if let Some(saved) = result.saved(options) {
                                    server.save_search_result(saved);
                                }
                                if let Some(data) = result.to_esearch(Some(&tag), uid, options) {
                                    server.respond(data)?;
                                }
                            }
                        }
                        server.complete(StatusKind::Ok, None, "SEARCH completed")?;
                    }
                    Err(error) => {
                        let kind = if error.code().is_some() {
                            StatusKind::No
                        } else {
                            StatusKind::Bad
                        };
                        server.complete(kind, error.code(), &error.to_string())?;
                    }
                }
                Ok(Step::Done)
            }
            CommandBody::Copy { mailbox, .. } => {
                self.copy(server, &messages, &mailbox, false).map(done)
            }
            CommandBody::Move { mailbox, .. } => {
                self.copy(server, &messages, &mailbox, true).map(done)
            }
            CommandBody::Expunge | CommandBody::Close => {
                let closing = matches!(body, CommandBody::Close);
                if let Some(selected) = &self.selected {
                    if !server.is_read_only() {
                        if let Err(error) = selected.expunge(None) {
                            return self.failed(server, error, "EXPUNGE").map(done);
                        }
                    }
                }
                if closing {
                    // CLOSE announces nothing: the folder is closed with it.
                    self.deselect();
                    server.complete(StatusKind::Ok, None, "CLOSE completed")?;
                } else {
                    self.deliver(server);
                    server.complete(StatusKind::Ok, None, "EXPUNGE completed")?;
                }
                Ok(Step::Done)
            }
            CommandBody::UidExpunge { .. } => {
                if let Some(selected) = &self.selected {
                    let uids: Vec<NonZeroU32> = messages.iter().map(|&(_, uid)| uid).collect();
                    if let Err(error) = selected.expunge(Some(&uids)) {
                        return self.failed(server, error, "UID EXPUNGE").map(done);
                    }
                }
                self.deliver(server);
                server
                    .complete(StatusKind::Ok, None, "UID EXPUNGE completed")
                    .map(done)
            }
            CommandBody::Check => {
                self.deliver(server);
                server
                    .complete(StatusKind::Ok, None, "CHECK completed")
                    .map(done)
            }
            CommandBody::Noop => {
                self.deliver(server);
                server
                    .complete(StatusKind::Ok, None, "NOOP completed")
                    .map(done)
            }
            _ => no(server, Some(Code::Cannot), "Not supported by this server").map(done),
        }
    }

    /// SELECT or EXAMINE `mailbox`.
    fn select(
        &mut self,
        server: &mut Server,
        account: &Account,
        mailbox: &Mailbox<'static>,
        read_only: bool,
    ) -> Result<Step, ServerError> {
        // The folder selected before is closed whatever happens (RFC 9051 section 6.3.2).
        self.deselect();
        let name = match folders::session_folder_name(server, mailbox) {
            Ok(name) => name,
            Err(reason) => return no(server, Some(Code::NonExistent), reason).map(done),
        };
        let selected = match account.select(&name, read_only, self.max_pending) {
            Ok(selected) => selected,
            Err(error) => return self.failed(server, error, "SELECT").map(done),
        };
        let snapshot = selected.snapshot();
        let mut info = SelectInfo::new(selected.flags());
        if read_only || selected.read_only() {
            info = info.read_only();
        }
        info.delimiter = Delimiter::new(DELIMITER).ok();
        info.attributes = selected.special_use().map(attribute).into_iter().collect();
        self.recent = selected.recent().to_vec();
        self.recent.sort_unstable();
        info.recent = u32::try_from(self.recent.len()).unwrap_or(u32::MAX);
        info.recent_uids = self.recent.clone();
        // OK [UNSEEN n]: the first message without \Seen.
        info.unseen = selected.first_unseen();
        server.selected(snapshot, info)?;
        self.selected = Some(selected);
        // Changes since the snapshot, announced by the next command (or at once in IDLE).
        self.deliver(server);
        Ok(Step::Done)
    }

    /// Answers the next piece of `job`; `true` once the FETCH is completed.
    ///
    /// # Errors
    ///
    /// The machine's misuse error.
    pub(crate) fn fetch_more(
        &mut self,
        server: &mut Server,
        job: &mut FetchJob,
    ) -> Result<bool, ServerError> {
        let Some(selected) = &self.selected else {
            no(server, None, "No mailbox selected")?;
            return Ok(true);
        };
        let read_only = server.is_read_only();
        let rev2 = server.enabled().imap4rev2;
        let condstore = server.enabled().condstore;
        let needs_content = job.attributes.iter().any(|a| {
            !matches!(
                a,
                FetchAttribute::Flags
                    | FetchAttribute::Uid
                    | FetchAttribute::InternalDate
                    | FetchAttribute::Rfc822Size
                    | FetchAttribute::ModSeq
            )
        });
        let sets_seen = !read_only
            && job.attributes.iter().any(|a| {
                matches!(
                    a,
                    FetchAttribute::BodySection { peek: false, .. }
                        | FetchAttribute::Binary { peek: false, .. }
                        | FetchAttribute::Rfc822
                        | FetchAttribute::Rfc822Text
                )
            });
        if !needs_content {
            // Nothing read from the files, nothing stored: metadata borrowed in batches
            // under one lock each, nothing copied per message.
            while job.next < job.messages.len() {
                let end = job.messages.len().min(job.next + 4096);
                let uids: Vec<NonZeroU32> = job.messages[job.next..end]
                    .iter()
                    .map(|&(_, uid)| uid)
                    .collect();
                job.next = end;
                let recent = &self.recent;
                let mut sent = Ok(());
                selected.with_metas(&uids, |uid, meta| {
                    let Some(meta) = meta else {
                        job.missing = true;
                        return;
                    };
                    if sent.is_err()
                        || job
                            .changed_since
                            .is_some_and(|since| meta.modseq().get() <= since)
                    {
                        return;
                    }
                    let mut items: Vec<MessageDataItem<'_>> =
                        Vec::with_capacity(job.attributes.len() + 1);
                    for attribute in job.attributes.iter() {
                        items.push(match attribute {
                            FetchAttribute::Flags => {
                                let mut list: List<FlagFetch<'_>, 2> =
                                    meta.flags().into_iter().map(FlagFetch::Flag).collect();
                                if !rev2 && recent.binary_search(&uid).is_ok() {
                                    list.push(FlagFetch::Recent);
                                }
                                MessageDataItem::Flags(list)
                            }
                            FetchAttribute::InternalDate => {
                                MessageDataItem::InternalDate(meta.internal_date())
                            }
                            FetchAttribute::Rfc822Size => MessageDataItem::Rfc822Size(meta.size()),
                            FetchAttribute::ModSeq => MessageDataItem::ModSeq(meta.modseq()),
                            FetchAttribute::Uid => MessageDataItem::Uid(uid),
                            // Not reached: `needs_content` is false.
                            _ => continue,
                        });
                    }
                    // RFC 7162 section 3.1.4.1: CHANGEDSINCE implies MODSEQ.
                    if job.changed_since.is_some()
                        && !items
                            .iter()
                            .any(|i| matches!(i, MessageDataItem::ModSeq(_)))
                    {
                        items.push(MessageDataItem::ModSeq(meta.modseq()));
                    }
                    if !items.is_empty() {
                        sent = server.fetch(uid, items);
                    }
                });
                sent?;
            }
        }
        // Partial sections that are octet ranges of the file are read as such, not whole.
        let ranged = needs_content && job.attributes.iter().all(is_ranged);
        let cap = server.config().append_limit.map_or(FETCH_CONTENT_CAP, |l| {
            l.saturating_mul(FETCH_CONTENT_LIMITS)
        });
        // Metadata in batches under one lock each; content one message at a time.
        let batch = 64;
        let mut content = 0u64;
        while job.next < job.messages.len() {
            let end = job.messages.len().min(job.next + batch);
            let uids: Vec<NonZeroU32> = job.messages[job.next..end]
                .iter()
                .map(|&(_, uid)| uid)
                .collect();
            // CHANGEDSINCE: messages at or below it are left out (a `None` is one expunged
            // meanwhile, answered as missing).
            let mut metas: Vec<(NonZeroU32, Option<MessageMeta>)> = uids
                .iter()
                .copied()
                .zip(selected.metas(&uids))
                .filter(|(_, meta)| {
                    !meta.as_ref().is_some_and(|m| {
                        job.changed_since
                            .is_some_and(|since| m.modseq.get() <= since)
                    })
                })
                .collect();
            // The first message whose content items would put more than the cap in memory:
            // the FETCH ends before it (and sets no \Seen on it).
            let over = metas.iter().position(|(_, meta)| {
                meta.as_ref()
                    .is_some_and(|m| content_bound(&job.attributes, m.size) > cap.max(m.size))
            });
            if let Some(over) = over {
                if let Some((uid, Some(meta))) = metas.get(over) {
                    if !job.over_limit {
                        warn!(
                            peer = %self.peer,
                            uid = uid.get(),
                            size = meta.size,
                            bound = content_bound(&job.attributes, meta.size),
                            cap,
                            "FETCH refused: its items would hold too much of one message"
                        );
                    }
                }
                metas.truncate(over);
                job.over_limit = true;
            }
            let start = job.next;
            // Only this batch's: the earlier messages are answered.
            job.seen.retain(|u| uids.contains(u));
            // RFC 3501 section 6.4.5: fetching a body section sets \Seen, and the answer
            // carries the new flags; other sessions hear of it from the store. One store
            // call for the batch's unseen messages, not one per message.
            if sets_seen {
                let unseen: Vec<NonZeroU32> = metas
                    .iter()
                    .filter_map(|(uid, meta)| {
                        meta.as_ref()
                            .filter(|m| !m.flags.contains(&Flag::Seen))
                            .map(|_| *uid)
                    })
                    .collect();
                if !unseen.is_empty() {
                    match selected.store(&unseen, StoreKind::Add, &[Flag::Seen], None, false) {
                        Ok(stored) => {
                            for stored in stored {
                                let Stored::Changed { uid, flags, modseq } = stored else {
                                    continue;
                                };
                                let found = metas
                                    .iter_mut()
                                    .find_map(|(u, meta)| meta.as_mut().filter(|_| *u == uid));
                                if let Some(meta) = found {
                                    meta.flags = flags;
                                    meta.modseq = modseq;
                                    job.seen.push(uid);
                                }
                            }
                        }
                        Err(error) => warn!(peer = %self.peer, %error, "cannot set \\Seen"),
                    }
                }
            }
            for (uid, meta) in metas {
                // Past this message: a piece may end after it.
                job.next = uids
                    .iter()
                    .position(|u| *u == uid)
                    .map_or(end, |i| start + i + 1);
                let Some(meta) = meta else {
                    job.missing = true;
                    continue;
                };
                let raw = if needs_content && !ranged {
                    match selected.read(uid) {
                        Ok(Some(raw)) => Some(raw),
                        Ok(None) => {
                            job.missing = true;
                            continue;
                        }
                        Err(error) => {
                            warn!(peer = %self.peer, %error, "cannot read a message");
                            job.missing = true;
                            continue;
                        }
                    }
                } else {
                    None
                };
                let seen_now = job.seen.contains(&uid);
                let parsed = raw.as_deref().map(ParsedMessage::parse);
                let mut items: Vec<MessageDataItem<'_>> =
                    Vec::with_capacity(job.attributes.len() + 2);
                // Expunged between the metadata and the file read: skipped, as on the
                // whole-message path.
                let mut vanished = false;
                for attribute in job.attributes.iter() {
                    let item = match attribute {
                        FetchAttribute::Flags => Some(self.flags_item(&meta, rev2)),
                        FetchAttribute::Uid => Some(MessageDataItem::Uid(uid)),
                        FetchAttribute::InternalDate => {
                            Some(MessageDataItem::InternalDate(meta.internal_date))
                        }
                        FetchAttribute::Rfc822Size => Some(MessageDataItem::Rfc822Size(meta.size)),
                        FetchAttribute::ModSeq => Some(MessageDataItem::ModSeq(meta.modseq)),
                        other if ranged => match ranged_content(selected, uid, other, HEADER_PROBE)
                        {
                            Ok(Some((item, octets))) => {
                                content += octets;
                                Some(item)
                            }
                            Ok(None) => {
                                vanished = true;
                                None
                            }
                            Err(error) => {
                                warn!(peer = %self.peer, %error, "cannot read a message");
                                vanished = true;
                                None
                            }
                        },
                        other => match parsed.as_ref().map(|p| p.fetch(other)) {
                            Some(Ok(item)) => item,
                            Some(Err(SectionError::UnknownCte { .. })) => {
                                job.unknown_cte = true;
                                None
                            }
                            Some(Err(_)) | None => None,
                        },
                    };
                    items.extend(item);
                }
                if vanished {
                    job.missing = true;
                    continue;
                }
                if seen_now && !items.iter().any(|i| matches!(i, MessageDataItem::Flags(_))) {
                    items.push(self.flags_item(&meta, rev2));
                }
                // RFC 7162 section 3.1.4.1: CHANGEDSINCE implies MODSEQ; once CONDSTORE is on,
                // a FETCH that changed flags reports the new mod-sequence.
                let with_modseq = job.changed_since.is_some() || (condstore && seen_now);
                if with_modseq
                    && !items
                        .iter()
                        .any(|i| matches!(i, MessageDataItem::ModSeq(_)))
                {
                    items.push(MessageDataItem::ModSeq(meta.modseq));
                }
                if items.is_empty() {
                    continue;
                }
                server.fetch(uid, items)?;
                content += raw.as_ref().map_or(0, |r| r.len() as u64);
                // Checked after every message: at most one message beyond a piece waits
                // to be written, however large the messages of a batch.
                if content >= FETCH_PIECE && job.next < job.messages.len() {
                    return Ok(false);
                }
            }
            if job.over_limit {
                break;
            }
            job.next = end;
        }
        self.deliver(server);
        if job.over_limit {
            no(
                server,
                Some(Code::Limit),
                "Too much of one message asked in one FETCH",
            )?;
        } else if job.unknown_cte {
            no(
                server,
                Some(Code::UnknownCte),
                "A part has a Content-Transfer-Encoding this server cannot decode",
            )?;
        } else if job.missing {
            // RFC 2180 section 4.1.2, RFC 5530: the rest was answered.
            no(
                server,
                Some(Code::ExpungeIssued),
                "Some of the requested messages no longer exist",
            )?;
        } else {
            server.complete(StatusKind::Ok, None, "FETCH completed")?;
        }
        Ok(true)
    }

    /// The FLAGS item of a message, with `\Recent` for an IMAP4rev1 session it is recent to.
    fn flags_item<'x>(&self, meta: &MessageMeta, rev2: bool) -> MessageDataItem<'x> {
        let mut list: List<FlagFetch<'x>, 2> =
            meta.flags.iter().cloned().map(FlagFetch::Flag).collect();
        if !rev2 && self.recent.binary_search(&meta.uid).is_ok() {
            list.push(FlagFetch::Recent);
        }
        MessageDataItem::Flags(list)
    }

    /// STORE and UID STORE, with CONDSTORE's UNCHANGEDSINCE.
    #[allow(clippy::too_many_arguments)]
    fn store(
        &mut self,
        server: &mut Server,
        messages: &[(NonZeroU32, NonZeroU32)],
        by_uid: bool,
        kind: StoreKind,
        silent: bool,
        flags: &[Flag<'static>],
        unchanged_since: Option<u64>,
    ) -> Result<(), ServerError> {
        let Some(selected) = &self.selected else {
            return no(server, None, "No mailbox selected");
        };
        let condstore = server.enabled().condstore;
        let uids: Vec<NonZeroU32> = messages.iter().map(|&(_, uid)| uid).collect();
        let seq_of = |uid: NonZeroU32| {
            messages
                .binary_search_by_key(&uid, |&(_, u)| u)
                .ok()
                .and_then(|i| messages.get(i))
                .map_or(uid, |&(seq, _)| seq)
        };
        let mut modified = Vec::new();
        let results = match unchanged_since {
            // UNCHANGEDSINCE 0: every message has a mod-sequence above it (RFC 7162 3.1.3).
            Some(0) => {
                modified = uids.clone();
                Vec::new()
            }
            since => {
                match selected.store(&uids, kind, flags, since.and_then(NonZeroU64::new), !silent) {
                    Ok(results) => results,
                    Err(error) => return self.failed(server, error, "STORE"),
                }
            }
        };
        for result in results {
            match result {
                Stored::Unchanged { uid, flags, modseq } if !silent => {
                    // Nothing changed, so nothing is announced: answered here.
                    let meta_flags = self.flags_of(uid, flags, server.enabled().imap4rev2);
                    let mut items = vec![meta_flags];
                    if condstore {
                        items.push(MessageDataItem::ModSeq(modseq));
                    }
                    server.fetch(uid, items)?;
                }
                Stored::Changed { uid, modseq, .. } if silent && condstore => {
                    // RFC 7162 section 3.1.3: .SILENT still reports the new mod-sequence.
                    server.fetch(uid, vec![MessageDataItem::ModSeq(modseq)])?;
                }
                Stored::Modified(uid) => modified.push(uid),
                _ => {}
            }
        }
        self.deliver(server);
        // RFC 7162 section 3.1.3: sequence numbers, or UIDs for UID STORE.
        let modified: Vec<NonZeroU32> = modified
            .into_iter()
            .map(|uid| if by_uid { uid } else { seq_of(uid) })
            .collect();
        match uid_set(&modified) {
            Some(set) => server.complete(
                StatusKind::Ok,
                Some(Code::Modified(set.into_sequence_set())),
                "Conditional STORE failed",
            ),
            None => server.complete(StatusKind::Ok, None, "STORE completed"),
        }
    }

    fn flags_of(
        &self,
        uid: NonZeroU32,
        flags: Vec<Flag<'static>>,
        rev2: bool,
    ) -> MessageDataItem<'static> {
        let mut list: List<FlagFetch<'static>, 2> =
            flags.into_iter().map(FlagFetch::Flag).collect();
        if !rev2 && self.recent.binary_search(&uid).is_ok() {
            list.push(FlagFetch::Recent);
        }
        MessageDataItem::Flags(list)
    }

    /// COPY or MOVE (and their UID forms) with COPYUID (RFC 4315, RFC 6851).
    fn copy(
        &mut self,
        server: &mut Server,
        messages: &[(NonZeroU32, NonZeroU32)],
        mailbox: &Mailbox<'static>,
        moving: bool,
    ) -> Result<(), ServerError> {
        let Some(selected) = &self.selected else {
            return no(server, None, "No mailbox selected");
        };
        // Leniently decoded: a name in neither encoding names no folder (TRYCREATE).
        let target = folders::folder_name(mailbox);
        let uids: Vec<NonZeroU32> = messages.iter().map(|&(_, uid)| uid).collect();
        let copied = if moving {
            selected.move_to(&uids, &target)
        } else {
            selected.copy(&uids, &target)
        };
        let copied = match copied {
            Ok(copied) => copied,
            Err(MailboxError::NoSuchMailbox) => {
                return no(server, Some(Code::TryCreate), "No such mailbox");
            }
            Err(error) => return self.failed(server, error, if moving { "MOVE" } else { "COPY" }),
        };
        let code = match (uid_set(&copied.source), uid_set(&copied.destination)) {
            (Some(source), Some(destination)) => Some(Code::CopyUid {
                uid_validity: copied.uid_validity,
                source,
                destination,
            }),
            _ => None,
        };
        if moving {
            // RFC 6851 section 4.3: COPYUID in an untagged OK before the expunges.
            if code.is_some() {
                server.respond_status(StatusKind::Ok, code, "Moved")?;
            }
            self.deliver(server);
            return server.complete(StatusKind::Ok, None, "MOVE completed");
        }
        self.deliver(server);
        server.complete(StatusKind::Ok, code, "COPY completed")
    }

    fn append_start(
        &mut self,
        server: &mut Server,
        mailbox: &Mailbox<'static>,
        flags: Vec<Flag<'static>>,
        date: Option<DateTime>,
        index: usize,
    ) -> Result<(), ServerError> {
        let Some(account) = &self.account else {
            self.appending = None;
            return no(server, Some(Code::Unavailable), "Mailboxes unavailable");
        };
        // As COPY's target: a name in neither encoding names no folder (TRYCREATE).
        let folder = folders::folder_name(mailbox);
        if index == 0 {
            self.appending = None;
        }
        if index >= MAX_MULTIAPPEND {
            // The staged messages are removed with it.
            self.appending = None;
            return no(server, Some(Code::Limit), "Too many messages in one APPEND");
        }
        let message = match account.new_message() {
            Ok(message) => message,
            Err(error) => {
                self.appending = None;
                return self.failed(server, error, "APPEND");
            }
        };
        let appending = self.appending.get_or_insert_with(|| Appending {
            folder: folder.clone(),
            current: None,
            staged: Vec::new(),
        });
        appending.folder = folder;
        appending.current = Some((message, flags, date));
        server.accept_append()
    }

    fn append_data(&mut self, server: &mut Server, piece: &[u8]) -> Result<(), ServerError> {
        let Some((message, _, _)) = self.appending.as_mut().and_then(|a| a.current.as_mut()) else {
            return Ok(());
        };
        if let Err(error) = message.write(piece) {
            // The rest of the data is skipped; what was written is removed with it.
            self.appending = None;
            return self.failed(server, MailboxError::Io(error), "APPEND");
        }
        // The whole command against the quota as the data arrives: a MULTIAPPEND that cannot
        // fit even in an empty account stages no more.
        if let (Some(quota), Some(appending)) = (self.policy.guards.quota, &self.appending) {
            let current = appending.current.as_ref().map_or(0, |(m, _, _)| m.size());
            let staged: u64 = appending.staged.iter().map(|(m, _, _)| m.size()).sum();
            if current.saturating_add(staged) > quota {
                self.appending = None;
                return self.failed(server, MailboxError::OverQuota, "APPEND");
            }
        }
        Ok(())
    }

    fn append_end(&mut self, server: &mut Server, last: bool) -> Result<(), ServerError> {
        let Some(appending) = &mut self.appending else {
            return Ok(());
        };
        if let Some(mut current) = appending.current.take() {
            // Closed now: a long MULTIAPPEND holds no open file per message.
            if let Err(error) = current.0.close() {
                self.appending = None;
                return self.failed(server, MailboxError::Io(error), "APPEND");
            }
            appending.staged.push(current);
        }
        if !last {
            return Ok(());
        }
        let Some(appending) = self.appending.take() else {
            return Ok(());
        };
        let Some(account) = &self.account else {
            return no(server, Some(Code::Unavailable), "Mailboxes unavailable");
        };
        // Written, fsynced, indexed and announced before this returns: the tagged OK below
        // promises a durable message.
        match account.append(&appending.folder, appending.staged) {
            Ok(appended) => {
                self.deliver(server);
                server.append_done(appended.uid_validity, &appended.uids)
            }
            Err(MailboxError::NoSuchMailbox) => {
                no(server, Some(Code::TryCreate), "No such mailbox")
            }
            Err(error) => self.failed(server, error, "APPEND"),
        }
    }

    /// `NO` with the code `error` calls for; file-system errors are logged, not shown.
    fn failed(
        &self,
        server: &mut Server,
        error: MailboxError,
        command: &str,
    ) -> Result<(), ServerError> {
        let (code, text) = match &error {
            MailboxError::NoSuchMailbox => (Some(Code::NonExistent), "No such mailbox"),
            MailboxError::AlreadyExists => (Some(Code::AlreadyExists), "Mailbox already exists"),
            MailboxError::BadName(_) => (Some(Code::Cannot), "Mailbox name not allowed"),
            MailboxError::Cannot(_) => (Some(Code::Cannot), "Not possible for this mailbox"),
            MailboxError::OverQuota => (Some(Code::OverQuota), "Quota exceeded"),
            MailboxError::UidsExhausted => (Some(Code::Limit), "No UIDs left in this mailbox"),
            MailboxError::Limit(reason) => (Some(Code::Limit), *reason),
            MailboxError::TooManyKeywords => {
                (Some(Code::Limit), "Too many keywords in this mailbox")
            }
            MailboxError::Io(_) => {
                warn!(peer = %self.peer, command, %error, "store failure");
                (Some(Code::ServerBug), "Internal error, try again later")
            }
        };
        no(server, code, text)
    }
}

fn done(_: ()) -> Step {
    Step::Done
}

fn no(server: &mut Server, code: Option<Code<'static>>, text: &str) -> Result<(), ServerError> {
    server.complete(StatusKind::No, code, text)
}

/// The LIST attribute of a special use (RFC 6154).
fn attribute(special: SpecialUse) -> MailboxAttribute<'static> {
    match special {
        SpecialUse::Sent => MailboxAttribute::Sent,
        SpecialUse::Drafts => MailboxAttribute::Drafts,
        SpecialUse::Trash => MailboxAttribute::Trash,
        SpecialUse::Junk => MailboxAttribute::Junk,
        SpecialUse::Archive => MailboxAttribute::Archive,
    }
}

/// A compact UID set (runs as ranges), `None` for no UID.
fn uid_set(uids: &[NonZeroU32]) -> Option<UidSet> {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut items: List<Sequence> = List::new();
    let mut run: Option<(NonZeroU32, NonZeroU32)> = None;
    for uid in sorted {
        run = match run {
            Some((a, b)) if b.checked_add(1) == Some(uid) => Some((a, uid)),
            Some((a, b)) => {
                items.push(run_item(a, b));
                Some((uid, uid))
            }
            None => Some((uid, uid)),
        };
    }
    if let Some((a, b)) = run {
        items.push(run_item(a, b));
    }
    UidSet::new(SequenceSet::new(items).ok()?).ok()
}

fn run_item(a: NonZeroU32, b: NonZeroU32) -> Sequence {
    if a == b {
        Sequence::Single(SeqOrUid::Value(a))
    } else {
        Sequence::Range(SeqOrUid::Value(a), SeqOrUid::Value(b))
    }
}

/// At most how many octets of content `attributes` copy into the answer for a message of
/// `size` octets: per `BODY[...]`, `BINARY[...]` and `RFC822*` item, its partial length if
/// partial, else the size (no section is larger than the message, no decoded part larger
/// than its encoding); nothing for the others.
fn content_bound(attributes: &[FetchAttribute<'_>], size: u64) -> u64 {
    attributes
        .iter()
        .map(|attribute| match attribute {
            FetchAttribute::BodySection { partial, .. }
            | FetchAttribute::Binary { partial, .. } => {
                partial.map_or(size, |p| size.min(p.length.get()))
            }
            FetchAttribute::Rfc822 | FetchAttribute::Rfc822Text | FetchAttribute::Rfc822Header => {
                size
            }
            _ => 0,
        })
        .fold(0, u64::saturating_add)
}

/// Whether `attribute` reads nothing from the file, or an octet range of it that
/// [`ranged_content`] reads alone: `BODY[]<o.n>` and `BINARY[]<o.n>` (the whole message's
/// octets as stored: RFC 3516 leaves `BINARY[]` undecoded, as `ParsedMessage::binary`
/// does), and `BODY[TEXT]<o.n>` (the octets after the header).
fn is_ranged(attribute: &FetchAttribute<'_>) -> bool {
    matches!(
        attribute,
        FetchAttribute::Flags
            | FetchAttribute::Uid
            | FetchAttribute::InternalDate
            | FetchAttribute::Rfc822Size
            | FetchAttribute::ModSeq
            | FetchAttribute::BodySection {
                section: None | Some(Section::Text(None)),
                partial: Some(_),
                ..
            }
            | FetchAttribute::Binary {
                part: None,
                partial: Some(_),
                ..
            }
    )
}

/// The answer to a partial `BODY[]`, `BINARY[]` or `BODY[TEXT]` ([`is_ranged`]) of message
/// `uid`, read from the octets it names (for `TEXT`, also the first `probe` octets, where
/// the header must end; otherwise the message is read whole), with how many octets it
/// carries. The same octets as `ParsedMessage::fetch` of the whole message gives. `None`:
/// expunged, or not such an attribute.
fn ranged_content<'x>(
    selected: &Selected,
    uid: NonZeroU32,
    attribute: &FetchAttribute<'_>,
    probe: u64,
) -> Result<Option<(MessageDataItem<'x>, u64)>, MailboxError> {
    let (text, partial, binary) = match attribute {
        FetchAttribute::BodySection {
            section,
            partial: Some(partial),
            ..
        } => match section {
            None => (false, *partial, false),
            Some(Section::Text(None)) => (true, *partial, false),
            Some(_) => return Ok(None),
        },
        FetchAttribute::Binary {
            part: None,
            partial: Some(partial),
            ..
        } => (false, *partial, true),
        _ => return Ok(None),
    };
    let length = partial.length.get();
    let data = if text {
        let Some((head, total)) = selected.read_range(uid, 0, probe)? else {
            return Ok(None);
        };
        match header_end(&head, total) {
            Some(end) => {
                match selected.read_range(uid, end.saturating_add(partial.start), length)? {
                    Some((data, _)) => data,
                    None => return Ok(None),
                }
            }
            // The header does not end within the probe: the message parsed whole.
            None => {
                let Some(raw) = selected.read(uid)? else {
                    return Ok(None);
                };
                let section = Section::Text(None);
                ParsedMessage::parse(&raw)
                    .section(Some(&section), Some(partial))
                    .map(|data| data.into_owned())
                    .unwrap_or_default()
            }
        }
    } else {
        match selected.read_range(uid, partial.start, length)? {
            Some((data, _)) => data,
            None => return Ok(None),
        }
    };
    let octets = data.len() as u64;
    let origin = Some(u32::try_from(partial.start).unwrap_or(u32::MAX));
    let item = if binary {
        MessageDataItem::Binary {
            section: None,
            origin,
            data: binary_content(data),
        }
    } else {
        MessageDataItem::BodySection {
            section: text.then(|| Box::new(Section::Text(None))),
            origin,
            data: body_content(data),
        }
    };
    Ok(Some((item, octets)))
}

/// Where the header of the message whose first octets are `head` (of `total`) ends, as
/// `ParsedMessage` finds it, when `head` shows it for certain: all of the message is in
/// `head`, or the header `head` parses to ends with an empty line before `head` does (what
/// follows cannot change it). `None`: only the whole message tells.
fn header_end(head: &[u8], total: u64) -> Option<u64> {
    let parsed = ParsedMessage::parse(head);
    let header = parsed.section(Some(&Section::Header(None)), None).ok()?;
    let ends_blank = header.ends_with(b"\n\n")
        || header.ends_with(b"\n\r\n")
        || &*header == b"\r\n"
        || &*header == b"\n";
    if head.len() as u64 == total || (ends_blank && header.len() < head.len()) {
        Some(header.len() as u64)
    } else {
        None
    }
}

/// A message SEARCH looks at: what the index knows at once, its content read from disk only
/// when a key needs it (header fields, text). The search evaluates one message at a time, so
/// the candidates share one slot holding the message read last: the keys of a message read
/// its file once, and a search holds one message's octets at a time, whatever the folder's
/// size.
struct Candidate<'s> {
    uid: NonZeroU32,
    /// As the index keeps them: the list of flags is made only for a key that reads the
    /// message (`StoredMessage` takes one), not for each message a flag key asks about.
    flags: FlagSet,
    internal_date: DateTime,
    size: u64,
    modseq: NonZeroU64,
    recent: bool,
    selected: &'s Selected,
    last_read: &'s RefCell<Option<(NonZeroU32, Bytes)>>,
}

impl Candidate<'_> {
    /// Runs `f` over the message parsed, `None` when it cannot be read.
    fn with_parsed<T>(&self, f: impl FnOnce(&StoredMessage<'_, '_>) -> T) -> Option<T> {
        let uid = self.uid;
        let raw = {
            let mut slot = self.last_read.borrow_mut();
            match &*slot {
                Some((read, raw)) if *read == uid => raw.clone(),
                _ => {
                    let raw = self.selected.read(uid).ok().flatten()?;
                    *slot = Some((uid, raw.clone()));
                    raw
                }
            }
        };
        let parsed = ParsedMessage::parse(&raw);
        let flags = self.flags.to_list();
        let mut stored = StoredMessage::new(&parsed, uid, self.internal_date);
        stored.flags = &flags;
        stored.recent = self.recent;
        stored.size = self.size;
        stored.modseq = Some(self.modseq);
        Some(f(&stored))
    }
}

impl SearchMessage for Candidate<'_> {
    fn uid(&self) -> NonZeroU32 {
        self.uid
    }

    fn has_flag(&self, flag: &Flag<'_>) -> bool {
        self.flags.contains(flag)
    }

    fn is_recent(&self) -> bool {
        self.recent
    }

    fn internal_date(&self) -> DateTime {
        self.internal_date
    }

    fn sent_date(&self) -> Option<imap_proto::datetime::Date> {
        self.with_parsed(|m| m.sent_date()).flatten()
    }

    fn size(&self) -> u64 {
        self.size
    }

    fn modseq(&self) -> Option<NonZeroU64> {
        Some(self.modseq)
    }

    fn header_values(&self, name: &str) -> Vec<std::borrow::Cow<'_, str>> {
        self.with_parsed(|m| {
            m.header_values(name)
                .into_iter()
                .map(|v| std::borrow::Cow::Owned(v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
    }

    fn header_text_contains(&self, needle: &str) -> bool {
        self.with_parsed(|m| m.header_text_contains(needle))
            .unwrap_or(false)
    }

    fn body_contains(&self, needle: &str) -> bool {
        self.with_parsed(|m| m.body_contains(needle))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Address;
    use crate::accounts::tests::TempDir;
    use crate::store::Store;
    use imap_proto::fetch::Partial;
    use std::num::NonZeroU64;

    /// Messages of several shapes: CRLF and bare LF, an empty header, no empty line, a
    /// multipart, a long header, NUL and 8-bit octets in the body.
    fn messages() -> Vec<Vec<u8>> {
        let mut long = b"Subject: long\r\n".to_vec();
        for i in 0..40 {
            long.extend(format!("X-Field-{i}: {}\r\n", "v".repeat(30)).as_bytes());
        }
        long.extend(b"\r\nthe body\r\n".iter().cycle().take(600));
        vec![
            b"Subject: one\r\nFrom: a@b.example\r\n\r\nHello\r\nWorld\r\n".to_vec(),
            b"Subject: lf\nFrom: a@b.example\n\nbare\nline feeds\n".to_vec(),
            b"\r\nno header, all body\r\n".to_vec(),
            b"Subject: no body\r\nFrom: a@b.example\r\n".to_vec(),
            b"not a header line\r\n\r\nbody\r\n".to_vec(),
            b"Subject: mixed\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; \
              boundary=xx\r\n\r\npreamble\r\n--xx\r\nContent-Type: text/plain\r\n\r\n\
              part one\r\n--xx\r\nContent-Type: application/octet-stream\r\n\
              Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--xx--\r\nepilogue\r\n"
                .to_vec(),
            b"Subject: nul\r\n\r\n\0a\x80\xffz\r\n".to_vec(),
            long,
        ]
    }

    /// `header_end` never claims an end that the whole message's parse does not agree with,
    /// whatever prefix it is given, and finds it once the prefix holds the empty line.
    #[test]
    fn header_end_of_a_prefix_agrees_with_the_whole_message() {
        for raw in messages() {
            let whole = ParsedMessage::parse(&raw)
                .section(Some(&Section::Header(None)), None)
                .unwrap()
                .len() as u64;
            let total = raw.len() as u64;
            for cut in 0..=raw.len() {
                if let Some(end) = header_end(&raw[..cut], total) {
                    assert_eq!(
                        end,
                        whole,
                        "{:?} cut at {cut}",
                        String::from_utf8_lossy(&raw)
                    );
                }
            }
            assert_eq!(header_end(&raw, total), Some(whole));
        }
    }

    /// A partial `BODY[]`, `BINARY[]` and `BODY[TEXT]` read as ranges of the file answer the
    /// same items as the whole message parsed, for ranges at the start, inside, across and
    /// past the end, and with a probe shorter than the header (the whole message read).
    #[test]
    fn ranged_content_answers_as_the_whole_message_parsed() {
        let dir = TempDir::new("imap-ranged");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let account = store
            .account(&Address::parse("alice@example.com").unwrap())
            .unwrap();
        let raws = messages();
        let mut new = Vec::new();
        for raw in &raws {
            let mut m = account.new_message().unwrap();
            m.write(raw).unwrap();
            new.push((m, Vec::new(), None));
        }
        let uids = account.append("INBOX", new).unwrap().uids;
        let selected = account.select("INBOX", true, 10).unwrap();
        let mut checked = 0;
        for (raw, uid) in raws.iter().zip(uids) {
            let parsed = ParsedMessage::parse(raw);
            let len = raw.len() as u64;
            for start in [0, 1, 7, 20, len / 2, len - 1, len, len + 5, u64::MAX] {
                for length in [1, 5, 40, len, u64::MAX] {
                    let partial = Some(Partial {
                        start,
                        length: NonZeroU64::new(length).unwrap(),
                    });
                    let attributes = [
                        FetchAttribute::BodySection {
                            peek: true,
                            section: None,
                            partial,
                        },
                        FetchAttribute::BodySection {
                            peek: true,
                            section: Some(Section::Text(None)),
                            partial,
                        },
                        FetchAttribute::Binary {
                            peek: true,
                            part: None,
                            partial,
                        },
                    ];
                    for attribute in &attributes {
                        assert!(is_ranged(attribute));
                        let want = parsed.fetch(attribute).unwrap().unwrap();
                        for probe in [8, 64, HEADER_PROBE] {
                            let (got, octets) = ranged_content(&selected, uid, attribute, probe)
                                .unwrap()
                                .unwrap();
                            assert_eq!(
                                got,
                                want,
                                "{attribute:?} probe {probe} of {:?}",
                                String::from_utf8_lossy(raw)
                            );
                            assert!(octets <= length.min(len));
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, raws.len() * 9 * 5 * 3 * 3);
        // Sections that are not one range of the file are not answered so.
        let header = FetchAttribute::BodySection {
            peek: true,
            section: Some(Section::Header(None)),
            partial: None,
        };
        assert!(!is_ranged(&header));
        assert!(!is_ranged(&FetchAttribute::BodySection {
            peek: true,
            section: None,
            partial: None,
        }));
    }
}
