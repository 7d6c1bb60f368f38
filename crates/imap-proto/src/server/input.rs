//! Framing what the client sends, deciding on each literal, and dispatching each command by
//! state.

use std::num::NonZeroU32;

use bytes::{Buf, Bytes};
use mail_wire::http;

use crate::command::{
    Command, CommandBody, IdleDone, ListReturnOption, ListSelectOption, SearchReturnOption,
    ThreadAlgorithm,
};
use crate::core::{IString, LiteralMode, NString, Tag};
use crate::framer::{FrameError, FrameErrorKind, Framed, LiteralHeader, tag_of};
use crate::list::List;
use crate::mailbox::Mailbox;
use crate::response::{Capability, Code, Data, StatusKind};
use crate::sequence::SequenceSet;
use crate::view::Announce;

use super::config::LITERAL_MINUS_MAX;
use super::{Event, LiteralPlus, Pending, Phase, Running, Server, SessionError, State};

/// What the framer found, without borrowing the input.
enum Got {
    /// A message at `start..start + len` of the input.
    Message {
        start: usize,
        len: usize,
    },
    Literal(LiteralHeader),
    Error(FrameError),
}

/// A framed item, taken off the input: handled now, or queued while a command is pending.
#[derive(Debug)]
pub(super) enum Ahead {
    /// A complete message.
    Message(Bytes),
    /// A literal header ends the message at the start of the input (the framer waits for the
    /// decision: nothing may be framed until it is made).
    Literal(LiteralHeader),
    /// A message over a limit, already dropped.
    Error(FrameError),
}

/// What one framing attempt gave.
enum Framing {
    Item(Ahead),
    /// Bytes were dropped (a refused message's rest); more may be framed.
    Progress,
    /// Nothing until more input arrives.
    Nothing,
}

impl Server {
    /// Does one piece of work on the input; false when nothing can be done now.
    pub(super) fn step(&mut self) -> bool {
        match self.phase {
            Phase::Closed | Phase::TlsHandoff => false,
            Phase::AppendData { .. } => self.append_data_step(),
            _ => self.frame_step(),
        }
    }

    fn frame_step(&mut self) -> bool {
        let queued = if matches!(self.phase, Phase::Command) {
            self.unqueue()
        } else {
            None
        };
        let item = match queued {
            Some(item) => item,
            None => match self.next_framed() {
                Framing::Item(item) => item,
                Framing::Progress => return !self.input.is_empty(),
                Framing::Nothing => return false,
            },
        };
        match item {
            Ahead::Message(message) => {
                self.timer.line(self.fed_at);
                self.on_message(message);
            }
            Ahead::Literal(header) => self.on_literal(header),
            Ahead::Error(error) => self.on_frame_error(&error),
        }
        true
    }

    /// The oldest command read ahead, if any.
    fn unqueue(&mut self) -> Option<Ahead> {
        let item = self.ahead.pop_front()?;
        if let Ahead::Message(message) = &item {
            self.ahead_bytes = self.ahead_bytes.saturating_sub(message.len());
        }
        if self.ahead.is_empty() {
            self.ahead_stopped = false;
        }
        Some(item)
    }

    /// Frames the next item off the input.
    fn next_framed(&mut self) -> Framing {
        let (got, consumed) = {
            let mut rest = &self.input[..];
            let before = rest.len();
            let base = rest.as_ptr() as usize;
            let got = match self.framer.next_frame(&mut rest) {
                None => None,
                Some(Framed::Message(message)) => Some(Got::Message {
                    start: (message.as_ptr() as usize).saturating_sub(base),
                    len: message.len(),
                }),
                Some(Framed::Literal(header)) => Some(Got::Literal(header)),
                Some(Framed::Error(error)) => Some(Got::Error(error)),
            };
            (got, before - rest.len())
        };
        match got {
            None => {
                self.input.advance(consumed);
                if consumed > 0 {
                    Framing::Progress
                } else {
                    Framing::Nothing
                }
            }
            Some(Got::Message { start, len }) => {
                self.input.advance(start.min(self.input.len()));
                let message = self.input.split_to(len.min(self.input.len())).freeze();
                let rest = consumed.saturating_sub(start + len).min(self.input.len());
                self.input.advance(rest);
                Framing::Item(Ahead::Message(message))
            }
            Some(Got::Literal(header)) => {
                self.input.advance(consumed);
                Framing::Item(Ahead::Literal(header))
            }
            Some(Got::Error(error)) => {
                // A request line too long to frame (a long URL) is at the front of the input.
                if self.config.refuse_http
                    && matches!(self.phase, Phase::Command)
                    && matches!(error.kind(), FrameErrorKind::LineTooLong { .. })
                    && http::starts_like_request_line(&self.input)
                {
                    self.refuse_http();
                    return Framing::Nothing;
                }
                self.input.advance(consumed);
                Framing::Item(Ahead::Error(error))
            }
        }
    }

