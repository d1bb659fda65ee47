"""Boot tests of `keel save` and `keel restore` (issue 16 part 1), on the
keel-hostile machine after its own tests: the victim guest there runs
tests/hostile's victim program, which keeps XMM0-15 and a 4 MiB area
filled with known values and counts every round in a status file in the
guest's RAM. Saved, destroyed and restored, the guest must go on where
it was: the same program still counting, its registers and memory intact
(xmm_bad and mem_bad unchanged), its console answering and showing its
history from before the save, a file written before the save still there
and its clock, against dom0's, where it was. Then every kind of bad
file is refused by name, with no domain made. Registered into test_boot's
table after test_hostile (imported at its end)."""

import re
import time
import zlib

from test_boot import (check, check_refusals, free_mib, guest_run, list_states, test,
                       wait_guest_ready)
from test_hostile import check_victim_went_on, victim_status

SAVE = "/tmp/victim.sav"
CLOCK_SLACK_S = 2       # how much the guest's clock may move against dom0's


def dom0_time(m):
    out, rc = m.run("date +%s")
    return int(out.strip().splitlines()[-1])


def clock_lag(m, name):
    """How far guest name's clock (date +%s) is behind dom0's: 0 when it
    reads a time between dom0's just before and just after asking it,
    else the seconds it is outside (negative: ahead)."""
    t0 = dom0_time(m)
    out = guest_run(m, name, "echo guest-time=$(date +%s)", timeout=120)
    t1 = dom0_time(m)
    mt = re.search(r"guest-time=(\d+)", out)
    check(mt is not None, "guest %s did not tell its time: %r" % (name, out))
    g = int(mt.group(1))
    return t0 - g if g < t0 else (t1 - g if g > t1 else 0)


@test("save_restore_guest_goes_on_where_it_was", "keel-hostile")
def t_save_restore(m):
    guest_run(m, "victim", "echo written-before-save > /tmp/marker")
    lag_before = clock_lag(m, "victim")
    before = victim_status(m)
    out, rc = m.run("keel save victim %s" % SAVE, timeout=300)
    check(rc == 0 and "Saved domain victim" in out, "keel save failed: %r" % out[-600:])
    states, raw = list_states(m)
    check("victim" not in states, "the saved guest is still there:\n%s" % raw)
    out, rc = m.run("ls -l %s" % SAVE)
    check(rc == 0, "no save file: %r" % out)
    out, rc = m.run("keel restore %s" % SAVE, timeout=300)
    check(rc == 0 and "Restored domain victim" in out, "keel restore failed: %r" % out[-600:])
    out = guest_run(m, "victim", "cat /tmp/marker", timeout=120)
    check("written-before-save" in out, "the file written before the save is gone: %r" % out)
    out, rc = m.run("keel console victim </dev/null | grep -c 'echo written-before-save'")
    check(out.strip().splitlines()[-1:] == ["1"],
          "the console's history from before the save is not there: %r" % out)
    lag_after = clock_lag(m, "victim")
    check(abs(lag_after - lag_before) <= CLOCK_SLACK_S,
          "the guest's clock was %d s behind dom0's before the save and is %d s behind "
          "after the restore" % (lag_before, lag_after))
    check_victim_went_on(m, before)


def restore_refused(m, path, words, what):
    """keel restore path fails with words in its message, and no domain
    appears or goes."""
    check_refusals(m, [("keel restore %s" % path, words)], "restore (%s)" % what, timeout=120)


def header_with_abi(m, major):
    """printf octal escapes for the save file's 64-byte header with its ABI
    major changed to major and its CRC made right again."""
    out, rc = m.run("od -An -tx1 -v -N64 %s" % SAVE)
    head = bytes(int(x, 16) for x in out.split())
    check(len(head) == 64 and head[:8] == b"KEELSAV\n", "cannot read the header: %r" % out)
    abi = (major << 16) | 0
    head = head[:12] + abi.to_bytes(4, "little") + head[16:60]   # the CRC is last
    head += zlib.crc32(head).to_bytes(4, "little")
    return "".join("\\%03o" % b for b in head)


