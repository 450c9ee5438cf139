#!/usr/bin/env python3
"""Noise-free overhead of the message paths, under callgrind.

For each encrypt/decrypt benchmark matching --filter, runs imcore-bench
under `valgrind --tool=callgrind`, collecting only inside imc_msg_encrypt /
imc_msg_decrypt, and reports per call:

  Ir           instructions executed;
  crypto       the share of them inside the imc_crypto_* calls the path
               makes (DH, keygen, HKDF, AEAD, SHA-256, sign/verify, each
               with the validation policy); the rest is the message layer;
  Ir ratio     path instructions / the sum of the instructions of the same
               primitive calls measured in their own prim/ benchmarks (the
               instruction-count counterpart of the overhead ratio in
               results/README.md), with --floors;
  model ratio  the same for an estimate of cycles from callgrind's cache and
               branch simulation (Ir + 12 per L1 miss + 100 per last-level
               miss + 15 per mispredicted branch), with --floors --sim: what
               running the primitives back to back costs in cache and
               predictor misses against running each one in a tight loop.

Instruction counts and simulated misses do not depend on the load of the
machine, unlike the time ratio. The floors are profiled once per primitive
and reused. Needs valgrind and callgrind_annotate (scripts/setup installs
them). Slow: a few seconds per benchmark, about a minute per path with
--floors --sim.

  scripts/lib/bench_callgrind.py build/bench/bench/imcore-bench --floors --sim \\
      --filter '^(encrypt|decrypt)/sodium/x25519-ed25519-chacha/(dev:1/)?body:64$'

"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auto_profile as autop  # noqa: E402  (same directory)
import bench_instr as bi  # noqa: E402  (same directory)
import bench_report as br  # noqa: E402
from bench_select import ere_escape  # noqa: E402

# Top-level crypto calls of the paths (none calls another in this list).
CRYPTO = {
    "imc_crypto_x25519_keygen", "imc_crypto_p256_keygen", "imc_crypto_x25519",
    "imc_crypto_p256_ecdh", "imc_crypto_hkdf_sha256", "imc_crypto_aead_seal",
    "imc_crypto_aead_open", "imc_crypto_sha256", "imc_crypto_ed25519_sign",
    "imc_crypto_ed25519_verify", "imc_crypto_ecdsa_p256_sign", "imc_crypto_ecdsa_p256_verify",
}
# The library function each benchmark measures: bench_instr.py's table.
TOP = bi.TOP


def run_callgrind(binary, name, collect, min_time, sim, tmp, env):
    out = os.path.join(tmp, re.sub(r"[^A-Za-z0-9]+", "_", name) + ".out")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
           f"--toggle-collect={collect}"]
    if sim:
        cmd += ["--cache-sim=yes", "--branch-sim=yes"]
    cmd += [binary, f"--benchmark_filter=^{ere_escape(name)}$", f"--benchmark_min_time={min_time}"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0 or not os.path.exists(out):
        raise RuntimeError(f"callgrind failed for {name}: {res.stderr[-400:]}")
    return out


def parse_functions(path):
    """({function: [inclusive event counts]}, event names, {function: calls})."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=caller",
                           "--threshold=100", path], capture_output=True, text=True,
                          check=True).stdout
    events, funcs, calls = [], {}, {}
    pending = 0
    for line in text.splitlines():
        if line.startswith("Events shown:"):
            events = line.split(":", 1)[1].split()
            continue
        if "???:" not in line and ".c:" not in line:
            continue
        head, _, tail = line.partition(":")
        m = re.match(r"\s*(\S+?)(?:\s+\((\d[\d,]*)x\))?\s+\[", tail)
        if not m:
            continue
        fn = m.group(1)
        marker = re.search(r"\s([<*>])\s", head + " ")
        nums = [int(x.replace(",", "")) if x != "." else 0
                for x in re.findall(r"([\d,]+|\.)(?:\s+\([^)]*\))?", re.sub(r"[<*>]\s*\S*$", "", head))]
        kind = marker.group(1) if marker else "*"
        if kind == "<":  # a caller line: its count is calls into the next "*" function
            if m.group(2):
                pending += int(m.group(2).replace(",", ""))
            continue
        if kind == "*":
            funcs[fn] = nums[:len(events)]
            calls[fn] = pending
            pending = 0
    return funcs, events, calls


