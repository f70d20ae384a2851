#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Memory read cost, lldb and gdb, against kvmdbg-launch and QEMU's gdbstub.

Not a test: nothing about timing is asserted. Every byte read is checked.

The same 16 MiB of random bytes sit at guest-physical 0x1000000 on every
side: kvmdbg-launch loads them as a flat image (--flat, held at its entry,
never run), QEMU (-S, TCG, paging off at reset) with -device loader. Each
figure is one client session that reads them all (lldb: memory read
--force --binary --outfile, i.e. 'x' packets on a stub that has them, else
'm'; gdb 13: dump binary memory, always 'm') minus the same session
without the read (connect, then kill), so connection set-up is left out:
  MiB/s     16 MiB / (wall time with the read - wall time without)
  ms/MiB    the serving process's own CPU time (user + system, from
            wait4(2) rusage once it exits) with the read minus without,
            per MiB: what the stub spends per MiB it serves
Rounds interleave every configuration; medians are printed. The table
ends with the floor measured in the same rounds (build/bench/floor): a
16 MiB loopback TCP stream and a 16 MiB memcpy (MiB/s), and the loopback
round trip of a 16-byte message (the cost of one packet and its reply).

  bench/lldb_mem_bench.py                 kvmdbg-launch (build/) and QEMU
  BEFORE=/path/to/kvmdbg-launch bench/lldb_mem_bench.py
                                          also an older build, same run
  ROUNDS=N                                default 3
