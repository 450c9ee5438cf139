#!/usr/bin/env python3
"""Print the primitive floor of an imcore-bench JSON report as a table.

One row per primitive, one column per backend (median time per operation)
and the ratio of the first two backends (sodium/openssl: above 1 means
sodium is slower). With --markdown, the same table and the run's context
are written as Markdown. Standard library only.
"""

import argparse
import json
import os
import sys

PREFIX = "prim/"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def to_ns(value, unit):
    return value * {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]


def fmt_time(ns):
    if ns is None:
        return "-"
    value, unit = ns, "ns"
    for scale, name in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            value, unit = ns / scale, name
            break
    digits = 2 if value < 10 else 1 if value < 100 else 0
    return f"{value:.{digits}f} {unit}"


def collect(report):
    """Backends, the primitives in a merged order, {(backend, primitive): cell}.

    A cell is {"ns": median CPU time or None, "real_ns": the same in wall
    time, "error": message or None, "reps": repetitions}. The median
    aggregate is used when there is one; with a single repetition
    google-benchmark reports only the run itself.
    """
    cells = {}
    orders = {}  # backend -> primitives in report order
    for b in report.get("benchmarks", []):
        run = b.get("run_name", b["name"])
        if not run.startswith(PREFIX):
            continue
        parts = run[len(PREFIX):].split("/", 1)
        if len(parts) != 2:
            continue
        backend, prim = parts
        key = (backend, prim)
        cell = cells.setdefault(key, {"ns": None, "real_ns": None, "error": None, "reps": 0,
                                      "src": None})
        orders.setdefault(backend, [])
        if prim not in orders[backend]:
            orders[backend].append(prim)
        if b.get("error_occurred"):
            cell["error"] = b.get("error_message", "error")
            continue
        kind = b.get("run_type", "iteration")
        agg = b.get("aggregate_name")
        t = to_ns(b["cpu_time"], b.get("time_unit", "ns"))
        rt = to_ns(b["real_time"], b.get("time_unit", "ns"))
        if kind == "aggregate" and agg == "median":
            cell.update(ns=t, real_ns=rt, reps=b.get("repetitions", 0), src="median")
        elif kind == "iteration" and cell["src"] != "median":
            # No aggregates (one repetition, or aggregates not requested).
            cell.update(ns=t, real_ns=rt, reps=1, src="run")
    # Merge the per-backend orders: a primitive one backend lacks goes right
    # after its predecessor in the backend that has it.
    rows = []
    for backend in orders:
        prev = None
        for prim in orders[backend]:
            if prim not in rows:
                rows.insert(rows.index(prev) + 1 if prev is not None else 0, prim)
            prev = prim
    return list(orders), rows, cells


def build_table(report):
    backends, rows, cells = collect(report)
    header = ["primitive"] + backends
    ratio = len(backends) >= 2
    if ratio:
        header.append(f"{backends[0]}/{backends[1]}")
    body = []
    for prim in rows:
        line = [prim]
        vals = []
        for be in backends:
            c = cells.get((be, prim))
            if c is None:
                line.append("-")
                vals.append(None)
            elif c["error"] is not None:
                line.append("error: " + c["error"])
                vals.append(None)
            else:
                line.append(fmt_time(c["ns"]))
                vals.append(c["ns"])
        if ratio:
            a, b = vals[0], vals[1]
            line.append(f"{a / b:.2f}" if a and b else "-")
        body.append(line)
    reps = sorted({c["reps"] for c in cells.values() if c["ns"] is not None})
    # Wall time well above CPU time for a single-threaded primitive means
    # the thread was waiting for a CPU: the machine was busy.
    busy = sorted(f"{be}/{p}" for (be, p), c in cells.items()
                  if c["ns"] and c["real_ns"] and c["real_ns"] > 1.1 * c["ns"])
    measured = sum(1 for c in cells.values() if c["ns"])
    return backends, header, body, reps, (busy, measured)


def shim_overhead(report):
    """(C loop, native loop) median ns per iteration, if measured."""
    found = {}
    for b in report.get("benchmarks", []):
        run = b.get("run_name", b["name"])
        if run in ("shim/empty", "shim/empty-native") and not b.get("error_occurred"):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            found[run] = to_ns(b["cpu_time"], b.get("time_unit", "ns"))
    return found.get("shim/empty"), found.get("shim/empty-native")


def text_table(header, body):
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    def fmt(r):
        cols = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, len(r))]
        return "  ".join(cols).rstrip()
    out = [fmt(header), "  ".join("-" * w for w in widths)]
    out += [fmt(r) for r in body]
    return "\n".join(out)


