# Runs inside gdb (gdb -batch -x bench/core_measure.py) for core_bench.sh:
# stops the kvmdbg guest at its idle loop, then for each round times
#   kvmdbg  `monitor dump FILE` (gdb's monitor command round trip),
#   cp      cp --sparse=always of that core + fsync of the copy,
#   QEMU    dump-guest-memory over QMP, and the fsync of its file after it,
# checks every file it timed, and prints the table ("BENCH " lines).
# BENCH_TARGET host:port of kvmdbg-launch --gdb   BENCH_IDLE  idle loop address
# BENCH_DIR    where every file goes              BENCH_QMP   QEMU's QMP socket
# BENCH_ROUNDS rounds (round 1 is reported apart)
# BENCH_IDLE_S seconds of idle before each writer's round 1
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

import gdb

TOUCHED = (0x200000, 0x2200000)     # [start, end) of the guests' 0x5a stores
DIR = os.environ["BENCH_DIR"]


def out(line):
    print("BENCH " + line)
    sys.stdout.flush()


def fail(why):
    out("bench: " + why)
    try:
        gdb.execute("kill")
    except gdb.error:
        pass
    gdb.execute("quit 1")


class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())           # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:                             # events come in between
            r = json.loads(self.f.readline())
            if "return" in r or "error" in r:
                return r


def byte_at(path, f, gpa):
    """The byte at guest-physical gpa in ELF64 core f, via its PT_LOADs."""
    f.seek(0)
    eh = f.read(64)
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        typ, _, off, _, paddr, filesz, _ = struct.unpack("<IIQQQQQ", f.read(48))
        if typ == 1 and paddr <= gpa < paddr + filesz:
            f.seek(off + gpa - paddr)
            return f.read(1)[0]
    fail("%s: no PT_LOAD holds guest-physical %#x" % (path, gpa))


def check_core(path):
    """A core the readers take: one NT_PRSTATUS, the touched bytes in place."""
    notes = subprocess.run(["readelf", "-n", path], capture_output=True, text=True)
    n = notes.stdout.count("NT_PRSTATUS")
    if notes.returncode or n != 1:
        fail("%s: readelf -n shows %d NT_PRSTATUS notes (should be 1): %s" %
             (path, n, notes.stderr.strip()))
    with open(path, "rb") as f:
        got = [byte_at(path, f, a) for a in (TOUCHED[0], TOUCHED[1] - 1, TOUCHED[1])]
    if got != [0x5a, 0x5a, 0]:
        fail("%s: bytes at %#x, %#x, %#x are %s (should be 0x5a 0x5a 0)" %
             (path, TOUCHED[0], TOUCHED[1] - 1, TOUCHED[1], " ".join("%#x" % b for b in got)))


def rm(path):
    if os.path.exists(path):
        os.remove(path)


def fsync(path):
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def kvmdbg_dump(path):
    rm(path)
    t0 = time.perf_counter()
    reply = gdb.execute("monitor dump " + path, to_string=True)
    dt = time.perf_counter() - t0
    if not reply.startswith("core written to " + path + ":"):
        fail("monitor dump: " + reply.strip())
    return dt, reply.strip()


def cp_fsync(src, dst):
    rm(dst)
    t0 = time.perf_counter()
    subprocess.run(["cp", "--sparse=always", src, dst], check=True)
    fsync(dst)
    return time.perf_counter() - t0


def qemu_dump(qmp, path):
    rm(path)
    t0 = time.perf_counter()
    r = qmp.cmd("dump-guest-memory", paging=False, protocol="file:" + path)
    t1 = time.perf_counter()
    if "error" in r:
        fail("QEMU dump-guest-memory: " + r["error"]["desc"])
    fsync(path)
    return t1 - t0, time.perf_counter() - t0


def exec_floor():
    t0 = time.perf_counter()
    subprocess.run(["true"], check=True)
    return time.perf_counter() - t0


def run():
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("target remote " + os.environ["BENCH_TARGET"])
    idle = int(os.environ["BENCH_IDLE"], 0)
    gdb.execute("hbreak *%#x" % idle)
    gdb.execute("continue")
    pc = int(gdb.parse_and_eval("$pc"))
    if pc != idle:
        fail("the kvmdbg guest stopped at %#x (should be its idle loop %#x)" % (pc, idle))
    qmp = Qmp(os.environ["BENCH_QMP"])
    k, c, q = (os.path.join(DIR, n) for n in ("k.core", "copy.core", "q.core"))
    fig = {"kvmdbg": [], "cp": [], "qemu": [], "qemu_fsync": [], "exec": []}
    reply = ""
    idle_s = float(os.environ["BENCH_IDLE_S"])
    for r in range(int(os.environ["BENCH_ROUNDS"])):
        # Round 1: each writer's first run, after the same idle time.
        time.sleep(idle_s if r == 0 else 0)
        dt, reply = kvmdbg_dump(k)
        fig["kvmdbg"].append(dt)
        check_core(k)
        time.sleep(idle_s if r == 0 else 0)
        fig["cp"].append(cp_fsync(k, c))
        check_core(c)
        time.sleep(idle_s if r == 0 else 0)
        a, b = qemu_dump(qmp, q)
        fig["qemu"].append(a)
        fig["qemu_fsync"].append(b)
        check_core(q)
        rm(q)
        fig["exec"].append(exec_floor())
    report(fig, reply, [os.stat(p) for p in (k, c)])
    gdb.execute("kill")


def report(fig, reply, st):
    ms = {n: [x * 1000 for x in v] for n, v in fig.items()}
    later = {n: v[1:] for n, v in ms.items()}
    kv_size = st[0].st_size
    out("kvmdbg core: %d bytes, %d allocated; copy %d allocated; last reply: %s" %
        (kv_size, st[0].st_blocks * 512, st[1].st_blocks * 512, reply))
    out("round 1: each writer's first run, after %s s idle; then median, min, max "
        "of rounds 2..%d; ms" % (os.environ["BENCH_IDLE_S"], len(ms["kvmdbg"])))
    out("%-44s %9s %9s %9s %9s" % ("operation", "round 1", "median", "min", "max"))
    rows = [("kvmdbg monitor dump (incl. fsync)", "kvmdbg"),
            ("QEMU dump-guest-memory (no fsync)", "qemu"),
            ("QEMU dump-guest-memory + fsync", "qemu_fsync"),
            ("cp --sparse=always + fsync (floor)", "cp"),
            ("exec of true (in the cp figure)", "exec")]
    for label, n in rows:
        v = later[n]
        out("%-44s %9.1f %9.1f %9.1f %9.1f" %
            (label, ms[n][0], statistics.median(v), min(v), max(v)))
    med = {n: statistics.median(v) for n, v in later.items()}
    out("QEMU / kvmdbg (goal >= 5x):        %5.1fx (with QEMU's fsync %.1fx); round 1 %.1fx" %
        (med["qemu"] / med["kvmdbg"], med["qemu_fsync"] / med["kvmdbg"],
         ms["qemu"][0] / ms["kvmdbg"][0]))
    out("kvmdbg / (cp+fsync) (goal <= 1.5x): %5.2fx; round 1 %.2fx" %
        (med["kvmdbg"] / med["cp"], ms["kvmdbg"][0] / ms["cp"][0]))


try:
    run()
except Exception as e:          # gdb -batch would exit 0 after a traceback
    fail("%s: %s" % (type(e).__name__, e))
