// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg-launch [options] IMAGE: run a guest, optionally serving gdb.
 * Thin over user/vmm/vm.h: parse and check options, vm__create, start, wait,
 * exit with the guest's status.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "user/cli/builtin.h"
#include "user/cli/driver.h"
#include "user/core/core.h"
#include "user/lib/elf.h"
#include "user/linux/linux.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/snapshot/snapshot.h"
#include "user/vmm/vm.h"

#include "user/debug/debug.h"

enum {
	OPT_CPUS = 'c', OPT_MEM = 'm', OPT_GDB = 'g', OPT_VERBOSE = 'v',
	OPT_HELP = 'h', OPT_FLAT = 256, OPT_LOAD_ADDR, OPT_ENTRY,
	OPT_SNAPSHOT, OPT_SNAPSHOT_AT, OPT_SNAPSHOT_EXIT, OPT_RESUME,
	OPT_SYMBOLS, OPT_GDB_SESSION, OPT_GDB_EXEC, OPT_GDB_SCRIPT,
	OPT_KERNEL, OPT_INITRD, OPT_APPEND, OPT_ATTACH, OPT_KICK_SIGNAL, OPT_INFO,
	OPT_DUMP, OPT_DUMP_ON_CRASH, OPT_DUMP_ON_SIGNAL,
};

#define MAX_GDB_EXEC	64

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
	{ "kernel", 1, OPT_KERNEL, "IMAGE", "boot a Linux bzImage or ELF vmlinux instead of IMAGE\n"
	  "                         (console on COM1 = stdin/stdout; default --mem 256M)" },
	{ "initrd", 1, OPT_INITRD, "FILE", "initramfs for --kernel" },
	{ "append", 1, OPT_APPEND, "CMDLINE", "kernel command line for --kernel, e.g. console=ttyS0" },
	{ "flat", 0, OPT_FLAT, NULL, "IMAGE is a flat binary (needs --load-addr)" },
	{ "load-addr", 1, OPT_LOAD_ADDR, "ADDR", "guest-physical address of a flat binary, >= 0x100000" },
	{ "entry", 1, OPT_ENTRY, "ADDR", "entry point of a flat binary; default --load-addr" },
	{ "gdb", 1, OPT_GDB, "SPEC", "serve gdb on PORT, HOST:PORT or unix:PATH;\n"
	  "                         every vCPU waits at the entry point for the client" },
	{ "snapshot", 1, OPT_SNAPSHOT, "FILE", "write snapshots to FILE (atomically) on SIGUSR1, on a guest\n"
	  "                         write to port 0xF5, and at --snapshot-at; the guest runs on" },
	{ "snapshot-at", 1, OPT_SNAPSHOT_AT, "WHERE", "snapshot when a vCPU first reaches WHERE, an address\n"
	  "                         or an ELF symbol of IMAGE, by a HW breakpoint on every\n"
	  "                         vCPU; with gdb too (gdb keeps the other 3 debug registers)" },
	{ "snapshot-exit", 0, OPT_SNAPSHOT_EXIT, NULL, "end the guest after the first snapshot: status 0, or 1\n"
	  "                         at once if it failed" },
	{ "resume", 1, OPT_RESUME, "FILE", "resume the snapshot FILE instead of booting an IMAGE; RAM\n"
	  "                         is mapped from FILE copy-on-write; with --gdb every vCPU\n"
	  "                         is held at the resume point for the client" },
	{ "dump", 1, OPT_DUMP, "FILE", "with --resume SNAP: write SNAP's guest as an ELF core to FILE\n"
	  "                         (for gdb, crash, drgn) and exit; no guest instruction runs;\n"
	  "                         with --attach PID: the core of that VM (frozen, then thawed)" },
	{ "dump-on-signal", 1, OPT_DUMP_ON_SIGNAL, "FILE", "on each SIGUSR2 write the running guest's ELF core to\n"
	  "                         FILE (atomically replaced); the guest runs on after" },
	{ "dump-on-crash", 1, OPT_DUMP_ON_CRASH, "FILE", "when the guest crashes (triple fault, KVM internal error,\n"
	  "                         unhandled exit) write its ELF core to FILE before it ends" },
	{ "gdb-session", 0, OPT_GDB_SESSION, NULL, "run gdb on the guest, interactive (see docs/gdb-driver.md)" },
	{ "gdb-exec", 1, OPT_GDB_EXEC, "CMD", "run gdb in batch mode with CMD (repeatable); exit with gdb's status" },
	{ "gdb-script", 1, OPT_GDB_SCRIPT, "FILE", "run gdb in batch mode on the script FILE" },
	{ "symbols", 1, OPT_SYMBOLS, "FILE", "symbols for the gdb driver (else beside the image or\n"
	  "                         snapshot, else $KVMDBG_ARTIFACTS/<name>-<build-id>); with\n"
	  "                         --gdb, a Linux vmlinux whose entry_SYSCALL_64 gives the\n"
	  "                         KASLR slide (qOffsets, monitor info kaslr)" },
	{ "verbose", 0, OPT_VERBOSE, NULL, "report ignored port I/O, and each snapshot's size and\n"
	  "                         write time, on stderr" },
	{ "attach", 1, OPT_ATTACH, "PID", "debug the VM that process PID (QEMU, Firecracker, ...) runs,\n"
	  "                         through kvmdbg.ko: with --gdb, --gdb-session/-exec/-script,\n"
	  "                         --info, or --snapshot FILE (one snapshot for inspection:\n"
	  "                         --resume FILE --gdb-session); PID:FD picks one of several VM fds" },
	{ "kick-signal", 1, OPT_KICK_SIGNAL, "SIG", "with --attach: the signal that kicks the VMM's vCPU\n"
	  "                         threads (default: known per VMM, e.g. QEMU's SIGUSR1)" },
	{ "info", 0, OPT_INFO, NULL, "with --attach: the VMM, its vCPUs and memslots" },
	{ "help", 0, OPT_HELP, NULL, "this text" },
};

