//! The IMAP client state machine: tags, literal synchronisation, responses routed to their
//! command, unsolicited responses delivered, IDLE, the STARTTLS policy.
