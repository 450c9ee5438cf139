#!/usr/bin/env python3
"""Decrypt the worked example of docs/wire-format.md from the document alone.

usage: decrypt_by_the_doc.py docs/wire-format.md

An independent check that the wire-format document is enough to decrypt a
delivery by hand: every layout, label and step here was written from the
document's prose and tables, not from imcore's sources, with only the
standard library and Python's `cryptography` package. From the document's
worked example it takes the key files, the envelope, the delivery and the
expected body; it parses the key files and the delivery strictly, splits the
envelope as the service does, verifies and decrypts the delivery, compares
every intermediate value with the one the example shows, and checks that
tampering (a flipped bit, a cut or extra byte) makes decryption fail.

Suites 1 and 3 (X25519, Ed25519) only: the example is suite 1. The
validation policy (docs/validation-policy.md) is not reimplemented.
Exit status: 0 success, 1 failure, 77 (skip) without python3-cryptography.
"""

import hashlib
import hmac
import re
import sys

try:
    from cryptography.exceptions import InvalidSignature, InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey, Ed25519PublicKey)
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey, X25519PublicKey)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:
    print("decrypt_by_the_doc: python3-cryptography not installed; skipping", file=sys.stderr)
    sys.exit(77)

# "Conventions": suite id -> (E, P, S, W); "Limits": the default build's limits.
SIZES = {1: (32, 32, 64, 48), 2: (65, 65, 64, 48), 3: (32, 32, 64, 48)}
AEADS = {1: ChaCha20Poly1305, 3: AESGCM}
MAX_HANDLE, MAX_BODY, MAX_RECIPIENTS = 255, 65536, 1024
VERSION, ENVELOPE, DELIVERY = 2, 0x45, 0x44
NONCE = bytes(12)


class Failure(Exception):
    """A check failed: the run exits 1."""


class Malformed(Failure):
    """The input breaks a parsing rule ("Parsing rules", "Key files")."""


class AuthFailed(Failure):
    """A recipient check other than an AEAD tag or the signature failed."""


def require(ok, error, message):
    if not ok:
        raise error(message)


# --- the worked example ----------------------------------------------------

class Example:
    """The worked example's values, by (### heading, # comment, name).

    Hex blocks (`name ... (N) =` then indented hex lines, N checked) become
    bytes, `name = "text"` a str, `name = 0x.. / digits` an int.
    """

    LABEL = re.compile(r"^(\S+)(?: = .*)? \((\d+)\) =$")
    HEX = re.compile(r"^    ([0-9a-f]+)$")
    SCALAR = re.compile(r'^(\w+) = (?:"(.*)"|(0x[0-9a-f]+|\d+))$')

    def __init__(self, doc):
        start = doc.find("\n## Worked example\n")
        require(start >= 0, Failure, "the document has no '## Worked example' section")
        self.values, self.heading, self.comment = {}, "", ""
        block = None
        for line in doc[start:].splitlines() + [""]:
            if block and (hexline := self.HEX.match(line)):
                block[2].append(hexline.group(1))
                continue
            if block:
                self._finish(*block)
            block = self._line(line)

    def _line(self, line):
        """Track headings and comments; returns a hex block that starts here."""
        if line.startswith("### "):
            self.heading = line[4:]
        elif line.startswith("```"):
            self.comment = ""
        elif line.startswith("# "):
            self.comment = line[2:]
        elif m := self.LABEL.match(line):
            return (m.group(1), int(m.group(2)), [])
        elif m := self.SCALAR.match(line):
            value = m.group(2) if m.group(2) is not None else int(m.group(3), 0)
            self._store(m.group(1), value)
        return None

    def _finish(self, name, size, lines):
        value = bytes.fromhex("".join(lines))
        require(len(value) == size, Failure,
                f"worked example: {name} announces {size} bytes but has {len(value)}")
        self._store(name, value)

    def _store(self, name, value):
        key = (self.heading, self.comment, name)
        require(key not in self.values, Failure, f"worked example: {key} appears twice")
        self.values[key] = value

    def get(self, heading, name, comment=""):
        key = (heading, comment, name)
        require(key in self.values, Failure, f"worked example has no {key}")
        return self.values[key]

    def find(self, heading_re, name_re, comment_re=""):
        """The one value whose heading, name and comment fully match the patterns."""
        hits = [(k, v) for k, v in self.values.items()
                if re.fullmatch(heading_re, k[0]) and re.fullmatch(name_re, k[2])
                and re.fullmatch(comment_re, k[1])]
        require(len(hits) == 1, Failure,
                f"worked example: {len(hits)} values match {heading_re!r}/{comment_re!r}/{name_re!r}")
        return hits[0]

    def section(self, heading, comment=""):
        return {k[2]: v for k, v in self.values.items() if k[:2] == (heading, comment)}


