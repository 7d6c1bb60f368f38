//! The delivery worker: a background task that scans the queue, hands the due recipients of
//! each message to [`Outbound::deliver`] one domain at a time, and applies every
//! recipient's result (delivered, retry later, bounce).
//!
//! - Concurrency: at most `--outbound-connections` deliveries at once over all domains, and
//!   `--outbound-connections-per-domain` to any one domain (the delivery side's flags, which
//!   its connection pool applies too); at most as many messages in flight as connections.
//! - Wake-ups: when a message is queued ([`Queue::wake`]), when a message in flight finishes,
//!   at the earliest next try, and at least every [`MAX_IDLE`].
//! - Restarts: the first scan after a start treats every message as due, so everything still
//!   pending is tried again at once; a message leaves the queue only when none of its
//!   recipients is pending (at-least-once: a crash between a remote `250` and the envelope
//!   update delivers that recipient again).
//! - A state update the disk refuses (full, read-only): the worker keeps the new state in
//!   memory, goes by it (never the older file) and writes it again at the next try, so the
//!   message is not taken again at once and what the remote took is not delivered again.
//! - Bounces and delay notices: see [`super::dsn`]. A notification for a local sender goes
//!   into its Maildir through the store; for another sender it is queued like any message,
//!   with the null reverse path. A bounce that fails is never bounced: a permanent failure, or
//!   the end of its lifetime, drops it with a log line.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{Semaphore, watch};
use tracing::{info, warn};

use super::dsn::{self, Action, Line};
use super::envelope::{Envelope, Recipient, State, clean};
use super::schedule::Schedule;
use super::spool::{Entry, Queue, by_domain};
use crate::accounts::Address;
use crate::logsafe::Escaped;
use crate::outbound::{Outbound, OutboundJob, RecipientResult};
use crate::smtp::Policy;

/// The longest the worker sleeps without looking at the queue.
pub const MAX_IDLE: Duration = Duration::from_secs(60);

/// The worker's limits (`--outbound-connections`, `--outbound-connections-per-domain`) and
/// schedule.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Deliveries at once over all domains.
    pub max_connections: usize,
    /// Deliveries at once to one domain.
    pub max_per_domain: usize,
    /// Retries, lifetime, delay notice.
    pub schedule: Schedule,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            max_connections: 100,
            max_per_domain: 20,
            schedule: Schedule::default(),
        }
    }
}

