#!/usr/bin/env python3
"""Keel's speed compass: the same jobs in dom0 and in a guest, side by side
in ONE boot of out/keel.iso, reported as guest time / dom0 time.

Boots the ISO in QEMU (TCG, -cpu max -smp 4 -m 2048 by default) through
the boot-test harness, starts a tiny guest, and runs every job --runs times
in dom0 and in the guest, alternating, each timed inside its own domain
(the shell's `time`). It prints a table with the medians, the ratio and
the goal of each figure, writes it as JSON (--json) and can draw it as a
bar chart (--png, with Debian's python3-matplotlib). A figure that cannot
be measured says why; none is made up. bench/README.md explains each job.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "boot"))

import harness  # noqa: E402
import benchlib  # noqa: E402
import test_boot as tb  # noqa: E402

# The jobs: shell text run by `sh -c` in each domain. Both domains run the
# same static busybox (Debian's busybox-static), so the same code runs.
CPU_JOB = "i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done"
FORK_JOB = "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done"
BUILD_JOB = ("rm -rf /tmp/kb && mkdir /tmp/kb && i=0; while [ $i -lt 8 ]; do "
             "cp /bin/busybox /tmp/kb/f$i; i=$((i+1)); done; "
             "tar cf - -C /tmp kb | gzip -1 | wc -c >/dev/null; rm -rf /tmp/kb")
MEM_JOB = "dd if=/dev/zero of=/dev/null bs=1M count=256 2>/dev/null"


def log(msg):
    print("bench: " + msg, flush=True)


def real_seconds(out):
    """The `real` time that busybox's or bash's `time` printed."""
    mt = re.search(r"real\s+(?:(\d+)m\s*)?([\d.]+)s", out)
    if not mt:
        return None
    return int(mt.group(1) or 0) * 60 + float(mt.group(2))


def in_dom0(m, job):
    out, rc = m.run("time sh -c %s" % tb.shell_quote(job), timeout=600)
    return real_seconds(out)


def in_guest(m, job):
    out = tb.guest_run(m, "tiny", "time sh -c %s" % tb.shell_quote(job), timeout=900)
    return real_seconds(out)


def side_by_side(m, name, job, runs):
    """Median times of job in dom0 and in the guest, alternating."""
    d, g = [], []
    for r in range(runs):
        log("%s: run %d/%d in dom0" % (name, r + 1, runs))
        d.append(in_dom0(m, job))
        log("%s: run %d/%d in the guest" % (name, r + 1, runs))
        g.append(in_guest(m, job))
    if None in d or None in g:
        return {"not_measured": "a run printed no time (dom0 %s, guest %s)" % (d, g)}
    dm, gm = statistics.median(d), statistics.median(g)
    return {"dom0": dm, "guest": gm, "ratio": gm / dm, "unit": "s",
            "runs_dom0": d, "runs_guest": g}


def fig_time(name, job, goal):
    def measure(m, runs):
        return side_by_side(m, name, job, runs)
    return {"name": name, "goal": goal, "kind": "le", "measure": measure}


def measure_idle(m, runs):
    """The tiny guest's CPU% and exits/s from keel top -b, at least 30 s
    after it printed its ready line, over a 5 s interval."""
    wait = 30 - (time.time() - STATE["ready_at"])
    if wait > 0:
        log("idle: waiting %.0f s (30 s after the guest's ready line)" % wait)
        time.sleep(wait)
    out, rc = m.run("keel top -b -n 2 -d 5", timeout=60)
    blocks = out.split("keel top - ")
    head = None
    for line in blocks[-1].splitlines():
        f = line.split()
        if f and f[0] == "NAME":
            head = f
        elif head and f and f[0] == "tiny":
            row = dict(zip(head, f))
            return {"guest": float(row["CPU(%)"]), "exits_per_s": float(row["EXITS/s"]),
                    "unit": "% of one CPU", "ratio": None}
    return {"not_measured": "keel top -b showed no row for tiny: %r" % out[-300:]}


def measure_hypercall(m, runs):
    """keel-exitbench in the guest: a KEEL_HC_VERSION round trip over a
    CPUID of Keel's leaf (the bare exit)."""
    ratios, bare, call = [], [], []
    for r in range(runs):
        log("hypercall: keel-exitbench run %d/%d in the guest" % (r + 1, runs))
        out = tb.guest_run(m, "tiny", "keel-exitbench -n 5000", timeout=600)
        mc = re.search(r"^cpuid: \d+ in [\d.]+ s, ([\d.]+) us each", out, re.M)
        mh = re.search(r"^hypercall: \d+ in [\d.]+ s, ([\d.]+) us each", out, re.M)
        if not (mc and mh):
            return {"not_measured": "keel-exitbench printed no figures: %r" % out[-300:]}
        bare.append(float(mc.group(1)))
        call.append(float(mh.group(1)))
        ratios.append(call[-1] / bare[-1])
    return {"bare_exit_us": statistics.median(bare), "hypercall_us": statistics.median(call),
            "ratio": statistics.median(ratios), "unit": "us"}