    /// Whether commands may be read ahead now: an application command is pending, and
    /// fewer than [`ServerConfig::max_pipelined`] wait.
    ///
    /// [`ServerConfig::max_pipelined`]: super::ServerConfig::max_pipelined
    pub(super) fn may_read_ahead(&self) -> bool {
        matches!(self.pending, Some(Pending::Command(_)))
            && matches!(self.phase, Phase::Command)
            && self.held.is_none()
            && !self.ahead_stopped
            && self.ahead.len() < self.config.max_pipelined
    }

    /// Frames complete commands while one is pending, up to the limit. Reading ahead stops
    /// at a literal header (its decision waits for the command's turn) and after a command
    /// whose next lines are not commands (AUTHENTICATE, IDLE, STARTTLS).
    pub(super) fn read_ahead(&mut self) {
        while self.may_read_ahead() {
            let item = match self.next_framed() {
                Framing::Item(item) => item,
                Framing::Progress => continue,
                Framing::Nothing => break,
            };
            match &item {
                Ahead::Message(message) => {
                    self.ahead_bytes = self.ahead_bytes.saturating_add(message.len());
                    if changes_framing(message) {
                        self.ahead_stopped = true;
                    }
                }
                Ahead::Literal(_) | Ahead::Error(_) => self.ahead_stopped = true,
            }
            self.ahead.push_back(item);
        }
    }

    fn on_message(&mut self, message: Bytes) {
        match std::mem::replace(&mut self.phase, Phase::Command) {
            Phase::Command if self.config.refuse_http && is_http_request(&message) => {
                self.refuse_http();
            }
            Phase::Command => self.on_command(&message),
            Phase::AuthResponse {
                tag,
                session,
                user,
                failed,
            } => self.on_auth_line(&message, tag, session, user, failed),
            Phase::Idle { tag } => self.on_idle_line(&message, tag),
            Phase::AppendRest => self.on_append_rest(&message),
            other => self.phase = other,
        }
    }

    /// An HTTP request line ([`ServerConfig::refuse_http`](super::ServerConfig::refuse_http)):
    /// closes before anything after it, the request's header fields and body, is read.
    fn refuse_http(&mut self) {
        self.close_with(
            "This is an IMAP server, not a web server: HTTP request refused",
            SessionError::HttpRequest,
        );
    }

    fn on_frame_error(&mut self, error: &FrameError) {
        if matches!(self.phase, Phase::AppendRest) {
            self.phase = Phase::Command;
            self.append_syntax_error(&error.to_string());
            return;
        }
        match std::mem::replace(&mut self.phase, Phase::Command) {
            Phase::Idle { tag } => {
                self.framer.set_literals(true);
                self.bad(Some(&tag), &format!("Expected DONE: {error}"));
                return;
            }
            Phase::AuthResponse {
                tag,
                session,
                user,
                failed,
            } => {
                self.framer.set_literals(true);
                if failed {
                    // The credentials were refused already: a failed login all the same.
                    self.auth_line_refused(tag, session.mechanism(), user);
                } else {
                    self.bad(Some(&tag), &format!("Authentication response: {error}"));
                }
                return;
            }
            other => self.phase = other,
        }
        let tag = error.tag().and_then(|t| Tag::new(t.to_owned()).ok());
        if error.kind() == FrameErrorKind::LiteralLengthOverflow {
            self.close_with("Literal length overflows", SessionError::LiteralOverflow);
            return;
        }
        self.bad(tag.as_ref(), &error.to_string());
    }

