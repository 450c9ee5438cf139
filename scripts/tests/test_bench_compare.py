#!/usr/bin/env python3
"""Tests of scripts/compare (scripts/lib/bench_compare.py, bench_stats.py).

Runs the real command on synthetic google-benchmark reports in a temporary
directory: a file against a copy with every time doubled must say "slower"
with 9 repetitions and "inconclusive" with 3, never "same" or "no change";
a file against itself with small noise must never say faster or slower by
more than the noise; runs from different hosts, CPU frequencies or library
versions are refused (exit 2) unless --force, which flags every line; the
geometric mean covers only the benchmarks in both files; usage errors exit
2 with one line on stderr and no traceback. Standard library only.
"""

import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPARE = os.path.join(ROOT, "scripts", "compare")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
import bench_stats as bs  # noqa: E402

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


CONTEXT = {"host_name": "vm", "cpu.model": "AMD EPYC", "num_cpus": 2, "mhz_per_cpu": 2596,
           "compiler": "gcc 12.2.0", "build.type": "Release",
           "backend.sodium": "libsodium 1.0.18", "backend.openssl": "OpenSSL 3.0.19"}
NAMES = [f"encrypt/sodium/x25519-ed25519-chacha/dev:{n}/body:64" for n in (1, 8, 128)] + \
        [f"prim/openssl/sha256/{n}" for n in (64, 1040)]


def report(reps, scale=1.0, names=NAMES, context=None, seed=1, noise=0.02):
    rng = random.Random(seed)
    benches = []
    for i, name in enumerate(names):
        base = 1000.0 * (i + 1)
        for r in range(reps):
            t = base * scale * (1 + rng.uniform(-noise, noise))
            benches.append({"name": name, "run_name": name, "run_type": "iteration",
                            "repetitions": reps, "repetition_index": r, "threads": 1,
                            "iterations": 100, "real_time": t, "cpu_time": t,
                            "time_unit": "ns"})
        benches.append({"name": name + "_median", "run_name": name, "run_type": "aggregate",
                        "aggregate_name": "median", "real_time": base * scale,
                        "cpu_time": base * scale, "time_unit": "ns"})
    return {"context": dict(context or CONTEXT), "benchmarks": benches}


def doubled(rep):
    out = json.loads(json.dumps(rep))
    for b in out["benchmarks"]:
        b["cpu_time"] *= 2
        b["real_time"] *= 2
    return out


def write(tmp, name, obj):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        if isinstance(obj, str):
            f.write(obj)
        else:
            json.dump(obj, f)
    return path


def run(*args):
    return subprocess.run([COMPARE, *args], capture_output=True, text=True)


def csv_rows(res):
    return list(csv.DictReader(io.StringIO(res.stdout)))


def test_doubled(tmp):
    for reps, want in ((9, "slower"), (15, "slower"), (3, "inconclusive"), (8, "inconclusive")):
        a = write(tmp, f"a{reps}.json", report(reps))
        b = write(tmp, f"b{reps}.json", doubled(report(reps)))
        res = run(a, b, "--format", "csv")
        rows = csv_rows(res)
        verdicts = {r["verdict"].split(" ")[0] for r in rows}
        check(res.returncode == 0 and len(rows) == len(NAMES) and verdicts == {want},
              f"every time doubled, {reps} repetitions: all '{want}' (got {sorted(verdicts)})")
        check(not any(r["verdict"].startswith(("same", "no change")) for r in rows),
              f"every time doubled, {reps} repetitions: never 'same' or 'no change'")
        if want == "slower":
            check(all(abs(float(r["change"]) - 1.0) < 0.05 for r in rows),
                  f"every time doubled, {reps} repetitions: change +100%")
        # Halved is faster, by the same test.
        res = run(b, a, "--format", "csv")
        verdicts = {r["verdict"].split(" ")[0] for r in csv_rows(res)}
        check(verdicts == {"faster" if want == "slower" else "inconclusive"},
              f"every time halved, {reps} repetitions: {verdicts}")


def test_no_change(tmp):
    # Two runs of the same code, 1% noise: equivalence within 2% is shown.
    a = write(tmp, "n1.json", report(15, seed=3, noise=0.01))
    b = write(tmp, "n2.json", report(15, seed=4, noise=0.01))
    rows = csv_rows(run(a, b, "--format", "csv"))
    check(all(r["verdict"].startswith("no change (within ±2%") for r in rows),
          "same code, 1% noise, 15 repetitions: 'no change (within ±2% ...)'")
    # 10% noise: not enough evidence for either: inconclusive, not same.
    a = write(tmp, "w1.json", report(9, seed=5, noise=0.10))
    b = write(tmp, "w2.json", report(9, seed=6, noise=0.10))
    rows = csv_rows(run(a, b, "--format", "csv"))
    check(all(not r["verdict"].startswith("no change") for r in rows),
          "same code, 10% noise, 9 repetitions: never 'no change' within ±2%")


def test_geomean(tmp):
    # The contender has only the first two benchmarks, both 10% slower; the
    # baseline has three more. The mean is over the two.
    a = write(tmp, "g1.json", report(9, noise=0.0))
    b = write(tmp, "g2.json", report(9, scale=1.1, names=NAMES[:2], noise=0.0))
    res = run(a, b)
    check(res.returncode == 0 and "over the 2 benchmarks in both: +10.0%" in res.stdout,
          "geometric mean only over the benchmarks in both files")
    check("3 only in the baseline, 0 only in the contender" in res.stdout,
          "benchmarks in one file only are counted, not compared")


