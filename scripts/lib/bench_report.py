#!/usr/bin/env python3
"""Tables and plots from an imcore-bench JSON report.

Reads google-benchmark JSON written by imcore-bench and writes
results/README.md (primitive floor, core paths with their overhead ratio,
fan-out and parsing, peers, thread scaling, directory, notes) and, with
--plots DIR, gnuplot plots (SVG and PNG) of the cost per message against
fan-out, the overhead ratios and the thread scaling.

The overhead ratio of a core path is its median CPU time divided by the sum
of the median CPU times of exactly the primitive calls it makes, all from
the same run. Which calls, with which lengths, is the library's recipe
(imcore/recipe.h, imc_msg_recipe), which imcore-bench writes into the
report's context (recipe.<path>/<suite>/...: "<count>*<prim/ name>;...");
nothing here knows the message layout. The benchmarks also report the same
ratio as an in-process counter (`overhead`); the two are compared as a
consistency check. Standard library only (gnuplot for the plots).
"""

import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_table as bt  # noqa: E402  (same directory)

TARGET = 1.05
LIB_DIR = os.path.dirname(os.path.abspath(__file__))
# Suite short name -> id, from the report's context (suite.<id>.<name>), for
# ordering; set by main().
SUITE_IDS = {}

RE = {
    "prim": re.compile(r"^prim/(?P<b>[^/]+)/(?P<p>.+)$"),
    "encrypt": re.compile(r"^encrypt/(?P<b>[^/]+)/(?P<s>[^/]+)/dev:(?P<n>\d+)/body:(?P<B>\d+)$"),
    "decrypt": re.compile(r"^decrypt/(?P<b>[^/]+)/(?P<s>[^/]+)/body:(?P<B>\d+)$"),
    "fanout": re.compile(r"^fanout/(?P<s>[^/]+)/dev:(?P<n>\d+)/body:(?P<B>\d+)$"),
    "penv": re.compile(r"^parse/envelope/(?P<s>[^/]+)/dev:(?P<n>\d+)/body:(?P<B>\d+)$"),
    "pdel": re.compile(r"^parse/delivery/(?P<s>[^/]+)/body:(?P<B>\d+)$"),
    "threads": re.compile(r"^threads/(?P<path>encrypt|decrypt)/(?P<b>[^/]+)/(?P<s>[^/]+)/"
                          r"(?:dev:(?P<n>\d+)/)?body:(?P<B>\d+)(?:/[a-z_]+)*?/threads:(?P<t>\d+)$"),
    "peer": re.compile(r"^peer/(?P<peer>[^/]+)/(?P<op>send|receive)/dev:(?P<n>\d+)/body:(?P<B>\d+)"
                       r"(?:/.*)?$"),
    "dir": re.compile(r"^dir/(?P<store>memory|lmdb)/(?P<op>lookup|batch|register)/"
                      r"handles:(?P<h>\d+)(?:/batch:(?P<k>\d+))?"),
    "dirget": re.compile(r"^dir/(?P<store>memory|lmdb)/get/handles:(?P<h>\d+)$"),
    "osrng": re.compile(r"^encrypt/(?P<b>[^/]+)/(?P<s>[^/]+)/dev:(?P<n>\d+)/body:(?P<B>\d+)"
                        r"/rng:os$"),
    "dirverify": re.compile(r"^dir/verify/(?P<b>[^/]+)/(?:entry|apply/entries:(?P<k>\d+))$"),
}


# ---- Loading ---------------------------------------------------------------

class Run:
    """Medians over the repetitions of one benchmark."""

    def __init__(self, name):
        self.name = name
        self.cpu = []      # ns per iteration
        self.real = []
        self.counters = {}  # name -> [values]
        self.error = None
        self.agg_cpu = None  # median aggregate, when no iteration entries
        self.agg_real = None
        self.agg_counters = {}

    @property
    def cpu_ns(self):
        return statistics.median(self.cpu) if self.cpu else self.agg_cpu

    @property
    def real_ns(self):
        return statistics.median(self.real) if self.real else self.agg_real

    @property
    def reps(self):
        return len(self.cpu) if self.cpu else (1 if self.agg_cpu is not None else 0)

    def counter(self, key):
        v = self.counters.get(key)
        if v:
            return statistics.median(v)
        return self.agg_counters.get(key)


COUNTER_SKIP = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads",
                "iterations", "real_time", "cpu_time", "time_unit", "family_index",
                "per_family_instance_index", "aggregate_name", "aggregate_unit", "label",
                "error_occurred", "error_message"}


def load_runs(report):
    runs = {}
    for b in report.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        r = runs.setdefault(name, Run(name))
        if b.get("error_occurred"):
            r.error = b.get("error_message", "error")
            continue
        unit = b.get("time_unit", "ns")
        kind = b.get("run_type", "iteration")
        counters = {k: v for k, v in b.items()
                    if k not in COUNTER_SKIP and isinstance(v, (int, float))}
        if kind == "iteration":
            r.cpu.append(bt.to_ns(b["cpu_time"], unit))
            r.real.append(bt.to_ns(b["real_time"], unit))
            for k, v in counters.items():
                r.counters.setdefault(k, []).append(v)
        elif b.get("aggregate_name") == "median":
            r.agg_cpu = bt.to_ns(b["cpu_time"], unit)
            r.agg_real = bt.to_ns(b["real_time"], unit)
            r.agg_counters = counters
    return runs


def ok_runs(runs, kind):
    """(match, run) for the error-free runs whose name matches RE[kind]."""
    out = []
    for name, r in runs.items():
        m = RE[kind].match(name)
        if m and r.error is None and r.cpu_ns is not None:
            out.append((m, r))
    return out


def backend_order(report, runs):
    ctx = report.get("context", {})
    order = [b for b in ctx.get("backends", "").split(",") if b]
    for m, _ in ok_runs(runs, "prim"):
        if m["b"] not in order:
            order.append(m["b"])
    return order


# ---- Floors -------------------------------------------------------------------

def parse_recipes(items):
    """{key: [(count, primitive)]} from recipe.<key> = "<count>*<prim>;..."
    pairs (the report's context, or imcore-bench --imc_recipes): the
    library's cost recipe of each core path (imcore/recipe.h), e.g. key
    encrypt/<suite>/dev:<N>/body:<B>, decrypt/<suite>/body:<B>, dir/lookup."""
    out = {}
    for k, v in items:
        if not k.startswith("recipe.") or not isinstance(v, str):
            continue
        parts = []
        for item in v.split(";"):
            count, _, prim = item.partition("*")
            parts.append((int(count), prim))
        out[k[len("recipe."):]] = parts
    return out