#define NR_RUN_OPTS	(sizeof(run_opts) / sizeof(run_opts[0]))

struct run_args {
	struct vm_config cfg;
	const char *gdb;
	bool have_load_addr, have_entry, have_cpus, have_mem;
	long cpus;
	const char *snapshot, *snapshot_at, *resume, *symbols, *script;
	bool snapshot_exit, session;
	const char *exec[MAX_GDB_EXEC];
	int nr_exec;
	struct snapshot *snap;
	uint64_t at_addr;
	struct snap_service *service;	/* every run has one */
	struct attach_args attach;	/* --attach PID, target NULL otherwise */
	const char *dump, *dump_on_crash, *dump_on_signal;
	struct core_service *core;	/* every run has one */
};

static bool run__driver(const struct run_args *a)
{
	return a->session || a->nr_exec || a->script;
}

void usage_run(void)
{
	printf("Usage: %s [options] IMAGE\n\n"
	       "Run IMAGE, a static x86-64 ELF executable (or a flat binary with --flat),\n"
	       "on /dev/kvm. Every vCPU starts in 64-bit long mode at the entry point with\n"
	       "RDI = vCPU index and RSI = vCPU count; guest memory below 0x100000 is the\n"
	       "VMM's. Output to port 0xE9 or COM1 (0x3F8) goes to stdout; a write to port\n"
	       "0xF4 ends the guest with that value as exit status; a write to port 0xF5\n"
	       "writes a snapshot to the --snapshot FILE (the guest runs on).\n"
	       "Or: %s --resume FILE [options]: resume a snapshot.\n\nOptions:\n",
	       program_invocation_short_name, program_invocation_short_name);
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
	       "      then: gdb -ex 'target remote :1234' build/examples/callchain.elf\n"
	       "  %s --snapshot s.snap --snapshot-at snap_point --snapshot-exit build/examples/snapguest.elf\n"
	       "  %s --resume s.snap --gdb-session      (gdb, symbols loaded, held at the resume point)\n"
	       "  kill -USR1 <pid>                       (snapshot a guest run with --snapshot FILE)\n",
	       VM_STATUS_CRASH, EXIT_SETUP, EXIT_USAGE, program_invocation_short_name,
	       program_invocation_short_name, program_invocation_short_name,
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

/* "PORT" (0-65535), "HOST:PORT", "[V6]:PORT" or "unix:PATH", as gdb_server_new() takes. */
static bool gdb_spec_ok(const char *spec)
{
	const char *colon = strrchr(spec, ':'), *port = colon ? colon + 1 : spec;
	size_t host = colon ? (size_t)(colon - spec) : 1;
	unsigned long v;

	if (!strncmp(spec, "unix:", 5))
		return spec[5] && strlen(spec + 5) < sizeof(((struct sockaddr_un *)0)->sun_path);
	if (host >= 2 && spec[0] == '[' && spec[host - 1] == ']')
		host -= 2;
	if (!host || !*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
		return false;
	v = strtoul(port, NULL, 10);
	return v <= 65535;
}

/* HOST of a well-formed HOST:PORT must resolve, as the listener will ask. */
static bool gdb_host_ok(const char *spec)
{
	const struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
					.ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	const char *colon = strrchr(spec, ':');
	struct addrinfo *res;
	char host[256];
	size_t n;

	if (!colon || !strncmp(spec, "unix:", 5))
		return true;
	n = (size_t)(colon - spec);
	if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']')
		spec++, n -= 2;
	if (n >= sizeof(host))
		return false;
	memcpy(host, spec, n);
	host[n] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &res))
		return false;
	freeaddrinfo(res);
	return true;
}