/// The delivery worker. Start it with [`Worker::run`].
pub struct Worker {
    queue: Queue,
    outbound: Outbound,
    /// The store and the local domains, for notifications to local senders.
    policy: Arc<Policy>,
    hostname: String,
    settings: WorkerSettings,
    connections: Arc<Semaphore>,
    /// One semaphore per domain with deliveries under way (removed when none is).
    domains: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Envelopes whose new state could not be written (a full disk): newer than the file, so
    /// the worker goes by them, and tries the write again, never before their next try.
    unsaved: Mutex<HashMap<String, Envelope>>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.queue)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker delivering the messages of `queue` with `outbound`.
    pub(crate) fn new(
        queue: Queue,
        outbound: Outbound,
        policy: Arc<Policy>,
        hostname: String,
        settings: WorkerSettings,
    ) -> Worker {
        let connections = Arc::new(Semaphore::new(settings.max_connections.max(1)));
        Worker {
            queue,
            outbound,
            policy,
            hostname,
            settings,
            connections,
            domains: Mutex::new(HashMap::new()),
            unsaved: Mutex::new(HashMap::new()),
        }
    }

    /// Runs until `shutdown` turns true. Messages in flight are then abandoned where they are:
    /// their envelopes still say what is pending, and the next start tries them again.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
        let capacity = self.settings.max_connections.max(1);
        // The ids found at start: due at once, whatever their next try says.
        let mut at_start: Option<HashSet<String>> = None;
        loop {
            let now = SystemTime::now();
            let queue = self.queue.clone();
            let entries = match tokio::task::spawn_blocking(move || queue.scan()).await {
                Ok(Ok(entries)) => entries,
                Ok(Err(e)) => {
                    warn!(error = %e, "queue: cannot scan the queue");
                    Vec::new()
                }
                Err(e) => {
                    warn!(error = %e, "queue: the scan failed");
                    Vec::new()
                }
            };
            let restart = at_start.get_or_insert_with(|| {
                entries
                    .iter()
                    .filter_map(|e| match e {
                        Entry::Ready(envelope) => Some(envelope.id.clone()),
                        Entry::SetAside { .. } => None,
                    })
                    .collect()
            });
            let mut next: Option<SystemTime> = None;
            for entry in entries {
                let Entry::Ready(envelope) = entry else {
                    continue;
                };
                // A state the disk refused is newer than the file.
                let envelope = lock(&self.unsaved)
                    .get(&envelope.id)
                    .cloned()
                    .unwrap_or(envelope);
                let mut busy = lock(&in_flight);
                if busy.contains(&envelope.id) || self.queue.is_held(&envelope.id) {
                    continue;
                }
                let due = envelope.next_try <= now || restart.contains(&envelope.id);
                if !due {
                    next = Some(next.map_or(envelope.next_try, |n| n.min(envelope.next_try)));
                    continue;
                }
                if busy.len() >= capacity {
                    // A finishing message wakes the loop.
                    continue;
                }
                restart.remove(&envelope.id);
                busy.insert(envelope.id.clone());
                drop(busy);
                let (worker, in_flight) = (self.clone(), in_flight.clone());
                tokio::spawn(async move {
                    let id = envelope.id.clone();
                    let queue = worker.queue.clone();
                    worker.attempt(envelope).await;
                    lock(&in_flight).remove(&id);
                    queue.wake();
                });
            }
            let wait = next
                .and_then(|t| t.duration_since(now).ok())
                .unwrap_or(MAX_IDLE)
                .min(MAX_IDLE);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.queue.woken() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// The semaphore of `domain`.
    fn domain_slot(&self, domain: &str) -> Arc<Semaphore> {
        lock(&self.domains)
            .entry(domain.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.max_per_domain.max(1))))
            .clone()
    }

    /// Forgets the semaphore of `domain` when no delivery holds or waits for it.
    fn domain_done(&self, domain: &str) {
        let mut domains = lock(&self.domains);
        if domains
            .get(domain)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            domains.remove(domain);
        }
    }

    /// One attempt at the pending recipients of one message, then its new state on disk.
    async fn attempt(self: Arc<Self>, envelope: Envelope) {
        let id = envelope.id.clone();
        // The envelope on disk is the truth (the scan's copy could be older).
        let queue = self.queue.clone();
        let loaded = tokio::task::spawn_blocking(move || queue.load(&id)).await;
        let mut envelope = match loaded {
            Ok(Ok(current)) => current,
            // Gone or damaged since the scan: the next scan sets a damaged one aside.
            Ok(Err(reason)) => {
                warn!(id = %envelope.id, %reason, "queue: the envelope cannot be read again");
                return;
            }
            Err(_) => envelope,
        };
        if let Some(newer) = lock(&self.unsaved).get(&envelope.id) {
            envelope = newer.clone();
        }
        // No hop count here: every message in the queue passed `--max-hops` when the SMTP
        // session took it (`crate::hops`, its own `Received:` field included, and nothing is
        // added on the way out), and the notifications the worker queues carry the original
        // header block in a MIME part, not as their own trace fields.
        let message = self.queue.message_path(&envelope.id);
        let mut jobs = Vec::new();
        for (domain, recipients) in by_domain(&envelope) {
            let job = OutboundJob {
                domain,
                reverse_path: envelope.from.clone(),
                recipients,
                message: message.clone(),
                size: envelope.size,
                smtputf8: envelope.smtputf8,
                eight_bit: envelope.eight_bit,
            };
            let worker = self.clone();
            let recipients = job.recipients.clone();
            let handle = tokio::spawn(async move {
                let slot = worker.domain_slot(&job.domain);
                let results = {
                    let _all = worker.connections.acquire().await;
                    let _domain = slot.acquire().await;
                    worker.outbound.deliver(&job).await
                };
                drop(slot);
                worker.domain_done(&job.domain);
                results
            });
            jobs.push((recipients, handle));
        }
        let mut results = Vec::new();
        for (recipients, handle) in jobs {
            let outcome = match handle.await {
                Ok(outcome) => outcome,
                Err(e) => {
                    warn!(id = %envelope.id, error = %e, "queue: a delivery task failed");
                    Vec::new()
                }
            };
            let mut outcome = outcome.into_iter();
            for address in recipients {
                let result = outcome.next().unwrap_or(RecipientResult::Temporary {
                    remote: None,
                    diagnostic: "the delivery gave no result for this recipient".into(),
                });
                results.push((address, result));
            }
        }
        let now = SystemTime::now();
        let decision = apply(&mut envelope, results, now, &self.settings.schedule);
        let worker = self.clone();
        let finished = tokio::task::spawn_blocking(move || worker.settle(envelope, decision)).await;
        if let Err(e) = finished {
            warn!(error = %e, "queue: updating a message failed");
        }
    }

    /// Sends what `decision` asks for and writes the envelope's new state (or removes it).
    fn settle(&self, mut envelope: Envelope, decision: Decision) {
        let id = envelope.id.clone();
        if !decision.failed.is_empty() {
            if envelope.is_bounce() {
                for line in &decision.failed {
                    warn!(
                        %id,
                        to = %Escaped(&line.address),
                        status = %line.status,
                        diagnostic = %Escaped(&line.diagnostic),
                        "queue: a bounce could not be delivered and is dropped (bounces are never bounced)"
                    );
                }
            } else if let Err(e) = self.notify(&envelope, &decision.failed) {
                // Not lost: the recipients stay pending, and the notification is made again
                // after the next attempt.
                warn!(%id, error = %e, "queue: cannot send a bounce; the recipients stay pending");
                for rcpt in &mut envelope.recipients {
                    if rcpt.state == State::Failed
                        && decision.failed.iter().any(|l| l.address == rcpt.address)
                    {
                        rcpt.state = State::Pending;
                    }
                }
            }
        }
        if let Some(delayed) = &decision.delayed {
            if let Err(e) = self.notify(&envelope, delayed) {
                warn!(%id, error = %e, "queue: cannot send a delay notice");
                envelope.warned = false;
            }
        }
        let result = match envelope.pending().next() {
            None => self.queue.remove(&envelope).map(|()| {
                info!(%id, "queue: message done, removed from the queue");
            }),
            Some(_) => self.queue.save(&envelope),
        };
        match result {
            Ok(()) => {
                lock(&self.unsaved).remove(&id);
            }
            Err(e) => {
                // The file still holds the state before this attempt: going by it would try
                // the message again at once, and deliver again what the remote took. The
                // worker keeps the new state and writes it at the next try (a finished message
                // waits a retry interval before its removal is tried again).
                let retry = super::envelope::later(
                    SystemTime::now(),
                    self.settings.schedule.delay(envelope.attempts),
                );
                envelope.next_try = envelope.next_try.max(retry);
                warn!(%id, error = %e, next_try = %smtp_proto::trace::DateTime::from(envelope.next_try), "queue: cannot update the envelope; its new state is kept in memory until the next try");
                lock(&self.unsaved).insert(id, envelope);
            }
        }
    }

    /// Sends the sender of `envelope` a notification about `lines` (all failed, or all
    /// delayed): into its Maildir when it is a local address, else through the queue.
    fn notify(&self, envelope: &Envelope, lines: &[Line]) -> std::io::Result<()> {
        let now = SystemTime::now();
        let headers = original_headers(&self.queue.message_path(&envelope.id));
        let delayed = lines.iter().all(|l| l.action == Action::Delayed);
        let message = dsn::build(&dsn::Report {
            hostname: &self.hostname,
            id: &envelope.id,
            to: &envelope.from,
            arrival: envelope.arrival,
            now,
            retry_until: delayed.then(|| self.settings.schedule.end(envelope.arrival)),
            lines,
            headers: &headers,
        });
        let kind = if delayed { "delay notice" } else { "bounce" };
        let mailboxes = &self.policy.mailboxes;
        let local = Address::parse(&envelope.from)
            .ok()
            .map(|a| mailboxes.canonical(a))
            .filter(|a| mailboxes.is_local(a.domain()));
        match local {
            Some(sender) => {
                let store = &self.policy.store;
                let mut delivery = store.deliver(std::slice::from_ref(&sender))?;
                delivery.write(b"Return-Path: <>\r\n")?;
                delivery.write(&message)?;
                let size = delivery.size();
                let name = delivery.name().to_owned();
                delivery.commit()?;
                store.add_usage(&sender, size);
                info!(id = %envelope.id, to = %sender, delivered_as = %name, "queue: {kind} delivered to the local sender");
            }
            None => {
                let mut bounce = Envelope {
                    id: new_id(),
                    arrival: now,
                    from: String::new(),
                    user: None,
                    size: 0,
                    smtputf8: !envelope.from.is_ascii(),
                    eight_bit: !message.is_ascii(),
                    attempts: 0,
                    next_try: now,
                    warned: false,
                    recipients: vec![Recipient::new(envelope.from.clone())],
                };
                self.queue.enqueue(&mut bounce, &message)?;
                self.queue.wake();
                info!(id = %envelope.id, to = %Escaped(&envelope.from), queued_as = %bounce.id, "queue: {kind} queued for the sender");
            }
        }
        Ok(())
    }
}