def recipes_of_binary(binary):
    """The recipes a benchmark binary records (imcore-bench --imc_recipes)."""
    res = subprocess.run([binary, "--imc_recipes"], capture_output=True, text=True, check=True)
    return parse_recipes(line.split("\t", 1) for line in res.stdout.splitlines() if "\t" in line)


def recipe(recipes, path, suite, n, body):
    """[(count, primitive)] of encrypt (n devices) or decrypt, or None."""
    key = (f"encrypt/{suite}/dev:{n}/body:{body}" if path == "encrypt"
           else f"decrypt/{suite}/body:{body}")
    return recipes.get(key)


def floor_ns(runs, backend, parts, best=False):
    """Sum of count x median CPU time of prim/<backend>/<p> (with best: the
    fastest repetition's), or None."""
    total = 0.0
    for count, p in parts:
        r = runs.get(f"prim/{backend}/{p}")
        if r is None or r.error is not None or r.cpu_ns is None or (best and not r.cpu):
            return None
        total += count * (min(r.cpu) if best else r.cpu_ns)
    return total


def section_fastest(runs, backends):
    """The "fastest per primitive" matrix: for every primitive of the floor,
    the fastest library and how much slower each other library is (median
    CPU time; the composite auto is left out, it only ever runs one of the
    others). Unknown backend names are kept, in run order."""
    libs = [b for b in backends if b != "auto"]
    prims = []
    for m, _ in ok_runs(runs, "prim"):
        if m["p"] not in prims:
            prims.append(m["p"])
    body = []
    for p in sorted(prims):
        t = {}
        for b in libs:
            r = runs.get(f"prim/{b}/{p}")
            if r is not None and r.error is None and r.cpu_ns is not None:
                t[b] = r.cpu_ns
        if len(t) < 2:
            continue
        best = min(t, key=t.get)
        row = [f"`{p}`", f"**{best}**", f"{t[best]:.0f}"]
        for b in libs:
            row.append("" if b not in t else ("1" if b == best else f"{t[b] / t[best]:.2f}"))
        body.append(row)
    if not body:
        return []
    header = ["primitive", "fastest", "ns"] + [f"x {b}" for b in libs]
    return ["## Fastest library per primitive", "",
            "For each primitive with at least two implementations: the fastest library here, "
            "its median CPU time, and every library's time as a multiple of it (blank: the "
            "library lacks the primitive).", "",
            bt.md_table(header, body), ""]


def core_rows(runs, recipes):
    """Rows for encrypt and decrypt: dicts with path, b, s, n, B, ns, floor, ratio,
    counter (in-process ratio)."""
    rows = []
    for path in ("encrypt", "decrypt"):
        for m, r in ok_runs(runs, path):
            n = int(m["n"]) if path == "encrypt" else 1
            body = int(m["B"])
            parts = recipe(recipes, path, m["s"], n, body)
            if parts is None:
                continue
            fl = floor_ns(runs, m["b"], parts)
            best = floor_ns(runs, m["b"], parts, best=True)
            rows.append({"path": path, "b": m["b"], "s": m["s"], "n": n, "B": body,
                         "ns": r.cpu_ns, "floor": fl,
                         "ratio": r.cpu_ns / fl if fl else None,
                         "best": min(r.cpu) / best if best and r.cpu else None,
                         "counter": r.counter("overhead"), "reps": r.reps})
    return rows


# ---- Formatting ----------------------------------------------------------------

def fmt_ratio(x):
    if x is None:
        return "-"
    s = f"{x:.3f}"
    return f"**{s}**" if x > TARGET else s


def fmt_rate(x):
    if x is None:
        return "-"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.3g}{suffix}/s"
    return f"{x:.3g}/s"


def fmt_bytes(n):
    n = int(n)
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"


def suite_sort_key(s):
    return SUITE_IDS.get(s, 99)


# ---- Sections ------------------------------------------------------------------

def section_core(rows, backends):
    """Encrypt and decrypt tables: per (suite, n, body), per backend time and ratio."""
    out = []
    for path in ("encrypt", "decrypt"):
        sel = [r for r in rows if r["path"] == path]
        if not sel:
            continue
        bes = [b for b in backends if any(r["b"] == b for r in sel)]
        keys = sorted({(r["s"], r["n"], r["B"]) for r in sel},
                      key=lambda k: (suite_sort_key(k[0]), k[1], k[2]))
        idx = {(r["b"], r["s"], r["n"], r["B"]): r for r in sel}
        header = ["suite"] + (["devices"] if path == "encrypt" else []) + ["body"]
        for b in bes:
            header += [f"{b}", f"{b} ratio"]
        body = []
        for s, n, B in keys:
            line = [s] + ([str(n)] if path == "encrypt" else []) + [fmt_bytes(B)]
            for b in bes:
                r = idx.get((b, s, n, B))
                line += [bt.fmt_time(r["ns"]) if r else "-", fmt_ratio(r["ratio"]) if r else "-"]
            body.append(line)
        title = ("Encrypt (one envelope for N devices)" if path == "encrypt"
                 else "Decrypt (one delivery on one device)")
        out += [f"### {title}", "", bt.md_table(header, body), ""]
    return out


def section_fanout(runs):
    fan = {(m["s"], int(m["n"]), int(m["B"])): r for m, r in ok_runs(runs, "fanout")}
    penv = {(m["s"], int(m["n"]), int(m["B"])): r for m, r in ok_runs(runs, "penv")}
    pdel = {(m["s"], int(m["B"])): r for m, r in ok_runs(runs, "pdel")}
    if not fan and not penv and not pdel:
        return []
    out = ["## Fan-out and parsing (no keys, no crypto)", "",
           "Service side: `imc_msg_fanout` (strict parse, then one delivery view per device, "
           "pointing into the envelope) and the strict parsers alone. Median CPU time per call "
           "and per device; these paths have no primitive floor.", ""]
    keys = sorted(set(fan) | set(penv), key=lambda k: (suite_sort_key(k[0]), k[1], k[2]))
    body = []
    for k in keys:
        f, p = fan.get(k), penv.get(k)
        body.append([k[0], str(k[1]), fmt_bytes(k[2]),
                     bt.fmt_time(f.cpu_ns) if f else "-",
                     bt.fmt_time(f.cpu_ns / k[1]) if f else "-",
                     bt.fmt_time(p.cpu_ns) if p else "-",
                     bt.fmt_time(p.cpu_ns / k[1]) if p else "-"])
    if body:
        out += [bt.md_table(["suite", "devices", "body", "fanout", "per device",
                             "parse envelope", "per device"], body), ""]
    if pdel:
        body = [[k[0], fmt_bytes(k[1]), bt.fmt_time(r.cpu_ns)]
                for k, r in sorted(pdel.items(), key=lambda kv: (suite_sort_key(kv[0][0]),
                                                                  kv[0][1]))]
        out += ["Delivery parse (what `imc_msg_decrypt` does first):", "",
                bt.md_table(["suite", "body", "parse delivery"], body), ""]
    return out


