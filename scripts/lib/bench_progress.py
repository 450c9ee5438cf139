#!/usr/bin/env python3
"""Progress for a long imcore-bench run: filters its console output.

Reads google-benchmark's console output on stdin (run it with
--benchmark_display_aggregates_only=true and --benchmark_color=false) and
prints one line per finished benchmark: [pass, done/total, elapsed, ETA] and
the benchmark's median line (or its only line, or its error), dropping the
mean/stddev/cv aggregates (they are in the JSON). The context header is
passed through on the first pass. Elapsed time and ETA cover all passes of
the run (--pass, --passes, --start). Everything is also appended to --log if
given. Standard library only.
"""

import argparse
import re
import sys
import time

AGG = re.compile(r"^(?P<name>\S+?)_(?P<agg>mean|median|stddev|cv)\s")
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
RUN = re.compile(r"^(?P<name>\S+)\s+(?:\d|ERROR OCCURRED|SKIPPED)")


def clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total", type=int, required=True, help="benchmarks in one pass")
    ap.add_argument("--pass", dest="pass_", type=int, default=1, help="this pass (from 1)")
    ap.add_argument("--passes", type=int, default=1, help="passes in the run")
    ap.add_argument("--start", type=float, default=None,
                    help="the run's start (seconds since the epoch; default: now)")
    ap.add_argument("--log", help="append the unfiltered output to this file")
    args = ap.parse_args()

    log = open(args.log, "a", encoding="utf-8") if args.log else None
    start = args.start if args.start is not None else time.time()
    before = (args.pass_ - 1) * args.total  # benchmarks finished in earlier passes
    grand = args.passes * args.total
    done = set()
    in_table = False
    headers = 0
    for raw in sys.stdin:
        if log:
            log.write(raw)
            log.flush()
        line = raw.rstrip("\n")
        # A pass may run as several processes (scripts/bench): each prints
        # its context header (shown once) before its table.
        if DATE.match(line):
            in_table = False
            headers += 1
            if headers > 1:
                continue
        if not in_table:
            if args.pass_ == 1 and headers <= 1:
                print(line, flush=True)
            if line.startswith("Benchmark") and "Time" in line:
                in_table = True
            continue
            if args.pass_ == 1:
                print(line, flush=True)
            if line.startswith("Benchmark") and "Time" in line:
                in_table = True
            continue
        if not line.strip() or set(line.strip()) == {"-"}:
            continue
        m = AGG.match(line)
        if m:
            name, agg = m["name"], m["agg"]
            if agg != "median":
                continue
        else:
            m = RUN.match(line)
            if not m:
                print(line, flush=True)
                continue
            name = m["name"]
        if name in done:
            print(line, flush=True)
            continue
        done.add(name)
        elapsed = time.time() - start
        k = len(done)
        width = len(str(args.total))
        finished = before + k
        eta = f" ETA {clock(elapsed / finished * max(grand - finished, 0))}"
        where = f"{args.pass_}/{args.passes} " if args.passes > 1 else ""
        print(f"[{where}{k:>{width}}/{args.total} {clock(elapsed)}{eta}] {line}", flush=True)
    if log:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
