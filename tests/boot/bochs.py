#!/usr/bin/env python3
"""Boot the Keel ISO in Bochs (VT-x with EPT/VPID/unrestricted guest, or SVM)
with COM1 on a TCP socket, and drive it like tests/boot/harness.py drives QEMU.

    from bochs import BochsMachine
    with BochsMachine(iso="out/keel.iso", cpu="corei7_skylake_x", smp=2,
                      mem=2048, log="/tmp/b.log", echo=True) as m:
        m.boot_entry("keel-serial")              # isolinux label
        m.expect(r"Keel hypervisor v", 300)       # regex, seconds
        m.send("\\r")

BochsMachine subclasses harness.Machine, so wait_for(), seen(), tail(),
run() and wait_shell() work the same way (with larger default timeouts:
Bochs runs at roughly 1/20 of QEMU TCG's speed). Everything read from COM1
goes raw to the log file; with a times file, each line is also written
there with the seconds since Bochs started.

The ISO is copied into the run's temp dir first (Bochs reads the CD
image while it runs, so a ./build.sh during a run would otherwise change
the CD under the guest). Bochs is always killed: on close(), at interpreter exit, on SIGTERM/SIGHUP/
SIGINT, and (PR_SET_PDEATHSIG) when the Python process dies, even by
SIGKILL. It runs at `nice 19`, so that the QEMU tests that measure time
keep their CPUs while a Bochs machine runs beside them, and every wait
counts the CPU time Bochs has had rather than the wall clock (clock()):
a Bochs kept from the CPU does not time out. One Bochs per CPU at most.

Installs what it needs with apt-get (Debian 12, root): bochs, bochsbios,
vgabios and bochs-x. The rfb display used here is part of the bochs
package itself; bochs-x is only there because bochs depends on some
bochs-gui provider (bochs-x is lighter than the default bochs-wx).

Python 3 standard library only. Run with --help for the command line.
"""

import argparse
import atexit
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from harness import TestFailure, strip_ansi  # noqa: E402

ROOT = harness.ROOT
DEFAULT_ISO = harness.DEFAULT_ISO

APT_PACKAGES = ["bochs", "bochsbios", "vgabios", "bochs-x"]
BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGABIOS = "/usr/share/bochs/VGABIOS-lgpl-latest"   # symlink into the vgabios package
PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/bochs/plugins"
RFB_PLUGIN = "libbx_rfb_gui.so"

CPU_MODELS = ("corei7_skylake_x", "ryzen")   # others from `bochs --help cpu` work too

# Menu labels of iso/isolinux.cfg, and short names for them.
MENU_ALIASES = {
    "serial": "keel-serial",
    "default": "keel",
    "vga": "keel",
    "safe": "keel-safe",
    "native": "linux",
    "nohv": "linux",
}

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_apt_updated = False
_PR_SET_PDEATHSIG = 1


# ------------------------------------------------------------------ install

def _missing():
    """What of the Bochs setup is not on this machine (list of strings)."""
    missing = []
    if not shutil.which("bochs"):
        missing.append("bochs")
    if not os.path.isfile(BIOS):
        missing.append(BIOS)
    if not os.path.exists(VGABIOS):          # follows the symlink
        missing.append(VGABIOS)
    if not any(f.startswith(RFB_PLUGIN) for f in _listdir(PLUGIN_DIR)):
        missing.append(os.path.join(PLUGIN_DIR, RFB_PLUGIN))
    return missing


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def ensure_installed(verbose=True):
    """Install Bochs and its ROMs with apt-get if anything is missing
    (apt-get update once per process first). Needs root."""
    global _apt_updated
    missing = _missing()
    if not missing:
        return
    if os.geteuid() != 0:
        raise TestFailure("Bochs is not installed (%s missing) and this is not root: run "
                          "apt-get install -y %s" % (", ".join(missing), " ".join(APT_PACKAGES)))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if verbose:
        print("bochs.py: installing %s (missing: %s)" % (" ".join(APT_PACKAGES),
                                                          ", ".join(missing)), flush=True)
    if not _apt_updated:
        subprocess.run(["apt-get", "update"], env=env, check=True,
                       stdout=subprocess.DEVNULL if not verbose else None)
        _apt_updated = True
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + APT_PACKAGES,
                   env=env, check=True, stdout=subprocess.DEVNULL if not verbose else None)
    still = _missing()
    if still:
        raise TestFailure("after apt-get install, still missing: %s" % ", ".join(still))


