#!/usr/bin/python3
"""Verifies the transparency part of the worked example of
docs/directory-format.md using only the documents (directory-format.md for
the layouts, transparency.md for the hashing and the note format): hashlib
for SHA-256 and python3-cryptography for Ed25519.

From the example block it takes the directory public key, the device list,
alice's log leaf, the signed checkpoint and the lookup with proofs; it
checks the leaf's fields against the list, the leaf hash, the checkpoint's
log root (one leaf: the leaf hash) and index root (one key: H(0x02 || key
|| value)), the directory's signature on the checkpoint, and walks the
lookup response by the layout: head, both answers, every entry signature,
alice's leaf, inclusion and index proofs, carol's absence proof.
Exits 0 on success, 1 on a mismatch, 77 (skip) without cryptography."""
import base64
import hashlib
import re
import sys

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    print("python3-cryptography missing: skipped")
    sys.exit(77)


def H(b):
    return hashlib.sha256(b).digest()


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def verify(key, sig, msg, what):
    try:
        key.verify(sig, msg)
    except Exception:  # cryptography's InvalidSignature
        fail(what + ": the signature does not verify")


doc = open(sys.argv[1], encoding="utf-8").read()
sec = doc[doc.index("## Worked example"):]
block = sec[sec.index("```text\n") + 8:]
block = block[:block.index("```")]


def hexblock(title):
    """The hex lines after a title line, up to a line that is not hex."""
    lines = block[block.index(title):].split("\n")[1:]
    out = b""
    for line in lines:
        m = re.match(r"^    ([0-9a-f]+)(\s.*)?$", line)
        if not m:
            break
        out += bytes.fromhex(m.group(1))
    return out


dir_pk = bytes.fromhex(re.search(r"directory public key\s+([0-9a-f]{64})", block).group(1))
dkey = Ed25519PublicKey.from_public_bytes(dir_pk)
lst = hexblock("Device list of alice@example.com, version 1")
leaf = hexblock("Log leaf 0")

# The leaf: 02 'k' handle version account-key list-hash prev-leaf-hash.
check(leaf[0] == 2 and leaf[1] == 0x6B, "leaf version and kind")
hl = leaf[2]
handle = leaf[3:3 + hl]
check(handle == b"alice@example.com", "leaf handle")
o = 3 + hl
version = int.from_bytes(leaf[o:o + 8], "big")
account = leaf[o + 8:o + 40]
list_hash = leaf[o + 40:o + 72]
prev = leaf[o + 72:o + 104]
check(len(leaf) == o + 104, "leaf length")
check(version == 1 and prev == bytes(32), "version 1 has no previous leaf")
check(list_hash == H(lst), "the leaf's list hash is SHA-256 of the list")
check(account == lst[2 + 1 + hl + 8 + 1:2 + 1 + hl + 8 + 1 + 32], "the list's account key")
leaf_hash = H(b"\x00" + leaf)
check(leaf_hash.hex() in block, "the stated leaf hash")

# The checkpoint: five lines, then the directory's signature line.
note_lines = block[block.index("Checkpoint after the update"):].split("\n")[1:9]
note_lines = [l[4:] if l.startswith("    ") else l for l in note_lines]
text = "\n".join(note_lines[:5]) + "\n"
origin, size, root_b64, index_line, epoch_line = note_lines[:5]
check(size == "1" and epoch_line == "epoch 1", "size and epoch")
check(base64.b64decode(root_b64) == leaf_hash, "log root at size 1 is the leaf hash")
key = H(b"alice@example.com")
check(base64.b64decode(index_line[len("index "):]) == H(b"\x02" + key + leaf_hash),
      "index root: one key, H(0x02 || key || value)")
check(note_lines[5] == "", "empty line after the text")
sig_line = note_lines[6]
check(sig_line.startswith("\u2014 " + origin + " "), "signature line of the origin")
blob = base64.b64decode(sig_line.split(" ")[2])
kid = H(origin.encode() + b"\n" + b"\x01" + dir_pk)[:4]
check(blob[:4] == kid, "key id")
verify(dkey, blob[4:], text.encode(), "checkpoint")

# The lookup with proofs, walked by the layout.
r = hexblock("Lookup with proofs for alice@example.com and carol@example.com")
p = 0


def take(n):
    global p
    check(p + n <= len(r), "response too short")
    out = r[p:p + n]
    p += n
    return out


def framed():
    return take(int.from_bytes(take(2), "big"))


check(take(2) == b"\x02\x70", "version and kind 'p'")
note = framed()
check(note.decode("utf-8").startswith(text), "the response's note is the checkpoint")
proof = framed()
check(proof == b"\x02" + (0).to_bytes(8, "big") + (1).to_bytes(8, "big") + b"\x00",
      "consistency 0 -> 1, no hashes")
check(int.from_bytes(take(2), "big") == 2, "two answers")
for who in (b"alice@example.com", b"carol@example.com"):
    start = p
    n = take(1)[0]
    check(take(n) == who, "answer handle")
    ep = int.from_bytes(take(8), "big")
    glob = int.from_bytes(take(8), "big")
    take(8)  # issue time
    lbytes = framed()
    body = r[start:p]
    sig = take(64)
    verify(dkey, sig, b"imcore/v2/dir-entry" + body, "entry of " + who.decode())
    check(glob == 1, "global epoch = the checkpoint's epoch")
    lf, incl, idx = framed(), framed(), framed()
    if who == b"alice@example.com":
        check(ep == 1 and lbytes == lst and lf == leaf, "alice: list and leaf")
        check(incl == b"\x01" + (0).to_bytes(8, "big") + (1).to_bytes(8, "big") + b"\x00",
              "inclusion of leaf 0 in size 1: no hashes (the root is the leaf hash)")
        check(idx == b"\x03\x01\x00\x00", "present at depth 0: the root is her leaf")
    else:
        ckey = H(who)
        check(ep == 0 and lbytes == b"" and lf == b"" and incl == b"", "carol: nothing")
        check(idx[:4] == b"\x03\x03\x00\x00" and idx[4:36] == key and idx[36:68] == leaf_hash,
              "absent: the path ends at alice's leaf")
        check(ckey != key, "another key")
check(p == len(r), "no trailing bytes")
print("directory-format.md transparency example: verified")