/// What an attempt decided beyond the envelope's own update.
#[derive(Debug, Default)]
pub struct Decision {
    /// Recipients that failed for good in this attempt: the sender gets a bounce.
    pub failed: Vec<Line>,
    /// Recipients to report in a delay notice (sent once).
    pub delayed: Option<Vec<Line>>,
}

/// Applies the results of one attempt (`(recipient, result)`, any order) to `envelope` at
/// `now`: delivered recipients are marked, permanent failures and recipients still failing
/// when the lifetime has passed become failed, and the others wait for the next try. Counts
/// the attempt, and asks for the delay notice when it is due (never for a bounce).
pub(crate) fn apply(
    envelope: &mut Envelope,
    results: Vec<(String, RecipientResult)>,
    now: SystemTime,
    schedule: &Schedule,
) -> Decision {
    let mut by_address: BTreeMap<String, RecipientResult> = results.into_iter().collect();
    let expired = schedule.expired(envelope.arrival, now);
    let mut decision = Decision::default();
    let id = envelope.id.clone();
    for rcpt in &mut envelope.recipients {
        if rcpt.state != State::Pending {
            continue;
        }
        let result = by_address
            .remove(&rcpt.address)
            .unwrap_or(RecipientResult::Temporary {
                remote: None,
                diagnostic: "not attempted".into(),
            });
        match result {
            RecipientResult::Delivered { remote, reply } => {
                rcpt.state = State::Delivered;
                rcpt.status = enhanced_status(&reply).unwrap_or("2.0.0").to_owned();
                rcpt.remote = clean(&remote);
                rcpt.diagnostic = clean(&reply);
                info!(%id, to = %Escaped(&rcpt.address), remote = %Escaped(&remote), reply = %Escaped(&reply), "queue: delivered");
            }
            RecipientResult::Permanent {
                remote,
                status,
                diagnostic,
            } => {
                rcpt.state = State::Failed;
                rcpt.status = clean(&status);
                rcpt.remote = clean(remote.as_deref().unwrap_or(""));
                rcpt.diagnostic = clean(&diagnostic);
                info!(%id, to = %Escaped(&rcpt.address), %status, diagnostic = %Escaped(&diagnostic), "queue: failed for good");
                decision.failed.push(line(rcpt, Action::Failed));
            }
            RecipientResult::Temporary { remote, diagnostic } => {
                rcpt.status = enhanced_status(&diagnostic)
                    .filter(|s| s.starts_with('4'))
                    .unwrap_or("4.0.0")
                    .to_owned();
                rcpt.remote = clean(remote.as_deref().unwrap_or(""));
                rcpt.diagnostic = clean(&diagnostic);
                if expired {
                    rcpt.state = State::Failed;
                    // RFC 3463: 4.4.7, delivery time expired.
                    rcpt.status = "4.4.7".into();
                    info!(%id, to = %Escaped(&rcpt.address), diagnostic = %Escaped(&diagnostic), "queue: expired: the queue lifetime passed");
                    decision.failed.push(line(rcpt, Action::Failed));
                } else {
                    info!(%id, to = %Escaped(&rcpt.address), diagnostic = %Escaped(&diagnostic), "queue: deferred");
                }
            }
        }
    }
    envelope.attempts = envelope.attempts.saturating_add(1);
    let pending: Vec<Line> = envelope
        .pending()
        .map(|r| line(r, Action::Delayed))
        .collect();
    if !pending.is_empty() {
        envelope.next_try = schedule.next_try(envelope.arrival, envelope.attempts, now);
        if !envelope.warned && !envelope.is_bounce() && schedule.warn(envelope.arrival, now) {
            envelope.warned = true;
            decision.delayed = Some(pending);
        }
    }
    decision
}

