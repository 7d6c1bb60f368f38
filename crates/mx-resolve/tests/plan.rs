//! The delivery planner from the outside: a table of destinations, each with the DNS data a
//! recursive nameserver would answer from and the candidate list (or the classified failure)
//! expected, driven through the sans-IO `Planner` with canned `Message`s.

use std::cell::RefCell;
use std::net::IpAddr;

use mx_resolve::plan::{
    LocalCheck, LookupFailure, PlanConfig, PlanError, Planner, SeededRng, Step, UnexpectedAnswer,
    plan_with,
};
use mx_resolve::wire::{
    CLASS_IN, Header, Message, Name, Question, RData, Rcode, Record, RecordType, Soa,
};

/// DNS data in a small zone-file syntax, one record a line: `NAME TYPE DATA`, where TYPE is
/// `MX` (`PREFERENCE EXCHANGE`), `A`, `AAAA`, `CNAME`, `TXT`; or a failure for one question:
/// `NAME FAIL TYPE servfail|refused|timeout`. Names are absolute.
struct Zone {
    records: Vec<Record>,
    failures: Vec<(Name, RecordType, LookupFailure)>,
    /// Whether the nameserver follows CNAME chains itself, as a recursive server does; when
    /// not, it answers with the first CNAME and the planner must ask again.
    chase: bool,
    /// Every question asked, as `NAME TYPE`.
    asked: RefCell<Vec<String>>,
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn type_of(text: &str) -> RecordType {
    match text {
        "A" => RecordType::A,
        "AAAA" => RecordType::Aaaa,
        "MX" => RecordType::Mx,
        "CNAME" => RecordType::Cname,
        "TXT" => RecordType::Txt,
        other => panic!("type {other}"),
    }
}

fn type_text(rtype: RecordType) -> &'static str {
    match rtype {
        RecordType::A => "A",
        RecordType::Aaaa => "AAAA",
        RecordType::Mx => "MX",
        RecordType::Cname => "CNAME",
        RecordType::Txt => "TXT",
        _ => "OTHER",
    }
}

fn record(owner: &str, rtype: RecordType, data: RData) -> Record {
    Record {
        name: name(owner),
        rtype,
        class: CLASS_IN,
        ttl: 300,
        data,
    }
}

impl Zone {
    fn new(text: &str) -> Zone {
        let mut zone = Zone {
            records: Vec::new(),
            failures: Vec::new(),
            chase: true,
            asked: RefCell::new(Vec::new()),
        };
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (owner, kind) = (words[0], words[1]);
            let data = match kind {
                "MX" => RData::Mx {
                    preference: words[2].parse().unwrap(),
                    exchange: name(words[3]),
                },
                "A" => RData::A(words[2].parse().unwrap()),
                "AAAA" => RData::Aaaa(words[2].parse().unwrap()),
                "CNAME" => RData::Cname(name(words[2])),
                "TXT" => RData::Txt(vec![words[2].as_bytes().to_vec()]),
                "FAIL" => {
                    let failure = match words[3] {
                        "servfail" => LookupFailure::Rcode(Rcode::ServFail),
                        "refused" => LookupFailure::Rcode(Rcode::Refused),
                        "timeout" => LookupFailure::Timeout,
                        other => panic!("failure {other}"),
                    };
                    zone.failures
                        .push((name(owner), type_of(words[2]), failure));
                    continue;
                }
                other => panic!("record type {other}"),
            };
            zone.records.push(record(owner, type_of(kind), data));
        }
        zone
    }

    fn no_chase(mut self) -> Zone {
        self.chase = false;
        self
    }

    fn exists(&self, owner: &Name) -> bool {
        self.records.iter().any(|r| r.name == *owner)
    }

    /// The answer a recursive nameserver would give, with the SOA of RFC 2308 for negative
    /// answers.
    fn answer(&self, qname: &Name, qtype: RecordType) -> Result<Message, LookupFailure> {
        self.asked
            .borrow_mut()
            .push(format!("{qname} {}", type_text(qtype)));
        if let Some((_, _, failure)) = self
            .failures
            .iter()
            .find(|(n, t, _)| n == qname && *t == qtype)
        {
            return match failure {
                LookupFailure::Rcode(rcode) => {
                    Ok(self.message(qname, qtype, *rcode, vec![], false))
                }
                other => Err(other.clone()),
            };
        }
        let mut answers = Vec::new();
        let mut current = qname.clone();
        // A bound on the nameserver's own chasing, as real servers have.
        for _ in 0..16 {
            let found: Vec<Record> = self
                .records
                .iter()
                .filter(|r| r.name == current && r.rtype == qtype)
                .cloned()
                .collect();
            if !found.is_empty() {
                answers.extend(found);
                return Ok(self.message(qname, qtype, Rcode::NoError, answers, false));
            }
            let Some(alias) = self
                .records
                .iter()
                .find(|r| r.name == current && r.rtype == RecordType::Cname)
            else {
                break;
            };
            answers.push(alias.clone());
            let RData::Cname(target) = &alias.data else {
                unreachable!()
            };
            current = target.clone();
            if !self.chase {
                return Ok(self.message(qname, qtype, Rcode::NoError, answers, false));
            }
        }
        let rcode = if self.exists(&current) {
            Rcode::NoError
        } else {
            Rcode::NxDomain
        };
        Ok(self.message(qname, qtype, rcode, answers, true))
    }

    fn message(
        &self,
        qname: &Name,
        qtype: RecordType,
        rcode: Rcode,
        answers: Vec<Record>,
        negative: bool,
    ) -> Message {
        let authority = if negative {
            vec![record(
                "example.",
                RecordType::Soa,
                RData::Soa(Box::new(Soa {
                    mname: name("ns.example."),
                    rname: name("hostmaster.example."),
                    serial: 1,
                    refresh: 3600,
                    retry: 600,
                    expire: 86400,
                    minimum: 60,
                })),
            )]
        } else {
            Vec::new()
        };
        Message {
            header: Header {
                id: 1,
                response: true,
                recursion_desired: true,
                recursion_available: true,
                rcode,
                ..Header::default()
            },
            questions: vec![Question {
                name: qname.clone(),
                qtype,
                qclass: CLASS_IN,
            }],
            answers,
            authority,
            additional: Vec::new(),
            edns: None,
        }
    }

    fn plan(
        &self,
        destination: &str,
        config: PlanConfig,
        seed: u64,
    ) -> Result<Vec<String>, PlanError> {
        plan_with(destination, config, SeededRng::new(seed), |n, t| {
            self.answer(n, t)
        })
        .map(|list| list.iter().map(ToString::to_string).collect())
    }

    fn asked(&self) -> Vec<String> {
        self.asked.borrow().clone()
    }
}

