//! framer (being written)