def measure_memory(m, runs):
    """HV_MEM(k) of the tiny guest in keel top -b (keel_domstats.hv_bytes)."""
    out, rc = m.run("keel top -b -n 1", timeout=60)
    head = None
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "NAME":
            head = f
        elif head and f and f[0] == "tiny" and "HV_MEM(k)" in head:
            return {"guest": float(dict(zip(head, f))["HV_MEM(k)"]), "unit": "KiB",
                    "ratio": None}
    return {"not_measured": "keel top -b has no HV_MEM(k) for tiny: %r" % out[-300:]}


TCP_BYTES = 16 << 20


def tcp_listen(run):
    """Start a listener on port 7000 that reads everything into /dev/null
    (its stdin a FIFO opened read-write, which never ends, so that busybox
    nc does not close its half early)."""
    run("rm -f /tmp/kb.in; mkfifo /tmp/kb.in; (nc -l -p 7000 0<>/tmp/kb.in >/dev/null &)")


def tcp_side_by_side(m, runs, name, target, listen_in_guest):
    """16 MiB over TCP from the tiny guest to target (its listener in the
    guest listen_in_guest, or in dom0 if None), against the same in dom0
    over its loopback; the ratio is guest throughput / dom0's."""
    send = "head -c %d /dev/zero | nc %%s 7000" % TCP_BYTES
    in_dom0_shell = lambda c: m.run(c, timeout=30)  # noqa: E731
    listener = in_dom0_shell if listen_in_guest is None else \
        (lambda c: tb.guest_run(m, listen_in_guest, c, timeout=120))
    d, g = [], []
    for r in range(runs):
        log("%s: run %d/%d in dom0 (loopback)" % (name, r + 1, runs))
        tcp_listen(in_dom0_shell)
        time.sleep(1)
        d.append(in_dom0(m, send % "127.0.0.1"))
        log("%s: run %d/%d guest to %s" % (name, r + 1, runs, target))
        tcp_listen(listener)
        time.sleep(1)
        g.append(in_guest(m, send % target))
    return throughput(d, g, TCP_BYTES / 1048576)


def measure_tcp(m, runs):
    return tcp_side_by_side(m, runs, "tcp", "tiny2", "tiny2")


def measure_tcp_dom0(m, runs):
    return tcp_side_by_side(m, runs, "tcp-dom0", DOM0_KEEL0, None)


BLK_IMAGE = "/run/keel/medium/guests/debian.squashfs"
DOM0_KEEL0 = "10.77.0.1"