# --- strict parsing ----------------------------------------------------------

class Reader:
    """A cursor over the input: every field must lie within it; remembers offsets."""

    def __init__(self, data):
        self.data, self.pos, self.at = data, 0, {}

    def take(self, n, what):
        require(self.pos + n <= len(self.data), Malformed,
                f"{what}: {n} bytes at offset {self.pos} run past the end ({len(self.data)})")
        self.at[what] = self.pos
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def uint(self, n, what):
        return int.from_bytes(self.take(n, what), "big")

    def bounded(self, n, what, low, high):
        value = self.uint(n, what)
        require(value >= low, Malformed, f"{what} = {value} is under {low}")
        require(value <= high, Malformed, f"{what} = {value} is over the limit {high}")
        return value

    def end(self):
        extra = len(self.data) - self.pos
        require(extra == 0, Malformed, f"{extra} bytes after the last field")


def sizes(suite):
    require(suite in SIZES, Malformed, f"unknown suite id {suite}")
    return SIZES[suite]


def parse_message(data, kind):
    """An envelope or a delivery ("Envelope", "Delivery", "Parsing rules")."""
    r = Reader(data)
    require(r.uint(1, "version") == VERSION, Malformed, f"version is not {VERSION}")
    require(r.uint(1, "kind") == kind, Malformed, f"kind is not {kind:#04x}")
    m = {"suite_id": r.take(2, "suite")}
    m["suite"] = int.from_bytes(m["suite_id"], "big")
    e, _, s, w = sizes(m["suite"])
    h = r.bounded(1, "handle length h", 1, MAX_HANDLE)
    m["handle"] = r.take(h, "sender handle")
    m["sender_device"] = r.bounded(8, "sender device id", 1, 2**64 - 1)
    m["mid"] = r.take(16, "message id")
    m["timestamp"] = r.uint(8, "timestamp")
    m["epk"] = r.take(e, "ephemeral key")
    m["commitment"] = r.take(32, "commitment")
    c = r.bounded(4, "body length c", 16, MAX_BODY + 16)
    m["SH"] = data[4:r.pos]
    m["body_ct"] = r.take(c, "body ciphertext")
    start = r.pos
    m["ids"] = parse_recipient_set(r)
    m["recipient_set"] = data[start:r.pos]
    n = len(m["ids"])
    if kind == ENVELOPE:
        m["wraps"] = [r.take(w, f"wrap {i}") for i in range(n)]
    else:
        m["index"] = r.bounded(2, "index", 0, n - 1)
        m["wraps"] = [r.take(w, "wrap")]
    m["signature"] = r.take(s, "signature")
    r.end()
    m["at"] = r.at
    tail = n * w if kind == ENVELOPE else 2 + w
    size = 4 + len(m["SH"]) + c + 2 + 8 * n + tail + s
    require(len(m["SH"]) == 69 + h + e and len(data) == size, Failure,
            "the document's |SH| or message size formula does not hold")
    return m


def parse_recipient_set(r):
    """The count, then the nonzero, strictly increasing device ids."""
    n = r.bounded(2, "recipient count n", 1, MAX_RECIPIENTS)
    ids = []
    for i in range(n):
        device = r.uint(8, f"id {i}")
        require(device > (ids[-1] if ids else 0), Malformed,
                f"id {i}: device ids not nonzero and strictly increasing")
        ids.append(device)
    return ids


