//! The message parser (RFC 1035 section 4.1), on nom.
//!
//! Every parser takes the whole message (`msg`, for compression pointers) and the remaining
//! input, a sub-slice of `msg`; an error records the address of the octet at fault, which
//! [`message`] turns into an offset. The parsers only ever split slices with checked
//! operations, and allocate only after the octets to fill the allocation are known to exist.

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::Parser;
use nom::number::complete::{be_u16, be_u32};

use super::name::MAX_NAME_LEN;
use super::{
    Edns, Header, Message, Name, ParseError, ParseErrorKind, Question, RData, Rcode, Record,
    RecordType, Soa,
};
use ParseErrorKind::*;

/// The most compression pointers one name may follow: a name has at most 127 labels, and a
/// compressor needs at most one pointer per label.
pub const MAX_POINTERS: u32 = 127;

/// The smallest question: the root name (1 octet), type and class.
const MIN_QUESTION: usize = 5;
/// The smallest record: the root name, type, class, TTL and RDLENGTH.
const MIN_RECORD: usize = 11;

/// A parse failure: the address of the octet at fault and what was wrong.
#[derive(Debug)]
pub(crate) struct Fail {
    at: usize,
    kind: ParseErrorKind,
}

impl<'a> nom::error::ParseError<&'a [u8]> for Fail {
    /// nom's own parsers fail only when the input is too short.
    fn from_error_kind(input: &'a [u8], _: nom::error::ErrorKind) -> Fail {
        Fail {
            at: address(input),
            kind: Truncated,
        }
    }

    fn append(_: &'a [u8], _: nom::error::ErrorKind, other: Fail) -> Fail {
        other
    }
}

type PResult<'a, T> = nom::IResult<&'a [u8], T, Fail>;

fn address(input: &[u8]) -> usize {
    input.as_ptr() as usize
}

fn fail<T>(at: &[u8], kind: ParseErrorKind) -> PResult<'_, T> {
    Err(nom::Err::Failure(Fail {
        at: address(at),
        kind,
    }))
}

/// Parses a whole message.
pub(crate) fn message(msg: &[u8]) -> Result<Message, ParseError> {
    match message_body(msg) {
        Ok((_, message)) => Ok(message),
        Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err(ParseError {
            offset: f.at.wrapping_sub(address(msg)).min(msg.len()),
            kind: f.kind,
        }),
        // Only streaming parsers ask for more input; these are all `complete` ones.
        Err(nom::Err::Incomplete(_)) => Err(ParseError {
            offset: msg.len(),
            kind: Truncated,
        }),
    }
}

fn message_body(msg: &[u8]) -> PResult<'_, Message> {
    let (input, (id, flags)) = (be_u16, be_u16).parse(msg)?;
    let counts_at = input;
    let (input, (qd, an, ns, ar)) = (be_u16, be_u16, be_u16, be_u16).parse(input)?;
    let [qd, an, ns, ar] = [qd, an, ns, ar].map(usize::from);
    // Bounded allocation: the counts must fit in what is left before anything is reserved.
    if qd * MIN_QUESTION + (an + ns + ar) * MIN_RECORD > input.len() {
        return fail(counts_at, CountTooLarge);
    }
    let header = Header {
        id,
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xf) as u8,
        authoritative: flags & 0x0400 != 0,
        truncated: flags & 0x0200 != 0,
        recursion_desired: flags & 0x0100 != 0,
        recursion_available: flags & 0x0080 != 0,
        authentic_data: flags & 0x0020 != 0,
        checking_disabled: flags & 0x0010 != 0,
        rcode: Rcode::from(flags & 0xf),
    };

    // Names are assembled here, then copied into their `Name` once.
    let scratch = &mut Scratch::new();
    let mut input = input;
    let mut questions = Vec::with_capacity(qd);
    for _ in 0..qd {
        let (rest, q) = question(msg, input, scratch)?;
        questions.push(q);
        input = rest;
    }
    let mut edns = None;
    let mut sections: [Vec<Record>; 3] = [
        Vec::with_capacity(an),
        Vec::with_capacity(ns),
        Vec::with_capacity(ar),
    ];
    for (index, (section, count)) in sections.iter_mut().zip([an, ns, ar]).enumerate() {
        for _ in 0..count {
            let at = input;
            let (rest, opt) = record(msg, input, scratch, section)?;
            input = rest;
            match opt {
                None => {}
                Some(_) if index != 2 => return fail(at, MisplacedOpt),
                Some(_) if edns.is_some() => return fail(at, DuplicateOpt),
                Some((_, false)) => return fail(at, OptName),
                Some((e, true)) => edns = Some(e),
            }
        }
    }
    if !input.is_empty() {
        return fail(input, TrailingData);
    }
    let [answers, authority, additional] = sections;
    Ok((
        input,
        Message {
            header,
            questions,
            answers,
            authority,
            additional,
            edns,
        },
    ))
}