def peer_rows(runs):
    """{(peer, op, n, B): run}."""
    return {(m["peer"], m["op"], int(m["n"]), int(m["B"])): r for m, r in ok_runs(runs, "peer")}


def per_iteration_items(run):
    """Items per iteration of a run (items_per_second x seconds per iteration),
    or None: tells whether a peer's receive covers one device or all of them."""
    ips = run.counter("items_per_second")
    if not ips or run.cpu_ns is None:
        return None
    return ips * run.cpu_ns / 1e9


def peer_receive_per_device(run, n):
    """A peer's receive time for one device: its time, divided by n when one
    iteration receives on every device (its items per iteration say so)."""
    items = per_iteration_items(run)
    if items is not None and n > 1 and abs(items - n) / n < 0.05:
        return run.cpu_ns / n
    return run.cpu_ns


def section_peers(runs, rows, backends):
    peers = peer_rows(runs)
    out = ["## Peers", ""]
    if not peers:
        return out + ["_No peer benchmarks in this run (bench/peers/ not built, or filtered "
                      "out)._", ""]
    names = sorted({k[0] for k in peers})
    enc = {(r["b"], r["n"], r["B"]): r["ns"] for r in rows
           if r["path"] == "encrypt" and r["s"] == "x25519-ed25519-chacha"}
    dec = {(r["b"], r["B"]): r["ns"] for r in rows
           if r["path"] == "decrypt" and r["s"] == "x25519-ed25519-chacha"}
    # The two library backends (the composite auto is in the tables above);
    # any other backend only if neither was measured.
    bes = [b for b in backends if b in ("sodium", "openssl") and any(k[0] == b for k in enc)]
    bes = bes or [b for b in backends if any(k[0] == b for k in enc)]
    out += ["imcore (suite 1, `x25519-ed25519-chacha`) against the two peer designs of "
            "the project, in the same run: `naive-sodium` (one `crypto_box_seal` and one "
            "signature per device copy) and `imessage2011-rsa1280/rsa2048` (whole message "
            "AES-CTR-encrypted, key RSA-OAEP-wrapped and ECDSA-signed per device). Median CPU "
            "time per message; a `× <backend>` column is the peer's time divided by imcore's on "
            "that backend (above 1: imcore is cheaper).", ""]
    for op in ("send", "receive"):
        keys = sorted({(k[2], k[3]) for k in peers if k[1] == op})
        if not keys:
            continue
        header = ["devices", "body"]
        header += [f"imcore {b}" for b in bes]
        for p in names:
            header.append(p)
            header += [f"× {b}" for b in bes]
        body = []
        for n, B in keys:
            line = [str(n), fmt_bytes(B)]
            mine = []
            for b in bes:
                v = enc.get((b, n, B)) if op == "send" else dec.get((b, B))
                mine.append(v)
                line.append(bt.fmt_time(v) if v else "-")
            for p in names:
                r = peers.get((p, op, n, B))
                v = None
                if r is not None:
                    v = r.cpu_ns if op == "send" else peer_receive_per_device(r, n)
                line.append(bt.fmt_time(v) if v else "-")
                for x in mine:
                    line.append(f"{v / x:.2f}" if v and x else "-")
            body.append(line)
        what = ("Send: imcore `encrypt` for N devices against the peer's send for N devices"
                if op == "send" else
                "Receive, one device: imcore `decrypt` of one delivery against the peer's "
                "receive of its copy")
        out += [f"### {what}", "", bt.md_table(header, body), ""]
    return out


def thread_rows(runs):
    """[(path, backend, suite, threads, items/s, devices, body, CPU ns per
    message summed over the threads)] from the threads/ runs."""
    rows = []
    for m, r in ok_runs(runs, "threads"):
        rows.append((m["path"], m["b"], m["s"], int(m["t"]), r.counter("items_per_second"),
                     m["n"], int(m["B"]), r.cpu_ns))
    return rows


def section_threads(runs, backends, nproc):
    rows = thread_rows(runs)
    if not rows:
        return []
    out = ["## Thread scaling", "",
           f"Throughput of T threads each running the path on its own buffers (suite 1, "
           f"8 devices for encrypt, 1 KiB body), wall-clock; efficiency = "
           f"throughput(T) / (T × throughput(1)). This machine has {nproc} logical CPUs. "
           f"*CPU per message* is the CPU time of all threads divided by the messages: if it "
           f"stays flat as T grows, the threads do not slow each other down inside imcore "
           f"(no locks, no shared writes), whatever the machine's other load does to the "
           f"wall-clock throughput.", ""]
    base = {(r[0], r[1]): r for r in rows if r[3] == 1}
    order = {b: i for i, b in enumerate(backends)}
    body = []
    for p, b, s, t, v, _, _, cpu in sorted(rows, key=lambda x: (x[0] != "encrypt",
                                                                order.get(x[1], 99), x[3])):
        b1 = base.get((p, b))
        eff = v / (t * b1[4]) if v and b1 and b1[4] else None
        rel = cpu / b1[7] if cpu and b1 and b1[7] else None
        body.append([p, b, str(t), fmt_rate(v), f"{eff:.2f}" if eff is not None else "-",
                     bt.fmt_time(cpu), f"{rel:.2f}" if rel is not None else "-"])
    out += [bt.md_table(["path", "backend", "threads", "messages/s", "efficiency",
                         "CPU per message", "vs 1 thread"], body), ""]
    return out


