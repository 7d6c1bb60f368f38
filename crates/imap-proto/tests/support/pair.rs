//! Our client against our server in memory: a `mail_testkit::Pair` whose server events are
//! answered by an [`App`] over a shared [`Store`], with the store's changes delivered after
//! every answer.

use std::cell::RefCell;
use std::rc::Rc;

use imap_proto::client::{Client, ClientConfig};
use imap_proto::server::{Server, ServerConfig};
use mail_testkit::{Pair, SimClock, Users};

use super::app::{App, deliver};
use super::store::{SessionId, Store};

/// The store shared by the test and the pair's server application.
pub(crate) type Shared = Rc<RefCell<Store>>;

/// A pair of `client_config` against `server_config` on `store`; the server's decisions are
/// answered by an [`App`] with the standard users. Returns the pair and the server
/// session's number in the store.
pub(crate) fn pair(
    store: &Shared,
    client_config: ClientConfig,
    server_config: ServerConfig,
) -> (Pair<Client, Server>, SessionId) {
    pair_with_users(store, client_config, server_config, Users::standard())
}

/// As [`pair`], the server checking credentials against `users`.
pub(crate) fn pair_with_users(
    store: &Shared,
    client_config: ClientConfig,
    server_config: ServerConfig,
    users: Users,
) -> (Pair<Client, Server>, SessionId) {
    let clock = SimClock::new();
    let server = Server::new(server_config, clock.now());
    let client = Client::new(client_config, clock.now());
    let mut pair = Pair::new(client, server, clock);
    let mut app = App::new(&mut store.borrow_mut(), users);
    let id = app.id;
    let shared = Rc::clone(store);
    pair.on_server_event(move |server, event, _| {
        let mut store = shared.borrow_mut();
        app.answer(&mut store, server, event.clone())
            .expect("the application answers as the machine asks");
        deliver(&mut store, app.id, server);
    });
    (pair, id)
}

/// Another session's change reaches the pair's server: what the store queued for session
/// `id` is handed to it (then drive the pair).
pub(crate) fn deliver_to(store: &Shared, id: SessionId, pair: &mut Pair<Client, Server>) {
    deliver(&mut store.borrow_mut(), id, pair.server_mut());
}