/// A fixed-size field: the next `N` octets, with one bounds check.
#[inline(always)]
fn fixed<const N: usize>(input: &[u8]) -> PResult<'_, &[u8; N]> {
    match input.split_first_chunk::<N>() {
        Some((field, rest)) => Ok((rest, field)),
        None => fail(input, Truncated),
    }
}

/// What name parsing keeps across the names of one message: the buffer compressed names are
/// gathered in, and the last few names read, by the offset they start at, so that a name that
/// is only a pointer to one of them (most owner names of a response) is a copy.
pub(crate) struct Scratch {
    buf: [u8; MAX_NAME_LEN],
    cache: [Option<Cached>; CACHE],
    next: usize,
}

/// Names remembered per message.
const CACHE: usize = 8;

/// A name read at `start`: the octets up to `run_end` (its first run, with the root or pointer
/// that ends it) were read from there, and it followed `hops` pointers.
struct Cached {
    start: usize,
    run_end: usize,
    hops: u32,
    name: Name,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch {
            buf: [0; MAX_NAME_LEN],
            cache: [const { None }; CACHE],
            next: 0,
        }
    }

    /// The name at `target`, if remembered and reachable from a pointer at `pointer` under the
    /// same rules as a walk: its first run ends before the pointer, and one more hop is allowed.
    fn lookup(&self, target: usize, pointer: usize) -> Option<&Name> {
        self.cache.iter().flatten().find_map(|c| {
            (c.start == target && c.run_end <= pointer && c.hops < MAX_POINTERS).then_some(&c.name)
        })
    }

    fn remember(&mut self, start: usize, run_end: usize, hops: u32, name: &Name) {
        if name.is_inline() {
            if let Some(slot) = self.cache.get_mut(self.next % CACHE) {
                *slot = Some(Cached {
                    start,
                    run_end,
                    hops,
                    name: name.clone(),
                });
            }
            self.next = self.next.wrapping_add(1);
        }
    }
}

#[inline(always)]
fn question<'a>(msg: &'a [u8], input: &'a [u8], scratch: &mut Scratch) -> PResult<'a, Question> {
    let (input, name) = name(msg, input, scratch)?;
    let (input, &[t0, t1, c0, c1]) = fixed(input)?;
    let (qtype, qclass) = (u16::from_be_bytes([t0, t1]), u16::from_be_bytes([c0, c1]));
    Ok((
        input,
        Question {
            name,
            qtype: RecordType::from(qtype),
            qclass,
        },
    ))
}

/// Parses a record and pushes it on `section`; the EDNS pseudo-record is returned instead, with
/// whether its owner is the root, for the section loop to place.
#[inline(always)]
fn record<'a>(
    msg: &'a [u8],
    input: &'a [u8],
    scratch: &mut Scratch,
    section: &mut Vec<Record>,
) -> PResult<'a, Option<(Edns, bool)>> {
    let (input, name) = name(msg, input, scratch)?;
    let rdlength_at = input.get(8..).unwrap_or_default();
    let (input, &[t0, t1, c0, c1, l0, l1, l2, l3, r0, r1]) = fixed(input)?;
    let rtype = u16::from_be_bytes([t0, t1]);
    let class = u16::from_be_bytes([c0, c1]);
    let ttl = u32::from_be_bytes([l0, l1, l2, l3]);
    let rdlength = u16::from_be_bytes([r0, r1]);
    let Some((rd, rest)) = input.split_at_checked(usize::from(rdlength)) else {
        return fail(rdlength_at, RdataOverrun);
    };
    let rtype = RecordType::from(rtype);
    // Inside RDATA, running out of octets means the data does not match RDLENGTH.
    let in_rdata = |e: nom::Err<Fail>| {
        e.map(|f| match f.kind {
            Truncated => Fail {
                kind: RdataLength,
                ..f
            },
            _ => f,
        })
    };
    if rtype == RecordType::Opt {
        let options = edns_options(rd).map_err(in_rdata)?;
        let edns = Edns {
            udp_payload_size: class,
            extended_rcode: (ttl >> 24) as u8,
            version: (ttl >> 16) as u8,
            dnssec_ok: ttl & 0x8000 != 0,
            options,
        };
        return Ok((rest, Some((edns, name.is_root()))));
    }
    let data = rdata(msg, rtype, rd, scratch).map_err(in_rdata)?;
    section.push(Record {
        name,
        rtype,
        class,
        ttl,
        data,
    });
    Ok((rest, None))
}

