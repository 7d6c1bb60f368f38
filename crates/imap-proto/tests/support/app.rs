//! The application side of one server session over the shared [`Store`]: it answers every
//! event a `Server` emits, as a real IMAP store would.
//!
//! Changes flow as `docs/design.md` section 2.1 has decisions flow: the store queues a
//! [`Change`](imap_proto::view::Change) for each session with the mailbox selected, and
//! [`deliver`] hands a session its queue through `Server::mailbox_changed`. A session's own
//! new messages, expunges and (unless `.SILENT`) flag changes are delivered to it before its
//! command completes, so that the machine announces them in the answer (`* 19 EXISTS` after
//! an APPEND to the selected mailbox, `* 3 EXPUNGE` before EXPUNGE's `OK`, the `* 12 FETCH
//! (FLAGS ...)` of a STORE).

use std::num::NonZeroU32;
#[cfg(not(feature = "mime"))]
use std::num::NonZeroU64;

use bytes::{Bytes, BytesMut};
use imap_proto::command::{CommandBody, FetchAttribute, StatusItem, StoreKind};
use imap_proto::core::{IString, Literal, Literal8, LiteralMode, NString, NString8, Tag};
use imap_proto::datetime::DateTime;
use imap_proto::fetch::{MessageDataItem, Partial, Section};
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::list::List;
use imap_proto::mailbox::{ListMailbox, Mailbox};
use imap_proto::response::{Code, Data, Delimiter, ListData, StatusKind, StatusValue};
use imap_proto::search::{self, SearchContext, SearchMessage};
use imap_proto::sequence::{SeqOrUid, Sequence, SequenceSet, UidSet};
use imap_proto::server::{Event, SelectInfo, Server, ServerError};
use mail_testkit::Users;
use mail_testkit::users::server_nonce;

use super::store::{Message, SessionId, Store};

/// The flags every mailbox defines, in the order of the RFC 3501 sample's `* FLAGS`.
pub(crate) fn mailbox_flags() -> Vec<Flag<'static>> {
    vec![
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
    ]
}

/// An APPEND in progress.
#[derive(Debug, Default)]
struct Appending {
    mailbox: String,
    flags: Vec<Flag<'static>>,
    date: Option<DateTime>,
    data: BytesMut,
    /// Messages received whole, stored when the command's last one is in (MULTIAPPEND is
    /// atomic, RFC 3502).
    staged: Vec<(Bytes, Vec<Flag<'static>>, Option<DateTime>)>,
}

/// One session's application state.
#[derive(Debug)]
pub(crate) struct App {
    /// The session's number in the store.
    pub(crate) id: SessionId,
    /// The credentials it checks.
    pub(crate) users: Users,
    /// `AppendData` pieces received per message, in order (what the APPEND streaming test
    /// looks at).
    pub(crate) append_pieces: Vec<usize>,
    appending: Option<Appending>,
}

impl App {
    /// The application of a new session of `store`.
    pub(crate) fn new(store: &mut Store, users: Users) -> App {
        App {
            id: store.register(),
            users,
            append_pieces: Vec::new(),
            appending: None,
        }
    }

