#!/usr/bin/env python3
"""A malicious key directory, for tests: rewrites one entry of a lookup
answer (docs/directory-format.md) and re-signs it with the directory's own
key, as a directory that wants to add a device to someone's account would.

usage: forge_dir_answer.py IN OUT DIR_KEY_FILE HANDLE MODE
  MODE keep-sig : add a device (a copy of the first, id 9999) to HANDLE's
                  list as its next version, keep the account's (now wrong)
                  list signature
  MODE own-key  : the same list, signed with a fresh account key of the
                  directory's choosing (claimed as the same account's key)
(A one-entry answer; its global epoch is raised if the new version needs it.)

Written from directory-format.md alone. Exit 77 without python3-cryptography.
"""
import os
import struct
import sys

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:
    sys.exit(77)

DEVICE = 2 + 8 + 32 + 32  # suite 1 or 3


def main():
    src, dst, keyfile, handle, mode = sys.argv[1:6]
    data = open(src, "rb").read()
    dir_key = Ed25519PrivateKey.from_private_bytes(open(keyfile, "rb").read())
    assert data[0] == 2 and data[1] == 0x41, "not a v2 lookup answer"
    (n,) = struct.unpack(">H", data[2:4])
    out = bytearray(data[:4])
    off = 4
    for _ in range(n):
        start = off
        hl = data[off]
        h = data[off + 1:off + 1 + hl].decode()
        off += 1 + hl + 24
        (ll,) = struct.unpack(">H", data[off:off + 2])
        lst = data[off + 2:off + 2 + ll]
        off += 2 + ll
        body = data[start:off]
        sig = data[off:off + 64]
        off += 64
        if h != handle or ll == 0:
            out += body + sig
            continue
        # The list: version, kind, handle, version (8), key change (1),
        # account key (32), previous hash (32), count (1), devices, signature.
        p = 3 + lst[2] + 8
        key_change = lst[p]
        (version,) = struct.unpack(">Q", lst[p - 8:p])
        lst = lst[:p - 8] + struct.pack(">Q", version + 1) + lst[p:]
        (glob,) = struct.unpack(">Q", body[1 + hl + 8:1 + hl + 16])
        head = (body[:1 + hl] + struct.pack(">QQ", version + 1, max(glob, version + 1)) +
                body[1 + hl + 16:1 + hl + 24])
        count_at = p + 1 + 32 + 32
        count = lst[count_at]
        devs = lst[count_at + 1:count_at + 1 + count * DEVICE]
        ghost = devs[:2] + struct.pack(">Q", 9999) + devs[10:DEVICE]
        new_body = lst[:count_at] + bytes([count + 1]) + devs + ghost
        if mode == "own-key":
            acct = Ed25519PrivateKey.generate()
            pub = acct.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            new_body = new_body[:p + 1] + pub + new_body[p + 33:]
            list_sig = acct.sign(b"imcore/v2/dir-list" + new_body)
        else:
            list_sig = lst[count_at + 1 + count * DEVICE:count_at + 1 + count * DEVICE + 64]
        assert key_change != 1, "rotated lists are not handled here"
        new_list = new_body + list_sig
        new_entry = head + struct.pack(">H", len(new_list)) + new_list
        out += new_entry + dir_key.sign(b"imcore/v2/dir-entry" + new_entry)
    assert off == len(data), "trailing bytes"
    with open(dst, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