def parse_key_file(data, secret):
    """A public (IMCP) or secret (IMCS) key file ("Key files")."""
    r = Reader(data)
    magic = b"IMCS" if secret else b"IMCP"
    require(r.take(4, "magic") == magic, Malformed, f"magic is not {magic.decode()}")
    require(r.uint(2, "key file version") == 1, Malformed, "key file version is not 1")
    k = {"suite": r.uint(2, "suite")}
    e, p, _, _ = sizes(k["suite"])
    k["device"] = r.uint(8, "device id")
    k["dh_pk"] = r.take(e, "DH public key")
    k["sig_pk"] = r.take(p, "signing public key")
    if secret:
        k["dh_sk"] = r.take(32, "DH secret key")
        k["sig_sk"] = r.take(32, "signing secret key")
    r.end()
    if secret:
        check_secret_keys(k)
    return k


def check_secret_keys(k):
    """A secret file's public keys must be the ones its secrets give."""
    aead_of(k["suite"])  # X25519 and Ed25519 keys: suites 1 and 3
    require(raw_public(X25519PrivateKey, k["dh_sk"]) == k["dh_pk"]
            and raw_public(Ed25519PrivateKey, k["sig_sk"]) == k["sig_pk"], Failure,
            "secret key file: the public keys do not follow from the secrets")


def raw_public(private_class, secret):
    key = private_class.from_private_bytes(secret).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fan_out(envelope, device):
    """The service's split of an envelope ("Delivery"): no keys involved."""
    m = parse_message(envelope, ENVELOPE)
    require(device in m["ids"], Failure, f"the envelope has no wrap for device {device:#x}")
    index = m["ids"].index(device)
    return (bytes([VERSION, DELIVERY]) + m["suite_id"] + m["SH"] + m["body_ct"]
            + m["recipient_set"] + index.to_bytes(2, "big") + m["wraps"][index] + m["signature"])


# --- the recipient's steps ("Cryptography") ---------------------------------

def untraced(_name, value):
    return value


def aead_of(suite):
    # The worked example is suite 1; this check covers the X25519/Ed25519 suites (1, 3).
    require(suite in AEADS, Failure, f"suite {suite}: outside this check (suites 1 and 3)")
    return AEADS[suite]


