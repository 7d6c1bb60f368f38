//! `BODY` and `BODYSTRUCTURE`: the MIME structure of a message (RFC 3501 section 7.4.2 and
//! section 9 `body` and its rules, RFC 9051 section 7.5.2, `message/global` of RFC 6532).

use super::envelope::Envelope;
use super::{eat_nil, empty_string, nstring, nstring_into, number_u64, string, string_into};
use crate::core::{IString, NString};
use crate::encode::{Encode, Writer};
use crate::error::{ParseError, ValidationError};
use crate::list::Few;
use crate::parse::{PResult, Quirks, Reader};

/// `body-fld-param`: attribute/value pairs; an empty list is `NIL` on the wire. One pair is
/// kept inline (a charset, a name, a boundary: most lists hold one); more take one
/// allocation.
pub type Parameters<'a> = Few<(IString<'a>, IString<'a>)>;

/// `body-fld-lang`: Content-Language tags, one inline (most parts name one or none).
pub type Languages<'a> = Few<IString<'a>>;

/// `body`: one part or a multipart (RFC 3501 section 7.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BodyStructure<'a> {
    /// `body-type-1part`.
    Single(SinglePart<'a>),
    /// `body-type-mpart`.
    Multi(Multipart<'a>),
}

/// `body-type-1part`: a part that is not a multipart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SinglePart<'a> {
    /// The media type and what the grammar adds for it.
    pub kind: PartKind<'a>,
    /// `body-fields`.
    pub fields: BodyFields<'a>,
    /// `body-ext-1part`, present in `BODYSTRUCTURE`, absent in `BODY`.
    pub extension: Option<SinglePartExtension<'a>>,
}

/// The media type of a single part, and the data its kind carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PartKind<'a> {
    /// `body-type-basic`: any type but `TEXT` and `MESSAGE/RFC822` (`MESSAGE/GLOBAL`).
    Basic(MediaType<'a>),
    /// `body-type-text`: `TEXT/subtype` with the size in lines.
    Text {
        /// `media-subtype` (`PLAIN`, `HTML`, ...).
        subtype: IString<'a>,
        /// `body-fld-lines` (`number64` in RFC 9051; read up to 2^64 - 1).
        lines: u64,
    },
    /// `body-type-msg`: an encapsulated message.
    Message(Box<MessagePart<'a>>),
}

/// The type and subtype of a `body-type-basic` part. Never `TEXT/*` and never
/// `MESSAGE/RFC822` or `MESSAGE/GLOBAL` (those have their own [`PartKind`] forms, so a basic
/// part with them would read back as another kind).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaType<'a> {
    media_type: IString<'a>,
    subtype: IString<'a>,
}

/// `body-type-msg`: `MESSAGE/RFC822` or (RFC 6532) `MESSAGE/GLOBAL`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessagePart<'a> {
    /// `MESSAGE/GLOBAL` (RFC 6532) rather than `MESSAGE/RFC822`.
    pub global: bool,
    /// The envelope of the encapsulated message.
    pub envelope: Envelope<'a>,
    /// Its body structure.
    pub body: BodyStructure<'a>,
    /// `body-fld-lines` (`number64` in RFC 9051; read up to 2^64 - 1).
    pub lines: u64,
}

/// `body-fields`: `body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
/// body-fld-octets`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BodyFields<'a> {
    /// `body-fld-param`: the Content-Type parameters (`charset`, `name`, ...).
    pub parameters: Parameters<'a>,
    /// `body-fld-id`: Content-ID.
    pub id: NString<'a>,
    /// `body-fld-desc`: Content-Description.
    pub description: NString<'a>,
    /// `body-fld-enc`: Content-Transfer-Encoding (`7BIT`, `BASE64`, ...).
    pub encoding: IString<'a>,
    /// `body-fld-octets`: the size of the encoded body.
    pub octets: u32,
}

/// `body-type-mpart`: `1*body SP media-subtype [SP body-ext-mpart]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Multipart<'a> {
    bodies: Vec<BodyStructure<'a>>,
    /// `media-subtype` (`MIXED`, `ALTERNATIVE`, ...).
    pub subtype: IString<'a>,
    /// `body-ext-mpart`, present in `BODYSTRUCTURE`, absent in `BODY`.
    pub extension: Option<MultiPartExtension<'a>>,
}

