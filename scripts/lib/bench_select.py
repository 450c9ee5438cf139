#!/usr/bin/env python3
"""Choose the imcore-bench benchmarks of a scripts/bench run.

Reads the binary's --benchmark_list_tests output on stdin (and its cost
recipes, --imc_recipes, from --recipes FILE) and prints one
--benchmark_filter regex (first line) and the number of benchmarks it
selects (second line). Suites:

  default  fan-outs 1, 8, 128 and bodies 64 B and 1 KiB for every path and
           peer, the primitive floors those paths divide by, the generic
           primitive floor for sodium and openssl, thread scaling,
           directory lookups at 1 M handles and client verification: under
           5 minutes on 2 cores (the 10 M-handle directories alone take
           about a minute each to build);
  full     everything;
  filter   the benchmarks matching --filter, plus the primitive floors the
           matching encrypt/decrypt benchmarks need for their overhead
           ratio (unless --no-floors);
  gate     the instruction-count gate's set (GATE_PATTERNS);
  auto-profile  the generic floor of every backend but auto, which pins
           auto's choices (IMC_AUTO_PROFILE).

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
# The generic primitive floor (also what the auto backend reads
# from a results file, IMC_AUTO_PROFILE), after prim/<backend>/.
GENERIC_FLOOR = (r"(x25519-keygen|(x25519-derive|p256-ecdh)(-prepared)?|(x25519|p256)-prepare|"
                 r"ed25519-keygen|p256-keygen|"
                 r"ed25519-(sign|verify)/64|ecdsa-p256-(sign|verify)/64|sha256/64|hmac-sha256/64|"
                 r"hkdf-sha256/32|random/32|aead-(seal|open)/[a-z0-9]+/(64|1024|16384))$")

DEFAULT_PATTERNS = [
    r"^shim/",
    # The generic floor for every backend.
    r"^prim/[^/]+/" + GENERIC_FLOOR,
    r"^(encrypt/[^/]+|fanout|parse/envelope)/[^/]+/dev:(" + DEFAULT_DEVICES + r")/body:("
    + DEFAULT_BODIES + r")$",
    r"^(decrypt/[^/]+|parse/delivery)/[^/]+/body:(" + DEFAULT_BODIES + r")$",
    r"^peer/.*/dev:(" + DEFAULT_DEVICES + r")/body:(" + DEFAULT_BODIES + r")(/.*)?$",
    r"^threads/",
    r"^dir/memory/(lookup|batch)/handles:1000000(/|$)",
    # The store's own get apart from signing, and the signed lookup, on LMDB
    # at 1 M handles. 10 M and 100 M are --full only: every imported record
    # also writes its transparency-log leaf, index path and history, so a
    # 10 M-handle LMDB directory takes over ten minutes to build on 2 cores,
    # in every pass.
    r"^dir/(memory|lmdb)/get/handles:1000000$",
    r"^dir/lmdb/(get|lookup)/handles:1000000$",
    # encrypt on the backend's CSPRNG, beside the deterministic generator.
    r"^encrypt/[^/]+/[^/]+/dev:(1|8)/body:64/rng:os$",
    r"^dir/verify/",
]


# The instruction-count gate (bench_instr.py, scripts/bench --gate): every
# core path at 1 and 8 devices, 64 B and 1 KiB bodies, on every backend and
# suite, and every primitive floor except the 16 KiB sizes.
GATE_PATTERNS = [
    r"^encrypt/[^/]+/[^/]+/dev:(1|8)/body:(64|1024)$",
    r"^decrypt/[^/]+/[^/]+/body:(64|1024)$",
    r"^prim/",
]
GATE_EXCLUDE = r"/(16384|16400)(/|$)"


# Run in registration order, unpinned (see --split).
ORDERED_PREFIXES = ("dir/", "threads/")


def needed_floors(names, recipes):
    """prim/ names the encrypt/decrypt benchmarks among `names` divide by,
    plus the directory's sign/verify floors for dir/ benchmarks, from the
    library's recipes (imcore-bench --imc_recipes)."""
    out = set()
    for n in names:
        for path in ("encrypt", "decrypt"):
            m = br.RE[path].match(n)
            if m:
                k = int(m["n"]) if path == "encrypt" else 1
                for _, p in br.recipe(recipes, path, m["s"], k, int(m["B"])) or []:
                    out.add(f"prim/{m['b']}/{p}")
        m = br.RE["threads"].match(n)
        if m and m["t"] == "1":
            k = int(m["n"]) if m["n"] else 1
            for _, p in br.recipe(recipes, m["path"], m["s"], k, int(m["B"])) or []:
                out.add(f"prim/{m['b']}/{p}")
        m = br.RE["dirverify"].match(n)
        if m:
            out.update(f"prim/{m['b']}/{p}" for _, p in recipes.get("dir/verify", []))
        if br.RE["dir"].match(n) or br.RE["dirget"].match(n):
            out.update(f"prim/*/{p}" for _, p in recipes.get("dir/lookup", []))
    return out


