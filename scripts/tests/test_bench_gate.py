#!/usr/bin/env python3
"""Tests of the instruction-count gate (scripts/lib/bench_instr.py gate) and
of its callgrind part parser, on synthetic files: a path 3% more expensive
fails, 1% passes, a ratio over its limit fails, a path missing from the
measurement fails, a moved primitive alone is reported but does not fail.
Standard library only."""

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTR = os.path.join(ROOT, "scripts", "lib", "bench_instr.py")
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
sys.dont_write_bytecode = True
import bench_instr  # noqa: E402

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


PATH = "decrypt/sodium/x25519-ed25519-chacha/body:64"
RECIPES = {"decrypt/x25519-ed25519-chacha/body:64": "1*x25519-derive;2*sha256/80"}
PRIMS = {"prim/sodium/x25519-derive": 900000.0, "prim/sodium/sha256/80": 50000.0}


def measurement(path_ir, prims=None, drop_path=False):
    ins = dict(prims or PRIMS)
    if not drop_path:
        ins[PATH] = path_ir
    return {"context": {"commit": "test"}, "instructions": ins, "recipes": RECIPES}


def gate(tmp, current, baseline):
    a = os.path.join(tmp, "cur.json")
    b = os.path.join(tmp, "base.json")
    for p, obj in ((a, current), (b, baseline)):
        with open(p, "w", encoding="utf-8") as f:
            json.dump(obj, f)
    return subprocess.run([sys.executable, INSTR, "gate", a, b], capture_output=True, text=True)


def test_gate(tmp):
    floor = 900000 + 2 * 50000
    base = measurement(floor * 1.002)
    res = gate(tmp, measurement(floor * 1.002), base)
    check(res.returncode == 0 and "passed" in res.stdout, "unchanged: passes")
    res = gate(tmp, measurement(floor * 1.002 * 1.03), base)
    check(res.returncode == 1 and "FAIL: +3.00% > +2%" in res.stdout and PATH in res.stdout,
          "path +3%: fails, with the path and its change in the table")
    res = gate(tmp, measurement(floor * 1.002 * 1.01), base)
    check(res.returncode == 1 and "ratio 1.0120 > 1.01" in res.stdout,
          "path +1% but its ratio 1.012 over the 1.01 limit: fails on the ratio")
    lower = measurement(floor * 1.002 * 1.01, {k: v * 1.01 for k, v in PRIMS.items()})
    res = gate(tmp, lower, base)
    check(res.returncode == 0, "path and its primitives +1% (ratio unchanged): passes")
    res = gate(tmp, measurement(0, drop_path=True), base)
    check(res.returncode == 1 and "missing" in res.stdout, "path missing: fails")
    prims = dict(PRIMS)
    prims["prim/sodium/sha256/80"] *= 0.9
    res = gate(tmp, measurement(floor * 1.002, prims), base)
    check("primitive moved" in res.stdout and "FAIL: ratio" in res.stdout,
          "a cheaper primitive raises the path's ratio: reported")


def test_parser(tmp):
    part = os.path.join(tmp, "cg.out.1")
    with open(part, "w", encoding="utf-8") as f:
        f.write("# callgrind format\nversion: 1\n"
                "desc: Trigger: Client Request: imc:" + PATH + "\n"
                "positions: line\nevents: Ir\n"
                "fn=(1) bm_decrypt\n0 12\ncfn=(2) imc_msg_decrypt\ncalls=3 0\n0 2000\n"
                "cfn=(3) imc_bench_next_batch_\ncalls=3 0\n0 50\n"
                "fn=(4) other\ncfn=(2)\ncalls=1 0\n0 1000\n")
    name, inclusive = bench_instr.parse_part(part)
    check(name == PATH, "part name from the client request")
    check(inclusive.get("imc_msg_decrypt") == 3000,
          "inclusive cost of a function summed over its callers, compressed names resolved")
    check(bench_instr.target_function(PATH) == "imc_msg_decrypt"
          and bench_instr.target_function("prim/openssl/aead-open/aes256gcm/32")
          == "imc_crypto_aead_open", "the measured function of a path and of a primitive")


def main():
    with tempfile.TemporaryDirectory(prefix="imcore-gate-test-") as tmp:
        test_gate(tmp)
        test_parser(tmp)
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
