# SPDX-License-Identifier: GPL-2.0
#
# bench/: helpers the bench scripts run (the scripts themselves need no
# build). Outputs: $(O)/bench/floor (bench/floor.c: loopback and memcpy
# floor printed next to the gdb/lldb figures).

BENCH_TOOLS	:= $(O)/bench/floor
ALL		+= $(BENCH_TOOLS)

$(O)/bench/floor: bench/floor.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $<