/// A failure as `class status: message`, the way the `mx-lookup` example prints it.
fn failure(error: &PlanError) -> String {
    let class = if error.is_permanent() {
        "permanent"
    } else {
        "temporary"
    };
    format!("{class} {}: {error}", error.enhanced_status())
}

fn expect_ok(zone: &Zone, destination: &str, config: PlanConfig, expected: &[&str]) {
    match zone.plan(destination, config, 1) {
        Ok(list) => assert_eq!(list, expected, "{destination}"),
        Err(error) => panic!("{destination}: {}", failure(&error)),
    }
}

fn expect_err(zone: &Zone, destination: &str, config: PlanConfig, expected: &str) {
    match zone.plan(destination, config, 1) {
        Ok(list) => panic!("{destination}: expected {expected}, got {list:?}"),
        Err(error) => assert_eq!(failure(&error), expected, "{destination}"),
    }
}

fn v4_only() -> PlanConfig {
    PlanConfig {
        ipv6: false,
        ..PlanConfig::default()
    }
}

const MX_SET: &str = "
    example.org. MX 10 mx1.example.org.
    example.org. MX 20 mx2.example.org.
    example.org. A 203.0.113.99
    mx1.example.org. A 192.0.2.1
    mx1.example.org. AAAA 2001:db8::1
    mx2.example.org. A 192.0.2.2
";

#[test]
fn mx_set_in_preference_order_ipv6_first() {
    let zone = Zone::new(MX_SET);
    expect_ok(
        &zone,
        "example.org",
        PlanConfig::default(),
        &[
            "10 mx1.example.org. 2001:db8::1",
            "10 mx1.example.org. 192.0.2.1",
            "20 mx2.example.org. 192.0.2.2",
        ],
    );
    // The domain's own address (203.0.113.99) is never used when it has MX records.
    let asked = zone.asked();
    assert_eq!(asked[0], "example.org. MX");
    assert!(!asked.contains(&"example.org. A".to_string()), "{asked:?}");
}

#[test]
fn families_follow_the_configuration() {
    let zone = Zone::new(MX_SET);
    let ipv4_first = PlanConfig {
        prefer_ipv6: false,
        ..PlanConfig::default()
    };
    expect_ok(
        &zone,
        "example.org.",
        ipv4_first,
        &[
            "10 mx1.example.org. 192.0.2.1",
            "10 mx1.example.org. 2001:db8::1",
            "20 mx2.example.org. 192.0.2.2",
        ],
    );
    let zone = Zone::new(MX_SET);
    expect_ok(
        &zone,
        "example.org",
        v4_only(),
        &[
            "10 mx1.example.org. 192.0.2.1",
            "20 mx2.example.org. 192.0.2.2",
        ],
    );
    // No AAAA question is asked when IPv6 is off.
    assert!(
        zone.asked().iter().all(|q| !q.ends_with("AAAA")),
        "{:?}",
        zone.asked()
    );
    let zone = Zone::new(MX_SET);
    let v6_only = PlanConfig {
        ipv4: false,
        ..PlanConfig::default()
    };
    expect_ok(
        &zone,
        "example.org",
        v6_only,
        &["10 mx1.example.org. 2001:db8::1"],
    );
}