/// `body-ext-1part`: `body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc
/// *(SP body-extension)]]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SinglePartExtension<'a> {
    /// `body-fld-md5`: Content-MD5.
    pub md5: NString<'a>,
    /// The rest, when present.
    pub tail: Option<DispositionTail<'a>>,
}

/// `body-ext-mpart`: `body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc
/// *(SP body-extension)]]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MultiPartExtension<'a> {
    /// `body-fld-param`: the Content-Type parameters (`boundary`, ...).
    pub parameters: Parameters<'a>,
    /// The rest, when present.
    pub tail: Option<DispositionTail<'a>>,
}

/// `body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DispositionTail<'a> {
    /// `body-fld-dsp`; `None` is `NIL`.
    pub disposition: Option<Disposition<'a>>,
    /// The rest, when present.
    pub tail: Option<LanguageTail<'a>>,
}

/// `body-fld-lang [SP body-fld-loc *(SP body-extension)]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTail<'a> {
    /// `body-fld-lang`: Content-Language tags. Empty is `NIL`, one tag is written as a
    /// string, more as a parenthesised list (which is also read for one tag).
    pub language: Languages<'a>,
    /// The rest, when present.
    pub tail: Option<LocationTail<'a>>,
}

/// `body-fld-loc *(SP body-extension)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocationTail<'a> {
    /// `body-fld-loc`: Content-Location.
    pub location: NString<'a>,
    /// `body-extension`s defined by later extensions, kept as they came.
    pub extensions: Vec<BodyExtension<'a>>,
}

/// `body-fld-dsp`: `"(" string SP body-fld-param ")"`: Content-Disposition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Disposition<'a> {
    /// The disposition type (`attachment`, `inline`).
    pub kind: IString<'a>,
    /// Its parameters (`filename`, ...).
    pub parameters: Parameters<'a>,
}

/// `body-extension`: `nstring / number / number64 / "(" body-extension *(SP body-extension)
/// ")"` (RFC 9051 adds `number64`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BodyExtension<'a> {
    /// A string or `NIL`.
    NString(NString<'a>),
    /// A number (`number64` in RFC 9051; read up to 2^64 - 1).
    Number(u64),
    /// A parenthesised list.
    List(ExtensionList<'a>),
}

/// The non-empty list form of a [`BodyExtension`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtensionList<'a>(Vec<BodyExtension<'a>>);

impl<'a> ExtensionList<'a> {
    /// A list of extensions; refused when empty (the grammar has `1*`).
    pub fn new(items: Vec<BodyExtension<'a>>) -> Result<Self, ValidationError> {
        if items.is_empty() {
            return Err(ValidationError::new("body-extension", "empty list"));
        }
        Ok(ExtensionList(items))
    }

    /// The items (never empty).
    pub fn items(&self) -> &[BodyExtension<'a>] {
        &self.0
    }

    /// The items as a `Vec`.
    pub fn into_vec(self) -> Vec<BodyExtension<'a>> {
        self.0
    }
}

impl<'a> MediaType<'a> {
    /// A basic media type; refused for `TEXT` and for `MESSAGE/RFC822` and `MESSAGE/GLOBAL`
    /// (compared case-insensitively), which are [`PartKind::Text`] and [`PartKind::Message`].
    pub fn new(media_type: IString<'a>, subtype: IString<'a>) -> Result<Self, ValidationError> {
        match classify(media_type.data(), subtype.data()) {
            Class::Basic => Ok(MediaType {
                media_type,
                subtype,
            }),
            Class::Text => Err(ValidationError::new(
                "media-basic",
                "TEXT is a text part, with lines",
            )),
            Class::Message(_) => Err(ValidationError::new(
                "media-basic",
                "MESSAGE/RFC822 and MESSAGE/GLOBAL are message parts, with an envelope",
            )),
        }
    }

    /// The type (`APPLICATION`, `IMAGE`, ...).
    pub fn media_type(&self) -> &IString<'a> {
        &self.media_type
    }

    /// The subtype (`PDF`, `PNG`, ...).
    pub fn subtype(&self) -> &IString<'a> {
        &self.subtype
    }

    /// The same media type, owning its data.
    pub fn into_static(self) -> MediaType<'static> {
        MediaType {
            media_type: self.media_type.into_static(),
            subtype: self.subtype.into_static(),
        }
    }
}

