#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""gdb and lldb against kvmdbg-launch and against QEMU's gdbstub, one run.

Not a test: nothing about timing is asserted; every result is checked.

Both stubs run the same guest code at the same linear address:
examples/flat/benchloop.S (14 NOPs + a short jmp back, the same bytes and
instructions in 16/32/64-bit mode) at 0x100000. kvmdbg-launch loads it
with --flat (64-bit long mode, identity-mapped, every vCPU held at the
entry). QEMU loads it with -device loader and boots examples/flat/
bench-bios.S as -bios, which enters 32-bit flat protected mode and jumps
there; QEMU runs free into the loop and is paused over QMP ("stop") before
the client connects (a client connecting to a running QEMU 7.2 gets an
unsolicited T02 packet that lldb 14's handshake rejects). QEMU uses
-accel kvm when it runs the loop on this machine (checked at start), else
TCG; QEMU_ACCEL=kvm|tcg forces one. QEMU's APs (-smp N) wait for a SIPI
that never comes; kvmdbg's vCPUs all run the loop.

Each round runs every measurement once per stub, kvmdbg and QEMU
interleaved, the order swapped every round; medians over ROUNDS rounds are
printed with the ratio (how many times faster kvmdbg is) and, in every
table, the floor measured in the same rounds (build/bench/floor: loopback
TCP round trip of a 16-byte message, a 16 MiB loopback stream, memcpy).

  gdb    bench/gdb_measure.py inside gdb (see there): 16 MiB read of zero
         and of random RAM, 16 MiB write, stepi, info registers, hbreak
         and break round trips; the first 20 stepped pcs of both stubs are
         compared
  lldb   one session per figure minus a session without the work:
         16 MiB write (memory write -i) and read back (memory read
         --binary; the bytes compared), and LLDB_STEPS thread step-inst
         (the pc before and after checked)
  stop   raw RSP: `c`, 50 ms later Ctrl-C (0x03), time to the stop reply,
         at 1, 2, 4, 8 vCPUs (kvmdbg-launch --cpus N, QEMU -smp N)

Environment: ROUNDS (5), STEPS (2000), REGS (100), BPS (100),
LLDB_STEPS (200), STOPS (10 per vCPU count), QEMU_ACCEL.
"""
import json
import os
import queue
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCH = os.path.join(ROOT, "build/kvmdbg-launch")
LOOP_BIN = os.path.join(ROOT, "build/examples/benchloop.bin")
BIOS = os.path.join(ROOT, "build/examples/bench-bios.bin")
FLOOR = os.path.join(ROOT, "build/bench/floor")
MEASURE = os.path.join(ROOT, "bench/gdb_measure.py")


def env_int(key, default):
    v = os.environ.get(key, str(default))
    if not v.isdigit() or int(v) < 1:
        sys.exit(f"bench: {key}={v}: give a whole number of at least 1")
    return int(v)


ROUNDS, STEPS, REGS, BPS = env_int("ROUNDS", 5), env_int("STEPS", 2000), env_int("REGS", 100), env_int("BPS", 100)
LLDB_STEPS, STOPS = env_int("LLDB_STEPS", 200), env_int("STOPS", 10)
LOOP, NINSN, SIZE, RAND_ADDR = 0x100000, 15, 16 << 20, 0x1000000
VCPUS = (1, 2, 4, 8)
TMP = tempfile.mkdtemp(prefix="kvmdbg-gdb-bench-")
RAND = os.path.join(TMP, "rand.bin")
OUT = os.path.join(TMP, "out.bin")
procs = []


def die(msg):
    sys.exit("bench: " + msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One stub: kvmdbg-launch --gdb, or QEMU paused in the bench loop."""

    def __init__(self, kind, accel=None, cpus=1):
        self.kind, self.port, self.cpus = kind, free_port(), cpus
        self.log = os.path.join(TMP, f"{kind}-{self.port}.log")
        err = open(self.log, "wb")
        if kind == "kvmdbg":
            args = [LAUNCH, "--mem", "64M", "--cpus", str(cpus),
                    "--gdb", f"127.0.0.1:{self.port}", "--flat",
                    "--load-addr", hex(LOOP), LOOP_BIN]
        else:
            self.qmp = os.path.join(TMP, f"qmp-{self.port}")
            args = ["qemu-system-x86_64", "-accel", accel, "-m", "64M",
                    "-smp", str(cpus), "-nodefaults", "-nographic",
                    "-display", "none", "-bios", BIOS,
                    "-device", f"loader,file={LOOP_BIN},addr={LOOP:#x},force-raw=on",
                    "-gdb", f"tcp:127.0.0.1:{self.port}",
                    "-qmp", f"unix:{self.qmp},server=on,wait=off"]
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=err)
        procs.append(self.p)
        err.close()
        self.wait_ready()

    def wait_ready(self):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.p.poll() is not None:
                die(f"{self.kind} exited ({self.p.returncode}) before listening: "
                    + self.stderr())
            if self.kind == "kvmdbg":
                if "listening on" in self.stderr():
                    return
            elif os.path.exists(self.qmp) and self.listening():
                time.sleep(0.2)		# the bios: 10 instructions, then the loop
                self.qmp_stop()
                return
            time.sleep(0.02)
        die(f"{self.kind} did not listen on port {self.port}")

    def listening(self):
        with open("/proc/net/tcp") as f:
            return f":{self.port:04X} 00000000:0000 0A" in f.read()

    def qmp_stop(self):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.qmp)
        f = s.makefile("rw")
        f.readline()
        for cmd in ("qmp_capabilities", "stop"):
            f.write(json.dumps({"execute": cmd}) + "\n")
            f.flush()
            while True:
                r = json.loads(f.readline())
                if "return" in r:
                    break
                if "error" in r:
                    die(f"QMP {cmd}: {r['error']}")
        s.close()

    def stderr(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def end(self):
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


# --- gdb ------------------------------------------------------------------

GDB_KEYS = ("mem_zero", "mem_rand", "mem_write", "steps", "regs", "hbreak", "break")
BP_DEADLINE = 15


def gdb_round(srv, skip):
    """One gdb session; returns {key: float or 'n/a why'}, and pcs."""
    env = dict(os.environ, BENCH_TARGET=f"127.0.0.1:{srv.port}", BENCH_RANDOM=RAND,
               BENCH_OUT=OUT, BENCH_STEPS=str(STEPS), BENCH_REGS=str(REGS),
               BENCH_BPS=str(BPS), BENCH_SKIP=",".join(skip))
    g = subprocess.Popen(["gdb", "-batch", "-nx", "-x", MEASURE], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    procs.append(g)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in g.stdout] + [lines.put(None)],
                     daemon=True).start()
    res, stage, tail = {}, None, []
    while True:
        try:
            line = lines.get(timeout=BP_DEADLINE if stage in ("hbreak", "break") else 300)
        except queue.Empty:
            g.kill()
            if stage not in ("hbreak", "break"):
                die(f"gdb against {srv.kind} printed nothing for 300 s; last lines:\n"
                    + "".join(tail))
            errs = srv.stderr().strip().splitlines() or ["nothing on its stderr"]
            first = next((e for e in errs if "error" in e.lower()), errs[-1])
            res[stage] = f"n/a no stop within {BP_DEADLINE} s ({srv.kind}: {first})"
            break
        if line is None:
            break
        tail = (tail + [line])[-20:]
        m = re.match(r"BENCH(-STAGE|-FAIL)? (\S+)(?: (.*))?", line)
        if not m:
            continue
        if m.group(1) == "-FAIL":
            die(f"gdb against {srv.kind}: {m.group(2)} {m.group(3) or ''}")
        if m.group(1) == "-STAGE":
            stage = m.group(2)
            continue
        val = m.group(3)
        res[m.group(2)] = val if m.group(2) == "pcs" or val.startswith("n/a") else float(val)
    g.wait()
    if srv.p.poll() is None:
        srv.p.kill()
    srv.end()
    for k in GDB_KEYS:
        if k not in res:
            res[k] = "n/a " + (f"skipped: {skip[k]}" if k in skip else
                               "gdb ended early: " + "".join(tail[-3:]).strip())
    return res


