#!/usr/bin/env python3
"""Writes a backend profile (imc_backend_profile_parse, docs/backends.md)
from a google-benchmark results file: for each primitive, the library whose
primitive-floor rows for it add up to the least time.

usage: auto_profile.py RESULTS.json [-o PROFILE]

A primitive's rows (prim/<backend>/<row>, medians when the run has
aggregates, else the mean of its iterations; failed rows and the auto
backend's own are ignored):

  random            random/32
  x25519            x25519-keygen, x25519-derive
  ed25519           ed25519-sign/64, ed25519-verify/64
  chacha20poly1305  aead-seal and aead-open of chacha20poly1305 at 64 bytes
  aes256gcm         the same for aes256gcm

(64 bytes: a message seals a 32-byte key per device and most bodies are
short; the libraries with wide vector code win only on long messages.)
  p256-ecdh         p256-keygen, p256-ecdh
  ecdsa-p256        ecdsa-p256-sign/64, ecdsa-p256-verify/64
  sha256            sha256/64, hmac-sha256/64, hkdf-sha256/32

A library counts only with all of a primitive's rows; a primitive no
library has all rows for is left out (auto then takes the first library in
the registry that has it). Ties go to the name first in the file. Exit
status 2, with one line on stderr, if the file cannot be read, is not a
google-benchmark report or has no usable row.
Standard library only."""
import argparse
import json
import os
import sys
import tempfile

ROWS = {
    "random": ["random/32"],
    "x25519": ["x25519-keygen", "x25519-derive"],
    "ed25519": ["ed25519-sign/64", "ed25519-verify/64"],
    "chacha20poly1305": ["aead-seal/chacha20poly1305/64", "aead-open/chacha20poly1305/64"],
    "aes256gcm": ["aead-seal/aes256gcm/64", "aead-open/aes256gcm/64"],
    "p256-ecdh": ["p256-keygen", "p256-ecdh"],
    "ecdsa-p256": ["ecdsa-p256-sign/64", "ecdsa-p256-verify/64"],
    "sha256": ["sha256/64", "hmac-sha256/64", "hkdf-sha256/32"],
}

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def row_times(report):
    """{(backend, row): ns per call}, and the backends in order of appearance."""
    medians, iters, order = {}, {}, []
    for b in report.get("benchmarks", []):
        run = b.get("run_name", b.get("name", ""))
        parts = run.split("/", 2)
        if len(parts) < 3 or parts[0] != "prim" or parts[1] == "auto" or b.get("error_occurred"):
            continue
        unit = UNIT_NS.get(b.get("time_unit", "ns"))
        t = b.get("real_time")
        if unit is None or not isinstance(t, (int, float)):
            continue
        key = (parts[1], parts[2])
        if parts[1] not in order:
            order.append(parts[1])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[key] = t * unit
        else:
            iters.setdefault(key, []).append(t * unit)
    times = {k: sum(v) / len(v) for k, v in iters.items()}
    times.update(medians)
    return times, order


def choose(times, order):
    """[(primitive, backend, ns)] for each primitive some library has."""
    out = []
    for prim, rows in ROWS.items():
        best = None
        for backend in order:
            if all((backend, r) in times for r in rows):
                t = sum(times[(backend, r)] for r in rows)
                if best is None or t < best[1]:
                    best = (backend, t)
        if best is not None:
            out.append((prim, best[0], best[1]))
    return out


def profile_text(path):
    """The profile for results file `path`; raises ValueError if unusable."""
    with open(path, encoding="utf-8") as f:
        try:
            report = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: not JSON: {e}") from e
    if not isinstance(report, dict) or not isinstance(report.get("benchmarks"), list):
        raise ValueError(f"{path}: not a google-benchmark report")
    picks = choose(*row_times(report))
    if not picks:
        raise ValueError(f"{path}: no prim/<backend>/... rows for any primitive")
    lines = [f"# auto backend profile from {path} (scripts/auto-profile)"]
    for prim, backend, ns in picks:
        lines.append(f"# {prim}: {backend}, {ns:.0f} ns for {' + '.join(ROWS[prim])}")
    lines += [f"{prim}={backend}" for prim, backend, _ in picks]
    return "\n".join(lines) + "\n"


def write_profile(results, out):
    """Writes the profile of results file `results` to `out`; returns out."""
    text = profile_text(results)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return out


def pin_env(env, results):
    """Sets env's IMC_AUTO_PROFILE to the profile of results file `results`,
    written to a temporary directory that lives as long as the returned
    object."""
    tmp = tempfile.TemporaryDirectory(prefix="imc-auto-profile-")
    env["IMC_AUTO_PROFILE"] = write_profile(results, os.path.join(tmp.name, "auto.profile"))
    return tmp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("results", help="google-benchmark JSON (scripts/bench output)")
    ap.add_argument("-o", "--out", help="profile file to write (default: standard output)")
    args = ap.parse_args()
    try:
        text = profile_text(args.results)
    except (OSError, ValueError) as e:
        print(f"auto-profile: {e}", file=sys.stderr)
        return 2
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