/* A script gdb could not read would only warn, and gdb would exit 0. */
static int run__check_script(const char *path)
{
	struct stat st;

	if (stat(path, &st) || access(path, R_OK))
		return cli_error("--gdb-script %s: %s", path, strerror(errno)), -1;
	if (!S_ISREG(st.st_mode))
		return cli_error("--gdb-script %s: not a regular file (give a gdb command file)",
				 path), -1;
	return 0;
}

static int run__parse_core_opt(struct run_args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_DUMP: a->dump = arg; return 0;
	case OPT_DUMP_ON_CRASH: a->dump_on_crash = arg; return 0;
	case OPT_DUMP_ON_SIGNAL: a->dump_on_signal = arg; return 0;
	}
	return -1;
}

static int run__parse_snap_opt(struct run_args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_SNAPSHOT: a->snapshot = arg; return 0;
	case OPT_SNAPSHOT_AT: a->snapshot_at = arg; return 0;
	case OPT_SNAPSHOT_EXIT: a->snapshot_exit = true; return 0;
	case OPT_RESUME: a->resume = arg; return 0;
	case OPT_SYMBOLS: a->symbols = arg; return 0;
	case OPT_GDB_SESSION: a->session = true; return 0;
	case OPT_KERNEL:
		a->cfg.kernel = a->cfg.image = arg;
		a->cfg.machine = &linux_machine;
		return 0;
	case OPT_INITRD: a->cfg.initrd = arg; return 0;
	case OPT_APPEND: a->cfg.cmdline = arg; return 0;
	case OPT_GDB_SCRIPT:
		a->script = arg;
		return run__check_script(arg);
	case OPT_GDB_EXEC:
		if (a->nr_exec == MAX_GDB_EXEC) {
			cli_error("--gdb-exec: at most %d commands (use --gdb-script FILE)",
				  MAX_GDB_EXEC);
			return -1;
		}
		/* The commands become lines of a gdb script (docs/gdb-driver.md). */
		if (strchr(arg, '\n')) {
			cli_error("--gdb-exec: one command per --gdb-exec, without newlines (or use --gdb-script FILE)");
			return -1;
		}
		a->exec[a->nr_exec++] = arg;
		return 0;
	}
	return run__parse_core_opt(a, c, arg);
}