# --- lldb -----------------------------------------------------------------

LLDB_DEADLINE = 30


def lldb_session(srv, cmds):
    """(wall s, output) of one lldb session; (None, why) if it hung."""
    script = os.path.join(TMP, "lldb.cmd")
    with open(script, "w") as f:
        f.write("\n".join(cmds + ["process kill"]) + "\n")
    t0 = time.perf_counter()
    try:
        c = subprocess.run(["lldb", "-b", "-o", f"gdb-remote 127.0.0.1:{srv.port}",
                            "-s", script], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=LLDB_DEADLINE)
    except subprocess.TimeoutExpired as e:
        srv.p.kill()
        srv.end()
        last = (e.stdout or b"").decode(errors="replace").strip().splitlines()
        return None, (f"lldb hung for {LLDB_DEADLINE} s after "
                      f"'{next((l for l in reversed(last) if l.startswith('(lldb)')), '?')}'")
    wall = time.perf_counter() - t0
    srv.end()
    return wall, c.stdout


def lldb_pcs(out):
    return [int(x, 16) for x in re.findall(r"rip = 0x([0-9a-f]+)", out)]


def lldb_round(mk, skip):
    """mk() starts a fresh server; returns {key: value} for one round.
    skip: {key: why} of figures that hung in an earlier round."""
    res = {k: "n/a " + v for k, v in skip.items()}
    rd = f"memory read --force --binary --outfile {OUT} {RAND_ADDR:#x} {RAND_ADDR + SIZE:#x}"
    wr = f"memory write -i {RAND} {RAND_ADDR:#x}"
    # The fixed cost (start, connect, kill): the quickest of 3 bare sessions,
    # so a slow one (load from elsewhere) cannot make the work look free.
    bare = []
    for _ in range(3):
        t, out = lldb_session(mk(), ["register read pc"])
        if t is None or len(lldb_pcs(out)) != 1:
            die("lldb: no pc from a bare session:\n" + out[-1500:])
        bare.append(t)
    base = min(bare)
    w, out = lldb_session(mk(), ["register read pc", wr])
    if w is None:
        res["write"] = res["read"] = "n/a " + out
    elif "16777216 bytes were written" not in out:
        res["write"] = res["read"] = "n/a " + (out.strip().splitlines() or ["?"])[-2]
    else:
        if os.path.exists(OUT):
            os.unlink(OUT)
        wrd, out = lldb_session(mk(), ["register read pc", wr, rd])
        if wrd is None:
            die("lldb: write + read hung where the write alone did not: " + out)
        with open(OUT, "rb") as a, open(RAND, "rb") as b:
            if a.read() != b.read():
                die("lldb read back other bytes than it wrote:\n" + out[-1500:])
        res["write"] = 16 / max(w - base, 1e-6)
        res["read"] = 16 / max(wrd - w, 1e-6)
    if "steps" in skip:
        return res
    s, out = lldb_session(mk(), ["register read pc"] + ["thread step-inst"] * LLDB_STEPS
                          + ["register read pc"])
    if s is None:
        res["steps"] = "n/a " + out
        return res
    pcs = lldb_pcs(out)
    if len(pcs) != 2 or pcs[1] != LOOP + (pcs[0] - LOOP + LLDB_STEPS) % NINSN:
        die(f"lldb: {LLDB_STEPS} steps gave pcs {[hex(p) for p in pcs]}:\n" + out[-1500:])
    res["steps"] = LLDB_STEPS / max(s - base, 1e-6)
    return res


