"""Boot-test harness for the Keel ISO: runs QEMU (TCG) with the serial port on
pipes and gives expect-like helpers.

    with Machine("linux-entry", cpu="max", smp=2, mem=1024) as m:
        m.boot_entry("linux")
        m.wait_shell()
        out, rc = m.run("keel info")

Everything seen on the serial port is written to tests/boot/logs/<name>.log.
Python 3 standard library only.
"""

import os
import re
import select
import shutil
import signal
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LOG_DIR = os.path.join(HERE, "logs")
DEFAULT_ISO = os.path.join(ROOT, "out", "keel.iso")

# TCG on a loaded 2-core machine: Debian's kernel needs 4-10 s alone, more
# with -smp 4 and other QEMUs running. Scale everything with KEEL_TIMEOUT_SCALE.
SCALE = float(os.environ.get("KEEL_TIMEOUT_SCALE", "1"))

PROMPT = "dom0# "
HV_LINE_START = "(keel) "  # how each hypervisor log line starts (common/log.c)
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")

_running = []  # live Machine objects, killed on exit


class TestFailure(Exception):
    """A check failed; the message says what was expected and what was seen."""


def strip_ansi(text):
    return ANSI_RE.sub("", text)


def _kill_all(*_args):
    for m in list(_running):
        m.close()


def install_signal_handlers():
    def handler(signum, _frame):
        _kill_all()
        raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, handler)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


# QEMU 7.2's multi-threaded TCG sets another vCPU's memory dispatch from the
# thread that changed the memory map, before that vCPU has flushed its TLB
# (softmmu/physmem.c, tcg_commit); an MMIO access in between indexes the
# new map with an old section number and QEMU segfaults (seen about once
# per full run, while Linux sized PCI BARs). QEMU 8.2 runs the update on
# the vCPU's own thread (docs/architecture.md).
QEMU_MIN_VERSION = (8, 2)


def qemu_binary():
    """Path of qemu-system-x86_64, checked once to be QEMU_MIN_VERSION or
    later; raises TestFailure naming the fix otherwise."""
    global _qemu_checked
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise TestFailure("qemu-system-x86_64 not found (apt-get install qemu-system-x86; "
                          "on Debian 12: apt-get install -t bookworm-backports qemu-system-x86)")
    if _qemu_checked != qemu:
        out = subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout
        m = re.search(r"version (\d+)\.(\d+)", out)
        version = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        if version < QEMU_MIN_VERSION:
            raise TestFailure(
                "%s is QEMU %d.%d; the boot tests need %d.%d or later (QEMU 7.2's TCG "
                "segfaults on memory-map changes): on Debian 12, apt-get install -t "
                "bookworm-backports qemu-system-x86, or run ./tests/run.sh, which does"
                % ((qemu,) + version + QEMU_MIN_VERSION))
        _qemu_checked = qemu
    return qemu


_qemu_checked = None


def _allow_core_dump():
    """In QEMU's process before exec: allow a core dump (see
    Machine.crash_report)."""
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


class Deadline:
    """A time limit on a machine's clock (Machine.clock): passed() once
    `seconds` have gone by on it, or wall_cap times as many on the wall
    clock."""

    def __init__(self, machine, seconds):
        self.machine, self.seconds = machine, seconds
        self.end = machine.clock() + seconds
        self.wall_end = time.monotonic() + seconds * machine.wall_cap

    def left(self):
        """Seconds left (<= 0 once passed), on the machine's clock."""
        if time.monotonic() >= self.wall_end:
            return 0.0
        return self.end - self.machine.clock()

    def passed(self):
        return self.left() <= 0

    def __str__(self):
        return "%.0f %s" % (self.seconds, self.machine.clock_unit())