static int run__parse_attach_opt(struct run_args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_ATTACH:
		a->attach.target = arg;
		return 0;
	case OPT_KICK_SIGNAL:
		a->attach.kick_signal = arg;
		return 0;
	case OPT_INFO:
		a->attach.info = true;
		return 0;
	}
	return run__parse_snap_opt(a, c, arg);
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
		a->have_cpus = true;
		return 0;
	case OPT_MEM:
		if (!parse_size(arg, &v)) {
			cli_error("--mem %s: not a size (use a number with suffix K, M or G, e.g. --mem 64M)", arg);
			return -1;
		}
		a->cfg.mem_size = v;
		a->have_mem = true;
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
		if (!gdb_spec_ok(arg)) {
			cli_error("--gdb %s: not a PORT (0-65535), HOST:PORT or unix:PATH (e.g. --gdb 1234)",
				  arg);
			return -1;
		}
		if (!gdb_host_ok(arg)) {
			cli_error("--gdb %s: unknown host (give an address, e.g. --gdb 127.0.0.1:1234)",
				  arg);
			return -1;
		}
		a->gdb = arg;
		return 0;
	case OPT_VERBOSE:
		a->cfg.verbose = true;
		return 0;
	}
	return run__parse_attach_opt(a, c, arg);
}

static const struct run_opt *run__opt_by_val(int val)
{
	for (size_t i = 0; i < NR_RUN_OPTS; i++)
		if (run_opts[i].val == val)
			return &run_opts[i];
	return NULL;
}

/*
 * getopt_long sets optopt to the option's val for a long option given an
 * argument it does not take or missing one it needs (0 when unknown): the
 * short letter, if any, is not what the user typed.
 */
static void run__bad_long_opt(const char *bad)
{
	const struct run_opt *o = optopt ? run__opt_by_val(optopt) : NULL;
	int len = (int)strcspn(bad, "=");

	if (!o)
		cli_error("unknown or ambiguous option %.*s (see --help)", len, bad);
	else if (!o->has_arg)
		cli_error("--%s takes no argument (got %s); see --help", o->name, bad);
	else
		cli_error("--%s needs an argument: --%s %s (see --help)", o->name, o->name,
			  o->arg);
}