def section_dir(runs, backends, recipes):
    look = ok_runs(runs, "dir")
    ver = ok_runs(runs, "dirverify")
    if not look and not ver and not ok_runs(runs, "dirget"):
        return []
    dir_b = backends[0] if backends else None
    sign_prim = (recipes.get("dir/lookup") or [(1, "ed25519-sign/?")])[0][1]
    verify_prim = (recipes.get("dir/verify") or [(1, "ed25519-verify/?")])[0][1]
    sign = runs.get(f"prim/{dir_b}/{sign_prim}") if dir_b else None
    sign_ns = sign.cpu_ns if sign is not None and sign.error is None else None
    out = ["## Key directory", "",
           f"Service lookups sign every entry ({sign_prim}, on the "
           f"directory's backend `{dir_b}`); the ratio divides by that many signatures. Client "
           "verification divides by Ed25519 verifications of the same input on its backend.",
           ""]
    def best(r, fr, k):
        if r.reps < 2 or fr is None or not r.cpu or not fr.cpu:
            return "-"
        return fmt_ratio(min(r.cpu) / (k * min(fr.cpu)))

    body = []
    for m, r in sorted(look, key=lambda x: x[0].string):
        k = int(m["k"]) if m["k"] else 1
        fl = k * sign_ns if sign_ns and m["op"] != "register" else None
        per_handle = r.counter("bytes_per_handle")
        body.append([m.string, bt.fmt_time(r.cpu_ns), bt.fmt_time(r.real_ns),
                     bt.fmt_time(r.cpu_ns / k),
                     fmt_ratio(r.cpu_ns / fl) if fl else "-",
                     best(r, sign, k) if fl else "-",
                     f"{1e9 * k / r.cpu_ns:,.0f}" if m["op"] != "register" else "-",
                     f"{per_handle:.0f} B" if per_handle else "-"])
    for m, r in sorted(ver, key=lambda x: x[0].string):
        k = int(m["k"]) if m["k"] else 1
        v = runs.get(f"prim/{m['b']}/{verify_prim}")
        ok = v is not None and v.error is None and v.cpu_ns
        fl = k * v.cpu_ns if ok else None
        body.append([m.string, bt.fmt_time(r.cpu_ns), bt.fmt_time(r.real_ns),
                     bt.fmt_time(r.cpu_ns / k),
                     fmt_ratio(r.cpu_ns / fl) if fl else "-", best(r, v, k) if ok else "-",
                     "-", "-"])
    out += [bt.md_table(["benchmark", "per call", "wall per call", "per entry", "ratio",
                         "best of repetitions", "lookups / core-s", "memory / handle"], body), "",
            "*Per call* is CPU time, *wall per call* elapsed time (for LMDB registrations it "
            "includes the fsync of every commit). *Memory / handle*: resident memory added by "
            "building the store, per handle (in memory), or the LMDB file size per handle.", ""]
    out += section_dir_store(runs, sign_ns)
    return out


def section_dir_store(runs, sign_ns):
    """The store's own lookup (dir/<store>/get/...) beside the signed lookup
    of the same directory: what the store costs and what signing costs."""
    gets = ok_runs(runs, "dirget")
    if not gets:
        return []
    look = {(m["store"], m["h"]): r for m, r in ok_runs(runs, "dir") if m["op"] == "lookup"}
    body = []
    for m, r in sorted(gets, key=lambda x: (x[0]["store"], int(x[0]["h"]))):
        lk = look.get((m["store"], m["h"]))
        hits = r.counter("hits")
        share = "-"
        if lk is not None and lk.cpu_ns:
            share = f"{r.cpu_ns / lk.cpu_ns * 100:.1f}%"
        per_handle = r.counter("bytes_per_handle")
        body.append([m["store"], f"{int(m['h']):,}", bt.fmt_time(r.cpu_ns),
                     bt.fmt_time(r.real_ns), f"{1e9 / r.cpu_ns:,.0f}",
                     f"{per_handle:.0f} B" if per_handle else "-",
                     bt.fmt_time(lk.cpu_ns) if lk else "-",
                     bt.fmt_time(sign_ns) if sign_ns else "-", share,
                     "every one" if hits else "-"])
    return ["### The store alone", "",
            "`dir/<store>/get/handles:N`: one read transaction and one get of a random "
            "existing handle, what a lookup does before it signs; each run checks that every "
            "get found its record (and every signed lookup above that it was not the answer "
            "for an unknown handle). Median CPU time, and wall time beside it: a store larger "
            "than the machine's memory waits on the disk. LMDB's get runs on a file that "
            "holds the handles table alone (*bytes / handle* is its size per handle; a whole "
            "directory, transparency log included, is larger: the lookup rows' *memory / "
            "handle* above); the B-tree it reads is the lookup's.", "",
            bt.md_table(["store", "handles", "get", "wall per get", "gets / core-s",
                         "bytes / handle", "signed lookup", "Ed25519 sign (floor)",
                         "store share of the lookup", "hits"], body), ""]


def section_latency(runs, rows, backends):
    """p50 / p99 / p99.9 of single calls (wall clock) beside the median CPU
    time, for decrypt and for encrypt at 8 devices."""
    sel = [r for r in rows if (r["path"] == "decrypt" or r["n"] == 8)]
    body = []
    order = {b: i for i, b in enumerate(backends)}
    for r in sorted(sel, key=lambda r: (r["path"] != "encrypt", order.get(r["b"], 99),
                                        suite_sort_key(r["s"]), r["B"])):
        name = (f"encrypt/{r['b']}/{r['s']}/dev:{r['n']}/body:{r['B']}" if r["path"] == "encrypt"
                else f"decrypt/{r['b']}/{r['s']}/body:{r['B']}")
        run = runs.get(name)
        p50, p99, p999 = (run.counter(k) if run else None for k in ("p50_us", "p99_us", "p999_us"))
        n = run.counter("lat_samples") if run else None
        if p50 is None:
            continue
        body.append([f"`{name}`", bt.fmt_time(r["ns"]), bt.fmt_time(p50 * 1e3),
                     bt.fmt_time(p99 * 1e3), bt.fmt_time(p999 * 1e3),
                     f"{p99 / p50:.2f}", f"{n:,.0f}" if n else "-"])
    if not body:
        return []
    return ["## Latency of single calls", "",
            "Every single-threaded encrypt and decrypt run times each call (wall clock, one "
            "monotonic clock read, about 35 ns, before and after) and reports its percentiles; "
            "the table gives the median over the repetitions of each percentile, beside the "
            "median CPU time per call. Wall clock: a call the scheduler preempted counts as "
            "slow, as its caller would see it. On a shared machine p99 and p99.9 are dominated "
            "by that (a preemption lasts a time slice, milliseconds); p50 is the path's own "
            "cost. *samples*: calls timed per repetition.", "",
            bt.md_table(["path", "CPU time (median)", "p50", "p99", "p99.9", "p99 / p50",
                         "samples"], body), ""]


