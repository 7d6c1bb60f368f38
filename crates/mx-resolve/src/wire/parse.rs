//! The message parser (RFC 1035 section 4.1), on nom.
//!
//! Every parser takes the whole message (`msg`, for compression pointers) and the remaining
//! input, a sub-slice of `msg`; an error records the address of the octet at fault, which
//! [`message`] turns into an offset. The parsers only ever split slices with checked
//! operations, and allocate only after the octets to fill the allocation are known to exist.

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::Parser;
use nom::number::complete::{be_u16, be_u32};

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

    let mut input = input;
    let mut questions = Vec::with_capacity(qd);
    for _ in 0..qd {
        let (rest, q) = question(msg, input)?;
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
            let (rest, entry) = record(msg, input)?;
            input = rest;
            match entry {
                Entry::Record(r) => section.push(r),
                Entry::Opt { .. } if index != 2 => return fail(at, MisplacedOpt),
                Entry::Opt { .. } if edns.is_some() => return fail(at, DuplicateOpt),
                Entry::Opt { root: false, .. } => return fail(at, OptName),
                Entry::Opt { edns: e, .. } => edns = Some(e),
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

fn question<'a>(msg: &'a [u8], input: &'a [u8]) -> PResult<'a, Question> {
    let (input, name) = name(msg, input)?;
    let (input, (qtype, qclass)) = (be_u16, be_u16).parse(input)?;
    Ok((
        input,
        Question {
            name,
            qtype: RecordType::from(qtype),
            qclass,
        },
    ))
}

/// A record of a section, or the EDNS pseudo-record, which the section loop places.
enum Entry {
    Record(Record),
    Opt { edns: Edns, root: bool },
}

fn record<'a>(msg: &'a [u8], input: &'a [u8]) -> PResult<'a, Entry> {
    let (input, name) = name(msg, input)?;
    let (input, (rtype, class, ttl)) = (be_u16, be_u16, be_u32).parse(input)?;
    let rdlength_at = input;
    let (input, rdlength) = be_u16.parse(input)?;
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
        let root = name.is_root();
        return Ok((rest, Entry::Opt { edns, root }));
    }
    let data = rdata(msg, rtype, rd).map_err(in_rdata)?;
    Ok((
        rest,
        Entry::Record(Record {
            name,
            rtype,
            class,
            ttl,
            data,
        }),
    ))
}

/// Fails unless the RDATA was used up exactly.
fn end(rest: &[u8]) -> PResult<'_, ()> {
    if rest.is_empty() {
        Ok((rest, ()))
    } else {
        fail(rest, RdataLength)
    }
}

fn rdata<'a>(msg: &'a [u8], rtype: RecordType, rd: &'a [u8]) -> Result<RData, nom::Err<Fail>> {
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
            let (rest, target) = name(msg, rd)?;
            end(rest)?;
            if rtype == RecordType::Cname {
                RData::Cname(target)
            } else {
                RData::Ns(target)
            }
        }
        RecordType::Mx => {
            let (rest, preference) = be_u16.parse(rd)?;
            let (rest, exchange) = name(msg, rest)?;
            end(rest)?;
            RData::Mx {
                preference,
                exchange,
            }
        }
        RecordType::Soa => {
            let (rest, mname) = name(msg, rd)?;
            let (rest, rname) = name(msg, rest)?;
            let (rest, (serial, refresh, retry, expire, minimum)) =
                (be_u32, be_u32, be_u32, be_u32, be_u32).parse(rest)?;
            end(rest)?;
            RData::Soa(Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            })
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
/// The octets of the name form runs between pointers; each run is copied once. A pointer must
/// point before itself, and the run it leads to must end (with the root or another pointer)
/// before that pointer: so every jump lands in a strictly shorter prefix of the message, and
/// the walk ends. The pointer count and the name's length are capped as well.
pub(crate) fn name<'a>(msg: &'a [u8], input: &'a [u8]) -> PResult<'a, Name> {
    let base = address(msg);
    let mut region = input;
    let mut pos = 0usize;
    let mut length = 0usize;
    let mut after: Option<&'a [u8]> = None;
    let mut hops = 0u32;
    let mut wire: Vec<u8> = Vec::new();
    loop {
        let here = region.get(pos..).unwrap_or_default();
        let overrun = if after.is_some() {
            PointerLoop
        } else {
            Truncated
        };
        let Some((&len, tail)) = here.split_first() else {
            return fail(here, overrun);
        };
        match len {
            0 => {
                wire.extend_from_slice(region.get(..pos).unwrap_or_default());
                return Ok((after.unwrap_or(tail), Name::from_checked_wire(wire)));
            }
            1..=63 => {
                let n = usize::from(len);
                if tail.len() < n {
                    return fail(here, overrun);
                }
                length += 1 + n;
                if length + 1 > super::name::MAX_NAME_LEN {
                    return fail(here, NameTooLong);
                }
                pos += 1 + n;
            }
            64..=191 => return fail(here, LabelTooLong),
            _ => {
                let Some((&low, tail)) = tail.split_first() else {
                    return fail(here, overrun);
                };
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                let offset = address(here).wrapping_sub(base);
                if target >= offset {
                    return fail(here, ForwardPointer);
                }
                hops += 1;
                if hops > MAX_POINTERS {
                    return fail(here, TooManyPointers);
                }
                if after.is_none() {
                    after = Some(tail);
                    // Most names are short; one reservation usually holds the whole name.
                    wire.reserve(pos + 32);
                }
                wire.extend_from_slice(region.get(..pos).unwrap_or_default());
                region = msg.get(target..offset).unwrap_or_default();
                pos = 0;
            }
        }
    }
}
