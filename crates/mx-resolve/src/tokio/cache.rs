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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{CLASS_IN, Header, RData, Record, Soa};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn record(owner: &str, rtype: RecordType, ttl: u32, data: RData) -> Record {
        Record {
            name: name(owner),
            rtype,
            class: CLASS_IN,
            ttl,
            data,
        }
    }

    fn positive(ttl: u32) -> Message {
        Message {
            header: Header {
                response: true,
                ..Header::default()
            },
            answers: vec![record(
                "a.test",
                RecordType::A,
                ttl,
                RData::A([192, 0, 2, 1].into()),
            )],
            ..Message::default()
        }
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        record(
            "test",
            RecordType::Soa,
            ttl,
            RData::Soa(Box::new(Soa {
                mname: name("ns.test"),
                rname: name("hostmaster.test"),
                serial: 1,
                refresh: 1,
                retry: 1,
                expire: 1,
                minimum,
            })),
        )
    }

    fn key(owner: &str) -> Key {
        (name(owner), RecordType::A)
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn full_cache_evicts_expired_entries_first_then_the_soonest() {
        let now = Instant::now();
        let mut cache = Cache::new(2, HOUR, HOUR);
        cache.insert(key("short.test"), &positive(10), now);
        cache.insert(key("long.test"), &positive(100), now);
        // Full: the entry expiring soonest goes.
        cache.insert(key("new.test"), &positive(50), now);
        assert!(cache.get(&key("short.test"), now).is_none());
        assert!(cache.get(&key("long.test"), now).is_some());
        assert!(cache.get(&key("new.test"), now).is_some());
        // Later, once new.test expired: it goes, though long.test would expire sooner than the
        // newcomer.
        let later = now + Duration::from_secs(60);
        cache.insert(key("newer.test"), &positive(1000), later);
        assert!(cache.get(&key("long.test"), later).is_some());
        assert!(cache.get(&key("newer.test"), later).is_some());
        assert_eq!(cache.entries.len(), 2);
        // Expired entries are not served.
        assert!(
            cache
                .get(&key("long.test"), now + Duration::from_secs(100))
                .is_none()
        );
    }

    #[test]
    fn negative_answers_by_their_soa_and_cname() {
        let now = Instant::now();
        let mut cache = Cache::new(8, HOUR, Duration::from_secs(600));
        // NXDOMAIN through a CNAME of TTL 30, SOA TTL 300, MINIMUM 60: kept 30 seconds.
        let mut nxdomain = Message {
            header: Header {
                response: true,
                rcode: Rcode::NxDomain,
                ..Header::default()
            },
            answers: vec![record(
                "alias.test",
                RecordType::Cname,
                30,
                RData::Cname(name("gone.test")),
            )],
            authority: vec![soa(300, 60)],
            ..Message::default()
        };
        assert_eq!(
            cache.ttl(&nxdomain, RecordType::A),
            Some(Duration::from_secs(30))
        );
        nxdomain.answers.clear();
        assert_eq!(
            cache.ttl(&nxdomain, RecordType::A),
            Some(Duration::from_secs(60))
        );
        // The negative TTL is capped by max_negative_ttl.
        nxdomain.authority = vec![soa(86_400, 86_400)];
        assert_eq!(
            cache.ttl(&nxdomain, RecordType::A),
            Some(Duration::from_secs(600))
        );
        // Without an SOA a negative answer is not kept (RFC 2308 section 5).
        nxdomain.authority.clear();
        cache.insert(key("gone.test"), &nxdomain, now);
        assert!(cache.get(&key("gone.test"), now).is_none());
        // Positive answers are capped by max_ttl.
        let cache = Cache::new(8, Duration::from_secs(5), HOUR);
        assert_eq!(
            cache.ttl(&positive(300), RecordType::A),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let now = Instant::now();
        let mut cache = Cache::new(0, HOUR, HOUR);
        cache.insert(key("a.test"), &positive(300), now);
        assert!(cache.get(&key("a.test"), now).is_none());
    }
}