def section_os_rng(runs, rows, backends):
    """encrypt on the backend's CSPRNG against the deterministic generator."""
    det = {(r["b"], r["s"], r["n"], r["B"]): r["ns"] for r in rows if r["path"] == "encrypt"}
    order = {b: i for i, b in enumerate(backends)}
    body = []
    for m, r in sorted(ok_runs(runs, "osrng"),
                       key=lambda x: (order.get(x[0]["b"], 99), suite_sort_key(x[0]["s"]),
                                      int(x[0]["n"]), int(x[0]["B"]))):
        d = det.get((m["b"], m["s"], int(m["n"]), int(m["B"])))
        body.append([m["b"], m["s"], m["n"], fmt_bytes(m["B"]), bt.fmt_time(d) if d else "-",
                     bt.fmt_time(r.cpu_ns), f"{(r.cpu_ns / d - 1) * 100:+.1f}%" if d else "-"])
    if not body:
        return []
    return ["### Encrypt on the production random source", "",
            "The tables above draw encrypt's message id, content key and ephemeral key from "
            "the deterministic generator (the same work in every run); production draws them "
            "from the backend's CSPRNG (the OS generator), here `encrypt/.../rng:os`. Median "
            "CPU time; the difference is the random source's cost (and noise).", "",
            bt.md_table(["backend", "suite", "devices", "body", "deterministic", "OS CSPRNG",
                         "difference"], body), ""]


def section_instructions(resdir):
    """The instruction overhead ratio from the committed gate baseline."""
    path = os.path.join(resdir, "baseline", "instructions.json")
    if not os.path.exists(path):
        return []
    import bench_instr  # noqa: E402  (imports this module: only when needed)
    return bench_instr.markdown_section(path)


def e2e_series(runs, rows, backends):
    """Cost per message against fan-out (body 1 KiB if measured, else the
    largest): {label: [(n, send_us, total_us)]}; total = sender + service +
    every device's receive."""
    bodies = sorted({r["B"] for r in rows if r["path"] == "encrypt"})
    if not bodies:
        return None, {}
    B = 1024 if 1024 in bodies else bodies[-1]
    fan = {(m["s"], int(m["n"]), int(m["B"])): r.cpu_ns for m, r in ok_runs(runs, "fanout")}
    dec = {(r["b"], r["s"], r["B"]): r["ns"] for r in rows if r["path"] == "decrypt"}
    series = {}
    order = {b: i for i, b in enumerate(backends)}
    for r in sorted((r for r in rows if r["path"] == "encrypt" and r["B"] == B),
                    key=lambda r: (order.get(r["b"], 99), suite_sort_key(r["s"]), r["n"])):
        label = f"imcore {r['b']} {r['s']}"
        d = dec.get((r["b"], r["s"], B))
        f = fan.get((r["s"], r["n"], B), 0.0)
        total = (r["ns"] + f + r["n"] * d) / 1e3 if d else None
        series.setdefault(label, []).append((r["n"], r["ns"] / 1e3, total))
    peers = peer_rows(runs)
    for p in sorted({k[0] for k in peers}):
        pts = []
        for n in sorted({k[2] for k in peers if k[0] == p and k[3] == B}):
            s = peers.get((p, "send", n, B))
            # Receive does not depend on the fan-out: one device's copy.
            rcv = peers.get((p, "receive", n, B)) or peers.get((p, "receive", 1, B))
            if s is None:
                continue
            total = (s.cpu_ns + n * peer_receive_per_device(rcv, n)) / 1e3 if rcv else None
            pts.append((n, s.cpu_ns / 1e3, total))
        if pts:
            series[f"peer {p}"] = pts
    return B, series


def section_e2e(B, series, plotted):
    if not series:
        return []
    ns = sorted({n for pts in series.values() for n, _, _ in pts})
    out = ["## Cost per message against fan-out", "",
           f"Body {fmt_bytes(B)}. Sender: encrypt (imcore) or send (peers), CPU time per message. "
           "End to end: sender + service split (imcore `fanout`) + every device's receive "
           "(imcore: N × `decrypt`)." + (" Plotted in [fanout.svg](fanout.svg)." if plotted else ""),
           ""]
    header = ["series"] + [f"{n} dev" for n in ns]
    body_s, body_t = [], []
    for label, pts in series.items():
        d = {n: (s, t) for n, s, t in pts}
        body_s.append([label] + [bt.fmt_time(d[n][0] * 1e3) if n in d else "-" for n in ns])
        body_t.append([label] + [bt.fmt_time(d[n][1] * 1e3) if n in d and d[n][1] else "-"
                                 for n in ns])
    out += ["Sender, per message:", "", bt.md_table(header, body_s), "",
            "End to end, per message:", "", bt.md_table(header, body_t), ""]
    return out


# ---- Plots --------------------------------------------------------------------------

def write_blocks(path, blocks):
    """gnuplot data: one block per series, a quoted title line first, blocks
    separated by two blank lines (select with `index i`)."""
    with open(path, "w", encoding="utf-8") as f:
        for i, (title, points) in enumerate(blocks):
            if i:
                f.write("\n\n")
            f.write('"x" "%s"\n' % title.replace('"', "'"))
            for p in points:
                f.write(" ".join("NaN" if v is None else repr(float(v)) for v in p) + "\n")


class PlotError(Exception):
    """gnuplot failed: the report must not claim a plot it could not draw."""


