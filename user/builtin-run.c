// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg-launch [options] IMAGE: run a guest, optionally serving gdb.
 * Thin over user/vm.h: parse and check options, vm__create, start, wait,
 * exit with the guest's status.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "user/builtin.h"
#include "user/vm.h"

/*
 * The gdb backend's call points (user/debug.h, the debug backend part):
 * debug__start(vm, spec) installs the VM's hooks and starts its gdb thread
 * (the VM is created start_paused, so every vCPU waits at the entry point
 * for the client); debug__stop(vm) ends the session after vm__wait().
 * Until that part is in the tree, --gdb is refused.
 */
#if __has_include("user/debug.h")
#include "user/debug.h"
#else
static int debug__start(struct vm *vm, const char *spec)
{
	(void)vm;
	cli_error("--gdb %s: this build has no gdb backend (user/debug.c)", spec);
	return -ENOSYS;
}

static void debug__stop(struct vm *vm)
{
	(void)vm;
}
#endif

enum {
	OPT_CPUS = 'c', OPT_MEM = 'm', OPT_GDB = 'g', OPT_VERBOSE = 'v',
	OPT_HELP = 'h', OPT_FLAT = 256, OPT_LOAD_ADDR, OPT_ENTRY,
};

struct run_opt {
	const char *name;
	int has_arg;
	int val;
	const char *arg;
	const char *help;
};

static const struct run_opt run_opts[] = {
	{ "cpus", 1, OPT_CPUS, "N", "number of vCPUs, 1 to KVM's limit (see --info); default 1" },
	{ "mem", 1, OPT_MEM, "SIZE", "guest RAM with suffix K, M or G, 2M to 64G; default 64M" },
	{ "flat", 0, OPT_FLAT, NULL, "IMAGE is a flat binary (needs --load-addr)" },
	{ "load-addr", 1, OPT_LOAD_ADDR, "ADDR", "guest-physical address of a flat binary, >= 0x100000" },
	{ "entry", 1, OPT_ENTRY, "ADDR", "entry point of a flat binary; default --load-addr" },
	{ "gdb", 1, OPT_GDB, "SPEC", "serve gdb on PORT, HOST:PORT or unix:PATH;\n"
	  "                         every vCPU waits at the entry point for the client" },
	{ "verbose", 0, OPT_VERBOSE, NULL, "report ignored port I/O on stderr" },
	{ "help", 0, OPT_HELP, NULL, "this text" },
};

#define NR_RUN_OPTS	(sizeof(run_opts) / sizeof(run_opts[0]))

struct run_args {
	struct vm_config cfg;
	const char *gdb;
	bool have_load_addr, have_entry;
	long cpus;
};

void usage_run(void)
{
	printf("Usage: %s [options] IMAGE\n\n"
	       "Run IMAGE, a static x86-64 ELF executable (or a flat binary with --flat),\n"
	       "on /dev/kvm. Every vCPU starts in 64-bit long mode at the entry point with\n"
	       "RDI = vCPU index and RSI = vCPU count; guest memory below 0x100000 is the\n"
	       "VMM's. Output to port 0xE9 or COM1 (0x3F8) goes to stdout; a write to port\n"
	       "0xF4 ends the guest with that value as exit status.\n\nOptions:\n",
	       program_invocation_short_name);
	for (size_t i = 0; i < NR_RUN_OPTS; i++) {
		const struct run_opt *o = &run_opts[i];
		char shrt[8] = "    ", left[40];

		if (o->val < 256)
			snprintf(shrt, sizeof(shrt), "-%c, ", o->val);
		snprintf(left, sizeof(left), "%s--%s %s", shrt, o->name,
			 o->arg ? o->arg : "");
		printf("  %-22s %s\n", left, o->help);
	}
	printf("\nExit status: the guest's (its port 0xF4 value mod 256; 0 when every vCPU\n"
	       "halted; %d + KVM exit reason when it crashed), %d when it could not be\n"
	       "started, %d for bad usage.\n\n"
	       "Examples:\n"
	       "  %s build/examples/hello.elf\n"
	       "  %s --cpus 4 build/examples/smp.elf\n"
	       "  %s --gdb 1234 build/examples/callchain.elf\n"
	       "      then: gdb -ex 'target remote :1234' build/examples/callchain.elf\n",
	       VM_STATUS_CRASH, EXIT_SETUP, EXIT_USAGE, program_invocation_short_name,
	       program_invocation_short_name, program_invocation_short_name);
}

static bool parse_u64(const char *s, uint64_t *v, char **end)
{
	char *e;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &e, 0);
	if (errno || e == s)
		return false;
	if (end)
		*end = e;
	return end || !*e;
}

/* "64M", "1G", "4096K", "2097152": bytes, or false if not a size. */
static bool parse_size(const char *s, uint64_t *v)
{
	char *e;
	unsigned int shift = 0;

	if (!parse_u64(s, v, &e))
		return false;
	switch (*e) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case '\0': break;
	default: return false;
	}
	if (shift && e[1])
		return false;
	if (*v > (UINT64_MAX >> shift))
		return false;
	*v <<= shift;
	return true;
}

static int run__check_mem(const char *arg, uint64_t v)
{
	if (v < VM_MEM_MIN || v > VM_MEM_MAX) {
		cli_error("--mem %s: must be between 2M and 64G", arg);
		return -1;
	}
	if (v % 4096) {
		cli_error("--mem %s: must be a multiple of 4K", arg);
		return -1;
	}
	return 0;
}