const EQUAL: &str = "
    example.org. MX 10 a.example.org.
    example.org. MX 10 b.example.org.
    example.org. MX 10 c.example.org.
    example.org. MX 5 first.example.org.
    example.org. MX 20 last.example.org.
    a.example.org. A 192.0.2.1
    b.example.org. A 192.0.2.2
    c.example.org. A 192.0.2.3
    first.example.org. A 192.0.2.4
    last.example.org. A 192.0.2.5
";

#[test]
fn equal_preferences_in_the_order_a_seed_gives() {
    let zone = Zone::new(EQUAL);
    let seeded = |seed| zone.plan("example.org", v4_only(), seed).unwrap();
    // The order for seed 1 is fixed: SplitMix64 from seed 1, a Fisher-Yates shuffle, then a
    // stable sort by preference.
    assert_eq!(
        seeded(1),
        [
            "5 first.example.org. 192.0.2.4",
            "10 c.example.org. 192.0.2.3",
            "10 b.example.org. 192.0.2.2",
            "10 a.example.org. 192.0.2.1",
            "20 last.example.org. 192.0.2.5",
        ]
    );
    assert_eq!(seeded(1), seeded(1));
    // Over many seeds every order of the three equal exchanges appears, and the other two
    // never move.
    let mut orders = std::collections::BTreeMap::new();
    for seed in 0..600 {
        let list = seeded(seed);
        assert!(list[0].starts_with("5 first."));
        assert!(list[4].starts_with("20 last."));
        let middle: String = list[1..4].iter().map(|l| &l[3..4]).collect();
        *orders.entry(middle).or_insert(0) += 1;
    }
    assert_eq!(orders.len(), 6, "{orders:?}");
    // Each of the 6 orders is expected 100 times in 600; a biased shuffle (a random
    // comparator, or modulo bias at this size) shows far outside this band.
    assert!(orders.values().all(|n| (50..150).contains(n)), "{orders:?}");
}

const CHAINS: &str = "
    example.org. CNAME mail.example.net.
    mail.example.net. MX 10 mx.example.net.
    mx.example.net. CNAME host.example.net.
    host.example.net. A 192.0.2.9
";

#[test]
fn cname_chains_are_followed_whoever_chases_them() {
    expect_ok(
        &Zone::new(CHAINS),
        "example.org",
        PlanConfig::default(),
        &["10 mx.example.net. 192.0.2.9"],
    );
    // A nameserver that answers only the first CNAME: the planner asks for the target.
    let zone = Zone::new(CHAINS).no_chase();
    expect_ok(
        &zone,
        "example.org",
        v4_only(),
        &["10 mx.example.net. 192.0.2.9"],
    );
    assert_eq!(
        zone.asked(),
        [
            "example.org. MX",
            "mail.example.net. MX",
            "mx.example.net. A",
            "host.example.net. A"
        ]
    );
}

#[test]
fn cname_loop_and_too_long_chain_of_the_domain_are_temporary() {
    let looping = "
        example.org. CNAME b.example.org.
        b.example.org. CNAME example.org.
    ";
    let expected = "temporary 4.4.3: example.org.: CNAME chain loops or is too long";
    expect_err(
        &Zone::new(looping),
        "example.org",
        PlanConfig::default(),
        expected,
    );
    expect_err(
        &Zone::new(looping).no_chase(),
        "example.org",
        PlanConfig::default(),
        expected,
    );

    // A chain of exactly max_cname_depth CNAMEs is followed; one more is refused.
    let chain = |links: usize| {
        let mut text = String::new();
        for i in 0..links {
            let from = if i == 0 {
                "example.org.".to_string()
            } else {
                format!("c{i}.example.org.")
            };
            text.push_str(&format!("{from} CNAME c{}.example.org.\n", i + 1));
        }
        text.push_str(&format!("c{links}.example.org. MX 10 mx.example.org.\n"));
        text.push_str("mx.example.org. A 192.0.2.1\n");
        Zone::new(&text)
    };
    let depth = PlanConfig {
        max_cname_depth: 3,
        ..v4_only()
    };
    expect_ok(
        &chain(3),
        "example.org",
        depth.clone(),
        &["10 mx.example.org. 192.0.2.1"],
    );
    expect_ok(
        &chain(3).no_chase(),
        "example.org",
        depth.clone(),
        &["10 mx.example.org. 192.0.2.1"],
    );
    expect_err(&chain(4), "example.org", depth.clone(), expected);
    expect_err(&chain(4).no_chase(), "example.org", depth, expected);
}