    /// Answers `event` (every decision, as the store allows). `StartTls` and `Closed` are
    /// the driver's: nothing to answer.
    ///
    /// # Errors
    ///
    /// The machine's misuse error, which a correct application never sees.
    pub(crate) fn answer(
        &mut self,
        store: &mut Store,
        server: &mut Server,
        event: Event,
    ) -> Result<(), ServerError> {
        match event {
            Event::AuthStep { .. } => server.auth_step(&self.users, server_nonce()),
            Event::Command { command, messages } => {
                self.command(store, server, command.tag, command.body, &messages)
            }
            Event::AppendStart {
                mailbox,
                flags,
                date,
                index,
                ..
            } => {
                let name = name_of(&mailbox);
                if store.folder(&name).is_none() {
                    self.appending = None;
                    return server.complete(
                        StatusKind::No,
                        Some(Code::TryCreate),
                        "No such mailbox",
                    );
                }
                let appending = self.appending.get_or_insert_with(Appending::default);
                if index == 0 {
                    appending.staged.clear();
                }
                appending.mailbox = name;
                appending.flags = flags;
                appending.date = date;
                appending.data.clear();
                self.append_pieces.push(0);
                server.accept_append()
            }
            Event::AppendData(piece) => {
                if let Some(appending) = &mut self.appending {
                    appending.data.extend_from_slice(&piece);
                }
                if let Some(count) = self.append_pieces.last_mut() {
                    *count += 1;
                }
                Ok(())
            }
            Event::AppendEnd { last, .. } => {
                let Some(appending) = &mut self.appending else {
                    return Ok(());
                };
                let raw = appending.data.split().freeze();
                appending
                    .staged
                    .push((raw, appending.flags.clone(), appending.date));
                if !last {
                    return Ok(());
                }
                let Some(appending) = self.appending.take() else {
                    return Ok(());
                };
                let mut uids = Vec::new();
                for (raw, flags, date) in appending.staged {
                    match store.append(&appending.mailbox, raw, flags, date) {
                        Ok(uid) => uids.push(uid),
                        Err(_) => {
                            return server.complete(StatusKind::No, None, "APPEND failed");
                        }
                    }
                }
                let validity = store
                    .folder(&appending.mailbox)
                    .map_or(NonZeroU32::MIN, |f| f.uid_validity);
                deliver(store, self.id, server);
                server.append_done(validity, &uids)
            }
            Event::AppendAborted { .. } => {
                self.appending = None;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn command(
        &mut self,
        store: &mut Store,
        server: &mut Server,
        tag: Tag<'static>,
        body: CommandBody<'static>,
        messages: &[(NonZeroU32, NonZeroU32)],
    ) -> Result<(), ServerError> {
        let ok = |server: &mut Server, text: &str| server.complete(StatusKind::Ok, None, text);
        let no = |server: &mut Server, text: &str| server.complete(StatusKind::No, None, text);
        match body {
            CommandBody::Select { mailbox, .. } | CommandBody::Examine { mailbox, .. } => {
                self.select(store, server, &mailbox)
            }
            CommandBody::Create { mailbox, .. } => match store.create(&name_of(&mailbox)) {
                Ok(()) => ok(server, "CREATE completed"),
                Err(_) => no(server, "Mailbox exists"),
            },
            CommandBody::Delete { mailbox } => match store.delete(&name_of(&mailbox)) {
                Ok(()) => ok(server, "DELETE completed"),
                Err(_) => no(server, "Cannot delete"),
            },
            CommandBody::Rename { from, to } => {
                match store.rename(&name_of(&from), &name_of(&to)) {
                    Ok(()) => ok(server, "RENAME completed"),
                    Err(_) => no(server, "Cannot rename"),
                }
            }
            CommandBody::Subscribe { mailbox } => match store.subscribe(&name_of(&mailbox), true) {
                Ok(()) => ok(server, "SUBSCRIBE completed"),
                Err(_) => no(server, "No such mailbox"),
            },
            CommandBody::Unsubscribe { mailbox } => {
                let _ = store.subscribe(&name_of(&mailbox), false);
                ok(server, "UNSUBSCRIBE completed")
            }
            CommandBody::List {
                reference,
                patterns,
                ..
            } => {
                for pattern in patterns.iter() {
                    list(store, server, &reference, pattern, false)?;
                }
                ok(server, "LIST completed")
            }
            CommandBody::Lsub { reference, pattern } => {
                list(store, server, &reference, &pattern, true)?;
                ok(server, "LSUB completed")
            }
            CommandBody::Status { mailbox, items } => {
                let name = name_of(&mailbox);
                let Some(folder) = store.folder(&name) else {
                    return no(server, "No such mailbox");
                };
                let values: List<StatusValue<'static>, 2> = items
                    .iter()
                    .filter_map(|item| {
                        let count = |f: &dyn Fn(&Message) -> bool| {
                            u32::try_from(folder.messages.iter().filter(|m| f(m)).count())
                                .unwrap_or(u32::MAX)
                        };
                        Some(match item {
                            StatusItem::Messages => StatusValue::Messages(count(&|_| true)),
                            StatusItem::Recent => StatusValue::Recent(count(&|m| {
                                folder.first_recent.is_some_and(|first| m.uid >= first)
                            })),
                            StatusItem::UidNext => StatusValue::UidNext(folder.uid_next.get()),
                            StatusItem::UidValidity => {
                                StatusValue::UidValidity(folder.uid_validity.get())
                            }
                            StatusItem::Unseen => {
                                StatusValue::Unseen(count(&|m| !m.has_flag(&Flag::Seen)))
                            }
                            StatusItem::Deleted => {
                                StatusValue::Deleted(count(&|m| m.has_flag(&Flag::Deleted)))
                            }
                            StatusItem::Size => StatusValue::Size(
                                folder.messages.iter().map(|m| m.raw.len() as u64).sum(),
                            ),
                            StatusItem::HighestModSeq => {
                                StatusValue::HighestModSeq(folder.highest_modseq.get())
                            }
                            _ => return None,
                        })
                    })
                    .collect();
                server.respond(Data::Status {
                    mailbox,
                    items: values,
                })?;
                ok(server, "STATUS completed")
            }
            CommandBody::Fetch { items, .. } => {
                let Some(name) = store.selected(self.id).map(str::to_owned) else {
                    return no(server, "No mailbox selected");
                };
                let attributes = items.expand();
                let mut missing = false;
                for &(_, uid) in messages {
                    let Some(message) = store.folder(&name).and_then(|f| f.message(uid)).cloned()
                    else {
                        missing = true;
                        continue;
                    };
                    let mut out = Vec::new();
                    let mut set_seen = false;
                    for attribute in attributes.iter() {
                        if let Some(item) =
                            self.fetch_item(server, store.recent(self.id), &message, attribute)
                        {
                            out.push(item);
                        }
                        set_seen |= matches!(
                            attribute,
                            FetchAttribute::BodySection { peek: false, .. }
                                | FetchAttribute::Binary { peek: false, .. }
                                | FetchAttribute::Rfc822
                                | FetchAttribute::Rfc822Text
                        );
                    }
                    if set_seen && !server.is_read_only() && !message.has_flag(&Flag::Seen) {
                        // RFC 3501 section 6.4.5: fetching a body section sets \Seen, and
                        // the FETCH response carries the new flags. Other sessions hear.
                        if let Some(Ok(stored)) = store.store_flags(
                            self.id,
                            &name,
                            uid,
                            StoreKind::Add,
                            &[Flag::Seen],
                            None,
                            false,
                        ) {
                            out.retain(|i| !matches!(i, MessageDataItem::Flags(_)));
                            out.push(flags_item(store.recent(self.id), uid, &stored.flags));
                        }
                    }
                    server.fetch(uid, out)?;
                }
                if missing {
                    // RFC 2180 section 4.1.2, RFC 5530: the rest was answered.
                    server.complete(
                        StatusKind::No,
                        Some(Code::ExpungeIssued),
                        "Some of the requested messages no longer exist",
                    )
                } else {
                    ok(server, "FETCH completed")
                }
            }
            CommandBody::Store {
                uid: by_uid,
                unchanged_since,
                kind,
                silent,
                flags,
                ..
            } => {
                let Some(name) = store.selected(self.id).map(str::to_owned) else {
                    return no(server, "No mailbox selected");
                };
                let condstore = server.enabled().condstore;
                let mut modified = Vec::new();
                for &(seq, uid) in messages {
                    let result = store.store_flags(
                        self.id,
                        &name,
                        uid,
                        kind,
                        &flags,
                        unchanged_since.map(|m| m.get()),
                        !silent,
                    );
                    match result {
                        Some(Ok(stored)) if !silent && !stored.changed => {
                            // Nothing changed, so nothing is announced: answer here.
                            let mut items =
                                vec![flags_item(store.recent(self.id), uid, &stored.flags)];
                            if condstore {
                                items.push(MessageDataItem::ModSeq(stored.modseq));
                            }
                            server.fetch(uid, items)?;
                        }
                        // RFC 7162 section 3.1.3: numbers, or UIDs for UID STORE.
                        Some(Err(_)) => modified.push(if by_uid { uid } else { seq }),
                        _ => {}
                    }
                }
                deliver(store, self.id, server);
                match uid_set(&modified) {
                    Some(set) => server.complete(
                        StatusKind::Ok,
                        Some(Code::Modified(set.into_sequence_set())),
                        "Conditional STORE failed",
                    ),
                    None => ok(server, "STORE completed"),
                }
            }
            CommandBody::Search {
                uid,
                return_options,
                charset,
                criteria,
            } => {
                let Some(name) = store.selected(self.id).map(str::to_owned) else {
                    return no(server, "No mailbox selected");
                };
                let Some(folder) = store.folder(&name) else {
                    return no(server, "Mailbox gone");
                };
                let present: Vec<(NonZeroU32, &Message)> = messages
                    .iter()
                    .filter_map(|&(seq, uid)| folder.message(uid).map(|m| (seq, m)))
                    .collect();
                let ctx = SearchContext {
                    exists: server.view().map_or(0, |v| v.exists()),
                    largest_uid: server.view().and_then(|v| v.largest_uid()),
                    saved: server.saved_search(),
                };
                let result = searchable::run(
                    &present,
                    store.recent(self.id),
                    charset.as_ref(),
                    &criteria,
                    &ctx,
                );
                match result {
                    Ok(result) => {
                        match &return_options {
                            // RFC 9051 section 7.3.4: an IMAP4rev2 session gets ESEARCH
                            // for a SEARCH without RETURN too (as `RETURN (ALL)`).
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
                        ok(server, "SEARCH completed")
                    }
                    Err(error) => {
                        let kind = if error.code().is_some() {
                            StatusKind::No
                        } else {
                            StatusKind::Bad
                        };
                        server.complete(kind, error.code(), &error.to_string())
                    }
                }
            }
            CommandBody::Copy { ref mailbox, .. } | CommandBody::Move { ref mailbox, .. } => {
                let moving = matches!(body, CommandBody::Move { .. });
                let Some(name) = store.selected(self.id).map(str::to_owned) else {
                    return no(server, "No mailbox selected");
                };
                let target = name_of(mailbox);
                let uids: Vec<NonZeroU32> = messages.iter().map(|&(_, uid)| uid).collect();
                let copied = match store.copy(&name, &uids, &target) {
                    Ok(copied) => copied,
                    Err(_) => {
                        return server.complete(
                            StatusKind::No,
                            Some(Code::TryCreate),
                            "No such mailbox",
                        );
                    }
                };
                let validity = store.folder(&target).map(|f| f.uid_validity);
                let code = match (uid_set(&uids), uid_set(&copied), validity) {
                    (Some(source), Some(destination), Some(uid_validity)) => Some(Code::CopyUid {
                        uid_validity,
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
                    let _ = store.remove(&name, &uids);
                    deliver(store, self.id, server);
                    return ok(server, "MOVE completed");
                }
                deliver(store, self.id, server);
                server.complete(StatusKind::Ok, code, "COPY completed")
            }
            CommandBody::Expunge | CommandBody::Close => {
                let closing = matches!(body, CommandBody::Close);
                if let Some(name) = store.selected(self.id).map(str::to_owned) {
                    if !server.is_read_only() {
                        let _ = store.expunge(&name, |_| true);
                    }
                    if closing {
                        let _ = store.select(self.id, None);
                    }
                }
                deliver(store, self.id, server);
                ok(
                    server,
                    if closing {
                        "CLOSE completed"
                    } else {
                        "EXPUNGE completed"
                    },
                )
            }
            CommandBody::UidExpunge { .. } => {
                if let Some(name) = store.selected(self.id).map(str::to_owned) {
                    let chosen: Vec<NonZeroU32> = messages.iter().map(|&(_, uid)| uid).collect();
                    let _ = store.expunge(&name, |uid| chosen.contains(&uid));
                }
                deliver(store, self.id, server);
                ok(server, "UID EXPUNGE completed")
            }
            CommandBody::Check => ok(server, "CHECK completed"),
            _ => server.complete(
                StatusKind::No,
                Some(Code::Cannot),
                "Not supported by this store",
            ),
        }
    }

    fn select(
        &mut self,
        store: &mut Store,
        server: &mut Server,
        mailbox: &Mailbox<'static>,
    ) -> Result<(), ServerError> {
        let name = name_of(mailbox);
        let Ok(snapshot) = store.select(self.id, Some(&name)) else {
            let _ = store.select(self.id, None);
            return server.complete(StatusKind::No, None, "No such mailbox");
        };
        let folder = store.folder(&name).cloned();
        let Some(folder) = folder else {
            return server.complete(StatusKind::No, None, "No such mailbox");
        };
        let recent = store.claim_recent(self.id, &name);
        let mut info = SelectInfo::new(mailbox_flags());
        info.delimiter = Delimiter::new('/').ok();
        info.recent = u32::try_from(recent.len()).unwrap_or(u32::MAX);
        info.recent_uids = recent;
        info.unseen = folder
            .messages
            .iter()
            .position(|m| !m.has_flag(&Flag::Seen))
            .and_then(|i| u32::try_from(i + 1).ok())
            .and_then(NonZeroU32::new);
        server.selected(snapshot, info)
    }

    fn fetch_item(
        &self,
        server: &Server,
        recent: &[NonZeroU32],
        message: &Message,
        attribute: &FetchAttribute<'static>,
    ) -> Option<MessageDataItem<'static>> {
        use FetchAttribute as A;
        let raw = &message.raw;
        let (header, text) = split_header(raw);
        Some(match attribute {
            A::Flags => {
                if server.enabled().imap4rev2 {
                    MessageDataItem::Flags(
                        message.flags.iter().cloned().map(FlagFetch::Flag).collect(),
                    )
                } else {
                    flags_item(recent, message.uid, &message.flags)
                }
            }
            A::Uid => MessageDataItem::Uid(message.uid),
            A::InternalDate => MessageDataItem::InternalDate(message.internal_date),
            A::Rfc822Size => MessageDataItem::Rfc822Size(raw.len() as u64),
            A::ModSeq => MessageDataItem::ModSeq(message.modseq),
            A::Rfc822 => MessageDataItem::Rfc822(literal(raw)),
            A::Rfc822Header => MessageDataItem::Rfc822Header(literal(header)),
            A::Rfc822Text => MessageDataItem::Rfc822Text(literal(text)),
            A::BodySection {
                section, partial, ..
            } => {
                let data: Bytes = match section {
                    None => raw.clone(),
                    Some(Section::Header(None)) => raw.slice_ref(header),
                    Some(Section::Text(None)) => raw.slice_ref(text),
                    Some(other) => mime::section(raw, other)?,
                };
                let (data, origin) = cut(data, *partial);
                MessageDataItem::BodySection {
                    section: section.clone().map(Box::new),
                    origin,
                    data: literal(&data),
                }
            }
            A::Envelope => MessageDataItem::Envelope(Box::new(mime::envelope(raw)?)),
            A::Body => MessageDataItem::Body(Box::new(mime::body_structure(raw, false)?)),
            A::BodyStructure => {
                MessageDataItem::BodyStructure(Box::new(mime::body_structure(raw, true)?))
            }
            A::Binary { part, partial, .. } => {
                let data = mime::binary(raw, part.as_ref())?;
                let (data, origin) = cut(data, *partial);
                MessageDataItem::Binary {
                    section: part.clone().map(Box::new),
                    origin,
                    data: NString8::Literal8(Literal8::new(data.to_vec(), LiteralMode::Sync)),
                }
            }
            A::BinarySize { part } => {
                let size = mime::binary(raw, part.as_ref())?.len();
                MessageDataItem::BinarySize {
                    section: part.clone(),
                    size: u32::try_from(size).unwrap_or(u32::MAX),
                }
            }
            _ => return None,
        })
    }
}

/// `<partial>` of `data`, with the origin the response names.
fn cut(data: Bytes, partial: Option<Partial>) -> (Bytes, Option<u32>) {
    match partial {
        Some(p) => {
            let start = usize::try_from(p.start)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let len = usize::try_from(p.length.get()).unwrap_or(usize::MAX);
            let end = start.saturating_add(len).min(data.len());
            (
                data.slice(start..end),
                Some(u32::try_from(p.start).unwrap_or(u32::MAX)),
            )
        }
        None => (data, None),
    }
}

/// FLAGS of a message, with `\Recent` when it is among `recent` (IMAP4rev1).
fn flags_item(
    recent: &[NonZeroU32],
    uid: NonZeroU32,
    flags: &[Flag<'static>],
) -> MessageDataItem<'static> {
    let mut list: List<FlagFetch<'static>, 2> =
        flags.iter().cloned().map(FlagFetch::Flag).collect();
    if recent.binary_search(&uid).is_ok() {
        list.push(FlagFetch::Recent);
    }
    MessageDataItem::Flags(list)
}

/// Hands session `id` the changes the store queued for it.
pub(crate) fn deliver(store: &mut Store, id: SessionId, server: &mut Server) {
    for change in store.take_changes(id) {
        // A new message recent to this session is marked before it is reported, so that the
        // `* n RECENT` after its `* n EXISTS` counts it.
        if let imap_proto::view::Change::Added { uid, .. } = &change {
            if store.recent(id).binary_search(uid).is_ok() {
                server.mark_recent(*uid);
            }
        }
        // An inconsistent change is a bug of this store: the test fails.
        if let Err(error) = server.mailbox_changed(change.clone()) {
            assert!(
                matches!(error, imap_proto::view::ViewError::Overflow),
                "the view refused {change:?}: {error}"
            );
        }
    }
}

/// A mailbox name as the store keys it.
pub(crate) fn name_of(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_owned(),
        other => other
            .to_utf8()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(other.as_bytes()).into_owned()),
    }
}

/// Data as a literal (as servers send message text), `NIL` for data holding NUL.
fn literal(data: &[u8]) -> NString<'static> {
    match Literal::new(data.to_vec(), LiteralMode::Sync) {
        Ok(l) => NString(Some(IString::Literal(l))),
        Err(_) => NString::NIL,
    }
}

/// The header (through the blank line) and the text of a message.
fn split_header(raw: &[u8]) -> (&[u8], &[u8]) {
    match raw.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => raw.split_at(at + 4),
        None => (raw, &raw[raw.len()..]),
    }
}

/// A compact UID set (runs as ranges), `None` for no UID.
pub(crate) fn uid_set(uids: &[NonZeroU32]) -> Option<UidSet> {
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

/// LIST and LSUB: the names matching `pattern` (`*` any, `%` no delimiter) under `reference`.
fn list(
    store: &Store,
    server: &mut Server,
    reference: &Mailbox<'_>,
    pattern: &ListMailbox<'_>,
    subscribed_only: bool,
) -> Result<(), ServerError> {
    let reference = String::from_utf8_lossy(reference.as_bytes()).into_owned();
    let pattern = String::from_utf8_lossy(pattern.as_bytes()).into_owned();
    if pattern.is_empty() {
        // RFC 3501 section 6.3.8: the hierarchy delimiter and the root.
        let mut attributes = List::new();
        attributes.push(imap_proto::flag::MailboxAttribute::Noselect);
        return server.respond(Data::List(ListData {
            attributes,
            delimiter: Delimiter::new('/').ok(),
            mailbox: Mailbox::from_bytes(Vec::new()).map_err(|_| ServerError::Invalid("name"))?,
            extended: List::new(),
        }));
    }
    let full = format!("{reference}{pattern}");
    let names: Vec<String> = store
        .names()
        .filter(|name| wildcard(full.as_bytes(), name.as_bytes()))
        .filter(|name| !subscribed_only || store.folder(name).is_some_and(|f| f.subscribed))
        .map(str::to_owned)
        .collect();
    for name in names {
        let data = ListData {
            attributes: List::new(),
            delimiter: Delimiter::new('/').ok(),
            mailbox: Mailbox::from_utf8(&name, false).map_err(|_| ServerError::Invalid("name"))?,
            extended: List::new(),
        };
        server.respond(if subscribed_only {
            Data::Lsub(data)
        } else {
            Data::List(data)
        })?;
    }
    Ok(())
}

/// LIST's pattern match: `*` matches anything, `%` anything but `/`; INBOX without case.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| wildcard(rest, &name[i..])),
        Some((b'%', rest)) => {
            let stop = name.iter().position(|&b| b == b'/').unwrap_or(name.len());
            (0..=stop).any(|i| wildcard(rest, &name[i..]))
        }
        Some((&c, rest)) => name
            .split_first()
            .is_some_and(|(&n, tail)| n.eq_ignore_ascii_case(&c) && wildcard(rest, tail)),
    }
}

/// SEARCH over the store's messages through `imap_proto::search`: with the `mime` feature
/// the header fields and text come from `search::mime::StoredMessage`; without it only what
/// the store's index knows (flags, dates, size, UID, mod-sequence) can match, and keys on
/// the header or text match nothing.
mod searchable {
    use super::*;
    use imap_proto::command::SearchKey;
    use imap_proto::core::Charset;
    use imap_proto::search::{SearchError, SearchResult};