    /// A literal header ends the message so far (still at the start of the input).
    fn on_literal(&mut self, header: LiteralHeader) {
        let prefix_len = header.data_offset.min(self.input.len());
        let tag = self
            .input
            .get(..prefix_len)
            .and_then(tag_of)
            .and_then(|t| Tag::new(t.to_owned()).ok());
        let refused = match (header.mode, self.config.literal_plus) {
            (LiteralMode::Sync, _) | (_, LiteralPlus::Plus) => None,
            (_, LiteralPlus::Minus) if header.size > LITERAL_MINUS_MAX => {
                Some("Non-synchronizing literal over 4096 octets (LITERAL-)")
            }
            (_, LiteralPlus::Minus) => None,
            (_, LiteralPlus::Off) => Some("Non-synchronizing literals are not supported"),
        };
        if let Some(text) = refused {
            // RFC 7888 section 4: the data follows all the same and is skipped.
            self.framer.refuse_literal();
            if matches!(self.phase, Phase::AppendRest) {
                self.phase = Phase::Command;
                self.append_syntax_error(text);
            } else {
                self.bad(tag.as_ref(), text);
            }
            return;
        }
        if matches!(self.phase, Phase::AppendRest) {
            return self.next_append_message(header);
        }
        if let Some(probe) = self.probe_append(prefix_len, false) {
            return self.first_append_message(header, probe);
        }
        let total = (header.data_offset as u64).saturating_add(header.size);
        if header.size > self.config.max_literal || total > self.config.max_command {
            self.framer.refuse_literal();
            self.tagged_or_untagged(
                tag.as_ref(),
                StatusKind::No,
                Some(Code::TooBig),
                "Literal too large",
            );
            return;
        }
        if self.state == State::NotAuthenticated
            && !self.credentials_allowed()
            && self.input.get(..prefix_len).is_some_and(is_login)
        {
            // No password in plaintext: the client is told before it sends it.
            self.framer.refuse_literal();
            self.tagged_or_untagged(
                tag.as_ref(),
                StatusKind::No,
                Some(Code::PrivacyRequired),
                "Use STARTTLS first: no credentials before TLS",
            );
            return;
        }
        self.framer.accept_literal();
        if header.mode == LiteralMode::Sync {
            self.continuation("Ready for literal data");
        }
    }