#[test]
fn null_mx_is_permanent_5_1_10() {
    let zone = Zone::new(
        "
        example.org. MX 0 .
        example.org. A 192.0.2.1
    ",
    );
    expect_err(
        &zone,
        "example.org",
        PlanConfig::default(),
        "permanent 5.1.10: example.org. does not accept mail (null MX, RFC 7505)",
    );
    // No address is looked up for a null MX, not even the domain's own.
    assert_eq!(zone.asked(), ["example.org. MX"]);
    // A root exchange beside real ones is a bad record: dropped alone.
    expect_ok(
        &Zone::new(
            "
            example.org. MX 0 .
            example.org. MX 10 mx.example.org.
            mx.example.org. A 192.0.2.1
        ",
        ),
        "example.org",
        PlanConfig::default(),
        &["10 mx.example.org. 192.0.2.1"],
    );
}

#[test]
fn no_mx_means_the_implicit_mx() {
    expect_ok(
        &Zone::new(
            "
            example.org. A 192.0.2.1
            example.org. AAAA 2001:db8::1
            example.org. TXT v=spf1
        ",
        ),
        "example.org",
        PlanConfig::default(),
        &["0 example.org. 2001:db8::1", "0 example.org. 192.0.2.1"],
    );
    // The domain exists but has no address either.
    expect_err(
        &Zone::new("example.org. TXT hello"),
        "example.org",
        PlanConfig::default(),
        "permanent 5.4.4: no mail exchanger of example.org. has a usable address",
    );
}

#[test]
fn nxdomain_is_permanent_and_server_failures_temporary() {
    let zone = Zone::new(
        "
        other.example. A 192.0.2.1
        broken.example. FAIL MX servfail
        refusing.example. FAIL MX refused
        slow.example. FAIL MX timeout
        alias.example. CNAME gone.example.
    ",
    );
    let config = PlanConfig::default;
    expect_err(
        &zone,
        "nowhere.example",
        config(),
        "permanent 5.4.4: nowhere.example.: no such domain (NXDOMAIN)",
    );
    // NXDOMAIN at the end of a chain names the last name (RFC 6604).
    expect_err(
        &zone,
        "alias.example",
        config(),
        "permanent 5.4.4: gone.example.: no such domain (NXDOMAIN)",
    );
    expect_err(
        &zone,
        "broken.example",
        config(),
        "temporary 4.4.3: MX lookup of broken.example.: server failure (SERVFAIL)",
    );
    expect_err(
        &zone,
        "refusing.example",
        config(),
        "temporary 4.4.3: MX lookup of refusing.example.: query refused (REFUSED)",
    );
    expect_err(
        &zone,
        "slow.example",
        config(),
        "temporary 4.4.3: MX lookup of slow.example.: timed out",
    );
}

#[test]
fn bad_records_are_dropped_one_at_a_time() {
    let zone = Zone::new(
        "
        example.org. MX 5 192.0.2.66.
        example.org. MX 10 nowhere.example.org.
        example.org. MX 15 noaddress.example.org.
        example.org. MX 20 loop1.example.org.
        example.org. MX 25 zero.example.org.
        example.org. MX 30 good.example.org.
        example.org. MX 40 good.example.org.
        example.org. MX 50 twin.example.org.
        noaddress.example.org. TXT hello
        loop1.example.org. CNAME loop2.example.org.
        loop2.example.org. CNAME loop1.example.org.
        zero.example.org. A 0.0.0.0
        zero.example.org. A 224.0.0.1
        zero.example.org. AAAA ::
        zero.example.org. AAAA ff02::1
        good.example.org. A 192.0.2.1
        good.example.org. A 192.0.2.1
        twin.example.org. A 192.0.2.1
        twin.example.org. A 192.0.2.2
    ",
    );
    expect_ok(
        &zone,
        "example.org",
        PlanConfig::default(),
        // The duplicate exchange keeps its lower preference; the address twin shares with good
        // is tried once.
        &[
            "30 good.example.org. 192.0.2.1",
            "50 twin.example.org. 192.0.2.2",
        ],
    );
    // The IP-literal exchange is never looked up.
    assert!(
        !zone.asked().iter().any(|q| q.starts_with("192.")),
        "{:?}",
        zone.asked()
    );
    // When every record is bad, the failure is permanent.
    expect_err(
        &Zone::new(
            "
            example.org. MX 10 192.0.2.1.
            example.org. MX 20 nowhere.example.org.
            example.org. A 192.0.2.1
        ",
        ),
        "example.org",
        PlanConfig::default(),
        "permanent 5.4.4: no mail exchanger of example.org. has a usable address",
    );
}

