//! mx-resolve delivery planning: from the answers to a candidate list, with the sans-IO
//! planner and canned responses (no sockets), in three shapes of real domains:
//!
//! - `two_mx_dual_stack`: MX 10 and 20, each exchange with an A and an AAAA record (5 lookups,
//!   4 candidates);
//! - `ten_equal_mx`: ten exchanges at one preference, one A record each and no AAAA (21
//!   lookups, shuffled, 10 candidates);
//! - `implicit_mx`: no MX records, the domain's own A and AAAA (3 lookups, 2 candidates).
//!
//! Each shape is timed twice: `messages`, where the lookup function hands the planner a clone
//! of a parsed `Message` (the planner's own cost plus one clone per lookup), and `wire`, where
//! it parses the response octets first (`Message::parse`), as a resolver without a cache does.
//!
//! Run with `cargo bench -p sansmail-benches --bench mx_plan`.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mx_resolve::plan::{PlanConfig, SeededRng, plan_with};
use mx_resolve::wire::{
    CLASS_IN, Header, Message, Name, Question, RData, Rcode, Record, RecordType, Soa,
};

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a valid name")
}

/// The response to `qname qtype` holding `answers` (a NODATA with an SOA when empty).
fn response(qname: &str, qtype: RecordType, answers: Vec<RData>) -> Message {
    let negative = answers.is_empty();
    Message {
        header: Header {
            id: 0x4d58,
            response: true,
            recursion_desired: true,
            recursion_available: true,
            rcode: Rcode::NoError,
            ..Header::default()
        },
        questions: vec![Question {
            name: name(qname),
            qtype,
            qclass: CLASS_IN,
        }],
        answers: answers
            .into_iter()
            .map(|data| Record {
                name: name(qname),
                rtype: qtype,
                class: CLASS_IN,
                ttl: 3600,
                data,
            })
            .collect(),
        authority: if negative {
            vec![Record {
                name: name("example.org"),
                rtype: RecordType::Soa,
                class: CLASS_IN,
                ttl: 3600,
                data: RData::Soa(Box::new(Soa {
                    mname: name("ns1.example.org"),
                    rname: name("hostmaster.example.org"),
                    serial: 2026120601,
                    refresh: 7200,
                    retry: 900,
                    expire: 1209600,
                    minimum: 300,
                })),
            }]
        } else {
            Vec::new()
        },
        additional: Vec::new(),
        edns: None,
    }
}

type Zone = HashMap<(Name, RecordType), Message>;

fn insert(zone: &mut Zone, message: Message) {
    let question = &message.questions[0];
    zone.insert((question.name.clone(), question.qtype), message);
}

fn mx(preference: u16, exchange: &str) -> RData {
    RData::Mx {
        preference,
        exchange: name(exchange),
    }
}

fn two_mx_dual_stack() -> Zone {
    let mut zone = Zone::new();
    insert(
        &mut zone,
        response(
            "example.org",
            RecordType::Mx,
            vec![mx(10, "mx1.example.org"), mx(20, "mx2.example.org")],
        ),
    );
    for (host, v4, v6) in [
        ("mx1.example.org", [192, 0, 2, 1], "2001:db8::1"),
        ("mx2.example.org", [192, 0, 2, 2], "2001:db8::2"),
    ] {
        insert(
            &mut zone,
            response(host, RecordType::A, vec![RData::A(v4.into())]),
        );
        insert(
            &mut zone,
            response(
                host,
                RecordType::Aaaa,
                vec![RData::Aaaa(v6.parse().unwrap())],
            ),
        );
    }
    zone
}

fn ten_equal_mx() -> Zone {
    let mut zone = Zone::new();
    let hosts: Vec<String> = (1..=10).map(|i| format!("mx{i}.example.org")).collect();
    insert(
        &mut zone,
        response(
            "example.org",
            RecordType::Mx,
            hosts.iter().map(|h| mx(10, h)).collect(),
        ),
    );
    for (i, host) in hosts.iter().enumerate() {
        let last = u8::try_from(i + 1).unwrap();
        insert(
            &mut zone,
            response(
                host,
                RecordType::A,
                vec![RData::A([192, 0, 2, last].into())],
            ),
        );
        insert(&mut zone, response(host, RecordType::Aaaa, Vec::new()));
    }
    zone
}

fn implicit_mx() -> Zone {
    let mut zone = Zone::new();
    insert(
        &mut zone,
        response("example.org", RecordType::Mx, Vec::new()),
    );
    insert(
        &mut zone,
        response(
            "example.org",
            RecordType::A,
            vec![RData::A([192, 0, 2, 9].into())],
        ),
    );
    insert(
        &mut zone,
        response(
            "example.org",
            RecordType::Aaaa,
            vec![RData::Aaaa("2001:db8::9".parse().unwrap())],
        ),
    );
    zone
}

fn bench_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("mx_plan");
    for (shape, zone, expected) in [
        ("two_mx_dual_stack", two_mx_dual_stack(), 4),
        ("ten_equal_mx", ten_equal_mx(), 10),
        ("implicit_mx", implicit_mx(), 2),
    ] {
        let wire: HashMap<(Name, RecordType), Vec<u8>> =
            zone.iter().map(|(k, m)| (k.clone(), m.encode())).collect();
        let plan_messages = |seed: u64| {
            plan_with(
                "example.org",
                PlanConfig::default(),
                SeededRng::new(seed),
                |n, t| Ok(zone[&(n.clone(), t)].clone()),
            )
        };
        let plan_wire = |seed: u64| {
            plan_with(
                "example.org",
                PlanConfig::default(),
                SeededRng::new(seed),
                |n, t| Ok(Message::parse(&wire[&(n.clone(), t)]).unwrap()),
            )
        };
        assert_eq!(plan_messages(1).unwrap().len(), expected);
        assert_eq!(plan_wire(1).unwrap().len(), expected);
        let mut seed = 0u64;
        group.bench_function(format!("{shape}/messages"), |b| {
            b.iter(|| {
                seed += 1;
                black_box(plan_messages(black_box(seed)))
            })
        });
        group.bench_function(format!("{shape}/wire"), |b| {
            b.iter(|| {
                seed += 1;
                black_box(plan_wire(black_box(seed)))
            })
        });
    }
    group.finish();
}

/// `criterion_group!` defines an undocumented public function; keep it out of the lint.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench_plan);
}
criterion_main!(group::benches);