impl<'a> Multipart<'a> {
    /// A multipart of `bodies` (refused when empty: the grammar has `1*body`).
    pub fn new(
        bodies: Vec<BodyStructure<'a>>,
        subtype: IString<'a>,
        extension: Option<MultiPartExtension<'a>>,
    ) -> Result<Self, ValidationError> {
        if bodies.is_empty() {
            return Err(ValidationError::new("body-type-mpart", "no body part"));
        }
        Ok(Multipart {
            bodies,
            subtype,
            extension,
        })
    }

    /// The parts, in order (never empty).
    pub fn bodies(&self) -> &[BodyStructure<'a>] {
        &self.bodies
    }

    /// The parts, to change in place.
    pub fn bodies_mut(&mut self) -> &mut [BodyStructure<'a>] {
        &mut self.bodies
    }

    /// The parts as a `Vec`.
    pub fn into_bodies(self) -> Vec<BodyStructure<'a>> {
        self.bodies
    }
}

enum Class {
    Basic,
    Text,
    Message(bool),
}

fn classify(media_type: &[u8], subtype: &[u8]) -> Class {
    if media_type.eq_ignore_ascii_case(b"TEXT") {
        Class::Text
    } else if media_type.eq_ignore_ascii_case(b"MESSAGE") {
        if subtype.eq_ignore_ascii_case(b"RFC822") {
            Class::Message(false)
        } else if subtype.eq_ignore_ascii_case(b"GLOBAL") {
            Class::Message(true)
        } else {
            Class::Basic
        }
    } else {
        Class::Basic
    }
}

// ---------------------------------------------------------------------------------------
// Reading

impl<'a> BodyStructure<'a> {
    /// Parse `input`, which must be exactly one `body` ([`Quirks::LENIENT`](crate::Quirks),
    /// the client default as for [`Response::parse`](crate::response::Response::parse);
    /// [`parse_with`](Self::parse_with) takes the quirks to accept).
    pub fn parse(input: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_with(input, Quirks::LENIENT)
    }

    /// Parse `input`, which must be exactly one `body`, accepting `quirks`.
    pub fn parse_with(input: &'a [u8], quirks: Quirks) -> Result<Self, ParseError> {
        super::parse_whole_with(input, quirks, Self::read)
    }

    /// `body`: `"(" (body-type-1part / body-type-mpart) ")"`, one level of nesting (left
    /// again on error too, so a caller that recovers keeps its depth).
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        r.enter()?;
        let inner = if !r.eat(b'(') {
            Err(r.error("body"))
        } else if r.peek() == Some(b'(') {
            Multipart::read(r).map(BodyStructure::Multi)
        } else {
            SinglePart::read(r).map(BodyStructure::Single)
        };
        r.leave();
        let b = inner?;
        close(r)?;
        Ok(b)
    }

    /// `body`, read into a box where it stays (the value of a `BODY` or `BODYSTRUCTURE`
    /// item), rather than returned through each `Result` layer and then moved into its box.
    pub(crate) fn read_boxed(r: &mut Reader<'a>) -> PResult<Box<Self>> {
        r.enter()?;
        let inner = if !r.eat(b'(') {
            Err(r.error("body"))
        } else if r.peek() == Some(b'(') {
            let mut b = Box::new(BodyStructure::Multi(Multipart {
                bodies: Vec::new(),
                subtype: empty_string(),
                extension: None,
            }));
            let read = match &mut *b {
                BodyStructure::Multi(m) => m.read_into(r),
                // not reached: the box holds a multipart
                BodyStructure::Single(_) => Err(r.error("body")),
            };
            read.map(|()| b)
        } else {
            let mut b = Box::new(BodyStructure::Single(SinglePart::empty()));
            let read = match &mut *b {
                BodyStructure::Single(part) => part.read_into(r),
                // not reached: the box holds a single part
                BodyStructure::Multi(_) => Err(r.error("body")),
            };
            read.map(|()| b)
        };
        r.leave();
        let b = inner?;
        close(r)?;
        Ok(b)
    }

    /// `body`, appended to `bodies`: a single part is read where it stays in the list (a
    /// part is hundreds of octets; returning it through each `Result` would copy it each
    /// time). On error the list may hold a partly read part, which the caller drops.
    fn read_last(r: &mut Reader<'a>, bodies: &mut Vec<BodyStructure<'a>>) -> PResult<()> {
        r.enter()?;
        let inner = if !r.eat(b'(') {
            Err(r.error("body"))
        } else if r.peek() == Some(b'(') {
            match push_part(bodies, || BodyStructure::Multi(Multipart::empty())) {
                Some(BodyStructure::Multi(m)) => m.read_into(r),
                // not reached: a multipart was pushed
                _ => Err(r.error("body")),
            }
        } else {
            match push_part(bodies, || BodyStructure::Single(SinglePart::empty())) {
                Some(BodyStructure::Single(part)) => part.read_into(r),
                // not reached: a single part was pushed
                _ => Err(r.error("body")),
            }
        };
        r.leave();
        inner?;
        close(r)
    }

    /// The same body structure, owning its data.
    pub fn into_static(self) -> BodyStructure<'static> {
        match self {
            BodyStructure::Single(s) => BodyStructure::Single(s.into_static()),
            BodyStructure::Multi(m) => BodyStructure::Multi(m.into_static()),
        }
    }
}