#[test]
fn exchanges_that_fail_temporarily_are_skipped_unless_all_do() {
    let text = "
        example.org. MX 10 mx1.example.org.
        example.org. MX 20 mx2.example.org.
        mx1.example.org. FAIL A servfail
        mx2.example.org. A 192.0.2.2
    ";
    expect_ok(
        &Zone::new(text),
        "example.org",
        v4_only(),
        &["20 mx2.example.org. 192.0.2.2"],
    );
    expect_err(
        &Zone::new(
            "
            example.org. MX 10 mx1.example.org.
            example.org. MX 20 mx2.example.org.
            mx1.example.org. FAIL A servfail
            mx2.example.org. FAIL A timeout
        ",
        ),
        "example.org",
        v4_only(),
        "temporary 4.4.3: A lookup of mx1.example.org.: server failure (SERVFAIL)",
    );
}

const LOOPS: &str = "
    example.org. MX 10 a.example.org.
    example.org. MX 20 us.example.org.
    example.org. MX 20 peer.example.org.
    example.org. MX 30 c.example.org.
    a.example.org. A 192.0.2.1
    us.example.org. A 192.0.2.20
    peer.example.org. A 192.0.2.21
    c.example.org. A 192.0.2.3
    best.example. MX 10 us.example.org.
    best.example. MX 20 c.example.org.
    tied.example. MX 10 us.example.org.
    tied.example. MX 10 a.example.org.
    self.example. A 192.0.2.20
";

fn ours() -> PlanConfig {
    PlanConfig {
        local_addresses: vec![
            "192.0.2.20".parse().unwrap(),
            "2001:db8::20".parse().unwrap(),
        ],
        ..v4_only()
    }
}

#[test]
fn our_own_address_cuts_the_list() {
    // We are at preference 20: that preference and everything above it go, peer included.
    expect_ok(
        &Zone::new(LOOPS),
        "example.org",
        ours(),
        &["10 a.example.org. 192.0.2.1"],
    );
    // Without the declared address nothing is cut.
    expect_ok(
        &Zone::new(LOOPS),
        "example.org",
        v4_only(),
        &[
            "10 a.example.org. 192.0.2.1",
            "20 peer.example.org. 192.0.2.21",
            "20 us.example.org. 192.0.2.20",
            "30 c.example.org. 192.0.2.3",
        ],
    );
}

#[test]
fn we_are_the_best_mx_loops_back_to_myself() {
    let zone = Zone::new(LOOPS);
    let expected = |domain: &str| {
        format!(
            "permanent 5.4.6: mail for {domain} loops back to myself (best mail exchanger us.example.org. has a local address)"
        )
    };
    expect_err(&zone, "best.example", ours(), &expected("best.example."));
    // A tie at the best preference is a loop too (equal preference is cut).
    expect_err(&zone, "tied.example", ours(), &expected("tied.example."));
    // The implicit MX that is us.
    expect_err(
        &zone,
        "self.example",
        ours(),
        "permanent 5.4.6: mail for self.example. loops back to myself (best mail exchanger self.example. has a local address)",
    );
    // A better exchange that failed temporarily may come back: retry rather than bounce.
    let zone = Zone::new(
        "
        example.org. MX 10 a.example.org.
        example.org. MX 20 us.example.org.
        a.example.org. FAIL A timeout
        us.example.org. A 192.0.2.20
    ",
    );
    expect_err(
        &zone,
        "example.org",
        ours(),
        "temporary 4.4.3: A lookup of a.example.org.: timed out",
    );
    // An address literal that is us.
    expect_err(
        &zone,
        "[192.0.2.20]",
        ours(),
        "permanent 5.4.6: mail for [192.0.2.20] loops back to myself (best mail exchanger . has a local address)",
    );
}

/// The loop detection of a server bound to `0.0.0.0`: no declared addresses, a check that
/// calls 192.0.2.20 ours.
fn ours_by_check() -> PlanConfig {
    let us: IpAddr = "192.0.2.20".parse().unwrap();
    PlanConfig {
        is_local: Some(LocalCheck::new(move |address| address == us)),
        ..v4_only()
    }
}

