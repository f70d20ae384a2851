// SPDX-License-Identifier: GPL-2.0
/*
 * foreign_bench: the pause a VM another VMM runs sees when kvmdbg.ko reads
 * it (issue 11's benchmark, beside `qmp --bench` in tests.d/80-qemu-peer).
 *
 *   foreign_bench [--samples] N PID
 *
 * Opens a foreign kvmdbg.ko session on the VM of process PID the way
 * kvmdbg-launch --attach does (user/attach/: the VM fd by pidfd_getfd(2),
 * the VMM's own kick signal), then times N rounds of
 * {KVMDBG_FREEZE; KVMDBG_SNAPSHOT of every vCPU; KVMDBG_THAW}, from before
 * the freeze to after the thaw, and prints one line in the shape of
 * `qmp --bench`:
 *   rounds=N cpus=K median_us=X p99_us=Y min_us=A max_us=B
 * where K is the number of vCPUs every round captured, then where the
 * time goes, as medians:
 *   freeze_us=F thaw_us=W held_us=H
 * F: KVMDBG_FREEZE + KVMDBG_SNAPSHOT (fvm__freeze), W: KVMDBG_THAW, H: how
 * long the module reports the VM held before the capture returned
 * (fvm__stopped_ns). With --samples, then one line per round in round
 * order, "sample us=X freeze_us=F thaw_us=W held_us=H", for a caller that
 * pools rounds interleaved with qmp --bench's. Exits 1 with one
 * line on stderr on bad arguments or when the session cannot be opened or
 * a round fails; the VM is left running in every case.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "user/attach/attach.h"
#include "user/attach/foreign_vm.h"
#include "user/vmm/kvmdbg_mod.h"

#define BENCH_MAX	100000

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank, as qmp --bench: the smallest sample with pct % at or below. */
static double rank(const double *sorted, int n, int pct)
{
	int k = (n * pct + 99) / 100;

	return sorted[k > 0 ? k - 1 : 0];
}

static int bench(struct fvm *vm, int rounds, bool samples)
{
	double *us = calloc(8 * (size_t)rounds, sizeof(*us)), t0, t1;
	double *fr = us + rounds, *th = fr + rounds, *held = th + rounds;
	int cpus = fvm__nr_vcpus(vm), r;
	char err[512];

	if (!us) {
		fprintf(stderr, "foreign_bench: out of memory\n");
		return 1;
	}
	for (int i = 0; i < rounds; i++) {
		t0 = now_us();
		if (fvm__freeze(vm, err, sizeof(err))) {
			fprintf(stderr, "foreign_bench: round %d: %s\n", i + 1, err);
			free(us);
			return 1;
		}
		t1 = now_us();
		held[i] = fvm__stopped_ns(vm) / 1e3;
		for (int c = 0; c < cpus; c++)
			if (!fvm__state(vm, c)) {
				fprintf(stderr, "foreign_bench: round %d: vCPU %d was not captured\n",
					i + 1, c);
				free(us);
				return 1;
			}
		r = fvm__thaw(vm);
		if (r) {
			fprintf(stderr, "foreign_bench: round %d: KVMDBG_THAW: %s\n", i + 1,
				strerror(-r));
			free(us);
			return 1;
		}
		us[i] = now_us() - t0;
		fr[i] = t1 - t0;
		th[i] = t0 + us[i] - t1;
	}
	memcpy(us + 4 * (size_t)rounds, us, 4 * (size_t)rounds * sizeof(*us));
	for (int k = 0; k < 4; k++)
		qsort(us + (size_t)k * rounds, rounds, sizeof(*us), cmp_double);
	printf("rounds=%d cpus=%d median_us=%.0f p99_us=%.0f min_us=%.0f max_us=%.0f freeze_us=%.0f thaw_us=%.0f held_us=%.0f\n",
	       rounds, cpus, rank(us, rounds, 50), rank(us, rounds, 99), us[0], us[rounds - 1],
	       rank(fr, rounds, 50), rank(th, rounds, 50), rank(held, rounds, 50));
	for (int i = 0, n = 4 * rounds; samples && i < rounds; i++)
		printf("sample us=%.0f freeze_us=%.0f thaw_us=%.0f held_us=%.0f\n", us[n + i],
		       us[n + rounds + i], us[n + 2 * rounds + i], us[n + 3 * rounds + i]);
	free(us);
	return 0;
}

int main(int argc, char **argv)
{
	struct foreign_proc fp;
	struct fvm *vm;
	char err[512], *e;
	int vm_fd_nr, rc;
	bool samples = argc > 1 && !strcmp(argv[1], "--samples");
	long rounds;
	pid_t pid;

	argc -= samples;
	argv += samples;
	if (argc != 3) {
		fprintf(stderr, "foreign_bench: usage: foreign_bench [--samples] N PID (N rounds of freeze + capture of every vCPU + thaw of process PID's VM)\n");
		return 1;
	}
	rounds = strtol(argv[1], &e, 10);
	if (e == argv[1] || *e || rounds < 1 || rounds > BENCH_MAX) {
		fprintf(stderr, "foreign_bench: N takes a round count from 1 to %d, got '%s'\n",
			BENCH_MAX, argv[1]);
		return 1;
	}
	if (foreign__parse(argv[2], &pid, &vm_fd_nr, err, sizeof(err))) {
		fprintf(stderr, "foreign_bench: %s\n", err);
		return 1;
	}
	if (foreign__open(pid, vm_fd_nr, 0, &fp, err, sizeof(err))) {
		fprintf(stderr, "foreign_bench: %s\n", err);
		return 1;
	}
	rc = 1;
	if (kvmdbg_mod__init(false, err, sizeof(err)) < 0) {
		fprintf(stderr, "foreign_bench: %s\n", err);
	} else if (!kvmdbg_mod__active()) {
		fprintf(stderr, "foreign_bench: kvmdbg.ko is not usable (%s): load it (insmod kmod/kvmdbg.ko)\n",
			kvmdbg_mod__why());
	} else if (fvm__open(&fp, &vm, err, sizeof(err))) {
		fprintf(stderr, "foreign_bench: %s\n", err);
	} else {
		rc = bench(vm, (int)rounds, samples);
		fvm__close(vm);
	}
	foreign__close(&fp);
	return rc;
}
