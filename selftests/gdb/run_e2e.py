#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
End-to-end tests of kvmdbg-launch's gdb stub, driven by the real clients:
gdb in batch mode and lldb (gdb-remote), against the ASan/UBSan launcher
on this host's /dev/kvm. Prints TAP, one test per behaviour; every value
asserted is exact. First re-reports the backend's unit tests
(build/selftests/gdb/helpers_test), so one suite covers the part.

Every wait has a deadline: a hung client or launcher is killed and the
test reported "not ok". Nothing here asserts a timing.

Environment: KVMDBG_LAUNCH (launcher), KVMDBG_EXAMPLES (guest ELFs),
GDB, LLDB, and KVMDBG_E2E_ONLY=name,name to run some tests only.
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH = os.environ.get("KVMDBG_LAUNCH", os.path.join(ROOT, "build/asan/kvmdbg-launch"))
EXAMPLES = os.environ.get("KVMDBG_EXAMPLES", os.path.join(ROOT, "build/examples"))
BUILD = os.path.join(ROOT, "build")
HELPERS = os.path.join(BUILD, "selftests/gdb/helpers_test")
MULTI_VM = os.path.join(BUILD, "asan/selftests/gdb/multi_vm_test")
GDB = os.environ.get("GDB", "gdb")
LLDB = os.environ.get("LLDB", "lldb")

LISTEN_DEADLINE = 30	# s until the launcher says it listens
CLIENT_DEADLINE = 180	# s for one gdb/lldb run (guest code is emulated)
EXIT_DEADLINE = 120	# s for a launcher to finish once released

TMP = tempfile.mkdtemp(prefix="kvmdbg-gdb-e2e-")
PROCS = []		# every process we started, killed at the end


class Fail(Exception):
    pass


def eq(got, want, what):
    if got != want:
        raise Fail(f"{what}: got {got!r} (should be {want!r})")


def has(text, needle, what):
    if needle not in text:
        raise Fail(f"{what}: {needle!r} not in output:\n{text}")


def match(pattern, text, what):
    m = re.search(pattern, text, re.M)
    if not m:
        raise Fail(f"{what}: no match for /{pattern}/ in:\n{text}")
    return m


# ---- ELF: entry point, symbols, original bytes ----------------------------

