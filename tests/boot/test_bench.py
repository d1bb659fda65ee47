"""The CI smoke of bench/ratios.py (issue 15): one run of its cheaper jobs
in one boot, checking that it produces figures (numbers for dom0, the
guest and their ratio), not that they meet their goals, which is the
bench's business (bench/README.md). The bench boots its own QEMU, so this
test's boot is a stand-in that starts nothing.

Registered into test_boot's table (imported at its end); select it with
-k bench."""

import json
import os
import subprocess
import sys
import tempfile

import test_boot
from test_boot import check, test

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class NoMachine:
    """The bench boots its own machine; nothing to close here."""

    def close(self):
        pass


test_boot.FIXTURES["bench"] = NoMachine

SMOKE = ["cpu", "fork", "idle", "hypercall", "hv-memory", "blk-rand"]


@test("bench_ratios_smoke_produces_figures", "bench")
def t_bench_smoke(_m):
    with tempfile.TemporaryDirectory() as tmp:
        out_json = os.path.join(tmp, "bench.json")
        cmd = [sys.executable, os.path.join(ROOT, "bench", "ratios.py"), "--runs", "1",
               "--only", ",".join(SMOKE), "--json", out_json]
        if os.environ.get("KEEL_ISO"):
            cmd += ["--iso", os.environ["KEEL_ISO"]]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        check(p.returncode == 0 and os.path.exists(out_json),
              "bench/ratios.py failed (exit %d):\n%s" % (p.returncode,
                                                        (p.stdout + p.stderr)[-1500:]))
        with open(out_json) as f:
            doc = json.load(f)
    figs = {f["name"]: f for f in doc["figures"]}
    check(sorted(figs) == sorted(SMOKE), "the JSON has figures %s, not %s"
          % (sorted(figs), sorted(SMOKE)))
    for name in SMOKE:
        check("not_measured" not in figs[name], "%s was not measured: %s"
              % (name, figs[name].get("not_measured")))
    for name in ("cpu", "fork"):
        for key in ("dom0", "guest", "ratio"):
            check(isinstance(figs[name].get(key), float) and figs[name][key] > 0,
                  "%s has no positive %s: %r" % (name, key, figs[name]))
    check(isinstance(figs["idle"].get("exits_per_s"), float), "idle: %r" % figs["idle"])
    check(figs["hypercall"].get("ratio", 0) > 0, "hypercall: %r" % figs["hypercall"])
    check(figs["hv-memory"].get("guest", 0) > 0, "hv-memory: %r" % figs["hv-memory"])
    for key in ("dom0_mib_s", "guest_mib_s", "guest_us_per_read"):
        check(figs["blk-rand"].get(key, 0) > 0, "blk-rand has no positive %s: %r"
              % (key, figs["blk-rand"]))
    print(p.stdout[p.stdout.find("Keel bench"):], end="", flush=True)