    pub(crate) fn run(
        messages: &[(NonZeroU32, &Message)],
        recent: &[NonZeroU32],
        charset: Option<&Charset<'_>>,
        keys: &[SearchKey<'_>],
        ctx: &SearchContext<'_>,
    ) -> Result<SearchResult, SearchError> {
        #[cfg(feature = "mime")]
        {
            use imap_proto::message::ParsedMessage;
            use imap_proto::search::mime::StoredMessage;
            let parsed: Vec<ParsedMessage<'_>> = messages
                .iter()
                .map(|(_, m)| ParsedMessage::parse(&m.raw))
                .collect();
            let stored: Vec<StoredMessage<'_, '_>> = messages
                .iter()
                .zip(&parsed)
                .map(|((_, m), p)| {
                    let mut s = StoredMessage::new(p, m.uid, m.internal_date);
                    s.flags = &m.flags;
                    s.recent = recent.contains(&m.uid);
                    s.modseq = Some(m.modseq);
                    s
                })
                .collect();
            search::search(
                charset,
                keys,
                messages
                    .iter()
                    .zip(&stored)
                    .map(|((seq, _), s)| (*seq, s as &dyn SearchMessage)),
                ctx,
            )
        }
        #[cfg(not(feature = "mime"))]
        {
            let indexed: Vec<Indexed<'_>> = messages
                .iter()
                .map(|(_, m)| Indexed {
                    message: m,
                    recent: recent.contains(&m.uid),
                })
                .collect();
            search::search(
                charset,
                keys,
                messages
                    .iter()
                    .zip(&indexed)
                    .map(|((seq, _), s)| (*seq, s as &dyn SearchMessage)),
                ctx,
            )
        }
    }

    /// A message as the store's index knows it, without its content.
    #[cfg(not(feature = "mime"))]
    struct Indexed<'m> {
        message: &'m Message,
        recent: bool,
    }

