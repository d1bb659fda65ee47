"""Boot tests of the browser dashboard (issue 18): dom0's `keel dashboard`
reached from the host through QEMU's user network (hostfwd), in a real
browser (Debian's headless Chromium, tests/boot/browser.py). The page's
figures match `keel top -b`; a start without the control token, or with
a wrong one, is refused and starts nothing; with the token dom0 shows, a
tiny guest starts from the page and appears there, and a command typed
into its console in the page (xterm.js) answers there; bad requests get
a 4xx and the dashboard goes on. A screenshot of the page is kept in the
logs. Registered into test_boot's table (imported at its end)."""

import http.client
import os
import re
import socket

import test_boot
from browser import Browser
from harness import LOG_DIR, Machine, TestFailure
from test_boot import check, test, wait_guest_ready

STATE = {}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def boot_keel_dashboard():
    port = free_port()
    m = Machine("keel-dashboard", cpu="max", smp=3, mem=1536,
                extra=["-nic", "user,model=e1000,hostfwd=tcp:127.0.0.1:%d-:8080" % port]).start()
    m.boot_entry("keel-serial")
    m.wait_for(r"Keel hypervisor v", 120, "the hypervisor banner 'Keel hypervisor v'")
    m.wait_shell()
    m.dashboard_port = port
    return m


test_boot.FIXTURES["keel-dashboard"] = boot_keel_dashboard


def top_batch(m):
    """`keel top -b -n 1` in dom0: ({name: {column: text}}, free k)."""
    out, rc = m.run("keel top -b -n 1")
    check(rc == 0, "keel top -b failed: %r" % out[-400:])
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["NAME", "STATE"])
    cols = lines[head].split()
    rows = {}
    for line in lines[head + 1:]:
        f = line.split()
        if len(f) != len(cols):
            break
        rows[f[0]] = dict(zip(cols, f))
    mf = re.search(r"(\d+)k free", out)
    check(mf is not None, "keel top -b has no free memory: %r" % out[-400:])
    return rows, int(mf.group(1))


PAGE_ROWS = """Array.from(document.querySelectorAll('#domains tbody tr')).map(tr => ({
  name: tr.dataset.name, id: tr.querySelector('.id').textContent,
  mem: tr.querySelector('.mem').textContent, max: tr.querySelector('.max').textContent,
  vcpus: tr.querySelector('.vcpus').textContent}))"""


def compare_with_top(m, b, what):
    """The page's domains and free memory are what keel top -b shows."""
    rows, free_k = top_batch(m)
    b.wait("document.body.dataset.updated > %d" % int(b.js("Date.now()")), 10,
           "a new update")
    page = {r["name"]: r for r in b.js(PAGE_ROWS)}
    check(set(page) == set(rows), "%s: the page lists %s, keel top -b %s"
          % (what, sorted(page), sorted(rows)))
    for name, r in rows.items():
        want = {"id": r["ID"], "mem": "%.1f" % (int(r["MEM(k)"]) / 1024.0),
                "max": "%.1f" % (int(r["MAXMEM(k)"]) / 1024.0), "vcpus": r["VCPUS"]}
        got = {k: page[name][k] for k in want}
        check(got == want, "%s: %s on the page %r, in keel top -b %r" % (what, name, got, want))
    page_free = int(b.js("document.getElementById('memory').dataset.freeK"))
    check(page_free == free_k, "%s: the page says %d k free, keel top -b %d k"
          % (what, page_free, free_k))
    return rows


def request(m, method, path, token=None):
    """A request from the host; returns (status, body)."""
    c = http.client.HTTPConnection("127.0.0.1", m.dashboard_port, timeout=30)
    c.request(method, path, headers={"X-Keel-Token": token} if token else {})
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, body


def click(b, action, target):
    sel = "button[data-action=\"%s\"][data-target=\"%s\"]" % (action, target)
    if not b.js("!!document.querySelector('%s')" % sel):
        raise TestFailure("the page has no %s button for %s; its domains: %s" % (
            action, target, b.js("document.getElementById('domains').tBodies[0].innerText")))
    b.js("document.querySelector('%s').click()" % sel)
    return b.wait("(m => m.textContent.startsWith('%s %s: ') && m.textContent)"
                  "(document.getElementById('message'))" % (action, target), 240,
                  "the answer to %s %s" % (action, target))


