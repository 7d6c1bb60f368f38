//! FETCH data: body sections and partial ranges (shared with the FETCH command), and the
//! message data items of a FETCH response (RFC 3501 section 7.4.2, RFC 9051 section 7.5.2).

#[allow(dead_code)] // the readers are called by the command and response parsers (other branches)
mod section;
mod tmp_core;

pub use section::{Part, Partial, Section};
#[allow(unused_imports)] // the command and response parsers use them (other branches)
pub(crate) use section::{
    encode_section, encode_section_binary, read_section, read_section_binary,
};
