//! Chunking invariance and robustness: any split of the server's bytes gives the same events
//! and bytes, and arbitrary server bytes never panic and close the session for good.

use std::time::Instant;

use proptest::prelude::*;
use smtp_proto::client::{Client, ClientConfig, Event};

use crate::bdat::{RFC3030_SIMPLE, rfc3030_app};
use mail_testkit::transcript::Step;
use mail_testkit::{Chunker, Chunking};

use crate::harness::{App, Session, config, transcript};
use crate::hello::{HELO_FALLBACK, helo_app};
use crate::lmtp::{RFC2033, RFC2033_PIPELINED, lmtp_app, lmtp_config};
use crate::pipelining::{RFC2920, rfc2920_app};
use crate::sessions::{D1, d1_app};
use crate::starttls::{STARTTLS_THEN_AUTH, submission_app, submission_config};
use crate::{Direct, MINUTE, alice, drain, feed_replies};

fn scenarios() -> Vec<(ClientConfig, App, Vec<Step>)> {
    vec![
        (config("bar.com"), d1_app(), transcript(D1)),
        (
            config("dbc.mtview.ca.us"),
            rfc2920_app(),
            transcript(RFC2920),
        ),
        (
            config("ymir.claremont.edu"),
            rfc3030_app(),
            transcript(RFC3030_SIMPLE),
        ),
        (lmtp_config(false), lmtp_app(), transcript(RFC2033)),
        (lmtp_config(true), lmtp_app(), transcript(RFC2033_PIPELINED)),
        (
            config("client.example"),
            helo_app(),
            transcript(HELO_FALLBACK),
        ),
        (
            submission_config(),
            submission_app(),
            transcript(STARTTLS_THEN_AUTH),
        ),
    ]
}

fn run_split(
    (config, app, steps): (ClientConfig, App, Vec<Step>),
    split: &mut dyn FnMut(&[u8]) -> Vec<usize>,
) -> (Vec<Event>, Vec<u8>) {
    let mut session = Session::new(config, app);
    session.run(&steps, split);
    (session.events, session.wire)
}

#[test]
fn byte_at_a_time_gives_the_same_events_and_bytes() {
    for scenario in scenarios() {
        let whole = run_split(scenario.clone(), &mut |_| Vec::new());
        let bytewise = run_split(scenario, &mut |bytes| (1..bytes.len()).collect());
        assert_eq!(whole, bytewise);
        assert!(matches!(whole.0.last(), Some(Event::Closed(Ok(())))));
    }
}

proptest! {
    #[test]
    fn any_split_of_the_server_bytes_gives_the_same_events_and_bytes(
        which in 0..7usize,
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let scenario = scenarios().swap_remove(which);
        let whole = run_split(scenario.clone(), &mut |_| Vec::new());
        let mut cuts = cuts.into_iter();
        let split = run_split(scenario, &mut |bytes| {
            cuts.by_ref().take(3).map(|c| c % (bytes.len() + 1)).collect()
        });
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn arbitrary_server_bytes_never_panic_and_close_for_good(
        stage in 0..4usize,
        garbage in proptest::collection::vec(any::<u8>(), 0..3000),
        pieces in proptest::collection::vec(1..64usize, 1..8),
    ) {
        let now = Instant::now();
        let mut config = config("client.example");
        config.credentials = Some(alice());
        config.allow_plaintext_auth = true;
        let mut client = Direct::new(Client::new(config, now));
        let prefix: &[u8] = match stage {
            0 => b"",
            1 => b"220 mx.example\r\n",
            2 => b"220 mx.example\r\n250-mx.example\r\n250 AUTH LOGIN\r\n",
            _ => b"220 mx.example\r\n250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
        };
        feed_replies(&mut client, now, prefix);
        let (events, _) = drain(&mut client);
        let mut closed = events.iter().any(|e| matches!(e, Event::Closed(_)));
        prop_assert!(!closed, "a valid prefix closed the session: {:?}", events);
        for piece in Chunker::new(Chunking::Sizes(pieces)).split(&garbage) {
            client.feed(now, piece);
            let (events, _) = drain(&mut client);
            prop_assert!(!closed || events.is_empty(), "events after Closed: {:?}", events);
            closed |= events.iter().any(|e| matches!(e, Event::Closed(_)));
        }
        client.handle_eof();
        client.handle_timeout(now + 60 * MINUTE);
        let (events, _) = drain(&mut client);
        prop_assert!(client.is_closed());
        prop_assert!(events.len() <= usize::from(!closed));
    }
}