# --- stop (raw RSP) -------------------------------------------------------

class Rsp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        pkt = b"$" + data + b"#%02x" % (sum(data) & 0xff)
        self.s.sendall(pkt)

    def packet(self):
        """The next packet's payload (acks skipped); acknowledges it."""
        while True:
            m = re.search(rb"\$([^#]*)#([0-9a-fA-F]{2})", self.buf)
            if m:
                self.buf = self.buf[m.end():]
                if sum(m.group(1)) & 0xff != int(m.group(2), 16):
                    die("stop: bad checksum from the stub")
                self.s.sendall(b"+")
                return m.group(1)
            d = self.s.recv(65536)
            if not d:
                die("stop: the stub closed the connection")
            self.buf += d


def check_threads_in_loop(r, srv):
    """Every one of the server's vCPUs is a thread whose pc is in the loop."""
    ids, q = [], b"qfThreadInfo"
    while True:
        r.send(q)
        reply = r.packet()
        if not reply.startswith(b"m"):
            break
        ids += [t for t in reply[1:].split(b",") if t]
        q = b"qsThreadInfo"
    if len(ids) != srv.cpus:
        die(f"stop: {srv.kind} lists {len(ids)} threads, wanted {srv.cpus}")
    for t in ids:
        r.send(b"Hg" + t)
        r.packet()
        r.send(b"g")	# amd64 layout on both: rip follows 16 8-byte GPRs
        g = r.packet().decode()
        pc = int.from_bytes(bytes.fromhex(g[256:272]), "little")
        if not LOOP <= pc < LOOP + NINSN:
            die(f"stop: {srv.kind} thread {t.decode()} stopped at {pc:#x}, "
                f"not in the bench loop at {LOOP:#x}: it did not run the loop")


