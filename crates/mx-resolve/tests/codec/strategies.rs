//! proptest strategies for messages.

use std::net::{Ipv4Addr, Ipv6Addr};

use mx_resolve::wire::{
    CLASS_IN, Edns, Header, Message, Name, Question, RData, Rcode, Record, RecordType, Soa,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// Names over a small alphabet of labels, so that suffixes repeat and compression is exercised,
/// in mixed case, plus arbitrary octets when `any_octets`.
pub(crate) fn name(any_octets: bool) -> BoxedStrategy<Name> {
    let common = prop::sample::select(vec![
        b"example".to_vec(),
        b"EXAMPLE".to_vec(),
        b"org".to_vec(),
        b"mx1".to_vec(),
        b"mx2".to_vec(),
        b"mail".to_vec(),
        b"_25".to_vec(),
        b"_tcp".to_vec(),
        b"xn--bcher-kva".to_vec(),
    ]);
    let label = if any_octets {
        prop_oneof![
            3 => common,
            1 => vec(any::<u8>(), 1..=63),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => common,
            1 => "[a-z0-9][a-z0-9-]{0,20}[a-z0-9]".prop_map(String::into_bytes),
        ]
        .boxed()
    };
    vec(label, 0..6)
        .prop_map(|labels| {
            // Drop labels from the front until the name fits in 255 octets.
            let mut labels = labels;
            loop {
                if let Ok(name) = Name::from_labels(&labels) {
                    return name;
                }
                labels.remove(0);
            }
        })
        .boxed()
}

/// Record data consistent with its type; `any_octets` allows any octets in names.
pub(crate) fn rdata(any_octets: bool) -> BoxedStrategy<(RecordType, RData)> {
    let n = || name(any_octets);
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| (RecordType::A, RData::A(Ipv4Addr::from(o)))),
        any::<[u8; 16]>().prop_map(|o| (RecordType::Aaaa, RData::Aaaa(Ipv6Addr::from(o)))),
        n().prop_map(|t| (RecordType::Cname, RData::Cname(t))),
        n().prop_map(|t| (RecordType::Ns, RData::Ns(t))),
        (any::<u16>(), n()).prop_map(|(preference, exchange)| (
            RecordType::Mx,
            RData::Mx {
                preference,
                exchange
            }
        )),
        (n(), n(), any::<[u32; 5]>()).prop_map(|(mname, rname, v)| (
            RecordType::Soa,
            RData::Soa(Box::new(Soa {
                mname,
                rname,
                serial: v[0],
                refresh: v[1],
                retry: v[2],
                expire: v[3],
                minimum: v[4],
            }))
        )),
        vec(vec(any::<u8>(), 0..=255), 1..4).prop_map(|s| (RecordType::Txt, RData::Txt(s))),
        (0u8..4, 0u8..2, 0u8..3, vec(any::<u8>(), 1..40)).prop_map(|(u, s, m, data)| {
            let mut octets = vec![u, s, m];
            octets.extend(data);
            (RecordType::Tlsa, RData::Opaque(octets))
        }),
        // Private-use types (RFC 6895), above the one hickory gives a meaning (65305, ANAME).
        // hickory reads empty data of any type as an update record, so the oracle's have data.
        (
            65306u16..=65534,
            vec(any::<u8>(), usize::from(!any_octets)..40)
        )
            .prop_map(|(t, data)| (RecordType::from(t), RData::Opaque(data))),
    ]
    .boxed()
}

pub(crate) fn record(any_octets: bool, any_class: bool) -> BoxedStrategy<Record> {
    let class = if any_class {
        prop_oneof![3 => Just(CLASS_IN), 1 => any::<u16>()].boxed()
    } else {
        Just(CLASS_IN).boxed()
    };
    (name(any_octets), rdata(any_octets), class, any::<u32>())
        .prop_map(|(name, (rtype, data), class, ttl)| Record {
            name,
            rtype,
            class,
            ttl,
            data,
        })
        .boxed()
}

pub(crate) fn edns(any_flags: bool) -> BoxedStrategy<Edns> {
    let options = vec((65001u16..65534, vec(any::<u8>(), 0..20)), 0..3);
    let high = if any_flags {
        any::<u8>().boxed()
    } else {
        Just(0).boxed()
    };
    (512u16..=65535, high.clone(), high, any::<bool>(), options)
        .prop_map(
            |(udp_payload_size, extended_rcode, version, dnssec_ok, mut options)| {
                // Unique codes, in order (hickory keeps the options in order too).
                options.sort_by_key(|(code, _)| *code);
                options.dedup_by_key(|(code, _)| *code);
                Edns {
                    udp_payload_size,
                    extended_rcode,
                    version,
                    dnssec_ok,
                    options,
                }
            },
        )
        .boxed()
}

/// Messages; `oracle` restricts them to what the differential test compares field by field
/// (class IN, LDH labels, standard opcodes and response codes, EDNS version 0).
pub(crate) fn message(oracle: bool) -> BoxedStrategy<Message> {
    let free = !oracle;
    let flags = any::<[bool; 7]>();
    let opcode = if oracle {
        Just(0u8).boxed()
    } else {
        (0u8..16).boxed()
    };
    let rcode = if oracle { 0u16..6 } else { 0u16..16 };
    let question = (
        name(free),
        prop_oneof![Just(15u16), Just(1), Just(28), Just(52), Just(16)],
    )
        .prop_map(|(name, qtype)| Question {
            name,
            qtype: RecordType::from(qtype),
            qclass: CLASS_IN,
        });
    (
        (any::<u16>(), flags, opcode, rcode),
        vec(question, 0..2),
        vec(record(free, free), 0..5),
        vec(record(free, free), 0..3),
        vec(record(free, free), 0..4),
        prop::option::of(edns(free)),
    )
        .prop_map(
            |((id, f, opcode, rcode), questions, answers, authority, additional, edns)| Message {
                header: Header {
                    id,
                    response: f[0],
                    opcode,
                    authoritative: f[1],
                    truncated: f[2],
                    recursion_desired: f[3],
                    recursion_available: f[4],
                    authentic_data: f[5],
                    checking_disabled: f[6],
                    rcode: Rcode::from(rcode),
                },
                questions,
                answers,
                authority,
                additional,
                edns,
            },
        )
        .boxed()
}
