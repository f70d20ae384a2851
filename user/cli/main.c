// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg-launch: run a guest on /dev/kvm, optionally under gdb. The
 * command table maps the first argument to a builtin; anything else is
 * the `run` command's options and IMAGE.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user/cli/builtin.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "--info", cmd_info, "print what this host's KVM supports" },
	{ "--help", cmd_help, NULL },
	{ "-h", cmd_help, NULL },
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage_run();
	printf("\nOther commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].help)
			printf("  %-22s %s\n", cmds[i].name, cmds[i].help);
	return 0;
}

/* Set but empty is a mistake (an unexpanded variable?), not "use /dev/kvm". */
static bool env_ok(void)
{
	const char *dev = getenv("KVMDBG_KVM_DEV");

	if (!dev || *dev)
		return true;
	cli_error("KVMDBG_KVM_DEV is set but empty: name a KVM device node (e.g. KVMDBG_KVM_DEV=/dev/kvm) or unset it");
	return false;
}

/* --attach PID takes the run options, --info among them, in any order. */
static bool attaching(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--attach") || !strncmp(argv[i], "--attach=", 9))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	if (attaching(argc, argv))
		return env_ok() ? cmd_run(argc, argv) : EXIT_USAGE;
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		if (cmds[i].fn != cmd_help && !env_ok())
			return EXIT_USAGE;
		return cmds[i].fn(argc - 1, argv + 1);
	}
	return env_ok() ? cmd_run(argc, argv) : EXIT_USAGE;
}