impl<'a> Multipart<'a> {
    /// `body-type-mpart`: `1*body SP media-subtype [SP body-ext-mpart]` (inside the
    /// parentheses of its `body`).
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let mut m = Multipart::empty();
        m.read_into(r)?;
        Ok(m)
    }

    /// A placeholder multipart (no parts, empty subtype) to read into.
    fn empty() -> Self {
        Multipart {
            bodies: Vec::new(),
            subtype: empty_string(),
            extension: None,
        }
    }

    /// `body-type-mpart`, read into `self` (whose parts start empty).
    fn read_into(&mut self, r: &mut Reader<'a>) -> PResult<()> {
        // Room for two parts first (most multiparts have two: an alternative, a message and
        // its attachment): a `Vec`'s first growth would take four, which at 448 octets a
        // part is past the size the allocator serves from its per-thread cache.
        let bodies = &mut self.bodies;
        bodies.reserve_exact(2);
        loop {
            BodyStructure::read_last(r, bodies)?;
            if r.quirks.extra_spaces && r.peek() == Some(b' ') {
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
        r.sp()?;
        string_into(r, &mut self.subtype)?;
        if more(r)? {
            // read where it stays (returned by value, the extension and its tails would be
            // copied through each `Result`)
            let extension = self.extension.get_or_insert_with(|| MultiPartExtension {
                parameters: Parameters::new(),
                tail: None,
            });
            extension.read_into(r)?;
        }
        Ok(())
    }
}

impl<'a> SinglePart<'a> {
    /// `body-type-1part`: `(body-type-basic / body-type-msg / body-type-text)
    /// [SP body-ext-1part]` (inside the parentheses of its `body`).
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        let mut part = SinglePart::empty();
        part.read_into(r)?;
        Ok(part)
    }

    /// A placeholder part (empty type, no fields) to read into.
    fn empty() -> Self {
        SinglePart {
            kind: PartKind::Basic(MediaType {
                media_type: empty_string(),
                subtype: empty_string(),
            }),
            fields: BodyFields {
                parameters: Parameters::new(),
                id: NString(None),
                description: NString(None),
                encoding: empty_string(),
                octets: 0,
            },
            extension: None,
        }
    }

    /// `body-type-1part`, read into `self` (whose fields start empty), field by field.
    fn read_into(&mut self, r: &mut Reader<'a>) -> PResult<()> {
        let media_type = string(r)?;
        r.sp()?;
        let subtype = string(r)?;
        r.sp()?;
        self.fields.read_into(r)?;
        self.kind = match classify(media_type.data(), subtype.data()) {
            Class::Basic => PartKind::Basic(MediaType {
                media_type,
                subtype,
            }),
            Class::Text => {
                r.sp()?;
                let lines = lines_number(r)?;
                PartKind::Text { subtype, lines }
            }
            Class::Message(global) => {
                r.sp()?;
                let envelope = Envelope::read(r)?;
                r.sp()?;
                let body = BodyStructure::read(r)?;
                r.sp()?;
                let lines = lines_number(r)?;
                PartKind::Message(Box::new(MessagePart {
                    global,
                    envelope,
                    body,
                    lines,
                }))
            }
        };
        if more(r)? {
            // The closure is measured, not needless: `get_or_insert` with the value built first
            // made the response's parse 138 instructions longer (callgrind).
            #[allow(clippy::unnecessary_lazy_evaluations)]
            let extension = self.extension.get_or_insert_with(|| SinglePartExtension {
                md5: NString(None),
                tail: None,
            });
            nstring_into(r, &mut extension.md5)?;
            if more(r)? {
                DispositionTail::read_into(r, &mut extension.tail)?;
            }
        }
        Ok(())
    }
}