/// The notification line of `rcpt`.
fn line(rcpt: &Recipient, action: Action) -> Line {
    Line {
        address: rcpt.address.clone(),
        action,
        status: rcpt.status.clone(),
        remote: rcpt.remote.clone(),
        diagnostic: rcpt.diagnostic.clone(),
    }
}

/// The enhanced status code of a reply text (`550 5.1.1 ...` gives `5.1.1`), if it has one.
pub fn enhanced_status(reply: &str) -> Option<&str> {
    let code = reply.get(4..)?.split_whitespace().next()?;
    let mut parts = code.split('.');
    let class = parts.next()?;
    let ok = matches!(class, "2" | "4" | "5")
        && parts.clone().count() == 2
        && parts.all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then_some(code)
}

/// The header block of the queued message at `path` (read bounded; empty if unreadable).
fn original_headers(path: &std::path::Path) -> Vec<u8> {
    let mut head = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file
            .take(dsn::MAX_RETURNED_HEADERS as u64 + 4)
            .read_to_end(&mut head);
    }
    dsn::header_block(&head).to_vec()
}

/// A fresh queue id: seconds, a per-process counter, the process id and random hex.
pub fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = super::envelope::unix(SystemTime::now());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut random = [0u8; 8];
    // The system RNG does not fail where we run; the counter keeps ids unique anyway.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{now}.Q{n}P{}R{hex}", std::process::id())
}

