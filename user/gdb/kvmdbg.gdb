# kvmdbg gdb macros: sourced by the init script kvmdbg-launch's gdb driver
# generates (docs/gdb-driver.md). Plain gdb commands here; the page walk
# is in kvmdbg.py (gdb's Python), loaded from beside this file.

define kvm-vcpus
  monitor info vcpus
  info threads
end
document kvm-vcpus
List every vCPU: its RIP, halted or not, CPU and paging mode (from the
stub's "monitor info vcpus"), then gdb's thread list (one thread per vCPU).
end

define kvm-memmap
  monitor info memory
end
document kvm-memmap
Show the guest-physical memory map: RAM size, the VMM's reserved area
(GDT, page tables, TSS, stacks), and pages mapped from a snapshot.
end

define kvm-snapshot-info
  monitor info snapshot
end
document kvm-snapshot-info
Show the snapshot this VM was resumed from (file, format version, trigger,
capture time, image and build-id, vCPUs and their RIPs, memory) and how
many snapshots this session wrote.
end

define kvm-snapshot
  if $argc != 1
    echo usage: kvm-snapshot FILE\n
  else
    monitor snapshot $arg0
  end
end
document kvm-snapshot
kvm-snapshot FILE: write a snapshot of the stopped VM to FILE (an absolute path).
end