impl<'a> BodyFields<'a> {
    /// `body-fields`.
    fn read_into(&mut self, r: &mut Reader<'a>) -> PResult<()> {
        read_params_into(r, &mut self.parameters)?;
        r.sp()?;
        nstring_into(r, &mut self.id)?;
        r.sp()?;
        nstring_into(r, &mut self.description)?;
        r.sp()?;
        string_into(r, &mut self.encoding)?;
        r.sp()?;
        // Dovecot has sent `-1` here: a negative number is read as 0 under `clamp_numbers`
        self.octets = if eat_negative(r) { 0 } else { r.number()? };
        Ok(())
    }
}

impl<'a> MultiPartExtension<'a> {
    /// `body-ext-mpart`, read into `self` (empty).
    fn read_into(&mut self, r: &mut Reader<'a>) -> PResult<()> {
        read_params_into(r, &mut self.parameters)?;
        if more(r)? {
            DispositionTail::read_into(r, &mut self.tail)?;
        }
        Ok(())
    }
}

impl<'a> DispositionTail<'a> {
    /// `body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]`, read into
    /// `slot` (an empty slot; each tail is set to `Some` first, then filled where it stays:
    /// returned by value, the tails would be copied through each `Result`, and assigning
    /// over a slot runs the drop glue of what it held).
    fn read_into(r: &mut Reader<'a>, slot: &mut Option<Self>) -> PResult<()> {
        let tail = slot.get_or_insert_with(|| DispositionTail {
            disposition: None,
            tail: None,
        });
        if r.peek() == Some(b'(') {
            let disposition = tail.disposition.get_or_insert_with(|| Disposition {
                kind: empty_string(),
                parameters: Parameters::new(),
            });
            disposition.read_into(r)?;
        } else if !eat_nil(r) {
            return Err(r.error("body-fld-dsp"));
        }
        if more(r)? {
            let language = tail.tail.get_or_insert_with(|| LanguageTail {
                language: Languages::new(),
                tail: None,
            });
            language.read_into(r)?;
        }
        Ok(())
    }
}

impl<'a> Disposition<'a> {
    /// `body-fld-dsp` other than `NIL`: `"(" string SP body-fld-param ")"`, read into `self`
    /// (empty).
    fn read_into(&mut self, r: &mut Reader<'a>) -> PResult<()> {
        r.expect(b'(', "body-fld-dsp")?;
        string_into(r, &mut self.kind)?;
        r.sp()?;
        read_params_into(r, &mut self.parameters)?;
        close(r)
    }
}

impl<'a> LanguageTail<'a> {
    /// `body-fld-lang [SP body-fld-loc *(SP body-extension)]`, read into `self` (empty).
    fn read_into(&mut self, r: &mut Reader<'a>) -> PResult<()> {
        read_language_into(r, &mut self.language)?;
        if more(r)? {
            let location = self.tail.get_or_insert_with(|| LocationTail {
                location: NString(None),
                extensions: Vec::new(),
            });
            nstring_into(r, &mut location.location)?;
            while more(r)? {
                location.extensions.push(BodyExtension::read(r)?);
            }
        }
        Ok(())
    }
}

/// Append the placeholder part `make` builds to `bodies`, and return it (`None` is not
/// reached). `resize_with` writes the new element where it stays; a `push` of a value this
/// large builds it aside and copies all of it.
#[inline(always)]
fn push_part<'p, 'a>(
    bodies: &'p mut Vec<BodyStructure<'a>>,
    make: impl FnMut() -> BodyStructure<'a>,
) -> Option<&'p mut BodyStructure<'a>> {
    bodies.resize_with(bodies.len() + 1, make);
    bodies.last_mut()
}

