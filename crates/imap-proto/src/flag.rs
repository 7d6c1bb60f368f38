//! flag (being written)