def gnuplot(script, out_base, params, log):
    made = []
    for fmt in ("svg", "png"):
        out = f"{out_base}.{fmt}"
        assigns = [f"fmt='{fmt}'", f"out='{out}'", f"libdir='{LIB_DIR}'"]
        for k, v in params.items():
            assigns.append(f"{k}='{v}'" if isinstance(v, str) else f"{k}={v}")
        cmd = ["gnuplot", "-e", "; ".join(assigns), os.path.join(LIB_DIR, script)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            remove_plot(out_base)  # no half-drawn file left behind
            raise PlotError(f"gnuplot {script} ({fmt}) failed: {res.stderr.strip()}")
        made.append(out)
    return made


def remove_plot(out_base):
    for fmt in ("svg", "png"):
        if os.path.exists(f"{out_base}.{fmt}"):
            os.remove(f"{out_base}.{fmt}")


def skip_plot(out_base, why, log):
    """A plot whose panels this run has no data for is not drawn (gnuplot
    would draw an empty or broken panel), and an older one of that name in
    the directory is removed so that it cannot pass for this run's."""
    remove_plot(out_base)
    log(f"bench_report: no {os.path.basename(out_base)} plot: {why}")


class Styles:
    """A colour per backend or peer and a point type per suite or path, so
    that the same thing looks the same in every plot."""

    POINTS = {"x25519-ed25519-chacha": 7, "p256-ecdsa-aesgcm": 5, "x25519-ed25519-aesgcm": 9,
              "encrypt": 7, "decrypt": 5}

    def __init__(self, backends):
        self.colors = {b: i + 1 for i, b in enumerate(backends)}

    def color(self, who):
        if who not in self.colors:
            self.colors[who] = len(self.colors) + 1
        return self.colors[who]

    def strings(self, keys):
        """keys: [(who, kind)] in block order -> (colors, points) parameters."""
        return (" ".join(str(self.color(w)) for w, _ in keys) or "1",
                " ".join(str(self.POINTS.get(k, 11)) for _, k in keys) or "7")


def series_key(label):
    """'imcore sodium x25519-...' -> ('sodium', suite); 'peer naive-sodium' ->
    ('peer naive-sodium', 'peer')."""
    parts = label.split()
    if parts[0] == "imcore":
        return parts[1], parts[2]
    return label, "peer"


def make_plots(outdir, runs, rows, backends, B, series, log):
    if shutil.which("gnuplot") is None:
        log("bench_report: gnuplot not found; no plots")
        return []
    made = []
    sty = Styles(backends)
    tmp = tempfile.mkdtemp(prefix="imcore-plot-")
    try:
        send = [(label, [(n, s) for n, s, _ in pts]) for label, pts in series.items()]
        tot = [(label, [(n, t) for n, _, t in pts if t]) for label, pts in series.items()]
        tot = [b for b in tot if b[1]]
        if not send or not tot:
            skip_plot(os.path.join(outdir, "fanout"), "this run has no sender results"
                      if not send else "this run has no end-to-end results", log)
        else:
            c1, p1 = sty.strings([series_key(label) for label, _ in send])
            c2, p2 = sty.strings([series_key(label) for label, _ in tot])
            write_blocks(os.path.join(tmp, "send.dat"), send)
            write_blocks(os.path.join(tmp, "total.dat"), tot or [("none", [(1, None)])])
            xmax = max(n for _, pts in send for n, _ in pts)
            made += gnuplot("plot_fanout.gp", os.path.join(outdir, "fanout"),
                            {"send": os.path.join(tmp, "send.dat"), "nsend": len(send),
                             "total": os.path.join(tmp, "total.dat"), "ntotal": len(tot),
                             "colors": c1, "points": p1, "colors2": c2, "points2": p2,
                             "xmax": xmax, "body": fmt_bytes(B)}, log)
        enc = [r for r in rows if r["path"] == "encrypt" and r["ratio"] is not None]
        dec = [r for r in rows if r["path"] == "decrypt" and r["ratio"] is not None]
        if not enc or not dec:
            skip_plot(os.path.join(outdir, "overhead"), "this run has no "
                      + ("encrypt" if not enc else "decrypt") + " overhead ratios", log)
        else:
            order = {b: i for i, b in enumerate(backends)}
            eb = sorted({(r["b"], r["s"]) for r in enc},
                        key=lambda k: (order.get(k[0], 99), suite_sort_key(k[1])))
            ebody = 1024 if any(r["B"] == 1024 for r in enc) else max((r["B"] for r in enc),
                                                                      default=0)
            eblocks = [(f"{b} {s}", sorted((r["n"], r["ratio"]) for r in enc
                                           if r["b"] == b and r["s"] == s and r["B"] == ebody))
                       for b, s in eb]
            db = sorted({(r["b"], r["s"]) for r in dec},
                        key=lambda k: (order.get(k[0], 99), suite_sort_key(k[1])))
            dblocks = [(f"{b} {s}", sorted((r["B"], r["ratio"]) for r in dec
                                           if r["b"] == b and r["s"] == s)) for b, s in db]
            # The best-of-repetitions ratios, drawn dotted in the same colours.
            ebest = [(f"{b} {s}", sorted((r["n"], r["best"]) for r in enc
                                         if r["b"] == b and r["s"] == s and r["B"] == ebody))
                     for b, s in eb]
            dbest = [(f"{b} {s}", sorted((r["B"], r["best"]) for r in dec
                                         if r["b"] == b and r["s"] == s)) for b, s in db]
            has_best = all(v is not None for _, pts in ebest + dbest for _, v in pts)
            c1, p1 = sty.strings(eb)
            c2, p2 = sty.strings(db)
            write_blocks(os.path.join(tmp, "enc.dat"), eblocks or [("none", [(1, None)])])
            write_blocks(os.path.join(tmp, "dec.dat"), dblocks or [("none", [(64, None)])])
            write_blocks(os.path.join(tmp, "encb.dat"), ebest or [("none", [(1, None)])])
            write_blocks(os.path.join(tmp, "decb.dat"), dbest or [("none", [(64, None)])])
            allr = [r["ratio"] for r in enc + dec]
            if has_best:
                allr += [r["best"] for r in enc + dec]
            ymax = max(allr + [TARGET])
            ymin = min(allr + [0.9])
            made += gnuplot("plot_overhead.gp", os.path.join(outdir, "overhead"),
                            {"enc": os.path.join(tmp, "enc.dat"), "nenc": len(eblocks),
                             "dec": os.path.join(tmp, "dec.dat"), "ndec": len(dblocks),
                             "encb": os.path.join(tmp, "encb.dat"),
                             "decb": os.path.join(tmp, "decb.dat"),
                             "best": 1 if has_best else 0,
                             "colors": c1, "points": p1, "colors2": c2, "points2": p2,
                             "xmax": max((r["n"] for r in enc), default=1),
                             "ymax": math.ceil(ymax * 20 + 0.5) / 20,
                             "ymin": math.floor(ymin * 20 - 0.5) / 20,
                             "body": fmt_bytes(ebody), "target": TARGET}, log)
        trows = thread_rows(runs)
        if not trows:
            skip_plot(os.path.join(outdir, "threads"), "this run has no thread scaling", log)
        else:
            order = {b: i for i, b in enumerate(backends)}
            keys = sorted({(p, b) for p, b, *_ in trows},
                          key=lambda k: (k[0] != "encrypt", order.get(k[1], 99)))
            tp, ef = [], []
            for p, b in keys:
                pts = sorted((r[3], r[4]) for r in trows if r[0] == p and r[1] == b and r[4])
                base = next((v for t, v in pts if t == 1), None)
                tp.append((f"{p} {b}", pts))
                ef.append((f"{p} {b}", [(t, v / (t * base)) for t, v in pts] if base else []))
            c1, p1 = sty.strings([(b, p) for p, b in keys])
            write_blocks(os.path.join(tmp, "tp.dat"), tp)
            write_blocks(os.path.join(tmp, "eff.dat"), ef)
            made += gnuplot("plot_threads.gp", os.path.join(outdir, "threads"),
                            {"tp": os.path.join(tmp, "tp.dat"), "eff": os.path.join(tmp, "eff.dat"),
                             "n": len(tp), "colors": c1, "points": p1,
                             "maxt": max(r[3] for r in trows)}, log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return made


# ---- Notes ----------------------------------------------------------------------------

def section_elsewhere(resdir):
    """The other jobs' results next to this report: the scale projection
    (copied from scale/SUMMARY.md, which scripts/scale-curve writes) and
    links to the fuzzing summaries. They come from their own runs and
    scripts, named in their files."""
    lines = []
    summary = os.path.join(resdir, "scale", "SUMMARY.md")
    if os.path.exists(summary):  # its links are relative to results/ already
        with open(summary, encoding="utf-8") as f:
            lines += [l for l in f.read().splitlines() if not l.startswith("<!--")] + [""]
    fuzz = [n for n in ("fuzz-libfuzzer.md", "fuzz-afl.md", "fuzz-coverage.txt")
            if os.path.exists(os.path.join(resdir, n))]
    if fuzz:
        lines += ["Fuzzing: " + ", ".join(f"[{n}]({n})" for n in fuzz) + ".", ""]
    if not lines:
        return []
    return ["## Scale and fuzzing", "",
            "From their own runs, not this one (`scripts/scale-curve`, `scripts/fuzz`, "
            "`scripts/fuzz-coverage`; each file names its run).", ""] + lines


def above_target(rows):
    return sorted((r for r in rows if r["ratio"] is not None and r["ratio"] > TARGET),
                  key=lambda r: -r["ratio"])


def counter_check(rows):
    """Largest relative gap between the post-processed ratio and the
    in-process counter, over the rows that have both."""
    gaps = [abs(r["ratio"] - r["counter"]) / r["ratio"] for r in rows
            if r["ratio"] and r["counter"]]
    return (max(gaps), len(gaps)) if gaps else (None, 0)


def ratio_summary(rows, backends):
    """Per (path, backend): (min, median, max) of the ratio, the same of the
    best-of-repetitions ratio (None without repetitions), and the count."""
    out = []
    for path in ("encrypt", "decrypt"):
        for b in backends:
            sel = [r for r in rows if r["path"] == path and r["b"] == b and r["ratio"]]
            if not sel:
                continue
            v = [r["ratio"] for r in sel]
            w = [r["best"] for r in sel if r["best"] and r["reps"] > 1]
            out.append((path, b, min(v), statistics.median(v), max(v),
                        (min(w), statistics.median(w), max(w)) if w else None, len(v)))
    return out


# ---- Main -------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", help="google-benchmark JSON written by imcore-bench")
    ap.add_argument("--markdown", metavar="FILE", help="write the report as Markdown")
    ap.add_argument("--plots", metavar="DIR", help="write fanout/overhead/threads .svg and .png")
    ap.add_argument("--notes", metavar="FILE", default=os.path.join(LIB_DIR, "bench_notes.md"),
                    help="hand-written notes appended to the report (default: %(default)s)")
    ap.add_argument("--command", default="", help="the command line that produced the run")
    ap.add_argument("--bench-command", default="", help="the exact imcore-bench invocation")
    ap.add_argument("--wall", default="", help="wall time of the run, for the report")
    args = ap.parse_args()

    report = bt.load(args.json)
    runs = load_runs(report)
    backends = backend_order(report, runs)
    ctx = report.get("context", {})
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731

    fb, fheader, fbody, reps, busy = bt.build_table(report)
    recipes = parse_recipes(ctx.items())
    for k in ctx:
        parts = k.split(".", 2)
        if len(parts) == 3 and parts[0] == "suite" and parts[1].isdigit():
            SUITE_IDS[parts[2]] = int(parts[1])
    rows = core_rows(runs, recipes)
    B, series = e2e_series(runs, rows, backends)
    summary = ratio_summary(rows, backends)
    high = above_target(rows)
    gap, ngap = counter_check(rows)
    passes = int(ctx.get("bench.passes", "1")) > 1
    errors = sorted((n, r.error) for n, r in runs.items() if r.error)

    # Console: the headline figures.
    print()
    if summary:
        print(f"Overhead ratio (CPU time / sum of primitive floors, target <= {TARGET}):")
        print(bt.text_table(["path", "backend", "min", "median", "max", "best-of-reps median",
                             "benchmarks"],
                            [[p, b, f"{lo:.3f}", f"{md:.3f}", f"{hi:.3f}",
                              f"{bst[1]:.3f}" if bst else "-", str(k)]
                             for p, b, lo, md, hi, bst, k in summary]))
        if high:
            print(f"{len(high)} above {TARGET}: " + ", ".join(
                f"{r['path']}/{r['b']}/{r['s']}/" + (f"dev:{r['n']}/" if r['path'] == 'encrypt'
                                                     else "") + f"body:{r['B']}={r['ratio']:.3f}"
                for r in high[:6]) + (" ..." if len(high) > 6 else ""))
        if gap is not None:
            print(f"In-process overhead counters agree with the recomputed ratios within "
                  f"{gap * 100:.2f}% ({ngap} benchmarks)" +
                  (" (each pass's counter divides by that pass's floors)." if passes else "."))
    else:
        print("No core-path results with their floors in this run.")
    for n, e in errors:
        print(f"error: {n}: {e}")

    made = []
    if args.plots:
        os.makedirs(args.plots, exist_ok=True)
        try:
            made = make_plots(args.plots, runs, rows, backends, B, series, log)
        except PlotError as e:
            log(f"bench_report: {e}")
            return 1

    if not args.markdown:
        return 0 if runs else 1

    jname = os.path.basename(args.json)
    jpath = os.path.relpath(args.json, os.path.dirname(os.path.dirname(LIB_DIR)))  # from the repo root
    lines = ["# Benchmark results", "",
             "Written by `scripts/bench` (`scripts/lib/bench_report.py`) from the run below; "
             "regenerate rather than edit. Raw data: the JSON next to this file.", ""]
    for k, v in bt.context_lines(report, args.json, args.command, args.bench_command, fb):
        lines.append(f"- **{k}:** {v}")
    if ctx.get("bench.suite"):
        lines.append(f"- **Suite:** {ctx['bench.suite']}"
                     + (f", filter `{ctx['bench.filter']}`" if ctx.get("bench.filter") else ""))
    if ctx.get("bench.repetitions"):
        n, _, mode = ctx["bench.repetitions"].partition(" ")
        lines.append(f"- **Repetitions:** {n}, " + (
            "as passes over the whole suite (each benchmark once per pass)" if mode == "passes"
            else "back to back"))
    per_pass = {}
    for k, v in ctx.items():
        for key in ("bench.load.pass", "bench.cpu_mhz.pass"):
            if k.startswith(key):
                per_pass.setdefault(int(k[len(key):]), {})[key] = v
    if per_pass:
        lines.append("- **Load average and mean CPU MHz, start → end of each pass:** " + "; ".join(
            f"{p}: load {v.get('bench.load.pass', '?')}, {v.get('bench.cpu_mhz.pass', '?')} MHz"
            for p, v in sorted(per_pass.items())))
    elif ctx.get("bench.load"):
        lines.append(f"- **Load average and mean CPU MHz, start → end:** load {ctx['bench.load']}, "
                     f"{ctx.get('bench.cpu_mhz', '?')} MHz")
    elif ctx.get("load_avg"):
        lines.append("- **Load average at the start:** " +
                     " ".join(f"{x:.2f}" for x in ctx["load_avg"]))
    if ctx.get("bench.order"):
        lines.append(f"- **Order:** {ctx['bench.order']}; **CPU pinning:** "
                     f"{ctx.get('bench.pinned', 'no')}")
    suites = sorted((k, v) for k, v in ctx.items() if k.startswith("suite."))
    if suites:
        lines.append("- **Message suites (backends):** " + "; ".join(
            f"{k.split('.', 2)[2]} ({v})" for k, v in suites))
    if args.wall:
        lines.append(f"- **Wall time of the run:** {args.wall}")
    what = (f"median of {'/'.join(map(str, reps))} repetitions" if reps and reps != [1]
            else "single run")
    lines += ["", f"All times are CPU time per operation, {what}, unless marked otherwise.", ""]
    busy_list, measured = busy
    if busy_list:
        lines += [f"**The machine was busy: wall time exceeded CPU time by over 10% for "
                  f"{len(busy_list)} of {measured} primitives. CPU-time medians are used "
                  f"throughout; rerun on a quiet machine for numbers to keep.**", ""]

    # Headline.
    lines += ["## Overhead over the primitive floor", "",
              "The project's main performance figure: a core path's median CPU time divided by "
              "the sum of the median CPU times of exactly the primitive calls it performs, "
              "all measured in this run (`scripts/lib/bench_report.py` lists the recipes; "
              f"docs/wire-format.md specifies the calls). Target: ≤ {TARGET} everywhere.", ""]
    if summary:
        lines += [bt.md_table(["path", "backend", "min", "median", "max",
                               "best of repetitions: min", "median", "max", "benchmarks"],
                              [[p, b, fmt_ratio(lo), fmt_ratio(md), fmt_ratio(hi)]
                               + ([fmt_ratio(x) for x in bst] if bst else ["-"] * 3) + [str(k)]
                               for p, b, lo, md, hi, bst, k in summary]), ""]
        lines += ["The ratio is median / sum of medians. *Best of repetitions* divides the "
                  "fastest repetition of the path by the sum of the fastest repetitions of its "
                  "primitives: on a busy machine contention only ever adds time, so this one "
                  "is the less disturbed estimate (see the notes).", ""]
        if gap is not None:
            lines += [f"The in-process `overhead` counters of the same benchmarks (floors "
                      f"measured earlier in the process, per-run CPU time) agree with these "
                      f"within {gap * 100:.2f}% ({ngap} benchmarks)" +
                      ("; each pass's counter divides by that pass's floors, the table by the "
                       "medians over all passes." if passes else "."), ""]
        if high:
            lines += [f"{len(high)} ratio(s) above {TARGET} in this run (explained in the "
                      f"notes below; best of repetitions in parentheses):", ""]
            lines += [f"- `{r['path']}/{r['b']}/{r['s']}/" +
                      (f"dev:{r['n']}/" if r['path'] == 'encrypt' else "") +
                      f"body:{r['B']}`: {r['ratio']:.3f}" +
                      (f" ({r['best']:.3f})" if r["best"] and r["reps"] > 1 else "")
                      for r in high[:20]]
            if len(high) > 20:
                lines.append(f"- ... and {len(high) - 20} more")
            lines.append("")
        else:
            lines += [f"No ratio above {TARGET} in this run.", ""]
    else:
        lines += ["_No core-path results with their floors in this run._", ""]
    if any(m.endswith("overhead.svg") for m in made):
        lines += ["![overhead ratio](overhead.svg)", ""]

    lines += section_instructions(os.path.dirname(os.path.abspath(args.markdown)))
    lines += ["## Core paths", "",
              "Median CPU time per message and its overhead ratio (**bold**: above the "
              "target).", ""]
    lines += section_core(rows, backends)
    lines += section_os_rng(runs, rows, backends)
    lines += section_latency(runs, rows, backends)
    lines += section_fanout(runs)
    lines += section_e2e(B, series, any(m.endswith("fanout.svg") for m in made))
    if any(m.endswith("fanout.svg") for m in made):
        lines += ["![cost per message against fan-out](fanout.svg)", ""]
    lines += section_peers(runs, rows, backends)
    lines += section_threads(runs, backends, ctx.get("num_cpus", "?"))
    if any(m.endswith("threads.svg") for m in made):
        lines += ["![thread scaling](threads.svg)", ""]
    lines += section_dir(runs, backends, recipes)

    lines += section_fastest(runs, backends)
    lines += ["## Primitive floor", "",
              "Median CPU time per call through `imcore/crypto.h` (the validation policy "
              "included, as the paths call it). Sizes: message or plaintext bytes; `ad:` and "
              "`info:` are the AD and HKDF-info lengths of the exact calls the paths make.", ""]
    lines.append(bt.md_table(fheader, fbody) if fbody else "_No primitive results._")
    c_loop, native = bt.shim_overhead(report)
    if c_loop is not None:
        lines += ["", f"C shim loop overhead: {c_loop:.2f} ns/iteration" +
                  (f" (native google-benchmark loop: {native:.2f} ns)." if native else ".")]
    lines.append("")

    if errors:
        lines += ["## Errors", ""] + [f"- `{n}`: {e}" for n, e in errors] + [""]

    lines += section_elsewhere(os.path.dirname(os.path.abspath(args.markdown)))
    lines += ["## Notes", ""]
    if os.path.exists(args.notes):
        with open(args.notes, encoding="utf-8") as f:
            lines += [f.read().rstrip(), ""]
    lines += ["## Comparing", "",
              "A/B between two runs of the same machine and libraries, or two backends of one "
              "run: faster, slower, no change within ±2%, or inconclusive per benchmark "
              "(Mann-Whitney U tests; 9 repetitions or more for any verdict but "
              "inconclusive):", "", "```sh",
              f"scripts/compare results/A.json {jpath}",
              f"scripts/compare --backends {jpath} sodium openssl --filter '^(encrypt|decrypt)/'",
              "```", ""]
    with open(args.markdown, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