"""
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCH = os.path.join(ROOT, "build/kvmdbg-launch")
FLOOR = os.path.join(ROOT, "build/bench/floor")
BEFORE = os.environ.get("BEFORE")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SIZE = 16 << 20
ADDR = 0x1000000
TMP = tempfile.mkdtemp(prefix="kvmdbg-lldb-bench-")
RAND = os.path.join(TMP, "rand.bin")
OUT = os.path.join(TMP, "read.bin")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listen(port, p, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if p.poll() is not None:
            sys.exit(f"bench: the server exited ({p.returncode}) before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bench: nothing listens on port {port}")


def start_kvmdbg(binary):
    port = free_port()
    args = [binary, "--mem", "64M", "--gdb", f"127.0.0.1:{port}", "--flat",
            "--load-addr", hex(ADDR), "--entry", hex(ADDR), RAND]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The launcher says when it listens; probing the port would be a client.
    for line in p.stderr:
        if b"listening on" in line:
            return p, port
    sys.exit(f"bench: {binary} did not listen (status {p.wait()})")


def start_qemu():
    port = free_port()
    args = ["qemu-system-x86_64", "-accel", "tcg", "-m", "64M", "-nodefaults",
            "-nographic", "-display", "none", "-S",
            "-gdb", f"tcp:127.0.0.1:{port}",
            "-device", f"loader,file={RAND},addr={ADDR:#x},force-raw=on"]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            if f":{port:04X} 00000000:0000 0A" in f.read():
                return p, port
        if p.poll() is not None:
            break
        time.sleep(0.05)
    sys.exit("bench: QEMU's gdbstub did not listen")


def client_args(client, port, read):
    end = ADDR + SIZE
    if client == "lldb":
        args = ["lldb", "-b", "-o", f"gdb-remote {port}"]
        if read:
            args += ["-o", f"memory read --force --binary --outfile {OUT} "
                     f"{ADDR:#x} {end:#x}"]
        return args + ["-o", "process kill"]
    args = ["gdb", "-batch", "-nx", "-ex", f"target remote 127.0.0.1:{port}"]
    if read:
        args += ["-ex", f"dump binary memory {OUT} {ADDR:#x} {end:#x}"]
    return args + ["-ex", "kill"]


def reap(p, deadline=30):
    """Wait for @p to exit; returns its CPU time (user + system, s)."""
    end = time.monotonic() + deadline
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return ru.ru_utime + ru.ru_stime
        if time.monotonic() > end:
            p.kill()
            end = time.monotonic() + 10
        time.sleep(0.01)


def one(server, client, read):
    """One session; returns (wall s, server CPU s)."""
    p, port = start_kvmdbg(server) if server != "qemu" else start_qemu()
    if os.path.exists(OUT):
        os.unlink(OUT)
    t0 = time.perf_counter()
    c = subprocess.run(client_args(client, port, read), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=600)
    wall = time.perf_counter() - t0
    cpu = reap(p)
    if read:
        with open(OUT, "rb") as a, open(RAND, "rb") as b:
            if a.read() != b.read():
                sys.exit(f"bench: {client} against {server} read wrong bytes:\n"
                         + c.stdout.decode(errors="replace")[-2000:])
    return wall, cpu


def measure(server, client):
    """(MiB/s, server CPU ms per MiB) of one round."""
    (w0, c0), (w1, c1) = one(server, client, False), one(server, client, True)
    mib = SIZE / (1 << 20)
    return mib / (w1 - w0), (c1 - c0) * 1000 / mib


def main():
    for tool in ("lldb", "gdb", "qemu-system-x86_64"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"],
                          stdout=subprocess.DEVNULL).returncode:
            sys.exit(f"bench: {tool} missing: run scripts/deps.sh")
    if not os.access(LAUNCH, os.X_OK) or not os.access(FLOOR, os.X_OK):
        sys.exit("bench: run 'make' first")
    with open(RAND, "wb") as f:
        f.write(os.urandom(SIZE))
    servers = [("kvmdbg", LAUNCH)]
    if BEFORE:
        servers.append(("kvmdbg-before", BEFORE))
    servers.append(("qemu", "qemu"))
    configs = [(n, s, c) for n, s in servers for c in ("lldb", "gdb")]
    res = {cfg: [] for cfg in configs}
    floor = {}
    for r in range(ROUNDS):
        out = subprocess.run([FLOOR], stdout=subprocess.PIPE, text=True, check=True).stdout
        for k, v in (line.split() for line in out.splitlines()):
            floor.setdefault(k, []).append(float(v))
        order = configs if r % 2 == 0 else configs[::-1]
        for cfg in order:
            res[cfg].append(measure(cfg[1], cfg[2]))
        print(f"bench: round {r + 1} of {ROUNDS} done", file=sys.stderr)
    ver = lambda a: subprocess.run(a, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().splitlines()[0]
    print(f"{ver(['lldb', '--version'])}; {ver(['gdb', '--version'])}; "
          f"{ver(['qemu-system-x86_64', '--version'])} (TCG); "
          f"{os.cpu_count()} CPUs, {os.uname().release}")
    print(f"16 MiB of random bytes; median of {ROUNDS} rounds; "
          "CPU = the serving process's own user + system time")
    print(f"{'server':<15} {'client':<6} {'MiB/s':>8} {'CPU ms/MiB':>11}")
    med = {}
    for cfg in configs:
        mibs = statistics.median(x[0] for x in res[cfg])
        ms = statistics.median(x[1] for x in res[cfg])
        med[cfg] = (mibs, ms)
        print(f"{cfg[0]:<15} {cfg[2]:<6} {mibs:8.1f} {ms:11.2f}")
    fl = {k: statistics.median(v) for k, v in floor.items()}
    print(f"{'floor':<15} {'tcp':<6} {fl['tcp_mib_s']:8.0f} {'-':>11}   "
          "(16 MiB loopback TCP stream)")
    print(f"{'floor':<15} {'memcpy':<6} {fl['memcpy_mib_s']:8.0f} {'-':>11}   (16 MiB)")
    print(f"floor: loopback TCP round trip of 16 bytes {fl['rtt_us']:.1f} us")
    for client in ("lldb", "gdb"):
        k = med[("kvmdbg", LAUNCH, client)][0]
        q = med[("qemu", "qemu", client)][0]
        print(f"{client}: kvmdbg / QEMU = {k / q:.1f}x")


if __name__ == "__main__":
    main()