/// Locks `mutex`, recovering from poisoning (the data is still consistent for our uses).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn envelope(recipients: &[&str]) -> Envelope {
        Envelope {
            id: "Q".into(),
            arrival: UNIX_EPOCH + Duration::from_secs(1000),
            from: "alice@example.com".into(),
            user: Some("alice@example.com".into()),
            size: 10,
            smtputf8: false,
            eight_bit: false,
            attempts: 0,
            next_try: UNIX_EPOCH,
            warned: false,
            recipients: recipients
                .iter()
                .map(|r| Recipient::new((*r).into()))
                .collect(),
        }
    }

    fn schedule() -> Schedule {
        Schedule {
            retry: vec![Duration::from_secs(60), Duration::from_secs(120)],
            lifetime: Duration::from_secs(1000),
            delay_warning: Some(Duration::from_secs(300)),
        }
    }

    #[test]
    fn each_result_moves_its_recipient() {
        let mut e = envelope(&["a@x.example", "b@x.example", "c@y.example"]);
        let t = e.arrival + Duration::from_secs(10);
        let decision = apply(
            &mut e,
            vec![
                (
                    "c@y.example".into(),
                    RecipientResult::Temporary {
                        remote: Some("mx.y.example".into()),
                        diagnostic: "451 4.3.0 later".into(),
                    },
                ),
                (
                    "a@x.example".into(),
                    RecipientResult::Delivered {
                        remote: "mx.x.example".into(),
                        reply: "250 2.0.0 ok".into(),
                    },
                ),
                (
                    "b@x.example".into(),
                    RecipientResult::Permanent {
                        remote: Some("mx.x.example".into()),
                        status: "5.1.1".into(),
                        diagnostic: "550 5.1.1 unknown".into(),
                    },
                ),
            ],
            t,
            &schedule(),
        );
        let states: Vec<State> = e.recipients.iter().map(|r| r.state).collect();
        assert_eq!(states, [State::Delivered, State::Failed, State::Pending]);
        assert_eq!(e.recipients[2].status, "4.3.0");
        assert_eq!(e.attempts, 1);
        assert_eq!(e.next_try, t + Duration::from_secs(60));
        assert_eq!(decision.failed.len(), 1);
        assert_eq!(decision.failed[0].address, "b@x.example");
        assert_eq!(decision.failed[0].status, "5.1.1");
        assert!(decision.delayed.is_none(), "not yet 300 s");

        // Later: still failing, past the delay warning: one notice, once.
        let t = e.arrival + Duration::from_secs(400);
        let temp = || RecipientResult::Temporary {
            remote: None,
            diagnostic: "connection refused".into(),
        };
        let decision = apply(&mut e, vec![("c@y.example".into(), temp())], t, &schedule());
        let delayed = decision.delayed.expect("delay notice");
        assert_eq!(delayed[0].address, "c@y.example");
        assert_eq!(delayed[0].status, "4.0.0");
        assert!(e.warned);
        assert_eq!(e.next_try, t + Duration::from_secs(120));
        let decision = apply(&mut e, vec![("c@y.example".into(), temp())], t, &schedule());
        assert!(decision.delayed.is_none(), "only once");

        // Past the lifetime: failed with 4.4.7.
        let t = e.arrival + Duration::from_secs(1000);
        let decision = apply(&mut e, vec![("c@y.example".into(), temp())], t, &schedule());
        assert_eq!(decision.failed.len(), 1);
        assert_eq!(decision.failed[0].status, "4.4.7");
        assert_eq!(decision.failed[0].diagnostic, "connection refused");
        assert!(e.pending().next().is_none());
    }

    #[test]
    fn bounces_get_no_delay_notice_and_missing_results_are_temporary() {
        let mut e = envelope(&["a@x.example"]);
        e.from = String::new();
        let t = e.arrival + Duration::from_secs(500);
        let decision = apply(&mut e, Vec::new(), t, &schedule());
        assert!(decision.delayed.is_none());
        assert!(decision.failed.is_empty());
        assert_eq!(e.recipients[0].state, State::Pending);
        assert_eq!(e.recipients[0].diagnostic, "not attempted");
    }

    #[test]
    fn enhanced_status_codes_are_found_in_replies() {
        assert_eq!(enhanced_status("550 5.1.1 no such user"), Some("5.1.1"));
        assert_eq!(enhanced_status("451 4.3.0"), Some("4.3.0"));
        assert_eq!(enhanced_status("451 try again"), None);
        assert_eq!(enhanced_status("550 5.1 short"), None);
        assert_eq!(enhanced_status("55"), None);
        assert_eq!(enhanced_status("550 5.1.1234 long"), None);
    }

    #[test]
    fn queue_ids_are_unique_and_valid() {
        let ids: HashSet<String> = (0..1000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| super::super::envelope::valid_id(id)));
    }
}
