//! datetime (being written)
