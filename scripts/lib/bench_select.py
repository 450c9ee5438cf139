#!/usr/bin/env python3
"""Choose the imcore-bench benchmarks of a scripts/bench run.

Reads the binary's --benchmark_list_tests output on stdin and prints one
--benchmark_filter regex (first line) and the number of benchmarks it
selects (second line). Suites:

  default  fan-outs 1, 8, 128 and bodies 64 B and 1 KiB for every path and
           peer, the primitive floors those paths divide by, the generic
           floor of BRIEF section 7 for sodium and openssl, thread scaling,
           directory lookups at 1 M handles and client verification: under
           5 minutes on 2 cores (the 10 M-handle directories alone take
           about a minute each to build);
  full     everything;
  filter   the benchmarks matching --filter, plus the primitive floors the
           matching encrypt/decrypt benchmarks need for their overhead
           ratio (unless --no-floors).

Standard library only.
"""

import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_report as br  # noqa: E402  (same directory)

DEFAULT_DEVICES = "1|8|128"
DEFAULT_BODIES = "64|1024"

# Every name of the default suite matches one of these.
DEFAULT_PATTERNS = [
    r"^shim/",
    # The generic floor of BRIEF section 7 (also what the auto backend reads
    # from a results file, IMC_AUTO_PROFILE) for every backend.
    r"^prim/[^/]+/(x25519-keygen|x25519-derive|ed25519-keygen|p256-keygen|p256-ecdh|"
    r"ed25519-(sign|verify)/64|ecdsa-p256-(sign|verify)/64|sha256/64|hmac-sha256/64|"
    r"hkdf-sha256/32|random/32|aead-(seal|open)/[a-z0-9]+/(64|1024|16384))$",
    r"^(encrypt/[^/]+|fanout|parse/envelope)/[^/]+/dev:(" + DEFAULT_DEVICES + r")/body:("
    + DEFAULT_BODIES + r")$",
    r"^(decrypt/[^/]+|parse/delivery)/[^/]+/body:(" + DEFAULT_BODIES + r")$",
    r"^peer/.*/dev:(" + DEFAULT_DEVICES + r")/body:(" + DEFAULT_BODIES + r")(/.*)?$",
    r"^threads/",
    r"^dir/memory/(lookup|batch)/handles:1000000(/|$)",
    r"^dir/verify/",
]


def needed_floors(names):
    """prim/ names the encrypt/decrypt benchmarks among `names` divide by,
    plus the directory's sign/verify floors for dir/ benchmarks."""
    out = set()
    for n in names:
        for path in ("encrypt", "decrypt"):
            m = br.RE[path].match(n)
            if m and m["s"] in br.SUITES:
                k = int(m["n"]) if path == "encrypt" else 1
                for _, p in br.recipe(path, m["s"], k, int(m["B"])):
                    out.add(f"prim/{m['b']}/{p}")
        m = br.RE["threads"].match(n)
        if m and m["s"] in br.SUITES and m["t"] == "1":
            k = int(m["n"]) if m["n"] else 1
            for _, p in br.recipe(m["path"], m["s"], k, int(m["B"])):
                out.add(f"prim/{m['b']}/{p}")
        m = br.RE["dirverify"].match(n)
        if m:
            out.add(f"prim/{m['b']}/ed25519-verify/{br.DIR_ENTRY_SIGN}")
        if br.RE["dir"].match(n):
            out.add(f"prim/*/ed25519-sign/{br.DIR_ENTRY_SIGN}")
    return out


def ere_escape(s):
    """Escapes for POSIX extended regular expressions, which google-benchmark
    uses (std::regex::extended): only the special characters, as Python's
    re.escape also escapes '-', which ERE refuses."""
    return "".join("\\" + c if c in ".^$*+?{}[]\\|()" else c for c in s)


def exact(names):
    return "^(" + "|".join(ere_escape(n) for n in sorted(names)) + ")$"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=("default", "full", "filter"), default="default")
    ap.add_argument("--filter", default="", help="regex (google-benchmark syntax) for --suite filter")
    ap.add_argument("--no-floors", action="store_true", help="do not add the floors to a filter")
    args = ap.parse_args()

    names = [line.strip() for line in sys.stdin if line.strip()]
    if args.suite == "full":
        print(".")
        print(len(names))
        return 0
    if args.suite == "default":
        rx = re.compile("|".join(f"({p})" for p in DEFAULT_PATTERNS))
        chosen = [n for n in names if rx.search(n)]
    else:
        try:
            rx = re.compile(args.filter)
        except re.error as e:
            print(f"bench_select: bad --filter regex: {e}", file=sys.stderr)
            return 2
        chosen = [n for n in names if rx.search(n)]
    if not chosen:
        print("bench_select: no benchmark matches", file=sys.stderr)
        return 1
    if args.suite == "default" or not args.no_floors:
        floors = needed_floors(chosen)
        first = next((n.split("/")[1] for n in names if n.startswith("prim/")), None)
        floors = {f.replace("prim/*/", f"prim/{first}/") for f in floors} if first else floors
        chosen += [n for n in names if n in floors and n not in chosen]
    # google-benchmark takes one regex: the default patterns plus the exact
    # floors, or the user's filter plus the exact floors.
    base = "|".join(f"({p})" for p in DEFAULT_PATTERNS) if args.suite == "default" \
        else f"({args.filter})"
    extra = [n for n in chosen if not re.search(base, n)]
    regex = base + ("|" + exact(extra) if extra else "")
    # What google-benchmark will run with that regex (POSIX extended syntax:
    # no (?:...), no \\d; these patterns mean the same in Python's re).
    final = re.compile(regex)
    print(regex)
    print(sum(1 for n in names if final.search(n)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
