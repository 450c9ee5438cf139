#!/usr/bin/python3
"""Verifies the worked example of docs/transparency.md using only that
document: hashlib for SHA-256 and python3-cryptography for Ed25519.

It reads the example block, rebuilds every value it can from the stated
rules (leaf hashes, roots, key ids, vkeys), and verifies the log signature,
the witness cosignature, the inclusion and consistency proofs (RFC 9162
2.1.3.2 and 2.1.4.2, written from the document) and both index proofs.
Exits 0 on success, 1 on a mismatch, 77 (skip) without cryptography."""
import base64
import hashlib
import re
import sys

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey, Ed25519PublicKey)
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:
    print("python3-cryptography missing: skipped")
    sys.exit(77)


def H(b):
    return hashlib.sha256(b).digest()


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


doc = open(sys.argv[1], encoding="utf-8").read()
sec = doc[doc.index("## Worked example"):]
block = sec[sec.index("```\n") + 4:]
block = block[:block.index("```")]


def field(label):
    m = re.search(r"^\s*" + re.escape(label) + r"\s+(.*)$", block, re.M)
    if not m:
        fail("no " + label)
    return m.group(1).strip()


def hexblock(title):
    """The hex lines indented under a title line."""
    lines = block.split("\n")
    i = next(k for k, l in enumerate(lines) if l.strip() == title)
    out = ""
    for l in lines[i + 1:]:
        if not l.startswith("    "):
            break
        out += l.strip()
    return bytes.fromhex(out)


def key_id(name, typ, pk):
    return H(name.encode() + b"\n" + bytes([typ]) + pk)[:4]


def vkey(name, typ, pk):
    return "%s+%s+%s" % (name, key_id(name, typ, pk).hex(),
                         base64.b64encode(bytes([typ]) + pk).decode())


def pub(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


log_pk = pub(bytes.fromhex(field("log secret seed")))
wit_pk = pub(bytes.fromhex(field("witness seed")))
log_name = "example.org/imcore-kt"
wit_name = "witness.example.net"
if vkey(log_name, 1, log_pk) != field("log vkey"):
    fail("log vkey")
if vkey(wit_name, 4, wit_pk) != field("witness vkey"):
    fail("witness vkey")

leaves = re.findall(r'^leaf (\d)\s+"(.*)"$', block, re.M)
lh = [H(b"\x00" + d.encode()) for _, d in leaves]
given = re.findall(r"^  leaf hash\s+([0-9a-f]{64})$", block, re.M)
if [h.hex() for h in lh] != given:
    fail("leaf hashes")


def node(l, r):
    return H(b"\x01" + l + r)


def mth(d):
    if len(d) == 0:
        return H(b"")
    if len(d) == 1:
        return d[0]
    k = 1
    while k * 2 < len(d):
        k *= 2
    return node(mth(d[:k]), mth(d[k:]))


root2, root3 = mth(lh[:2]), mth(lh)
if root2.hex() != field("root at size 2") or root3.hex() != field("root at size 3"):
    fail("roots")

# The checkpoint note: from the line after the title to the blank line
# after the signatures.
title = "checkpoint, signed by the log and cosigned at time 1700000000:"
note = block[block.index(title) + len(title) + 2:]
note = note[:note.index("\n\n", note.index("\n\n") + 2) + 1]
text, sigs = note.split("\n\n", 1)
text += "\n"
lines = text.split("\n")[:-1]
if (lines[0] != log_name or lines[1] != "3" or base64.b64decode(lines[2]) != root3
        or lines[3] != "index " + base64.b64encode(bytes.fromhex(field("index root"))).decode()
        or lines[4] != "epoch 3"):
    fail("checkpoint text")
verified = set()
for s in sigs.strip("\n").split("\n"):
    if not s.startswith("\u2014 "):
        fail("signature line")
    name, b64 = s[2:].split(" ")
    raw = base64.b64decode(b64, validate=True)
    if name == log_name and raw[:4] == key_id(log_name, 1, log_pk):
        Ed25519PublicKey.from_public_bytes(log_pk).verify(raw[4:], text.encode())
        verified.add("log")
    if name == wit_name and raw[:4] == key_id(wit_name, 4, wit_pk):
        t = int.from_bytes(raw[4:12], "big")
        msg = ("cosignature/v1\ntime %d\n" % t).encode() + text.encode()
        Ed25519PublicKey.from_public_bytes(wit_pk).verify(raw[12:], msg)
        verified.add("witness")
        if t != 1700000000:
            fail("cosignature time")
if verified != {"log", "witness"}:
    fail("signatures: " + str(verified))


def parse_log_proof(b):
    kind, a, n, count = b[0], int.from_bytes(b[1:9], "big"), int.from_bytes(b[9:17], "big"), b[17]
    path = [b[18 + 32 * i:50 + 32 * i] for i in range(count)]
    if len(b) != 18 + 32 * count:
        fail("log proof length")
    return kind, a, n, path


def verify_inclusion(index, size, leaf, path, root):
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m, n, first, second, path):
    if m == n:
        return not path and first == second
    if m == 0:
        return not path
    if not path:
        return False
    if m & (m - 1) == 0:
        path = [first] + path
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first and sr == second and sn == 0


kind, a, n, path = parse_log_proof(hexblock("inclusion of leaf 1 in size 3"))
if kind != 1 or not verify_inclusion(a, n, lh[a], path, root3):
    fail("inclusion proof")
kind, a, n, path = parse_log_proof(hexblock("consistency from size 2 to size 3"))
if kind != 2 or not verify_consistency(a, n, root2, root3, path):
    fail("consistency proof")


def bit(k, i):
    return (k[i // 8] >> (7 - i % 8)) & 1


def verify_index(root, key, value, b):
    if b[0] != 3:
        return False
    result, depth = b[1], int.from_bytes(b[2:4], "big")
    sib = [b[4 + 32 * i:36 + 32 * i] for i in range(depth)]
    rest = b[4 + 32 * depth:]
    if result == 1:
        if rest:
            return False
        h = H(b"\x02" + key + value)
    elif result == 2:
        if rest or value is not None:
            return False
        h = bytes(32)
    elif result == 3:
        ok, ov = rest[:32], rest[32:]
        if len(ov) != 32 or ok == key or value is not None:
            return False
        if any(bit(ok, i) != bit(key, i) for i in range(depth)):
            return False
        h = H(b"\x02" + ok + ov)
    else:
        return False
    for i in range(depth - 1, -1, -1):
        h = H(b"\x03" + (sib[i] + h if bit(key, i) else h + sib[i]))
    return h == root


iroot = bytes.fromhex(field("index root"))
for handle, value in (("alice@example.org", lh[2]), ("carol@example.org", None)):
    title = "index proof for " + handle
    i = block.index(title)
    sub = block[i:]
    key = bytes.fromhex(re.search(r"key\s+([0-9a-f]{64})", sub).group(1))
    if key != H(handle.encode()):
        fail("index key of " + handle)
    lines = sub.split("\n")
    j = next(k for k, l in enumerate(lines) if l.strip() == "proof")
    hx = ""
    for l in lines[j + 1:]:
        if not l.startswith("    "):
            break
        hx += l.strip()
    if not verify_index(iroot, key, value, bytes.fromhex(hx)):
        fail("index proof of " + handle)

print("worked example verified: signatures, cosignature, inclusion, consistency, index")
