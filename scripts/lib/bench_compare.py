#!/usr/bin/env python3
"""A/B comparison of imcore-bench results, one honest verdict per benchmark.

Two modes:
  scripts/compare A.json B.json                     run A (baseline) vs run B
  scripts/compare --backends R.json sodium openssl  two backends of one run

For every benchmark present on both sides: the median CPU times, the change
of medians, the two-sided Mann-Whitney U p-value over the repetitions, the
p-value of equivalence within +-margin (two one-sided U tests), and

  slower / faster   the U test rejects "no difference" (p < alpha)
  no change         equivalence within +-margin shown (p < alpha)
  inconclusive      neither, or fewer than 9 repetitions on a side

(scripts/lib/bench_stats.py). "No evidence of a change" is never reported
as "same". The geometric mean of the changes is taken over the benchmarks
both sides have, and the counts of the others are printed.

Two files must come from the same host, CPU model and frequency, compiler
and library versions (the report's context); otherwise the comparison is
refused, or with --force made and every line flagged. Output as text,
Markdown or CSV. Usage errors exit 2 with one line; 1 when nothing is in
common. Standard library only.
"""

import argparse
import csv
import io
import json
import math
import os
import re
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_stats as bs  # noqa: E402  (same directory)

PROG = "scripts/compare"
UNITS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Context keys that must agree between two files (besides backend.<name>).
SAME_CONTEXT = [("host_name", "host"), ("cpu.model", "CPU model"), ("num_cpus", "CPU count"),
                ("compiler", "compiler"), ("build.type", "build type")]
MHZ_TOLERANCE = 0.01


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message):
        raise UsageError(message)