def select(names, suite, filter_rx, floors, recipes):
    """The names of `names` (every benchmark of the binary) in suite default,
    full, gate or filter (regex filter_rx), plus the floors their ratios
    need (always for default and gate, else when `floors`)."""
    if suite == "full":
        return list(names)
    if suite == "auto-profile":  # what auto's choices are made from
        rx = re.compile(r"^prim/[^/]+/" + GENERIC_FLOOR)
        return [n for n in names if rx.search(n) and not n.startswith("prim/auto/")]
    if suite in ("default", "gate"):
        pats = DEFAULT_PATTERNS if suite == "default" else GATE_PATTERNS
        rx = re.compile("|".join(f"({p})" for p in pats))
    else:
        rx = re.compile(filter_rx)
    chosen = [n for n in names if rx.search(n)]
    if chosen and (suite != "filter" or floors):
        need = needed_floors(chosen, recipes)
        first = next((n.split("/")[1] for n in names if n.startswith("prim/")), None)
        need = {f.replace("prim/*/", f"prim/{first}/") for f in need} if first else need
        chosen += [n for n in names if n in need and n not in chosen]
    if suite == "gate":
        chosen = [n for n in chosen if not re.search(GATE_EXCLUDE, n)]
    return chosen


def ere_escape(s):
    """Escapes for POSIX extended regular expressions, which google-benchmark
    uses (std::regex::extended): only the special characters, as Python's
    re.escape also escapes '-', which ERE refuses."""
    return "".join("\\" + c if c in ".^$*+?{}[]\\|()" else c for c in s)


def exact(names):
    return "^(" + "|".join(ere_escape(n) for n in sorted(names)) + ")$"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=("default", "full", "filter", "gate", "auto-profile"),
                    default="default")
    ap.add_argument("--filter", default="", help="regex (google-benchmark syntax) for --suite filter")
    ap.add_argument("--no-floors", action="store_true", help="do not add the floors to a filter")
    ap.add_argument("--recipes", metavar="FILE",
                    help="the binary's cost recipes (imcore-bench --imc_recipes), for the floors")
    ap.add_argument("--split", action="store_true",
                    help="print two exact-name regexes, then the count: the benchmarks to "
                         "run in random order on one pinned CPU, and those to run in "
                         "registration order without pinning (dir/: one directory is built "
                         "for several benchmarks in a row; threads/: several CPUs); an empty "
                         "line for an empty part")
    args = ap.parse_args()

    names = [line.strip() for line in sys.stdin if line.strip()]
    if args.suite == "full" and not args.split:
        print(".")
        print(len(names))
        return 0
    recipes = {}
    if args.recipes:
        with open(args.recipes, encoding="utf-8") as f:
            recipes = br.parse_recipes(line.rstrip("\n").split("\t", 1) for line in f
                                       if "\t" in line)
    try:
        chosen = select(names, args.suite, args.filter, not args.no_floors, recipes)
    except re.error as e:
        print(f"bench_select: bad --filter regex: {e}", file=sys.stderr)
        return 2
    if not chosen:
        print("bench_select: no benchmark matches", file=sys.stderr)
        return 1
    if args.split:
        ordered = [n for n in chosen if n.startswith(ORDERED_PREFIXES)]
        free = [n for n in chosen if not n.startswith(ORDERED_PREFIXES)]
        print(exact(free) if free else "")
        print(exact(ordered) if ordered else "")
        print(len(chosen))
        return 0
    if args.suite in ("gate", "auto-profile"):
        print(exact(chosen))
        print(len(chosen))
        return 0
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
