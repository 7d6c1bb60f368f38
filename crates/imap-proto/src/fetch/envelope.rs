//! The `ENVELOPE` FETCH item: RFC 3501 section 7.4.2 and RFC 9051 section 7.5.2 (`envelope`,
//! `address`).

use super::{eat_nil, nstring_into};
use crate::core::NString;
use crate::encode::{Encode, Writer};
use crate::error::ParseError;
use crate::list::Few;
use crate::parse::{PResult, Quirks, Reader};

/// `envelope`: the parsed header of a message (RFC 3501 section 7.4.2, RFC 9051 section
/// 7.5.2). An address list holds the addresses in order; an empty list is `NIL` on the wire
/// (the grammar has `"(" 1*address ")" / nil`, so the two cannot be told apart).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Envelope<'a> {
    /// `env-date`: the `Date:` header, unparsed.
    pub date: NString<'a>,
    /// `env-subject`: the `Subject:` header.
    pub subject: NString<'a>,
    /// `env-from`.
    pub from: AddressList<'a>,
    /// `env-sender` (servers fill it from `From:` when there is no `Sender:`).
    pub sender: AddressList<'a>,
    /// `env-reply-to` (servers fill it from `From:` when there is no `Reply-To:`).
    pub reply_to: AddressList<'a>,
    /// `env-to`.
    pub to: AddressList<'a>,
    /// `env-cc`.
    pub cc: AddressList<'a>,
    /// `env-bcc`.
    pub bcc: AddressList<'a>,
    /// `env-in-reply-to`: the `In-Reply-To:` header.
    pub in_reply_to: NString<'a>,
    /// `env-message-id`: the `Message-ID:` header.
    pub message_id: NString<'a>,
}

/// An address list (`env-from`, `env-to`, ...): one address inline (most lists hold one), so
/// that an envelope of single addresses allocates nothing beyond the envelope's box.
pub type AddressList<'a> = Few<Address<'a>>;

/// `address`: `"(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`.
///
/// RFC 5322 groups appear as markers in the list: a start of group has `host` NIL and the
/// group's name in `mailbox`; an end of group has both NIL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Address<'a> {
    /// `addr-name`: the display name (still in RFC 2047 encoded-word form if it was).
    pub name: NString<'a>,
    /// `addr-adl`: the obsolete source route.
    pub adl: NString<'a>,
    /// `addr-mailbox`: the local part, or the group name of a start-of-group marker.
    pub mailbox: NString<'a>,
    /// `addr-host`: the domain; NIL for group markers.
    pub host: NString<'a>,
}

impl<'a> Address<'a> {
    /// Whether this is the marker that starts a group (`host` NIL, `mailbox` the group name).
    pub fn is_group_start(&self) -> bool {
        self.host.0.is_none() && self.mailbox.0.is_some()
    }

    /// Whether this is the marker that ends a group (`host` and `mailbox` NIL).
    pub fn is_group_end(&self) -> bool {
        self.host.0.is_none() && self.mailbox.0.is_none()
    }

    /// The same address, owning its data.
    pub fn into_static(self) -> Address<'static> {
        Address {
            name: self.name.into_static(),
            adl: self.adl.into_static(),
            mailbox: self.mailbox.into_static(),
            host: self.host.into_static(),
        }
    }

    /// Parse `input`, which must be exactly one `address` ([`Quirks::LENIENT`], the client
    /// default).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        super::parse_whole_with(input, Quirks::LENIENT, Self::read)
    }

    /// `address`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let mut a = Address::default();
        a.read_into(r)?;
        Ok(a)
    }

    /// `address`, read into `self` field by field (an address list reads each address
    /// where it will stay, without moving it).
    #[inline]
    fn read_into(&mut self, r: &mut Reader<'a>) -> PResult<()> {
        r.expect(b'(', "address")?;
        nstring_into(r, &mut self.name)?;
        r.sp()?;
        nstring_into(r, &mut self.adl)?;
        r.sp()?;
        nstring_into(r, &mut self.mailbox)?;
        r.sp()?;
        nstring_into(r, &mut self.host)?;
        r.expect(b')', "\")\"")
    }
}