def blk_guest(m):
    """Start (once) a tiny guest named blk with the 29 MiB Debian image as
    its read-only disk /dev/vda, and read the image once in dom0 so that
    dom0's side reads it from its page cache. Returns None, or why not."""
    if STATE.get("blk"):
        return None
    out, rc = m.run("printf '%%s\\n' 'memory = 128' 'kernel = \"/run/keel/medium/vmlinuz\"' "
                    "'ramdisk = \"/run/keel/medium/guests/guest-initrd.img\"' "
                    "\"disk = [ 'file:%s,xvda,r' ]\" > /tmp/kblk.cfg && "
                    "keel create /tmp/kblk.cfg name=blk && cat %s > /dev/null"
                    % (BLK_IMAGE, BLK_IMAGE), timeout=300)
    if rc != 0:
        return "could not start a guest with %s: %r" % (BLK_IMAGE, out[-300:])
    tb.wait_guest_ready(m, "blk")
    STATE["blk"] = True
    return None


def throughput(runs_d, runs_g, mib, extra=None):
    """The result of a transfer of mib MiB timed runs_d in dom0 and runs_g
    in the guest: medians, and the ratio guest throughput / dom0's."""
    if None in runs_d or None in runs_g:
        return {"not_measured": "a run printed no time (dom0 %s, guest %s)" % (runs_d, runs_g)}
    dm, gm = statistics.median(runs_d), statistics.median(runs_g)
    res = {"dom0": dm, "guest": gm, "ratio": dm / gm, "unit": "s", "dom0_mib_s": mib / dm,
           "guest_mib_s": mib / gm, "runs_dom0": runs_d, "runs_guest": runs_g}
    res.update(extra or {})
    return res


def measure_blk(m, runs):
    """Sequential read of the 29 MiB Debian image: a guest reading it as
    its virtio-blk disk /dev/vda through its page cache (dropped before
    each run) against dom0 reading the same file from its page cache."""
    why = blk_guest(m)
    if why:
        return {"not_measured": why}
    d, g = [], []
    for r in range(runs):
        log("blk-read: run %d/%d in dom0 (page cache)" % (r + 1, runs))
        out, _ = m.run("time dd if=%s of=/dev/null bs=1M 2>&1" % BLK_IMAGE, timeout=300)
        d.append(real_seconds(out))
        log("blk-read: run %d/%d in the guest (virtio-blk)" % (r + 1, runs))
        out = tb.guest_run(m, "blk", "echo 3 > /proc/sys/vm/drop_caches; "
                           "time dd if=/dev/vda of=/dev/null bs=1M 2>&1", timeout=600)
        g.append(real_seconds(out))
    out, _ = m.run("stat -c %%s %s" % BLK_IMAGE)
    return throughput(d, g, int(out.split()[0]) / 1048576.0)


READ_RE = re.compile(r"^read: (\d+) x (\d+) bytes.*? ([\d.]+) MiB/s, ([\d.]+) us each", re.M)


def readbench(out):
    """(MiB/s, us per read) from keel-readbench's line, or None."""
    mt = READ_RE.search(out)
    return (float(mt.group(3)), float(mt.group(4))) if mt else None


def measure_readbench(m, runs, name, args_d, args_g):
    """keel-readbench with args_d on the image in dom0 (its page cache)
    and with args_g on /dev/vda in the blk guest (O_DIRECT: every read
    reaches the virtio-blk device), alternating; the ratio is guest
    throughput / dom0's."""
    why = blk_guest(m)
    if why:
        return {"not_measured": why}
    d, g = [], []
    for r in range(runs):
        log("%s: run %d/%d in dom0 (page cache)" % (name, r + 1, runs))
        out, _ = m.run("keel-readbench %s %s" % (args_d, BLK_IMAGE), timeout=300)
        d.append(readbench(out))
        log("%s: run %d/%d in the guest (virtio-blk, O_DIRECT)" % (name, r + 1, runs))
        g.append(readbench(tb.guest_run(m, "blk", "keel-readbench %s /dev/vda" % args_g,
                                        timeout=600)))
    if None in d or None in g:
        return {"not_measured": "keel-readbench printed no figures (dom0 %s, guest %s)"
                % (d, g)}
    dm, gm = statistics.median(x[0] for x in d), statistics.median(x[0] for x in g)
    return {"dom0_mib_s": dm, "guest_mib_s": gm, "ratio": gm / dm, "unit": "MiB/s",
            "dom0_us_per_read": statistics.median(x[1] for x in d),
            "guest_us_per_read": statistics.median(x[1] for x in g),
            "runs_dom0": d, "runs_guest": g}


