"""Boot tests of `keel migrate` and `keel migrate-receive` (issue 17), on
the keel-hostile machine after its save and clone tests. The guest moves
to this same machine (localhost), as xl's own tests move one: the stream,
the rounds, the hand-over and every failure path are those of a move
between two machines, and the guest must go on as if nothing happened.
Registered into test_boot's table after test_clone (imported at its
end)."""

import re
import time

from test_boot import check, free_mib, guest_run, list_states, test, wait_guest_ready
from test_save import writer_passes

RECV_LOG = "/tmp/recv.log"


def start_writer(m, name, extra=""):
    """A tiny guest called name running keel-memwriter over 16 MiB."""
    out, rc = m.run("keel create tiny name=%s on_crash=preserve %s" % (name, extra),
                    timeout=180)
    check(rc == 0, "could not create guest %s: %r" % (name, out[-400:]))
    wait_guest_ready(m, name)
    guest_run(m, name, "( keel-memwriter -m 16 -d 200 </dev/null >/tmp/mw.log 2>&1 & ); "
              "sleep 1")
    time.sleep(6)
    passes, lost, text = writer_passes(m, name)
    check(passes > 0 and not lost, "keel-memwriter does not run in %s:\n%s" % (name, text))
    return passes


def domid_of(m, name):
    out, _ = m.run("keel list")
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == name and f[1].isdigit():
            return int(f[1])
    return None


def start_receiver(m, insecure=True):
    """keel migrate-receive in the background, its output in RECV_LOG;
    over SSH, returns the pairing code it shows."""
    out, rc = m.run("rm -f %s; (keel migrate-receive %s >%s 2>&1 & echo $! >/tmp/recv.pid); "
                    "for i in $(seq 20); do grep -q Waiting %s && break; sleep 0.5; done; "
                    "cat %s" % (RECV_LOG, "--insecure" if insecure else "", RECV_LOG, RECV_LOG,
                                RECV_LOG), timeout=60)
    check("Waiting on %s port" % ("TCP" if insecure else "SSH") in out,
          "keel migrate-receive did not start: %r" % out[-400:])
    if insecure:
        return None
    mc = re.search(r"Pairing code: (\d{4}-\d{4})", out)
    check(mc is not None, "keel migrate-receive showed no pairing code: %r" % out[-400:])
    return mc.group(1)


def check_went_on(m, name, before, what):
    """Guest name is running, not crashed, and its writer went on past
    before passes without a lost write."""
    time.sleep(6)
    states, raw = list_states(m)
    check(name in states and "c" not in states[name], "%s: guest %s is not running:\n%s"
          % (what, name, raw))
    after, lost, text = writer_passes(m, name)
    check(not lost, "%s: the writer found a lost write:\n%s" % (what, text))
    check(after > before, "%s: the writer did not go on (%d passes before, %d after):\n%s"
          % (what, before, after, text))
    return after


@test("migrate_moves_a_writing_guest_and_it_goes_on", "keel-hostile")
def t_migrate_local(m):
    # A guest rewriting 16 MiB moves to a new domain while it runs; the old
    # one is gone only once the new one runs, the new one takes its name,
    # and the writer finds no lost write and goes on counting.
    before = start_writer(m, "mover")
    guest_run(m, "mover", "echo history-before-the-move")
    old_id = domid_of(m, "mover")
    code = start_receiver(m, insecure=False)
    # a wrong code first: refused, and the receiver waits for the right one
    wrong = "%04d-%s" % ((int(code[:4]) + 1) % 10000, code[5:])
    out, rc = m.run("keel migrate --code %s mover localhost" % wrong, timeout=120)
    check(rc != 0 and "wrong pairing code" in out and "runs on here" in out,
          "a wrong pairing code should be refused: %r" % out[-600:])
    states, raw = list_states(m)
    check(domid_of(m, "mover") == old_id and "mover-incoming" not in states,
          "after a wrong code the guest should run on as it was:\n%s" % raw)
    recv, _ = m.run("for i in $(seq 20); do grep -q 'right code' %s && break; sleep 0.5; "
                    "done; cat %s" % (RECV_LOG, RECV_LOG), timeout=60)
    check("without the right code (1 of 5" in recv, "the receiver did not count the failed "
          "login: %r" % recv[-600:])
    t0 = time.time()
    out, rc = m.run("keel migrate --code %s mover localhost" % code, timeout=600)
    took = time.time() - t0
    recv, _ = m.run("sleep 2; cat %s" % RECV_LOG)
    check(rc == 0 and "Migrated domain mover to localhost" in out,
          "keel migrate failed: %r\nreceiver: %r" % (out[-800:], recv[-800:]))
    mt = re.search(r"\(id=(\d+) there\) in ([\d.]+) s", out)
    ml = re.search(r"Live: (\d+) round\(s\) after the first full copy, (\d+) page\(s\) copied "
                   r"again while it ran; paused for (\d+) ms to copy the last (\d+) page", out)
    check(mt is not None and ml is not None, "keel migrate did not report its figures: %r"
          % out[-800:])
    new_id = int(mt.group(1))
    rounds, again, paused_ms, last = (int(x) for x in ml.groups())
    check(again > 0, "the guest wrote nothing while it moved: %r" % out[-800:])
    print("    migrate (same machine): %d round(s), %d page(s) again, paused %d ms for %d "
          "page(s); %.1f s in all" % (rounds, again, paused_ms, last, took))
    check("Received domain mover (id=%d)" % new_id in recv, "the receiver did not report "
          "the guest: %r" % recv[-600:])
    states, raw = list_states(m)
    check(domid_of(m, "mover") == new_id and new_id != old_id and
          "mover-incoming" not in states,
          "after the move 'mover' should be domain %d (it was %d), alone:\n%s"
          % (new_id, old_id, raw))
    out, rc = m.run("keel console mover </dev/null | grep -c 'echo history-before-the-move'")
    check(out.strip().splitlines()[-1:] == ["1"], "the console's history did not move: %r"
          % out)
    check_went_on(m, "mover", before, "after the move")


