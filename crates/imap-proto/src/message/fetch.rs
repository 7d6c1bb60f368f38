//! The FETCH items a stored message determines, built as the codec's
//! [`MessageDataItem`]s for a server to send.

use super::{ParsedMessage, SectionError};
use crate::command::FetchAttribute;
use crate::fetch::{MessageDataItem, Partial, Section, binary_content, body_content};

fn origin(partial: Option<Partial>) -> Option<u32> {
    partial.map(|p| u32::try_from(p.start).unwrap_or(u32::MAX))
}

impl<'a> ParsedMessage<'a> {
    /// The FETCH item that answers `attribute` from the message itself: `ENVELOPE`, `BODY`,
    /// `BODYSTRUCTURE`, `RFC822.SIZE`, `RFC822`, `RFC822.HEADER`, `RFC822.TEXT`,
    /// `BODY[section]<partial>` (with `BODY.PEEK` answered as `BODY`), `BINARY[part]<partial>`
    /// and `BINARY.SIZE[part]`. `Ok(None)` for what the store knows instead (`FLAGS`, `UID`,
    /// `INTERNALDATE`, `MODSEQ`); setting `\Seen` for a non-peek fetch is the store's too.
    /// `Err` only for `BINARY` and `BINARY.SIZE` ([`SectionError`]).
    pub fn fetch(
        &self,
        attribute: &FetchAttribute<'_>,
    ) -> Result<Option<MessageDataItem<'a>>, SectionError> {
        use FetchAttribute as A;
        let item = match attribute {
            A::Envelope => MessageDataItem::Envelope(Box::new(self.envelope())),
            A::Body => MessageDataItem::Body(Box::new(self.body_structure(false))),
            A::BodyStructure => MessageDataItem::BodyStructure(Box::new(self.body_structure(true))),
            A::Rfc822Size => MessageDataItem::Rfc822Size(self.size()),
            A::Rfc822 => MessageDataItem::Rfc822(body_content(self.section(None, None)?)),
            A::Rfc822Header => MessageDataItem::Rfc822Header(body_content(
                self.section(Some(&Section::Header(None)), None)?,
            )),
            A::Rfc822Text => MessageDataItem::Rfc822Text(body_content(
                self.section(Some(&Section::Text(None)), None)?,
            )),
            A::BodySection {
                section, partial, ..
            } => MessageDataItem::BodySection {
                section: section.clone().map(|s| Box::new(s.into_static())),
                origin: origin(*partial),
                data: body_content(self.section(section.as_ref(), *partial)?),
            },
            A::Binary { part, partial, .. } => MessageDataItem::Binary {
                section: part.clone().map(Box::new),
                origin: origin(*partial),
                data: binary_content(self.binary(part.as_ref(), *partial)?),
            },
            A::BinarySize { part } => MessageDataItem::BinarySize {
                section: part.clone(),
                size: u32::try_from(self.binary_size(part.as_ref())?).unwrap_or(u32::MAX),
            },
            A::Flags | A::InternalDate | A::Uid | A::ModSeq => return Ok(None),
            // attributes added to the codec later are the store's until this learns them
            #[allow(unreachable_patterns)]
            _ => return Ok(None),
        };
        Ok(Some(item))
    }
}
