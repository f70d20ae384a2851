# kvmdbg gdb macros in gdb's Python (docs/gdb-driver.md).
#
# kvm-translate ADDR [VCPU]: walk a vCPU's page tables for the
# guest-virtual ADDR and show every level. CR3/CR4/EFER come from the
# registers the kvmdbg stub exposes (cr3, cr4, efer); the table entries
# are read guest-physical with "monitor phys on", and gdb's memory cache
# is flushed around that, since the same addresses mean other bytes then.
import gdb

PTE_P, PTE_RW, PTE_US, PTE_PS, PTE_NX = 1, 2, 4, 0x80, 1 << 63
ADDR_MASK = 0x000ffffffffff000
LEVELS = ["PML5", "PML4", "PDPT", "PD", "PT"]


def _flags(e):
    f = ["P" if e & PTE_P else "-", "RW" if e & PTE_RW else "RO",
         "U" if e & PTE_US else "S"]
    if e & PTE_PS:
        f.append("PS")
    if e & PTE_NX:
        f.append("NX")
    return " ".join(f)


class _Phys:
    """monitor phys on for the duration, gdb's caches flushed either side."""

    def __enter__(self):
        gdb.execute("maintenance flush dcache", to_string=True)
        gdb.execute("monitor phys on", to_string=True)
        return self

    def __exit__(self, *exc):
        gdb.execute("monitor phys off", to_string=True)
        gdb.execute("maintenance flush dcache", to_string=True)

    def q(self, gpa):
        mem = gdb.selected_inferior().read_memory(gpa, 8)
        return int.from_bytes(bytes(mem), "little")


def _reg(name):
    return int(gdb.parse_and_eval("$" + name)) & 0xffffffffffffffff


def _walk(va):
    cr0, cr3, cr4, efer = _reg("cr0"), _reg("cr3"), _reg("cr4"), _reg("efer")
    if not cr0 & (1 << 31):
        print("paging off: 0x%x is guest-physical" % va)
        return
    if not efer & (1 << 10):
        print("not in long mode (EFER.LMA clear): only 4/5-level paging is walked")
        return
    five = bool(cr4 & (1 << 12))
    names = LEVELS if five else LEVELS[1:]
    print("CR3 0x%x, %d-level paging, VA 0x%x" % (cr3, len(names), va))
    table = cr3 & ADDR_MASK
    with _Phys() as phys:
        for depth, name in enumerate(names):
            shift = 12 + 9 * (len(names) - 1 - depth)
            idx = (va >> shift) & 0x1ff
            slot = table + idx * 8
            e = phys.q(slot)
            print("  %-4s[%3d] @ 0x%09x = 0x%016x  %s" % (name, idx, slot, e, _flags(e)))
            if not e & PTE_P:
                print("  not mapped: %s entry not present" % name)
                return
            leaf = name == "PT" or (e & PTE_PS and name in ("PDPT", "PD"))
            if leaf:
                size = 1 << shift
                pa = (e & ADDR_MASK & ~(size - 1)) | (va & (size - 1))
                print("0x%x -> 0x%x (%dK page)" % (va, pa, size >> 10))
                return
            table = e & ADDR_MASK


class KvmTranslate(gdb.Command):
    """kvm-translate ADDR [VCPU]: translate a guest-virtual address through
a vCPU's page tables (the selected thread's vCPU by default), showing each
level's entry and flags, then the guest-physical address."""

    def __init__(self):
        super().__init__("kvm-translate", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not 1 <= len(argv) <= 2:
            raise gdb.GdbError("usage: kvm-translate ADDR [VCPU]")
        va = int(gdb.parse_and_eval(argv[0])) & 0xffffffffffffffff
        old = gdb.selected_thread()
        if len(argv) == 2:
            vcpu = int(argv[1], 0)
            match = [t for t in gdb.selected_inferior().threads() if t.num == vcpu + 1]
            if not match:
                raise gdb.GdbError("no vCPU %d" % vcpu)
            match[0].switch()
        try:
            print("vCPU %d:" % (gdb.selected_thread().num - 1))
            _walk(va)
        finally:
            if old is not None and old.is_valid():
                old.switch()


KvmTranslate()
