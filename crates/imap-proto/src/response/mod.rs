//! response (being written)
