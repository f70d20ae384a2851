# Runs inside gdb (gdb -batch -x bench/gdb_measure.py): times a 16 MiB
# `dump binary memory` and N `stepi`s against whatever target the
# environment names, and prints one line per figure for gdb_bench.sh.
# BENCH_TARGET  host:port of the stub
# BENCH_ADDR    start of the 16 MiB to read
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

addr = int(os.environ["BENCH_ADDR"], 0)
size = 16 << 20
t0 = time.perf_counter()
gdb.execute("dump binary memory /dev/null %#x %#x" % (addr, addr + size))
dt = time.perf_counter() - t0
print("BENCH mem_mib_s %.1f" % (size / dt / (1 << 20)))

steps = int(os.environ["BENCH_STEPS"])
t0 = time.perf_counter()
gdb.execute("stepi %d" % steps, to_string=True)
dt = time.perf_counter() - t0
print("BENCH steps_s %.0f" % (steps / dt))
gdb.execute("kill")