def measure_blk_direct(m, runs):
    return measure_readbench(m, runs, "blk-direct", "-b 1048576", "-d -b 1048576")


def measure_blk_rand(m, runs):
    return measure_readbench(m, runs, "blk-rand", "-r -n 3000", "-d -r -n 3000")


PING_RE = re.compile(r"round-trip min/avg/max = [\d.]+/([\d.]+)/[\d.]+ ms")


def measure_latency(m, runs):
    """Median of the average ping round trips (10 pings a run): the tiny
    guest to tiny2 against dom0 to its loopback; the ratio is guest
    round trip / dom0's."""
    d, g = [], []
    for r in range(runs):
        log("latency: run %d/%d in dom0 (loopback)" % (r + 1, runs))
        out, _ = m.run("ping -c 10 -i 0.2 127.0.0.1", timeout=60)
        mt = PING_RE.search(out)
        d.append(float(mt.group(1)) if mt else None)
        log("latency: run %d/%d guest to guest" % (r + 1, runs))
        mt = PING_RE.search(tb.guest_run(m, "tiny", "ping -c 10 -i 0.2 tiny2", timeout=120))
        g.append(float(mt.group(1)) if mt else None)
    if None in d or None in g:
        return {"not_measured": "ping printed no round trip (dom0 %s, guest %s)" % (d, g)}
    dm, gm = statistics.median(d), statistics.median(g)
    return {"dom0": dm, "guest": gm, "ratio": gm / dm, "unit": "ms",
            "runs_dom0": d, "runs_guest": g}


HTTP_REQUESTS = 40
HTTP_JOB = ("i=0; while [ $i -lt %d ]; do wget -q -O /dev/null http://%%s:8080/index.html "
            "|| exit 1; i=$((i+1)); done" % HTTP_REQUESTS)


def http_serve(run):
    """Serve a 16 KiB page with busybox httpd on port 8080 (once)."""
    run("mkdir -p /tmp/kweb && head -c 16384 /dev/zero | tr '\\0' x > /tmp/kweb/index.html "
        "&& (pidof httpd >/dev/null || httpd -p 8080 -h /tmp/kweb)")


def measure_http(m, runs):
    """40 sequential HTTP GETs of a 16 KiB page with busybox wget: from the
    tiny guest to busybox httpd in tiny2, against dom0 fetching from the
    same server in dom0 over its loopback; the ratio is guest time /
    dom0's."""
    http_serve(lambda c: m.run(c, timeout=30))
    http_serve(lambda c: tb.guest_run(m, "tiny2", c, timeout=60))
    d, g = [], []
    for r in range(runs):
        log("http: run %d/%d in dom0 (loopback)" % (r + 1, runs))
        d.append(in_dom0(m, HTTP_JOB % "127.0.0.1"))
        log("http: run %d/%d guest to guest" % (r + 1, runs))
        g.append(in_guest(m, HTTP_JOB % "tiny2"))
    if None in d or None in g:
        return {"not_measured": "a run printed no time (dom0 %s, guest %s)" % (d, g)}
    dm, gm = statistics.median(d), statistics.median(g)
    return {"dom0": dm, "guest": gm, "ratio": gm / dm, "unit": "s",
            "dom0_req_s": HTTP_REQUESTS / dm, "guest_req_s": HTTP_REQUESTS / gm,
            "runs_dom0": d, "runs_guest": g}


def extract_from_iso(iso, path, dest):
    """Copy path out of the ISO with xorriso (installed if missing)."""
    if subprocess.run(["sh", "-c", "command -v xorriso"], capture_output=True).returncode:
        subprocess.run(["apt-get", "install", "-y", "-q", "xorriso"], capture_output=True)
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", iso, "-extract", path, dest],
                   capture_output=True, check=True)