def hkdf(ikm, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(ikm)


def signature_input(m, trace):
    digest = trace("SHA-256(body_ct)", hashlib.sha256(m["body_ct"]).digest())
    trace("recipient_set", m["recipient_set"])
    rcpt_hash = trace("rcpt_hash",
                      hashlib.sha256(b"imcore/v2/recipients" + m["recipient_set"]).digest())
    return trace("sig_input", b"imcore/v2/sig" + m["suite_id"] + m["SH"] + digest + rcpt_hash)


def sender_context(m, alice, handle, trace):
    """Step 3: from the sender the device expects, not from the delivery."""
    info = trace("sender_info", b"imcore/v2/sender" + m["suite_id"] + bytes([len(handle)])
                 + handle + alice["device"].to_bytes(8, "big") + alice["sig_pk"])
    return trace("sender_ctx", hashlib.sha256(info).digest())


def decrypt(delivery, bob, alice, handle, trace=untraced):
    """Steps 1-6 for bob's device; trace(name, value) sees every value on the way."""
    m = parse_message(delivery, DELIVERY)
    for name in ("SH", "mid", "timestamp", "epk", "body_ct", "signature"):
        trace(name, m[name])
    check_addressing(m, bob, alice, handle)
    sig_pk = Ed25519PublicKey.from_public_bytes(alice["sig_pk"])
    sig_pk.verify(m["signature"], signature_input(m, trace))
    ck = unwrap(m, bob, sender_context(m, alice, handle, trace), trace)
    okm = trace("okm", hkdf(ck, trace("content_info", b"imcore/v2/content" + m["mid"]), 64))
    body_key, commitment = trace("body_key", okm[:32]), trace("commitment", okm[32:])
    require(hmac.compare_digest(commitment, m["commitment"]), AuthFailed,
            "the derived commitment is not the header's")
    body_ad = trace("body_ad", b"imcore/v2/body" + m["suite_id"] + m["SH"])
    return trace("body", aead_of(m["suite"])(body_key).decrypt(NONCE, m["body_ct"], body_ad))


def check_addressing(m, bob, alice, handle):
    """Step 1 beyond parsing: this device, the expected sender, one suite."""
    device = m["ids"][m["index"]]
    require(device == bob["device"], AuthFailed, f"the delivery is for device {device:#x}")
    require(m["handle"] == handle and m["sender_device"] == alice["device"], AuthFailed,
            "the delivery is not from the expected sender device")
    require(m["suite"] == bob["suite"] == alice["suite"], AuthFailed,
            "the suites of the delivery and of the keys differ")


def unwrap(m, bob, sender_ctx, trace):
    """Step 4: z, wrap_key, and ck out of the wrap."""
    device, (wrap,) = m["ids"][m["index"]], m["wraps"]
    try:
        z = X25519PrivateKey.from_private_bytes(bob["dh_sk"]).exchange(
            X25519PublicKey.from_public_bytes(m["epk"]))
    except ValueError as e:
        raise AuthFailed(f"X25519 refused the ephemeral key: {e}") from e
    require(any(trace("z", z)), AuthFailed, "all-zero X25519 output")
    info = trace("wrap_info", b"imcore/v2/wrap" + m["suite_id"] + m["epk"] + bob["dh_pk"]
                 + device.to_bytes(8, "big") + m["mid"] + sender_ctx)
    wrap_key = trace("wrap_key", hkdf(z, info, 32))
    return trace("ck", aead_of(m["suite"])(wrap_key).decrypt(NONCE, trace("wrap", wrap), b""))


def resign(delivery, sig_sk):
    """The delivery with a fresh sender signature over its (maybe altered) bytes."""
    m = parse_message(delivery, DELIVERY)
    signature = Ed25519PrivateKey.from_private_bytes(sig_sk).sign(signature_input(m, untraced))
    return delivery[:m["at"]["signature"]] + signature


def tampered(delivery, sig_sk):
    """(what, altered delivery, the failure it must cause)."""
    at = parse_message(delivery, DELIVERY)["at"]

    def flip(field):
        data = bytearray(delivery)
        data[at[field]] ^= 1
        return bytes(data)

    m = parse_message(delivery, DELIVERY)
    n = len(m["ids"])
    set_at, wrap_at = at["recipient count n"], at["wrap"]
    # The service drops the last device: count and ids shortened together.
    dropped = (delivery[:set_at] + (n - 1).to_bytes(2, "big") + delivery[set_at + 2:wrap_at - 10]
               + delivery[wrap_at - 2:])
    other_index = bytearray(delivery)
    other_index[at["index"] + 1] ^= 1
    other_index = bytes(other_index)
    return [
        ("version 2 -> 3", flip("version"), Malformed),
        ("version 2 -> 1 (the previous format)",
         bytes([1]) + delivery[1:], Malformed),
        ("kind D -> E", flip("kind"), Malformed),
        ("one byte appended", delivery + b"\0", Malformed),
        ("last byte cut", delivery[:-1], Malformed),
        ("a bit of the sender handle", flip("sender handle"), AuthFailed),
        ("the index's high byte", flip("index"), Malformed),
        ("the index pointing at the other device", other_index, AuthFailed),
        ("a bit of another device's id", flip(f"id {n - 1}"), InvalidSignature),
        ("the last device dropped from the set", dropped, InvalidSignature),
        ("a bit of the commitment", flip("commitment"), InvalidSignature),
        ("a bit of the body ciphertext", flip("body ciphertext"), InvalidSignature),
        ("a bit of the signature", flip("signature"), InvalidSignature),
        ("a bit of the wrap", flip("wrap"), InvalidTag),
        ("a bit of the message id, re-signed", resign(flip("message id"), sig_sk), InvalidTag),
        ("a bit of the commitment, re-signed", resign(flip("commitment"), sig_sk), AuthFailed),
        ("a bit of the body ciphertext, re-signed", resign(flip("body ciphertext"), sig_sk),
         InvalidTag),
    ]


# --- the run -----------------------------------------------------------------

def describe(error):
    meaning = {InvalidTag: "an AEAD tag did not verify",
               InvalidSignature: "the signature did not verify"}
    return f"{type(error).__name__}: {str(error) or meaning.get(type(error), '')}"


def show(value):
    return f"({len(value)}) {value.hex()}" if isinstance(value, bytes) else repr(value)


def same(name, got, want):
    require(got == want, Failure,
            f"{name} differs from the worked example:\n  computed {show(got)}\n  example  {show(want)}")
    print(f"ok  {name} {show(got)}")
    return got


def tracer(ex, device):
    """A trace that checks each value against the example's for this device."""
    expected = {}
    for heading, comment in (("Message keys", ""), ("Header and body", ""), ("Signature", ""),
                             ("Recipients", ""), ("Recipients", f"device 0x{device:016x}")):
        expected.update(ex.section(heading, comment))
    expected["timestamp"] = ex.get("Inputs", "timestamp_ms")
    expected["body"] = ex.get("Inputs", "body").encode()

    def trace(name, value):
        require(name in expected, Failure, f"the worked example shows no {name}")
        return same(name, value, expected[name])
    return trace


def device_keys(ex, role, device):
    """The keys the example lists for one device ("# sender alice, device 0x0a01")."""
    (_, comment, _), _ = ex.find("Device keys", "dh_pk", rf"{role} \w+, device 0x0*{device:x}")
    return ex.section("Device keys", comment)


def key_file(ex, name_re, role):
    """Parse one of the example's key files and check it against the listed keys."""
    (_, _, name), data = ex.find("Device keys", name_re)
    k = parse_key_file(data, secret=name.endswith(".sec"))
    shown = device_keys(ex, role, k["device"])
    for field in [f for f in shown if f in k]:
        same(f"{name} {field}", k[field], shown[field])
    return k


def expect_failure(what, failure, attempt):
    try:
        attempt()
    except failure as e:
        print(f"ok  rejected: {what} ({describe(e)})")
        return
    except (Failure, InvalidTag, InvalidSignature) as e:
        raise Failure(f"{what}: expected {failure.__name__}, got {describe(e)}") from e
    raise Failure(f"{what}: decrypted although tampered with")


def run(path):
    with open(path, encoding="utf-8") as f:
        ex = Example(f.read())
    (heading, _, _), delivery = ex.find(r"Delivery for device 0x[0-9a-f]+", "delivery")
    device = int(heading.rsplit("0x", 1)[1], 16)
    print("-- key files")
    bob = key_file(ex, rf"\w+_0*{device:x}\.sec", "recipient")
    alice = key_file(ex, r"\w+\.pub", "sender")
    same("sender device id", alice["device"], ex.get("Inputs", "sender_device"))
    print("-- the service's split of the envelope")
    same("delivery", fan_out(ex.get("Envelope", "envelope"), device), delivery)
    print(f"-- decryption by device {device:#06x}")
    handle = ex.get("Inputs", "sender_handle").encode()
    decrypt(delivery, bob, alice, handle, tracer(ex, device))
    print("-- tampering")
    sig_sk = device_keys(ex, "sender", alice["device"])["sig_sk"]
    same("delivery re-signed with alice's sig_sk", resign(delivery, sig_sk), delivery)
    for what, data, failure in tampered(delivery, sig_sk):
        expect_failure(what, failure, lambda data=data: decrypt(data, bob, alice, handle))


def main(argv):
    if len(argv) != 2:
        print("usage: decrypt_by_the_doc.py docs/wire-format.md", file=sys.stderr)
        return 1
    try:
        run(argv[1])
    except (Failure, InvalidTag, InvalidSignature, OSError, ValueError) as e:
        print(f"decrypt_by_the_doc: FAIL: {describe(e)}", file=sys.stderr)
        return 1
    print("decrypt_by_the_doc: the worked example decrypts from the document alone")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