class Elf:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2:
            raise Fail(f"{path}: not an ELF64 file")
        (self.entry, phoff, shoff) = struct.unpack_from("<QQQ", d, 0x18)
        (phentsize, phnum, shentsize, shnum) = struct.unpack_from("<HHHH", d, 0x36)
        self.segs = []
        for i in range(phnum):
            p_type, _, off, vaddr, _, filesz, _, _ = struct.unpack_from(
                "<IIQQQQQQ", d, phoff + i * phentsize)
            if p_type == 1:
                self.segs.append((vaddr, off, filesz))
        secs = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
                for i in range(shnum)]
        self.syms = {}
        for s in secs:
            if s[1] != 2:	# SHT_SYMTAB
                continue
            strtab = secs[s[6]]
            for j in range(s[5] // 24):
                name, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", d, s[4] + j * 24)
                end = d.index(b"\0", strtab[4] + name)
                self.syms[d[strtab[4] + name:end].decode()] = value

    def sym(self, name):
        if name not in self.syms:
            raise Fail(f"symbol {name} not in the guest")
        return self.syms[name]

    def bytes_at(self, vaddr, n):
        for base, off, size in self.segs:
            if base <= vaddr and vaddr + n <= base + size:
                return self.data[off + vaddr - base:off + vaddr - base + n]
        raise Fail(f"{vaddr:#x}: not in the file")


def guest(name):
    return os.path.join(EXAMPLES, name + ".elf")


# ---- processes ------------------------------------------------------------

def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    PROCS.append(p)
    return p


def kill(p):
    if p.poll() is None:
        p.kill()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass


class Launcher:
    """One kvmdbg-launch; stdout and stderr go to files."""
    seq = 0

    def __init__(self, name, cpus=1, spec=None, gdb=True, elf=None, opts=()):
        Launcher.seq += 1
        n = Launcher.seq
        self.elf = elf or guest(name)
        self.spec = spec or f"unix:{TMP}/vm{n}.sock"
        self.out_path = f"{TMP}/vm{n}.out"
        self.err_path = f"{TMP}/vm{n}.err"
        args = [LAUNCH, "--cpus", str(cpus)]
        if gdb:
            args += ["--gdb", self.spec]
        args += list(opts) + [self.elf]
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.p = spawn(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.target = None

    def err(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def out(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def listening(self):
        """Wait for "gdb: listening on ADDR;" and return gdb's target."""
        deadline = time.monotonic() + LISTEN_DEADLINE
        while time.monotonic() < deadline:
            m = re.search(r"^gdb: listening on (\S+);", self.err(), re.M)
            if m:
                addr = m.group(1)
                self.target = addr[5:] if addr.startswith("unix:") else addr
                return self.target
            if self.p.poll() is not None:
                raise Fail(f"launcher exited ({self.p.returncode}): {self.err()}")
            time.sleep(0.05)
        raise Fail("launcher never said it listens:\n" + self.err())

    def port(self):
        return int(self.listening().rsplit(":", 1)[1])

    def finish(self, deadline=EXIT_DEADLINE):
        """Wait for the guest to end; returns (status, stdout, stderr)."""
        try:
            self.p.wait(deadline)
        except subprocess.TimeoutExpired:
            kill(self.p)
            raise Fail(f"launcher still running after {deadline}s:\n{self.err()}")
        return self.p.returncode, self.out(), self.err()

    def check_asan(self):
        err = self.err()
        if "Sanitizer" in err or "runtime error:" in err:
            raise Fail("sanitizer report:\n" + err)


REFERENCE = {}


def reference(name, cpus=1):
    """What the guest prints and returns without a debugger."""
    key = (name, cpus)
    if key not in REFERENCE:
        vm = Launcher(name, cpus=cpus, gdb=False)
        REFERENCE[key] = vm.finish()[:2]
    return REFERENCE[key]


def finishes_like_reference(vm, name, cpus=1):
    status, out, _ = vm.finish()
    vm.check_asan()
    want_status, want_out = reference(name, cpus)
    eq(out, want_out, "guest output")
    eq(status, want_status, "guest exit status")


def gdb_args(elf, target, cmds, pre=()):
    args = [GDB, "-batch", "-nx", "-ex", "set pagination off",
            "-ex", "set confirm off", "-ex", "set width 0"]
    for c in pre:
        args += ["-ex", c]
    args += ["-ex", f"target remote {target}"]
    for c in cmds:
        args += ["-ex", c]
    return args + [elf]


class RemoteLog:
    """gdb's "set debug remote" packet log, kept out of gdb's output."""
    seq = 0

    def __init__(self):
        RemoteLog.seq += 1
        self.path = f"{TMP}/remote{RemoteLog.seq}.log"
        self.pre = [f"set logging file {self.path}", "set logging overwrite on",
                    "set logging debugredirect on", "set logging enabled on"]

    def text(self):
        try:
            with open(self.path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def run_client(args, name, deadline):
    """Run a batch client to its end; returns its output (stderr too)."""
    p = spawn(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
              stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        kill(p)
        raise Fail(f"{name} still running after {deadline}s")
    return out.decode(errors="replace")


def gdb(vm, cmds, pre=(), deadline=CLIENT_DEADLINE):
    """Run a batch gdb session against @vm; returns its output."""
    return run_client(gdb_args(vm.elf, vm.target or vm.listening(), cmds, pre),
                      "gdb", deadline)


class GdbBg:
    """A gdb session in the background, output to a file."""

    def __init__(self, vm, cmds, pre=()):
        self.path = f"{TMP}/gdb{len(PROCS)}.out"
        args = gdb_args(vm.elf, vm.target or vm.listening(), cmds, pre)
        with open(self.path, "wb") as out:
            self.p = spawn(args, stdin=subprocess.DEVNULL, stdout=out,
                           stderr=subprocess.STDOUT)

    def output(self):
        with open(self.path, errors="replace") as f:
            return f.read()

    def wait_for(self, text, deadline=CLIENT_DEADLINE):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if text in self.output():
                return
            if self.p.poll() is not None:
                raise Fail(f"gdb exited before {text!r}:\n{self.output()}")
            time.sleep(0.05)
        raise Fail(f"gdb never printed {text!r}:\n{self.output()}")

    def finish(self, deadline=CLIENT_DEADLINE):
        try:
            self.p.wait(deadline)
        except subprocess.TimeoutExpired:
            kill(self.p)
            raise Fail(f"gdb still running after {deadline}s:\n{self.output()}")
        return self.output()


def lldb(vm, cmds, deadline=CLIENT_DEADLINE):
    args = [LLDB, "-b", "-o", f"target create {vm.elf}",
            "-o", f"gdb-remote {vm.listening()}"]
    for c in cmds:
        args += ["-o", c]
    return run_client(args, "lldb", deadline)


class Rsp:
    """A minimal RSP client (ack mode), for what no client shows directly."""

    def __init__(self, vm):
        target = vm.listening()
        if ":" in target:
            host, port = target.rsplit(":", 1)
            self.s = socket.create_connection((host, int(port)), timeout=60)
        else:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.settimeout(60)
            self.s.connect(target)
        self.buf = b""

    def _byte(self):
        if not self.buf:
            self.buf = self.s.recv(65536)
            if not self.buf:
                raise Fail("stub closed the connection")
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def reply(self):
        while self._byte() != b"$":
            pass
        payload = b""
        while True:
            b = self._byte()
            if b == b"#":
                break
            if b == b"*":	# run-length: repeat the last byte N - 29 times
                payload += payload[-1:] * (self._byte()[0] - 29)
                continue
            payload += b
        self._byte(), self._byte()
        try:
            self.s.sendall(b"+")
        except OSError:
            pass	# the stub closes right after its reply to D or k
        return payload.decode()

    def cmd(self, payload, wait=True):
        csum = sum(payload.encode()) & 0xff
        self.s.sendall(f"${payload}#{csum:02x}".encode())
        return self.reply() if wait else None

    def close(self):
        self.s.close()


def stopped_at(out, n, func, arg, what="gdb's stop"):
    """gdb's "Breakpoint N, FUNC (x=ARG)" (x=x@entry=ARG with entry values)."""
    match(rf"Breakpoint {n}, {func} \(x=(?:x@entry=)?{arg}\)", out, what)


def rip_of(out, what="rip"):
    m = match(r"^rip\s+(0x[0-9a-f]+)", out, what)
    return int(m.group(1), 16)


def values(out):
    """Every "$N = V" gdb printed, in order."""
    return re.findall(r"^\$\d+ = (.*)$", out, re.M)


# ---- the tests ------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


@test
def stop_at_entry_every_vcpu():
    """on attach every vCPU is stopped at the ELF entry point"""
    vm = Launcher("smp", cpus=2)
    entry = Elf(vm.elf).entry
    out = gdb(vm, ["info registers rip", "thread 2", "info registers rip",
                   "detach"])
    rips = [int(x, 16) for x in re.findall(r"^rip\s+(0x[0-9a-f]+)", out, re.M)]
    eq(rips, [entry, entry], "rip of vCPU 0 and 1")
    finishes_like_reference(vm, "smp", 2)


@test
def stop_reply_on_connect():
    """'?' right after connecting answers T05 for thread 1"""
    vm = Launcher("hello")
    rsp = Rsp(vm)
    match(r"^T05thread:0*1;", rsp.cmd("?"), "stop reply")
    eq(rsp.cmd("qOffsets"), "Text=0;Data=0;Bss=0", "qOffsets")
    eq(rsp.cmd("D"), "OK", "detach")
    rsp.close()
    finishes_like_reference(vm, "hello")


@test
def sw_breakpoint():
    """break b + continue stops at b with swbreak, RIP = &b"""
    vm = Launcher("callchain")
    b = Elf(vm.elf).sym("b")
    log = RemoteLog()
    out = gdb(vm, ["break b", "set debug remote 1", "continue",
                   "set debug remote 0", "info registers rip", "continue"],
              pre=log.pre)
    match(r"Packet received: T05thread:0*1;swbreak:;", log.text(), "stop reply")
    stopped_at(out, 1, "b", 10)
    eq(rip_of(out), b, "rip at the breakpoint")
    finishes_like_reference(vm, "callchain")


def insn_addrs(elf, funcs):
    """Start address of every instruction of @funcs (objdump, binutils)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf],
                         stdout=subprocess.PIPE, timeout=60, check=True).stdout.decode()
    addrs, cur = [], None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(\S+)>:$", line)
        if m:
            cur = m.group(1)
            continue
        m = re.match(r"^\s+([0-9a-f]+):\t", line)
        if m and cur in funcs:
            addrs.append(int(m.group(1), 16))
    return addrs


@test
def sw_breakpoints_unlimited():
    """an int3 on every instruction of five functions; all restored"""
    vm = Launcher("callchain")
    elf = Elf(vm.elf)
    funcs = ("a", "b", "c", "guest_printf", "guest_putc")
    addrs = insn_addrs(vm.elf, funcs)
    if len(addrs) < 20:
        raise Fail(f"only {len(addrs)} instructions in {funcs}")
    a = elf.sym("a")
    cmds = [f"break *{x:#x}" for x in addrs] + [
        "continue", "info registers rip", "continue", "info registers rip",
        "delete", f"x/16xb {a:#x}", "continue"]
    out = gdb(vm, cmds)
    second = min(x for x in addrs if x > a)
    rips = [int(x, 16) for x in re.findall(r"^rip\s+(0x[0-9a-f]+)", out, re.M)]
    eq(rips, [a, second], "rip at the first two stops")
    dump = re.findall(r"^0x[0-9a-f]+ <a(?:\+\d+)?>:\s+(.*)$", out, re.M)
    got = bytes(int(x, 16) for line in dump for x in line.split())
    eq(got, elf.bytes_at(a, 16), "a's code after removal")
    finishes_like_reference(vm, "callchain")


@test
def hw_breakpoint():
    """hbreak c + continue stops at c with hwbreak, no int3 in memory"""
    vm = Launcher("callchain")
    elf = Elf(vm.elf)
    c = elf.sym("c")
    log = RemoteLog()
    out = gdb(vm, ["hbreak c", "set debug remote 1", "continue",
                   "set debug remote 0", "info registers rip",
                   "set breakpoint always-inserted on", "monitor phys on",
                   f"x/1xb {c:#x}", "monitor phys off", "continue"],
              pre=log.pre)
    match(r"Packet received: T05thread:0*1;hwbreak:;", log.text(), "stop reply")
    stopped_at(out, 1, "c", 12)
    eq(rip_of(out), c, "rip at the breakpoint")
    m = match(rf"^{c:#x} <c>:\s+(0x[0-9a-f]+)", out, "byte at c")
    eq(int(m.group(1), 16), elf.bytes_at(c, 1)[0], "byte at c (phys)")
    finishes_like_reference(vm, "callchain")


@test
def hw_breakpoint_fifth_refused():
    """a fifth hardware breakpoint is refused; the four work"""
    vm = Launcher("callchain")
    main = Elf(vm.elf).sym("main")
    out = gdb(vm, ["hbreak a", "hbreak b", "hbreak c", "hbreak main",
                   "hbreak guest_printf", "continue", "delete 5",
                   "continue", "info registers rip", "delete", "continue"])
    has(out, "Cannot insert hardware breakpoint 5.\nCould not insert hardware "
        "breakpoints:\nYou may have requested too many hardware "
        "breakpoints/watchpoints.", "gdb's error")
    has(out, "Breakpoint 4, main (", "first hit after the refusal")
    eq(rip_of(out), main, "rip at main")
    finishes_like_reference(vm, "callchain")


def store_after(out, value):
    """Address of the instruction after main's store of @value to watched."""
    lines = re.findall(r"^\s+(0x[0-9a-f]+) <\+\d+>:\t(.*)$", out, re.M)
    for i, (_, text) in enumerate(lines[:-1]):
        if text.startswith("movq") and f"${value:#x}," in text and "<watched>" in text:
            return int(lines[i + 1][0], 16)
    raise Fail(f"no store of {value:#x} to watched in:\n{out}")


@test
def watch_write_page_protection():
    """watch var stops after each store with the new value, RIP past it"""
    vm = Launcher("mempattern")
    watched = Elf(vm.elf).sym("watched")
    log = RemoteLog()
    out = gdb(vm, ["disassemble main", "watch watched",
                   "set debug remote 1", "continue", "set debug remote 0",
                   "info registers rip", "continue", "info registers rip",
                   "delete", "continue"], pre=log.pre)
    match(rf"Packet received: T05thread:0*1;watch:0*{watched:x};", log.text(),
          "stop reply")
    has(out, "Old value = 0\nNew value = 11\n", "first hit")
    has(out, "Old value = 11\nNew value = 22\n", "second hit")
    rips = [int(x, 16) for x in re.findall(r"^rip\s+(0x[0-9a-f]+)", out, re.M)]
    eq(rips, [store_after(out, 11), store_after(out, 22)], "rip after the stores")
    finishes_like_reference(vm, "mempattern")


@test
def watch_write_unlimited():
    """six write watchpoints (more than DR7's four) on five pages"""
    vm = Launcher("mempattern")
    out = gdb(vm, ["watch pattern[100]", "watch pattern[4096]",
                   "watch pattern[8192]", "watch pattern[12288]",
                   "watch pattern[16384]", "watch watched", "continue",
                   "continue", "delete", "continue"])
    for i in range(1, 7):
        has(out, f"Hardware watchpoint {i}: ", "watchpoint set")
    # fill() writes byte i = i * 7 + 3 in order: 100 -> 0xbf, 4096 -> 0x03.
    has(out, "Hardware watchpoint 1: pattern[100]\n\nOld value = 0 '\\000'\n"
        "New value = 191 '\\277'", "hit on page 0")
    has(out, "Hardware watchpoint 2: pattern[4096]\n\nOld value = 0 '\\000'\n"
        "New value = 3 '\\003'", "hit on page 1")
    # Every other store to the protected pages was applied by the stub:
    # the guest's checksum of the buffer must match a run without gdb.
    finishes_like_reference(vm, "mempattern")


@test
def read_and_access_watchpoints_as_documented():
    """rwatch: Z3 unsupported, gdb falls back to Z4; misaligned Z4 refused"""
    vm = Launcher("mempattern")
    pattern = Elf(vm.elf).sym("pattern")
    log = RemoteLog()
    out = gdb(vm, ["rwatch watched", "set debug remote 1", "stepi",
                   "set debug remote 0", "delete",
                   f"awatch *(int *){pattern + 2:#x}", "stepi", "delete",
                   "continue"], pre=log.pre)
    has(out, "Hardware read watchpoint 1: watched", "rwatch")
    match(r"Sending packet: \$Z3,[0-9a-f]+,8#..\n\s*\[remote\] Packet received: \n",
          log.text(), "Z3 answered empty (unsupported)")
    match(r"Sending packet: \$Z4,[0-9a-f]+,8#..\n\s*\[remote\] Packet received: OK",
          log.text(), "Z4 accepted")
    has(out, "Could not insert hardware watchpoint 2.", "misaligned awatch")
    finishes_like_reference(vm, "mempattern")


@test
def stepi_and_continue():
    """stepi moves one instruction; continue runs the guest to its end"""
    vm = Launcher("callchain")
    elf = Elf(vm.elf)
    out = gdb(vm, ["stepi", "info registers rip", "stepi",
                   "info registers rip", "continue"])
    rips = [int(x, 16) for x in re.findall(r"^rip\s+(0x[0-9a-f]+)", out, re.M)]
    # _start: xor %ebp,%ebp (2 bytes); call main.
    eq(rips, [elf.entry + 2, elf.sym("main")], "rip after each stepi")
    has(out, "[Inferior 1 (Remote target) exited normally]", "gdb sees the exit")
    finishes_like_reference(vm, "callchain")


@test
def register_write_between_steps():
    """a register written between two stepi is what the next step runs on and reads back after it; a hbreak set between steps stops continue, and stepping goes on after it"""
    vm = Launcher("callchain")
    elf = Elf(vm.elf)
    # _start: xor %ebp,%ebp (2 bytes); call main (5 bytes) pushes entry+7.
    out = gdb(vm, ["stepi", "p/x $rsp", "set $rsp = $rsp - 0x100",
                   "stepi", "p/x $rsp", "p/x *(unsigned long *)$rsp",
                   "p/x $rip", "set $rsp = $rsp + 0x100 - 8",
                   "set *(unsigned long *)$rsp = %#x" % (elf.entry + 7),
                   "hbreak c", "continue", "p/x $rip", "delete",
                   "stepi", "p/x $rip", "continue"])
    v = values(out)
    eq(len(v), 6, "six values printed")
    rsp0 = int(v[0], 16)
    eq(int(v[1], 16), rsp0 - 0x100 - 8, "rsp after the call from the written rsp")
    eq(int(v[2], 16), elf.entry + 7, "return address pushed at the written rsp")
    eq(int(v[3], 16), elf.sym("main"), "rip after the call")
    eq(int(v[4], 16), elf.sym("c"), "hbreak set between steps stops continue")
    ok = int(v[5], 16) > elf.sym("c")
    eq(ok, True, "stepi after the hbreak moves past c's first instruction")
    has(out, "[Inferior 1 (Remote target) exited normally]", "gdb sees the exit")
    finishes_like_reference(vm, "callchain")


@test
def register_write_read_back():
    """GPR, RIP, eflags and xmm writes read back; the guest runs on them"""
    vm = Launcher("callchain")
    elf = Elf(vm.elf)
    out = gdb(vm, ["set $rax = 0x1122334455667788", "set $r15 = -2",
                   "set $xmm3.v2_int64[1] = 0x0123456789abcdef",
                   "set $eflags = 0x202", "flushregs",
                   "p/x $rax", "p/x $r15", "p/x $xmm3.v2_int64[1]",
                   "p/x $eflags", f"set $rip = {elf.sym('main'):#x}",
                   "flushregs", "p/x $rip", "continue"])
    eq(values(out), ["0x1122334455667788", "0xfffffffffffffffe",
                     "0x123456789abcdef", "0x202", f"{elf.sym('main'):#x}"],
       "values read back")
    finishes_like_reference(vm, "callchain")


@test
def memory_write_read_back_across_pages():
    """memory writes read back, also across a page boundary; unmapped is an error"""
    vm = Launcher("mempattern")
    elf = Elf(vm.elf)
    pattern, watched = elf.sym("pattern"), elf.sym("watched")
    edge = pattern + 4096 - 4
    out = gdb(vm, [f"set {{unsigned long}}{watched:#x} = 0xdeadbeefcafef00d",
                   f"x/1xg {watched:#x}",
                   f"set {{unsigned char[8]}}{edge:#x} = {{1,2,3,4,5,6,7,8}}",
                   f"x/8xb {edge:#x}", "x/4xb 0x7ffffff000",
                   f"x/1xg {watched:#x}", "continue"])
    has(out, f"{watched:#x} <watched>:\t0xdeadbeefcafef00d", "8-byte write")
    m = match(rf"^{edge:#x} <pattern\+4092>:\s+(.*)$", out, "page-crossing read")
    eq(m.group(1).split(), [f"0x{i:02x}" for i in range(1, 9)], "bytes across pages")
    has(out, "Cannot access memory at address 0x7ffffff000", "unmapped read")
    eq(out.count(f"{watched:#x} <watched>:\t0xdeadbeefcafef00d"), 2,
       "stub alive after the bad read")
    finishes_like_reference(vm, "mempattern")


@test
def memory_raw_packets():
    """m/M/X: short read at the end of RAM, E14 unmapped, int3s invisible"""
    vm = Launcher("callchain")
    elf = Elf(vm.elf)
    rsp = Rsp(vm)
    rsp.cmd("?")
    end = 64 << 20	# the launcher's default RAM size
    eq(rsp.cmd(f"m{end - 2:x},4"), "0000", "read across the end of RAM")
    eq(rsp.cmd(f"m{end:x},4"), "E14", "read past RAM")
    eq(rsp.cmd("m7ffffffff000,4"), "E14", "read of an unmapped address")
    c = elf.sym("c")
    orig = elf.bytes_at(c, 2).hex()
    eq(rsp.cmd(f"Z0,{c:x},1"), "OK", "insert")
    eq(rsp.cmd(f"m{c:x},2"), orig, "read under our int3")
    eq(rsp.cmd(f"M{c:x},1:90"), "OK", "write over our int3")
    eq(rsp.cmd(f"m{c:x},2"), "90" + orig[2:], "read after the write")
    eq(rsp.cmd(f"z0,{c:x},1"), "OK", "remove")
    eq(rsp.cmd(f"m{c:x},2"), "90" + orig[2:], "removal keeps what gdb wrote")
    eq(rsp.cmd(f"M{c:x},1:{orig[:2]}"), "OK", "restore")
    eq(rsp.cmd("D"), "OK", "detach")
    rsp.close()
    finishes_like_reference(vm, "callchain")


@test
def resume_steps_off_reported_breakpoint():
    """a breakpoint at RIP is hit; resuming from that hit steps off it (raw)"""
    vm = Launcher("callchain")
    entry = Elf(vm.elf).entry
    rsp = Rsp(vm)
    rsp.cmd("qSupported:swbreak+;hwbreak+")
    rsp.cmd("?")
    eq(rsp.cmd(f"Z0,{entry:x},1"), "OK", "int3 at RIP")
    eq(rsp.cmd(f"Z1,{entry:x},1"), "OK", "hw breakpoint at RIP")
    # Not executed yet: the vCPU hits it (as with gdbserver and QEMU).
    match(r"^T05thread:0*1;(sw|hw)break:;", rsp.cmd("vCont;c"), "hit at RIP")
    eq(rsp.cmd("p10"), struct.pack("<Q", entry).hex(), "rip")
    # Resumed from that hit with both still in: it steps off and runs on.
    match(r"^W00", rsp.cmd("vCont;c"), "guest ran to its end")
    rsp.close()
    finishes_like_reference(vm, "callchain")


@test
def guest_int3_goes_to_the_guest():
    """the guest's own int3s reach its IDT while our int3s are in memory"""
    vm = Launcher("int3", elf=os.path.join(BUILD, "selftests/gdb/int3.elf"))
    out = gdb(vm, ["break guest_printf", "continue", "p bp_hits",
                   "info registers rip", "continue"])
    eq(values(out), ["3"], "bp_hits at the printf")
    eq(rip_of(out), Elf(vm.elf).sym("guest_printf"), "our breakpoint still hit")
    status, stdout, _ = vm.finish()
    vm.check_asan()
    eq((status, stdout), (0, "int3: 3 of 3 handled by the guest\n"), "guest")


@test
def threads_listed_and_switchable():
    """every vCPU is a thread; thread N shows its own RDI"""
    vm = Launcher("smp", cpus=4)
    out = gdb(vm, ["info threads", "thread 2", "p $rdi", "thread 4",
                   "p $rdi", "thread 1", "p $rdi", "monitor info vcpus",
                   "detach"])
    threads = re.findall(r"^[* ] +(\d+) +Thread (\d+) \(vCPU (\d+) stopped\)", out, re.M)
    eq(threads, [(str(i), str(i), str(i - 1)) for i in range(1, 5)], "info threads")
    eq(values(out), ["1", "3", "0"], "rdi of threads 2, 4, 1")
    entry = Elf(vm.elf).entry
    vcpus = re.findall(r"^vCPU (\d): rip (0x[0-9a-f]+) not halted, long mode \(64-bit\), "
                       r"4-level paging$", out, re.M)
    eq(vcpus, [(str(i), hex(entry)) for i in range(4)], "monitor info vcpus")
    finishes_like_reference(vm, "smp", 4)


@test
def every_vcpu_hit_reported_once():
    """4 vCPUs through one breakpoint: each hit reported, none lost (all-stop)"""
    vm = Launcher("counters", cpus=4)
    out = gdb(vm, ["break count"] + ["continue"] * 5)
    hits = re.findall(r"^Thread (\d) hit Breakpoint 1, count ", out, re.M)
    eq(sorted(hits), ["1", "2", "3", "4"], "threads that hit count()")
    has(out, "[Inferior 1 (Remote target) exited normally]", "guest ends")
    finishes_like_reference(vm, "counters", 4)


@test
def monitor_translate():
    """monitor translate walks a vCPU's page tables (4K, 2M, unmapped)"""
    vm = Launcher("callchain", cpus=2)
    out = gdb(vm, ["monitor translate 0x100010", "monitor translate 0x200010 1",
                   "monitor translate 0x7ffffff000",
                   "monitor translate 0xffff800000000000",
                   "monitor translate nonsense", "continue"])
    for line in ["0x100010 -> 0x100010 (4K page, 4-level paging)",
                 "0x200010 -> 0x200010 (2048K page, 4-level paging)",
                 "0x7ffffff000: not mapped (level 3 entry not present, 4-level paging)",
                 "0xffff800000000000: not mapped (level 4 entry not present, "
                 "4-level paging)",
                 "usage: translate ADDR [VCPU]"]:
        has(out, line + "\n", "monitor output")
    finishes_like_reference(vm, "callchain", 2)


@test
def ctrl_c_stops_every_vcpu():
    """SIGINT to gdb while the guest spins stops all vCPUs"""
    vm = Launcher("smp", cpus=2)
    # turn = 5: every vCPU spins waiting for its turn.
    g = GdbBg(vm, ["set var turn = 5", "echo RUNNING\\n", "continue",
                   "info threads", "monitor info vcpus", "set var turn = 0",
                   "continue"])
    g.wait_for("RUNNING")
    time.sleep(1)	# let it spin a while; not a timing assertion
    g.p.send_signal(signal.SIGINT)
    out = g.finish()
    has(out, "received signal SIGINT, Interrupt.", "gdb's stop")
    threads = re.findall(r"^[* ] +\d+ +Thread \d+ \(vCPU (\d) stopped\) "
                         r"(?:0x[0-9a-f]+ in )?(main|cpu_relax) \(", out, re.M)
    eq(sorted(t[0] for t in threads), ["0", "1"], "both vCPUs stopped in the wait loop")
    eq(len(re.findall(r"^vCPU \d: rip 0x[0-9a-f]+ not halted,", out, re.M)), 2,
       "monitor info vcpus")
    has(out, "[Inferior 1 (Remote target) exited normally]", "guest ends")
    finishes_like_reference(vm, "smp", 2)


@test
def detach_guest_runs_on():
    """detach with breakpoints inserted: the guest finishes correctly"""
    vm = Launcher("callchain")
    out = gdb(vm, ["set breakpoint always-inserted on", "break b",
                   "break c", "hbreak a", "watch input", "continue", "detach"],
              )
    has(out, "Breakpoint 3, a (", "stopped at a")
    has(out, "[Inferior 1 (Remote target) detached]", "detached")
    finishes_like_reference(vm, "callchain")


@test
def disconnect_while_stopped():
    """kill -9 of gdb at a breakpoint: guest completes, no int3 left"""
    vm = Launcher("callchain")
    g = GdbBg(vm, ["set breakpoint always-inserted on", "break b", "break c",
                   "continue", "shell sleep 600"])
    g.wait_for("Breakpoint 1, b (")
    g.p.kill()
    g.p.wait(30)
    finishes_like_reference(vm, "callchain")


@test
def disconnect_while_running_then_reconnect():
    """kill -9 of gdb mid-continue; a new gdb finds the VM stopped, clean"""
    vm = Launcher("smp", cpus=2)
    elf = Elf(vm.elf)
    printf = elf.sym("guest_printf")
    g = GdbBg(vm, ["set var turn = 5", "break guest_printf",
                   "hbreak guest_exit", "watch turn", "echo RUNNING\\n",
                   "continue"])
    g.wait_for("RUNNING")
    time.sleep(1)	# the guest spins with our int3 inserted
    g.p.kill()
    g.p.wait(30)
    out = gdb(vm, ["info threads", f"x/1xb {printf:#x}", "p turn",
                   "set var turn = 0", "detach"])
    threads = re.findall(r"^[* ] +\d+ +Thread \d+ \(vCPU (\d) stopped\)", out, re.M)
    eq(threads, ["0", "1"], "threads seen by the second gdb")
    m = match(rf"^{printf:#x} <guest_printf>:\s+(0x[0-9a-f]+)", out, "byte")
    eq(int(m.group(1), 16), elf.bytes_at(printf, 1)[0], "no int3 left behind")
    eq(values(out), ["5"], "guest memory as the first gdb left it")
    finishes_like_reference(vm, "smp", 2)


@test
def kill_ends_the_guest():
    """gdb's kill ends the VM (status 137), nothing printed"""
    vm = Launcher("hello")
    out = gdb(vm, ["kill"])
    has(out, "[Inferior 1 (Remote target) killed]", "gdb")
    status, stdout, _ = vm.finish()
    vm.check_asan()
    eq((status, stdout), (137, ""), "status and output")


@test
def port_conflict_runs_without_debugger():
    """same TCP port twice: the second logs one line and runs its guest"""
    a = Launcher("callchain", spec="127.0.0.1:0")
    port = a.port()
    b = Launcher("hello", spec=str(port))
    status, out, err = b.finish()
    eq(err, f"gdb: 127.0.0.1:{port} in use; running without a debugger\n",
       "second launcher's stderr")
    eq((status, out), reference("hello"), "second guest")
    gdb(a, ["continue"])
    finishes_like_reference(a, "callchain")


@test
def two_vms_debugged_independently():
    """two VMs on two TCP ports, each with its own gdb at the same time"""
    a = Launcher("callchain", spec="127.0.0.1:0")
    b = Launcher("mempattern", spec="127.0.0.1:0")
    ga = GdbBg(a, ["break c", "continue", "info registers rip", "continue"])
    gb = GdbBg(b, ["watch watched", "continue", "info registers rip",
                   "delete", "continue"])
    out_a, out_b = ga.finish(), gb.finish()
    stopped_at(out_a, 1, "c", 12, "VM A")
    eq(rip_of(out_a), Elf(a.elf).sym("c"), "VM A rip")
    has(out_b, "Old value = 0\nNew value = 11\n", "VM B")
    finishes_like_reference(a, "callchain")
    finishes_like_reference(b, "mempattern")


@test
def lldb_session():
    """lldb: rip, threads, memory, breakpoints, step, register write, detach"""
    vm = Launcher("callchain", cpus=2, spec="127.0.0.1:0")
    elf = Elf(vm.elf)
    c = elf.sym("c")
    out = lldb(vm, ["register read rip", "thread list",
                    f"memory read --size 1 --count 8 {elf.entry:#x}",
                    "breakpoint set --name b", "breakpoint set --name c",
                    "continue", "register read rip", "continue",
                    "register read rip", "thread step-inst", "register read rip",
                    "register write rax 0x1234", "register read rax",
                    "process detach"])
    rips = re.findall(r"^\s+rip = (0x[0-9a-f]{16})", out, re.M)
    # c: lea 0x1(%rdi,%rdi,2),%rax (5 bytes); ret
    eq([int(r, 16) for r in rips], [elf.entry, elf.sym("b"), c, c + 5],
       "register read rip")
    threads = re.findall(r"^[* ] thread #(\d+): tid = 0x000(\d)", out, re.M)
    eq(threads, [("1", "1"), ("2", "2")], "thread list")
    m = match(rf"^{elf.entry:#010x}: ((?:[0-9a-f]{{2}} ){{8}})", out, "memory read")
    eq(bytes.fromhex(m.group(1)), elf.bytes_at(elf.entry, 8), "memory read")
    has(out, "stop reason = breakpoint 1.1", "breakpoint at b")
    has(out, "stop reason = breakpoint 2.1", "breakpoint at c")
    has(out, "rax = 0x0000000000001234", "register write")
    has(out, "Process 1 detached", "detach")
    # c() now returns 0x1234: b = 2 * 4660, a = b + 5.
    status, stdout, _ = vm.finish()
    vm.check_asan()
    eq((status, stdout), (0, "callchain: a(10) = 9325\n"), "guest after the write")



@test
def lldb_reads_memory_with_x():
    """lldb reads 1.25 MiB with binary x packets (its x0,0 probe, no m); the bytes equal gdb's m reads"""
    lo, hi = 0x1000, 0x141000	# VMM page tables, the image, free RAM
    # Free RAM gets bytes 0x20-0x2f and 0x70-0x7f: '#', '$', '*' and '}'.
    spot, vals = 0x130000, list(range(0x20, 0x30)) + list(range(0x70, 0x80))
    vm = Launcher("callchain", spec="127.0.0.1:0")
    log, lbin = f"{TMP}/lldb-x.packets", f"{TMP}/lldb-x.bin"
    out = lldb(vm, [f"memory write -s 1 {spot:#x} " + " ".join(map(hex, vals)),
                    f"log enable -f {log} gdb-remote packets",
                    f"memory read --force --binary --outfile {lbin} {lo:#x} {hi:#x}",
                    "process detach"])
    has(out, f"{hi - lo} bytes written to '{lbin}'", "lldb's memory read")
    with open(log, errors="replace") as f:
        packets = f.read()
    sent = re.findall(r"send packet: \$([^#]*)#", packets)
    eq([p for p in sent if re.fullmatch(r"m[0-9a-f]+,[0-9a-f]+", p)], [],
       "lldb sent no m packet")
    reads = [p for p in sent if re.fullmatch(r"x[0-9a-f]+,[0-9a-f]+", p)]
    eq(reads[0], "x0,0", "lldb's probe comes first")
    if not re.search(r"send packet: \$x0,0#04\n[^\n]*read packet: \$OK#9a", packets):
        raise Fail("lldb's x0,0 probe was not answered OK")
    big = [p for p in reads if int(p.split(",")[1], 16) > 0x10000]
    if len(big) < 10:
        raise Fail(f"lldb read {hi - lo} bytes in {len(big)} large x packets:\n{reads}")
    vm.finish()
    vm.check_asan()
    gvm = Launcher("callchain")
    gbin = f"{TMP}/gdb-m.bin"
    gdb(gvm, [f"set {{unsigned char[{len(vals)}]}}{spot:#x} = {{{', '.join(map(hex, vals))}}}",
              f"dump binary memory {gbin} {lo:#x} {hi:#x}", "continue"])
    with open(lbin, "rb") as f1, open(gbin, "rb") as f2:
        lb, gb = f1.read(), f2.read()
    eq(len(gb), hi - lo, "gdb's dump size")
    if lb != gb:
        i = next(i for i in range(len(lb)) if lb[i] != gb[i])
        raise Fail(f"lldb (x) and gdb (m) differ first at {lo + i:#x}")
    counts = {chr(c): lb.count(c) for c in b"#$}*"}
    if 0 in counts.values():
        raise Fail(f"not every byte that needs an escape was read: {counts}")
    elf = Elf(vm.elf)
    eq(lb[elf.entry - lo:elf.entry - lo + 64], elf.bytes_at(elf.entry, 64),
       "the code at the entry point")
    eq(lb[spot - lo:spot - lo + len(vals)], bytes(vals), "the bytes lldb wrote")
    finishes_like_reference(gvm, "callchain")


def host_has_avx():
    """AVX in this host's CPU flags: then KVM's CPUID 0xD lists it too."""
    with open("/proc/cpuinfo") as f:
        return bool(re.search(r"^flags\s*:.*\bavx\b", f.read(), re.M))


@test
def mxcsr_and_ymm_gdb():
    """gdb: mxcsr is 0x1f80 at entry, mxcsr and ymm writes read back and survive a stepi"""
    vm = Launcher("callchain")
    elf = Elf(vm.elf)
    avx = host_has_avx()
    ymm = ["set $ymm0.v8_int32 = {1, 2, 3, 4, 5, 6, 7, -8}",
           "set $ymm15.v4_int64 = {0x1111, 0x2222, 0x3333, 0x4444444455555555}",
           "p $ymm0.v8_int32", "p/x $ymm15.v4_int64"] if avx else ["p $ymm0"]
    after = ["p $ymm0.v8_int32", "p/x $ymm15.v4_int64", "p $xmm0.v4_int32"] if avx else []
    out = gdb(vm, ["p/x $mxcsr", "set $mxcsr = 0x3f80", "p/x $mxcsr"] + ymm +
              ["stepi", "info registers rip", "p/x $mxcsr"] + after + ["continue"])
    want = ["0x1f80", "0x3f80"]
    if avx:
        want += ["{1, 2, 3, 4, 5, 6, 7, -8}", "{0x1111, 0x2222, 0x3333, 0x4444444455555555}"]
    else:
        want += ["void"]
    want += ["0x3f80"]
    if avx:
        want += ["{1, 2, 3, 4, 5, 6, 7, -8}", "{0x1111, 0x2222, 0x3333, 0x4444444455555555}",
                 "{1, 2, 3, 4}"]
    eq(values(out), want, "values read back")
    eq(rip_of(out), elf.entry + 2, "rip after the stepi")
    finishes_like_reference(vm, "callchain")


@test
def mxcsr_and_ymm_lldb():
    """lldb: mxcsr is 0x1f80 at entry, mxcsr and ymm0 writes read back and survive a step"""
    vm = Launcher("callchain", spec="127.0.0.1:0")
    avx = host_has_avx()
    ymm = bytes(range(1, 33))
    lit = "{" + " ".join(f"0x{b:02x}" for b in ymm) + "}"
    cmds = ["register read mxcsr", "register write mxcsr 0x3f80", "register read mxcsr"]
    if avx:
        cmds += [f"register write ymm0 \"{lit}\"", "register read ymm0"]
    cmds += ["thread step-inst", "register read mxcsr"]
    if avx:
        cmds += ["register read ymm0 xmm0"]
    out = lldb(vm, cmds + ["process detach"])
    eq(re.findall(r"^\s+mxcsr = (0x[0-9a-f]+)", out, re.M),
       ["0x00001f80", "0x00003f80", "0x00003f80"], "register read mxcsr")
    if avx:
        eq(re.findall(r"^\s+ymm0 = \{(.*)\}", out, re.M), [lit[1:-1]] * 2,
           "register read ymm0")
        eq(re.findall(r"^\s+xmm0 = \{(.*)\}", out, re.M),
           [" ".join(f"0x{b:02x}" for b in ymm[:16])], "xmm0 is ymm0's low half")
    has(out, "Process 1 detached", "detach")
    finishes_like_reference(vm, "callchain")


CRASH_ELF = os.path.join(BUILD, "selftests/gdb/crash.elf")


def crash_line(vm):
    """The launcher's one line for crash.elf's triple fault (stderr)."""
    rip = Elf(vm.elf).sym("crash_here")
    return (f"{os.path.basename(LAUNCH)}: {vm.elf}: vCPU 0: KVM_EXIT_SHUTDOWN (triple fault) "
            f"at RIP {rip:#x}; the guest ends with status 136\n")


def crash_ends(vm, how):
    """The crashed guest ended as it does without gdb: status 136, one line."""
    status, out, err = vm.finish()
    vm.check_asan()
    eq((status, out), (136, "crash: about to execute ud2\n"), f"guest after {how}")
    eq(err.count(crash_line(vm)), 1, f"crash line on stderr:\n{err}")
    nogdb = Launcher("crash", gdb=False, elf=CRASH_ELF)
    status, out, err = nogdb.finish()
    eq((status, out, err), (136, "crash: about to execute ud2\n", crash_line(nogdb)),
       "the same guest without gdb")


@test
def crash_stops_and_continue_ends_it():
    """a triple fault under gdb is a SIGSEGV stop: rip, memory, monitor info crash; continue ends it (136)"""
    vm = Launcher("crash", elf=CRASH_ELF)
    elf = Elf(vm.elf)
    out = gdb(vm, ["continue", "info registers rip", "x/1xg &marker",
                   "monitor info crash", "continue"])
    has(out, "Program received signal SIGSEGV, Segmentation fault.", "stop signal")
    eq(rip_of(out), elf.sym("crash_here"), "rip on the ud2")
    has(out, f"{elf.sym('marker'):#x} <marker>:\t0x1122334455667788\n", "memory readable")
    has(out, crash_line(vm).split(": ", 1)[1][:-1] +
        " when you continue, kill or detach\n", "monitor info crash")
    has(out, "[Inferior 1 (Remote target) exited with code 0210]", "gdb sees status 136")
    crash_ends(vm, "continue")


@test
def crash_held_until_kill():
    """gdb's kill of a crashed guest ends it with the crash's status (136), not 137"""
    vm = Launcher("crash", elf=CRASH_ELF)
    out = gdb(vm, ["monitor info crash", "continue", "kill"])
    eq(out.count("no crash\n"), 1, "monitor info crash before the crash")
    has(out, "Program received signal SIGSEGV", "stop signal")
    has(out, "[Inferior 1 (Remote target) killed]", "gdb")
    crash_ends(vm, "kill")


@test
def crash_held_until_detach():
    """detach from a crashed guest ends it with the crash's status (136)"""
    vm = Launcher("crash", elf=CRASH_ELF)
    out = gdb(vm, ["continue", "detach"])
    has(out, "Program received signal SIGSEGV", "stop signal")
    has(out, "[Inferior 1 (Remote target) detached]", "gdb")
    crash_ends(vm, "detach")


@test
def crash_under_breakpoint_and_stepi():
    """a breakpoint on the faulting ud2 is a hit, not a crash; stepping over it is the SIGSEGV"""
    vm = Launcher("crash", elf=CRASH_ELF)
    rip = Elf(vm.elf).sym("crash_here")
    out = gdb(vm, ["break crash_here", "continue", "info registers rip", "stepi",
                   "info registers rip", "continue"])
    has(out, "Breakpoint 1, crash_here ()", "breakpoint hit first")
    has(out, "Program received signal SIGSEGV, Segmentation fault.", "then the crash")
    eq([int(x, 16) for x in re.findall(r"^rip\s+(0x[0-9a-f]+)", out, re.M)], [rip, rip],
       "rip at the hit and at the crash")
    has(out, "[Inferior 1 (Remote target) exited with code 0210]", "gdb sees status 136")
    crash_ends(vm, "continue")


@test
def internal_error_stops_as_sigill():
    """KVM_EXIT_INTERNAL_ERROR under gdb (with an int3 of ours elsewhere) is a SIGILL stop; continue ends it (145)"""
    elf = os.path.join(BUILD, "selftests/gdb/badfetch.elf")
    vm = Launcher("badfetch", elf=elf)
    line = (f"{os.path.basename(LAUNCH)}: {elf}: vCPU 0: KVM_EXIT_INTERNAL_ERROR (suberror 1) "
            f"at RIP 0; the guest ends with status 145\n")
    out = gdb(vm, ["break guest_exit", "continue", "info registers rip",
                   "x/1xg 0x4000", "monitor info crash", "continue"])
    has(out, "Program received signal SIGILL, Illegal instruction.", "stop signal")
    eq(rip_of(out), 0, "rip where the fetch failed")
    # The guest wrote P|RW; the failed fetch's page walk set Accessed (0x20).
    has(out, "0x4000:\t0x00000000c0000023\n", "the guest's page table entry")
    has(out, line.split(": ", 1)[1][:-1] + " when you continue, kill or detach\n",
        "monitor info crash")
    has(out, "[Inferior 1 (Remote target) exited with code 0221]", "gdb sees status 145")
    status, stdout, err = vm.finish()
    vm.check_asan()
    eq((status, stdout), (145, "badfetch: jumping to no RAM\n"), "guest")
    eq(err.count(line), 1, f"crash line on stderr:\n{err}")
    nogdb = Launcher("badfetch", gdb=False, elf=elf)
    eq(nogdb.finish(), (145, "badfetch: jumping to no RAM\n", line), "without gdb")


@test
def crash_while_stepping_off_breakpoint():
    """resuming from a reported int3 on the ud2 (raw): the internal step-off's crash is reported, T0b, then W88"""
    vm = Launcher("crash", elf=CRASH_ELF)
    rip = Elf(vm.elf).sym("crash_here")
    rsp = Rsp(vm)
    rsp.cmd("qSupported:swbreak+;hwbreak+")
    rsp.cmd("?")
    eq(rsp.cmd(f"Z0,{rip:x},1"), "OK", "int3 on the ud2")
    match(r"^T05thread:0*1;swbreak:;", rsp.cmd("vCont;c"), "breakpoint hit")
    # Still inserted: the stub steps the vCPU off it, and that step crashes.
    match(r"^T0bthread:0*1;", rsp.cmd("vCont;c"), "the crash, as SIGSEGV")
    eq(rsp.cmd("p10"), struct.pack("<Q", rip).hex(), "rip on the ud2")
    eq(rsp.cmd("vCont;c"), "W88", "continue ends it with status 136")
    rsp.close()
    crash_ends(vm, "continue")


def spin_loop(elf_path):
    """The first instruction of smp's wait loop (the target of main's jne)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf_path],
                         stdout=subprocess.PIPE, timeout=60, check=True).stdout.decode()
    return int(match(r"jne\s+([0-9a-f]+) <main\+0x[0-9a-f]+>", out, "wait loop").group(1), 16)


@test
def state_packets_while_running_refused():
    """g p P m M Z0 Z2 monitor vCont;s while the guest runs: E16; Ctrl-C and ? still work (raw)"""
    vm = Launcher("smp", cpus=2)
    elf = Elf(vm.elf)
    turn = elf.sym("turn")
    rsp = Rsp(vm)
    rsp.cmd("?")
    eq(rsp.cmd(f"M{turn:x},4:05000000"), "OK", "turn = 5: every vCPU spins")
    rsp.cmd("vCont;c", wait=False)
    for pkt in ["g", "p10", "P10=" + "00" * 8, f"m{turn:x},4",
                f"M{turn:x},4:00000000", f"Z0,{elf.entry:x},1",
                f"Z2,{turn:x},4", "vCont;s:1", "c"]:
        eq(rsp.cmd(pkt), "E16", f"{pkt} while running")
    msg = "monitor info vcpus: the target is running; stop it first (Ctrl-C)\n"
    eq(rsp.cmd("qRcmd," + b"info vcpus".hex()), "O" + msg.encode().hex(),
       "monitor info vcpus while running")
    eq(rsp.reply(), "E16", "monitor info vcpus while running")
    eq(rsp.cmd("qC"), "QC1", "qC while running")
    rsp.s.sendall(b"\x03")
    match(r"^T02thread:0*1;", rsp.reply(), "Ctrl-C")
    match(r"^T02thread:0*1;", rsp.cmd("?"), "? after Ctrl-C")
    eq(rsp.cmd(f"m{turn:x},4"), "05000000", "guest memory readable again")
    eq(rsp.cmd(f"M{turn:x},4:00000000"), "OK", "turn = 0")
    eq(rsp.cmd("D"), "OK", "detach")
    rsp.close()
    finishes_like_reference(vm, "smp", 2)


@test
def ctrl_c_names_the_resumed_thread():
    """Ctrl-C after vCont;c:2 or with thread 2 current reports thread 2 (raw)"""
    vm = Launcher("smp", cpus=2)
    turn = Elf(vm.elf).sym("turn")
    rsp = Rsp(vm)
    rsp.cmd("?")
    eq(rsp.cmd(f"M{turn:x},4:05000000"), "OK", "turn = 5: every vCPU spins")
    eq(rsp.cmd("Hg1"), "OK", "Hg1")
    rsp.cmd("vCont;c:2", wait=False)
    rsp.s.sendall(b"\x03")
    match(r"^T02thread:0*2;", rsp.reply(), "Ctrl-C with only thread 2 resumed")
    eq(rsp.cmd("qC"), "QC2", "the stopped thread is current")
    rsp.cmd("vCont;c", wait=False)
    rsp.s.sendall(b"\x03")
    match(r"^T02thread:0*2;", rsp.reply(), "Ctrl-C with thread 2 current")
    eq(rsp.cmd("Hg1"), "OK", "Hg1")
    rsp.cmd("vCont;s:1;c", wait=False)
    match(r"^T05thread:0*1;", rsp.reply(), "step of thread 1")
    eq(rsp.cmd(f"M{turn:x},4:00000000"), "OK", "turn = 0")
    eq(rsp.cmd("D"), "OK", "detach")
    rsp.close()
    finishes_like_reference(vm, "smp", 2)


@test
def ctrl_c_scheduler_locking_thread_2():
    """gdb: thread 2 alone continues (scheduler-locking); Ctrl-C stops thread 2"""
    vm = Launcher("smp", cpus=2)
    g = GdbBg(vm, ["set var turn = 5", "thread 2", "set scheduler-locking on",
                   "echo RUNNING\\n", "continue", "thread", "stepi",
                   "thread", "set scheduler-locking off", "set var turn = 0",
                   "continue"])
    g.wait_for("RUNNING")
    time.sleep(1)	# let it spin a while; not a timing assertion
    g.p.send_signal(signal.SIGINT)
    out = g.finish()
    if "internal-error" in out:
        raise Fail("gdb internal error:\n" + out)
    match(r"^Thread 2 received signal SIGINT, Interrupt\.$", out, "gdb's stop")
    eq(re.findall(r"^\[Current thread is (\d+) ", out, re.M), ["2", "2"],
       "current thread after Ctrl-C and after stepi")
    has(out, "[Inferior 1 (Remote target) exited normally]", "guest ends")
    finishes_like_reference(vm, "smp", 2)


@test
def breakpoint_removed_while_hit():
    """vCont;c and z0 in one write, 30 rounds on a spin loop: a hit in flight is re-executed (raw)"""
    vm = Launcher("smp", cpus=2)
    elf = Elf(vm.elf)
    turn, loop = elf.sym("turn"), spin_loop(vm.elf)
    rsp = Rsp(vm)
    rsp.cmd("qSupported:swbreak+")
    rsp.cmd("?")
    eq(rsp.cmd(f"M{turn:x},4:05000000"), "OK", "turn = 5: every vCPU spins")
    z0 = f"z0,{loop:x},1"
    for i in range(30):
        eq(rsp.cmd(f"Z0,{loop:x},1"), "OK", f"round {i}: insert")
        match(r"^T05thread:0*[12];swbreak:;", rsp.cmd("vCont;c"), f"round {i}: hit")
        rsp.s.sendall(b"$vCont;c#a8" + f"${z0}#{sum(z0.encode()) & 0xff:02x}".encode())
        eq(rsp.reply(), "OK", f"round {i}: removal while running")
        rsp.s.sendall(b"\x03")
        # One stop: a hit before the removal, or Ctrl-C's.
        match(r"^T0[25]thread:0*[12];", rsp.reply(), f"round {i}: stop")
    eq(rsp.cmd(f"m{loop:x},1"), elf.bytes_at(loop, 1).hex(), "no int3 left")
    eq(rsp.cmd(f"M{turn:x},4:00000000"), "OK", "turn = 0")
    eq(rsp.cmd("D"), "OK", "detach")
    rsp.close()
    finishes_like_reference(vm, "smp", 2)


@test
def gdb_more_than_256_vcpus():
    """--cpus 257 --gdb: 257 threads, thread 257 readable, continue runs all to the end (raw)"""
    flat = f"{TMP}/hlt.bin"
    with open(flat, "wb") as f:
        f.write(b"\xf4")	# hlt: the guest ends once every vCPU halted
    vm = Launcher("hlt", cpus=257, elf=flat,
                  opts=("--flat", "--load-addr", "0x200000"))
    rsp = Rsp(vm)
    match(r"^T05thread:0*1;", rsp.cmd("?"), "stop reply")
    eq(rsp.cmd("qfThreadInfo"), "m" + ",".join(f"{t:x}" for t in range(1, 258)),
       "thread list")
    eq(rsp.cmd("Hg101"), "OK", "select thread 257")
    eq(rsp.cmd("p10"), struct.pack("<Q", 0x200000).hex(), "rip of thread 257")
    eq(rsp.cmd("vCont;c"), "W00", "every vCPU ran and halted")
    rsp.close()
    status, out, _ = vm.finish()
    vm.check_asan()
    eq((status, out), (0, ""), "status and output")


# ---- the VMM's structures; cr8 ---------------------------------------------

def vmm_refusal(op, addr, what):
    return (f"gdb: {op} at {addr:#x}: guest-physical {addr:#x} is the VMM's {what}; "
            "use 'monitor phys on' to write VMM structures anyway")


@test
def vmm_structures_refused_unless_phys():
    """break *0x2000 and set {char}0x2000 refused with a line (PML4); reads work; phys on writes"""
    vm = Launcher("callchain")
    out = gdb(vm, ["break *0x2000", "continue", "delete",
                   "set {char}0x2000 = 0", "x/1xb 0x2000",
                   "monitor phys on", "set {char}0x2000 = 7", "x/1xb 0x2000",
                   "set {char}0x2000 = 3", "x/1xb 0x2000", "monitor phys off",
                   "continue"])
    has(out, "Cannot insert breakpoint 1.", "gdb: Z0 refused")
    eq(out.count("Cannot access memory at address 0x2000"), 2,
       "gdb: Z0 and the write refused, nothing else")
    eq(re.findall(r"^0x2000:\s+(0x[0-9a-f]+)", out, re.M), ["0x03", "0x07", "0x03"],
       "PML4's first byte: unchanged, then written in phys mode")
    finishes_like_reference(vm, "callchain")
    lines = [l for l in vm.err().splitlines() if "VMM's" in l]
    eq(lines, [vmm_refusal("Z0", 0x2000, "page table (PML4)"),
               vmm_refusal("memory write", 0x2000, "page table (PML4)")],
       "launcher's refusal lines")


@test
def vmm_structures_raw_packets():
    """Z0/M/X into the GDT, TSS, PD refused whole (E13); phys on: Z0 and M accepted (raw)"""
    vm = Launcher("callchain")
    rsp = Rsp(vm)
    rsp.cmd("?")
    eq(rsp.cmd("Z0,1008,1"), "E13", "Z0 in the GDT")
    eq(rsp.cmd("X5000,1:A"), "E13", "X into the TSS")
    before = rsp.cmd("m6ff8,10")
    eq(rsp.cmd("M6ff8,10:" + "ab" * 16), "E13", "M from the PD into the next page")
    eq(rsp.cmd("m6ff8,10"), before, "no byte of it written")
    eq(rsp.cmd("M7000,8:" + before[16:]), "OK", "the page after the PD is the guest's")
    msg = "phys on: memory packets use guest-physical addresses\n"
    eq(rsp.cmd("qRcmd," + b"phys on".hex()), msg.encode().hex(), "phys on")
    eq(rsp.cmd("Z0,2000,1"), "OK", "Z0 in the PML4, phys on")
    eq(rsp.cmd("z0,2000,1"), "OK", "and removed")
    eq(rsp.cmd("m2000,1"), "03", "PML4 byte restored")
    eq(rsp.cmd("M5000,1:00"), "OK", "M into the TSS, phys on")
    msg = "phys off: memory packets use guest-virtual addresses\n"
    eq(rsp.cmd("qRcmd," + b"phys off".hex()), msg.encode().hex(), "phys off")
    eq(rsp.cmd("Z0,2000,1"), "E13", "Z0 in the PML4 refused again")
    eq(rsp.cmd("D"), "OK", "detach")
    rsp.close()
    finishes_like_reference(vm, "callchain")
    lines = [l for l in vm.err().splitlines() if "VMM's" in l]
    eq(lines, [vmm_refusal("Z0", 0x1008, "GDT"),
               vmm_refusal("memory write", 0x5000, "TSS"),
               vmm_refusal("memory write", 0x6ff8, "page table (page directory)"),
               vmm_refusal("Z0", 0x2000, "page table (PML4)")],
       "launcher's refusal lines")


@test
def cr8_write_sticks():
    """set $cr8 = 5 survives stepi (KVM_RUN reloads run->cr8 without a LAPIC)"""
    vm = Launcher("callchain")
    out = gdb(vm, ["set $cr8 = 5", "stepi", "p $cr8", "stepi", "p $cr8",
                   "set $cr8 = 0", "stepi", "p $cr8", "continue"])
    eq(values(out), ["5", "5", "0"], "cr8 after each stepi")
    finishes_like_reference(vm, "callchain")


@test
def cr8_restored_by_resume():
    """a snapshot taken with cr8 = 5 resumes with cr8 = 5 after a stepi"""
    snap = f"{TMP}/cr8.snap"
    vm = Launcher("callchain")
    out = gdb(vm, ["set $cr8 = 5", f"monitor snapshot {snap}", "set $cr8 = 0",
                   "continue"])
    has(out, f"snapshot written to {snap}", "monitor snapshot")
    finishes_like_reference(vm, "callchain")
    p = spawn([LAUNCH, "--resume", snap, "--gdb-exec", "stepi",
               "--gdb-exec", "p $cr8"], stdin=subprocess.DEVNULL,
              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        res, _ = p.communicate(timeout=CLIENT_DEADLINE)
    except subprocess.TimeoutExpired:
        kill(p)
        raise Fail("resume under gdb still running")
    res = res.decode(errors="replace")
    eq(values(res), ["5"], "cr8 of the resumed guest after a stepi")
    eq(p.returncode, 0, "resume's status")


# ---- non-stop, extended-remote, lldb kill (issue 9 item 10) --------------

def wait_err(vm, text, deadline=LISTEN_DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if text in vm.err():
            return
        if vm.p.poll() is not None:
            raise Fail(f"launcher exited ({vm.p.returncode}) before {text!r}:\n{vm.err()}")
        time.sleep(0.05)
    raise Fail(f"launcher never printed {text!r}:\n{vm.err()}")


HELD = "gdb: client left; guest still held at entry, waiting for the next client\n"


@test
def non_stop_refused_guest_still_held():
    """set non-stop on: refused with a reason; the next gdb finds the guest at entry"""
    vm = Launcher("hello")
    elf = Elf(vm.elf)
    out = gdb(vm, [], pre=["set non-stop on"])
    has(out, "Remote refused setting non-stop mode with: E.non-stop mode is "
        "not supported: kvmdbg-launch is an all-stop stub; use 'set non-stop off'",
        "gdb's refusal")
    wait_err(vm, HELD)
    eq(vm.out(), "", "guest console before the second gdb")
    out = gdb(vm, ["info registers rip", "continue"])
    eq(rip_of(out), elf.entry, "rip seen by the second gdb")
    finishes_like_reference(vm, "hello")
    eq(vm.err().count(HELD), 1, "held message count")


def gdb_extended(vm, cmds, deadline=CLIENT_DEADLINE):
    """A batch gdb session over "target extended-remote"."""
    args = gdb_args(vm.elf, vm.target or vm.listening(), cmds)
    i = args.index(f"target remote {vm.target}")
    args[i] = f"target extended-remote {vm.target}"
    p = spawn(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
              stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        kill(p)
        raise Fail(f"gdb still running after {deadline}s")
    return out.decode(errors="replace")


HELLO = "Hello from kvmdbg guest\n"


@test
def extended_remote_run_kill_reconnect():
    """extended-remote: run restarts at entry, kill keeps the launcher, a new gdb runs it"""
    vm = Launcher("hello")
    elf = Elf(vm.elf)
    out = gdb_extended(vm, ["break guest_exit", "continue",
                            "info registers rip", "run", "info registers rip",
                            "kill"])
    eq(out.count("Breakpoint 1, guest_exit ("), 2, "guest_exit hits")
    eq([rip_of(l) for l in out.splitlines() if l.startswith("rip")],
       [elf.sym("guest_exit")] * 2, "rip at both hits")
    has(out, "[Inferior 1 (Remote target) killed]", "gdb's kill")
    eq(vm.out(), HELLO * 2, "console: the guest ran twice from its entry")
    out = gdb(vm, [])
    has(out, "The target is not running (try extended-remote?)",
        "plain target remote after the kill")
    out = gdb_extended(vm, ["run"])
    has(out, "exited normally]", "third run to the end")
    status, stdout, _ = vm.finish()
    vm.check_asan()
    eq((status, stdout), (0, HELLO * 3), "status and console")
    eq(vm.err().count("gdb: restarting the guest from its entry point "
                      "(client's run)\n"), 2, "restarts logged")


@test
def extended_vrun_raw_stop_at_entry():
    """raw RSP: ! OK, vKill OK, ? X09, vRun answered by the new process: T05 at entry"""
    vm = Launcher("hello")
    elf = Elf(vm.elf)
    r = Rsp(vm)
    eq(r.cmd("!"), "OK", "!")
    eq(r.cmd("vKill;a410"), "OK", "vKill")
    eq(r.cmd("?"), "X09", "? after vKill")
    eq(r.cmd("c"), "E03", "c after vKill")
    stop = r.cmd("vRun;")
    m = match(r"^T05thread:1;10:([0-9a-f]{16});", stop, "vRun's stop reply")
    eq(int.from_bytes(bytes.fromhex(m.group(1)), "little"), elf.entry, "rip")
    eq(r.cmd("!"), "OK", "the new process serves the same connection")
    eq(vm.out(), "", "guest console")
    r.cmd("D")
    r.close()
    finishes_like_reference(vm, "hello")


class ResumeLauncher(Launcher):
    """kvmdbg-launch --resume SNAP (no --cpus: the snapshot has them)."""

    def __init__(self, snap, elf, gdb=True, opts=()):
        Launcher.seq += 1
        n = Launcher.seq
        self.elf, self.target = elf, None
        self.spec = f"unix:{TMP}/vm{n}.sock"
        self.out_path, self.err_path = f"{TMP}/vm{n}.out", f"{TMP}/vm{n}.err"
        args = [LAUNCH] + (["--gdb", self.spec] if gdb else []) + ["--resume", snap] + list(opts)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.p = spawn(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)


@test
def extended_remote_run_resumes_snapshot_again():
    """--resume under extended-remote: run restarts from the snapshot's resume point"""
    snap = f"{TMP}/restart.snap"
    elf = guest("snapguest")
    p = spawn([LAUNCH, "--snapshot", snap, "--snapshot-at", "snap_point",
               "--snapshot-exit", elf], stdin=subprocess.DEVNULL,
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    eq(p.wait(EXIT_DEADLINE), 0, "snapshot run status")
    vm = ResumeLauncher(snap, elf)
    once = ResumeLauncher(snap, elf, gdb=False).finish()
    out = gdb_extended(vm, ["break guest_exit", "continue", "run", "kill"])
    eq(out.count("Breakpoint 1, guest_exit (status=status@entry=7)"), 2,
       "guest_exit hits")
    eq(vm.out(), once[1] * 2, "console: the resumed part, twice")


def after_call(elf, func, callee):
    """Address of the instruction after @func's call of @callee (objdump)."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf],
                         stdout=subprocess.PIPE, timeout=60, check=True).stdout.decode()
    body = out.split(f"<{func}>:\n", 1)[1].split("\n\n", 1)[0]
    lines = re.findall(r"^\s+([0-9a-f]+):\t(.*)$", body, re.M)
    for i, (_, text) in enumerate(lines[:-1]):
        if text.startswith("call") and f"<{callee}>" in text:
            return int(lines[i + 1][0], 16)
    raise Fail(f"{func} does not call {callee}")


def snapshot_info(snap, elf):
    """(trigger, vCPU 0's rip) of a snapshot, read by resuming it under gdb."""
    p = ResumeLauncher(snap, elf, gdb=False, opts=["--gdb-exec", "monitor info snapshot"])
    status, out, err = p.finish()
    eq(status, 0, f"--resume {snap} --gdb-exec status")
    m = match(r"^captured: +\S+ \S+ UTC by (.*?); ", out + err, "snapshot info")
    rip = match(r"^  vCPU 0: +rip (0x[0-9a-f]+)$", out + err, "vCPU 0 rip")
    return m.group(1), int(rip.group(1), 16)


SNAP_AT = "--snapshot-at breakpoint at"


@test
def snapshot_at_with_gdb_hbreak_elsewhere():
    """--gdb + --snapshot-at snap_point: gdb's hbreak after it stops, the snapshot is written first"""
    snap, copy = f"{TMP}/at-gdb.snap", f"{TMP}/at-gdb-copy.snap"
    vm = Launcher("snapguest", opts=["--snapshot", snap, "--snapshot-at", "snap_point"])
    elf = Elf(vm.elf)
    after = after_call(vm.elf, "main", "snap_point")
    log = RemoteLog()
    # The guest writes port 0xF5 right after: keep the --snapshot-at one.
    out = gdb(vm, [f"hbreak *{after:#x}", "set debug remote 1", "continue",
                   "set debug remote 0", "info registers rip",
                   f"shell cp {snap} {copy}", "continue"], pre=log.pre)
    match(r"Packet received: T05thread:0*1;hwbreak:;", log.text(), "stop reply")
    eq(rip_of(out), after, "rip at gdb's hbreak")
    finishes_like_reference(vm, "snapguest")
    has(vm.err(), f"snapshot written to {snap} (--snapshot-at breakpoint)\n", "launcher")
    sp = elf.sym("snap_point")
    eq(snapshot_info(copy, vm.elf), (f"{SNAP_AT} {sp:#x}", sp),
       "trigger and rip of the snapshot gdb found written")


@test
def snapshot_at_with_gdb_hbreak_same_address():
    """gdb's hbreak at the --snapshot-at address: the snapshot is written, then gdb stops there"""
    snap, copy = f"{TMP}/at-same.snap", f"{TMP}/at-same-copy.snap"
    vm = Launcher("snapguest", opts=["--snapshot", snap, "--snapshot-at", "snap_point"])
    sp = Elf(vm.elf).sym("snap_point")
    out = gdb(vm, ["hbreak snap_point", "continue", "info registers rip",
                   f"shell cp {snap} {copy}", "delete", "continue"])
    has(out, "Breakpoint 1, snap_point (", "gdb's stop")
    eq(rip_of(out), sp, "rip at snap_point")
    finishes_like_reference(vm, "snapguest")
    eq(snapshot_info(copy, vm.elf), (f"{SNAP_AT} {sp:#x}", sp), "trigger and rip")


@test
def snapshot_at_leaves_gdb_three_hbreaks():
    """with --snapshot-at armed gdb's 4th hardware breakpoint is refused; the 3 work"""
    snap = f"{TMP}/at-four.snap"
    vm = Launcher("snapguest", opts=["--snapshot", snap, "--snapshot-at", "snap_point"])
    after = after_call(vm.elf, "main", "snap_point")
    out = gdb(vm, ["hbreak fill", "hbreak tick", f"hbreak *{after:#x}",
                   "hbreak guest_exit", "continue", "delete 4", "continue",
                   "info registers rip", "delete", "continue"])
    has(out, "Cannot insert hardware breakpoint 4.\nCould not insert hardware "
        "breakpoints:\nYou may have requested too many hardware "
        "breakpoints/watchpoints.", "gdb's error")
    has(out, "Breakpoint 1, fill (", "first hit after the refusal")
    eq(rip_of(out), Elf(vm.elf).sym("fill"), "rip at fill")
    finishes_like_reference(vm, "snapguest")
    has(vm.err(), "gdb: no free debug register for a hardware breakpoint or watchpoint at "
        f"{Elf(vm.elf).sym('guest_exit'):#x}: --snapshot-at holds 1 of the 4 until it fires\n",
        "launcher's reason")


@test
def driver_restart_refused():
    """--gdb-exec: an extended-remote run under the gdb driver is refused, with a reason"""
    out_path, err_path = f"{TMP}/driver-restart.out", f"{TMP}/driver-restart.err"
    cmds = ["python c = gdb.selected_inferior().connection.details",
            "disconnect", "python gdb.execute('target extended-remote ' + c)",
            "run"]
    args = [LAUNCH] + [a for c in cmds for a in ("--gdb-exec", c)] + [guest("hello")]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = spawn(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    try:
        status = p.wait(CLIENT_DEADLINE)
    except subprocess.TimeoutExpired:
        kill(p)
        raise Fail("launcher still running")
    with open(err_path, errors="replace") as f:
        err = f.read()
    with open(out_path, errors="replace") as f:
        out = f.read()
    has(err, HELD, "disconnect before any resume")
    has(err, "gdb: restart refused: this launcher runs the gdb driver or several "
        "VMs; restart it yourself\n", "launcher's reason")
    has(err, "Running the default executable on the remote target failed",
        "gdb's error")
    eq(err.count("gdb: restarting the guest"), 0, "no restart")
    if "Sanitizer" in err or "runtime error:" in err:
        raise Fail("sanitizer report:\n" + err)
    # stdout is gdb's and the guest console's: the guest never ran, and
    # both connections found it at its entry point.
    eq((status, HELLO in out, out.count("_start () at ")), (1, False, 2),
       "status (gdb's error), guest output, stops at _start")


@test
def lldb_process_kill():
    """lldb process kill: 'k' answered X09, lldb sees the exit, launcher ends (137)"""
    vm = Launcher("hello", spec="127.0.0.1:0")
    out = lldb(vm, ["process kill"])
    has(out, "Process 1 exited with status = 9 (0x00000009)", "lldb")
    if "failed" in out:
        raise Fail("lldb reported a failure:\n" + out)
    status, stdout, _ = vm.finish()
    vm.check_asan()
    eq((status, stdout), (137, ""), "status and output")


# ---- guest cores (issue 12) ----------------------------------------------

class Core:
    """An ELF core as kvmdbg writes it: threads' registers, PT_LOADs."""
    REGS = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax "
            "rip cs eflags rsp ss fs_base gs_base ds es fs gs").split()

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = d = f.read()
        eq((d[:4], d[4], struct.unpack_from("<HH", d, 16)), (b"\x7fELF", 2, (4, 62)),
           f"{path}: ELF64 ET_CORE EM_X86_64")
        phoff, = struct.unpack_from("<Q", d, 0x20)
        phnum, = struct.unpack_from("<H", d, 0x38)
        self.loads, self.threads, self.notes, self.fpregs = [], [], [], []
        for i in range(phnum):
            p_type, _, off, vaddr, paddr, filesz, memsz, _ = struct.unpack_from(
                "<IIQQQQQQ", d, phoff + i * 56)
            if p_type == 1:
                self.loads.append((paddr, vaddr, off, filesz, memsz))
            elif p_type == 4:
                self.parse_notes(off, filesz)

    def parse_notes(self, off, size):
        end = off + size
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", self.data, off)
            name = self.data[off + 12:off + 12 + namesz].rstrip(b"\0").decode()
            desc_off = off + 12 + (namesz + 3) // 4 * 4
            desc = self.data[desc_off:desc_off + descsz]
            self.notes.append((name, ntype))
            if name == "CORE" and ntype == 1:	# NT_PRSTATUS
                pid, = struct.unpack_from("<i", desc, 32)
                regs = dict(zip(self.REGS, struct.unpack_from("<27Q", desc, 112)))
                self.threads.append((pid, regs))
            if name == "CORE" and ntype == 2:	# NT_FPREGSET: the FXSAVE image
                eq(len(desc), 512, "NT_FPREGSET size")
                mxcsr, = struct.unpack_from("<I", desc, 24)
                xmm = [desc[160 + 16 * i:176 + 16 * i] for i in range(16)]
                self.fpregs.append((mxcsr, xmm))
            off = desc_off + (descsz + 3) // 4 * 4

    def ram(self):
        eq(len(self.loads), 1, "PT_LOADs")
        paddr, _, off, filesz, _ = self.loads[0]
        return self.data[off:off + filesz]


def core_gdb(elf, core, cmds):
    """gdb on a core: (what it printed opening it, what @cmds printed)."""
    args = [GDB, "-batch", "-nx", "-ex", "set pagination off", elf, core,
            "-ex", "echo ----\\n"]
    for c in cmds:
        args += ["-ex", c]
    return tuple(run_client(args, "gdb", CLIENT_DEADLINE).split("----\n", 1))


def dump_line(path, cpus, core):
    """The one summary line of a written core of an ELF guest (64 MiB)."""
    st = os.stat(path)
    ram = Core(path).ram()
    zero = sum(4096 for i in range(0, len(ram), 4096) if not any(ram[i:i + 4096]))
    return (f"core written to {path}: {cpus} vCPU{'s' if cpus > 1 else ''}, "
            f"{st.st_size} bytes ({zero} sparse), VMCOREINFO none (not a Linux guest)")


@test
def core_monitor_dump_callchain():
    """monitor dump at c() with 2 vCPUs: gdb opens the core: bt c b a main, 2 threads, x &input, original bytes"""
    core = f"{TMP}/callchain.core"
    vm = Launcher("callchain", cpus=2)
    elf = Elf(vm.elf)
    out = gdb(vm, ["break c", "continue", "x/1xg &input", "info registers rip",
                   f"monitor dump {core}", "continue"])
    live_rip = rip_of(out)
    eq(live_rip, elf.sym("c"), "live stop at c")
    live = match(r"^0x[0-9a-f]+ <input>:\t(0x[0-9a-f]+)$", out, "live x").group(1)
    has(out, dump_line(core, 2, core) + "\n", "monitor dump's summary line")
    finishes_like_reference(vm, "callchain", cpus=2)
    st = os.stat(core)
    eq((st.st_size, st.st_blocks * 512 < st.st_size // 100), (4096 + (64 << 20), True),
       "size (headers page + 64 MiB RAM) and sparse (under 1% allocated)")
    c = Core(core)
    eq([(pid, r["rip"] if pid == 1 else None) for pid, r in c.threads],
       [(1, elf.sym("c")), (2, None)], "NT_PRSTATUS: vCPU 0 (pid 1, at c), vCPU 1 (pid 2)")
    eq(c.notes, [("CORE", 1), ("CORE", 2), ("CORE", 1), ("CORE", 2), ("CORE", 3)],
       "notes: NT_PRSTATUS and NT_FPREGSET per vCPU, NT_PRPSINFO")
    eq([(p, v, fs, ms) for p, v, _, fs, ms in c.loads], [(0, 0, 64 << 20, 64 << 20)],
       "one PT_LOAD: p_paddr 0, identity p_vaddr, all RAM")
    eq(c.ram()[elf.sym("c"):elf.sym("c") + 4], elf.bytes_at(elf.sym("c"), 4),
       "c's bytes in the core are the image's (gdb's int3 is not in it)")
    _, res = core_gdb(vm.elf, core, ["bt", "info threads", "x/1xg &input"])
    eq(re.findall(r"^#\d+ +(?:0x[0-9a-f]+ in )?(\w+) \(", res, re.M), ["c", "b", "a", "main"],
       "backtrace from the core")
    eq(re.findall(r"^[* ] +(\d+) +LWP (\d+) ", res, re.M), [("1", "1"), ("2", "2")],
       "info threads: one thread per vCPU")
    eq(match(r"^0x[0-9a-f]+ <input>:\t(0x[0-9a-f]+)$", res, "core x").group(1), live,
       "x/1xg &input from the core equals the live read")
    out = subprocess.run(["readelf", "-n", "-l", "-W", core], stdout=subprocess.PIPE,
                         timeout=60, check=True).stdout.decode()
    eq(out.count("NT_PRSTATUS"), 2, "readelf -n: NT_PRSTATUS per vCPU")
    eq(re.findall(r"^\s+LOAD\s+0x0*1000 0x0+ (0x0+) 0x0*4000000 0x0*4000000 RWE 0$",
                  out, re.M), ["0x0000000000000000"], "readelf -l: the PT_LOAD, p_paddr 0")


@test
def core_fpregset_xmm():
    """NT_FPREGSET per vCPU: xmm0/xmm1 and mxcsr gdb wrote at c() on 2 vCPUs read back from the core; $st0 and $fctrl too"""
    core = f"{TMP}/fp.core"
    vm = Launcher("callchain", cpus=2)
    regs = ["p/x $xmm0.v2_int64", "p/x $xmm1.v2_int64", "p/x $mxcsr", "p $st0", "p/x $fctrl"]
    out = gdb(vm, ["break c", "continue",
                   "set $xmm0.v2_int64[0] = 0x1122334455667788",
                   "set $xmm0.v2_int64[1] = 0x0123456789abcdef",
                   "set $mxcsr = 0x1fa0", "thread 2",
                   "set $xmm1.v2_int64[0] = 0x5eed5eed5eed5eed",
                   "thread 1", "maintenance flush register-cache", "echo ====\\n"] +
              regs + ["thread 2"] + regs +
              [f"monitor dump {core}", "continue"])
    live = out.split("====\n", 1)[1].split("core written", 1)[0]
    live_vals = [v for v in values(live)]
    eq(live_vals[:3], ["{0x1122334455667788, 0x123456789abcdef}", "{0x0, 0x0}", "0x1fa0"],
       "live: vCPU 0's xmm0, xmm1 and mxcsr as written")
    eq(live_vals[6], "{0x5eed5eed5eed5eed, 0x0}", "live: vCPU 1's xmm1 as written")
    finishes_like_reference(vm, "callchain", cpus=2)
    c = Core(core)
    eq(len(c.fpregs), 2, "an NT_FPREGSET per vCPU")
    eq((c.fpregs[0][0], c.fpregs[0][1][0]),
       (0x1fa0, bytes.fromhex("8877665544332211efcdab8967452301")),
       "vCPU 0's NT_FPREGSET: mxcsr, xmm0 (little-endian)")
    eq(c.fpregs[1][1][1], bytes.fromhex("ed5eed5eed5eed5e" + "00" * 8), "vCPU 1's xmm1")
    _, res = core_gdb(vm.elf, core, regs + ["thread 2"] + regs)
    eq(values(res), live_vals, "gdb on the core: every vCPU's xmm0, xmm1, mxcsr, st0, fctrl as live")


def wait_for(cond, what, deadline=EXIT_DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise Fail(f"{what}: not within {deadline}s")


def sigusr2_blocked(pid):
    """SIGUSR2 (12) is in the launcher's blocked mask: a signal now waits for its signalfd."""
    try:
        with open(f"/proc/{pid}/status") as f:
            blk = re.search(r"^SigBlk:\s*([0-9a-f]+)$", f.read(), re.M)
    except OSError:
        return False
    return bool(blk) and bool(int(blk.group(1), 16) & (1 << 11))


@test
def core_dump_on_signal():
    """--dump-on-signal FILE: each SIGUSR2 replaces FILE with a core of the running guest (2 vCPUs), which runs on"""
    core = f"{TMP}/sig/live.core"
    os.makedirs(os.path.dirname(core), exist_ok=True)
    vm = Launcher("attachee", gdb=False, cpus=2, opts=["--dump-on-signal", core])
    hb = Elf(vm.elf).sym("heartbeat")
    prefix = f"{os.path.basename(LAUNCH)}: --dump-on-signal: "
    wait_for(lambda: sigusr2_blocked(vm.p.pid), "SIGUSR2 blocked by the launcher")
    beats, inodes = [], []
    for i in (1, 2):
        time.sleep(0.2)	# the guest runs between the two cores
        os.kill(vm.p.pid, signal.SIGUSR2)
        wait_for(lambda: vm.err().count(prefix) == i, f"core {i}'s line")
        eq(vm.err().splitlines()[-1], prefix + dump_line(core, 2, core), f"core {i}'s line")
        c = Core(core)
        eq([pid for pid, _ in c.threads], [1, 2], f"core {i}: a thread per vCPU")
        beats.append(struct.unpack_from("<Q", c.ram(), hb)[0])
        inodes.append(os.stat(core).st_ino)
        eq(vm.p.poll(), None, f"the guest runs on after core {i}")
    if not 0 < beats[0] < beats[1]:
        raise Fail(f"vCPU 0's heartbeat in the cores: {beats} (should grow: the guest ran on)")
    eq((inodes[0] != inodes[1], sorted(os.listdir(os.path.dirname(core)))), (True, ["live.core"]),
       "the second core replaced the first (a new file renamed over it), no temp file left")
    _, res = core_gdb(vm.elf, core, ["info threads", "p heartbeat[0]"])
    eq(len(re.findall(r"^[* ] +\d+ +LWP \d+ ", res, re.M)), 2, "gdb: info threads")
    eq(values(res), [str(beats[1])], "gdb: heartbeat[0] from the core")
    vm.p.send_signal(signal.SIGTERM)
    vm.finish()
    vm.check_asan()


@test
def core_dump_on_crash():
    """--dump-on-crash: a triple fault leaves a core whose rip is the ud2; memory and status as without it"""
    core = f"{TMP}/crash.core"
    vm = Launcher("crash", gdb=False, elf=CRASH_ELF, cpus=2,
                  opts=["--dump-on-crash", core])
    status, out, err = vm.finish()
    vm.check_asan()
    eq((status, out), (136, "crash: about to execute ud2\n"), "status and output")
    eq(err, crash_line(vm) + f"{os.path.basename(LAUNCH)}: --dump-on-crash: "
       f"{dump_line(core, 2, core)}\n", "stderr: the crash line, then the core's")
    elf = Elf(vm.elf)
    c = Core(core)
    eq([pid for pid, _ in c.threads], [1, 2], "a thread per vCPU, the crashed one first")
    eq(c.threads[0][1]["rip"], elf.sym("crash_here"), "crashed vCPU's rip: the ud2")
    opening, res = core_gdb(vm.elf, core, ["info registers rip", "x/1xg &marker", "bt"])
    has(opening, "Program terminated with signal SIGSEGV, Segmentation fault.", "gdb")
    eq(rip_of(res), elf.sym("crash_here"), "gdb's rip")
    has(res, f"{elf.sym('marker'):#x} <marker>:\t0x1122334455667788\n", "marker")
    eq(re.findall(r"^#\d+ +(?:0x[0-9a-f]+ in )?(\w+) \(", res, re.M), ["crash_here", "main"],
       "backtrace")


@test
def core_resume_dump_equals_live():
    """--resume SNAP --dump of a snapshot taken at c() equals monitor dump there (registers, RAM); nothing runs"""
    snap, live, conv = f"{TMP}/c.snap", f"{TMP}/live.core", f"{TMP}/conv.core"
    vm = Launcher("callchain", cpus=2)
    out = gdb(vm, ["break c", "continue", f"monitor snapshot {snap}",
                   f"monitor dump {live}", "continue"])
    has(out, f"snapshot written to {snap}\n", "monitor snapshot")
    has(out, f"core written to {live}: ", "monitor dump")
    finishes_like_reference(vm, "callchain", cpus=2)
    p = ResumeLauncher(snap, vm.elf, gdb=False, opts=["--dump", conv])
    status, out, err = p.finish()
    p.check_asan()
    eq((status, out, err), (0, "", f"{os.path.basename(LAUNCH)}: {dump_line(conv, 2, conv)}\n"),
       "--resume --dump: status, no guest output, one line")
    a, b = Core(live), Core(conv)
    eq(b.threads, a.threads, "every vCPU's registers")
    eq(b.loads, a.loads, "PT_LOAD headers")
    if a.ram() != b.ram():
        diff = next(i for i in range(0, len(a.ram()), 4096)
                    if a.ram()[i:i + 4096] != b.ram()[i:i + 4096])
        raise Fail(f"RAM differs, first in the page at {diff:#x}")


@test
def core_monitor_dump_gdb_driver():
    """--gdb-exec 'monitor dump FILE': the gdb driver has the command too; the core's bt is c b a main"""
    core = f"{TMP}/driver.core"
    args = [LAUNCH] + [a for c in ["break c", "continue", f"monitor dump {core}", "continue"]
                       for a in ("--gdb-exec", c)] + [guest("callchain")]
    out = run_client(args, "launcher", CLIENT_DEADLINE)
    has(out, dump_line(core, 1, core) + "\n", "summary line")
    has(out, "callchain: a(10) = 79\n", "the guest ran on")
    _, res = core_gdb(guest("callchain"), core, ["bt"])
    eq(re.findall(r"^#\d+ +(?:0x[0-9a-f]+ in )?(\w+) \(", res, re.M), ["c", "b", "a", "main"],
       "backtrace from the core")


@test
def core_linux_kind_vmcoreinfo():
    """Linux kind (a stand-in vmlinux): monitor dump finds its VMCOREINFO note; once gdb clears it, says not found"""
    found, gone = f"{TMP}/vmcoreinfo.core", f"{TMP}/novmcoreinfo.core"
    vm = Launcher("vmcoreinfo", opts=["--kernel"])
    note = Elf(vm.elf).sym("vmcoreinfo")
    out = gdb(vm, ["break main", "continue", f"monitor dump {found}",
                   "set var *(unsigned int *)&vmcoreinfo = 0", f"monitor dump {gone}", "kill"])
    size = 4096 + (256 << 20)
    match(rf"^core written to {found}: 1 vCPU, {size} bytes \(\d+ sparse\), VMCOREINFO found at "
          rf"{note:#x} \(by a scan of guest RAM\)$", out, "summary with the note")
    match(rf"^core written to {gone}: 1 vCPU, {size} bytes \(\d+ sparse\), VMCOREINFO not found "
          r"\(no note in guest RAM: the kernel has not booted that far, or lacks CONFIG_CRASH_CORE\)$",
          out, "summary without it")
    eq(Core(found).notes, [("CORE", 1), ("CORE", 2), ("CORE", 3), ("VMCOREINFO", 0)],
       "notes with it")
    eq(Core(gone).notes, [("CORE", 1), ("CORE", 2), ("CORE", 3)], "notes without it")
    vm.finish()
    vm.check_asan()


@test
def core_monitor_dump_refusals():
    """monitor dump: a relative path, a device, a directory, a missing directory: one line each, guest runs on"""
    vm = Launcher("callchain")
    out = gdb(vm, ["monitor dump x.core", "monitor dump /dev/full", f"monitor dump {TMP}",
                   f"monitor dump {TMP}/no/x.core", "monitor dump", "continue"])
    for line in ["core x.core: give an absolute path (a relative one would land in the "
                 "launcher's working directory)",
                 "core /dev/full: it exists and is a character device, not a regular file; "
                 "refusing to replace it (give a new path or a regular file's)",
                 f"core {TMP}: it exists and is a directory, not a regular file; refusing "
                 "to replace it (give a new path or a regular file's)",
                 f"core {TMP}/no/x.core: directory {TMP}/no: No such file or directory; "
                 "create it first",
                 "usage: dump FILE"]:
        eq(out.count(line + "\n"), 1, f"gdb shows {line!r} once:\n{out}")
    eq(os.path.exists(f"{TMP}/no"), False, "nothing created")
    finishes_like_reference(vm, "callchain")


# ---- TAP ------------------------------------------------------------------

def kselftest(path, prefix):
    """A kselftest binary's results, as (ok, name, diagnostics)."""
    if not os.access(path, os.X_OK):
        return [(False, prefix, [f"{path} missing: run make"])]
    try:
        p = subprocess.run([path], stdout=subprocess.PIPE, cwd=ROOT,
                           stderr=subprocess.STDOUT, timeout=300)
    except subprocess.TimeoutExpired:
        return [(False, prefix, ["timed out"])]
    results, diag = [], []
    for line in p.stdout.decode(errors="replace").splitlines():
        m = re.match(r"^(not ok|ok) \d+ (\S+)(.*)$", line)
        if m:
            skip = re.search(r"#\s*SKIP.*$", m.group(3), re.I)
            name = f"{prefix}: {m.group(2)}" + (f" {skip.group(0)}" if skip else "")
            results.append((m.group(1) == "ok", name, diag))
            diag = []
        elif line.startswith("#"):
            diag.append(line[1:].strip())
    if p.returncode and all(r[0] for r in results):
        results.append((False, prefix, [f"exit status {p.returncode}"] + diag))
    return results


def unit_tests():
    return kselftest(HELPERS, "unit") + kselftest(MULTI_VM, "multi-vm")


def missing_prerequisite():
    for path in [LAUNCH, os.path.join(BUILD, "selftests/gdb/int3.elf"), CRASH_ELF,
                 os.path.join(BUILD, "selftests/gdb/badfetch.elf")] + \
            [guest(g) for g in ("hello", "callchain", "mempattern", "smp", "vmcoreinfo")]:
        if not os.path.exists(path):
            return f"{path} missing: run make"
    for tool in (GDB, LLDB):
        if not shutil.which(tool):
            return f"{tool} not installed: run scripts/deps.sh"
    return None


def cleanup():
    for p in PROCS:
        kill(p)
    shutil.rmtree(TMP, ignore_errors=True)


def main():
    only = [t for t in os.environ.get("KVMDBG_E2E_ONLY", "").split(",") if t]
    tests = [t for t in TESTS if not only or t.__name__ in only]
    units = unit_tests() if not only else []
    print("TAP version 13")
    print(f"1..{len(units) + len(tests)}")
    n = 0
    for ok, name, diag in units:
        n += 1
        for d in diag if not ok else []:
            print(f"# {d}")
        print(f"{'ok' if ok else 'not ok'} {n} {name}")
    kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)
    missing = missing_prerequisite()
    for t in tests:
        n += 1
        desc = f"{t.__name__}: {t.__doc__}"
        if not kvm:
            print(f"ok {n} {desc} # SKIP /dev/kvm not available")
            continue
        if missing:
            print(f"# {missing}\nnot ok {n} {desc}")
            continue
        try:
            t()
            print(f"ok {n} {desc}")
        except Exception as e:	# a failed test, not a crashed suite
            msg = str(e) if isinstance(e, Fail) else traceback.format_exc()
            for line in msg.splitlines():
                print(f"# {line}")
            print(f"not ok {n} {desc}")
        finally:
            for p in PROCS:
                kill(p)
            PROCS.clear()
        sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
