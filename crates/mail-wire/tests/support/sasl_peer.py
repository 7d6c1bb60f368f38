#!/usr/bin/env python3
"""An independent SASL peer for mail-wire's interop tests (tests/sasl_interop.rs).

Implements SCRAM-SHA-256 (RFC 5802 section 3, RFC 7677) and PLAIN (RFC 4616) from the RFC
text with the Python standard library only (hashlib.pbkdf2_hmac, hmac, base64), so that the
Rust implementation is checked against code that does not share its mistakes.

It speaks the way SMTP's AUTH does after the command: one base64 message per line on stdout
(its messages) and stdin (the peer's), an empty line for an empty message. When the exchange
is over it prints one line "RESULT OK <detail>" or "RESULT FAIL <reason>" and exits.

Usage:
    sasl_peer.py scram-client USER PASSWORD_B64 CLIENT_NONCE [tamper-proof]
    sasl_peer.py scram-server USER PASSWORD_B64 SERVER_NONCE SALT_B64 ITERATIONS [tamper-signature]
    sasl_peer.py plain-client AUTHZID|- USER PASSWORD_B64
    sasl_peer.py plain-server USER PASSWORD_B64

USER and the password are UTF-8; the password is passed in base64 so that any text survives
the command line. SASLprep is the identity for the test passwords, so none is applied here.
"""

import base64
import hashlib
import hmac
import sys


class PeerError(Exception):
    """The other side broke the protocol or failed authentication."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def send(message: bytes) -> None:
    print(b64(message), flush=True)


def recv() -> bytes:
    line = sys.stdin.readline()
    if not line:
        raise PeerError("eof")
    line = line.rstrip("\r\n")
    if line == "*":
        raise PeerError("cancelled")
    return unb64(line)


def result(ok: bool, detail: str) -> None:
    print("RESULT %s %s" % ("OK" if ok else "FAIL", detail), flush=True)


# RFC 5802 section 2.2 notation.
def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def HMAC(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def Hi(password: bytes, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password, salt, iterations)


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b))


def saslname(name: str) -> bytes:
    """RFC 5802 section 5.1: ',' is sent as '=2C' and '=' as '=3D'."""
    return name.replace("=", "=3D").replace(",", "=2C").encode("utf-8")


def attributes(message: bytes) -> dict:
    attrs = {}
    for part in message.split(b","):
        if len(part) < 2 or part[1:2] != b"=":
            raise PeerError("bad attribute %r" % part)
        attrs[part[:1].decode()] = part[2:]
    return attrs


def scram_client(user: str, password: bytes, client_nonce: str, tamper: bool) -> None:
    gs2_header = b"n,,"
    first_bare = b"n=" + saslname(user) + b",r=" + client_nonce.encode()
    send(gs2_header + first_bare)

    server_first = recv()
    attrs = attributes(server_first)
    nonce, salt, iterations = attrs["r"], unb64(attrs["s"].decode()), int(attrs["i"])
    if not nonce.startswith(client_nonce.encode()) or nonce == client_nonce.encode():
        raise PeerError("server nonce does not extend the client nonce")

    salted_password = Hi(password, salt, iterations)
    client_key = HMAC(salted_password, b"Client Key")
    stored_key = H(client_key)
    without_proof = b"c=" + b64(gs2_header).encode() + b",r=" + nonce
    auth_message = first_bare + b"," + server_first + b"," + without_proof
    client_proof = xor(client_key, HMAC(stored_key, auth_message))
    if tamper:
        client_proof = bytes([client_proof[0] ^ 0x80]) + client_proof[1:]
    send(without_proof + b",p=" + b64(client_proof).encode())

    server_final = recv()
    server_key = HMAC(salted_password, b"Server Key")
    expected = b"v=" + b64(HMAC(server_key, auth_message)).encode()
    if not hmac.compare_digest(server_final, expected):
        raise PeerError("bad server signature %r" % server_final)
    send(b"")
    result(True, "server-verified")


def scram_server(user: str, password: bytes, server_nonce: str, salt: bytes, iterations: int, tamper: bool) -> None:
    client_first = recv()
    if not client_first.startswith(b"n,,"):
        raise PeerError("unexpected gs2 header %r" % client_first)
    first_bare = client_first[3:]
    attrs = attributes(first_bare)
    if attrs["n"] != saslname(user):
        raise PeerError("unknown user %r" % attrs["n"])
    nonce = attrs["r"] + server_nonce.encode()
    server_first = b"r=" + nonce + b",s=" + b64(salt).encode() + b",i=" + str(iterations).encode()
    send(server_first)

    client_final = recv()
    without_proof, _, proof = client_final.rpartition(b",p=")
    final_attrs = attributes(without_proof)
    if final_attrs["c"] != b64(b"n,,").encode():
        raise PeerError("bad channel binding")
    if final_attrs["r"] != nonce:
        raise PeerError("bad nonce")

    salted_password = Hi(password, salt, iterations)
    stored_key = H(HMAC(salted_password, b"Client Key"))
    auth_message = first_bare + b"," + server_first + b"," + without_proof
    client_key = xor(unb64(proof.decode()), HMAC(stored_key, auth_message))
    if not hmac.compare_digest(H(client_key), stored_key):
        send(b"e=invalid-proof")
        result(False, "invalid-proof")
        return

    server_signature = HMAC(HMAC(salted_password, b"Server Key"), auth_message)
    if tamper:
        server_signature = bytes([server_signature[0] ^ 0x01]) + server_signature[1:]
    send(b"v=" + b64(server_signature).encode())
    if recv() != b"":
        raise PeerError("expected an empty response to the server signature")
    result(True, user)


def plain_client(authzid: str, user: str, password: bytes) -> None:
    authzid_bytes = b"" if authzid == "-" else authzid.encode("utf-8")
    send(authzid_bytes + b"\0" + user.encode("utf-8") + b"\0" + password)
    result(True, "sent")


def plain_server(user: str, password: bytes) -> None:
    fields = recv().split(b"\0")
    if len(fields) != 3:
        raise PeerError("expected two NUL separators")
    authzid, authcid, passwd = fields
    if authcid.decode("utf-8") != user or not hmac.compare_digest(passwd, password):
        result(False, "bad-credentials")
        return
    result(True, (authzid or authcid).decode("utf-8"))


def main(argv: list) -> int:
    mode, args = argv[1], argv[2:]
    try:
        if mode == "scram-client":
            scram_client(args[0], unb64(args[1]), args[2], args[3:] == ["tamper-proof"])
        elif mode == "scram-server":
            scram_server(args[0], unb64(args[1]), args[2], unb64(args[3]), int(args[4]), args[5:] == ["tamper-signature"])
        elif mode == "plain-client":
            plain_client(args[0], args[1], unb64(args[2]))
        elif mode == "plain-server":
            plain_server(args[0], unb64(args[1]))
        else:
            print("unknown mode %s" % mode, file=sys.stderr)
            return 2
    except PeerError as err:
        result(False, str(err))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