def md_table(header, body):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|"]
    for r in body:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def lib_build(ctx):
    kind = ctx.get("library_build_type", "unknown")
    if kind == "debug":
        # Debian's libbenchmark is built without NDEBUG and so calls itself
        # "debug"; it runs only between batches, not in the timed loop.
        kind += " (as packaged; the library runs only outside the timed loop)"
    return kind


def context_lines(report, json_path, command, bench_command, order):
    ctx = report.get("context", {})
    names = [k[len("backend."):] for k in ctx
             if k.startswith("backend.") and not k.endswith(".caps")]
    # The table's column order first (the build's backend order).
    names.sort(key=lambda n: (order.index(n) if n in order else len(order), n))
    backends = []
    for name in names:
        caps = ctx.get(f"backend.{name}.caps")
        backends.append(f"{name}: {ctx['backend.' + name]}" + (f" (caps: {caps})" if caps else ""))
    mhz = ctx.get("mhz_per_cpu")
    cpu = ctx.get("cpu.model", "unknown")
    cpu += f", {ctx.get('num_cpus', '?')} logical CPUs" + (f" @ {mhz} MHz" if mhz else "")
    if ctx.get("cpu_scaling_enabled"):
        cpu += " (frequency scaling on: timings are noisier)"
    lines = [
        ("Date", ctx.get("date", "unknown")),
        ("Host", ctx.get("host_name", "unknown")),
        ("CPU", cpu),
        ("Backends", "; ".join(backends) if backends else "unknown"),
        ("Compiler", ctx.get("compiler", "unknown")),
        ("Build", f"{ctx.get('build.type', '?')}, C flags `{ctx.get('build.c_flags', '')}`"),
        ("imcore", f"{ctx.get('imcore.version', '?')}, commit `{ctx.get('imcore.commit', 'unknown')}`"),
        ("google-benchmark library build", lib_build(ctx)),
        ("Raw data", f"[{os.path.basename(json_path)}]({os.path.basename(json_path)})"),
    ]
    if command:
        lines.append(("Command", f"`{command}`"))
    if bench_command:
        lines.append(("Benchmark command", f"`{bench_command}`"))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", help="google-benchmark JSON written by imcore-bench")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    ap.add_argument("--command", default="", help="the command line that produced the run")
    ap.add_argument("--bench-command", default="", help="the exact imcore-bench invocation")
    args = ap.parse_args()

    report = load(args.json)
    backends, header, body, reps, busy = build_table(report)
    c_loop, native = shim_overhead(report)
    if reps and reps != [1]:
        what = "median of %s repetitions" % "/".join(map(str, reps))
    else:
        what = "single run"
    note = f"CPU time per operation ({what})."
    if len(backends) >= 2:  # a ratio column
        note += f" {header[-1]} is the time ratio: above 1, {header[1]} is slower."
    warn = ""
    busy, measured = busy
    if busy:
        warn = (f"Warning: wall time exceeded CPU time by over 10% for {len(busy)} of "
                f"{measured} benchmarks ({', '.join(busy[:4])}{', ...' if len(busy) > 4 else ''}): "
                "the machine was busy; rerun on a quiet one for numbers to keep.")
    shim = ""
    if c_loop is not None:
        shim = f"C shim loop overhead: {c_loop:.2f} ns/iteration"
        if native is not None:
            shim += f" (native google-benchmark loop: {native:.2f} ns)"

    if not body:
        print("bench_table: no prim/ results in " + args.json, file=sys.stderr)
    else:
        print()
        print("Primitive floor — " + note)
        print(text_table(header, body))
    if shim:
        print(shim)
    if warn:
        print(warn)

    if args.markdown:
        lines = ["# Benchmark results", "",
                 "Written by `scripts/bench` (`scripts/lib/bench_table.py`) from the run below; "
                 "regenerate rather than edit.", ""]
        for k, v in context_lines(report, args.json, args.command, args.bench_command,
                                  backends):
            lines.append(f"- **{k}:** {v}")
        lines += ["", "## Primitive floor", "", note, ""]
        lines.append(md_table(header, body) if body else "_No primitive results in this run._")
        if shim:
            lines += ["", shim + "."]
        if warn:
            lines += ["", "**" + warn + "**"]
        lines += ["", "Compare backends or runs with google-benchmark's `compare.py` "
                  "(Debian's python3 with python3-scipy), e.g.:", "",
                  "```sh",
                  f"/usr/bin/python3 /usr/share/benchmark/compare.py filters results/{os.path.basename(args.json)} "
                  "prim/sodium/ prim/openssl/",
                  "```", ""]
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return 0 if body else 1


if __name__ == "__main__":
    sys.exit(main())