#[test]
fn the_local_check_cuts_like_a_declared_address() {
    let zone = Zone::new(LOOPS);
    expect_ok(
        &zone,
        "example.org",
        ours_by_check(),
        &["10 a.example.org. 192.0.2.1"],
    );
    expect_err(
        &zone,
        "best.example",
        ours_by_check(),
        "permanent 5.4.6: mail for best.example. loops back to myself (best mail exchanger us.example.org. has a local address)",
    );
    expect_err(
        &zone,
        "[192.0.2.20]",
        ours_by_check(),
        "permanent 5.4.6: mail for [192.0.2.20] loops back to myself (best mail exchanger . has a local address)",
    );
    // A better exchange whose lookup failed temporarily: retry, as with a declared address.
    let zone = Zone::new(
        "
        example.org. MX 10 a.example.org.
        example.org. MX 20 us.example.org.
        a.example.org. FAIL A timeout
        us.example.org. A 192.0.2.20
    ",
    );
    expect_err(
        &zone,
        "example.org",
        ours_by_check(),
        "temporary 4.4.3: A lookup of a.example.org.: timed out",
    );
    // The check runs before the address cap: with one place left, peers of our preference do
    // not push our own address out and get kept in its place.
    let zone = Zone::new(
        "
        example.org. MX 10 a.example.org.
        example.org. MX 20 peer.example.org.
        example.org. MX 20 us.example.org.
        a.example.org. A 192.0.2.1
        peer.example.org. A 192.0.2.21
        peer.example.org. A 192.0.2.22
        us.example.org. A 192.0.2.20
    ",
    );
    let two = PlanConfig {
        max_addresses: 2,
        ..ours_by_check()
    };
    for seed in 0..8 {
        assert_eq!(
            zone.plan("example.org", two.clone(), seed),
            Ok(vec!["10 a.example.org. 192.0.2.1".to_owned()])
        );
    }
    // Clones of a check are equal, two checks are not.
    let check = LocalCheck::new(|_| false);
    assert_eq!(check.clone(), check);
    assert_ne!(LocalCheck::new(|_| false), check);
    assert_eq!(format!("{check:?}"), "LocalCheck(..)");
}

#[test]
fn caps_on_exchanges_and_addresses_balance_the_families() {
    let mut text = String::new();
    for i in 1..=4 {
        text.push_str(&format!("example.org. MX {} mx{i}.example.org.\n", i * 10));
        text.push_str(&format!("mx{i}.example.org. A 192.0.2.{i}\n"));
    }
    let zone = Zone::new(&text);
    let two = PlanConfig {
        max_exchanges: 2,
        ..v4_only()
    };
    expect_ok(
        &zone,
        "example.org",
        two,
        &[
            "10 mx1.example.org. 192.0.2.1",
            "20 mx2.example.org. 192.0.2.2",
        ],
    );
    // The exchanges beyond the cap are not even looked up.
    assert!(
        !zone.asked().iter().any(|q| q.starts_with("mx3")),
        "{:?}",
        zone.asked()
    );

    // Many IPv4 addresses at the best exchange, IPv6 only at the second: a cap of 4 keeps
    // two of each family rather than four IPv4 addresses.
    let mut text =
        String::from("example.org. MX 10 v4.example.org.\nexample.org. MX 20 v6.example.org.\n");
    for i in 1..=5 {
        text.push_str(&format!("v4.example.org. A 192.0.2.{i}\n"));
        text.push_str(&format!("v6.example.org. AAAA 2001:db8::{i}\n"));
    }
    let four = PlanConfig {
        max_addresses: 4,
        ..PlanConfig::default()
    };
    expect_ok(
        &Zone::new(&text),
        "example.org",
        four.clone(),
        &[
            "10 v4.example.org. 192.0.2.1",
            "10 v4.example.org. 192.0.2.2",
            "20 v6.example.org. 2001:db8::1",
            "20 v6.example.org. 2001:db8::2",
        ],
    );
    // One exchange with both families: interleaved, cut at the cap.
    let mut text = String::from("example.org. MX 10 both.example.org.\n");
    for i in 1..=5 {
        text.push_str(&format!("both.example.org. A 192.0.2.{i}\n"));
        text.push_str(&format!("both.example.org. AAAA 2001:db8::{i}\n"));
    }
    expect_ok(
        &Zone::new(&text),
        "example.org",
        PlanConfig {
            max_addresses: 3,
            ..PlanConfig::default()
        },
        &[
            "10 both.example.org. 2001:db8::1",
            "10 both.example.org. 192.0.2.1",
            "10 both.example.org. 2001:db8::2",
        ],
    );
    // A cap of 0 counts as 1: a plan never succeeds with an empty list.
    let zero = PlanConfig {
        max_addresses: 0,
        max_exchanges: 0,
        ..PlanConfig::default()
    };
    expect_ok(
        &Zone::new(&text),
        "example.org",
        zero,
        &["10 both.example.org. 2001:db8::1"],
    );
    // A single family fills the cap alone.
    let list = Zone::new(&text)
        .plan(
            "example.org",
            PlanConfig {
                max_addresses: 3,
                ..v4_only()
            },
            1,
        )
        .unwrap();
    assert_eq!(list.len(), 3);
}

