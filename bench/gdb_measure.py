# SPDX-License-Identifier: GPL-2.0
# Runs inside gdb (gdb -batch -nx -x bench/gdb_measure.py) against one stub
# that runs examples/flat/benchloop.S at BENCH_LOOP (14 NOPs + jmp back,
# the pc after k steps from the loop start is start + k mod 15). Prints one
# "BENCH key value" line per figure for gdb_bench.sh, "BENCH key n/a why"
# when the stub cannot do it, and stops (exit status 1) on a wrong result:
#   pcs          the pc of the first 20 steps from the loop start
#   mem_zero     16 MiB of untouched RAM read (dump binary memory), MiB/s;
#                every byte checked to be zero
#   mem_write    16 MiB of random bytes written (restore), MiB/s
#   mem_rand     the same 16 MiB read back, MiB/s; every byte compared
#   steps        `stepi BENCH_STEPS`, steps/s; the pc after it checked
#   regs         `info registers` after a register-cache flush, ms each
#   hbreak/break a breakpoint in the loop: `continue` to it and again, ms
#                per round trip; the pc checked at every stop
# BENCH_TARGET host:port; BENCH_RANDOM the 16 MiB file; BENCH_OUT a scratch
# file; BENCH_STEPS, BENCH_REGS, BENCH_BPS the counts.
import os
import sys
import time

import gdb

SIZE = 16 << 20
RAND = 0x1000000         # 16..32 MiB: written from BENCH_RANDOM, read back
ZERO = 0x2000000         # 32..48 MiB: never touched, zero on both sides
LOOP = int(os.environ.get("BENCH_LOOP", "0x100000"), 0)
NINSN = 15
OUT = os.environ["BENCH_OUT"]


def emit(line):
    """One line for gdb_bench.py, flushed: it times out a hung stage."""
    print(line)
    gdb.flush()


def fail(msg):
    emit("BENCH-FAIL " + msg)
    sys.stdout.flush()
    os._exit(1)


def pc():
    return int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff


def next_pc(p):
    return LOOP if p == LOOP + NINSN - 1 else p + 1


def timed(cmd):
    t0 = time.perf_counter()
    gdb.execute(cmd, to_string=True)
    return time.perf_counter() - t0


def check_file(expect, what):
    with open(OUT, "rb") as f:
        got = f.read()
    if got != expect:
        bad = next((i for i in range(min(len(got), len(expect)))
                    if got[i] != expect[i]), min(len(got), len(expect)))
        fail("%s: %d bytes, first difference at offset %#x" % (what, len(got), bad))


def align():
    """Step to the loop start (QEMU was stopped anywhere in the loop)."""
    p = pc()
    for _ in range(NINSN):
        if p == LOOP:
            return
        if not LOOP <= p < LOOP + NINSN:
            fail("pc %#x is outside the bench loop %#x..%#x" % (p, LOOP, LOOP + NINSN))
        gdb.execute("stepi", to_string=True)
        if pc() != next_pc(p):
            fail("stepi from %#x went to %#x, not %#x" % (p, pc(), next_pc(p)))
        p = pc()
    fail("never reached the loop start")


def pcs():
    seq = []
    for _ in range(20):
        gdb.execute("stepi", to_string=True)
        seq.append(pc())
    want = [LOOP + (k + 1) % NINSN for k in range(20)]
    if seq != want:
        fail("pc sequence %s, should be %s" % (" ".join(map(hex, seq)),
                                              " ".join(map(hex, want))))
    emit("BENCH pcs " + ",".join("%x" % p for p in seq))


def memory():
    with open(os.environ["BENCH_RANDOM"], "rb") as f:
        rand = f.read()
    dt = timed("dump binary memory %s %#x %#x" % (OUT, ZERO, ZERO + SIZE))
    check_file(bytes(SIZE), "zero read")
    emit("BENCH mem_zero %.1f" % (16 / dt))
    dt = timed("restore %s binary %#x" % (os.environ["BENCH_RANDOM"], RAND))
    emit("BENCH mem_write %.1f" % (16 / dt))
    dt = timed("dump binary memory %s %#x %#x" % (OUT, RAND, RAND + SIZE))
    check_file(rand, "random read-back (so also the write)")
    emit("BENCH mem_rand %.1f" % (16 / dt))


def steps():
    n = int(os.environ["BENCH_STEPS"])
    start = pc()
    dt = timed("stepi %d" % n)
    if pc() != LOOP + (start - LOOP + n) % NINSN:
        fail("after stepi %d from %#x the pc is %#x" % (n, start, pc()))
    emit("BENCH steps %.0f" % (n / dt))


def regs():
    n = int(os.environ["BENCH_REGS"])
    dt = 0.0
    for _ in range(n):
        gdb.execute("maintenance flush register-cache", to_string=True)
        t0 = time.perf_counter()
        out = gdb.execute("info registers", to_string=True)
        dt += time.perf_counter() - t0
        if "rip" not in out and "eip" not in out:
            fail("info registers printed no pc:\n" + out)
    emit("BENCH regs %.3f" % (dt / n * 1000))


def breaks(kind):
    n = int(os.environ["BENCH_BPS"])
    addr = LOOP + 8
    gdb.execute("%s *%#x" % (kind, addr), to_string=True)
    try:
        dt = 0.0
        for i in range(n):
            try:
                dt += timed("continue")
            except gdb.error as e:
                emit("BENCH %s n/a continue failed: %s" % (kind, str(e).splitlines()[0]))
                return False
            if pc() != addr:
                emit("BENCH %s n/a stop %d at pc %#x, not at the breakpoint %#x"
                      % (kind, i + 1, pc(), addr))
                return False
        emit("BENCH %s %.3f" % (kind, dt / n * 1000))
        return True
    finally:
        try:
            gdb.execute("delete", to_string=True)
        except gdb.error:
            pass


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote " + os.environ["BENCH_TARGET"], to_string=True)
align()
pcs()
memory()
steps()
regs()
# A stub that fails a software breakpoint may leave the guest dead: last.
# BENCH_SKIP names the ones that hung in an earlier round (reported n/a).
skip = os.environ.get("BENCH_SKIP", "").split(",")
for kind in ("hbreak", "break"):
    if kind in skip:
        continue
    emit("BENCH-STAGE " + kind)
    sys.stdout.flush()
    if not breaks(kind):
        break
try:
    gdb.execute("kill", to_string=True)
except gdb.error:
    pass