def fmt_ns(ns):
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            v = ns / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{ns:.3g} ns"


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror or e}")
    except (ValueError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not JSON ({e})")
    if not isinstance(report, dict) or not isinstance(report.get("benchmarks"), list):
        raise UsageError(f"{path}: not a google-benchmark report (no \"benchmarks\" list)")
    return report


def samples(report, metric):
    """{run name: [time in ns of each repetition]} from the iteration entries
    (aggregates are skipped: a test needs the repetitions themselves)."""
    out = {}
    key = "cpu_time" if metric == "cpu" else "real_time"
    for b in report["benchmarks"]:
        if not isinstance(b, dict) or "name" not in b:
            continue
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            out.setdefault(name, [])
            continue
        if b.get("run_type", "iteration") != "iteration" or key not in b:
            continue
        out.setdefault(name, []).append(b[key] * UNITS.get(b.get("time_unit", "ns"), 1.0))
    return out


def mhz(ctx):
    try:
        return float(ctx.get("mhz_per_cpu"))
    except (TypeError, ValueError):
        return None


def context_differences(ca, cb):
    """What differs between two reports' contexts, as short phrases."""
    diffs = []
    for key, what in SAME_CONTEXT:
        if str(ca.get(key)) != str(cb.get(key)):
            diffs.append(f"{what} {ca.get(key)} vs {cb.get(key)}")
    fa, fb = mhz(ca), mhz(cb)
    if fa is None or fb is None or abs(fa - fb) > MHZ_TOLERANCE * max(fa, fb):
        diffs.append(f"CPU MHz {ca.get('mhz_per_cpu')} vs {cb.get('mhz_per_cpu')}")
    # Library versions: backend.<name> (not auto's timed choices, not caps).
    libs = {k for k in list(ca) + list(cb)
            if k.startswith("backend.") and k.count(".") == 1 and k != "backend.auto"}
    for k in sorted(libs):
        if ca.get(k) != cb.get(k):
            diffs.append(f"{k[len('backend.'):]} {ca.get(k)!s} vs {cb.get(k)!s}")
    return diffs


def select_files(args, rx):
    a, b = load(args.inputs[0]), load(args.inputs[1])
    diffs = context_differences(a.get("context", {}), b.get("context", {}))
    if diffs and not args.force:
        raise UsageError("refusing to compare runs that differ in " + "; ".join(diffs)
                         + " (--force to compare anyway, every line flagged)")
    sa, sb = samples(a, args.metric), samples(b, args.metric)
    keep = lambda n: rx is None or rx.search(n)  # noqa: E731
    names = [n for n in sa if n in sb and keep(n)]
    only = (sum(1 for n in sa if n not in sb and keep(n)),
            sum(1 for n in sb if n not in sa and keep(n)))
    pairs = [(n, sa[n], sb[n]) for n in names]
    title = f"{args.inputs[0]} (baseline) vs {args.inputs[1]}"
    return title, pairs, only, diffs


def select_backends(args, rx):
    path, base, cont = args.inputs
    s = samples(load(path), args.metric)
    fa, fb = f"/{base}/", f"/{cont}/"
    pairs, only_a, only_b = [], 0, 0
    for n, v in s.items():
        if fa not in n or (rx is not None and not rx.search(n)):
            continue
        other = n.replace(fa, fb, 1)
        if other in s:
            pairs.append((n.replace(fa, f"/{base}→{cont}/", 1), v, s[other]))
        else:
            only_a += 1
    only_b = sum(1 for n in s if fb in n and n.replace(fb, fa, 1) not in s
                 and (rx is None or rx.search(n)))
    return f"{path}: {base} (baseline) vs {cont}", pairs, (only_a, only_b), []


def compare(pairs, alpha, margin, flag):
    rows = []
    for name, a, b in pairs:
        if not a or not b:
            rows.append({"name": name, "a": None, "b": None, "change": None, "p": None,
                         "p_eq": None, "reps": 0, "verdict": "inconclusive (error or no "
                         "repetitions on a side)", "flag": flag})
            continue
        v, change, p, p_eq = bs.verdict(a, b, alpha, margin)
        rows.append({"name": name, "a": statistics.median(a), "b": statistics.median(b),
                     "change": change, "p": p, "p_eq": p_eq, "reps": min(len(a), len(b)),
                     "verdict": v, "flag": flag})
    return rows


def geomean(rows):
    logs = [math.log1p(r["change"]) for r in rows if r["change"] is not None]
    return (math.expm1(sum(logs) / len(logs)), len(logs)) if logs else (None, 0)


def summary_counts(rows):
    counts = {}
    for r in rows:
        k = r["verdict"].split(" (")[0].split(" by ")[0]
        counts[k] = counts.get(k, 0) + 1
    return counts


def fmt_p(p):
    return "-" if p is None else (f"{p:.2g}" if p < 0.001 else f"{p:.3f}")


def print_text(title, rows, header, footer):
    print(title)
    print(header)
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        if r["a"] is None:
            print(f"{r['name']:<{width}}  {'-':>9}    {'-':>9}  {'-':>7}  {r['verdict']}")
            continue
        line = (f"{r['name']:<{width}}  {fmt_ns(r['a']):>9} -> {fmt_ns(r['b']):>9}  "
                f"{r['change'] * 100:+7.1f}%  p={fmt_p(r['p']):<6} eq={fmt_p(r['p_eq']):<6} "
                f"n={r['reps']:<3} {r['verdict']}")
        print(line + (f"  [FORCED: {r['flag']}]" if r["flag"] else ""))
    for line in footer:
        print(line)


def print_markdown(title, rows, header, footer):
    print(f"**{title}**", "", header, "", sep="\n")
    print("| benchmark | baseline | contender | change | p | p (equivalence) | repetitions "
          "| verdict |" + (" caveat |" if any(r["flag"] for r in rows) else ""))
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
          + (" --- |" if any(r["flag"] for r in rows) else ""))
    for r in rows:
        cells = [f"`{r['name']}`", fmt_ns(r["a"]) if r["a"] else "-",
                 fmt_ns(r["b"]) if r["b"] else "-",
                 f"{r['change'] * 100:+.1f}%" if r["change"] is not None else "-",
                 fmt_p(r["p"]), fmt_p(r["p_eq"]), str(r["reps"]), r["verdict"]]
        if any(x["flag"] for x in rows):
            cells.append(f"forced: {r['flag']}" if r["flag"] else "")
        print("| " + " | ".join(cells) + " |")
    print()
    for line in footer:
        print(line + "  ")


