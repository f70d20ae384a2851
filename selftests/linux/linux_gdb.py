#!/usr/bin/env python3
"""End-to-end tests of the Linux gdb macros (user/gdb/linux.py): boot
Debian's cloud kernel with a busybox initramfs (selftests/linux/), attach
real gdb with the DWARF vmlinux (scripts/fetch-vmlinux.sh), run every
macro and compare with what the guest kernel itself printed on its console
(/proc/1/comm, /proc/1/maps, /proc/kallsyms, /proc/kcore's program headers).

The gdb server here is QEMU's own gdbstub (TCG, on this host): the
reference the macros are checked against, and the one place here where
breakpoints in a Linux guest work (page-fault attribution). The same
macros against kvmdbg-launch's stub run in the test VM
(selftests/vm/tests.d/70-linux-gdb, selftests/vm/host.d/linux-gdb), which
imports the checks below.

Two boots: 2 vCPUs without KASLR (every macro, page-fault attribution with
a breakpoint), 1 vCPU with KASLR (symbols loaded at the slide the guest's
/proc/kallsyms shows). Prints TAP.
"""
import base64
import os
import re
import socket
import struct
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MACROS = os.path.join(TOP, "user", "gdb")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
BOOT_DEADLINE = 150
GDB_DEADLINE = 180
START_KERNEL_MAP = 0xffffffff80000000
LINK_TEXT = 0xffffffff81000000

n_test = 0
failed = 0


def tap(ok, name, diag=None):
    global n_test, failed
    n_test += 1
    failed += not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", n_test, name))
    if not ok and diag:
        for line in str(diag).splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=TOP, check=True, capture_output=True, text=True,
                          **kw).stdout.strip().splitlines()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Guest:
    """A QEMU TCG boot of the test kernel, console in a log file."""

    def __init__(self, image, initrd, cpus, kaslr, logdir):
        self.port = free_port()
        self.log = os.path.join(logdir, "console-%dcpu%s.log" % (cpus, "-kaslr" if kaslr else ""))
        append = "console=ttyS0 quiet panic=-1" + ("" if kaslr else " nokaslr")
        self.proc = subprocess.Popen(
            [QEMU, "-accel", "tcg", "-cpu", "max", "-m", "512M", "-smp", str(cpus),
             "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
             "-kernel", image, "-initrd", initrd, "-append", append,
             "-gdb", "tcp:127.0.0.1:%d" % self.port],
            stdin=subprocess.PIPE, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)

    def lines(self):
        with open(self.log, errors="replace") as f:
            return [l.rstrip("\r\n") for l in f]

    def wait_ready(self):
        end = time.time() + BOOT_DEADLINE
        while time.time() < end and self.proc.poll() is None:
            if any("@linux@ ready" in l for l in self.lines()):
                return True
            time.sleep(0.5)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def guest_facts(lines):
    """What the guest printed about itself."""
    facts = {"kallsyms": {}, "maps": [], "kcore": b""}
    mode = None
    b64 = []
    for l in lines:
        if l.startswith("# "):
            l = l[2:]
        m = re.search(r"@linux@ (.*)", l)
        if m:
            w = m.group(1).split()
            mode = None
            if w[0] == "comm":
                facts["comm1"] = w[2] if len(w) > 2 else ""
            elif w[0] == "busy" and len(w) == 3:
                facts["busy"] = (int(w[1]), w[2])
            elif w[0] == "kallsyms" and len(w) == 4:
                facts["kallsyms"][w[3]] = int(w[1], 16)
            elif w[0] in ("maps-begin", "kcore-begin"):
                mode = w[0]
            continue
        if mode == "maps-begin":
            facts["maps"].append(" ".join(l.split()))
        elif mode == "kcore-begin":
            b64.append(l.strip())
    facts["kcore"] = base64.b64decode("".join(b64))
    return facts


def kcore_segments(hdr):
    """(p_vaddr, p_paddr, p_memsz) of each PT_LOAD in /proc/kcore's header."""
    phoff, = struct.unpack_from("<Q", hdr, 32)
    phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
    segs = []
    for i in range(phnum):
        o = phoff + i * phentsize
        if o + 56 > len(hdr):
            break
        p_type, _, _, vaddr, paddr, _, memsz, _ = struct.unpack_from("<IIQQQQQQ", hdr, o)
        if p_type == 1:
            segs.append((vaddr, paddr, memsz))
    return segs


