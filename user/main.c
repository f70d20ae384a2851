// SPDX-License-Identifier: GPL-2.0
/*
 * kvmdbg-launch: run a guest on /dev/kvm, optionally under gdb. The
 * command table maps the first argument to a builtin; anything else is
 * the `run` command's options and IMAGE.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "user/builtin.h"

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

int main(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	return cmd_run(argc, argv);
}
