//! tokio-util codecs (being written)