/// Whether another element follows: an `SP`, consumed. Under [`Quirks::extra_spaces`], spaces
/// before a closing parenthesis are consumed too and end the list.
fn more(r: &mut Reader<'_>) -> PResult<bool> {
    if r.peek() != Some(b' ') {
        return Ok(false);
    }
    if r.quirks.extra_spaces && matches!(r.peek2(), Some(b' ' | b')')) {
        r.take_while(|b| b == b' ');
        return Ok(r.peek() != Some(b')'));
    }
    r.sp()?;
    Ok(true)
}

/// The `)` that closes a list; under [`Quirks::extra_spaces`], spaces before it are skipped.
fn close(r: &mut Reader<'_>) -> PResult<()> {
    if r.quirks.extra_spaces && r.peek() == Some(b' ') {
        r.take_while(|b| b == b' ');
    }
    r.expect(b')', "\")\"")
}

/// `body-fld-param`: `"(" string SP string *(SP string SP string) ")" / nil`.
/// Appended to `list` (empty): a list read in its place is not copied out of a `Result`, nor
/// is a placeholder list dropped by an assignment over it.
fn read_params_into<'a>(r: &mut Reader<'a>, list: &mut Parameters<'a>) -> PResult<()> {
    if r.eat(b'(') {
        loop {
            // each pair is read where it stays in the list
            list.push((empty_string(), empty_string()));
            if let Some((k, v)) = list.last_mut() {
                string_into(r, k)?;
                r.sp()?;
                string_into(r, v)?;
            }
            if !more(r)? {
                break;
            }
        }
        close(r)?;
    } else if !eat_nil(r) {
        return Err(r.error("body-fld-param"));
    }
    Ok(())
}

/// `body-fld-lang`: `nstring / "(" string *(SP string) ")"`, appended to `list` (empty).
fn read_language_into<'a>(r: &mut Reader<'a>, list: &mut Languages<'a>) -> PResult<()> {
    if r.eat(b'(') {
        loop {
            list.push(string(r)?);
            if !more(r)? {
                break;
            }
        }
        close(r)?;
    } else if matches!(r.peek(), Some(b'"' | b'{')) {
        list.push(IString::read(r)?);
    } else if !eat_nil(r) {
        return Err(r.error("body-fld-lang"));
    }
    Ok(())
}

/// `"(" body-extension *(SP body-extension) ")"`.
#[inline(always)]
fn read_extension_list<'a>(r: &mut Reader<'a>) -> PResult<Vec<BodyExtension<'a>>> {
    r.expect(b'(', "\"(\"")?;
    let mut items = Vec::new();
    loop {
        items.push(BodyExtension::read(r)?);
        if !more(r)? {
            break;
        }
    }
    close(r)?;
    Ok(items)
}

impl<'a> BodyExtension<'a> {
    /// `body-extension`.
    pub(crate) fn read(r: &mut Reader<'a>) -> PResult<Self> {
        match r.peek() {
            Some(b'(') => {
                r.enter()?;
                let items = read_extension_list(r);
                r.leave();
                Ok(BodyExtension::List(ExtensionList(items?)))
            }
            Some(b'0'..=b'9') => number_u64(r).map(BodyExtension::Number),
            Some(b'"' | b'{') => nstring(r).map(BodyExtension::NString),
            _ if eat_nil(r) => Ok(BodyExtension::NString(NString(None))),
            _ => Err(r.error("body-extension")),
        }
    }

    /// The same extension, owning its data.
    pub fn into_static(self) -> BodyExtension<'static> {
        match self {
            BodyExtension::NString(s) => BodyExtension::NString(s.into_static()),
            BodyExtension::Number(n) => BodyExtension::Number(n),
            BodyExtension::List(l) => BodyExtension::List(l.into_static()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// into_static

fn static_params(p: Parameters<'_>) -> Parameters<'static> {
    p.map(|(k, v)| (k.into_static(), v.into_static()))
}

impl SinglePart<'_> {
    /// The same part, owning its data.
    pub fn into_static(self) -> SinglePart<'static> {
        SinglePart {
            kind: self.kind.into_static(),
            fields: self.fields.into_static(),
            extension: self.extension.map(SinglePartExtension::into_static),
        }
    }
}

impl PartKind<'_> {
    /// The same kind, owning its data.
    pub fn into_static(self) -> PartKind<'static> {
        match self {
            PartKind::Basic(m) => PartKind::Basic(m.into_static()),
            PartKind::Text { subtype, lines } => PartKind::Text {
                subtype: subtype.into_static(),
                lines,
            },
            PartKind::Message(m) => PartKind::Message(Box::new((*m).into_static())),
        }
    }
}