def per_call(path, fn):
    funcs, events, calls = parse_functions(path)
    if fn not in funcs or not calls.get(fn):
        raise RuntimeError(f"{fn} not found in {path}")
    n = calls[fn]
    return {e: v / n for e, v in zip(events, funcs[fn])}, n, funcs, calls


def model_cycles(ev):
    g = lambda k: ev.get(k, 0.0)  # noqa: E731
    return (g("Ir") + 12 * (g("I1mr") + g("D1mr") + g("D1mw"))
            + 100 * (g("ILmr") + g("DLmr") + g("DLmw")) + 15 * (g("Bcm") + g("Bim")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("binary", help="imcore-bench")
    ap.add_argument("--filter", required=True, help="regex over encrypt/ and decrypt/ names")
    ap.add_argument("--floors", action="store_true",
                    help="also profile the primitive floors and print the ratios")
    ap.add_argument("--sim", action="store_true", help="cache and branch simulation (slower)")
    ap.add_argument("--auto-profile", metavar="JSON",
                    help="results file whose floors pin the auto backend's choices (as "
                         "scripts/auto-profile makes them), "
                         "which it otherwise times afresh in every process (and so may choose "
                         "differently for a path and for its floors)")
    ap.add_argument("--min-time", default="0.5",
                    help="--benchmark_min_time under valgrind (default %(default)s: enough calls "
                         "that the first, cold one does not matter)")
    args = ap.parse_args()

    listed = subprocess.run([args.binary, "--benchmark_list_tests=true"], capture_output=True,
                            text=True).stdout.split()
    rx = re.compile(args.filter)
    names = [n for n in listed if rx.search(n) and n.startswith(("encrypt/", "decrypt/"))]
    if not names:
        print("bench_callgrind: no encrypt/decrypt benchmark matches", file=sys.stderr)
        return 1
    recipes = br.recipes_of_binary(args.binary)
    env = dict(os.environ)
    pinned = autop.pin_env(env, args.auto_profile) if args.auto_profile else None  # noqa: F841
    elif any(n.split("/")[1] == "auto" for n in names) and args.floors:
        print("bench_callgrind: note: auto's choices are timed in each process; use "
              "--auto-profile for comparable floors", file=sys.stderr)
    floor_cache = {}
    cols = f"{'benchmark':58} {'calls':>5} {'Ir/call':>10} {'crypto':>7}"
    if args.floors:
        cols += f" {'Ir ratio':>8}" + (f" {'model ratio':>11}" if args.sim else "")
    print(cols)
    with tempfile.TemporaryDirectory(prefix="imcore-cg-") as tmp:
        for name in names:
            path = "encrypt" if name.startswith("encrypt/") else "decrypt"
            try:
                out = run_callgrind(args.binary, name, TOP[path], args.min_time, args.sim, tmp, env)
                ev, n, funcs, calls = per_call(out, TOP[path])
                crypto = sum(funcs[f][0] for f in funcs if f in CRYPTO) / n
                line = f"{name:58} {n:5d} {ev['Ir']:10.0f} {crypto / ev['Ir'] * 100:6.2f}%"
                if args.floors:
                    m = br.RE[path].match(name)
                    k = int(m["n"]) if path == "encrypt" else 1
                    total = {}
                    for count, p in br.recipe(recipes, path, m["s"], k, int(m["B"])):
                        prim = f"prim/{m['b']}/{p}"
                        if prim not in floor_cache:
                            fn = bi.target_function(prim)
                            if fn is None:
                                raise RuntimeError(f"no library function for {prim}")
                            pout = run_callgrind(args.binary, prim, fn, args.min_time, args.sim,
                                                 tmp, env)
                            floor_cache[prim] = per_call(pout, fn)[0]
                        for e, v in floor_cache[prim].items():
                            total[e] = total.get(e, 0.0) + count * v
                    line += f" {ev['Ir'] / total['Ir']:8.4f}"
                    if args.sim:
                        line += f" {model_cycles(ev) / model_cycles(total):11.4f}"
            except (RuntimeError, subprocess.CalledProcessError) as e:
                line = f"{name:58} error: {e}"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
