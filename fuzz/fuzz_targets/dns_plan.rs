//! The delivery planner of mx-resolve fed hostile answers: `mx_resolve::plan::Planner` for the
//! destination `a.example.` (or an address literal), each lookup it asks for answered with the
//! next message of the input.
//!
//! Input layout: 8 octets of RNG seed, 1 octet of configuration (bit 0: IPv4 off, bit 1: IPv6
//! off, bit 2: IPv4 preferred, bits 3-5: `max_addresses` 1 to 8, bit 6: 192.0.2.1 is a local
//! address, bit 7: the destination is `[192.0.2.1]`), then answers, each a 2-octet big-endian
//! length and that many octets parsed as a DNS message. An answer that does not parse, or no
//! answer left, is a timeout. The answer's question is replaced by the lookup's (a resolver has
//! checked it), and records owned by the root are given the lookup's name, so that the fuzzer
//! reaches the planner's logic rather than its question check.
//!
//! Asserts: no panic; the planner ends within the lookups its limits allow; a success is a
//! non-empty list within `max_addresses`, preferences never decreasing, no address twice,
//! only enabled families, never the local address; a failure has a 4.x.x or 5.x.x status
//! matching its class.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use mx_resolve::plan::{LookupFailure, PlanConfig, Planner, SeededRng, Step};
use mx_resolve::wire::{CLASS_IN, Message, Question};

fuzz_target!(|input: &[u8]| {
    let Some((seed, rest)) = input.split_first_chunk::<8>() else {
        return;
    };
    let Some((&flags, mut answers)) = rest.split_first() else {
        return;
    };
    let local = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let config = PlanConfig {
        ipv4: flags & 1 == 0,
        ipv6: flags & 2 == 0,
        prefer_ipv6: flags & 4 == 0,
        max_addresses: usize::from((flags >> 3) & 7) + 1,
        local_addresses: if flags & 64 != 0 { vec![local] } else { Vec::new() },
        ..PlanConfig::default()
    };
    let destination = if flags & 128 != 0 { "[192.0.2.1]" } else { "a.example" };
    // Every chain is at most max_cname_depth + 1 lookups, for the MX and for each family of
    // each exchange.
    let bound = (config.max_cname_depth + 1) * (1 + 2 * config.max_exchanges);
    let mut planner = Planner::new(destination, config.clone(), SeededRng::new(u64::from_le_bytes(*seed)));
    let mut lookups = 0;
    let result = loop {
        match planner.poll() {
            Step::Lookup(lookup) => {
                lookups += 1;
                assert!(lookups <= bound, "more lookups than the limits allow");
                let answer = next_answer(&mut answers).map(|mut message| {
                    message.questions = vec![Question {
                        name: lookup.name().clone(),
                        qtype: lookup.rtype(),
                        qclass: CLASS_IN,
                    }];
                    for record in &mut message.answers {
                        if record.name.is_root() {
                            record.name = lookup.name().clone();
                        }
                    }
                    message
                });
                planner
                    .handle_answer(&lookup, answer.ok_or(LookupFailure::Timeout))
                    .expect("the lookup just handed out is expected");
            }
            Step::Wait => panic!("a lookup is outstanding although every one was answered"),
            Step::Done(result) => break result,
        }
    };
    match result {
        Ok(list) => {
            assert!(!list.is_empty() && list.len() <= config.max_addresses);
            assert!(list.windows(2).all(|w| w[0].preference <= w[1].preference));
            for (i, candidate) in list.iter().enumerate() {
                assert!(list[..i].iter().all(|c| c.address != candidate.address));
                assert!(if candidate.address.is_ipv4() { config.ipv4 } else { config.ipv6 });
                assert!(!config.local_addresses.contains(&candidate.address));
            }
        }
        Err(error) => {
            let class = if error.is_permanent() { '5' } else { '4' };
            assert!(error.enhanced_status().starts_with(class));
            let _ = error.to_string();
        }
    }
});

/// The next length-prefixed message of the input, if there is one and it parses.
fn next_answer(input: &mut &[u8]) -> Option<Message> {
    let (length, rest) = input.split_first_chunk::<2>()?;
    let length = usize::from(u16::from_be_bytes(*length)).min(rest.len());
    let (octets, rest) = rest.split_at(length);
    *input = rest;
    Message::parse(octets).ok()
}