def direct_boot_seconds(iso, tmp, name):
    """Seconds from starting QEMU until the tiny guest's ready line, with
    the guest's kernel and initramfs booted directly (-kernel), its
    memory, one CPU, the same command line as keel create gives, and no
    NIC (udhcpc runs in the background and does not delay the line)."""
    kernel, initrd = os.path.join(tmp, "vmlinuz"), os.path.join(tmp, "initrd")
    if not os.path.exists(kernel):
        extract_from_iso(iso, "/vmlinuz", kernel)
        extract_from_iso(iso, "/guests/guest-initrd.img", initrd)
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "128",
           "-kernel", kernel, "-initrd", initrd, "-append",
           "console=ttyS0 pci=noearly hostname=%s" % name, "-display", "none", "-serial", "stdio",
           "-nic", "none", "-no-reboot"]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    seen, line = b"", ("Keel tiny guest %s ready" % name).encode()
    try:
        while time.time() - t0 < 300:
            chunk = p.stdout.read1(4096) if hasattr(p.stdout, "read1") else p.stdout.read(1)
            if not chunk:
                break
            seen = (seen + chunk)[-8192:]
            if line in seen:
                return time.time() - t0
        return None
    finally:
        p.kill()
        p.wait()


def keel_create_seconds(m, name):
    """Seconds from typing keel create -c on dom0's serial console until
    the guest's ready line comes back on it (then Ctrl-] detaches)."""
    with m.lock:
        m.pos = len(m.buf)
    t0 = time.time()
    m.sendline("keel create -c tiny name=%s" % name)
    try:
        m.wait_for(r"Keel tiny guest %s ready" % name, 300, "the ready line of %s" % name)
    except harness.TestFailure:
        return None
    took = time.time() - t0
    m.send("\x1d")
    m.wait_shell_prompt(60)
    m.run("keel destroy %s" % name, timeout=60)
    return took


def measure_create(m, runs):
    """keel create tiny to its ready line, against the same kernel and
    initramfs booted directly by QEMU on the host, both timed on the host
    (dom0's serial console and QEMU's), alternating."""
    import tempfile
    iso = os.environ.get("KEEL_ISO", os.path.join(ROOT, "out", "keel.iso"))
    k, q = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(runs):
            log("create: run %d/%d: keel create tiny" % (r + 1, runs))
            k.append(keel_create_seconds(m, "bc%d" % r))
            log("create: run %d/%d: the same kernel booted directly by QEMU" % (r + 1, runs))
            q.append(direct_boot_seconds(iso, tmp, "bq%d" % r))
    if None in k or None in q:
        return {"not_measured": "a boot did not reach its ready line (keel %s, direct %s)"
                % (k, q)}
    km, qm = statistics.median(k), statistics.median(q)
    return {"dom0": qm, "guest": km, "ratio": km / qm, "unit": "s",
            "runs_direct": q, "runs_keel": k}


STATE = {}

FIGURES = [
    fig_time("cpu", CPU_JOB, 1.01),
    fig_time("fork", FORK_JOB, 1.03),
    fig_time("build", BUILD_JOB, 1.03),
    fig_time("memory", MEM_JOB, 1.01),
    {"name": "idle", "goal": 1.0, "kind": "idle", "measure": measure_idle},
    {"name": "hypercall", "goal": 1.2, "kind": "le", "measure": measure_hypercall},
    {"name": "hv-memory", "goal": 32, "kind": "abs", "measure": measure_memory},
    {"name": "blk-read", "goal": 0.8, "kind": "ge", "measure": measure_blk},
    {"name": "blk-direct", "goal": 0.8, "kind": "ge", "measure": measure_blk_direct},
    {"name": "blk-rand", "goal": None, "kind": "info", "measure": measure_blk_rand},
    {"name": "tcp", "goal": 0.5, "kind": "ge", "measure": measure_tcp},
    {"name": "tcp-dom0", "goal": 0.5, "kind": "ge", "measure": measure_tcp_dom0},
    {"name": "latency", "goal": None, "kind": "info", "measure": measure_latency},
    {"name": "http", "goal": None, "kind": "info", "measure": measure_http},
    {"name": "create", "goal": 1.2, "kind": "le", "measure": measure_create},
]