def gdb_args(vmlinux, port, slide, cmds):
    """A batch gdb's command line: symbols ("file", relocated by the stub's
    qOffsets when slide is None, else at that slide), the macros, the
    target; then each command after an "@@ NAME" marker."""
    if slide is None or slide == 0:
        sym = "file %s" % vmlinux
    else:
        sym = "symbol-file -o 0x%x %s" % (slide, vmlinux)
    args = ["gdb", "-q", "-nx", "-batch", "-ex", "set pagination off",
            "-ex", "set confirm off", "-ex", "set remotetimeout 60", "-ex", sym,
            "-ex", "source %s/kvmdbg.gdb" % MACROS, "-ex", "source %s/kvmdbg.py" % MACROS,
            "-ex", "source %s/linux.py" % MACROS,
            "-ex", "target remote 127.0.0.1:%d" % port]
    for name, cmd in cmds:
        args += ["-ex", "echo @@ %s\\n" % name, "-ex", cmd]
    return args + ["-ex", "echo @@ end\\n"]


def gdb_sections(text):
    """gdb's output split at its "@@ NAME" markers: {NAME: [lines]}, and
    every line under "_all"."""
    sect, cur = {"": []}, ""
    for l in text.splitlines():
        if l.startswith("@@ "):
            cur = l[3:]
            sect[cur] = []
        else:
            sect[cur].append(l)
    sect["_all"] = text.splitlines()
    return sect


def run_gdb(vmlinux, port, slide, cmds):
    """One batch gdb run to its end (gdb_args). Returns gdb_sections."""
    try:
        # One pipe for both: a monitor command's output (stderr) stays
        # under its marker.
        out = subprocess.run(gdb_args(vmlinux, port, slide, cmds), cwd=TOP,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=GDB_DEADLINE, stdin=subprocess.DEVNULL)
        text = out.stdout
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode(errors="replace") + "\ngdb timed out"
    return gdb_sections(text)


def ps_rows(sect):
    """kvm-linux-ps lines as {pid: (state, mm, comm)}."""
    rows = {}
    for l in sect.get("ps", []):
        m = re.match(r"\s*(\d+) (\S) 0x([0-9a-f]+) (.*)$", l)
        if m:
            rows[int(m.group(1))] = (m.group(2), int(m.group(3), 16), m.group(4))
    return rows


def check_current(sect, cpus, facts, tag):
    """
    Each vCPU runs the guest's busy loop, its idle task (swapper/N) or,
    when the stop caught it at work, a kernel thread: a task with no mm in
    kvm-linux-ps's list (rcu_preempt, kworker/...). The busy loop
    is current on one vCPU, or on none when a kernel thread preempted it
    (then kvm-linux-ps shows it runnable).
    """
    bpid, bcomm = facts.get("busy", (-1, "?"))
    got = [l for l in sect.get("current", []) if l.startswith("vCPU ")]
    ps = ps_rows(sect)
    rows = []
    for l in got:
        m = re.match(r"vCPU (\d+): cpu (\d+) pid (\d+) (\S+) task 0x", l)
        rows.append(m.groups() if m else None)
    ok = len(rows) == cpus and None not in rows
    if ok:
        cpu_set = sorted(int(r[1]) for r in rows)
        busy = [r for r in rows if int(r[2]) == bpid and r[3] == bcomm]
        idle = [r for r in rows if r[2] == "0" and r[3] == "swapper/%s" % r[1]]
        # A current task may show a sleeping state already: it sets that
        # before it calls schedule() (rcu_preempt going idle, seen here).
        kthreads = [r for r in rows if int(r[2]) > 1 and int(r[2]) != bpid and
                    ps.get(int(r[2]), ("", 1, ""))[1:] == (0, r[3])]
        ok = cpu_set == list(range(cpus)) and \
            len(busy) + len(idle) + len(kthreads) == cpus and \
            (len(busy) == 1 or (not busy and kthreads and
                                ps.get(bpid, ("",))[0] == "R"))
    tap(ok, "%s: kvm-linux-current: the busy loop (pid %d %s) on one vCPU (or "
        "runnable, preempted by a kernel thread), the other %d idle (swapper/N) "
        "or in a kernel thread" % (tag, bpid, bcomm, cpus - 1),
        "\n".join(sect.get("current", sect["_all"])))