static int run__parse_opt(struct run_args *a, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case OPT_CPUS:
		if (!parse_u64(arg, &v, NULL) || v > 1000000) {
			cli_error("--cpus %s: not a number of vCPUs (e.g. --cpus 4)", arg);
			return -1;
		}
		a->cpus = (long)v;
		return 0;
	case OPT_MEM:
		if (!parse_size(arg, &v)) {
			cli_error("--mem %s: not a size (use a number with suffix K, M or G, e.g. --mem 64M)", arg);
			return -1;
		}
		a->cfg.mem_size = v;
		return run__check_mem(arg, v);
	case OPT_LOAD_ADDR:
	case OPT_ENTRY:
		if (!parse_u64(arg, &v, NULL)) {
			cli_error("--%s %s: not an address (e.g. 0x100000)",
				  c == OPT_ENTRY ? "entry" : "load-addr", arg);
			return -1;
		}
		if (c == OPT_ENTRY)
			a->cfg.entry = v, a->have_entry = true;
		else
			a->cfg.load_addr = v, a->have_load_addr = true;
		return 0;
	case OPT_FLAT:
		a->cfg.flat = true;
		return 0;
	case OPT_GDB:
		a->gdb = arg;
		return 0;
	case OPT_VERBOSE:
		a->cfg.verbose = true;
		return 0;
	}
	return -1;
}

static void run__unknown_opt(char **argv, int optind_after)
{
	const char *bad = argv[optind_after - 1];

	if (optopt && strchr("cmg", optopt))
		cli_error("-%c needs an argument (see --help)", optopt);
	else if (optopt)
		cli_error("unknown option -%c (see --help)", optopt);
	else if (strchr(bad, '='))
		cli_error("%s: option takes no argument or is unknown (see --help)", bad);
	else
		cli_error("unknown option or missing argument: %s (see --help)", bad);
}

/* 0: parsed; 1: --help printed; -1: error printed. */
static int run__parse(struct run_args *a, int argc, char **argv)
{
	struct option longopts[NR_RUN_OPTS + 1];
	int c;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < NR_RUN_OPTS; i++) {
		longopts[i].name = run_opts[i].name;
		longopts[i].has_arg = run_opts[i].has_arg;
		longopts[i].val = run_opts[i].val;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:m:g:vh", longopts, NULL)) != -1) {
		if (c == OPT_HELP) {
			usage_run();
			return 1;
		}
		if (c == '?') {
			run__unknown_opt(argv, optind);
			return -1;
		}
		if (run__parse_opt(a, c, optarg) < 0)
			return -1;
	}
	if (optind != argc - 1) {
		if (optind >= argc)
			cli_error("no IMAGE given; usage: %s [options] IMAGE (see --help)",
				  program_invocation_short_name);
		else
			cli_error("one IMAGE expected, got %d (%s, %s...); options go before IMAGE",
				  argc - optind, argv[optind], argv[optind + 1]);
		return -1;
	}
	a->cfg.image = argv[optind];
	return 0;
}

static int run__check(struct run_args *a)
{
	struct vm_kvm_info info;
	char err[256];

	if (a->cfg.flat && !a->have_load_addr) {
		cli_error("--flat needs --load-addr ADDR (and optionally --entry ADDR)");
		return EXIT_USAGE;
	}
	if (!a->cfg.flat && (a->have_load_addr || a->have_entry)) {
		cli_error("--load-addr and --entry are for flat binaries: add --flat (an ELF image carries its own)");
		return EXIT_USAGE;
	}
	/* Only a count other than the default needs KVM's limit: a bad image
	 * is then still reported first on a host without KVM.
	 */
	if (a->cpus == 1)
		goto ok;
	if (vm__kvm_info(&info, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return EXIT_SETUP;
	}
	if (a->cpus < 1 || a->cpus > info.max_cpus) {
		cli_error("--cpus %ld: must be between 1 and %d (KVM_CAP_MAX_VCPUS)",
			  a->cpus, info.max_cpus);
		return EXIT_USAGE;
	}
ok:
	a->cfg.nr_cpus = (int)a->cpus;
	return 0;
}

static int run__guest(struct run_args *a)
{
	struct vm *vm;
	char err[512];
	int status = 0, r;

	a->cfg.err = err;
	a->cfg.err_len = sizeof(err);
	r = vm__create(&a->cfg, &vm);
	if (r < 0) {
		cli_error("%s", err);
		return EXIT_SETUP;
	}
	if (a->gdb && debug__start(vm, a->gdb) < 0) {
		vm__destroy(vm);
		return EXIT_SETUP;
	}
	r = vm__start(vm);
	if (r == 0)
		r = vm__wait(vm, &status);
	if (a->gdb)
		debug__stop(vm);
	vm__destroy(vm);
	if (r < 0) {
		cli_error("cannot run the guest: %s", strerror(-r));
		return EXIT_SETUP;
	}
	return status & 0xff;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = {
		.cfg = { .console_fd = STDOUT_FILENO, .mem_size = VM_MEM_DEFAULT },
		.cpus = 1,
	};
	int r = run__parse(&a, argc, argv);

	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	r = run__check(&a);
	if (r)
		return r;
	a.cfg.start_paused = a.gdb != NULL;
	return run__guest(&a);
}
