"""A real browser for the boot tests: Debian's headless Chromium, driven
through the Chrome DevTools Protocol on a pipe (--remote-debugging-pipe:
JSON messages ended by a NUL byte, Chromium reading on its fd 3 and
writing on its fd 4), so no WebSocket library is needed. One page;
evaluate JavaScript in it, wait for a condition, take a screenshot."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from harness import TestFailure


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise TestFailure("no Chromium on this host (apt-get install chromium; tests/run.sh "
                      "installs it)")


class Browser:
    """Headless Chromium with one page; close() ends it."""

    def __init__(self, width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="keel-chromium.")
        to_r, self.to_w = os.pipe()      # our messages -> Chromium's fd 3
        self.from_r, from_w = os.pipe()  # Chromium's fd 4 -> us

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.proc = subprocess.Popen(
            [chromium_binary(), "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
             "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--user-data-dir=%s" % self.profile, "--window-size=%d,%d" % (width, height),
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=fds, start_new_session=True)
        os.close(to_r)
        os.close(from_w)
        self.seq = 0
        self.replies = {}
        self.events = []
        self.cond = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self.from_r, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self.cond:
                    self.replies[None] = "closed"
                    self.cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw.decode("utf-8", "replace"))
                with self.cond:
                    if "id" in msg:
                        self.replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                    self.cond.notify_all()

    def call(self, method, params=None, session=False, timeout=60):
        """Send one CDP command (to the page if session); returns its result."""
        with self.cond:
            self.seq += 1
            n = self.seq
        msg = {"id": n, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        end = time.time() + timeout
        with self.cond:
            while n not in self.replies:
                if None in self.replies:
                    raise TestFailure("Chromium ended while %s was running" % method)
                left = end - time.time()
                if left <= 0:
                    raise TestFailure("Chromium did not answer %s within %d s" % (method, timeout))
                self.cond.wait(left)
            reply = self.replies.pop(n)
        if "error" in reply:
            raise TestFailure("Chromium: %s failed: %s" % (method, reply["error"]))
        return reply.get("result", {})

    def open(self, url, timeout=60):
        """Load url and wait for its load event."""
        with self.cond:
            self.events = []
        self.call("Page.navigate", {"url": url}, session=True)
        end = time.time() + timeout
        with self.cond:
            while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
                left = end - time.time()
                if left <= 0:
                    raise TestFailure("%s did not load within %d s" % (url, timeout))
                self.cond.wait(left)

    def js(self, expression, timeout=60):
        """The value of a JavaScript expression in the page (promises
        awaited), as JSON gives it."""
        r = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True}, session=True,
                      timeout=timeout)
        if "exceptionDetails" in r:
            raise TestFailure("JavaScript %r failed: %s" % (expression[:80],
                                                           r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def wait(self, expression, timeout, what):
        """Wait until the expression is true in the page; returns its value
        (a DOM node comes back as {}, which Python takes for false: use
        !!node)."""
        end = time.time() + timeout
        while True:
            v = self.js(expression)
            if v:
                return v
            if time.time() > end:
                raise TestFailure("the page did not show %s within %d s" % (what, timeout))
            time.sleep(0.5)

    def screenshot(self, path):
        """Write a PNG of the page to path; returns path."""
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except TestFailure:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.to_w, self.from_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)