def test_context(tmp):
    a = write(tmp, "c1.json", report(9))
    for key, value, what in (("host_name", "other", "host"), ("mhz_per_cpu", 3400, "CPU MHz"),
                             ("backend.openssl", "OpenSSL 3.2.0", "openssl")):
        ctx = dict(CONTEXT)
        ctx[key] = value
        b = write(tmp, f"c-{key}.json", report(9, context=ctx, seed=2))
        res = run(a, b)
        check(res.returncode == 2 and res.stdout == "" and len(res.stderr.splitlines()) == 1
              and what in res.stderr, f"different {what}: refused with one line, exit 2")
        res = run(a, b, "--force", "--format", "csv")
        rows = csv_rows(res)
        check(res.returncode == 0 and rows and all(what in r["forced"] for r in rows),
              f"different {what} with --force: compared, every line flagged")
    ctx = dict(CONTEXT)
    ctx["mhz_per_cpu"] = 2600  # within 1%
    b = write(tmp, "c-mhz-close.json", report(9, context=ctx, seed=2))
    check(run(a, b).returncode == 0, "CPU MHz within 1%: compared")


def test_backends(tmp):
    names = [f"prim/{b}/sha256/64" for b in ("sodium", "openssl")]
    rep = report(9, names=names, noise=0.0)
    for b in rep["benchmarks"]:
        if "/openssl/" in b["name"]:
            b["cpu_time"] = b["real_time"] = 1000.0 * (1 + 0.001 * b.get("repetition_index", 0))
        elif b.get("run_type") == "iteration":
            b["cpu_time"] = b["real_time"] = 3000.0 * (1 + 0.001 * b["repetition_index"])
    f = write(tmp, "backends.json", rep)
    res = run("--backends", f, "sodium", "openssl", "--format", "csv")
    rows = csv_rows(res)
    check(res.returncode == 0 and len(rows) == 1 and rows[0]["verdict"].startswith("faster")
          and "sodium→openssl" in rows[0]["benchmark"], "--backends: openssl 3x faster")


def test_formats(tmp):
    a = write(tmp, "f1.json", report(9))
    b = write(tmp, "f2.json", doubled(report(9)))
    res = run(a, b, "--format", "markdown")
    lines = res.stdout.splitlines()
    check(res.returncode == 0 and any(l.startswith("| benchmark | baseline |") for l in lines)
          and sum(1 for l in lines if l.startswith("| `")) == len(NAMES), "Markdown table")
    res = run(a, b, "--format", "csv")
    check(res.stdout.startswith("benchmark,baseline_ns,contender_ns,change,p_two_sided,")
          and len(csv_rows(res)) == len(NAMES), "CSV with a header row")


def test_usage(tmp):
    good = write(tmp, "u.json", report(9))
    cases = [
        ((), "no arguments"),
        ((good,), "one file"),
        ((good, os.path.join(tmp, "missing.json")), "missing file"),
        ((good, write(tmp, "bad.json", "{not json")), "not JSON"),
        ((good, write(tmp, "list.json", "[1, 2]")), "not a report"),
        ((good, good, "--filter", "("), "bad regex"),
        ((good, good, "--alpha", "2"), "alpha out of range"),
        ((good, good, "--bogus"), "unknown option"),
        (("--backends", good, "sodium"), "--backends with two arguments"),
        ((tmp, good), "a directory"),
    ]
    for args, what in cases:
        res = run(*args)
        check(res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
              and "Traceback" not in res.stderr and res.stderr.startswith("scripts/compare: "),
              f"usage error ({what}): exit 2, one line")
    res = run(good, good, "--filter", "^nothing$")
    check(res.returncode == 1 and "no benchmark in common" in res.stderr,
          "nothing in common: exit 1")


def test_stats():
    # Exact U distribution: 9 vs 9, complete separation: p = 2 / C(18, 9).
    a = list(range(9))
    b = [x + 100 for x in a]
    check(abs(bs.p_two_sided(b, a) - 2 / 48620) < 1e-12, "exact U p-value, 9 vs 9 separated")
    # With 3 vs 3 the smallest two-sided p is 0.1: never below 0.05.
    check(abs(bs.p_two_sided([4, 5, 6], [1, 2, 3]) - 0.1) < 1e-12, "3 vs 3: smallest p is 0.1")
    # Symmetry and bounds.
    x, y = [1.0, 3, 5, 7, 9, 11, 13, 15, 17], [2.0, 4, 6, 8, 10, 12, 14, 16, 18]
    check(abs(bs.p_greater(x, y) + bs.p_less(x, y) - 1 - bs._cdf_exact(
        bs.u_statistic(x, y), 9, 9) + bs._cdf_exact(bs.u_statistic(x, y) - 1, 9, 9)) < 1e-9,
        "one-sided p-values are complementary up to the point mass")


def main():
    test_stats()
    with tempfile.TemporaryDirectory(prefix="imcore-compare-test-") as tmp:
        test_doubled(tmp)
        test_no_change(tmp)
        test_geomean(tmp)
        test_context(tmp)
        test_backends(tmp)
        test_formats(tmp)
        test_usage(tmp)
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
