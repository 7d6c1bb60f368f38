//! Both POP3 machines implement the session contract of `mail_wire::session`, so that one
//! driver (mail-tokio, the test kit's in-memory `Pair`, a fuzz target) runs either. Each trait
//! method forwards to the inherent method of the same name (`mail_wire::delegate_session!`);
//! what the methods mean is documented on `mail_wire::session::Session`.

use crate::{client, server};

mail_wire::delegate_session!(server::Server {
    Event = server::Event,
    Error = server::SessionError,
    Misuse = server::ServerError,
    StartTls = server::Event::StartTls,
    Closed = server::Event::Closed,
    also = [feed_buf, handle_connection_lost],
});

mail_wire::delegate_session!(client::Client {
    Event = client::Event,
    Error = client::SessionError,
    Misuse = client::ClientError,
    StartTls = client::Event::StartTls,
    Closed = client::Event::Closed,
    also = [poll_transmit_marked],
});
