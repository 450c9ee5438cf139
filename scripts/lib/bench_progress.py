#!/usr/bin/env python3
"""Progress for a long imcore-bench run: filters its console output.

Reads google-benchmark's console output on stdin (run it with
--benchmark_display_aggregates_only=true and --benchmark_color=false) and
prints one line per finished benchmark: [done/total elapsed ETA] and the
benchmark's median line (or its only line, or its error), dropping the
mean/stddev/cv aggregates (they are in the JSON). The context header is
passed through. Everything is also appended to --log if given. Standard
library only.
"""

import argparse
import re
import sys
import time

AGG = re.compile(r"^(?P<name>\S+?)_(?P<agg>mean|median|stddev|cv)\s")
RUN = re.compile(r"^(?P<name>\S+)\s+(?:\d|ERROR OCCURRED|SKIPPED)")


def clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--total", type=int, required=True, help="benchmarks in the run")
    ap.add_argument("--log", help="append the unfiltered output to this file")
    ap.add_argument("--no-eta", action="store_true",
                    help="no time estimate (interleaved repetitions finish in a burst at the end)")
    args = ap.parse_args()

    log = open(args.log, "a", encoding="utf-8") if args.log else None
    start = time.monotonic()
    done = set()
    in_table = False
    for raw in sys.stdin:
        if log:
            log.write(raw)
            log.flush()
        line = raw.rstrip("\n")
        if not in_table:
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
        elapsed = time.monotonic() - start
        k = len(done)
        width = len(str(args.total))
        eta = "" if args.no_eta else f" ETA {clock(elapsed / k * max(args.total - k, 0))}"
        print(f"[{k:>{width}}/{args.total} {clock(elapsed)}{eta}] {line}", flush=True)
    if log:
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