@test("save_restore_refuse_bad_input", "keel-hostile")
def t_save_restore_bad(m):
    out, rc = m.run("keel restore %s" % SAVE, timeout=120)
    check(rc != 0 and "a domain named 'victim' already exists" in out,
          "restoring beside the running guest was not refused by name: %r" % out[-400:])
    m.run("head -c 300000 %s > /tmp/trunc.sav" % SAVE)
    restore_refused(m, "/tmp/trunc.sav", ["is truncated"], "a truncated file")
    m.run("cp %s /tmp/bad.sav && printf 'XYZ' | dd of=/tmp/bad.sav bs=1 seek=200000 "
          "conv=notrunc 2>/dev/null" % SAVE)
    restore_refused(m, "/tmp/bad.sav", ["is damaged", "checksum"], "a damaged file")
    m.run("head -c 4096 /dev/zero > /tmp/zero.sav")
    restore_refused(m, "/tmp/zero.sav", ["not a Keel save file"], "a file of zeros")
    m.run("printf '%s' > /tmp/abi.sav && tail -c +65 %s >> /tmp/abi.sav"
          % (header_with_abi(m, 2), SAVE))
    restore_refused(m, "/tmp/abi.sav", ["ABI 2.0"], "a file from another ABI major")
    # a copy beside its original would share its MAC
    restore_refused(m, "%s name=copy" % SAVE, ["has MAC", "running guest 'victim'",
                                               "Save or destroy 'victim' first"],
                    "a copy beside its running original")
    # too little memory: a filler guest leaves the pool 64 MiB
    free = free_mib(m)
    out, rc = m.run("keel create tiny name=filler memory=%d" % (free - 64 - (free % 2)),
                    timeout=180)
    check(rc == 0, "could not create the filler guest: %r" % out[-400:])
    restore_refused(m, "%s name=copy" % SAVE, ["not enough free memory", "MiB free"],
                    "a guest larger than the free pool")
    out, rc = m.run("keel destroy filler", timeout=60)
    check(rc == 0, "keel destroy filler failed: %r" % out)
    out, rc = m.run("keel restore %s memory=512" % SAVE, timeout=120)
    check(rc != 0 and "memory" in out, "a restore with other memory was not refused: %r"
          % out[-400:])
    out, rc = m.run("keel save victim %s" % SAVE, timeout=120)
    check(rc != 0 and "exists" in out, "keel save overwrote a file: %r" % out[-400:])
    out, rc = m.run("keel save Domain-0 /tmp/dom0.sav", timeout=120)
    check(rc != 0 and "Domain-0 cannot be saved" in out, "saving dom0 was not refused: %r"
          % out[-400:])
    states, raw = list_states(m)
    st = states.get("victim", "")
    check(("r" in st or "b" in st) and "p" not in st,
          "the victim is not running after the refusals:\n%s" % raw)
    # dom0's /tmp is RAM: the bad files and the save go, room for the next
    m.run("rm -f %s /tmp/trunc.sav /tmp/bad.sav /tmp/zero.sav /tmp/abi.sav" % SAVE)


LIVE_SAVE = "/tmp/writer.sav"


def writer_passes(m, name):
    """The last pass count keel-memwriter printed in guest name, and
    whether it reported a lost write."""
    out = guest_run(m, name, "tail -n 3 /tmp/mw.log; grep -c MISMATCH /tmp/mw.log", timeout=120)
    counts = [int(x) for x in re.findall(r"keel-memwriter: (\d+) passes ok", out)]
    lost = out.strip().splitlines()[-1:] != ["0"]
    return (counts[-1] if counts else 0), lost, out


@test("save_live_copies_a_writing_guest_and_it_goes_on", "keel-hostile")
def t_save_live(m):
    # A tiny guest keeps rewriting 16 MiB (keel-memwriter checks every page
    # it wrote is still there before it writes it again). keel save --live
    # copies it while it runs, in rounds, and pauses it only for the end;
    # restored, the writer goes on and finds no lost write. A page the
    # dirty log missed would hold an older pass: MISMATCH.
    # (on_crash=preserve: a restored guest that crashes keeps its console)
    out, rc = m.run("keel create tiny name=writer on_crash=preserve", timeout=180)
    check(rc == 0, "could not create the writer guest: %r" % out[-400:])
    wait_guest_ready(m, "writer")
    # (every round appends the pages written meanwhile to the file, which
    # is in dom0's RAM: 16 MiB a round here)
    guest_run(m, "writer", "( keel-memwriter -m 16 -d 200 </dev/null >/tmp/mw.log 2>&1 & ); "
              "sleep 1")
    time.sleep(6)
    before, lost, text = writer_passes(m, "writer")
    check(before > 0 and not lost, "keel-memwriter does not run in the guest:\n%s" % text)
    t0 = time.time()
    out, rc = m.run("keel save --live writer %s" % LIVE_SAVE, timeout=600)
    took = time.time() - t0
    check(rc == 0 and "Saved domain writer" in out, "keel save --live failed: %r" % out[-800:])
    mr = re.search(r"Live: (\d+) round\(s\) after the first full copy, (\d+) page\(s\) copied "
                   r"again while it ran; paused for (\d+) ms to copy the last (\d+) page",
                   out)
    check(mr is not None, "keel save --live did not report its rounds: %r" % out[-800:])
    rounds, again, paused_ms, last = (int(x) for x in mr.groups())
    check(rounds >= 1 and again > 0, "the guest wrote nothing while it was copied (%d rounds, "
          "%d pages again): the writer was not running: %r" % (rounds, again, out[-800:]))
    check(paused_ms < took * 1000, "paused for %d ms of a %.1f s save" % (paused_ms, took))
    print("    live save: %d round(s), %d page(s) again, paused %d ms for %d page(s); "
          "%.1f s in all" % (rounds, again, paused_ms, last, took))
    states, raw = list_states(m)
    check("writer" not in states, "the saved guest is still there:\n%s" % raw)
    out, rc = m.run("keel restore %s" % LIVE_SAVE, timeout=300)
    check(rc == 0 and "Restored domain writer" in out, "keel restore failed: %r" % out[-600:])
    time.sleep(8)
    states, raw = list_states(m)
    check("c" not in states.get("writer", ""), "the restored guest crashed:\n%s\n%s"
          % (raw, m.run("keel console writer </dev/null | tail -n 40", timeout=60)[0]))
    after, lost, text = writer_passes(m, "writer")
    check(not lost, "the restored writer found a lost write (the dirty log missed a page):\n%s"
          % text)
    check(after > before, "the writer did not go on after the restore (%d passes before, "
          "%d after):\n%s" % (before, after, text))
    out, rc = m.run("keel destroy writer", timeout=60)
    check(rc == 0, "keel destroy writer failed: %r" % out)
    m.run("rm -f %s" % LIVE_SAVE)