def stop_round(srv):
    r = Rsp(srv.port)
    r.send(b"?")
    reply = r.packet()
    if reply[:1] not in (b"T", b"S"):
        die(f"stop: {srv.kind} answered ? with {reply[:40]!r}")
    times = []
    for _ in range(STOPS):
        r.send(b"c")
        time.sleep(0.05)
        r.buf = b""
        t0 = time.perf_counter()
        r.s.sendall(b"\x03")
        reply = r.packet()
        times.append((time.perf_counter() - t0) * 1000)
        if reply[:1] not in (b"T", b"S"):
            die(f"stop: {srv.kind} answered Ctrl-C with {reply[:40]!r}")
    check_threads_in_loop(r, srv)
    r.send(b"k")
    r.s.close()
    if srv.p.poll() is None:
        try:
            srv.p.wait(timeout=3)
        except subprocess.TimeoutExpired:
            srv.p.kill()
    srv.end()
    return statistics.median(times)


# --- driver ---------------------------------------------------------------

def probe_kvm():
    """'' if QEMU -accel kvm runs the bench loop here, else why not."""
    try:
        srv = Server("qemu", "kvm")
    except SystemExit as e:
        return str(e)
    try:
        r = Rsp(srv.port)
        r.send(b"?")
        r.packet()
        r.send(b"g")
        regs = r.packet()
        rip = int.from_bytes(bytes.fromhex(regs[256:272].decode()), "little")
        r.send(b"k")
        r.s.close()
        srv.end()
        if not LOOP <= rip < LOOP + NINSN:
            return f"its rip is {rip:#x}, not in the bench loop"
        return ""
    except (OSError, ValueError) as e:
        srv.p.kill()
        return f"gdbstub: {e}"


def floor_round():
    out = subprocess.run([FLOOR], stdout=subprocess.PIPE, text=True, check=True).stdout
    return {k: float(v) for k, v in (l.split() for l in out.splitlines())}


def med(vals):
    nums = [v for v in vals if not isinstance(v, str)]
    if len(nums) == len(vals) and nums:
        return statistics.median(nums)
    return next(v for v in vals if isinstance(v, str))


def fmt(v, prec):
    return f"{v:.{prec}f}" if not isinstance(v, str) else "n/a"


def row(label, k, q, higher_better, prec, notes):
    if isinstance(k, str) or isinstance(q, str):
        ratio = "n/a"
        for who, v in (("kvmdbg", k), ("QEMU", q)):
            if isinstance(v, str):
                notes.append(f"{label}, {who}: {v[4:]}")
    else:
        x = k / q if higher_better else q / k
        ratio = f"{x:.1f}x" if x >= 1 else f"{x:.2f}x"
    print(f"  {label:<40} {fmt(k, prec):>10} {fmt(q, prec):>10} {ratio:>7}")


def floor_rows(fl, keys):
    names = {"rtt_us": ("floor: loopback TCP round trip, 16 B, µs", 1),
             "tcp_mib_s": ("floor: loopback TCP 16 MiB stream, MiB/s", 0),
             "memcpy_mib_s": ("floor: memcpy 16 MiB, MiB/s", 0)}
    for k in keys:
        label, prec = names[k]
        print(f"  {label:<40} {fmt(med(fl[k]), prec):>10}")