class Machine:
    """One QEMU run. Serial on stdin/stdout pipes; optional monitor socket."""

    # Slower machines (Bochs) multiply every wait by this.
    timeout_scale = 1.0
    # A machine whose clock() is not the wall clock (Bochs: its CPU time)
    # also gives up once this many times a wait's timeout has passed on
    # the wall clock, should its clock stop altogether.
    wall_cap = 1.0

    def __init__(self, name, cpu="max", smp=2, mem=1024, iso=None, extra=None,
                 machine="pc", firmware="bios", media="cdrom"):
        """firmware: "bios" (SeaBIOS, isolinux), "uefi" (OVMF, GRUB) or
        "uefi-secureboot" (OVMF with Secure Boot on, q35 only);
        media: how the ISO is attached: "cdrom", "disk" (an AHCI/IDE hard
        disk, the USB-stick layout through its GPT), "usb" (a USB stick
        on an xHCI controller, id xhci) or "nvme" (an NVMe disk)."""
        self.name = name
        self.iso = iso or os.environ.get("KEEL_ISO", DEFAULT_ISO)
        self.cpu, self.smp, self.mem = cpu, smp, mem
        self.machine, self.firmware, self.media = machine, firmware, media
        self.extra = list(extra or [])
        self.proc = None
        self.buf = ""        # everything seen (decoded), ANSI kept
        self.pos = 0         # wait_for() searches from here
        self.lock = threading.Condition()
        self.eof = False
        self.log = None
        self.monitor_path = None
        self.vars_path = None
        self._seq = 0
        self.started = None

    # ---- lifecycle
    def start(self):
        if not os.path.isfile(self.iso):
            raise TestFailure("ISO not found: %s (run ./build.sh first)" % self.iso)
        qemu = qemu_binary()
        os.makedirs(LOG_DIR, exist_ok=True)
        self.log = open(os.path.join(LOG_DIR, self.name + ".log"), "w", encoding="utf-8",
                        errors="replace")
        self.monitor_path = os.path.join(LOG_DIR, ".%s.%d.monitor" % (self.name, os.getpid()))
        if os.path.exists(self.monitor_path):
            os.unlink(self.monitor_path)
        machine = self.machine + (",smm=on" if self.firmware == "uefi-secureboot" else "")
        # a core dump without the guest's RAM, for crash_report()
        machine += ",dump-guest-core=off"
        cmd = [qemu, "-machine", machine, "-accel", "tcg", "-cpu", self.cpu,
               "-smp", str(self.smp), "-m", str(self.mem)] + \
            self._firmware_args() + self._media_args() + [
               "-display", "none", "-vga", "std",
               "-serial", "stdio",
               "-monitor", "unix:%s,server=on,wait=off" % self.monitor_path,
               "-no-reboot"] + self.extra
        self.log.write("# %s\n" % " ".join(cmd))
        self.log.flush()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_allow_core_dump)
        self.started = time.monotonic()
        _running.append(self)
        threading.Thread(target=self._reader, daemon=True).start()
        return self

    def _firmware_args(self):
        if self.firmware == "bios":
            return []
        # uefi: OVMF without Secure Boot; uefi-secureboot: OVMF's Secure
        # Boot build (SMM, q35 only) with Microsoft's keys enrolled and
        # Secure Boot on, as on a PC sold with Windows
        variants = {"uefi": ("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"),
                    "uefi-secureboot": ("OVMF_CODE_4M.secboot.fd", "OVMF_VARS_4M.ms.fd")}
        if self.firmware not in variants:
            raise TestFailure("unknown firmware %r (bios, %s)"
                              % (self.firmware, ", ".join(sorted(variants))))
        code, template = ("/usr/share/OVMF/" + f for f in variants[self.firmware])
        for f in (code, template):
            if not os.path.isfile(f):
                raise TestFailure("%s not found (apt-get install ovmf)" % f)
        # each run starts from OVMF's pristine variable store
        vars_copy = os.path.join(LOG_DIR, ".%s.%d.vars.fd" % (self.name, os.getpid()))
        shutil.copyfile(template, vars_copy)
        self.vars_path = vars_copy
        args = ["-drive", "if=pflash,format=raw,readonly=on,file=%s" % code,
                "-drive", "if=pflash,format=raw,file=%s" % vars_copy]
        if self.firmware == "uefi-secureboot":
            if self.machine != "q35":
                raise TestFailure("OVMF's Secure Boot build needs SMM: use machine='q35'")
            args += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
        return args

    def _media_args(self):
        if self.media == "cdrom":
            return ["-cdrom", self.iso, "-boot", "d"]
        # a disk QEMU may write to, but the writes go to a temporary file
        drive = "if=none,id=medium,format=raw,snapshot=on,file=%s" % self.iso
        if self.media == "disk":
            return ["-drive", drive, "-device", "ide-hd,drive=medium,bootindex=0"]
        if self.media == "usb":
            return ["-drive", drive, "-device", "qemu-xhci,id=xhci",
                    "-device", "usb-storage,bus=xhci.0,drive=medium,bootindex=0"]
        if self.media == "nvme":
            return ["-drive", drive, "-device", "nvme,serial=keelmedium,drive=medium,bootindex=0"]
        raise TestFailure("unknown media %r (cdrom, disk, usb or nvme)" % self.media)

    def _reader(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not self._feed(data):
                return

    def _feed(self, data):
        """Take bytes the machine's serial port sent (b"" at its end) into
        the buffer and the log, and wake the waiters. False at the end."""
        if not data:
            with self.lock:
                self.eof = True
                self.lock.notify_all()
            return False
        text = data.decode("utf-8", errors="replace")
        now = self.elapsed()
        with self.lock:
            self.buf += text
            if self.log:
                self.log.write(text)
                self.log.flush()
            self._on_text(text, now)
            self.lock.notify_all()
        return True

    def _on_text(self, text, now):
        """Hook for subclasses: text arrived at now s (lock held)."""

    def close(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        if self in _running:
            _running.remove(self)
        if self.log:
            self.log.write("\n# closed after %.1f s\n" % self.elapsed())
            self.log.close()
            self.log = None
        for path in (self.monitor_path, self.vars_path):
            if path and os.path.exists(path):
                try:
                    os.unlink(path)
                except OSError:
                    pass

    def crash_report(self):
        """If QEMU (or Bochs) itself died of a signal (its bug, not the
        guest's), what its core dump shows: the threads, the crashing
        thread's backtrace and instructions. The whole gdb
        output goes to the log and the core is deleted. "" otherwise."""
        try:
            # its output ended; let it exit (and the kernel finish the dump)
            status = self.proc.wait(timeout=60) if self.proc else None
        except subprocess.TimeoutExpired:
            return ""
        if status is None or status >= 0:
            return ""
        cores = [c for c in ("core.%d" % self.proc.pid, "core") if os.path.isfile(c)]
        if not cores:
            return ("\n    QEMU died of signal %d; no core dump in %s (kernel.core_pattern is %r)"
                    % (-status, os.getcwd(), _read("/proc/sys/kernel/core_pattern").strip()))
        gdb = shutil.which("gdb")
        if not gdb:
            os.unlink(cores[0])
            return "\n    QEMU died of signal %d; gdb not found to read its core" % -status
        try:
            out = subprocess.run([gdb, "-batch", "-nx", "-ex", "info threads", "-ex", "bt 16",
                                  "-ex", "x/4i $pc", "-ex", "echo ---more---\\n",
                                  "-ex", "info registers", "-ex", "thread apply all bt 10",
                                  self.proc.args[0], cores[0]],
                                 capture_output=True, text=True, timeout=180).stdout
        except subprocess.TimeoutExpired:
            out = "gdb took too long"
        os.unlink(cores[0])
        if self.log and not self.log.closed:
            self.log.write("\n# harness: QEMU's core dump (signal %d):\n%s\n" % (-status, out))
        head = "\n".join(out.split("---more---")[0].splitlines()[-60:])
        return "\n    QEMU died of signal %d; its core dump says:\n%s" % (-status, head)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def elapsed(self):
        return time.monotonic() - self.started if self.started else 0.0

    def clock(self):
        """Seconds on the clock that every wait of this machine counts
        (wait_for, wait_shell_prompt, Deadline): the wall clock here. A
        machine that may be kept from the CPU (Bochs, at nice 19 beside
        the QEMU tests) counts the CPU time it got instead, so that how
        busy the host is cannot make it time out."""
        return time.monotonic()

    def clock_unit(self):
        """What clock() counts, for messages."""
        return "s"

    def sleep(self, seconds):
        """Let `seconds` pass on this machine's clock (see clock())."""
        deadline = Deadline(self, seconds)
        while not deadline.passed():
            time.sleep(min(max(deadline.left(), 0.05), 0.5))

    def deadline(self, timeout):
        """A Deadline `timeout` seconds (times KEEL_TIMEOUT_SCALE) from now on
        this machine's clock."""
        return Deadline(self, timeout * SCALE)

    def note(self, text):
        """Write a harness note into the log (not sent to the guest)."""
        if self.log:
            self.log.write("\n# harness: %s\n" % text)
            self.log.flush()

    # ---- expect
    def tail(self, lines=20):
        """The last lines of output, without terminal escapes."""
        with self.lock:
            text = strip_ansi(self.buf[-8000:])
        text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text.replace("\r", ""))
        return "\n".join(text.rstrip("\n").split("\n")[-lines:])

    def wait_for(self, pattern, timeout, what=None, strip=True, drop_hv=False):
        """Wait until regex `pattern` appears after the current position.
        Returns the match object (on the ANSI-stripped text when strip=True)
        and moves the position past it. With drop_hv, the hypervisor's log
        lines ("(keel) ...\n"), which share the serial port with dom0's
        console and may land in the middle of one of its lines, are cut
        out of the text first. Raises TestFailure on timeout or if QEMU
        exits."""
        rx = re.compile(pattern, re.M)
        timeout *= self.timeout_scale
        deadline = self.deadline(timeout)
        with self.lock:
            while True:
                text, ends = self._view(strip, drop_hv)
                mt = rx.search(text)
                if mt:
                    # advance in the raw buffer past the match's last character
                    if ends is None:
                        self.pos += mt.end()
                    elif mt.end() > 0:
                        self.pos += ends[mt.end() - 1]
                    return mt
                if self.eof:
                    crash = self.crash_report()
                    raise TestFailure("QEMU exited (status %s) while waiting for %s; "
                                      "last output:\n%s%s" % (self.proc.poll(), what or repr(pattern),
                                                              self.tail(), crash))
                left = deadline.left()
                if left <= 0:
                    raise TestFailure("timed out after %s waiting for %s; last output:\n%s"
                                      % (deadline, what or repr(pattern), self.tail()))
                self.lock.wait(min(left, 1.0))

    def _view(self, strip, drop_hv):
        """The output after the current position as wait_for searches it:
        without ANSI sequences (strip) and hypervisor log lines (drop_hv).
        Returns (text, ends), ends[j] being the offset in the raw output
        just past text[j]; ends is None when text is the raw output. A
        hypervisor line still being printed ends the text."""
        raw = self.buf[self.pos:]
        if not strip and not drop_hv:
            return raw, None
        out, ends = [], []
        i, n = 0, len(raw)
        while i < n:
            if strip:
                m = ANSI_RE.match(raw, i)
                if m:
                    i = m.end()
                    continue
            if drop_hv and raw.startswith(HV_LINE_START, i):
                j = raw.find("\n", i)
                if j < 0:
                    break
                i = j + 1
                continue
            out.append(raw[i])
            i += 1
            ends.append(i)
        return "".join(out), ends

    def seen(self, pattern):
        """True if regex `pattern` appears anywhere in the output so far."""
        with self.lock:
            return re.search(pattern, strip_ansi(self.buf), re.M) is not None

    def send(self, text, char_delay=0.0):
        """Send raw text to the serial port ("\\r" is Enter)."""
        if self.proc.poll() is not None:
            raise TestFailure("QEMU is not running (exit status %s)" % self.proc.returncode)
        data = text.encode()
        if char_delay:
            for b in data:
                self.proc.stdin.write(bytes([b]))
                self.proc.stdin.flush()
                time.sleep(char_delay)
        else:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def sendline(self, line):
        self.send(line + "\r")

    # ---- boot menu
    def boot_entry(self, label, timeout=120):
        """At the isolinux menu, press Esc for the boot: prompt and type label.
        Under UEFI, pick the GRUB menu entry of the same label instead."""
        if self.firmware == "uefi":
            return self.grub_entry(label, timeout)
        # Esc is only taken once the menu is fully drawn and counting down
        self.wait_for(r"Automatic boot in", timeout, "the isolinux menu")
        time.sleep(0.5)
        for attempt in range(3):
            self.send("\x1b")
            try:
                self.wait_for(r"boot:", 10, "the isolinux boot: prompt after Esc")
                break
            except TestFailure:
                if attempt == 2:
                    raise
                self.note("no boot: prompt after Esc, sending Esc again")
        time.sleep(0.2)
        self.send(label, char_delay=0.02)
        time.sleep(0.1)
        self.send("\r")

    # GRUB's menu (iso/grub.cfg), in order: isolinux's label, GRUB's title
    GRUB_ENTRIES = [("keel", "Keel"), ("keel-serial", "Keel, serial console"),
                    ("keel-safe", "Keel safe mode"),
                    ("keel-kiosk", "Keel kiosk (demonstration loop)"),
                    ("linux", "Dom0 Linux without hypervisor")]

    def grub_entry(self, label, timeout=120, entries=None, countdown=True):
        """At GRUB's menu on the serial port, move down to the entry that
        has isolinux's label `label`, see it highlighted, press Enter.
        entries: the menu's (label, title) pairs in order (default: iso/grub.cfg's);
        countdown: wait for the menu's countdown (False: a menu without a timeout)."""
        entries = entries or self.GRUB_ENTRIES
        labels = [lab for lab, _ in entries]
        if label not in labels:
            raise TestFailure("no GRUB entry for label %r" % label)
        index = labels.index(label)
        title = entries[index][1]
        if countdown:
            self.wait_for(r"executed automatically in", timeout, "GRUB's menu counting down")
        else:
            self.wait_for(re.escape(entries[-1][1]), timeout, "GRUB's menu")
        time.sleep(0.3)
        for _ in range(index):
            # Ctrl-N: down, in one byte (an arrow's ESC [ B may reach
            # GRUB split, and a lone ESC leaves the menu)
            self.send("\x0e")
            time.sleep(0.3)
        # GRUB marks the highlighted entry with a * on a serial terminal;
        # the first entry, the default, was marked before the countdown
        if index:
            self.wait_for(r"\*%s\s\s" % re.escape(title), 30,
                          "GRUB highlighting the entry %r" % title)
        self.send("\r")

    def grub_commands(self, commands, timeout=120):
        """At GRUB's menu, press 'c' for its command line and type each of
        commands there; the last one (which boots) is not waited for. A
        key typed while GRUB still draws the prompt may be lost, so each
        line starts with a space GRUB ignores, and a command GRUB answers
        with "error:" is typed again (at most 3 times)."""
        self.wait_for(r"executed automatically in", timeout, "GRUB's menu counting down")
        time.sleep(0.3)
        self.send("c")
        self.wait_for(r"grub> ", 30, "GRUB's command line prompt")
        for i, cmd in enumerate(commands):
            for attempt in range(3):
                time.sleep(1.0)
                self.send(" " + cmd, char_delay=0.01)
                self.send("\r")
                if i == len(commands) - 1:
                    return
                mt = self.wait_for(r"(?s)(.*?)grub> ", 60, "GRUB's prompt after %r" % cmd)
                if "error:" not in mt.group(1):
                    break
                self.note("GRUB refused %r (a key lost?), typing it again" % cmd)
            else:
                raise TestFailure("GRUB refused %r three times" % cmd)

    # ---- the screen
    def screendump(self, path):
        """Write what the machine's display shows to path (PPM, through
        QEMU's monitor) and return path."""
        if os.path.exists(path):
            os.unlink(path)
        self.monitor("screendump %s" % path, timeout=30)
        deadline = time.monotonic() + 10
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not os.path.exists(path):
            raise TestFailure("QEMU wrote no screendump to %s" % path)
        return path

    # ---- dom0 shell
    def wait_shell(self, timeout=240):
        """Wait for dom0's /init banner and a shell prompt on the serial port."""
        self.wait_for(r"Welcome to Keel dom0", timeout, "the dom0 banner 'Welcome to Keel dom0'")
        self.wait_shell_prompt(60)

    def wait_shell_prompt(self, timeout=60):
        """Poke the serial shell with Enter until `dom0# ` answers."""
        deadline = self.deadline(timeout)
        while True:
            self.send("\r")
            try:
                self.wait_for(re.escape(PROMPT), 5, "the dom0# prompt")
                break
            except TestFailure:
                if deadline.passed() or self.eof:
                    raise TestFailure("no '%s' prompt on the serial port within %s; last "
                                      "output:\n%s" % (PROMPT, deadline, self.tail()))
        # drain further prompts from the extra Enters
        time.sleep(0.5)
        with self.lock:
            self.pos = len(self.buf)

    def run(self, command, timeout=60):
        """Run a shell command in dom0 over the serial console. Returns
        (output, exit status). Output is what the command printed (stdout
        and stderr), with \\r removed."""
        self._seq += 1
        n = self._seq
        # The markers are split in the typed text so the terminal's echo of
        # the command line cannot match them.
        line = "echo '__KB''%d__'; %s; echo '__KE''%d__' rc=$?" % (n, command, n)
        with self.lock:
            self.pos = len(self.buf)
        self.sendline(line)
        # (a dom0 console message, such as the domain monitor's "(keel) ..."
        # lines, may be printed right after the start marker)
        # The hypervisor's own log lines can land anywhere in dom0's
        # output, even inside a marker: they are cut out (drop_hv).
        self.wait_for(r"__KB%d__(\r?\n)?" % n, timeout, "start of the output of %r" % command,
                      drop_hv=True)
        m = self.wait_for(r"(?s)^(.*?)__KE%d__ rc=(\d+)" % n, timeout,
                          "end of the output of %r" % command, drop_hv=True)
        out = m.group(1).replace("\r", "")
        # let the next prompt appear before anything else is typed
        try:
            self.wait_for(re.escape(PROMPT), 10, "the prompt after %r" % command, drop_hv=True)
        except TestFailure:
            pass
        return out, int(m.group(2))

    # ---- when something stops answering
    def dump_state(self, why):
        """Record where every CPU is: QEMU's `info registers -a` (twice, 1 s
        apart, to tell a spin from a halt) goes into the log, and one line
        per CPU (RIP, in the hypervisor or in a domain's code) is returned
        for the failure report. The hypervisor's own watchdog dump, if it
        printed one, is already in the serial log."""
        lines = ["state of the machine (%s):" % why]
        if self.proc is None or self.proc.poll() is not None:
            return lines + ["  QEMU is not running"]
        samples = []
        for _ in range(2):
            try:
                text = self.monitor("info registers -a", timeout=10)
            except OSError as e:
                return lines + ["  QEMU monitor did not answer: %s" % e]
            self.note("info registers -a (%s):\n%s" % (why, text))
            samples.append(parse_cpu_states(text))
            time.sleep(1)
        first = {c: r for c, r, _, _ in samples[0]}
        for cpu, rip, cpl, intf in samples[-1]:
            if rip is None:
                continue
            moved = "same RIP 1 s apart" if first.get(cpu) == rip else "moving"
            lines.append("  CPU%d RIP=%#x CPL=%s IF=%s %s (%s)"
                         % (cpu, rip, cpl, int(bool(intf)), symbolize(rip), moved))
        lines += self._lapic_states(why)
        with self.lock:
            text = strip_ansi(self.buf).replace("\r", "")
        lines += stall_context(text)
        return lines

    def _lapic_states(self, why):
        """QEMU's `info lapic` of each CPU into the log, and one line per
        CPU (its timer and pending vectors) for the report: a Linux that
        stalls with an idle CPU whose timer never fires (docs/
        architecture.md, the native-boot RCU stall) shows here whether
        the timer was armed, masked or had its interrupt pending."""
        lines = []
        for cpu in range(self.smp):
            try:
                text = self.monitor("info lapic %d" % cpu, timeout=10)
            except OSError:
                break
            self.note("info lapic %d (%s):\n%s" % (cpu, why, text))
            summary = lapic_summary(text)
            if summary:
                lines.append("  CPU%d LAPIC %s" % (cpu, summary))
        return lines

    # ---- monitor
    def monitor(self, command, timeout=10):
        """Send a command to the QEMU monitor; returns its reply text."""
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.monitor_path)
        data = b""
        try:
            while b"(qemu)" not in data:
                data += s.recv(4096)
            s.sendall(command.encode() + b"\n")
            data = b""
            while data.count(b"(qemu)") < 1:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        return strip_ansi(data.decode(errors="replace"))


