//! mailbox (being written)
