#!/usr/bin/env python3
"""Instruction counts of the primitive floors and core paths, and the gate.

One valgrind --tool=callgrind process runs imcore-bench --imc_instr=N over a
fixed set of benchmarks (bench_select.py, suite "gate"): each runs exactly N
iterations, the first uncollected (warm-up), the other N-1 collected and
dumped as one callgrind part per benchmark. From each part this script takes
the instructions (Ir) spent inside the one library function the benchmark
measures (imc_msg_encrypt, imc_msg_decrypt or the imc_crypto_* call of a
primitive), inclusive of its callees, per call: the benchmark loop itself is
not counted. The instruction overhead ratio of a path is its Ir per call
divided by the sum of the Ir per call of its primitive recipe (the same
recipe as the timed ratio: the library's, imcore-bench --imc_recipes, kept
in the measurement file). Instruction counts do not depend on the load of
the machine.

  bench_instr.py measure BINARY --out FILE [--auto-profile JSON] [--only REGEX]
  bench_instr.py gate CURRENT.json BASELINE.json     exit 1 when a path moved
  bench_instr.py table FILE [--markdown]

The gate fails when a path's Ir per call rises by more than RISE_LIMIT, or
its instruction overhead ratio exceeds its limit (LIMITS). Needs valgrind.
Standard library only.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ next to the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auto_profile as autop  # noqa: E402  (same directory)
import bench_report as br  # noqa: E402  (same directory)
import bench_select as bsel  # noqa: E402
from bench_select import ere_escape  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ITERATIONS = 17  # 1 warm-up + 16 collected: verification is variable-time, 16
# signatures average it out (two runs agree within 0.001%)
RISE_LIMIT = 0.02
# Instruction overhead ratio limits: the target, and the paths allowed more
# (first match wins), each with the reason.
LIMITS = [
    # wolfSSL keeps a fixed-point cache per P-256 point (FP_ECC): a scalar
    # multiplication costs what the points used before it left in the
    # cache, so neither a path nor its floor has one instruction count
    # (encrypt at 1 device, 64 B and 1 KiB bodies: 5.1 M and 3.0 M, the
    # same work). Measured and shown, not gated.
    (r"^(encrypt|decrypt)/wolfssl/p256-", None,
     "wolfSSL's per-point cache makes its P-256 cost depend on history"),
    (r".", 1.01, "target"),
]
TOP = {"encrypt": "imc_msg_encrypt", "decrypt": "imc_msg_decrypt"}
# prim/<backend>/<name...>: the crypto.h function its loop calls.
PRIM_FN = [
    # The prepared-key floors (a key imported once, docs/backends.md).
    ("x25519-derive-prepared", "imc_crypto_x25519_prepared"),
    ("p256-ecdh-prepared", "imc_crypto_p256_ecdh_prepared"),
    # Importing the secret (the loop also frees it; freeing is not counted).
    ("x25519-prepare", "imc_crypto_key_prepare"), ("p256-prepare", "imc_crypto_key_prepare"),
    ("ed25519-sign-prepared", "imc_crypto_ed25519_sign_prepared"),
    ("ecdsa-p256-sign-prepared", "imc_crypto_ecdsa_p256_sign_prepared"),
    ("ed25519-verify-prepared", "imc_crypto_ed25519_verify_prepared"),
    ("ecdsa-p256-verify-prepared", "imc_crypto_ecdsa_p256_verify_prepared"),
    ("x25519-keygen", "imc_crypto_x25519_keygen"), ("x25519-derive", "imc_crypto_x25519"),
    ("ed25519-keygen", "imc_crypto_ed25519_keygen"),
    ("p256-keygen", "imc_crypto_p256_keygen"), ("p256-ecdh", "imc_crypto_p256_ecdh"),
    ("hkdf-sha256", "imc_crypto_hkdf_sha256"), ("hmac-sha256", "imc_crypto_hmac_sha256"),
    ("aead-seal", "imc_crypto_aead_seal"), ("aead-open", "imc_crypto_aead_open"),
    ("sha256", "imc_crypto_sha256"), ("random", "imc_crypto_random"),
    ("ed25519-sign", "imc_crypto_ed25519_sign"), ("ed25519-verify", "imc_crypto_ed25519_verify"),
    ("ecdsa-p256-sign", "imc_crypto_ecdsa_p256_sign"),
    ("ecdsa-p256-verify", "imc_crypto_ecdsa_p256_verify"),
]


def target_function(name):
    """The library function whose inclusive cost a benchmark measures, or None."""
    for path, fn in TOP.items():
        if br.RE[path].match(name):
            return fn
    m = br.RE["prim"].match(name)
    if m:
        p = m["p"]
        return next((fn for pre, fn in PRIM_FN if p == pre or p.startswith(pre + "/")), None)
    return None


def limit_for(name):
    for rx, lim, why in LIMITS:
        if re.search(rx, name):
            return lim, why
    return None, None


# ---- callgrind parts --------------------------------------------------------------

def parse_part(path):
    """(benchmark name or None, {callee: inclusive Ir over the part's calls})."""
    name = None
    names = {}        # compressed fn ids -> names (fn= and cfn= share one table)
    inclusive = {}
    cfn = None
    after_calls = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("desc: Trigger: Client Request: imc:"):
                name = line.split("imc:", 1)[1].strip()
                continue
            if line.startswith(("fn=", "cfn=")):
                key, _, rest = line.rstrip("\n").partition("=")
                m = re.match(r"\((\d+)\)(?: (.*))?$", rest)
                fn = rest
                if m:
                    fn = m.group(2) if m.group(2) is not None else names.get(m.group(1), "?")
                    if m.group(2) is not None:
                        names[m.group(1)] = m.group(2)
                if key == "cfn":
                    cfn = fn
                continue
            if line.startswith("calls="):
                after_calls = True
                continue
            if after_calls:
                # The cost line after calls=: position, then the inclusive Ir.
                parts = line.split()
                ir = int(parts[1]) if len(parts) > 1 else 0
                inclusive[cfn] = inclusive.get(cfn, 0) + ir
                after_calls = False
    return name, inclusive


def measure(binary, names, iterations, env, keep_dir=None):
    """{name: Ir per call} for the benchmarks `names`, in one valgrind run."""
    tmp = keep_dir or tempfile.mkdtemp(prefix="imcore-instr-")
    out = os.path.join(tmp, "cg.out")
    # google-benchmark appends /iterations:N/repeats:1 to the names.
    regex = "^(" + "|".join(ere_escape(n) for n in sorted(names)) + ")/iterations:"
    cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={out}",
           binary, f"--imc_instr={iterations}", f"--benchmark_filter={regex}",
           "--benchmark_color=false"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"valgrind failed ({res.returncode}): {res.stderr[-1500:]}")
    errors = re.findall(r"^(\S+)/iterations:\S+\s+ERROR OCCURRED: '([^']*)'", res.stdout, re.M)
    result = {}
    for f in sorted(os.listdir(tmp)):
        if not re.match(r"cg\.out\.\d+$", f):
            continue
        name, inclusive = parse_part(os.path.join(tmp, f))
        if name is None or name not in names:
            continue
        fn = target_function(name)
        ir = inclusive.get(fn)
        if ir:
            result[name] = ir / (iterations - 1)
    if keep_dir is None:
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    return result, errors


def path_rows(ir, recipes):
    """[{name, path, b, ir, floor, ratio}] for the encrypt/decrypt entries."""
    rows = []
    for name, v in sorted(ir.items()):
        for path in TOP:
            m = br.RE[path].match(name)
            if not m:
                continue
            n = int(m["n"]) if path == "encrypt" else 1
            parts = br.recipe(recipes, path, m["s"], n, int(m["B"]))
            if parts is None:
                continue
            prims = [(c, f"prim/{m['b']}/{p}") for c, p in parts]
            floor = None
            if all(p in ir for _, p in prims):
                floor = sum(c * ir[p] for c, p in prims)
            rows.append({"name": name, "path": path, "b": m["b"], "s": m["s"], "ir": v,
                         "floor": floor, "ratio": v / floor if floor else None})
    return rows


# ---- commands -------------------------------------------------------------------

def git(*args):
    res = subprocess.run(["git", *args], capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else ""


def valgrind_version():
    res = subprocess.run(["valgrind", "--version"], capture_output=True, text=True)
    return res.stdout.strip() if res.returncode == 0 else "unknown"


def binary_context(binary, env):
    """The benchmark binary's own context (backend versions, compiler)."""
    res = subprocess.run([binary, "--benchmark_filter=^shim/empty$", "--benchmark_min_time=0.01",
                          "--benchmark_format=json"], capture_output=True, text=True, env=env)
    try:
        ctx = json.loads(res.stdout).get("context", {})
    except ValueError:
        return {}
    keep = ("compiler", "build.type", "build.c_flags", "cpu.model", "backends")
    return {k: v for k, v in ctx.items()
            if k in keep or (k.startswith("backend.") and k.count(".") == 1)}


def cmd_measure(args):
    listed = subprocess.run([args.binary, "--benchmark_list_tests=true"], capture_output=True,
                            text=True, check=True).stdout.split()
    recipes = br.recipes_of_binary(args.binary)
    names = bsel.select(listed, "gate", "", True, recipes)
    if args.only:
        names = [n for n in listed if re.search(args.only, n)]
    env = dict(os.environ)
    pinned = autop.pin_env(env, args.auto_profile) if args.auto_profile else None  # noqa: F841
    ir, errors = measure(args.binary, set(names), args.iterations, env, args.keep)
    missing = sorted(n for n in names if n not in ir)
    ctx = binary_context(args.binary, env)
    commit = args.commit or (git("rev-parse", "--short", "HEAD")
                             + ("-dirty" if git("status", "--porcelain", "--untracked-files=no")
                                else ""))
    ctx.update({"valgrind": valgrind_version(), "iterations": args.iterations, "commit": commit,
                "auto_profile": os.path.relpath(args.auto_profile) if args.auto_profile else ""})
    report = {"context": ctx, "instructions": {n: round(v, 1) for n, v in sorted(ir.items())},
              "recipes": {k: ";".join(f"{c}*{p}" for c, p in v) for k, v in sorted(recipes.items())},
              "errors": {n: e for n, e in errors}, "missing": missing}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"bench_instr: {len(ir)} of {len(names)} benchmarks measured -> {args.out}")
    for n, e in errors:
        print(f"bench_instr: error: {n}: {e}", file=sys.stderr)
    return 0 if not missing else 1


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rows_of(report):
    """path_rows of a measurement file, with the recipes it recorded."""
    recipes = br.parse_recipes((f"recipe.{k}", v) for k, v in report.get("recipes", {}).items())
    return path_rows(report["instructions"], recipes)


def summary(rows):
    """[(path, backend, median ratio, worst ratio, worst name, count)]."""
    out = []
    order = []
    for r in rows:
        if r["b"] not in order:
            order.append(r["b"])
    for path in TOP:
        for b in order:
            sel = [r for r in rows if r["path"] == path and r["b"] == b and r["ratio"]
                   and limit_for(r["name"])[0] is not None]
            if sel:
                worst = max(sel, key=lambda r: r["ratio"])
                out.append((path, b, statistics.median(r["ratio"] for r in sel), worst["ratio"],
                            worst["name"], len(sel)))
    return out


def cmd_gate(args):
    cur, base = load(args.current), load(args.baseline)
    ci, bi = cur["instructions"], base["instructions"]
    crow = {r["name"]: r for r in rows_of(cur)}
    brow = {r["name"]: r for r in rows_of(base)}
    moved, failed = [], []
    for name in sorted(set(bi) | set(ci)):
        a, b = bi.get(name), ci.get(name)
        is_path = name in brow or name in crow
        if a is None or b is None:
            if is_path and a is not None and limit_for(name)[0] is not None:
                failed.append(name)
                moved.append((name, a, b, None, crow.get(name, {}).get("ratio"), "FAIL: missing"))
            continue
        change = b / a - 1
        ratio = crow[name]["ratio"] if name in crow else None
        lim, _ = limit_for(name)
        if is_path and lim is None:
            continue  # not gated (LIMITS says why; markdown_section lists it)
        why = []
        if is_path and change > RISE_LIMIT:
            why.append(f"FAIL: +{change * 100:.2f}% > +{RISE_LIMIT * 100:g}%")
        if is_path and ratio is not None and lim is not None and ratio > lim:
            why.append(f"FAIL: ratio {ratio:.4f} > {lim:g}")
        if why:
            failed.append(name)
        if why or abs(change) > RISE_LIMIT:
            moved.append((name, a, b, change, ratio, "; ".join(why) or
                          ("primitive moved (not gated itself)" if not is_path else "faster")))
    new = sorted(n for n in ci if n not in bi)
    print(f"instruction gate: {len(ci)} benchmarks measured (commit {cur['context'].get('commit')})"
          f" against the baseline of commit {base['context'].get('commit')} "
          f"({len(bi)} benchmarks); a path fails when its Ir/call rises by more than "
          f"{RISE_LIMIT * 100:g}% or its instruction overhead ratio exceeds its limit")
    for k in ("valgrind", "compiler"):
        if cur["context"].get(k) != base["context"].get(k):
            print(f"note: {k} differs from the baseline's: {cur['context'].get(k)} vs "
                  f"{base['context'].get(k)}")
    libs = sorted(k for k in set(cur["context"]) | set(base["context"]) if k.startswith("backend."))
    for k in libs:
        if cur["context"].get(k) != base["context"].get(k):
            print(f"note: {k} differs from the baseline's: {cur['context'].get(k)} vs "
                  f"{base['context'].get(k)}")
    if moved:
        print()
        print(br.bt.text_table(["benchmark", "baseline Ir/call", "now Ir/call", "change",
                                "Ir ratio", "verdict"],
                               [[n, f"{a:,.0f}" if a else "-", f"{b:,.0f}" if b else "-",
                                 f"{c * 100:+.2f}%" if c is not None else "-",
                                 f"{r:.4f}" if r else "-", v] for n, a, b, c, r, v in moved]))
    if new:
        print(f"\n{len(new)} benchmarks not in the baseline (not gated): "
              + ", ".join(new[:8]) + (" ..." if len(new) > 8 else ""))
    rows = list(crow.values())
    print()
    print(br.bt.text_table(["path", "backend", "Ir ratio median", "worst", "worst path",
                            "paths"],
                           [[p, b, f"{md:.4f}", f"{w:.4f}", wn, str(k)]
                            for p, b, md, w, wn, k in summary(rows)]))
    if failed:
        print(f"\ninstruction gate: FAILED ({len(failed)} path(s))")
        return 1
    print("\ninstruction gate: passed")
    return 0


def markdown_section(path):
    """Lines for results/README.md from a baseline or measurement file."""
    rep = load(path)
    rows = rows_of(rep)
    if not rows:
        return []
    ctx = rep.get("context", {})
    out = ["## Instruction overhead ratio", "",
           f"Instructions executed inside the path (callgrind, {ctx.get('valgrind', '?')}) "
           f"divided by the sum of the instructions of its primitive calls measured alone, "
           f"per call, from `{os.path.relpath(os.path.abspath(path), ROOT)}` (commit "
           f"`{ctx.get('commit', '?')}`; "
           f"`scripts/bench --gate` checks it in CI). Unlike the timed ratio it does not "
           f"depend on the machine's load. Target ≤ {LIMITS[-1][1]:g}.", ""]
    out += [br.bt.md_table(["path", "backend", "median", "worst", "worst path", "paths"],
                           [[p, b, f"{md:.4f}", f"{w:.4f}", f"`{wn}`", str(k)]
                            for p, b, md, w, wn, k in summary(rows)]), ""]
    above = [r for r in rows if r["ratio"] and limit_for(r["name"])[0] is not None
             and r["ratio"] > limit_for(r["name"])[0]]
    if above:
        out += ["Above the limit: " + ", ".join(f"`{r['name']}` {r['ratio']:.4f}"
                                               for r in above), ""]
    free = [r for r in rows if limit_for(r["name"])[0] is None]
    if free:
        reasons = sorted({limit_for(r["name"])[1] for r in free})
        out += ["Not gated (" + "; ".join(reasons) + "): " + ", ".join(
            f"`{r['name']}` {r['ratio']:.3f}" for r in free if r["ratio"]) + ". The summary "
            "above leaves them out; the others below 1 are the floors' averages over 64 "
            "distinct keys against the one device key or the few recipient keys a path "
            "uses (libgcrypt's and Mbed TLS's P-256 take key-dependent time).", ""]
    body = []
    for r in rows:
        body.append([f"`{r['name']}`", f"{r['ir']:,.0f}",
                     f"{r['floor']:,.0f}" if r["floor"] else "-",
                     f"{r['ratio']:.4f}" if r["ratio"] else "-"])
    out += ["<details><summary>Every path</summary>", "",
            br.bt.md_table(["path", "Ir per call", "sum of its primitives", "ratio"], body), "",
            "</details>", ""]
    return out


def cmd_markdown(args):
    lines = markdown_section(args.file)
    lines[0] = "# Instruction-count baseline"
    lines += ["Written by `scripts/bench --update-baseline`; `scripts/bench --gate` compares a "
              "fresh measurement with `instructions.json` here. `auto-profile.json` pins the "
              "auto backend's choices for both (a short timed run of every other backend's "
              "generic floor). Regenerate rather than edit, from a clean committed tree: "
              "`scripts/bench --update-baseline && git add results/baseline && git commit`.", ""]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return 0


def cmd_table(args):
    rows = rows_of(load(args.file))
    print(br.bt.text_table(["path", "Ir/call", "primitives", "ratio"],
                           [[r["name"], f"{r['ir']:,.0f}",
                             f"{r['floor']:,.0f}" if r["floor"] else "-",
                             f"{r['ratio']:.4f}" if r["ratio"] else "-"] for r in rows]))
    print()
    print(br.bt.text_table(["path", "backend", "median", "worst", "worst path", "paths"],
                           [[p, b, f"{md:.4f}", f"{w:.4f}", wn, str(k)]
                            for p, b, md, w, wn, k in summary(rows)]))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("binary")
    m.add_argument("--out", required=True)
    m.add_argument("--iterations", type=int, default=ITERATIONS)
    m.add_argument("--auto-profile", help="results file whose floors pin the auto backend's "
                   "choices (made into a profile as scripts/auto-profile does)")
    m.add_argument("--keep", help="keep the callgrind parts in this (empty) directory")
    m.add_argument("--commit", help="the commit measured (default: HEAD, -dirty if modified)")
    m.add_argument("--only", help="measure the benchmarks whose names match this regular "
                   "expression instead of the gate set (not for the gate)")
    g = sub.add_parser("gate")
    g.add_argument("current")
    g.add_argument("baseline")
    t = sub.add_parser("table")
    t.add_argument("file")
    md = sub.add_parser("markdown")
    md.add_argument("file")
    md.add_argument("--out", required=True)
    args = ap.parse_args()
    return {"measure": cmd_measure, "gate": cmd_gate, "table": cmd_table,
            "markdown": cmd_markdown}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