impl Encode for Address<'_> {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'(');
        self.name.encode(w);
        w.sp();
        self.adl.encode(w);
        w.sp();
        self.mailbox.encode(w);
        w.sp();
        self.host.encode(w);
        w.byte(b')');
    }
}

/// `"(" 1*address ")" / nil` (`env-from`, `env-to`, ...); `NIL` reads as the empty list. With
/// [`Quirks::address_spaces`](crate::Quirks::address_spaces), spaces between the addresses
/// are skipped.
fn read_address_list<'a>(r: &mut Reader<'a>, list: &mut AddressList<'a>) -> PResult<()> {
    if r.eat(b'(') {
        loop {
            list.push(Address::default());
            if let Some(a) = list.last_mut() {
                a.read_into(r)?;
            }
            if r.quirks.address_spaces && r.peek() == Some(b' ') {
                let save = r.pos();
                r.take_while(|b| b == b' ');
                if r.peek() != Some(b'(') {
                    r.reset(save);
                }
            }
            if r.peek() != Some(b'(') {
                break;
            }
        }
        r.expect(b')', "address or \")\"")
    } else if eat_nil(r) {
        Ok(())
    } else {
        Err(r.error("address list or NIL"))
    }
}

fn encode_address_list(list: &[Address<'_>], w: &mut Writer) {
    if list.is_empty() {
        w.raw(b"NIL");
        return;
    }
    w.byte(b'(');
    for a in list {
        a.encode(w);
    }
    w.byte(b')');
}

fn static_list(list: AddressList<'_>) -> AddressList<'static> {
    list.map(Address::into_static)
}

impl<'a> Envelope<'a> {
    /// Parse `input`, which must be exactly one `envelope` ([`Quirks::LENIENT`](crate::Quirks),
    /// the client default as for [`Response::parse`](crate::response::Response::parse);
    /// [`parse_with`](Self::parse_with) takes the quirks to accept).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_with(input, Quirks::LENIENT)
    }

    /// Parse `input`, which must be exactly one `envelope`, accepting `quirks`.
    pub fn parse_with(input: &'a [u8], quirks: Quirks) -> Result<Self, ParseError> {
        super::parse_whole_with(input, quirks, Self::read)
    }

    /// The same envelope, owning its data.
    pub fn into_static(self) -> Envelope<'static> {
        Envelope {
            date: self.date.into_static(),
            subject: self.subject.into_static(),
            from: static_list(self.from),
            sender: static_list(self.sender),
            reply_to: static_list(self.reply_to),
            to: static_list(self.to),
            cc: static_list(self.cc),
            bcc: static_list(self.bcc),
            in_reply_to: self.in_reply_to.into_static(),
            message_id: self.message_id.into_static(),
        }
    }

    /// `envelope`: `"(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP
    /// env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let mut e = Envelope::default();
        e.read_into(r)?;
        Ok(e)
    }

    /// `envelope`, read into `self` (a boxed envelope is filled where it stays).
    pub(crate) fn read_into(&mut self, r: &mut Reader<'a>) -> PResult<()> {
        r.expect(b'(', "envelope")?;
        nstring_into(r, &mut self.date)?;
        r.sp()?;
        nstring_into(r, &mut self.subject)?;
        for list in [
            &mut self.from,
            &mut self.sender,
            &mut self.reply_to,
            &mut self.to,
            &mut self.cc,
            &mut self.bcc,
        ] {
            r.sp()?;
            read_address_list(r, list)?;
        }
        r.sp()?;
        nstring_into(r, &mut self.in_reply_to)?;
        r.sp()?;
        nstring_into(r, &mut self.message_id)?;
        r.expect(b')', "\")\"")
    }
}

impl Encode for Envelope<'_> {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'(');
        self.date.encode(w);
        w.sp();
        self.subject.encode(w);
        for list in [
            &self.from,
            &self.sender,
            &self.reply_to,
            &self.to,
            &self.cc,
            &self.bcc,
        ] {
            w.sp();
            encode_address_list(list, w);
        }
        w.sp();
        self.in_reply_to.encode(w);
        w.sp();
        self.message_id.encode(w);
        w.byte(b')');
    }
}
