#!/usr/bin/env python3
"""Merge single-repetition imcore-bench passes into one repetitions report.

scripts/bench runs the selected suite N times in a row ("passes", one
repetition of every benchmark each) rather than N back-to-back repetitions
of each benchmark: so every benchmark's repetitions, and the floors and the
paths divided by them, are spread over the whole run instead of sharing one
moment of a busy machine. This script joins the passes into what
google-benchmark itself writes for --benchmark_repetitions=N: every
repetition (repetition_index = pass) followed by the mean, median, stddev
and cv aggregates of its benchmark, for real and CPU time and for every
counter. compare.py and bench_report.py read it like any other report.
The context is the first pass's, plus bench.passes and each pass's load
average. Standard library only.
"""

import argparse
import json
import statistics
import sys

NON_COUNTERS = {"name", "family_index", "per_family_instance_index", "run_name", "run_type",
                "repetitions", "repetition_index", "threads", "iterations", "real_time",
                "cpu_time", "time_unit", "aggregate_name", "aggregate_unit", "label",
                "error_occurred", "error_message"}


def aggregates(runs, reps):
    """gbench-style aggregate entries for the repetitions of one benchmark."""
    ok = [r for r in runs if not r.get("error_occurred")]
    if len(ok) < 2:
        return []
    first = ok[0]
    fields = ["real_time", "cpu_time"] + [k for k, v in first.items()
                                          if k not in NON_COUNTERS and isinstance(v, (int, float))]
    out = []
    for agg in ("mean", "median", "stddev", "cv"):
        e = {"name": f"{first['run_name']}_{agg}",
             "family_index": first.get("family_index"),
             "per_family_instance_index": first.get("per_family_instance_index"),
             "run_name": first["run_name"], "run_type": "aggregate", "repetitions": reps,
             "threads": first.get("threads", 1), "aggregate_name": agg,
             "aggregate_unit": "percentage" if agg == "cv" else "time",
             "iterations": len(ok), "time_unit": first.get("time_unit", "ns")}
        for f in fields:
            v = [r[f] for r in ok if f in r]
            if len(v) != len(ok):
                continue
            mean = statistics.fmean(v)
            sd = statistics.stdev(v)
            e[f] = {"mean": mean, "median": statistics.median(v), "stddev": sd,
                    "cv": sd / mean if mean else 0.0}[agg]
        # Keep the key order google-benchmark uses: times, then counters.
        out.append(e)
    return out


def join(pieces, output, extra):
    """One pass written in pieces (scripts/bench runs the random-order and
    the registration-order benchmarks as two processes): their benchmarks
    in order, the first piece's context plus KEY=VALUE pairs."""
    reports = []
    for p in pieces:
        with open(p, encoding="utf-8") as f:
            reports.append(json.load(f))
    ctx = dict(reports[0].get("context", {}))
    for kv in extra:
        k, _, v = kv.partition("=")
        ctx[k] = v
    benchmarks = [b for r in reports for b in r.get("benchmarks", [])]
    with open(output, "w", encoding="utf-8") as f:
        json.dump({"context": ctx, "benchmarks": benchmarks}, f, indent=2)
        f.write("\n")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("passes", nargs="+", help="JSON of each pass, in run order")
    ap.add_argument("-o", "--output", required=True, help="the merged report")
    ap.add_argument("--join", action="store_true",
                    help="the inputs are pieces of one pass: concatenate them")
    ap.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                    help="with --join: add to the context")
    args = ap.parse_args()
    if args.join:
        return join(args.passes, args.output, args.context)

    reports = []
    for p in args.passes:
        with open(p, encoding="utf-8") as f:
            reports.append(json.load(f))
    n = len(reports)
    ctx = dict(reports[0].get("context", {}))
    ctx["bench.passes"] = str(n)
    for i, r in enumerate(reports):
        c = r.get("context", {})
        la = c.get("load_avg")
        if la:
            ctx[f"bench.load_avg.pass{i + 1}"] = " ".join(f"{x:.2f}" for x in la)
        # Load and CPU frequency at the start and end of each pass.
        for key in ("bench.cpu_mhz", "bench.load"):
            if key in c:
                ctx[f"{key}.pass{i + 1}"] = c[key]
    for key in ("bench.cpu_mhz", "bench.load"):
        ctx.pop(key, None)

    order, runs = [], {}
    for i, r in enumerate(reports):
        for b in r.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration":
                continue  # a pass with its own repetitions: keep only the runs
            e = dict(b)
            name = e.get("run_name", e["name"])
            if name not in runs:
                order.append(name)
                runs[name] = []
            e["repetition_index"] = len(runs[name])
            runs[name].append(e)
    benchmarks = []
    for name in order:
        reps = len(runs[name])
        for e in runs[name]:
            e["repetitions"] = reps
            benchmarks.append(e)
        benchmarks += aggregates(runs[name], reps)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump({"context": ctx, "benchmarks": benchmarks}, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