_SYMBOLS = None


def hv_symbols():
    """Sorted (address, name) pairs of the hypervisor's text symbols, read
    from build/hypervisor/keel.elf with nm ([] when it is not there)."""
    global _SYMBOLS
    if _SYMBOLS is None:
        _SYMBOLS = []
        elf = os.path.join(ROOT, "build", "hypervisor", "keel.elf")
        try:
            out = subprocess.run(["nm", "-n", elf], capture_output=True, text=True,
                                 timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "tTwW":
                _SYMBOLS.append((int(f[0], 16), f[2]))
    return _SYMBOLS


def symbolize(rip):
    """'keel:function+0xoff' if rip lies in the hypervisor's text, else
    'guest' (dom0's or a guest's own code)."""
    syms = hv_symbols()
    if not syms or rip < syms[0][0] or rip > syms[-1][0] + 0x10000:
        return "guest code (not the hypervisor)"
    best = syms[0]
    for addr, name in syms:
        if addr > rip:
            break
        best = (addr, name)
    return "keel:%s+%#x" % (best[1], rip - best[0])


def parse_cpu_states(text):
    """From the monitor's `info registers -a`: a list of (cpu, rip, cpl, if)
    per CPU."""
    states = []
    for block in re.split(r"(?m)^CPU#", text)[1:]:
        cpu = int(re.match(r"(\d+)", block).group(1))
        rip = re.search(r"RIP=([0-9a-f]+)", block)
        efl = re.search(r"RFL=([0-9a-f]+)", block)
        cpl = re.search(r"CPL=(\d)", block)
        states.append((cpu, int(rip.group(1), 16) if rip else None,
                       int(cpl.group(1)) if cpl else None,
                       bool(int(efl.group(1), 16) & 0x200) if efl else None))
    return states


def lapic_summary(text):
    """The timer and interrupt lines of QEMU's `info lapic` in one line:
    the LVT timer entry, the counts, ISR and IRR."""
    keep = []
    for key in ("LVTT", "Timer", "ISR", "IRR"):
        mt = re.search(r"(?m)^%s\s+(.*)$" % key, text)
        if mt:
            keep.append("%s %s" % (key, " ".join(mt.group(1).split())))
    return "; ".join(keep)


def stall_context(text, before=12):
    """If Linux reported an RCU stall or a soft lockup, the lines before
    its first report (where the boot was when it stopped), for a failure
    report whose tail shows only the repeated stall dumps. [] otherwise."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if re.search(r"rcu: INFO: .*stall|rcu: .*kthread starved|soft lockup", line):
            head = ["  the first stall report was at line %d of the serial log; before it:" % (i + 1)]
            return head + ["    " + l for l in lines[max(0, i - before):i + 1]]
    return []


def parse_info(text):
    """Parse `keel info` output ("key : value" lines) into a dict."""
    info = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+)\s*:\s*(.*)$", line.strip())
        if m:
            info[m.group(1)] = m.group(2).strip()
    return info


def mib(value):
    """Parse a memory value like '1024', '1024 MiB' or '1024MiB' into MiB."""
    m = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(MiB|M|MB)?\b", value)
    if not m:
        raise TestFailure("cannot parse a MiB value from %r" % value)
    return float(m.group(1))