    fn tagged_or_untagged<'x>(
        &mut self,
        tag: Option<&Tag<'x>>,
        kind: StatusKind,
        code: Option<Code<'x>>,
        text: &str,
    ) {
        self.status(tag, kind, code, text);
    }

    fn on_command(&mut self, message: &[u8]) {
        let command = match Command::parse(message) {
            Ok(command) => command,
            Err(error) => {
                let text = format!("Error in IMAP command: {}", error.error);
                self.bad(error.tag.as_ref(), &text);
                return;
            }
        };
        self.dispatch(command);
    }

    fn dispatch(&mut self, command: Command<'_>) {
        let tag = command.tag.clone().into_static();
        let state = self.state;
        let authenticated = matches!(state, State::Authenticated | State::Selected);
        let selected = state == State::Selected;
        if let Some(text) = self
            .refused_modifier(&command.body)
            .or_else(|| self.unoffered(&command.body))
        {
            return self.bad(Some(&tag), text);
        }
        match command.body {
            CommandBody::Capability => {
                let caps: List<Capability<'static>> = self.capabilities().into();
                self.data(Data::Capability(caps));
                self.ok(&tag, "CAPABILITY completed");
            }
            CommandBody::Noop if selected && self.config.noop_as_command => {
                // The application hands over its store's pending changes, then completes.
                self.ask(command, Running::new(tag), Vec::new());
            }
            CommandBody::Noop => {
                self.announce(Announce::All, false);
                self.ok(&tag, "NOOP completed");
            }
            CommandBody::Logout => {
                self.abort_append();
                self.status(None, StatusKind::Bye, None, "Logging out");
                self.ok(&tag, "LOGOUT completed");
                self.close_silently(Ok(()));
            }
            CommandBody::Id { .. } => {
                let id = self.config.id.as_ref().map(|fields| {
                    fields
                        .iter()
                        .filter_map(|(field, value)| {
                            let field = IString::from_bytes(field.clone().into_bytes()).ok()?;
                            let value = IString::from_bytes(value.clone().into_bytes()).ok()?;
                            Some((field, NString(Some(value))))
                        })
                        .collect()
                });
                self.data(Data::Id(id));
                self.ok(&tag, "ID completed");
            }
            CommandBody::StartTls => self.on_starttls(&tag),
            CommandBody::Login { username, password } => {
                if state != State::NotAuthenticated {
                    return self.bad(Some(&tag), "Already logged in");
                }
                self.on_login(tag, username.data(), password.data());
            }
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => {
                if state != State::NotAuthenticated {
                    return self.bad(Some(&tag), "Already logged in");
                }
                let initial = initial_response.map(|r| r.as_str().as_bytes().to_vec());
                self.on_authenticate(tag, mechanism.as_str(), initial);
            }
            _ if !authenticated => self.bad(Some(&tag), "Command not permitted before login"),
            CommandBody::Enable { capabilities } => {
                if state != State::Authenticated {
                    return self.bad(Some(&tag), "ENABLE is valid only before SELECT");
                }
                let names: Vec<String> =
                    capabilities.iter().map(|a| a.as_str().to_owned()).collect();
                self.on_enable(&tag, &names);
            }
            CommandBody::Namespace => match self.config.namespace.clone() {
                Some(namespace) => {
                    self.data(Data::Namespace(namespace));
                    self.ok(&tag, "NAMESPACE completed");
                }
                None => self.bad(Some(&tag), "NAMESPACE is not supported"),
            },
            CommandBody::Idle => {
                self.continuation("idling");
                self.phase = Phase::Idle { tag };
                self.framer.set_literals(false);
                self.announce(Announce::All, false);
            }
            CommandBody::Append { .. } => {
                // The message literal is always taken at its header (`append`), so a whole
                // APPEND never reaches here; refuse rather than store it unstreamed.
                self.bad(Some(&tag), "APPEND data must be a literal");
            }
            CommandBody::Compress { .. } => self.bad(Some(&tag), "COMPRESS is not supported"),
            CommandBody::Select { .. } | CommandBody::Examine { .. } => {
                let (examine, mailbox) = match &command.body {
                    CommandBody::Examine { mailbox, .. } => (true, mailbox.clone().into_static()),
                    CommandBody::Select { mailbox, .. } => (false, mailbox.clone().into_static()),
                    _ => return,
                };
                if let CommandBody::Select { params, .. } | CommandBody::Examine { params, .. } =
                    &command.body
                {
                    if params.qresync.is_some() && !self.enabled.qresync {
                        // RFC 7162 section 3.2.5: QRESYNC parameters need ENABLE QRESYNC.
                        return self.bad(Some(&tag), "QRESYNC is not enabled");
                    }
                    if params.condstore && self.condstore_offered() {
                        self.enabled.condstore = true;
                    }
                }
                if selected {
                    self.deselect();
                    if self.enabled.imap4rev2 || self.enabled.qresync {
                        self.untagged_ok(Code::Closed, "Previous mailbox closed");
                    }
                }
                self.ask(
                    command,
                    Running::new(tag).select(examine, mailbox),
                    Vec::new(),
                );
            }
            CommandBody::Create { .. }
            | CommandBody::Delete { .. }
            | CommandBody::Rename { .. }
            | CommandBody::Subscribe { .. }
            | CommandBody::Unsubscribe { .. }
            | CommandBody::List { .. }
            | CommandBody::Lsub { .. }
            | CommandBody::Status { .. }
            | CommandBody::GetQuota { .. }
            | CommandBody::GetQuotaRoot { .. }
            | CommandBody::SetQuota { .. } => self.ask(command, Running::new(tag), Vec::new()),
            _ if !selected => self.bad(Some(&tag), "No mailbox selected"),
            CommandBody::Check if self.config.noop_as_command => {
                self.ask(command, Running::new(tag), Vec::new());
            }
            CommandBody::Check => {
                self.announce(Announce::All, false);
                self.ok(&tag, "CHECK completed");
            }
            CommandBody::Unselect => {
                self.deselect();
                self.ok(&tag, "UNSELECT completed");
            }
            CommandBody::Close => {
                if self.read_only {
                    // Nothing is expunged from a read-only mailbox (RFC 9051 section 6.4.1).
                    self.deselect();
                    self.ok(&tag, "CLOSE completed");
                } else {
                    let mut running = Running::new(tag);
                    running.close = true;
                    self.ask(command, running, Vec::new());
                }
            }
            CommandBody::Expunge => {
                if self.refuse_read_only(&tag) {
                    return;
                }
                self.ask(command, Running::new(tag), Vec::new());
            }
            CommandBody::UidExpunge { ref uids } => {
                if self.refuse_read_only(&tag) {
                    return;
                }
                let Some(messages) = self.resolve(&tag, uids, true) else {
                    return;
                };
                let mut running = Running::new(tag);
                running.uid = true;
                self.ask(command, running, messages);
            }
            CommandBody::Fetch {
                changed_since: Some(_),
                ..
            }
            | CommandBody::Store {
                unchanged_since: Some(_),
                ..
            } if !self.enabled.condstore && self.condstore_offered() => {
                // RFC 7162 section 3.1: CHANGEDSINCE and UNCHANGEDSINCE enable CONDSTORE.
                self.enabled.condstore = true;
                self.dispatch(command);
            }
            CommandBody::Fetch {
                uid,
                ref sequence_set,
                ..
            }
            | CommandBody::Copy {
                uid,
                ref sequence_set,
                ..
            } => {
                let Some(messages) = self.resolve(&tag, sequence_set, uid) else {
                    return;
                };
                self.ask(command, Running::new(tag).by(uid, !uid), messages);
            }
            CommandBody::Store {
                uid,
                ref sequence_set,
                ..
            } => {
                if self.refuse_read_only(&tag) {
                    return;
                }
                let Some(messages) = self.resolve(&tag, sequence_set, uid) else {
                    return;
                };
                self.ask(command, Running::new(tag).by(uid, !uid), messages);
            }
            CommandBody::Move {
                uid,
                ref sequence_set,
                ..
            } => {
                if self.refuse_read_only(&tag) {
                    return;
                }
                let Some(messages) = self.resolve(&tag, sequence_set, uid) else {
                    return;
                };
                self.ask(command, Running::new(tag).by(uid, false), messages);
            }
            CommandBody::Search {
                uid,
                ref return_options,
                ..
            } => {
                let messages = self.all_messages();
                let mut running = Running::new(tag).by(uid, !uid);
                running.save = return_options
                    .as_ref()
                    .is_some_and(|o| o.iter().any(|o| matches!(o, SearchReturnOption::Save)));
                self.ask(command, running, messages);
            }
            CommandBody::Sort { uid, .. } | CommandBody::Thread { uid, .. } => {
                let messages = self.all_messages();
                self.ask(command, Running::new(tag).by(uid, !uid), messages);
            }
        }
    }

    /// Why a command of an extension the server does not advertise is answered `BAD`
    /// instead of reaching the application: MOVE without MOVE, UID EXPUNGE without UIDPLUS,
    /// SEARCH RETURN without ESEARCH (SAVE also needs SEARCHRES), LIST's selection and
    /// return options or several patterns without LIST-EXTENDED (`RETURN (STATUS)` also
    /// needs LIST-STATUS, the SPECIAL-USE options SPECIAL-USE), SORT, THREAD with an
    /// algorithm not advertised, GETQUOTA and GETQUOTAROOT without QUOTA, SETQUOTA without
    /// QUOTASET. An IMAP4rev2 server (`ServerConfig::imap4rev2`) offers MOVE, UID EXPUNGE,
    /// ESEARCH, SEARCHRES, LIST-EXTENDED and LIST-STATUS by definition (RFC 9051 appendix E).
    fn unoffered(&self, body: &CommandBody<'_>) -> Option<&'static str> {
        let rev2 = self.config.imap4rev2;
        let has = |wanted: &Capability<'_>| self.config.capabilities.contains(wanted);
        match body {
            CommandBody::Move { .. } if !rev2 && !has(&Capability::Move) => {
                Some("MOVE is not supported")
            }
            CommandBody::UidExpunge { .. } if !rev2 && !has(&Capability::UidPlus) => {
                Some("UID EXPUNGE is not supported")
            }
            CommandBody::Search {
                return_options: Some(options),
                ..
            } => {
                if !rev2 && !has(&Capability::Esearch) {
                    Some("SEARCH RETURN is not supported")
                } else if !rev2
                    && !has(&Capability::SearchRes)
                    && options
                        .iter()
                        .any(|o| matches!(o, SearchReturnOption::Save))
                {
                    Some("SEARCH RETURN (SAVE) is not supported")
                } else {
                    None
                }
            }
            CommandBody::List {
                selection,
                patterns,
                return_options,
                ..
            } => {
                let extended =
                    !selection.is_empty() || !return_options.is_empty() || patterns.len() > 1;
                let special = selection
                    .iter()
                    .any(|o| matches!(o, ListSelectOption::SpecialUse))
                    || return_options
                        .iter()
                        .any(|o| matches!(o, ListReturnOption::SpecialUse));
                let status = return_options
                    .iter()
                    .any(|o| matches!(o, ListReturnOption::Status(_)));
                if extended && !rev2 && !has(&Capability::ListExtended) {
                    Some("LIST-EXTENDED is not supported")
                } else if status && !rev2 && !has(&Capability::ListStatus) {
                    Some("LIST RETURN (STATUS) is not supported")
                } else if special && !has(&Capability::SpecialUse) {
                    Some("SPECIAL-USE is not supported")
                } else {
                    None
                }
            }
            CommandBody::Sort { .. } if !has(&Capability::Sort) => Some("SORT is not supported"),
            CommandBody::Thread { algorithm, .. }
                if !self.config.capabilities.iter().any(|c| match c {
                    Capability::Thread(offered) => {
                        offered.as_str().eq_ignore_ascii_case(match algorithm {
                            ThreadAlgorithm::OrderedSubject => "ORDEREDSUBJECT",
                            ThreadAlgorithm::References => "REFERENCES",
                            ThreadAlgorithm::Other(name) => name.as_str(),
                        })
                    }
                    _ => false,
                }) =>
            {
                Some("THREAD is not supported with this algorithm")
            }
            CommandBody::GetQuota { .. } | CommandBody::GetQuotaRoot { .. }
                if !has(&Capability::Quota) =>
            {
                Some("QUOTA is not supported")
            }
            CommandBody::SetQuota { .. } if !has(&Capability::QuotaSet) => {
                Some("SETQUOTA is not supported")
            }
            _ => None,
        }
    }

    /// Why a CONDSTORE or QRESYNC modifier cannot be taken: CHANGEDSINCE, UNCHANGEDSINCE
    /// and SELECT's CONDSTORE where the application does not offer CONDSTORE (it would run
    /// a conditional STORE unconditionally), VANISHED before ENABLE QRESYNC (RFC 7162
    /// section 3.2.6).
    fn refused_modifier(&self, body: &CommandBody<'_>) -> Option<&'static str> {
        let condstore = match body {
            CommandBody::Fetch { vanished: true, .. } if !self.enabled.qresync => {
                return Some("VANISHED needs ENABLE QRESYNC");
            }
            CommandBody::Fetch { changed_since, .. } => changed_since.is_some(),
            CommandBody::Store {
                unchanged_since, ..
            } => unchanged_since.is_some(),
            CommandBody::Select { params, .. } | CommandBody::Examine { params, .. } => {
                params.condstore
            }
            _ => false,
        };
        (condstore && !self.condstore_offered()).then_some("CONDSTORE is not supported")
    }

    fn ok(&mut self, tag: &Tag<'_>, text: &str) {
        self.tagged(tag, StatusKind::Ok, None, text);
    }

    /// A decision for the application.
    fn ask(
        &mut self,
        command: Command<'_>,
        running: Running,
        messages: Vec<(NonZeroU32, NonZeroU32)>,
    ) {
        self.pending = Some(Pending::Command(running));
        self.events.push_back(Event::Command {
            command: command.into_static(),
            messages,
        });
    }

    fn refuse_read_only(&mut self, tag: &Tag<'_>) -> bool {
        if self.read_only {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::ReadOnly),
                "Mailbox is read-only",
            );
        }
        self.read_only
    }

    /// The messages `set` names, or `tag BAD` for a number beyond EXISTS.
    fn resolve(
        &mut self,
        tag: &Tag<'_>,
        set: &SequenceSet,
        by_uid: bool,
    ) -> Option<Vec<(NonZeroU32, NonZeroU32)>> {
        let view = self.view.as_ref()?;
        match view.resolve(set, by_uid, self.saved.as_deref()) {
            Ok(messages) => Some(messages),
            Err(error) => {
                self.bad(Some(tag), &format!("Invalid message set: {error}"));
                None
            }
        }
    }

    /// Every message of the view, for SEARCH, SORT and THREAD.
    fn all_messages(&self) -> Vec<(NonZeroU32, NonZeroU32)> {
        self.view
            .as_ref()
            .map(|view| view.messages().collect())
            .unwrap_or_default()
    }

    fn on_starttls(&mut self, tag: &Tag<'_>) {
        if self.state != State::NotAuthenticated {
            return self.bad(Some(tag), "STARTTLS is valid only before login");
        }
        if self.tls {
            return self.bad(Some(tag), "TLS is already active");
        }
        if !self.config.starttls {
            return self.bad(Some(tag), "STARTTLS is not supported");
        }
        self.ok(tag, "Begin TLS negotiation now");
        if !self.input.is_empty() {
            // Bytes pipelined after STARTTLS would be read as if they came through TLS.
            self.close_silently(Err(SessionError::StartTlsInjection));
            return;
        }
        self.phase = Phase::TlsHandoff;
        self.events.push_back(Event::StartTls);
    }

    fn on_enable(&mut self, tag: &Tag<'_>, names: &[String]) {
        let offered = |cap: &Capability<'_>| self.config.capabilities.contains(cap);
        let mut enabled: Vec<Capability<'static>> = Vec::new();
        for name in names {
            let cap = match name.to_ascii_uppercase().as_str() {
                "CONDSTORE" if offered(&Capability::CondStore) || offered(&Capability::QResync) => {
                    self.enabled.condstore = true;
                    Capability::CondStore
                }
                "QRESYNC" if offered(&Capability::QResync) => {
                    self.enabled.qresync = true;
                    self.enabled.condstore = true;
                    Capability::QResync
                }
                "UTF8=ACCEPT" if offered(&Capability::Utf8Accept) => {
                    self.enabled.utf8_accept = true;
                    Capability::Utf8Accept
                }
                "IMAP4REV2" if self.config.imap4rev2 => {
                    self.enabled.imap4rev2 = true;
                    Capability::Imap4Rev2
                }
                _ => continue,
            };
            if !enabled.contains(&cap) {
                enabled.push(cap);
            }
        }
        self.data(Data::Enabled(enabled.clone().into()));
        self.ok(tag, "ENABLE completed");
        if !enabled.is_empty() {
            self.events.push_back(Event::Enabled(enabled));
        }
    }

    fn on_idle_line(&mut self, line: &[u8], tag: Tag<'static>) {
        self.framer.set_literals(true);
        if IdleDone::parse(line).is_ok() {
            self.announce(Announce::All, false);
            self.ok(&tag, "IDLE terminated");
        } else {
            // RFC 2177: anything but DONE ends IDLE with BAD.
            self.bad(Some(&tag), "Expected DONE");
        }
    }
}