# ------------------------------------------------------------------ helpers

def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _child_setup(nice):
    """In the forked child before exec: own process group (set by Popen),
    lower priority, and die with the parent (SIGKILL on parent death)."""
    try:
        if nice:
            os.nice(nice)
    except OSError:
        pass
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def _remove_stale_tmpdirs():
    """Remove the temp dirs of harness processes that died without
    cleaning up (killed by SIGKILL; their Bochs died with them)."""
    top = tempfile.gettempdir()
    for d in _listdir(top):
        m = re.match(r"keel-bochs-(\d+)-", d)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(top, d), ignore_errors=True)
        except OSError:
            pass


_running = []


def kill_all(*_args):
    for m in list(_running):
        m.close()


atexit.register(kill_all)


def install_signal_handlers():
    """SIGTERM/SIGHUP end the process through SystemExit (so finally and
    atexit run and Bochs is killed). SIGINT already raises KeyboardInterrupt."""
    def handler(signum, _frame):
        kill_all()
        raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


# ------------------------------------------------------------------ machine

class BochsMachine(harness.Machine):
    """One Bochs run with COM1 on a socket. See the module docstring."""

    # Bochs runs about a tenth as fast as QEMU's TCG here: every wait is
    # tripled. (Its CPUID leaves 0x15 and 0x16 claim 3.5 GHz while the TSC
    # counts `ips`; Keel hides them from dom0 and guests, cpuid_policy_tsc,
    # so their clocks keep time.)
    timeout_scale = 3.0
    # waits count Bochs's CPU time (clock()); this is only the limit on
    # one whose Bochs stopped using the CPU altogether
    wall_cap = 20.0

    def __init__(self, name="bochs", iso=None, cpu="corei7_skylake_x", smp=2, mem=2048,
                 ips=200000000, sync="none", log=None, times=None, echo=False,
                 bochs_log=None, triple_fault_reset=False, ignore_bad_msrs=True,
                 extra_rc=None, nice=19, snapshot_iso=True):
        super().__init__(name, cpu=cpu, smp=smp, mem=mem, iso=iso)
        self.iso = os.path.abspath(iso or os.environ.get("KEEL_ISO", DEFAULT_ISO))
        self.ips = int(ips)
        self.sync = sync
        self.log_path = log or os.path.join(harness.LOG_DIR, name + ".log")
        self.times_path = times
        self.bochs_log_path = bochs_log or re.sub(r"(\.log)?$", ".bochsout.txt",
                                                  self.log_path, count=1)
        self.echo = echo
        self.triple_fault_reset = triple_fault_reset
        self.ignore_bad_msrs = ignore_bad_msrs
        self.extra_rc = list(extra_rc or [])
        self.nice = nice
        self.tmpdir = None
        self.sock = None
        self.port = None
        self.times = None
        self._line_start = None
        self._line = ""
        self._closed = False
        self._cpu_seen = 0.0
        self.tick_samples = []      # (seconds since start, Bochs tick), see _tick_sampler
        # Bochs reads the CD image while it runs: boot a private copy, so
        # that a ./build.sh during the run cannot change the CD under it
        self.snapshot_iso = snapshot_iso
        self.cd_path = None

    # ---- configuration
    def bochsrc(self, port, bochs_log):
        cpu = ("cpu: model=%s, count=%d, ips=%d, reset_on_triple_fault=%d, ignore_bad_msrs=%d"
               % (self.cpu, self.smp, self.ips, int(self.triple_fault_reset),
                  int(self.ignore_bad_msrs)))
        if self.cpu == "ryzen":
            # Bochs 2.7 never wakes a timed MWAITX: set_mwaitx_timer() arms
            # timer handle `mwaitx_timer_active` (0) instead of
            # `mwaitx_timer_handle` (fixed upstream in 26914d005, Bochs 2.8).
            # Linux's udelay() on a CPU with MWAITX (ryzen has it) then
            # sleeps for good with IF=0, natively or as Keel's dom0.
            # mwait_is_nop makes MONITOR/MWAIT(X) return at once.
            cpu += ", mwait_is_nop=1"
        lines = [
            "# written by tests/boot/bochs.py",
            "config_interface: textconfig",
            # Debian's Bochs has no nogui; rfb (VNC, ports 5900-5949, the first
            # free one) with timeout=0 does not wait for a viewer.
            'display_library: rfb, options="timeout=0"',
            "romimage: file=%s" % BIOS,
            "vgaromimage: file=%s" % VGABIOS,
            cpu,
            # Bochs 2.7: memory: guest=MiB, host=MiB (megs: N is the old form)
            "memory: guest=%d, host=%d" % (self.mem, self.mem),
            "pci: enabled=1, chipset=i440fx",
            "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
            'ata0-master: type=cdrom, path="%s", status=inserted' % (self.cd_path or self.iso),
            "boot: cdrom",
            "clock: sync=%s, time0=local" % self.sync,
            # socket-server: Bochs waits for our connection before it starts
            "com1: enabled=1, mode=socket-server, dev=127.0.0.1:%d" % port,
            "mouse: enabled=0",
            "speaker: enabled=0",      # else ALSA complains on a machine without sound
            "log: %s" % bochs_log,
            "panic: action=fatal",
            "error: action=report",
            "info: action=report",
            "debug: action=ignore",
        ] + self.extra_rc
        return "\n".join(lines) + "\n"

    # ---- lifecycle
    def start(self, connect_timeout=60):
        if not os.path.isfile(self.iso):
            raise TestFailure("ISO not found: %s (run ./build.sh first)" % self.iso)
        ensure_installed()
        _remove_stale_tmpdirs()
        self.tmpdir = tempfile.mkdtemp(prefix="keel-bochs-%d-" % os.getpid())
        if self.snapshot_iso:
            self.cd_path = os.path.join(self.tmpdir, "cd.iso")
            shutil.copyfile(self.iso, self.cd_path)
        os.makedirs(os.path.dirname(os.path.abspath(self.log_path)) or ".", exist_ok=True)
        self.log = open(self.log_path, "w", encoding="utf-8", errors="replace")
        if self.times_path:
            self.times = open(self.times_path, "w", encoding="utf-8", errors="replace")
        for attempt in range(3):
            self.port = free_port()
            bochs_log = os.path.join(self.tmpdir, "bochsout.txt")
            rc_path = os.path.join(self.tmpdir, "bochsrc")
            with open(rc_path, "w") as f:
                f.write(self.bochsrc(self.port, bochs_log))
            cont = os.path.join(self.tmpdir, "cont.rc")
            with open(cont, "w") as f:
                f.write("c\n")      # debugger command file: continue at once
            cmd = ["bochs", "-q", "-f", rc_path, "-rc", cont]
            self.stdout_path = os.path.join(self.tmpdir, "bochs.stdout")
            out = open(self.stdout_path, "wb")
            # stdin: /dev/null, so that Bochs's debugger prompt (after a
            # panic or the end of the rc file) reads EOF and quits
            nice = self.nice
            self.proc = subprocess.Popen(cmd, cwd=self.tmpdir, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True,
                                         preexec_fn=lambda: _child_setup(nice))
            out.close()
            self.started = time.monotonic()
            if self not in _running:
                _running.append(self)
            self.log.write("# bochs (pid %d, nice %d) with %s, CD: %s%s\n# %s"
                           % (self.proc.pid, self.nice, rc_path, self.iso,
                              " (copied at start)" if self.cd_path else "",
                              self.bochsrc(self.port, bochs_log).replace("\n", "\n# ")))
            self.log.write("\n")
            self.log.flush()
            try:
                self.sock = self._connect(connect_timeout)
                self._check_connected()
                break
            except TestFailure:
                why = self._bochs_output_tail()
                self._kill()
                if attempt == 2 or not re.search(r"bind|port|address|connect", why, re.I):
                    self.close()
                    raise TestFailure("could not connect to Bochs's COM1 on port %d; Bochs "
                                      "said:\n%s" % (self.port, why))
                self.note("COM1 port %d not usable, retrying with another" % self.port)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self._reader, daemon=True).start()
        threading.Thread(target=self._tick_sampler, args=(bochs_log,), daemon=True).start()
        return self

    def _connect(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise TestFailure("bochs exited (status %s) before COM1 was connected"
                                  % self.proc.returncode)
            try:
                return socket.create_connection(("127.0.0.1", self.port), timeout=5)
            except OSError:
                if time.monotonic() > deadline:
                    raise TestFailure("COM1 port %d not listening after %.0f s"
                                      % (self.port, timeout))
                time.sleep(0.2)

    def _check_connected(self, timeout=15):
        """Make sure the connection went to this Bochs (it prints "client
        connected" on stdout), not to something else on a reused port."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.stdout_path, "rb") as f:
                    if b"client connected" in f.read():
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.sock.close()
                self.sock = None
                raise TestFailure("Bochs did not report the COM1 connection on port %d "
                                  "(port taken by another program?)" % self.port)
            time.sleep(0.2)

    def _reader(self):
        sock = self.sock
        sock.settimeout(None)
        while True:
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not self._feed(data):
                return

    def _on_text(self, text, now):
        if self.times:
            self._write_times(text, now)
        if self.echo:
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
            except (OSError, ValueError):
                pass

    def _write_times(self, text, now):
        for ch in text:
            if self._line_start is None:
                self._line_start = now
            if ch == "\n":
                line = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", strip_ansi(self._line))
                self.times.write("%9.3f %s\n" % (self._line_start, line))
                self._line, self._line_start = "", None
            else:
                self._line += ch
        self.times.flush()

    _TICK_RE = re.compile(rb"(?m)^(\d{11,})[a-z]\[")

    def _tick_sampler(self, path, period=2.0):
        """Every `period` s, read what Bochs added to its log and remember
        (now, the last tick stamped on a line). Bochs's tick is its
        emulated clock: one tick per instruction of each CPU, skipped
        ahead while every CPU halts; the guest's TSC is the tick count and
        `ips` ticks make one emulated second."""
        offset = 0
        while not self._closed and self.proc is not None and self.proc.poll() is None:
            time.sleep(period)
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read()
            except OSError:
                continue
            cut = data.rfind(b"\n") + 1
            offset += cut
            ticks = self._TICK_RE.findall(data[:cut])
            if ticks:
                tick = int(ticks[-1])
                if not self.tick_samples or tick > self.tick_samples[-1][1]:
                    self.tick_samples.append((self.elapsed(), tick))

    def clock(self):
        """The CPU time Bochs has had, in seconds: every wait counts it
        instead of the wall clock (see harness.Machine.clock). Bochs keeps
        one CPU busy whenever it runs (sync=none: a halted guest skips
        ahead rather than sleep), so alone on a CPU this is the wall
        clock; kept from the CPU by the QEMU tests beside it, it slows
        down with the guest inside, which cannot tell."""
        if self.proc is None:
            return time.monotonic()
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            self._cpu_seen = (int(fields[11]) + int(fields[12])) / _CLK_TCK
        except (OSError, ValueError, IndexError):
            pass    # Bochs has ended: its last reading stands
        return self._cpu_seen

    def clock_unit(self):
        return "s of Bochs's CPU time"

    def tick_rate(self, since=0.0, until=None):
        """Bochs ticks per wall-clock second between the samples nearest to
        `since` and `until` (seconds since start), or None. Outside halts
        this is the instructions per second each emulated CPU reaches."""
        pts = [p for p in self.tick_samples
               if p[0] >= since and (until is None or p[0] <= until)]
        if len(pts) < 2 or pts[-1][0] - pts[0][0] < 1:
            return None
        return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])

    def _kill(self):
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 30)):
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    p.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            # Bochs is gone; anything left in its group goes too
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def close(self):
        if self._closed:
            return
        self._closed = True
        self._kill()
        if self in _running:
            _running.remove(self)
        with self.lock:
            if self.times and self._line:
                self._write_times("\n", self.elapsed())
            if self.log:
                self.log.write("\n# closed after %.1f s (bochs exit status %s)\n"
                               % (self.elapsed(), self.proc.returncode if self.proc else None))
                self.log.close()
                self.log = None
            if self.times:
                self.times.close()
                self.times = None
        if self.tmpdir:
            src = os.path.join(self.tmpdir, "bochsout.txt")
            try:
                if os.path.exists(src) and self.bochs_log_path:
                    with open(self.bochs_log_path, "wb") as dst, \
                            open(self.stdout_path, "rb") as so, open(src, "rb") as bl:
                        shutil.copyfileobj(so, dst)
                        shutil.copyfileobj(bl, dst)
            except OSError:
                pass
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def _bochs_output_tail(self, lines=15):
        text = ""
        for p in (getattr(self, "stdout_path", None),
                  self.tmpdir and os.path.join(self.tmpdir, "bochsout.txt")):
            try:
                with open(p, "r", errors="replace") as f:
                    text += f.read()[-6000:]
            except (OSError, TypeError):
                pass
        return "\n".join(text.rstrip().split("\n")[-lines:])

    # ---- I/O
    def send(self, text, char_delay=0.0):
        """Send raw text to COM1 ("\\r" is Enter, "\\x1b" Esc)."""
        if self.proc is None or self.proc.poll() is not None or self.sock is None:
            raise TestFailure("Bochs is not running (exit status %s)"
                              % (self.proc.returncode if self.proc else None))
        data = text.encode()
        if char_delay:
            for b in data:
                self.sock.sendall(bytes([b]))
                time.sleep(char_delay)
        else:
            self.sock.sendall(data)

    def expect(self, pattern, timeout, what=None, strip=True, drop_hv=False):
        """Wait (at most `timeout` seconds, unscaled) for regex `pattern`
        after the current position; returns the match. Raises TestFailure
        on timeout or when Bochs exits."""
        try:
            return self.wait_for(pattern, timeout / harness.SCALE / self.timeout_scale, what,
                                 strip, drop_hv)
        except TestFailure as e:
            msg = str(e).replace("QEMU exited", "Bochs exited")
            if self.eof:
                msg += "\nBochs log tail:\n" + self._bochs_output_tail()
            raise TestFailure(msg) from None

    # ---- isolinux
    def boot_entry(self, label, timeout=180):
        """At the isolinux menu: Esc for the boot: prompt, type the label
        (checking its echo), Enter. `label` may be an alias of
        MENU_ALIASES. Returns (seconds to the menu, seconds to boot:)."""
        label = MENU_ALIASES.get(label, label)
        self.expect(r"Automatic boot in", timeout, "the isolinux menu")
        t_menu = self.elapsed()
        time.sleep(0.5)
        for attempt in range(4):
            self.send("\x1b")
            try:
                self.expect(r"boot:", 20, "the isolinux boot: prompt after Esc")
                break
            except TestFailure:
                if attempt == 3 or self.eof:
                    raise
                self.note("no boot: prompt after Esc, sending Esc again")
        t_prompt = self.elapsed()
        time.sleep(0.3)
        # the first key at boot: can be lost: a space and a backspace first
        self.send(" ", char_delay=0.1)
        self.send("\x08", char_delay=0.1)
        for attempt in range(3):
            self.send(label, char_delay=0.08)
            try:
                self.expect(re.escape(label), 20, "the echo of %r at boot:" % label)
                break
            except TestFailure:
                if attempt == 2 or self.eof:
                    raise
                self.note("label not echoed, erasing and typing it again")
                self.send("\x08" * (len(label) + 4), char_delay=0.05)
        time.sleep(0.2)
        self.send("\r")
        m = self.expect(r"Loading \S+|Could not find kernel image[^\n]*", 60,
                        "isolinux loading the entry %r" % label)
        if m.group(0).startswith("Could not"):
            raise TestFailure("isolinux: %s" % m.group(0))
        return t_menu, t_prompt

    # ---- dom0 shell (Bochs needs far more time than QEMU)
    def wait_shell(self, timeout=1200):
        self.expect(r"Welcome to Keel dom0", timeout, "the dom0 banner 'Welcome to Keel dom0'")
        self.wait_shell_prompt(300)

    def dump_state(self, why):
        return ["state of the machine (%s): Bochs log tail:" % why] + \
            ["  " + l for l in self._bochs_output_tail().split("\n")]

    def monitor(self, command, timeout=10):
        raise TestFailure("Bochs has no QEMU monitor")


# ------------------------------------------------------------------ CLI

def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Boot an ISO in Bochs with COM1 on a socket; log the serial output, "
                    "optionally pick an isolinux menu entry and wait for regexes in turn.",
        epilog="Menu entries (iso/isolinux.cfg): keel, keel-serial, keel-safe, linux; "
               "aliases: %s. Exit status: 0 when every --expect matched (or, with none, when "
               "the run ended by --timeout or by Bochs exiting), 1 when one did not, 2 on a "
               "setup error. Times are seconds since Bochs started."
               % ", ".join("%s=%s" % kv for kv in sorted(MENU_ALIASES.items())))
    ap.add_argument("--iso", default=os.environ.get("KEEL_ISO", DEFAULT_ISO),
                    help="ISO to boot from the CD drive (default: out/keel.iso)")
    ap.add_argument("--cpu", default="corei7_skylake_x",
                    help="Bochs CPU model: corei7_skylake_x (VT-x, EPT, VPID, unrestricted "
                         "guest; default) or ryzen (AMD-V, NPT); see `bochs --help cpu`")
    ap.add_argument("--smp", type=int, default=2, help="number of CPUs (default 2)")
    ap.add_argument("--mem", type=int, default=2048, help="guest RAM in MiB (default 2048)")
    ap.add_argument("--ips", type=int, default=200000000,
                    help="Bochs's ips: instructions per emulated second (default 200000000)")
    ap.add_argument("--sync", default="none", choices=("none", "slowdown", "realtime", "both"),
                    help="Bochs clock sync (default none: guest time counts instructions)")
    ap.add_argument("--menu-entry", metavar="LABEL",
                    help="isolinux label to type at boot: (or an alias such as 'serial'); "
                         "default: press nothing, the menu boots its default after 5 s")
    ap.add_argument("--expect", metavar="REGEX", action="append", default=[],
                    help="wait for this regex (repeatable; in order, each after the last)")
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds from the start for the whole run (default 900)")
    ap.add_argument("--log", help="serial log file (default tests/boot/logs/bochs.log)")
    ap.add_argument("--times", help="also write each serial line with its time here "
                                    "(default: LOG.times)")
    ap.add_argument("--bochs-log", help="Bochs's own log (default: LOG with .bochsout.txt)")
    ap.add_argument("--echo", action="store_true", help="copy the serial output to stdout")
    ap.add_argument("--rc", metavar="LINE", action="append", default=[],
                    help="extra bochsrc line (repeatable), e.g. 'port_e9_hack: enabled=1'")
    ap.add_argument("--triple-fault-reset", action="store_true",
                    help="reset on a triple fault (default: Bochs stops with a panic)")
    ap.add_argument("--strict-msrs", action="store_true",
                    help="#GP on MSRs Bochs does not know (ignore_bad_msrs=0)")
    ap.add_argument("--iso-in-place", action="store_true",
                    help="boot the ISO file itself (default: a copy made at start, so a "
                         "rebuild during the run cannot change the CD)")
    ap.add_argument("--no-install", action="store_true", help="do not apt-get install")
    args = ap.parse_args(argv)

    install_signal_handlers()
    log = args.log or os.path.join(harness.LOG_DIR, "bochs.log")
    times = args.times or log + ".times"
    try:
        if not args.no_install:
            ensure_installed()
        m = BochsMachine("bochs", iso=args.iso, cpu=args.cpu, smp=args.smp, mem=args.mem,
                         ips=args.ips, sync=args.sync, log=log, times=times, echo=args.echo,
                         bochs_log=args.bochs_log, triple_fault_reset=args.triple_fault_reset,
                         ignore_bad_msrs=not args.strict_msrs, extra_rc=args.rc,
                         snapshot_iso=not args.iso_in_place)
        m.start()
    except (TestFailure, subprocess.CalledProcessError) as e:
        print("bochs.py: %s" % e, file=sys.stderr)
        kill_all()
        return 2

    def say(text):
        print("[%8.1f s] %s" % (m.elapsed(), text), flush=True)

    status = 0
    try:
        say("bochs pid %d, COM1 on 127.0.0.1:%d, %s, %d CPU(s), %d MiB, log %s"
            % (m.proc.pid, m.port, args.cpu, args.smp, args.mem, log))
        if args.menu_entry:
            t_menu, t_prompt = m.boot_entry(args.menu_entry,
                                            timeout=max(1, args.timeout - m.elapsed()))
            say("isolinux menu at %.1f s, boot: prompt at %.1f s, typed %r"
                % (t_menu, t_prompt, MENU_ALIASES.get(args.menu_entry, args.menu_entry)))
        for rx in args.expect:
            left = args.timeout - m.elapsed()
            if left <= 0:
                raise TestFailure("--timeout %.0f s reached before %r" % (args.timeout, rx))
            mt = m.expect(rx, left, repr(rx))
            t_match = m.elapsed()
            # the whole line the match is on, for the report (give it 3 s to end)
            end_by = time.monotonic() + 3
            with m.lock:
                while "\n" not in m.buf[m.pos:] and time.monotonic() < end_by and not m.eof:
                    m.lock.wait(0.2)
                end = m.pos
                start = m.buf.rfind("\n", 0, max(0, end - len(mt.group(0)))) + 1
                nl = m.buf.find("\n", end)
                line = m.buf[start:nl if nl >= 0 else len(m.buf)]
            line = re.sub(r"[\x00-\x08\x0b-\x1f]", "", strip_ansi(line))
            print("[%8.1f s] matched %r: %s" % (t_match, rx, line.strip()), flush=True)
        if not args.expect:
            while m.elapsed() < args.timeout and not m.eof:
                with m.lock:
                    m.lock.wait(1.0)
            say("Bochs exited" if m.eof else "--timeout reached")
    except TestFailure as e:
        say("FAILED: %s" % e)
        status = 1
    except KeyboardInterrupt:
        say("interrupted")
        status = 130
    finally:
        m.close()
    if m.tick_samples:
        t_end, tick_end = m.tick_samples[-1]
        rate = m.tick_rate()
        last = m.tick_rate(since=t_end - 60)
        print("bochs clock: %d ticks (%.1f emulated s at ips=%d) by %.0f s; %s M ticks/s "
              "on average, %s M ticks/s in the minute before (ticks/s = instructions per "
              "second per CPU, outside HLT)"
              % (tick_end, tick_end / args.ips, args.ips, t_end,
                 "%.1f" % (rate / 1e6) if rate else "?", "%.1f" % (last / 1e6) if last else "?"),
              flush=True)
    print("serial log: %s\ntimes: %s\nbochs log: %s" % (log, times, m.bochs_log_path),
          flush=True)
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        kill_all()
