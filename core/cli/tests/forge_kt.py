#!/usr/bin/env python3
"""A log operator with its own signing key, for tests: writes signed
checkpoints and consistency proofs of any list of leaves, so a test can
play a directory that forks its log (two histories under one key) or rolls
back. Written from docs/transparency.md alone (RFC 9162 hashing, C2SP
signed notes, the wire form of log proofs).

usage:
  forge_kt.py vkey  KEY_FILE ORIGIN
  forge_kt.py note  KEY_FILE ORIGIN LEAVES EPOCH OUT   a signed checkpoint
  forge_kt.py proof LEAVES M OUT                       consistency proof M -> len(LEAVES)
  forge_kt.py head  KEY_FILE ORIGIN LEAVES EPOCH M OUT a checkpoint answer: note and proof from M
                                                       (docs/directory-format.md, "Responses")
KEY_FILE holds the 32-byte Ed25519 seed (a directory's DB.key). LEAVES is
a comma-separated list of leaf strings ("a,b,c"). The index root line is
SHA-256 of the leaves joined, a stand-in (witnesses do not check it).

Exit 77 without python3-cryptography.
"""
import base64
import hashlib
import struct
import sys

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:
    sys.exit(77)


def H(b):
    return hashlib.sha256(b).digest()


def mth(leaves):
    if not leaves:
        return H(b"")
    if len(leaves) == 1:
        return H(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return H(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def subproof(m, leaves, whole):
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def key(path):
    seed = open(path, "rb").read()
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    return sk, sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(origin, pk):
    return H(origin.encode() + b"\n" + b"\x01" + pk)[:4]


def b64(b):
    return base64.b64encode(b).decode()


def parse_leaves(spec):
    return [x.encode() for x in spec.split(",")] if spec else []


def note(key_file, origin, leaves, epoch):
    sk, pk = key(key_file)
    text = "%s\n%d\n%s\nindex %s\nepoch %d\n" % (
        origin, len(leaves), b64(mth(leaves)), b64(H(b"".join(leaves))), epoch)
    sig = sk.sign(text.encode())
    return (text + "\n\u2014 %s %s\n" % (origin, b64(key_id(origin, pk) + sig))).encode()


def proof(leaves, m):
    path = subproof(m, leaves, True) if 0 < m < len(leaves) else []
    return struct.pack(">BQQB", 2, m, len(leaves), len(path)) + b"".join(path)


def main():
    cmd = sys.argv[1]
    if cmd == "vkey":
        _, pk = key(sys.argv[2])
        origin = sys.argv[3]
        print("%s+%s+%s" % (origin, key_id(origin, pk).hex(), b64(b"\x01" + pk)))
    elif cmd == "note":
        origin, leaves, epoch, out = sys.argv[3], parse_leaves(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
        open(out, "wb").write(note(sys.argv[2], origin, leaves, epoch))
    elif cmd == "proof":
        leaves, m, out = parse_leaves(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        open(out, "wb").write(proof(leaves, m))
    elif cmd == "head":
        origin, leaves, epoch = sys.argv[3], parse_leaves(sys.argv[4]), int(sys.argv[5])
        m, out = int(sys.argv[6]), sys.argv[7]
        n, p = note(sys.argv[2], origin, leaves, epoch), proof(leaves, m)
        head = b"\x02c" + struct.pack(">H", len(n)) + n + struct.pack(">H", len(p)) + p
        open(out, "wb").write(head)
    else:
        sys.exit("unknown command " + cmd)


main()