def main():
    for tool in ("gdb", "lldb", "qemu-system-x86_64"):
        if not shutil.which(tool):
            die(f"{tool} missing: run scripts/deps.sh")
    for f in (LAUNCH, LOOP_BIN, BIOS, FLOOR):
        if not os.path.exists(f):
            die(f"{os.path.relpath(f, ROOT)} missing: run 'make' first")
    accel = os.environ.get("QEMU_ACCEL", "")
    why = ""
    if accel not in ("", "kvm", "tcg"):
        die(f"QEMU_ACCEL={accel}: use kvm or tcg")
    if not accel:
        why = probe_kvm()
        accel = "tcg" if why else "kvm"
    with open(RAND, "wb") as f:
        f.write(os.urandom(SIZE))
    sides = ("kvmdbg", "qemu")
    gres = {s: [] for s in sides}
    lres = {s: [] for s in sides}
    sres = {(s, n): [] for s in sides for n in VCPUS}
    fl = {"rtt_us": [], "tcp_mib_s": [], "memcpy_mib_s": []}
    pcs = {}
    skip = {s: {} for s in sides}
    lskip = {s: {} for s in sides}
    mk = lambda s, n=1: (lambda: Server(s, accel, n))
    for r in range(ROUNDS):
        order = sides if r % 2 == 0 else sides[::-1]
        for k, v in floor_round().items():
            fl[k].append(v)
        for s in order:
            res = gdb_round(mk(s)(), skip[s])
            pcs[s] = res.pop("pcs", None)
            for k in ("hbreak", "break"):
                if isinstance(res[k], str) and "no stop within" in res[k]:
                    skip[s][k] = res[k][4:]
            gres[s].append(res)
        for s in order:
            lres[s].append(lldb_round(mk(s), lskip[s]))
            for k, v in lres[s][-1].items():
                if isinstance(v, str) and "hung" in v:
                    lskip[s][k] = v[4:]
        for n in VCPUS:
            for s in order:
                sres[(s, n)].append(stop_round(mk(s, n)()))
        print(f"bench: round {r + 1} of {ROUNDS} done", file=sys.stderr, flush=True)
    if pcs["kvmdbg"] != pcs["qemu"]:
        die(f"the stubs stepped different pcs: kvmdbg {pcs['kvmdbg']}, QEMU {pcs['qemu']}")
    show(accel, why, gres, lres, sres, fl, pcs["kvmdbg"])


def version(args):
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return out.splitlines()[0].strip()


def show(accel, why, gres, lres, sres, fl, pcs):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    print(f"{version(['gdb', '--version'])}; {version(['lldb', '--version'])}; "
          f"{version(['qemu-system-x86_64', '--version'])}")
    print(f"QEMU accel: {accel}" + (f" (kvm not used: {why})" if why else ""))
    print(f"{os.cpu_count()} CPUs ({cpu}), kernel {os.uname().release}, "
          f"load average {os.getloadavg()[0]:.2f} at the end, {time.strftime('%Y-%m-%d')}")
    print(f"median of {ROUNDS} paired rounds (kvmdbg and QEMU interleaved, order swapped each round)")
    print(f"both stubs stepped 0x100000 + k mod 15; first pcs, identical on both: "
          + " ".join(pcs.split(",")[:8]) + " ...")
    notes = []
    head = f"  {'':<40} {'kvmdbg':>10} {'QEMU-' + accel:>10} {'ratio':>7}"
    print(f"\ngdb (ratio: times faster kvmdbg is; stepi {STEPS}, {REGS} info registers,"
          f" {BPS} breakpoint round trips)")
    print(head)
    g = {s: {k: med([x[k] for x in gres[s]]) for k in GDB_KEYS} for s in gres}
    for k, label, hb, prec in (
            ("mem_zero", "read 16 MiB zero RAM, MiB/s", True, 1),
            ("mem_rand", "read 16 MiB random, MiB/s", True, 1),
            ("mem_write", "write 16 MiB random (restore), MiB/s", True, 1),
            ("steps", "stepi, steps/s", True, 0),
            ("regs", "info registers (cache flushed), ms", False, 3),
            ("hbreak", "hbreak: continue to it, ms", False, 3),
            ("break", "break: continue to it, ms", False, 3)):
        row(label, g["kvmdbg"][k], g["qemu"][k], hb, prec, notes)
    floor_rows(fl, ("rtt_us", "tcp_mib_s", "memcpy_mib_s"))
    print(f"\nlldb (a session with the work minus the quickest of 3 without it; {LLDB_STEPS} thread step-inst)")
    print(head)
    l = {s: {k: med([x[k] for x in lres[s]]) for k in ("read", "write", "steps")} for s in lres}
    for k, label, prec in (("read", "read 16 MiB random, MiB/s", 1),
                           ("write", "write 16 MiB random, MiB/s", 1),
                           ("steps", "thread step-inst, steps/s", 0)):
        row(label, l["kvmdbg"][k], l["qemu"][k], True, prec, notes)
    floor_rows(fl, ("rtt_us", "tcp_mib_s", "memcpy_mib_s"))
    print(f"\nstop: Ctrl-C to stop reply over raw RSP, ms (median of {STOPS} a round)")
    print(head)
    for n in VCPUS:
        row(f"{n} vCPU{'s' if n > 1 else ''}", med(sres[("kvmdbg", n)]),
            med(sres[("qemu", n)]), False, 3, notes)
    print(f"  {'floor: loopback TCP round trip, 16 B, ms':<40} {med(fl['rtt_us']) / 1000:>10.3f}")
    for n in notes:
        print("n/a: " + n)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(TMP, ignore_errors=True)
