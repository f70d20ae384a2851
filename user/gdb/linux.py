# kvmdbg gdb macros for Linux guests (x86-64), in gdb's Python
# (docs/gdb-driver.md, "Linux guests"). They read the guest kernel's own
# data structures through the vmlinux symbols loaded with "file", so they
# need the DWARF vmlinux of the running kernel (scripts/fetch-vmlinux.sh).
# Written for Linux 6.1 (maple-tree VMAs, per-CPU current_task).
#
#   kvm-linux-current    current task on every vCPU
#   kvm-linux-ps         task list: pid, comm, state, mm
#   kvm-linux-vmas PID   one task's VMAs, like /proc/PID/maps
#   kvm-linux-memmap     kernel memory regions (KASLR-aware)
#   kvm-linux-va PA      __va(): physical -> direct-map virtual
#   kvm-linux-pa VA      __pa(): direct-map or kernel-text virtual -> physical
#   kvm-linux-pf [on [PID|COMM] | off]   page-fault attribution
#
# Per-CPU variables are found relative to __per_cpu_start, so they stay
# right when gdb relocates the kernel's sections for KASLR.
import gdb

U64 = 0xffffffffffffffff
START_KERNEL_MAP = 0xffffffff80000000


def _u(v):
    return int(v) & U64


def _sym(name):
    try:
        return gdb.parse_and_eval(name)
    except gdb.error:
        raise gdb.GdbError("no symbol %s: load the guest kernel's DWARF vmlinux "
                           "(scripts/fetch-vmlinux.sh, docs/gdb-driver.md)" % name)


def _type(name):
    try:
        return gdb.lookup_type(name)
    except gdb.error:
        raise gdb.GdbError("no type %s: load the guest kernel's DWARF vmlinux" % name)


def _deref(addr, tname):
    return gdb.Value(addr).cast(_type(tname).pointer()).dereference()


def _read_u64(addr):
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return int.from_bytes(bytes(mem), "little")


def _offsetof(tname, field):
    for f in _type(tname).fields():
        if f.name == field:
            return f.bitpos // 8
    raise gdb.GdbError("%s has no field %s" % (tname, field))


def _percpu_off(var):
    """A per-CPU variable's offset inside every CPU's per-CPU area."""
    return _u(_sym("&" + var)) - _u(_sym("&__per_cpu_start"))


def _cpu_offsets():
    """__per_cpu_offset[] of every possible CPU."""
    n = int(_sym("nr_cpu_ids"))
    base = _u(_sym("&__per_cpu_offset"))
    return [_read_u64(base + 8 * i) for i in range(n)]


def _comm(task):
    return task["comm"].string(length=16).split("\0")[0]


def _task_str(task):
    return "pid %d %s" % (int(task["pid"]), _comm(task))


def _vcpu_percpu_base():
    """The selected vCPU's per-CPU base: GS base in kernel mode, the
    swapped-out KERNEL_GS_BASE while in user mode. A vCPU stopped in
    kernel mode before the entry code's swapgs (or after the exit path's)
    still has the user's GS base (not a kernel address: the top bit is
    clear); the kernel's is then in KERNEL_GS_BASE."""
    cs = _u(gdb.parse_and_eval("$cs"))
    gs = _u(gdb.parse_and_eval("$gs_base"))
    if cs & 3 == 0 and gs >> 63:
        return gs
    return _u(gdb.parse_and_eval("$k_gs_base"))


def _current_of(base):
    return _deref(_read_u64(base + _percpu_off("current_task")), "struct task_struct")


def _threads():
    return sorted(gdb.selected_inferior().threads(), key=lambda t: t.num)


class _OnThread:
    """Select a gdb thread (vCPU) for the duration, then the old one again."""

    def __init__(self, thread):
        self.thread, self.old = thread, gdb.selected_thread()

    def __enter__(self):
        self.thread.switch()

    def __exit__(self, *exc):
        if self.old is not None and self.old.is_valid():
            self.old.switch()


