#!/usr/bin/env python3
"""A/B comparison of imcore-bench results through google-benchmark's compare.py.

Two modes:
  bench_compare.py A.json B.json                     run A (baseline) vs run B
  bench_compare.py --backends R.json sodium openssl  two backends of one run

compare.py (Debian's libbenchmark-tools; its U test needs scipy) does the
statistics; this script pre-filters the inputs, runs it with --dump_to_json
and prints one short verdict per benchmark: the median CPU times, the
change, the two-sided Mann-Whitney U test p-value over the repetitions, and

  faster / slower     p < alpha and the change is at least --threshold
  same                p < alpha but the change is below --threshold, or
                      p >= alpha (no significant difference)
  inconclusive        too few repetitions for a U test (fewer than 2)

with a warning when there are fewer than 9 repetitions (compare.py's own
minimum for a meaningful test). Needs only the standard library itself.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in scripts/lib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import usage  # noqa: E402  (scripts/lib)

PROG = "scripts/compare"
COMPARE = "/usr/share/benchmark/compare.py"
OPTIMAL_REPS = 9
AGG = re.compile(r"_(mean|median|stddev|cv)$")
UNITS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def fmt_ns(ns):
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            v = ns / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{ns:.3g} ns"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def prefilter(report, keep):
    """A copy of the report with only the benchmarks whose run name passes keep()."""
    out = dict(report)
    out["benchmarks"] = [b for b in report.get("benchmarks", [])
                         if keep(b.get("run_name", AGG.sub("", b["name"])))
                         and not b.get("error_occurred")]
    return out


def repetitions(report):
    """{run_name: number of iteration entries}."""
    n = {}
    for b in report.get("benchmarks", []):
        if b.get("run_type", "iteration") == "iteration":
            name = b.get("run_name", b["name"])
            n[name] = n.get(name, 0) + 1
    return n


def run_compare(python, args_, tmp):
    dump = os.path.join(tmp, "diff.json")
    cmd = [python, COMPARE, "--no-color", "-d", dump] + args_
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0 or not os.path.exists(dump):
        sys.stderr.write(res.stdout[-2000:] + res.stderr[-2000:])
        raise SystemExit("bench_compare: compare.py failed")
    return res.stdout, load(dump)


def verdicts(diff, alpha, threshold, reps_of):
    """[(name, base_ns, cont_ns, change, p, reps, verdict)] from compare.py's dump;
    reps_of(name) is the smaller repetition count of the two sides."""
    utest = {}
    medians = {}
    for d in diff:
        name = d["name"]
        if d.get("run_type") == "aggregate":
            if d.get("aggregate_name") == "median" and d["measurements"]:
                m = d["measurements"][0]
                unit = UNITS.get(d.get("time_unit", "ns"), 1.0)
                medians[AGG.sub("", name)] = (m["cpu_time"] * unit, m["cpu_time_other"] * unit,
                                              m["cpu"])
        elif d.get("utest"):
            utest[name] = d["utest"]
        elif d["measurements"] and name not in medians:
            # One repetition: no aggregate, compare the single runs.
            m = d["measurements"][0]
            unit = UNITS.get(d.get("time_unit", "ns"), 1.0)
            medians.setdefault(name, (m["cpu_time"] * unit, m["cpu_time_other"] * unit, m["cpu"]))
    out = []
    for name, (a, b, change) in medians.items():
        u = utest.get(name)
        p = u["cpu_pvalue"] if u else None
        reps = min(u["nr_of_repetitions"], u["nr_of_repetitions_other"]) if u else reps_of(name)
        if p is None and reps == 0:
            v = "inconclusive (a file has only aggregates, no repetitions)"
        elif p is None:
            v = "inconclusive (no U test: fewer than 2 repetitions)"
        elif p < alpha and abs(change) * 100 >= threshold:
            v = ("slower" if change > 0 else "faster") + f" by {abs(change) * 100:.1f}%"
        elif p < alpha:
            v = f"same (significant, but under {threshold:g}%)"
        else:
            v = "same (no significant difference)"
        if p is not None and reps < OPTIMAL_REPS:
            v += f" [only {reps} repetitions: unreliable]"
        out.append((name, a, b, change, p, reps, v))
    return out


def check_args(args):
    """Usage errors before any work: the right number of inputs, every file
    readable JSON of imcore-bench, a --filter that compiles (scripts/lib/usage.py)."""
    n = 3 if args.backends else 2
    if len(args.inputs) != n:
        usage.usage_error(PROG, "expected RESULTS.json BASELINE_BACKEND CONTENDER_BACKEND"
                          if args.backends else "expected BASELINE.json CONTENDER.json")
    for path in args.inputs[:1] if args.backends else args.inputs:
        d = usage.json_file(PROG, path, "benchmark result file")
        if not isinstance(d, dict) or not isinstance(d.get("benchmarks"), list):
            usage.usage_error(PROG, f"'{path}' is not a google-benchmark result file "
                              "(no \"benchmarks\" list)")
    if args.filter:
        usage.regex(PROG, "--filter", args.filter)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("inputs", nargs="+",
                    help="BASELINE.json CONTENDER.json, or with --backends: "
                         "RESULTS.json BASELINE_BACKEND CONTENDER_BACKEND")
    ap.add_argument("--backends", action="store_true", help="compare two backends of one file")
    ap.add_argument("--filter", default="", help="only benchmarks whose name matches (Python re)")
    ap.add_argument("--alpha", type=float, default=0.05, help="U test level (default %(default)s)")
    ap.add_argument("--threshold", type=float, default=2.0,
                    help="changes under this many percent are 'same' (default %(default)s)")
    ap.add_argument("--table", action="store_true", help="also print compare.py's own table")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter for compare.py, with scipy (default %(default)s)")
    usage.one_line(ap, PROG)
    args = ap.parse_args()
    check_args(args)

    if not os.path.exists(COMPARE):
        raise SystemExit(f"bench_compare: {COMPARE} not found (apt-get install libbenchmark-tools)")
    if subprocess.run([args.python, "-c", "import scipy"], capture_output=True).returncode != 0:
        raise SystemExit(f"bench_compare: {args.python} has no scipy (apt-get install python3-scipy)")
    rx = usage.regex(PROG, "--filter", args.filter) if args.filter else None

    with tempfile.TemporaryDirectory(prefix="imcore-compare-") as tmp:
        if args.backends:
            if len(args.inputs) != 3:
                ap.error("--backends takes RESULTS.json BASELINE_BACKEND CONTENDER_BACKEND")
            path, base, cont = args.inputs
            # Any two backends of the file (every name the run has in
            # <kind>/<backend>/... position), named exactly.
            present = sorted({n.split("/")[1] for n in repetitions(load(path)) if n.count("/") >= 2})
            for b in (base, cont):
                if b not in present:
                    ap.error(f"--backends: no backend '{b}' in {path} (it has: {', '.join(present)})")
            if base == cont:
                ap.error("--backends: give two different backends")
            fa, fb = f"/{re.escape(base)}/", f"/{re.escape(cont)}/"
            keep = lambda n: ((f"/{base}/" in n or f"/{cont}/" in n)  # noqa: E731
                              and (rx is None or rx.search(n)))
            report = prefilter(load(path), keep)
            reps = repetitions(report)
            f = os.path.join(tmp, "in.json")
            with open(f, "w", encoding="utf-8") as out:
                json.dump(report, out)
            title = f"{path}: {base} (baseline) vs {cont}"
            table, diff = run_compare(args.python, ["filters", f, fa, fb], tmp)
            replacement = f"[{fa} vs. {fb}]"
            rename = lambda n: n.replace(replacement, f"/{base}→{cont}/")  # noqa: E731
            reps_of = lambda n: min(reps.get(n.replace(replacement, f"/{base}/"), 0),  # noqa: E731
                                    reps.get(n.replace(replacement, f"/{cont}/"), 0))
        else:
            if len(args.inputs) != 2:
                ap.error("expected BASELINE.json CONTENDER.json")
            keep = lambda n: rx is None or rx.search(n)  # noqa: E731
            files = []
            side = []
            for i, path in enumerate(args.inputs):
                report = prefilter(load(path), keep)
                side.append(repetitions(report))
                files.append(os.path.join(tmp, f"in{i}.json"))
                with open(files[-1], "w", encoding="utf-8") as out:
                    json.dump(report, out)
            title = f"{args.inputs[0]} (baseline) vs {args.inputs[1]}"
            table, diff = run_compare(args.python, ["benchmarks"] + files, tmp)
            rename = lambda n: n  # noqa: E731
            reps_of = lambda n: min(side[0].get(n, 0), side[1].get(n, 0))  # noqa: E731

    if args.table:
        print(table)
    rows = verdicts(diff, args.alpha, args.threshold, reps_of)
    if not rows:
        print(f"bench_compare: no benchmark in common ({title}"
              + (f"; filter {args.filter!r}" if args.filter else "") + ")", file=sys.stderr)
        return 1
    print(f"{title}: CPU time medians, change = contender / baseline - 1, "
          f"U test alpha {args.alpha:g}, threshold {args.threshold:g}%")
    width = max(len(rename(r[0])) for r in rows)
    counts = {}
    for name, a, b, change, p, n, v in rows:
        ps = f"p={p:.4f}" if p is not None else "p=-"
        print(f"{rename(name):<{width}}  {fmt_ns(a):>9} -> {fmt_ns(b):>9}  {change * 100:+7.1f}%  "
              f"{ps:<9} {v}")
        counts[v.split()[0]] = counts.get(v.split()[0], 0) + 1
    geo = next((d for d in diff if d["name"] == "OVERALL_GEOMEAN"), None)
    summary = ", ".join(f"{k} {counts[k]}" for k in ("faster", "slower", "same", "inconclusive")
                        if k in counts)
    if geo and geo["measurements"]:
        summary += f"; geometric mean of CPU time changes {geo['measurements'][0]['cpu'] * 100:+.1f}%"
    print(f"{len(rows)} benchmarks: {summary}")
    tested = sum(1 for r in rows if r[4] is not None)
    if tested >= 20:
        print(f"note: each test runs at alpha {args.alpha:g} on its own: about "
              f"{args.alpha * tested:.0f} of {tested} would show a significant change by chance "
              f"alone, and load drift on a shared machine adds more; look for effects that "
              f"recur across sizes and runs.")
    few = min(r[5] for r in rows)
    if few < OPTIMAL_REPS:
        print(f"note: some benchmarks have only {few} repetition(s) on one side; the U test "
              f"needs {OPTIMAL_REPS} or more (scripts/bench --repetitions {OPTIMAL_REPS}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
