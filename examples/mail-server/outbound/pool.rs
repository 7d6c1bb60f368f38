//! Connection reuse and concurrency: idle sessions kept for the next message to the same
//! server, a global limit on deliveries in progress and one per destination.
//!
//! A delivery holds a place in both limits from before its lookup until its results are
//! known; idle sessions hold none (they are bounded by the per-destination limit for each
//! server, and each lives [`Tuning::idle_timeout`](super::Tuning) at most, then says QUIT and
//! waits [`Tuning::quit_grace`](super::Tuning) at most for the `221`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::session::Session;

/// Idle sessions are cached by server address, server name (lowercase) and whether it is the
/// smarthost ([`Target::key`](super::route::Target::key)).
type Key = (SocketAddr, String, bool);

/// The idle sessions and the limits.
pub(crate) struct Pool {
    idle: Mutex<HashMap<Key, Vec<(u64, Session)>>>,
    next_id: AtomicU64,
    global: Arc<Semaphore>,
    destinations: Mutex<HashMap<String, Arc<Semaphore>>>,
    per_destination: usize,
    /// Idle sessions kept at most, all servers together: the global limit, so that a burst
    /// of deliveries to many servers does not leave as many sockets open.
    max_idle: usize,
    idle_timeout: Duration,
    /// The longest a QUIT waits for its `221`.
    quit_grace: Duration,
}

/// A place in both limits, given back on drop.
#[derive(Debug)]
pub(crate) struct Admission {
    _global: Option<OwnedSemaphorePermit>,
    _destination: Option<OwnedSemaphorePermit>,
}

impl Pool {
    pub(crate) fn new(
        global: usize,
        per_destination: usize,
        idle_timeout: Duration,
        quit_grace: Duration,
    ) -> Arc<Pool> {
        Arc::new(Pool {
            idle: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            global: Arc::new(Semaphore::new(global.max(1))),
            destinations: Mutex::new(HashMap::new()),
            per_destination: per_destination.max(1),
            max_idle: global.max(1),
            idle_timeout,
            quit_grace,
        })
    }

    /// Waits for a place in the global limit and in `destination`'s.
    pub(crate) async fn admit(&self, destination: &str) -> Admission {
        let semaphore = {
            let mut map = self.destinations.lock().unwrap_or_else(|e| e.into_inner());
            // Semaphores nobody holds or waits for go, so the map only holds destinations in
            // progress.
            map.retain(|_, s| Arc::strong_count(s) > 1);
            map.entry(destination.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_destination)))
                .clone()
        };
        // The destination first: a delivery waiting for a busy domain holds no global place.
        let destination = semaphore.acquire_owned().await.ok();
        let global = self.global.clone().acquire_owned().await.ok();
        Admission {
            _global: global,
            _destination: destination,
        }
    }

    /// An idle session to `key` that is still alive, if any.
    pub(crate) async fn take(&self, key: Key) -> Option<Session> {
        loop {
            let candidate = {
                let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                let list = idle.get_mut(&key)?;
                let last = list.pop().map(|(_, session)| session);
                if list.is_empty() {
                    idle.remove(&key);
                }
                last
            };
            let mut session = candidate?;
            if session.is_alive().await {
                return Some(session);
            }
        }
    }

    /// Keeps `session` for the next message to `key`, for the idle time at most; then it
    /// says QUIT. Beyond the per-server limit it says QUIT at once; beyond the total, the
    /// session idle the longest does.
    pub(crate) fn put(self: &Arc<Self>, key: Key, session: Session) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (kept, surplus) = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let list = idle.entry(key.clone()).or_default();
            if list.len() >= self.per_destination {
                (false, Some(session))
            } else {
                list.push((id, session));
                let total: usize = idle.values().map(Vec::len).sum();
                match total > self.max_idle {
                    true => (true, oldest(&mut idle)),
                    false => (true, None),
                }
            }
        };
        let pool = self.clone();
        tokio::spawn(async move {
            if let Some(session) = surplus {
                session.quit(pool.quit_grace).await;
            }
            if !kept {
                return;
            }
            tokio::time::sleep(pool.idle_timeout).await;
            if let Some(session) = pool.remove(&key, id) {
                session.quit(pool.quit_grace).await;
            }
        });
    }

    /// Closes every idle session with QUIT (at shutdown): the QUITs go out together, and
    /// whatever server has not answered within `grace` is hung up on (a server that never
    /// answers QUIT would otherwise hold the shutdown for the client's command timeout, one
    /// session after the other).
    pub(crate) async fn close_idle(&self, grace: Duration) {
        let idle: Vec<Session> = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.drain()
                .flat_map(|(_, list)| list.into_iter().map(|(_, session)| session))
                .collect()
        };
        let mut quits = tokio::task::JoinSet::new();
        for session in idle {
            quits.spawn(session.quit(grace));
        }
        let all = async { while quits.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            // The QUITs still waiting end here, their connections closed before this returns.
            quits.shutdown().await;
        }
    }

    fn remove(&self, key: &Key, id: u64) -> Option<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let list = idle.get_mut(key)?;
        let at = list.iter().position(|(i, _)| *i == id)?;
        let (_, session) = list.remove(at);
        if list.is_empty() {
            idle.remove(key);
        }
        Some(session)
    }
}

/// Takes the session idle the longest (the smallest id) out of `idle`.
fn oldest(idle: &mut HashMap<Key, Vec<(u64, Session)>>) -> Option<Session> {
    let (key, at) = idle
        .iter()
        .flat_map(|(key, list)| {
            list.iter()
                .enumerate()
                .map(move |(at, (id, _))| (*id, key, at))
        })
        .min_by_key(|(id, _, _)| *id)
        .map(|(_, key, at)| (key.clone(), at))?;
    let list = idle.get_mut(&key)?;
    let (_, session) = list.remove(at);
    if list.is_empty() {
        idle.remove(&key);
    }
    Some(session)
}