@test("migrate_failures_leave_the_guest_running_here", "keel-hostile")
def t_migrate_failures(m):
    # Every failure leaves the guest running where it was and nothing on
    # the target: no receiver, a receiver that dies mid-copy, a target
    # with too little memory, and bad input.
    if domid_of(m, "mover") is None:
        start_writer(m, "mover")
    before, _, _ = writer_passes(m, "mover")
    for cmd, words in (("keel migrate --code 12-34 mover localhost", ["8 digits"]),
                       ("keel migrate --insecure mover no-such-host", ["not an IPv4"]),
                       ("keel migrate --insecure --port 8011 mover 127.0.0.1",
                        ["cannot reach", "nothing was changed"]),
                       ("keel migrate --insecure Domain-0 localhost", ["Domain-0"]),
                       ("keel migrate-receive --bogus", ["unknown option"])):
        out, rc = m.run(cmd, timeout=60)
        check(rc != 0 and all(w in out for w in words), "'%s' should fail saying %s: %r"
              % (cmd, words, out[-400:]))
    before = check_went_on(m, "mover", before, "after the refused commands")

    # the target dies in the middle of the copy
    start_receiver(m)
    m.run("rm -f /tmp/mig.log; ( (keel migrate --insecure mover localhost >/tmp/mig.log 2>&1; "
          "echo rc=$? >>/tmp/mig.log) & )")
    out, _ = m.run("for i in $(seq 120); do grep -q 'round 1' /tmp/mig.log && break; "
                   "sleep 0.5; done; kill -TERM $(cat /tmp/recv.pid); "
                   "for i in $(seq 60); do grep -q rc= /tmp/mig.log && break; sleep 1; done; "
                   "cat /tmp/mig.log", timeout=150)
    check("round 1" in out and "rc=1" in out and "goes on running here" in out,
          "keel migrate should fail when the target dies, and keep the guest: %r" % out[-800:])
    states, raw = list_states(m)
    check("mover-incoming" not in states, "the dead target's half-made copy is left:\n%s" % raw)
    before = check_went_on(m, "mover", before, "after the target died")

    # too little memory on the target: a guest larger than half the pool
    free = free_mib(m)
    big = free * 2 // 3
    out, rc = m.run("keel create tiny name=big memory=%d" % big, timeout=180)
    check(rc == 0, "could not create a %d MiB guest: %r" % (big, out[-400:]))
    wait_guest_ready(m, "big")
    start_receiver(m)
    out, rc = m.run("keel migrate --insecure big localhost", timeout=120)
    check(rc != 0 and "refused" in out and "memory" in out and "nothing was changed" in out,
          "a move to a target without the memory should be refused by name: %r" % out[-600:])
    states, raw = list_states(m)
    check("big" in states and "big-incoming" not in states and "p" not in states["big"],
          "the refused guest should run on, alone:\n%s" % raw)
    m.run("keel destroy big", timeout=60)
    check_went_on(m, "mover", before, "at the end")
    m.run("keel destroy mover", timeout=60)