/// Fails unless the RDATA was used up exactly.
fn end(rest: &[u8]) -> PResult<'_, ()> {
    if rest.is_empty() {
        Ok((rest, ()))
    } else {
        fail(rest, RdataLength)
    }
}

#[inline(always)]
fn rdata<'a>(
    msg: &'a [u8],
    rtype: RecordType,
    rd: &'a [u8],
    scratch: &mut Scratch,
) -> Result<RData, nom::Err<Fail>> {
    let data = match rtype {
        RecordType::A => match <[u8; 4]>::try_from(rd) {
            Ok(octets) => RData::A(Ipv4Addr::from(octets)),
            Err(_) => return fail(rd, RdataLength).map(|(_, d)| d),
        },
        RecordType::Aaaa => match <[u8; 16]>::try_from(rd) {
            Ok(octets) => RData::Aaaa(Ipv6Addr::from(octets)),
            Err(_) => return fail(rd, RdataLength).map(|(_, d)| d),
        },
        RecordType::Cname | RecordType::Ns => {
            let (rest, target) = name(msg, rd, scratch)?;
            end(rest)?;
            if rtype == RecordType::Cname {
                RData::Cname(target)
            } else {
                RData::Ns(target)
            }
        }
        RecordType::Mx => {
            let (rest, &preference) = fixed(rd)?;
            let preference = u16::from_be_bytes(preference);
            let (rest, exchange) = name(msg, rest, scratch)?;
            end(rest)?;
            RData::Mx {
                preference,
                exchange,
            }
        }
        RecordType::Soa => {
            let (rest, mname) = name(msg, rd, scratch)?;
            let (rest, rname) = name(msg, rest, scratch)?;
            let (rest, (serial, refresh, retry, expire, minimum)) =
                (be_u32, be_u32, be_u32, be_u32, be_u32).parse(rest)?;
            end(rest)?;
            RData::Soa(Box::new(Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            }))
        }
        RecordType::Txt => {
            let mut strings = Vec::new();
            let mut rest = rd;
            while let Some((&len, tail)) = rest.split_first() {
                let Some((string, tail)) = tail.split_at_checked(usize::from(len)) else {
                    return fail(rest, RdataLength).map(|(_, d)| d);
                };
                strings.push(string.to_vec());
                rest = tail;
            }
            RData::Txt(strings)
        }
        _ => RData::Opaque(rd.to_vec()),
    };
    Ok(data)
}

fn edns_options(rd: &[u8]) -> Result<Vec<(u16, Vec<u8>)>, nom::Err<Fail>> {
    let mut options = Vec::new();
    let mut rest = rd;
    while !rest.is_empty() {
        let (tail, (code, len)) = (be_u16, be_u16).parse(rest)?;
        let Some((data, tail)) = tail.split_at_checked(usize::from(len)) else {
            return fail(rest, RdataLength).map(|(_, o)| o);
        };
        options.push((code, data.to_vec()));
        rest = tail;
    }
    Ok(options)
}

