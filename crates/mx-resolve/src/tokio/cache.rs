//! The resolver's cache: answers by question, each until its TTL runs out (RFC 1035 section
//! 3.2.1; negative answers by the SOA of RFC 2308 section 5), bounded in entries.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::wire::{Message, Name, Rcode, RecordType};

/// The cache key: the name (compared and hashed ignoring ASCII case) and the type.
pub(crate) type Key = (Name, RecordType);

#[derive(Debug)]
struct Entry {
    message: Message,
    expires: Instant,
}

/// Answers by question, at most `capacity` of them.
#[derive(Debug)]
pub(crate) struct Cache {
    entries: HashMap<Key, Entry>,
    capacity: usize,
    max_ttl: Duration,
    max_negative_ttl: Duration,
}

impl Cache {
    pub(crate) fn new(capacity: usize, max_ttl: Duration, max_negative_ttl: Duration) -> Cache {
        Cache {
            entries: HashMap::new(),
            capacity,
            max_ttl,
            max_negative_ttl,
        }
    }

    /// The cached answer, if it has not expired at `now`.
    pub(crate) fn get(&mut self, key: &Key, now: Instant) -> Option<Message> {
        match self.entries.get(key) {
            Some(entry) if entry.expires > now => Some(entry.message.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `message`, the answer to `key`, for as long as its TTLs allow. Answers that carry
    /// no TTL to go by (a negative answer without an SOA, a TTL of 0) are not kept. When the
    /// cache is full, expired entries go first, then the entry that would expire soonest.
    pub(crate) fn insert(&mut self, key: Key, message: &Message, now: Instant) {
        if self.capacity == 0 {
            return;
        }
        let Some(ttl) = self.ttl(message, key.1) else {
            return;
        };
        if ttl.is_zero() {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.entries.retain(|_, e| e.expires > now);
            if self.entries.len() >= self.capacity {
                let soonest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.expires)
                    .map(|(k, _)| k.clone());
                if let Some(soonest) = soonest {
                    self.entries.remove(&soonest);
                }
            }
        }
        self.entries.insert(
            key,
            Entry {
                message: message.clone(),
                expires: now + ttl,
            },
        );
    }

    /// How long `message` may be cached: the smallest TTL of its answer records if they hold the
    /// type asked for; otherwise (NXDOMAIN, NODATA) the negative TTL of RFC 2308 section 5,
    /// also bounded by the TTLs of any CNAME records that led to the negative answer.
    fn ttl(&self, message: &Message, qtype: RecordType) -> Option<Duration> {
        let answers_min = message.answers.iter().map(|r| r.ttl).min();
        let positive =
            message.rcode() == Rcode::NoError && message.answers.iter().any(|r| r.rtype == qtype);
        if positive {
            let ttl = Duration::from_secs(u64::from(answers_min.unwrap_or(0)));
            return Some(ttl.min(self.max_ttl));
        }
        let negative = message.negative_ttl()?;
        let ttl = answers_min.map_or(negative, |a| a.min(negative));
        Some(Duration::from_secs(u64::from(ttl)).min(self.max_negative_ttl))
    }
}
