//! Encoders, mirroring `parse/` file for file. They write canonical forms into a `BytesMut`.

pub(crate) mod command;
pub(crate) mod ehlo;
pub(crate) mod params;
pub(crate) mod path;
pub(crate) mod reply;