DESCRIPTIONS = {
    "cpu": "CPU-bound: shell arithmetic loop, 60k iterations (guest/dom0 time)",
    "fork": "fork+exec: 200 x /bin/true (guest/dom0 time)",
    "build": "build-like: copy 8 files, tar | gzip -1 (guest/dom0 time)",
    "memory": "memory bandwidth: dd 256 MiB /dev/zero -> /dev/null (guest/dom0 time)",
    "idle": "idle tiny guest 30 s after ready: CPU% (goal <= 1) and exits/s (<= 100)",
    "hypercall": "hypercall round trip / bare exit (CPUID), in the guest",
    "hv-memory": "hypervisor memory per domain beyond RAM and page tables, KiB",
    "blk-read": "virtio-blk sequential read of the 29 MiB Debian image, guest / dom0's "
                "page cache (throughput)",
    "blk-direct": "virtio-blk sequential 1 MiB reads with O_DIRECT (keel-readbench), guest "
                  "/ dom0's page cache (throughput)",
    "blk-rand": "4 KiB reads at random offsets (keel-readbench), guest O_DIRECT / dom0's "
                "page cache (throughput; reported, no goal)",
    "tcp": "TCP 16 MiB guest->guest throughput / dom0 loopback's (busybox nc)",
    "tcp-dom0": "TCP 16 MiB guest->dom0 (keel0) throughput / dom0 loopback's",
    "latency": "ping round trip guest->guest / dom0's loopback (reported, no goal)",
    "http": "40 HTTP GETs of 16 KiB, busybox wget -> httpd, guest->guest / dom0 loopback "
            "(time; reported, no goal)",
    "create": "keel create tiny to its ready line / the same kernel booted directly by "
              "QEMU (dom0 column: direct)",
}


def verdict(fig, res):
    if "not_measured" in res:
        return "-"
    if fig["kind"] == "le":
        return "yes" if res["ratio"] <= fig["goal"] else "no"
    if fig["kind"] == "ge":
        return "yes" if res["ratio"] >= fig["goal"] else "no"
    if fig["kind"] == "idle":
        return "yes" if res["guest"] <= 1.0 and res["exits_per_s"] <= 100 else "no"
    if fig["kind"] == "info":
        return "-"
    return "yes" if res["guest"] <= fig["goal"] else "no"


def fmt(res):
    if "not_measured" in res:
        return "-", "-", "-"
    if "bare_exit_us" in res:
        return ("%.2f us" % res["bare_exit_us"], "%.2f us" % res["hypercall_us"],
                "%.2f" % res["ratio"])
    if res.get("unit") == "ms":
        return ("%.2f ms" % res["dom0"], "%.2f ms" % res["guest"], "%.2f" % res["ratio"])
    if "dom0_mib_s" in res:
        return ("%.1f MiB/s" % res["dom0_mib_s"], "%.1f MiB/s" % res["guest_mib_s"],
                "%.2f" % res["ratio"])
    if "exits_per_s" in res:
        return "-", "%.1f%%, %.0f exits/s" % (res["guest"], res["exits_per_s"]), "-"
    if res.get("unit") == "KiB":
        return "-", "%.0f KiB" % res["guest"], "-"
    return "%.2f s" % res["dom0"], "%.2f s" % res["guest"], "%.2f" % res["ratio"]


def goal_text(fig):
    k, g = fig["kind"], fig["goal"]
    if k == "le":
        return "<= %g" % g
    if k == "ge":
        return ">= %g" % g
    if k == "idle":
        return "<= 1% & 100/s"
    if k == "info":
        return "(reported)"
    return "<= %g KiB" % g


def print_table(results):
    print("%-10s %-14s %-22s %-7s %-14s %s" % ("figure", "dom0", "guest", "ratio", "goal",
                                             "meets"))
    for fig, res in results:
        d, g, r = fmt(res)
        print("%-10s %-14s %-22s %-7s %-14s %s" % (fig["name"], d, g, r, goal_text(fig),
                                                 verdict(fig, res)))
        if "not_measured" in res:
            print("           (%s)" % res["not_measured"])