def check_ps(sect, facts, tag, key="ps"):
    rows = ps_rows({"ps": sect.get(key, [])})
    comm1 = facts.get("comm1", "?")
    bpid, bcomm = facts.get("busy", (-1, "?"))
    ok = rows.get(0, (0, 0, ""))[2] == "swapper/0" and \
        rows.get(1, ("", 0, ""))[0::2] == ("S", comm1) and rows[1][1] != 0 and \
        rows.get(bpid, ("", 0, ""))[0::2] == ("R", bcomm) and rows[bpid][1] != 0 and \
        rows.get(2, ("", 1, ""))[1:] == (0, "kthreadd") and len(rows) > 10
    tap(ok, "%s: kvm-linux-ps: pid 0 swapper/0, pid 1 %s sleeping in read() and "
        "pid %d %s running, both with an mm, pid 2 kthreadd without (%d tasks)"
        % (tag, comm1, bpid, bcomm, len(rows)),
        "\n".join(sect.get(key, sect["_all"])))
    return rows


def check_vmas(sect, facts, tag):
    got = [" ".join(l.split()) for l in sect.get("vmas", []) if re.match(r"[0-9a-f]+-", l)]
    tap(got == facts["maps"] and len(got) > 0,
        "%s: kvm-linux-vmas 1 equals the guest's /proc/1/maps (%d VMAs)" % (tag, len(got)),
        "gdb:\n%s\nguest:\n%s" % ("\n".join(got), "\n".join(facts["maps"])))
    stack = [l for l in got if l.endswith("[stack]") and " rw-p " in l]
    text = [l for l in got if l.endswith("/bin/busybox") and " r-xp " in l]
    tap(len(stack) == 1 and len(text) == 1,
        "%s: pid 1's VMAs include its stack and busybox's text mapping" % tag)


def field(sect, name):
    for l in sect.get("memmap", []):
        if l.startswith(name + ":"):
            return l[len(name) + 1:].split()
    return None


def check_memmap(sect, facts, kaslr, tag):
    segs = kcore_segments(facts["kcore"])
    ks = facts["kallsyms"]
    pob, vmb, vmemb = (int((field(sect, k) or ["-1"])[0], 16)
                       for k in ("page_offset_base", "vmalloc_base", "vmemmap_base"))
    ram = [(v, p) for v, p, _ in segs if p != 2 ** 64 - 1 and v < START_KERNEL_MAP]
    tap(len(ram) > 0 and all(v - p == pob for v, p in ram),
        "%s: kvm-linux-memmap page_offset_base 0x%x = p_vaddr - p_paddr of the guest's "
        "%d /proc/kcore RAM segments" % (tag, pob, len(ram)),
        "\n".join(sect.get("memmap", sect["_all"])) + "\nsegments: %s" %
        ["%x/%x" % (v, p) for v, p, _ in segs])
    vaddrs = {v for v, _, _ in segs}
    tap(vmb in vaddrs and vmemb in vaddrs,
        "%s: vmalloc_base 0x%x and vmemmap_base 0x%x start /proc/kcore segments" %
        (tag, vmb, vmemb), "segments: %s" % ["%x" % v for v in sorted(vaddrs)])
    text = [(v, p) for v, p, _ in segs if v == ks.get("_text")]
    img = field(sect, "kernel image") or ["", ""]
    want = "0x%016x-" % ks.get("_text", 0)
    ok = len(text) == 1 and img[0].startswith(want) and \
        img[1:] == ["(phys", "0x%x)" % text[0][1]]
    tap(ok, "%s: kernel image at the guest's _text, its physical address that of "
        "/proc/kcore's text segment" % tag, "memmap: %s; kcore text: %s" % (img, text))
    want_k = "on" if kaslr else "off"
    tap((field(sect, "KASLR") or [""])[0] == want_k,
        "%s: KASLR reported %s" % (tag, want_k), field(sect, "KASLR"))
    return text[0][1] if text else None


def check_pa_va(sect, facts, text_pa, tag):
    ks = facts["kallsyms"]
    pa_line = " ".join(sect.get("pa", []))
    m = re.search(r"__pa\(0x([0-9a-f]+)\) = 0x([0-9a-f]+) \(kernel text\)", pa_line)
    pa = int(m.group(2), 16) if m else -1
    want = text_pa + ks["init_task"] - ks["_text"] if text_pa is not None else -2
    tap(m is not None and int(m.group(1), 16) == ks["init_task"] and pa == want,
        "%s: kvm-linux-pa &init_task = 0x%x (kcore's text segment + offset)" % (tag, want),
        pa_line)
    va_line = " ".join(sect.get("va", []))
    m = re.search(r"__va\(0x([0-9a-f]+)\) = 0x([0-9a-f]+)", va_line)
    va = int(m.group(2), 16) if m else -1
    pob = int((field(sect, "page_offset_base") or ["-1"])[0], 16)
    tap(va == pa + pob, "%s: kvm-linux-va of it = page_offset_base + PA" % tag, va_line)
    back = " ".join(sect.get("pa2", []))
    m = re.search(r"= 0x([0-9a-f]+) \(direct map\)", back)
    tap(m is not None and int(m.group(1), 16) == pa,
        "%s: __pa(__va(x)) == x" % tag, back)
    same = [[w for l in sect.get(k, []) if ":" in l for w in l.split(":", 1)[1].split()]
            for k in ("mem-text", "mem-va")]
    tap(len(same[0]) == 4 and same[0] == same[1],
        "%s: init_task reads the same through the text mapping and the direct map" % tag,
        same)