def print_csv(rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["benchmark", "baseline_ns", "contender_ns", "change", "p_two_sided",
                "p_equivalence", "repetitions", "verdict", "forced"])
    for r in rows:
        w.writerow([r["name"], "" if r["a"] is None else f"{r['a']:.6g}",
                    "" if r["b"] is None else f"{r['b']:.6g}",
                    "" if r["change"] is None else f"{r['change']:.6f}",
                    "" if r["p"] is None else f"{r['p']:.6g}",
                    "" if r["p_eq"] is None else f"{r['p_eq']:.6g}", r["reps"], r["verdict"],
                    r["flag"]])
    sys.stdout.write(buf.getvalue())


def parse_args(argv):
    ap = Parser(prog=PROG, description=__doc__.splitlines()[0],
                formatter_class=argparse.RawDescriptionHelpFormatter,
                epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("inputs", nargs="+",
                    help="BASELINE.json CONTENDER.json, or with --backends: "
                         "RESULTS.json BASELINE_BACKEND CONTENDER_BACKEND")
    ap.add_argument("--backends", action="store_true", help="compare two backends of one file")
    ap.add_argument("--filter", default="", help="only benchmarks whose name matches (Python re)")
    ap.add_argument("--alpha", type=float, default=0.05,
                    help="significance level of every test (default %(default)s)")
    ap.add_argument("--margin", type=float, default=2.0,
                    help="equivalence margin in percent for 'no change' (default %(default)s)")
    ap.add_argument("--metric", choices=("cpu", "real"), default="cpu",
                    help="CPU time (default) or wall time")
    ap.add_argument("--format", choices=("text", "markdown", "csv"), default="text")
    ap.add_argument("--force", action="store_true",
                    help="compare runs from different hosts, CPU frequencies or library "
                         "versions (every line is flagged)")
    args = ap.parse_args(argv)
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha must be between 0 and 1, not {args.alpha:g}")
    if not 0 < args.margin < 100:
        raise UsageError(f"--margin must be a percentage between 0 and 100, not {args.margin:g}")
    if args.backends and len(args.inputs) != 3:
        raise UsageError("--backends takes RESULTS.json BASELINE_BACKEND CONTENDER_BACKEND")
    if not args.backends and len(args.inputs) != 2:
        raise UsageError("expected BASELINE.json CONTENDER.json (see --help)")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        rx = re.compile(args.filter) if args.filter else None
    except re.error as e:
        raise UsageError(f"--filter: bad regex {args.filter!r}: {e}")
    select = select_backends if args.backends else select_files
    title, pairs, only, diffs = select(args, rx)
    if not pairs:
        print(f"{PROG}: no benchmark in common ({title}"
              + (f"; filter {args.filter!r}" if args.filter else "") + ")", file=sys.stderr)
        return 1
    pairs.sort(key=lambda p: p[0])
    flag = "; ".join(diffs)
    rows = compare(pairs, args.alpha, args.margin / 100.0, flag)
    g, k = geomean(rows)
    counts = summary_counts(rows)
    header = (f"{args.metric.upper()} time medians; change = contender / baseline - 1; p: "
              f"two-sided Mann-Whitney U; eq: equivalence within ±{args.margin:g}% (two "
              f"one-sided U tests); alpha {args.alpha:g}; at least {bs.MIN_REPS} repetitions "
              f"per side for any verdict but inconclusive.")
    footer = [f"{len(rows)} benchmarks in both: " + ", ".join(f"{v} {c}" for c, v in
                                                              sorted(counts.items())),
              (f"geometric mean of the changes over the {k} benchmarks in both: {g * 100:+.1f}%"
               if g is not None else "no geometric mean (no benchmark with data on both sides)")]
    if only[0] or only[1]:
        footer.append(f"not compared: {only[0]} only in the baseline, {only[1]} only in the "
                      f"contender")
    tested = sum(1 for r in rows if r["p"] is not None)
    if tested >= 20:
        footer.append(f"note: each test runs at alpha {args.alpha:g} on its own: about "
                      f"{args.alpha * tested:.0f} of {tested} would show a change by chance "
                      f"alone; look for effects that recur across sizes and runs.")
    if diffs:
        footer.append(f"WARNING (--force): the runs differ in {flag}; every verdict is suspect.")
    if args.format == "csv":
        print_csv(rows)
    elif args.format == "markdown":
        print_markdown(title, rows, header, footer)
    else:
        print_text(title, rows, header, footer)
    return 0


def run(argv):
    try:
        return main(argv)
    except UsageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