def qemu_version():
    try:
        return subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                              text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def draw_png(path, results):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "python3-matplotlib"]).returncode:
            sys.exit("bench: --png needs python3-matplotlib and apt-get could not install "
                     "it (run apt-get update, or drop --png)")
        sys.path.append("/usr/lib/python3/dist-packages")
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    rows = [(f["name"], r["ratio"], f["goal"]) for f, r in results
            if "not_measured" not in r and r.get("ratio") is not None and f["goal"]]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    xs = range(len(rows))
    ax.bar(xs, [r[1] for r in rows], color="#4a7ab5", label="guest / dom0 (measured)")
    ax.scatter(xs, [r[2] for r in rows], color="#c0392b", marker="_", s=600, label="goal")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r[0] for r in rows])
    ax.set_ylabel("ratio")
    ax.set_title("Keel: guest vs dom0, one boot, QEMU TCG")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    log("chart written to %s" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Figures:\n" + "\n".join(
                                     "  %-10s %s" % (f["name"], DESCRIPTIONS[f["name"]])
                                     for f in FIGURES))
    ap.add_argument("--runs", type=int, default=3, help="runs of each job per domain "
                    "(medians are reported; default 3)")
    ap.add_argument("--only", help="comma-separated figures to measure (default: all)")
    ap.add_argument("--iso", help="ISO to boot (default: out/keel.iso)")
    ap.add_argument("--smp", type=int, default=4, help="QEMU CPUs (default 4)")
    ap.add_argument("--mem", type=int, default=2048, help="QEMU memory in MiB (default 2048)")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"),
                    help="where to write the table as JSON (default bench/results/latest.json)")
    ap.add_argument("--png", help="also draw the ratios as a bar chart (PNG) here")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    figures = FIGURES
    if args.only:
        names = args.only.split(",")
        unknown = [n for n in names if n not in DESCRIPTIONS]
        if unknown:
            ap.error("unknown figure(s) %s; the figures are %s"
                     % (", ".join(unknown), ", ".join(DESCRIPTIONS)))
        figures = [f for f in FIGURES if f["name"] in names]
    t0 = time.time()
    m = benchlib.boot_dom0("bench-ratios", args.iso, args.smp, args.mem, log)
    results = []
    try:
        log("dom0 is up; starting a tiny guest")
        out, rc = m.run("keel create tiny", timeout=180)
        if rc != 0:
            sys.exit("bench: keel create tiny failed: %s" % out)
        tb.wait_guest_ready(m, "tiny")
        STATE["ready_at"] = time.time()
        if any(f["name"] in ("tcp", "latency", "http") for f in figures):
            log("starting a second tiny guest (tiny2) for the network figures")
            m.run("keel create tiny name=tiny2", timeout=180)
            tb.wait_guest_ready(m, "tiny2")
            tb.guest_address(m, "tiny")
            tb.guest_address(m, "tiny2")
        for fig in figures:
            log("measuring %s" % fig["name"])
            results.append((fig, fig["measure"](m, args.runs)))
    finally:
        m.close()
    print()
    print("Keel bench, %s, QEMU TCG -cpu max -smp %d -m %d, %d run(s) per job (medians)"
          % (time.strftime("%Y-%m-%d"), args.smp, args.mem, args.runs))
    print_table(results)
    doc = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runs": args.runs,
           "smp": args.smp, "mem_mib": args.mem, "machine": platform.machine(),
           "cpu": cpu_model(), "qemu": qemu_version(), "seconds": round(time.time() - t0),
           "figures": [dict({"name": f["name"], "goal": f["goal"], "goal_kind": f["kind"],
                             "description": DESCRIPTIONS[f["name"]],
                             "meets": verdict(f, r)}, **r) for f, r in results]}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
    log("table written to %s (%d s in all)" % (args.json, doc["seconds"]))
    if args.png:
        draw_png(args.png, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