/// Parses a possibly compressed name (RFC 1035 sections 3.1 and 4.1.4) starting at `input`.
///
/// The octets of the name form runs between pointers. A name without pointers is copied once,
/// straight from the message; the runs of a compressed name are gathered in `buf` first. A
/// pointer must point before itself, and the run it leads to must end (with the root or
/// another pointer) before that pointer: so every jump lands in a strictly shorter prefix of
/// the message, and the walk ends. The pointer count and the name's length are capped as well.
#[inline(always)]
pub(crate) fn name<'a>(msg: &'a [u8], input: &'a [u8], scratch: &mut Scratch) -> PResult<'a, Name> {
    let base = address(msg);
    let start = address(input).wrapping_sub(base);
    // A name that is only a pointer to a name read before: copy that one.
    if let [high @ 0xc0..=0xff, low, rest @ ..] = input {
        let target = (usize::from(high & 0x3f) << 8) | usize::from(*low);
        if let Some(name) = scratch.lookup(target, start) {
            return Ok((rest, name.clone()));
        }
    }
    let (rest, walk) = walk(msg, input, &mut scratch.buf)?;
    match walk.pointer_first {
        // Only a pointer: the name is the one at the pointer's target.
        Some(target) => scratch.remember(
            target,
            walk.run_ends[1],
            walk.hops.saturating_sub(1),
            &walk.name,
        ),
        None => scratch.remember(start, walk.run_ends[0], walk.hops, &walk.name),
    }
    Ok((rest, walk.name))
}

/// A name as walked: the name, where its first two runs ended (one past the root octet or the
/// pointer), how many pointers it followed, and the target if it began with a pointer.
struct Walk {
    name: Name,
    run_ends: [usize; 2],
    hops: u32,
    pointer_first: Option<usize>,
}

/// Walks a name from `input`, following pointers under the guards.
#[inline(always)]
fn walk<'a>(msg: &'a [u8], input: &'a [u8], buf: &mut [u8; MAX_NAME_LEN]) -> PResult<'a, Walk> {
    let base = address(msg);
    let start = address(input).wrapping_sub(base);
    let input_end = start + input.len();
    let mut run_ends = [0usize; 2];
    let mut runs = 0usize;
    let mut pointer_first = None;
    // Offsets into `msg`: the next length octet, the end of the region it may be read from,
    // and the start of the current run.
    let mut i = start;
    let mut end = input_end;
    let mut run = start;
    let mut copied = 0usize;
    // Where the input resumes after the first pointer.
    let mut resume: Option<usize> = None;
    let mut hops = 0u32;
    let fail_at = |offset: usize, kind| {
        Err(nom::Err::Failure(Fail {
            at: base + offset,
            kind,
        }))
    };
    loop {
        let overrun = if resume.is_some() {
            PointerLoop
        } else {
            Truncated
        };
        let len = match msg.get(i) {
            Some(&len) if i < end => len,
            _ => return fail_at(i, overrun),
        };
        match len {
            0 => {
                let rest = msg.get(resume.unwrap_or(i + 1)..input_end);
                let run_octets = msg.get(run..i).unwrap_or_default();
                let name = if copied == 0 {
                    Name::from_checked_wire(run_octets)
                } else {
                    append(buf, &mut copied, run_octets);
                    Name::from_checked_wire(buf.get(..copied).unwrap_or_default())
                };
                if let Some(slot) = run_ends.get_mut(runs) {
                    *slot = i + 1;
                }
                let walk = Walk {
                    name,
                    run_ends,
                    hops,
                    pointer_first,
                };
                return Ok((rest.unwrap_or_default(), walk));
            }
            1..=63 => {
                let next = i + 1 + usize::from(len);
                if next > end {
                    return fail_at(i, overrun);
                }
                if copied + (next - run) + 1 > MAX_NAME_LEN {
                    return fail_at(i, NameTooLong);
                }
                i = next;
            }
            64..=191 => return fail_at(i, LabelTooLong),
            _ => {
                let low = match msg.get(i + 1) {
                    Some(&low) if i + 1 < end => low,
                    _ => return fail_at(i, overrun),
                };
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                if target >= i {
                    return fail_at(i, ForwardPointer);
                }
                hops += 1;
                if hops > MAX_POINTERS {
                    return fail_at(i, TooManyPointers);
                }
                if resume.is_none() {
                    resume = Some(i + 2);
                    if i == start {
                        pointer_first = Some(target);
                    }
                }
                if let Some(slot) = run_ends.get_mut(runs) {
                    *slot = i + 2;
                }
                runs += 1;
                append(buf, &mut copied, msg.get(run..i).unwrap_or_default());
                end = i;
                i = target;
                run = target;
            }
        }
    }
}

/// Appends whole labels, already counted against the name length limit (so they fit), to the
/// name being gathered in `buf`.
fn append(buf: &mut [u8; MAX_NAME_LEN], copied: &mut usize, octets: &[u8]) {
    if let Some(dst) = buf.get_mut(*copied..*copied + octets.len()) {
        dst.copy_from_slice(octets);
        *copied += octets.len();
    }
}