    #[cfg(not(feature = "mime"))]
    impl SearchMessage for Indexed<'_> {
        fn uid(&self) -> NonZeroU32 {
            self.message.uid
        }
        fn has_flag(&self, flag: &Flag<'_>) -> bool {
            self.message.has_flag(flag)
        }
        fn is_recent(&self) -> bool {
            self.recent
        }
        fn internal_date(&self) -> DateTime {
            self.message.internal_date
        }
        fn sent_date(&self) -> Option<imap_proto::datetime::Date> {
            None
        }
        fn size(&self) -> u64 {
            self.message.raw.len() as u64
        }
        fn modseq(&self) -> Option<NonZeroU64> {
            Some(self.message.modseq)
        }
        fn header_values(&self, _name: &str) -> Vec<std::borrow::Cow<'_, str>> {
            Vec::new()
        }
        fn header_text_contains(&self, _needle: &str) -> bool {
            false
        }
        fn body_contains(&self, _needle: &str) -> bool {
            false
        }
    }
}

/// ENVELOPE, BODYSTRUCTURE, sections and BINARY: through `imap_proto::message` with the
/// `mime` feature; without it the store has none of them (the item is left out of the FETCH
/// response) beyond the whole message, its header and its text.
mod mime {
    use super::*;
    use imap_proto::fetch::{BodyStructure, Envelope, Part};