static void run__unknown_opt(char **argv, int optind_after)
{
	const char *bad = argv[optind_after - 1];

	if (!strncmp(bad, "--", 2))
		run__bad_long_opt(bad);
	else if (optopt && strchr("cmg", optopt))
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
	if ((a->resume || a->cfg.kernel || a->attach.target) && optind == argc)
		return 0;
	if (a->attach.target) {
		cli_error("--attach PID takes no IMAGE (got %s): the VM is the one PID runs",
			  argv[optind]);
		return -1;
	}
	if (a->cfg.kernel) {
		cli_error("--kernel IMAGE takes no other IMAGE (got %s)", argv[optind]);
		return -1;
	}
	if (a->resume) {
		cli_error("--resume FILE takes no IMAGE (got %s); the snapshot holds the guest",
			  argv[optind]);
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

	if ((a->cfg.initrd || a->cfg.cmdline) && !a->cfg.kernel) {
		cli_error("--initrd and --append are for a Linux guest: add --kernel IMAGE");
		return EXIT_USAGE;
	}
	if (a->cfg.kernel && (a->cfg.flat || a->resume)) {
		cli_error("--kernel boots Linux: drop --flat and --resume");
		return EXIT_USAGE;
	}
	if (a->cfg.kernel && !a->have_mem)
		a->cfg.mem_size = 256ULL << 20;	/* room to unpack a distribution kernel */
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

/* Snapshot and driver options that do not go together. */
static int run__check_snap(struct run_args *a)
{
	char err[512];

	if (a->snapshot_exit && !a->snapshot)
		return cli_error("--snapshot-exit needs --snapshot FILE"), EXIT_USAGE;
	if (a->snapshot_at && !a->snapshot)
		return cli_error("--snapshot-at needs --snapshot FILE"), EXIT_USAGE;
	if (a->gdb && run__driver(a))
		return cli_error("--gdb serves an external client; --gdb-session, --gdb-exec and --gdb-script run gdb for you: pick one"),
		       EXIT_USAGE;
	if (a->session && (a->nr_exec || a->script))
		return cli_error("--gdb-session is interactive; --gdb-exec and --gdb-script are batch: pick one"),
		       EXIT_USAGE;
	if (a->symbols && !a->gdb && !run__driver(a) && !a->dump && !a->dump_on_crash &&
	    !a->dump_on_signal)
		return cli_error("--symbols is for gdb (--gdb, --gdb-session, --gdb-exec, --gdb-script) and cores (--dump, --dump-on-crash, --dump-on-signal)"),
		       EXIT_USAGE;
	if (a->symbols && a->gdb && access(a->symbols, R_OK))
		return cli_error("--symbols %s: %s", a->symbols, strerror(errno)), EXIT_USAGE;
	if (a->resume && (a->have_cpus || a->have_mem || a->cfg.flat || a->have_load_addr ||
			  a->have_entry))
		return cli_error("--resume: vCPUs, memory and image come from the snapshot; drop --cpus, --mem, --flat, --load-addr, --entry"),
		       EXIT_USAGE;
	/* Before the guest runs, not at the first snapshot. */
	if (a->snapshot && snapshot__check_target(a->snapshot, err, sizeof(err)))
		return cli_error("--%s", err), EXIT_USAGE;
	return 0;
}

/* --dump, --dump-on-crash and --dump-on-signal: what they go with, and their targets. */
static int run__check_core(struct run_args *a)
{
	char err[512];

	if ((a->dump_on_crash || a->dump_on_signal) && a->attach.target)
		return cli_error("--dump-on-%s needs the VM's own VMM; with --attach PID take --dump FILE (one core now)",
				 a->dump_on_crash ? "crash" : "signal"), EXIT_USAGE;
	if (a->attach.target)
		return 0;	/* --attach PID --dump FILE: cmd_attach() checks it */
	if (a->dump && !a->resume)
		return cli_error("--dump FILE converts a snapshot: add --resume SNAP (from gdb: monitor dump FILE; on a crash: --dump-on-crash FILE; live: --dump-on-signal FILE)"),
		       EXIT_USAGE;
	if (a->dump && (a->gdb || run__driver(a) || a->snapshot || a->dump_on_crash ||
			a->dump_on_signal))
		return cli_error("--resume SNAP --dump FILE runs no guest: drop --gdb, --gdb-session/-exec/-script, --snapshot, --dump-on-crash and --dump-on-signal"),
		       EXIT_USAGE;
	if (a->symbols && (a->dump || a->dump_on_crash || a->dump_on_signal) &&
	    access(a->symbols, R_OK))
		return cli_error("--symbols %s: %s", a->symbols, strerror(errno)), EXIT_USAGE;
	if (a->dump && core__check_target(a->dump, err, sizeof(err)))
		return cli_error("--dump: %s", err), EXIT_USAGE;
	if (a->dump_on_crash && core__check_target(a->dump_on_crash, err, sizeof(err)))
		return cli_error("--dump-on-crash: %s", err), EXIT_USAGE;
	if (a->dump_on_signal && core__check_target(a->dump_on_signal, err, sizeof(err)))
		return cli_error("--dump-on-signal: %s", err), EXIT_USAGE;
	return 0;
}

/* --resume SNAP --dump FILE: the restored VM, never started, as a core. */
static int run__dump(struct run_args *a, struct vm *vm)
{
	struct core_opts o = { .image = *snapshot__image(a->snap) ? snapshot__image(a->snap) : NULL,
			       .symbols = a->symbols, .stopped = true, .crash_vcpu = -1 };
	struct core_result res;
	char msg[768];

	if (core__write(vm, a->dump, &o, &res, msg, sizeof(msg))) {
		cli_error("--dump: %s", msg);
		return EXIT_SETUP;
	}
	core__summary(a->dump, &res, msg, sizeof(msg));
	fprintf(stderr, "%s: %s\n", program_invocation_short_name, msg);
	return 0;
}

/* The core triggers: --dump-on-crash and gdb's monitor dump. */
static int run__start_core(struct run_args *a, struct vm *vm)
{
	const char *image = !a->snap ? a->cfg.image :
			    *snapshot__image(a->snap) ? snapshot__image(a->snap) : NULL;
	struct core_service_cfg cc = { .crash_path = a->dump_on_crash, .image = image,
				       .symbols = a->symbols, .signal_path = a->dump_on_signal };
	int r = core_service__start(vm, &cc, &a->core);

	if (r)
		cli_error("cannot set up %s: %s", a->dump_on_signal ? "--dump-on-signal" :
			  "--dump-on-crash", strerror(-r));
	return r;
}

/* --snapshot-at ADDR, or SYMBOL from the symbols, the image or the snapshot's image. */
static int run__resolve_at(struct run_args *a)
{
	const char *elf = a->symbols ? a->symbols : a->cfg.image;
	char err[512];

	if (!a->snapshot_at || parse_u64(a->snapshot_at, &a->at_addr, NULL))
		return 0;
	if (!elf && a->snap && *snapshot__image(a->snap))
		elf = snapshot__image(a->snap);
	if (!elf) {
		cli_error("--snapshot-at %s: not an address, and no image to look the symbol up in",
			  a->snapshot_at);
		return EXIT_USAGE;
	}
	if (elf__symbol(elf, a->snapshot_at, &a->at_addr, err, sizeof(err))) {
		cli_error("--snapshot-at: %s", err);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * A snapshot of a VM another VMM ran (--attach PID --snapshot): RAM and
 * vCPUs come back for gdb to inspect, but not its VMM's devices, so it
 * must never run: no resume without gdb, no continue under it
 * (vm_config.inspect_only), and no --snapshot of it (the new file would
 * pass the recreated VM's defaults off as the state it lacks).
 */
static int run__check_foreign(struct run_args *a)
{
	if (!snapshot__foreign(a->snap))
		return 0;
	if (!a->gdb && !run__driver(a)) {
		cli_error("--resume %s: refused: %s", a->resume, snapshot_foreign_why);
		return EXIT_SETUP;
	}
	if (a->snapshot) {
		cli_error("--resume %s: --snapshot FILE: refused: %s", a->resume, snapshot_foreign_why);
		return EXIT_USAGE;
	}
	a->cfg.inspect_only = snapshot_foreign_why;
	return 0;
}

static int run__open_snapshot(struct run_args *a)
{
	const struct snap_config *c;
	char err[512];
	int r;

	if (!a->resume)
		return 0;
	if (snapshot__open(a->resume, &a->snap, err, sizeof(err))) {
		cli_error("%s", err);
		return EXIT_SETUP;
	}
	c = snapshot__config(a->snap);
	a->cfg.nr_cpus = c->nr_vcpus;
	a->cfg.mem_size = c->mem_size;
	a->cfg.name = a->resume;
	a->cfg.restore = snapshot__restore;
	a->cfg.restore_ctx = a->snap;
	a->cfg.machine = snapshot__irqchip(a->snap) ? &linux_machine : NULL;
	r = run__check_foreign(a);
	if (r) {
		snapshot__close(a->snap);
		a->snap = NULL;
	}
	return r;
}

static void run__meta(struct run_args *a, struct vm *vm, struct snapshot_meta *m,
		      char *abs)
{
	memset(m, 0, sizeof(*m));
	if (a->snap) {
		const uint8_t *id = snapshot__build_id(a->snap, &m->build_id_len);

		m->image = *snapshot__image(a->snap) ? snapshot__image(a->snap) : NULL;
		memcpy(m->build_id, id, m->build_id_len);
		m->entry = snapshot__config(a->snap)->entry;
		m->from = a->snap;
		return;
	}
	/* Recorded absolute, so symbols beside it are found from anywhere. */
	m->image = realpath(a->cfg.image, abs) ? abs : a->cfg.image;
	m->entry = vm__entry(vm);
	if (!a->cfg.flat)
		elf__build_id(a->cfg.image, m->build_id, &m->build_id_len);
}

static int run__start_service(struct run_args *a, struct vm *vm, char *abs)
{
	struct snapshot_service_cfg sc = {
		.path = a->snapshot, .exit_after = a->snapshot_exit,
		.at_set = a->snapshot_at != NULL, .at_addr = a->at_addr,
		.sigusr1 = a->snapshot != NULL, .verbose = a->cfg.verbose,
	};
	int r;

	run__meta(a, vm, &sc.meta, abs);
	r = snapshot_service__start(vm, &sc, &a->service);
	if (r)
		cli_error("cannot set up snapshots: %s", strerror(-r));
	return r;
}

static int run__driver_session(struct run_args *a, struct vm *vm)
{
	struct driver_cfg dc = {
		.image = a->cfg.image, .snap = a->snap, .symbols = a->symbols,
		.exec = a->exec, .nr_exec = a->nr_exec, .script = a->script,
		.verbose = a->cfg.verbose, .service = a->service, .core = a->core,
	};
	char err[512];
	int r = driver__run(vm, &dc, err, sizeof(err));

	if (r < 0) {
		cli_error("gdb driver: %s", err);
		return EXIT_SETUP;
	}
	return r;
}

/*
 * After the guest ended: a --snapshot-at that never fired, or a
 * --snapshot-exit whose snapshot failed (the service ended the guest at
 * once; its message is out already), is a failed run, not the guest's status.
 */
static int run__snapshot_status(struct run_args *a, int status)
{
	int nr, err;

	if (!a->snapshot)
		return status;
	err = snapshot_service__result(a->service, &nr);
	if (a->snapshot_exit && !nr && err)
		return EXIT_SETUP;
	if (a->snapshot_at && !snapshot_service__at_reached(a->service) && !(a->snapshot_exit && nr)) {
		if (nr)
			cli_error("--snapshot-at %s: the guest ended before it was reached; %d snapshot(s) written by other triggers",
				  a->snapshot_at, nr);
		else
			cli_error("--snapshot-at %s: the guest ended before it was reached; no snapshot written",
				  a->snapshot_at);
		return EXIT_SETUP;
	}
	return status;
}

static int run__plain(struct run_args *a, struct vm *vm)
{
	struct debug *dbg = NULL;
	int status = 0, r;

	/* One VM, no driver: an extended-remote "run" may re-exec us. */
	if (a->gdb)
		debug__allow_restart();
	if (a->gdb && debug__start(vm, a->gdb, &dbg) < 0)
		return EXIT_SETUP;
	/* Only a vmlinux has entry_SYSCALL_64; other symbol files give no slide. */
	if (dbg && a->symbols)
		debug__set_kernel_symbols(dbg, a->symbols);
	if (dbg)
		debug__add_monitor(dbg, snapshot_service__monitor, a->service);
	if (dbg)
		debug__add_monitor(dbg, core_service__monitor, a->core);
	r = vm__start(vm);
	if (r == 0)
		r = vm__wait(vm, &status);
	debug__stop(dbg);
	if (r < 0) {
		cli_error("cannot run the guest: %s", strerror(-r));
		return EXIT_SETUP;
	}
	return run__snapshot_status(a, status & 0xff);
}

static int run__guest(struct run_args *a)
{
	char err[512], abs[PATH_MAX];
	struct vm *vm;
	int r = run__open_snapshot(a);

	if (r)
		return r;
	r = run__resolve_at(a);
	if (r)
		goto close;
	a->cfg.err = err;
	a->cfg.err_len = sizeof(err);
	if (a->snapshot)
		snapshot_service__block_sigusr1();
	if (a->dump_on_signal)
		core_service__block_signal();
	if (vm__create(&a->cfg, &vm) < 0) {
		cli_error("%s", err);
		r = EXIT_SETUP;
		goto close;
	}
	if (a->dump) {
		r = run__dump(a, vm);
	} else if (run__start_service(a, vm, abs) ||
		   run__start_core(a, vm)) {
		r = EXIT_SETUP;
	} else {
		r = run__driver(a) ? run__driver_session(a, vm) : run__plain(a, vm);
	}
	snapshot_service__stop(a->service);
	core_service__stop(a->core);
	/* Before vm__destroy(): the snapshot's lease guard uses the VM. */
	snapshot__close(a->snap);
	a->snap = NULL;
	vm__destroy(vm);
close:
	snapshot__close(a->snap);
	return r;
}

/* --attach PID: the options that make sense for a VM another VMM runs. */
static int run__attach(struct run_args *a)
{
	if (a->have_cpus || a->have_mem || a->cfg.kernel || a->cfg.initrd || a->cfg.cmdline ||
	    a->cfg.flat || a->have_load_addr || a->have_entry || a->resume) {
		cli_error("--attach PID: the VM exists already; drop --cpus, --mem, --kernel, --initrd, --append, --flat, --load-addr, --entry and --resume");
		return EXIT_USAGE;
	}
	if (a->snapshot_at || a->snapshot_exit) {
		cli_error("--attach PID: --snapshot-at and --snapshot-exit need the VM's own VMM; --snapshot FILE writes one snapshot and detaches");
		return EXIT_USAGE;
	}
	if (a->gdb && run__driver(a)) {
		cli_error("--gdb serves an external client; --gdb-session, --gdb-exec and --gdb-script run gdb for you: pick one");
		return EXIT_USAGE;
	}
	a->attach.gdb = a->gdb;
	a->attach.snapshot = a->snapshot;
	a->attach.dump = a->dump;
	a->attach.symbols = a->symbols;
	a->attach.session = a->session;
	a->attach.exec = a->exec;
	a->attach.nr_exec = a->nr_exec;
	a->attach.script = a->script;
	a->attach.verbose = a->cfg.verbose;
	return cmd_attach(&a->attach);
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = {
		.cfg = { .console_fd = STDOUT_FILENO, .mem_size = VM_MEM_DEFAULT },
		.cpus = 1,
	};
	char err[512];
	int r = run__parse(&a, argc, argv);

	if (r)
		return r > 0 ? 0 : EXIT_USAGE;
	r = run__check_core(&a);
	if (r)
		return r;
	if (a.attach.target)
		return run__attach(&a);
	if (a.attach.info || a.attach.kick_signal) {
		cli_error("--%s is for --attach PID (kvmdbg-launch --info alone describes this host's KVM)",
			  a.attach.info ? "info" : "kick-signal");
		return EXIT_USAGE;
	}
	r = run__check_snap(&a);
	if (!r)
		r = run__check(&a);
	if (r)
		return r;
	a.cfg.start_paused = a.gdb != NULL || run__driver(&a);
	if (kvmdbg_mod__setup_process(a.cfg.verbose, err, sizeof(err))) {
		cli_error("%s", err);
		return EXIT_SETUP;
	}
	return run__guest(&a);
}
