//! sequence (being written)