class KvmLinuxCurrent(gdb.Command):
    """kvm-linux-current: the task each vCPU runs (per-CPU current_task).
One line per vCPU (gdb thread N = vCPU N-1): the Linux CPU number whose
per-CPU area the vCPU's GS base points at, then pid and comm. Idle CPUs
run their idle task, swapper/N."""

    def __init__(self):
        super().__init__("kvm-linux-current", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        offs = _cpu_offsets()
        for t in _threads():
            with _OnThread(t):
                base = _vcpu_percpu_base()
            if base not in offs:
                print("vCPU %d: no per-CPU area (GS base 0x%x): not in the kernel yet"
                      % (t.num - 1, base))
                continue
            cpu = offs.index(base)
            task = _current_of(base)
            print("vCPU %d: cpu %d %s task 0x%x" % (t.num - 1, cpu, _task_str(task),
                                                   _u(task.address)))


def _tasks():
    """Every thread-group leader, from init_task.tasks (pid 0 first)."""
    init = _sym("init_task")
    off = _offsetof("struct task_struct", "tasks")
    head = _u(init["tasks"].address)
    yield init
    node = _u(init["tasks"]["next"])
    seen = 0
    while node != head and seen < 1 << 20:
        yield _deref(node - off, "struct task_struct")
        node = _u(_deref(node, "struct list_head")["next"])
        seen += 1


def _state(task):
    ex = int(task["exit_state"])
    if ex & 0x10:
        return "Z"
    if ex & 0x20:
        return "X"
    st = int(task["__state"])
    if st == 0:
        return "R"
    if st & 0x402 == 0x402:
        return "I"
    for bit, ch in ((1, "S"), (2, "D"), (4, "T"), (8, "t"), (0x80, "P")):
        if st & bit:
            return ch
    return "?"


class KvmLinuxPs(gdb.Command):
    """kvm-linux-ps: the guest's task list (init_task.tasks: thread-group
leaders), one line each: pid, state (R S D T t I Z X, as ps shows them),
mm (0 for kernel threads) and comm."""

    def __init__(self):
        super().__init__("kvm-linux-ps", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        print("%7s %s %-18s %s" % ("PID", "S", "MM", "COMM"))
        for t in _tasks():
            print("%7d %s 0x%016x %s" % (int(t["pid"]), _state(t), _u(t["mm"]), _comm(t)))


# Maple tree (lib/maple_tree.c, 6.1): a node pointer ("enode") carries its
# node type in bits 3-6; internal entries have bits 0-1 = 0b10.
MT_DENSE, MT_LEAF64, MT_RANGE64, MT_ARANGE64 = 0, 1, 2, 3
MT_SLOTS = {MT_LEAF64: 16, MT_RANGE64: 16, MT_ARANGE64: 10}


def _mt_is_node(e):
    return e & 3 == 2 and e > 4096


def _mt_node(enode):
    """(type, struct maple_node) of an encoded node pointer."""
    return (enode >> 3) & 0xf, _deref(enode & ~0xff, "struct maple_node")


def _mt_data_end(node, mtype, pivots, nmax):
    """Offset of the last used slot (ma_data_end())."""
    if mtype == MT_ARANGE64:
        return int(node["ma64"]["meta"]["end"])
    last = MT_SLOTS[mtype] - 2
    if pivots[last] == 0:
        return int(node["mr64"]["meta"]["end"])
    return last if pivots[last] == nmax else last + 1


def _mt_walk(enode, nmax, out, depth=0):
    mtype, node = _mt_node(enode)
    if mtype not in MT_SLOTS or depth > 32:
        raise gdb.GdbError("maple node 0x%x: unexpected type %d" % (enode, mtype))
    body = node["ma64"] if mtype == MT_ARANGE64 else node["mr64"]
    n = MT_SLOTS[mtype]
    pivots = [_u(body["pivot"][i]) for i in range(n - 1)]
    end = _mt_data_end(node, mtype, pivots, nmax)
    for i in range(end + 1):
        slot = _u(body["slot"][i])
        cmax = pivots[i] if i < n - 1 and i < end else nmax
        if not slot:
            continue
        if mtype == MT_LEAF64:
            if slot & 3 != 2:	# skip internal (reserved) entries
                out.append(slot)
        elif _mt_is_node(slot):
            _mt_walk(slot, cmax, out, depth + 1)


def mt_entries(tree):
    """Every entry stored in a struct maple_tree, in index order."""
    root = _u(tree["ma_root"])
    out = []
    if _mt_is_node(root):
        _mt_walk(root, U64, out)
    elif root:
        out.append(root)
    return out


VM_READ, VM_WRITE, VM_EXEC, VM_MAYSHARE = 1, 2, 4, 0x80


def _task_by_pid(pid):
    for t in _tasks():
        if int(t["pid"]) == pid:
            return t
    raise gdb.GdbError("no task with pid %d" % pid)


def _vma_name(vma, mm):
    f = _u(vma["vm_file"])
    start, end = _u(vma["vm_start"]), _u(vma["vm_end"])
    if f:
        return _file_path(vma["vm_file"].dereference())
    try:
        ops = _u(vma["vm_ops"])
        if ops and ops == _u(_sym("&special_mapping_vmops")):
            sm = _deref(_u(vma["vm_private_data"]), "struct vm_special_mapping")
            return sm["name"].string()
    except gdb.GdbError:
        pass
    if start <= _u(mm["brk"]) and end >= _u(mm["start_brk"]):
        return "[heap]"
    if start <= _u(mm["start_stack"]) <= end:
        return "[stack]"
    return ""


def _file_path(f):
    """The file's path, from its dentry up to the root of its mount."""
    d = f["f_path"]["dentry"]
    parts = []
    for _ in range(64):
        parent = d["d_parent"]
        if _u(parent) == _u(d):
            break
        parts.append(d["d_name"]["name"].string())
        d = parent
    return "/" + "/".join(reversed(parts))


def _vma_line(vma, mm):
    start, end = _u(vma["vm_start"]), _u(vma["vm_end"])
    fl = _u(vma["vm_flags"])
    perms = "".join(c if fl & b else "-" for b, c in
                    ((VM_READ, "r"), (VM_WRITE, "w"), (VM_EXEC, "x")))
    perms += "s" if fl & VM_MAYSHARE else "p"
    pgoff, dev, ino = 0, 0, 0
    if _u(vma["vm_file"]):
        inode = vma["vm_file"]["f_inode"]
        pgoff = _u(vma["vm_pgoff"]) << 12
        dev, ino = _u(inode["i_sb"]["s_dev"]), _u(inode["i_ino"])
    return "%08x-%08x %s %08x %02x:%02x %d %s" % (
        start, end, perms, pgoff, dev >> 20, dev & 0xfffff, ino, _vma_name(vma, mm))


def task_vmas(task):
    mm = task["mm"]
    if not _u(mm):
        return None, []
    return mm, [_deref(e, "struct vm_area_struct") for e in mt_entries(mm["mm_mt"])]


class KvmLinuxVmas(gdb.Command):
    """kvm-linux-vmas PID: the VMAs of task PID, one line each in
/proc/PID/maps form (start-end perms offset dev inode name), from the
maple tree mm->mm_mt (range64, arange64 and leaf nodes walked)."""

    def __init__(self):
        super().__init__("kvm-linux-vmas", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if len(argv) != 1:
            raise gdb.GdbError("usage: kvm-linux-vmas PID")
        task = _task_by_pid(int(argv[0], 0))
        mm, vmas = task_vmas(task)
        if mm is None:
            print("%s: kernel thread, no mm" % _task_str(task))
            return
        for v in vmas:
            print(_vma_line(v, mm))


# Unrandomized bases, 4-level and 5-level paging (Documentation/x86/x86_64/mm.rst).
DEFAULT_BASES = {"page_offset_base": (0xffff888000000000, 0xff11000000000000),
                 "vmalloc_base": (0xffffc90000000000, 0xffa0000000000000),
                 "vmemmap_base": (0xffffea0000000000, 0xffd4000000000000)}


def _la57():
    try:
        return bool(int(gdb.parse_and_eval("__pgtable_l5_enabled")))
    except gdb.error:
        return False


def _bases():
    return {k: _u(_sym(k)) for k in DEFAULT_BASES}


def linux_pa(va):
    va &= U64
    if va >= START_KERNEL_MAP:
        # phys_base wraps below zero when KASLR slid the kernel further in
        # virtual than in physical memory: arithmetic is modulo 2^64.
        return (va - START_KERNEL_MAP + _u(_sym("phys_base"))) & U64
    return (va - _bases()["page_offset_base"]) & U64


def linux_va(pa):
    return (pa + _bases()["page_offset_base"]) & U64


class KvmLinuxMemmap(gdb.Command):
    """kvm-linux-memmap: the guest kernel's memory layout: direct map
(page_offset_base), vmalloc (vmalloc_base), struct pages (vmemmap_base),
the kernel text mapping (__START_KERNEL_map, phys_base, _text.._end) and
whether KASLR is on (boot_params.hdr.loadflags); a base that differs from
its default is marked randomized."""

    def __init__(self):
        super().__init__("kvm-linux-memmap", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        kaslr = int(_sym("boot_params")["hdr"]["loadflags"]) & 2
        la57 = _la57()
        print("KASLR:             %s" % ("on" if kaslr else "off"))
        print("paging:            %d-level" % (5 if la57 else 4))
        for k, v in _bases().items():
            note = "" if v == DEFAULT_BASES[k][la57] else "  (randomized)"
            print("%-18s 0x%016x%s" % (k + ":", v, note))
        text, end = _u(_sym("&_text")), _u(_sym("&_end"))
        print("%-18s 0x%016x" % ("__START_KERNEL_map:", START_KERNEL_MAP))
        print("%-18s 0x%016x" % ("phys_base:", _u(_sym("phys_base"))))
        print("%-18s 0x%016x-0x%016x (phys 0x%x)" % ("kernel image:", text, end,
                                                      linux_pa(text)))
        pfn = _u(_sym("max_pfn"))
        print("%-18s 0x%x (RAM up to %d MiB)" % ("max_pfn:", pfn, pfn >> 8))


def _addr_arg(arg, usage):
    argv = gdb.string_to_argv(arg)
    if len(argv) != 1:
        raise gdb.GdbError(usage)
    return _u(gdb.parse_and_eval(argv[0]))


class KvmLinuxVa(gdb.Command):
    """kvm-linux-va PA: __va(PA), the direct-map address of a physical
address (PA + page_offset_base). Sets $kvm_va."""

    def __init__(self):
        super().__init__("kvm-linux-va", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        pa = _addr_arg(arg, "usage: kvm-linux-va PHYS_ADDR")
        va = linux_va(pa)
        gdb.set_convenience_variable("kvm_va", va)
        print("__va(0x%x) = 0x%x" % (pa, va))


class KvmLinuxPa(gdb.Command):
    """kvm-linux-pa VA: __pa(VA): for the kernel text mapping (VA at or
above __START_KERNEL_map) VA - __START_KERNEL_map + phys_base, for the
direct map VA - page_offset_base. Sets $kvm_pa."""

    def __init__(self):
        super().__init__("kvm-linux-pa", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        va = _addr_arg(arg, "usage: kvm-linux-pa VIRT_ADDR")
        pa = linux_pa(va)
        gdb.set_convenience_variable("kvm_pa", pa)
        kind = "kernel text" if va >= START_KERNEL_MAP else "direct map"
        print("__pa(0x%x) = 0x%x (%s)" % (va, pa, kind))


FAULT_FLAGS = ((0x1, "WRITE"), (0x2, "MKWRITE"), (0x4, "ALLOW_RETRY"),
               (0x8, "RETRY_NOWAIT"), (0x10, "KILLABLE"), (0x20, "TRIED"),
               (0x40, "USER"), (0x80, "REMOTE"), (0x100, "INSTRUCTION"),
               (0x200, "INTERRUPTIBLE"), (0x400, "UNSHARE"),
               (0x800, "ORIG_PTE_VALID"))


def _fault_flags(f):
    names = [n for b, n in FAULT_FLAGS if f & b]
    return "|".join(names) if names else "0"


class _FaultBreakpoint(gdb.Breakpoint):
    """At the first instruction of handle_mm_fault(vma, address, flags,
regs): the arguments are still in rdi, rsi, edx (SysV ABI)."""

    def __init__(self, want, count):
        super().__init__("*handle_mm_fault", internal=True)
        self.silent = True
        self.want, self.count = want, count
        self.hits = 0

    def stop(self):
        try:
            task = _current_of(_vcpu_percpu_base())
            pid, comm = int(task["pid"]), _comm(task)
            if self.want and self.want not in (str(pid), comm):
                return False
            vma = _deref(_u(gdb.parse_and_eval("$rdi")), "struct vm_area_struct")
            addr = _u(gdb.parse_and_eval("$rsi"))
            flags = _u(gdb.parse_and_eval("$rdx")) & 0xffffffff
            mm = task["mm"] if _u(task["mm"]) else vma["vm_mm"]
            self.hits += 1
            print("kvm-linux-pf: comm %s pid %d address 0x%x vma %s flags %s"
                  % (comm, pid, addr, _vma_line(vma, mm), _fault_flags(flags)))
        except (gdb.error, gdb.MemoryError, gdb.GdbError) as e:
            print("kvm-linux-pf: cannot decode this fault: %s" % e)
            return False
        if self.count and self.hits >= self.count:
            print("kvm-linux-pf: %d faults seen, guest stopped" % self.hits)
            return True
        return False


_pf = [None]


class KvmLinuxPf(gdb.Command):
    """kvm-linux-pf [on [PID|COMM|all] [COUNT] | off]: page-fault attribution.
"on" (the default) puts a breakpoint on handle_mm_fault that prints, for
every fault the guest handles (only PID's or COMM's with a filter), the
faulting task's comm and pid, the address, its VMA (as kvm-linux-vmas
shows it) and the FAULT_FLAG_* flags, then lets the guest continue; with
COUNT it stops the guest after COUNT such faults. "off" removes it.
Needs working breakpoints."""

    def __init__(self):
        super().__init__("kvm-linux-pf", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg) or ["on"]
        if argv[0] == "off" and len(argv) == 1:
            if _pf[0] is not None:
                print("kvm-linux-pf: off after %d faults" % _pf[0].hits)
                _pf[0].delete()
                _pf[0] = None
            return
        if argv[0] != "on" or len(argv) > 3:
            raise gdb.GdbError("usage: kvm-linux-pf [on [PID|COMM|all] [COUNT] | off]")
        want = argv[1] if len(argv) > 1 and argv[1] != "all" else None
        count = int(argv[2], 0) if len(argv) > 2 else 0
        _sym("handle_mm_fault")
        if _pf[0] is not None:
            _pf[0].delete()
        _pf[0] = _FaultBreakpoint(want, count)
        print("kvm-linux-pf: on%s%s; continue to see faults" %
              (" for " + want if want else "",
               ", stop after %d" % count if count else ""))


KvmLinuxCurrent()
KvmLinuxPs()
KvmLinuxVmas()
KvmLinuxMemmap()
KvmLinuxVa()
KvmLinuxPa()
KvmLinuxPf()
