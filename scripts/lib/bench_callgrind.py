#!/usr/bin/env python3
"""Instruction-count overhead of the message paths, under callgrind.

For each encrypt/decrypt benchmark matching --filter, runs imcore-bench
under `valgrind --tool=callgrind`, collecting only inside imc_msg_encrypt /
imc_msg_decrypt, and splits the instructions of one call into the crypto
calls the path makes (imc_crypto_*: DH, keygen, HKDF, AEAD, SHA-256,
sign/verify, each with the validation policy) and everything else (the
message layer: argument checks, sorting, KDF-info and AD building, wire
writing and parsing, RNG draws, wiping, replay cache). Prints, per
benchmark, the instructions per call, the crypto share, the instruction
ratio total / crypto (the noise-free counterpart of the time ratio in
results/README.md) and the largest non-crypto functions by self cost.

Instruction counts miss cache and branch-predictor effects, which the time
ratio includes; they are immune to a busy machine, which the time ratio is
not. Needs valgrind and callgrind_annotate.

  scripts/lib/bench_callgrind.py build/bench/bench/imcore-bench \\
      --filter '^(encrypt|decrypt)/sodium/x25519-ed25519-chacha/(dev:1/)?body:64$'
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_select import ere_escape  # noqa: E402  (same directory)

# Top-level crypto calls of the paths (none calls another in this list).
CRYPTO = {
    "imc_crypto_x25519_keygen", "imc_crypto_p256_keygen", "imc_crypto_x25519",
    "imc_crypto_p256_ecdh", "imc_crypto_hkdf_sha256", "imc_crypto_aead_seal",
    "imc_crypto_aead_open", "imc_crypto_sha256", "imc_crypto_ed25519_sign",
    "imc_crypto_ed25519_verify", "imc_crypto_ecdsa_p256_sign", "imc_crypto_ecdsa_p256_verify",
}
TOP = {"encrypt": "imc_msg_encrypt", "decrypt": "imc_msg_decrypt"}
LINE = re.compile(r"^\s*([\d,]+)\s+\([^)]*\)\s+(?:\*\s+)?(?:>\s+)?(\S+?):(\S+?)(?:\s+\((\d[\d,]*)x\))?\s+\[")


def num(s):
    return int(s.replace(",", ""))


def annotate(path, inclusive):
    args = ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
            "--threshold=100", path]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def calls_of(path, fn):
    """How many times fn was called (from the calling tree)."""
    out = subprocess.run(["callgrind_annotate", "--tree=caller", "--inclusive=yes",
                          "--threshold=100", path], capture_output=True, text=True,
                         check=True).stdout
    total = 0
    lines = out.splitlines()
    for i, line in enumerate(lines):
        # The callers of fn are listed just above its "*" line.
        if "* " in line and f":{fn} " in line:
            j = i - 1
            while j >= 0 and "<" in lines[j]:
                m = re.search(r"\((\d[\d,]*)x\)", lines[j])
                if m:
                    total += num(m.group(1))
                j -= 1
    return total


def profile(binary, name, min_time):
    path = "encrypt" if name.startswith("encrypt/") else "decrypt"
    top = TOP[path]
    with tempfile.TemporaryDirectory(prefix="imcore-cg-") as tmp:
        out = os.path.join(tmp, "cg.out")
        exact = "^" + ere_escape(name) + "$"
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               f"--toggle-collect={top}", binary, f"--benchmark_filter={exact}",
               f"--benchmark_min_time={min_time}"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"callgrind failed for {name}: {res.stderr[-400:]}")
        incl = annotate(out, True)
        self_ = annotate(out, False)
        calls = calls_of(out, top)
    total, crypto = 0, 0
    for line in incl.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        fn = m.group(3)
        if fn == top:
            total = num(m.group(1))
        elif fn in CRYPTO:
            crypto += num(m.group(1))
    # Self cost of the non-crypto functions of imcore (the message layer).
    others = []
    for line in self_.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        fn, obj = m.group(3), line
        if (fn.startswith("imc_") and "imcore-bench" in obj
                and not fn.startswith(("imc_crypto_", "imc_policy_"))):
            others.append((num(m.group(1)), fn))
    return path, calls, total, crypto, others


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary", help="imcore-bench")
    ap.add_argument("--filter", required=True, help="regex over encrypt/ and decrypt/ names")
    ap.add_argument("--min-time", default="0.05",
                    help="--benchmark_min_time under valgrind (CPU seconds; default %(default)s)")
    ap.add_argument("--top", type=int, default=4, help="non-crypto functions shown per benchmark")
    args = ap.parse_args()

    names = subprocess.run([args.binary, "--benchmark_list_tests=true",
                            f"--benchmark_filter={args.filter}"], capture_output=True, text=True)
    names = [n for n in names.stdout.split() if n.startswith(("encrypt/", "decrypt/"))]
    if not names:
        print("bench_callgrind: no encrypt/decrypt benchmark matches", file=sys.stderr)
        return 1
    print(f"{'benchmark':60} {'calls':>6} {'Ir/call':>11} {'crypto':>8} {'ratio':>7}  "
          "largest non-crypto self costs (Ir/call)")
    for name in names:
        try:
            path, calls, total, crypto, others = profile(args.binary, name, args.min_time)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            print(f"{name:60} error: {e}")
            continue
        if not calls or not crypto:
            print(f"{name:60} no calls collected")
            continue
        others.sort(reverse=True)
        top = ", ".join(f"{fn} {c / calls:.0f}" for c, fn in others[:args.top])
        print(f"{name:60} {calls:6d} {total / calls:11.0f} {crypto / total * 100:7.2f}% "
              f"{total / crypto:7.4f}  {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