#[test]
fn address_literals_bypass_dns() {
    let zone = Zone::new("example.org. A 192.0.2.1");
    expect_ok(
        &zone,
        "[192.0.2.1]",
        PlanConfig::default(),
        &["0 . 192.0.2.1"],
    );
    expect_ok(
        &zone,
        "[IPv6:2001:db8::1]",
        PlanConfig::default(),
        &["0 . 2001:db8::1"],
    );
    assert!(zone.asked().is_empty());
    expect_err(
        &zone,
        "[300.1.1.1]",
        PlanConfig::default(),
        "permanent 5.1.2: \"[300.1.1.1]\" is not a valid destination domain",
    );
    expect_err(
        &zone,
        "[2001:db8::1]",
        PlanConfig::default(),
        "permanent 5.1.2: \"[2001:db8::1]\" is not a valid destination domain",
    );
    expect_err(
        &zone,
        "[IPv6:2001:db8::1]",
        v4_only(),
        "permanent 5.4.4: [IPv6:2001:db8::1]: not a usable delivery address (address family disabled, or an unspecified, multicast or broadcast address)",
    );
    expect_err(
        &zone,
        "[0.0.0.0]",
        PlanConfig::default(),
        "permanent 5.4.4: [0.0.0.0]: not a usable delivery address (address family disabled, or an unspecified, multicast or broadcast address)",
    );
}

#[test]
fn utf8_domains_are_looked_up_in_a_labels() {
    let zone = Zone::new(
        "
        xn--bcher-kva.example. MX 10 xn--mx-bcher-s5a.example.
        xn--mx-bcher-s5a.example. A 192.0.2.1
    ",
    );
    expect_ok(
        &zone,
        "bücher.example",
        v4_only(),
        &["10 xn--mx-bcher-s5a.example. 192.0.2.1"],
    );
    expect_ok(
        &zone,
        "BÜCHER.example.",
        v4_only(),
        &["10 xn--mx-bcher-s5a.example. 192.0.2.1"],
    );
    expect_ok(
        &zone,
        "xn--bcher-kva.example",
        v4_only(),
        &["10 xn--mx-bcher-s5a.example. 192.0.2.1"],
    );
    assert_eq!(zone.asked()[0], "xn--bcher-kva.example. MX");
    for bad in [
        "",
        ".",
        "exa mple.org",
        "a..b",
        &format!("{}.example", "a".repeat(64)),
    ] {
        expect_err(
            &zone,
            bad,
            PlanConfig::default(),
            &format!("permanent 5.1.2: {bad:?} is not a valid destination domain"),
        );
    }
}

#[test]
fn answers_for_another_question_are_not_trusted() {
    let zone = Zone::new(MX_SET);
    let result = plan_with(
        "example.org",
        PlanConfig::default(),
        SeededRng::new(1),
        |n, t| {
            if t == RecordType::Mx {
                // An answer to a different name.
                zone.answer(&name("evil.example."), t)
            } else {
                zone.answer(n, t)
            }
        },
    );
    assert_eq!(
        failure(&result.unwrap_err()),
        "temporary 4.4.3: MX lookup of example.org.: the answer does not match the question"
    );
    // Records of another class than IN in the answer section are ignored.
    let result = plan_with("example.org", v4_only(), SeededRng::new(1), |n, t| {
        let mut message = zone.answer(n, t)?;
        for record in &mut message.answers {
            if record.name == name("mx1.example.org.") {
                record.class = 3;
            }
        }
        Ok(message)
    });
    let list: Vec<String> = result.unwrap().iter().map(ToString::to_string).collect();
    assert_eq!(list, ["20 mx2.example.org. 192.0.2.2"]);
}