@test("dashboard_in_a_browser", "keel-dashboard")
def t_dashboard(m):
    mu = re.search(r"Dashboard: http://\S+:8080/", m.buf)
    check(mu is not None, "the banner does not show the dashboard's URL")
    out, rc = m.run("keel dashboard --url")
    mt = re.search(r"control token: (\d{4}-\d{4})", out)
    check(rc == 0 and mt is not None, "keel dashboard --url shows no token: %r" % out)
    token = mt.group(1)
    b = Browser()
    try:
        b.open("http://127.0.0.1:%d/" % m.dashboard_port)
        b.wait("document.body.dataset.updated", 30, "its first figures")
        b.wait("document.getElementById('live').className == 'on'", 30, "the live stream")
        compare_with_top(m, b, "idle")

        # no token, then a wrong one: refused, nothing starts
        b.wait("!!document.querySelector('button[data-action=\"start\"][data-target=\"tiny\"]')",
               10, "a Start tiny button")
        said = click(b, "start", "tiny")
        check("need the control token" in said, "a start without the token: %r" % said)
        b.js("document.getElementById('token').value = '0000-0000'")
        said = click(b, "start", "tiny")
        check("wrong control token" in said, "a start with a wrong token: %r" % said)
        out, _ = m.run("keel list")
        check("tiny" not in out, "a refused start started a guest:\n%s" % out)

        # with the token dom0 shows, it starts and shows up
        b.js("document.getElementById('token').value = '%s'" % token)
        said = click(b, "start", "tiny")
        check("start tiny: " in said and "failed" not in said and "rror" not in said,
              "the start from the page failed: %r" % said)
        b.wait("!!document.querySelector('#domains tr[data-name=\"tiny\"]')", 30,
               "the new guest 'tiny'")
        rows = compare_with_top(m, b, "with tiny running")
        check("tiny" in rows, "keel top -b does not list tiny")

        # the web console: type a command, read its answer
        wait_guest_ready(m, "tiny")
        b.js("document.querySelector('button[data-console=\"tiny\"]').click()")
        b.wait("!!(window.keelConsole && keelConsole.term && keelConsole.es && "
               "keelConsole.es.readyState == 1)", 30, "tiny's console open")
        b.wait("keelConsoleText().includes('Keel tiny guest tiny ready')", 60,
               "tiny's console history")
        b.js("(t => t.input ? t.input('echo web-$((6*7))\\r') : t.paste('echo web-$((6*7))\\r'))"
             "(keelConsole.term)")
        b.wait("keelConsoleText().includes('web-42')", 60, "the guest's answer in the web console")
        shot = b.screenshot(os.path.join(LOG_DIR, "dashboard.png"))
        print("    the page with tiny running: %s" % shot)

        # bad requests: 4xx with a reason, and the dashboard goes on
        for method, path, tok, want in (
                ("POST", "/api/action?action=rm&target=tiny", token, 400),
                ("POST", "/api/action?action=pause&target=-h", token, 400),
                ("POST", "/api/action?action=destroy&target=Domain-0", token, 400),
                ("POST", "/api/action?action=start&target=nosuch", token, 404),
                ("POST", "/api/action?action=pause&target=tiny", None, 403),
                ("GET", "/../../etc/shadow", None, 404),
                ("GET", "/%2e%2e/etc/shadow", None, 404),
                ("GET", "/api/nothing", None, 404),
                ("PUT", "/api/state", None, 405),
                ("GET", "/api/console/tiny", None, 403),
                ("GET", "/api/console/tiny?token=0000-0000", None, 403),
                ("GET", "/api/console/..%2fx?token=" + token, None, 400),
                ("POST", "/api/console/nosuch", token, 409)):
            status, body = request(m, method, path, tok)
            check(status == want and '"ok":false' in body,
                  "%s %s answered %d %r, not %d" % (method, path, status, body[:200], want))
        status, body = request(m, "GET", "/api/state")
        check(status == 200 and '"name":"tiny"' in body,
              "the dashboard does not answer after bad requests: %d %r" % (status, body[:200]))
        said = click(b, "destroy", "tiny")
        check("failed" not in said, "destroy from the page failed: %r" % said)
        b.wait("!document.querySelector('#domains tr[data-name=\"tiny\"]')", 30,
               "tiny gone")
    finally:
        b.close()