impl MessagePart<'_> {
    /// The same part, owning its data.
    pub fn into_static(self) -> MessagePart<'static> {
        MessagePart {
            global: self.global,
            envelope: self.envelope.into_static(),
            body: self.body.into_static(),
            lines: self.lines,
        }
    }
}

impl BodyFields<'_> {
    /// The same fields, owning their data.
    pub fn into_static(self) -> BodyFields<'static> {
        BodyFields {
            parameters: static_params(self.parameters),
            id: self.id.into_static(),
            description: self.description.into_static(),
            encoding: self.encoding.into_static(),
            octets: self.octets,
        }
    }
}

impl Multipart<'_> {
    /// The same multipart, owning its data.
    pub fn into_static(self) -> Multipart<'static> {
        Multipart {
            bodies: self
                .bodies
                .into_iter()
                .map(BodyStructure::into_static)
                .collect(),
            subtype: self.subtype.into_static(),
            extension: self.extension.map(MultiPartExtension::into_static),
        }
    }
}

impl SinglePartExtension<'_> {
    /// The same data, owned.
    pub fn into_static(self) -> SinglePartExtension<'static> {
        SinglePartExtension {
            md5: self.md5.into_static(),
            tail: self.tail.map(DispositionTail::into_static),
        }
    }
}

impl MultiPartExtension<'_> {
    /// The same data, owned.
    pub fn into_static(self) -> MultiPartExtension<'static> {
        MultiPartExtension {
            parameters: static_params(self.parameters),
            tail: self.tail.map(DispositionTail::into_static),
        }
    }
}

impl DispositionTail<'_> {
    /// The same data, owned.
    pub fn into_static(self) -> DispositionTail<'static> {
        DispositionTail {
            disposition: self.disposition.map(Disposition::into_static),
            tail: self.tail.map(LanguageTail::into_static),
        }
    }
}

impl Disposition<'_> {
    /// The same disposition, owning its data.
    pub fn into_static(self) -> Disposition<'static> {
        Disposition {
            kind: self.kind.into_static(),
            parameters: static_params(self.parameters),
        }
    }
}

impl LanguageTail<'_> {
    /// The same data, owned.
    pub fn into_static(self) -> LanguageTail<'static> {
        LanguageTail {
            language: self
                .language
                .into_iter()
                .map(IString::into_static)
                .collect(),
            tail: self.tail.map(LocationTail::into_static),
        }
    }
}

impl LocationTail<'_> {
    /// The same data, owned.
    pub fn into_static(self) -> LocationTail<'static> {
        LocationTail {
            location: self.location.into_static(),
            extensions: self
                .extensions
                .into_iter()
                .map(BodyExtension::into_static)
                .collect(),
        }
    }
}

impl ExtensionList<'_> {
    /// The same list, owning its data.
    pub fn into_static(self) -> ExtensionList<'static> {
        ExtensionList(self.0.into_iter().map(BodyExtension::into_static).collect())
    }
}

// ---------------------------------------------------------------------------------------
// Encoding

impl Encode for BodyStructure<'_> {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'(');
        match self {
            BodyStructure::Single(s) => s.encode(w),
            BodyStructure::Multi(m) => m.encode(w),
        }
        w.byte(b')');
    }
}

impl Encode for SinglePart<'_> {
    fn encode(&self, w: &mut Writer) {
        match &self.kind {
            PartKind::Basic(m) => {
                m.media_type.encode(w);
                w.sp();
                m.subtype.encode(w);
                w.sp();
                self.fields.encode(w);
            }
            PartKind::Text { subtype, lines } => {
                w.raw(b"\"TEXT\" ");
                subtype.encode(w);
                w.sp();
                self.fields.encode(w);
                w.sp();
                w.number(*lines);
            }
            PartKind::Message(m) => {
                w.raw(if m.global {
                    b"\"MESSAGE\" \"GLOBAL\" "
                } else {
                    b"\"MESSAGE\" \"RFC822\" "
                });
                self.fields.encode(w);
                w.sp();
                m.envelope.encode(w);
                w.sp();
                m.body.encode(w);
                w.sp();
                w.number(m.lines);
            }
        }
        if let Some(e) = &self.extension {
            w.sp();
            e.encode(w);
        }
    }
}