#[test]
fn lookups_run_concurrently_and_answer_in_any_order() {
    let zone = Zone::new(MX_SET);
    let mut planner = Planner::new("example.org", PlanConfig::default(), SeededRng::new(1));
    let Step::Lookup(mx) = planner.poll() else {
        panic!("the MX lookup first")
    };
    assert_eq!(
        (mx.name().to_string().as_str(), mx.rtype()),
        ("example.org.", RecordType::Mx)
    );
    assert_eq!(planner.poll(), Step::Wait);
    planner
        .handle_answer(&mx, zone.answer(mx.name(), mx.rtype()))
        .unwrap();
    // Answering twice is a misuse.
    assert_eq!(
        planner.handle_answer(&mx, zone.answer(mx.name(), mx.rtype())),
        Err(UnexpectedAnswer)
    );
    let mut outstanding = Vec::new();
    while let Step::Lookup(lookup) = planner.poll() {
        outstanding.push(lookup);
    }
    // AAAA and A for both exchanges, all at once.
    assert_eq!(outstanding.len(), 4);
    assert_eq!(planner.poll(), Step::Wait);
    for lookup in outstanding.iter().rev() {
        planner
            .handle_answer(lookup, zone.answer(lookup.name(), lookup.rtype()))
            .unwrap();
    }
    let Step::Done(Ok(list)) = planner.poll() else {
        panic!("done")
    };
    let addresses: Vec<IpAddr> = list.iter().map(|c| c.address).collect();
    assert_eq!(
        addresses,
        [
            "2001:db8::1".parse::<IpAddr>().unwrap(),
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap()
        ]
    );
    // Done stays done.
    assert_eq!(planner.poll(), Step::Done(Ok(list)));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// One exchange: preference, IPv4 and IPv6 address indexes (into small pools, so that
    /// exchanges share addresses now and then).
    type Exchange = (u16, Vec<u8>, Vec<u8>);

    fn v4(i: u8) -> String {
        format!("192.0.2.{}", i % 6)
    }

    fn v6(i: u8) -> String {
        format!("2001:db8::{}", i % 6)
    }

    fn zone_of(exchanges: &[Exchange]) -> Zone {
        let mut text = String::new();
        for (n, (preference, fours, sixes)) in exchanges.iter().enumerate() {
            text.push_str(&format!(
                "example.org. MX {preference} mx{n}.example.org.\n"
            ));
            for i in fours {
                text.push_str(&format!("mx{n}.example.org. A {}\n", v4(*i)));
            }
            for i in sixes {
                text.push_str(&format!("mx{n}.example.org. AAAA {}\n", v6(*i)));
            }
            if fours.is_empty() && sixes.is_empty() {
                text.push_str(&format!("mx{n}.example.org. TXT none\n"));
            }
        }
        Zone::new(&text)
    }

    proptest! {
        /// Whatever the MX set, seed and configuration: preferences never decrease, no address
        /// twice, the caps hold, only enabled families, never one of our addresses nor
        /// anything at or above the preference of an exchange that has one.
        #[test]
        fn candidate_lists_keep_the_rules(
            exchanges in prop::collection::vec(
                (0u16..4, prop::collection::vec(0u8..6, 0..3), prop::collection::vec(0u8..6, 0..3)),
                1..8,
            ),
            seed in any::<u64>(),
            max_exchanges in 1usize..9,
            max_addresses in 1usize..12,
            ipv4 in any::<bool>(),
            ipv6 in any::<bool>(),
            prefer_ipv6 in any::<bool>(),
            local in prop::option::of(0u8..6),
        ) {
            let local_addresses: Vec<IpAddr> = local
                .map(|i| vec![v4(i).parse().unwrap(), v6(i).parse().unwrap()])
                .unwrap_or_default();
            let config = PlanConfig {
                max_exchanges,
                max_addresses,
                ipv4,
                ipv6,
                prefer_ipv6,
                local_addresses: local_addresses.clone(),
                ..PlanConfig::default()
            };
            let zone = zone_of(&exchanges);
            let result = plan_with("example.org", config, SeededRng::new(seed), |n, t| {
                zone.answer(n, t)
            });
            match result {
                Ok(list) => {
                    prop_assert!(!list.is_empty());
                    prop_assert!(list.len() <= max_addresses);
                    prop_assert!(list.windows(2).all(|w| w[0].preference <= w[1].preference));
                    for (i, candidate) in list.iter().enumerate() {
                        prop_assert!(list[..i].iter().all(|c| c.address != candidate.address));
                        prop_assert!(!local_addresses.contains(&candidate.address));
                        let enabled = if candidate.address.is_ipv4() { ipv4 } else { ipv6 };
                        prop_assert!(enabled);
                    }
                    // Nothing at or above the preference of an exchange that is us.
                    let ours = exchanges
                        .iter()
                        .filter(|(_, fours, sixes)| {
                            (ipv4 && fours.iter().any(|i| local_addresses.contains(&v4(*i).parse().unwrap())))
                                || (ipv6 && sixes.iter().any(|i| local_addresses.contains(&v6(*i).parse().unwrap())))
                        })
                        .map(|(p, _, _)| *p)
                        .min();
                    if let (Some(cut), false) = (ours, max_exchanges < exchanges.len()) {
                        prop_assert!(list.iter().all(|c| c.preference < cut));
                    }
                }
                Err(error) => {
                    // Every answer is there: the only failures are permanent ones.
                    prop_assert!(error.is_permanent(), "{}", error);
                    if matches!(error, PlanError::LoopsBackToMyself { .. }) {
                        prop_assert!(local.is_some());
                    }
                }
            }
        }
    }
}