    #[cfg(feature = "mime")]
    use imap_proto::message::ParsedMessage;

    #[cfg(feature = "mime")]
    pub(crate) fn envelope(raw: &[u8]) -> Option<Envelope<'static>> {
        Some(ParsedMessage::parse(raw).envelope())
    }

    #[cfg(feature = "mime")]
    pub(crate) fn body_structure(raw: &[u8], extensions: bool) -> Option<BodyStructure<'static>> {
        Some(ParsedMessage::parse(raw).body_structure(extensions))
    }

    #[cfg(feature = "mime")]
    pub(crate) fn section(raw: &Bytes, section: &Section<'_>) -> Option<Bytes> {
        let data = ParsedMessage::parse(raw)
            .section(Some(section), None)
            .ok()?;
        Some(Bytes::copy_from_slice(&data))
    }

    #[cfg(feature = "mime")]
    pub(crate) fn binary(raw: &Bytes, part: Option<&Part>) -> Option<Bytes> {
        let data = ParsedMessage::parse(raw).binary(part, None).ok()?;
        Some(Bytes::copy_from_slice(&data))
    }

    #[cfg(not(feature = "mime"))]
    pub(crate) fn envelope(_raw: &[u8]) -> Option<Envelope<'static>> {
        None
    }

    #[cfg(not(feature = "mime"))]
    pub(crate) fn body_structure(_raw: &[u8], _extensions: bool) -> Option<BodyStructure<'static>> {
        None
    }

    #[cfg(not(feature = "mime"))]
    pub(crate) fn section(_raw: &Bytes, _section: &Section<'_>) -> Option<Bytes> {
        None
    }

    #[cfg(not(feature = "mime"))]
    pub(crate) fn binary(_raw: &Bytes, _part: Option<&Part>) -> Option<Bytes> {
        None
    }
}
