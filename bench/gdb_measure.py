# Runs inside gdb (gdb -batch -x bench/gdb_measure.py): times 16 MiB
# `dump binary memory` of zero-filled and of random guest RAM, a 16 MiB
# `restore` (memory write), and N `stepi`s against whatever target the
# environment names, and prints one line per figure for gdb_bench.sh.
# BENCH_TARGET  host:port of the stub
# BENCH_RANDOM  a 16 MiB file of random bytes (written, then read back)
# BENCH_STEPS   number of single steps
# BENCH_BREAK   optional: a symbol to run to before stepping
import os
import time

import gdb

gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote " + os.environ["BENCH_TARGET"])
if os.environ.get("BENCH_BREAK"):
    gdb.execute("break " + os.environ["BENCH_BREAK"])
    gdb.execute("continue")
    gdb.execute("delete")

size = 16 << 20
zero = 0x2000000         # 32 MiB..48 MiB: untouched, zero-filled RAM
rand = 0x1000000         # 16 MiB..32 MiB: filled from BENCH_RANDOM first


def timed(cmd):
    t0 = time.perf_counter()
    gdb.execute(cmd)
    return size / (time.perf_counter() - t0) / (1 << 20)


print("BENCH mem_zero_mib_s %.1f" % timed(
    "dump binary memory /dev/null %#x %#x" % (zero, zero + size)))
print("BENCH mem_write_mib_s %.1f" % timed(
    "restore %s binary %#x" % (os.environ["BENCH_RANDOM"], rand)))
print("BENCH mem_rand_mib_s %.1f" % timed(
    "dump binary memory /dev/null %#x %#x" % (rand, rand + size)))

steps = int(os.environ["BENCH_STEPS"])
t0 = time.perf_counter()
gdb.execute("stepi %d" % steps, to_string=True)
dt = time.perf_counter() - t0
print("BENCH steps_s %.0f" % (steps / dt))
gdb.execute("kill")
