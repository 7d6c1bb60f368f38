//! Encoders, mirroring `parse/` file for file: `parse(encode(x)) == x`.

pub(crate) mod capability;
pub(crate) mod command;
pub(crate) mod response;