impl Running {
    fn new(tag: Tag<'static>) -> Self {
        Running {
            tag,
            select: None,
            uid: false,
            no_expunge: false,
            close: false,
            save: false,
        }
    }

    fn select(mut self, examine: bool, mailbox: Mailbox<'static>) -> Self {
        self.select = Some((examine, mailbox));
        self
    }

    fn by(mut self, uid: bool, no_expunge: bool) -> Self {
        self.uid = uid;
        self.no_expunge = no_expunge;
        self
    }
}

/// Whether the lines after this command are not commands: AUTHENTICATE (SASL responses),
/// IDLE (`DONE`), STARTTLS (the TLS handshake).
fn changes_framing(message: &[u8]) -> bool {
    let mut words = message.splitn(3, |&b| b == b' ' || b == b'\r');
    let _tag = words.next();
    words.next().is_some_and(|w| {
        [&b"AUTHENTICATE"[..], b"IDLE", b"STARTTLS"]
            .iter()
            .any(|name| w.eq_ignore_ascii_case(name))
    })
}

/// Whether a command's start names LOGIN (`tag LOGIN ...`).
fn is_login(prefix: &[u8]) -> bool {
    let mut words = prefix.splitn(3, |&b| b == b' ');
    let _tag = words.next();
    words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(b"LOGIN"))
}

/// Whether a framed message (its CRLF included) is an HTTP request line.
fn is_http_request(message: &[u8]) -> bool {
    let line = message.strip_suffix(b"\r\n").unwrap_or(message);
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    http::is_request_line(line)
}