impl Encode for SinglePartExtension<'_> {
    fn encode(&self, w: &mut Writer) {
        self.md5.encode(w);
        if let Some(t) = &self.tail {
            w.sp();
            t.encode(w);
        }
    }
}

impl Encode for MultiPartExtension<'_> {
    fn encode(&self, w: &mut Writer) {
        encode_params(&self.parameters, w);
        if let Some(t) = &self.tail {
            w.sp();
            t.encode(w);
        }
    }
}

impl Encode for Multipart<'_> {
    fn encode(&self, w: &mut Writer) {
        for b in &self.bodies {
            b.encode(w);
        }
        w.sp();
        self.subtype.encode(w);
        if let Some(e) = &self.extension {
            w.sp();
            e.encode(w);
        }
    }
}

impl Encode for BodyFields<'_> {
    fn encode(&self, w: &mut Writer) {
        encode_params(&self.parameters, w);
        w.sp();
        self.id.encode(w);
        w.sp();
        self.description.encode(w);
        w.sp();
        self.encoding.encode(w);
        w.sp();
        w.number(u64::from(self.octets));
    }
}

fn encode_params(p: &[(IString<'_>, IString<'_>)], w: &mut Writer) {
    if p.is_empty() {
        w.raw(b"NIL");
        return;
    }
    w.byte(b'(');
    for (i, (k, v)) in p.iter().enumerate() {
        if i > 0 {
            w.sp();
        }
        k.encode(w);
        w.sp();
        v.encode(w);
    }
    w.byte(b')');
}

impl Encode for DispositionTail<'_> {
    fn encode(&self, w: &mut Writer) {
        match &self.disposition {
            Some(d) => d.encode(w),
            None => w.raw(b"NIL"),
        }
        if let Some(l) = &self.tail {
            w.sp();
            l.encode(w);
        }
    }
}

impl Encode for Disposition<'_> {
    fn encode(&self, w: &mut Writer) {
        w.byte(b'(');
        self.kind.encode(w);
        w.sp();
        encode_params(&self.parameters, w);
        w.byte(b')');
    }
}

/// `body-fld-lang`: `NIL` when empty, a string for one tag, a list for more.
impl Encode for LanguageTail<'_> {
    fn encode(&self, w: &mut Writer) {
        match &self.language[..] {
            [] => w.raw(b"NIL"),
            [one] => one.encode(w),
            many => {
                w.byte(b'(');
                for (i, s) in many.iter().enumerate() {
                    if i > 0 {
                        w.sp();
                    }
                    s.encode(w);
                }
                w.byte(b')');
            }
        }
        if let Some(t) = &self.tail {
            w.sp();
            t.encode(w);
        }
    }
}

impl Encode for LocationTail<'_> {
    fn encode(&self, w: &mut Writer) {
        self.location.encode(w);
        for e in &self.extensions {
            w.sp();
            e.encode(w);
        }
    }
}

impl Encode for BodyExtension<'_> {
    fn encode(&self, w: &mut Writer) {
        match self {
            BodyExtension::NString(s) => s.encode(w),
            BodyExtension::Number(n) => w.number(*n),
            BodyExtension::List(l) => {
                w.byte(b'(');
                for (i, e) in l.0.iter().enumerate() {
                    if i > 0 {
                        w.sp();
                    }
                    e.encode(w);
                }
                w.byte(b')');
            }
        }
    }
}

/// Under [`Quirks::clamp_numbers`](crate::Quirks), consume a negative number (`-` DIGITs, seen
/// from Dovecot as `body-fld-octets`/`body-fld-lines`) and say so: the caller reads it as 0.
fn eat_negative(r: &mut Reader<'_>) -> bool {
    let negative = r.quirks.clamp_numbers
        && r.peek() == Some(b'-')
        && r.rest().get(1).is_some_and(u8::is_ascii_digit);
    if negative {
        r.eat(b'-');
        r.take_while(|b| b.is_ascii_digit());
    }
    negative
}

/// `body-fld-lines` (`number`, read as u64 as the crate keeps it; negative as 0 when
/// clamping).
fn lines_number(r: &mut Reader<'_>) -> PResult<u64> {
    if eat_negative(r) {
        Ok(0)
    } else {
        number_u64(r)
    }
}