def check_pf(sect, tag):
    lines = [l for l in sect.get("pf-run", []) if l.startswith("kvm-linux-pf: comm ")]
    ok = len(lines) == 5
    for l in lines:
        m = re.match(r"kvm-linux-pf: comm (\S+) pid (\d+) address 0x([0-9a-f]+) vma "
                     r"([0-9a-f]+)-([0-9a-f]+) ", l)
        ok = ok and m is not None and \
            int(m.group(4), 16) <= int(m.group(3), 16) < int(m.group(5), 16)
    stopped = any("5 faults seen, guest stopped" in l for l in sect.get("pf-run", []))
    tap(ok and stopped, "%s: kvm-linux-pf: 5 faults, each with comm, pid and the VMA "
        "holding its address, then the guest stopped" % tag,
        "\n".join(sect.get("pf-run", sect["_all"])))
    ours = [l for l in lines if " flags " in l and "USER" in l]
    tap(len(ours) > 0, "%s: kvm-linux-pf decodes FAULT_FLAG_USER" % tag)


def boot_and_check(image, initrd, vmlinux, cpus, kaslr, logdir):
    tag = "%d vCPU%s, KASLR %s" % (cpus, "s" if cpus > 1 else "", "on" if kaslr else "off")
    g = Guest(image, initrd, cpus, kaslr, logdir)
    try:
        ready = g.wait_ready()
        tap(ready, "%s: guest booted to its shell (QEMU's gdbstub, the reference)" % tag,
            "\n".join(g.lines()[-10:]))
        if not ready:
            return
        facts = guest_facts(g.lines())
        slide = facts["kallsyms"]["_text"] - LINK_TEXT
        tap(kaslr == (slide != 0), "%s: kernel slide 0x%x" % (tag, slide))
        cmds = [("current", "kvm-linux-current"), ("ps", "kvm-linux-ps"),
                ("vmas", "kvm-linux-vmas 1"), ("memmap", "kvm-linux-memmap"),
                ("pa", "kvm-linux-pa &init_task"), ("va", "kvm-linux-va $kvm_pa"),
                ("pa2", "kvm-linux-pa $kvm_va"),
                ("mem-text", "x/4gx &init_task"), ("mem-va", "x/4gx $kvm_va")]
        if cpus > 1:
            cmds += [("pf-on", 'set {char[6]}&init_uts_ns.name.nodename = "fault"'),
                     ("pf-arm", "kvm-linux-pf on all 5"), ("pf-run", "continue"),
                     ("pf-off", "kvm-linux-pf off")]
        sect = run_gdb(vmlinux, g.port, slide, cmds)
        check_current(sect, cpus, facts, tag)
        check_ps(sect, facts, tag)
        check_vmas(sect, facts, tag)
        text_pa = check_memmap(sect, facts, kaslr, tag)
        check_pa_va(sect, facts, text_pa, tag)
        if cpus > 1:
            check_pf(sect, tag)
    finally:
        g.stop()


def main():
    logdir = os.path.join(TOP, "build", "linux", "log")
    os.makedirs(logdir, exist_ok=True)
    try:
        image, initrd = run(["selftests/linux/mkguest.sh"])
        out = subprocess.run(["scripts/fetch-vmlinux.sh", image], cwd=TOP, check=True,
                             capture_output=True, text=True)
        vmlinux = out.stdout.strip().splitlines()[-1]
    except subprocess.CalledProcessError as e:
        tap(False, "guest kernel, initramfs and DWARF vmlinux prepared", e.stderr)
        return 1
    tap("(matches " in out.stderr,
        "DWARF vmlinux's build-id equals the bzImage's kernel's", out.stderr)
    boot_and_check(image, initrd, vmlinux, 2, False, logdir)
    boot_and_check(image, initrd, vmlinux, 1, True, logdir)
    print("# %d tests, %d failed" % (n_test, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
